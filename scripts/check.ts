// `npm run check`: the inner loop's checks, every one of them, run side by side (each is an npm
// script of package.json, run as `npm run -s <part>`). Most parts keep one core busy (tsc, eslint,
// mocha), so one after the other they left the second core idle; here they share the cores, at
// most --jobs at a time (default: the number of CPUs), longest first. Each part's output is kept
// and printed whole when it finishes; then a table of the times and the load average. Exit
// status 1 when any part failed (after all of them ran), 2 on bad usage.
//
//   npm run check                         every part
//   npm run check -- --jobs 1             one after another (as `npm run check` used to)
//   npm run check -- lint test            only those
import { spawn } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";

/** The parts of `npm run check`, longest first (the order they start in). */
export const CHECK_PARTS = [
  "test",
  "lint",
  "test:policy",
  "typecheck",
  "lint:workflows",
  "test:plugin",
  "test:fixtures",
] as const;

/** What running one part gave. */
export interface PartResult {
  name: string;
  ok: boolean;
  seconds: number;
  output: string;
}

/**
 * Runs every part through `run`, at most `jobs` at a time, in the order given; never stops early
 * (a failure is reported with the rest). Results come back in the order of `names`; `onDone` sees
 * each one as it finishes.
 */
export async function runParts(
  names: readonly string[],
  jobs: number,
  run: (name: string) => Promise<{ ok: boolean; output: string }>,
  onDone: (r: PartResult) => void = () => undefined,
  now: () => number = () => performance.now(),
): Promise<PartResult[]> {
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`jobs must be a positive integer, got ${jobs}`);
  const results: PartResult[] = new Array<PartResult>(names.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < names.length) {
      const i = next++;
      const t0 = now();
      let r: { ok: boolean; output: string };
      try {
        r = await run(names[i]);
      } catch (err) {
        r = { ok: false, output: `${(err as Error).message}\n` };
      }
      results[i] = { name: names[i], ok: r.ok, seconds: (now() - t0) / 1000, output: r.output };
      onDone(results[i]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(jobs, names.length) }, lane));
  return results;
}

/** `npm run -s NAME`, stdout and stderr interleaved into one string. */
function npmRun(name: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", name], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ ok: status === 0, output }));
  });
}

/** The table printed at the end: one line per part, then the wall time. */
export function summary(results: readonly PartResult[], wallSeconds: number, jobs: number): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map(
    (r) => `  ${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(width)} ${r.seconds.toFixed(1).padStart(6)} s`,
  );
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  lines.push(
    `check: ${failed.length === 0 ? "all passed" : `FAILED: ${failed.join(", ")}`} in ${wallSeconds.toFixed(1)} s ` +
      `(${jobs} at a time; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")})`,
  );
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  let values: { jobs?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { jobs: { type: "string" } },
      allowPositionals: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: check [--jobs N] [PART...]\n`);
    return 2;
  }
  const parts = positionals.length > 0 ? positionals : [...CHECK_PARTS];
  const unknown = parts.filter((p) => !(CHECK_PARTS as readonly string[]).includes(p));
  const jobs = values.jobs === undefined ? availableParallelism() : Number(values.jobs);
  if (unknown.length > 0 || !Number.isInteger(jobs) || jobs < 1) {
    process.stderr.write(
      `usage: check [--jobs N] [PART...]; N a positive integer, parts: ${CHECK_PARTS.join(" ")}\n`,
    );
    return 2;
  }
  const t0 = performance.now();
  process.stdout.write(`check: ${parts.join(", ")}, ${jobs} at a time\n`);
  const results = await runParts(parts, jobs, npmRun, (r) => {
    process.stdout.write(`\n--- ${r.ok ? "ok" : "FAIL"}: ${r.name} (${r.seconds.toFixed(1)} s)\n${r.output}`);
  });
  process.stdout.write(`\n${summary(results, (performance.now() - t0) / 1000, jobs)}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (status) => (process.exitCode = status),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
