// The breakdowns `npm run bench` prints beside its figures (issue 22, item 6): which Go packages
// a cold compile spends its CPU on, and where the start → first gRPC answer goes. Measurements
// only (no assertions); the parsers they use are scripts/lib/buildProfile.ts, tested.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { compileProfile, type GoAction, median, parseInitTrace, requireCompiled } from "./buildProfile";
import { firstAnswer, freePort, getVersions, requireProtocol3 } from "./discovery";

/**
 * Which packages compile longest: the image's `go build` (same GOFLAGS, linux/arm64: the
 * cross-compiled platform) on the host with an empty GOCACHE and `-debug-actiongraph`.
 */
export function compileBreakdown(pluginDir: string): [string, string][] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cq-bench-gocache-"));
  try {
    const graph = path.join(dir, "actions.json");
    execFileSync("go", ["build", `-debug-actiongraph=${graph}`, "-o", path.join(dir, "bin"), "."], {
      cwd: pluginDir,
      env: {
        ...process.env,
        GOCACHE: path.join(dir, "cache"),
        GOOS: "linux",
        GOARCH: "arm64",
        CGO_ENABLED: "0",
        GOFLAGS: "-trimpath -tags=grpcnotrace",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const p = compileProfile(JSON.parse(fs.readFileSync(graph, "utf8")) as GoAction[], 5);
    requireCompiled(p);
    return [
      [
        "cold go build linux/arm64 on the host (empty GOCACHE)",
        `${p.wallSeconds.toFixed(1)} s wall; ${p.packages} packages, ${p.compileCpuSeconds.toFixed(1)} CPU-s compiling, link ${p.linkSeconds.toFixed(1)} s`,
      ],
      ...p.topModules.map((m): [string, string] => [
        `  module ${m.name}`,
        `${m.cpuSeconds.toFixed(1)} CPU-s (${m.packages} packages)`,
      ]),
      ...p.topPackages.map((m): [string, string] => [
        `  package ${m.name}`,
        `${m.cpuSeconds.toFixed(1)} CPU-s`,
      ]),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Start → first GetVersions answer, and where it goes: `docker run -d` (create + start, until the
 * daemon returns), then until the answer; the same binary outside Docker; its package inits; one
 * call to a server already up (this client's floor). Polled every 5 ms; ports chosen up front,
 * so no `docker port` call sits inside the figure.
 */
export async function startBreakdown(
  docker: string,
  ref: string,
  binary: string,
  runs: number,
): Promise<[string, string][]> {
  const POLL_MS = 5;
  // `runs` starts of `docker run -d … <ref> <cmd>`: until the daemon returns, and until the answer.
  const starts = async (network: (port: number) => { flags: string[]; cmd: string[] }) => {
    const dockerRun: number[] = [];
    const toAnswer: number[] = [];
    for (let i = 0; i < runs; i++) {
      const port = await freePort();
      const { flags, cmd } = network(port);
      const t0 = Date.now();
      const id = execFileSync(
        docker,
        ["run", "-d", "--rm", "--read-only", "--cap-drop", "ALL", ...flags, ref, ...cmd],
        { encoding: "utf8" },
      ).trim();
      const started = Date.now();
      try {
        toAnswer.push(
          requireProtocol3(await firstAnswer(`127.0.0.1:${port}`, t0, 60_000, () => true, POLL_MS)),
        );
        dockerRun.push(started - t0);
      } finally {
        execFileSync(docker, ["rm", "-f", id], { stdio: "ignore" });
      }
    }
    return { dockerRun, toAnswer };
  };
  // As the CloudQuery CLI runs a docker plugin: its own network namespace, the port published.
  const { dockerRun, toAnswer } = await starts((port) => ({
    flags: ["-p", `127.0.0.1:${port}:7777`],
    cmd: [],
  }));
  // No network namespace of its own: what the daemon's namespace setup costs.
  const hostNet = await starts((port) => ({
    flags: ["--network", "host"],
    cmd: ["serve", "--address", `127.0.0.1:${port}`],
  }));
  const native: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = Date.now();
    const child = spawn(binary, ["serve", "--address", `127.0.0.1:${port}`], { stdio: "ignore" });
    let alive = true;
    child.on("exit", () => (alive = false));
    try {
      native.push(requireProtocol3(await firstAnswer(`127.0.0.1:${port}`, t0, 60_000, () => alive, POLL_MS)));
      const c0 = Date.now();
      await getVersions(`127.0.0.1:${port}`);
      floor.push(Date.now() - c0);
    } finally {
      child.kill("SIGTERM");
    }
  }
  // The inits' trace goes to stderr, before cobra prints the usage.
  const traced = parseInitTrace(
    spawnSync(binary, ["--help"], { env: { ...process.env, GODEBUG: "inittrace=1" }, encoding: "utf8" })
      .stderr,
  );
  const med = (xs: number[]) => `${median(xs)} ms`;
  return [
    [
      `start → first gRPC answer (docker run, median of ${runs})`,
      `${med(toAnswer)}  (all: ${toAnswer.join(", ")})`,
    ],
    ["  docker run -d returns (create + start: the daemon)", med(dockerRun)],
    ["  then → first answer", med(toAnswer.map((t, i) => t - dockerRun[i]))],
    ["  the same with --network host (no network namespace)", med(hostNet.toAnswer)],
    [`  the same binary outside Docker: exec → first answer`, med(native)],
    [
      `  of which package inits (${traced.packages})`,
      `${traced.clockMs} ms, done ${traced.doneAtMs} ms after exec; most: ${traced.top.map((t) => `${t.name} ${t.ms} ms`).join(", ")}`,
    ],
    ["  one GetVersions to a running server (client floor)", med(floor)],
  ];
}
