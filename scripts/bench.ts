// Benchmark of the release build (figures only, no assertions), on a repository copy
// (CQ_BENCH_DIR, made by scripts/bench.sh): cold 2-arch build and the dist target after it (what
// the five targets add to a cold release), warm rebuild after a one-line Go change, the evidence
// steps on that image (sign, provenance, SBOMs, verify: key mode, a key pair made for the run),
// the dist target again and the files' evidence, no-op up, cold 1-arch build, image size against
// gzip(binary), start → first gRPC answer. Each figure with its breakdown (issue 22): the cold
// build's BuildKit steps per platform, which Go packages and modules compile longest (a cold
// `go build -debug-actiongraph` of the same flags on the host), and the start split into
// `docker run` (the daemon's share), the binary's own start outside Docker, its package inits
// (GODEBUG=inittrace=1) and the floor of one gRPC call from this client.
// "Cold" = BuildKit cache pruned (`buildctl prune --all`; the base images stay in the registry)
// and a repository name never used before (so no registry build cache either).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

import { buildLogCollector, requireCold } from "./lib/buildlog";
import { compileBreakdown, startBreakdown } from "./lib/benchBreakdown";
import { stepDurations } from "./lib/buildProfile";
import { rehearsalEnv } from "./lib/env";
import { Registry, type Index, type Manifest } from "./lib/registry";
import { withStateLock } from "./lib/stateLocks";
import { openRehearsalStack, plainOutputs } from "./local-stack";

const workDir = process.env.CQ_BENCH_DIR ?? "";
const docker = rehearsalEnv("CQ_DOCKER");
const RUNS = Number(process.env.CQ_BENCH_RUNS ?? "5");
const stamp = Math.floor(Date.now() / 1000);

/** The base images pinned by digest (scripts/base-images.sh), as provenance requires. */
function pinnedBaseImages(): Record<string, string> {
  const file = path.join(rehearsalEnv("CQ_DATA_DIR"), "base-images.env");
  const vars = Object.fromEntries(
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { builderImage: vars.BUILDER_IMAGE, runtimeImage: vars.RUNTIME_IMAGE };
}

const base = {
  version: "v0.0.2",
  commit: "be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c4",
  commitTime: "2025-06-01T00:00:00Z",
  releasedVersions: '["v0.0.2"]',
  ...pinnedBaseImages(),
};

async function timedUp(stackName: string, overrides: Record<string, string>) {
  const ls = await openRehearsalStack(workDir, stackName, { ...base, ...overrides });
  const { onEvent, buildLog } = buildLogCollector();
  const t0 = process.hrtime.bigint();
  const r = await withStateLock(() => ls.stack.up({ configFile: ls.configFile, onEvent }), {
    cancelCommand: ls.cancelCommand,
    attempts: 3,
    waitSeconds: 5,
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { s, changes: r.summary.resourceChanges ?? {}, outputs: await plainOutputs(ls), buildLog };
}

/** The cold build's BuildKit steps of ≥ 1 s, per Image resource (each platform builds in its own). */
function buildBreakdown(buildLog: Record<string, string[]>): [string, string][] {
  return Object.keys(buildLog)
    .sort()
    .flatMap((resource) =>
      stepDurations(buildLog[resource])
        .filter((t) => t.seconds >= 1)
        .map((t): [string, string] => [`  ${resource}: ${t.step.slice(0, 70)}`, `${t.seconds.toFixed(1)} s`]),
    );
}

function prune(): void {
  execFileSync("buildctl", ["prune", "--all"], { stdio: "ignore" });
}

/** A release job's runner for the scripts of scripts/release/: RUNNER_TEMP with outputs.json, key mode. */
function releaseRunner(outputs: Record<string, unknown>): {
  dir: string;
  env: NodeJS.ProcessEnv;
  ref: string;
} {
  const dir = fs.mkdtempSync(path.join(workDir, ".bench-evidence-"));
  const ref = (outputs.imageRefs as Record<string, string>).local;
  const env = {
    ...process.env,
    COSIGN_PASSWORD: `bench-${stamp}`,
    COSIGN_KEY: path.join(dir, "cosign.key"),
    COSIGN_PUBLIC_KEY: path.join(dir, "cosign.pub"),
    RUNNER_TEMP: dir,
    IMAGE_REFS: ref,
    GITHUB_REF: `refs/tags/${base.version}`,
    GITHUB_REF_NAME: base.version,
    GITHUB_SHA: base.commit,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_REPOSITORY: "cloudquery-example/cq-source-s3",
    GITHUB_REPOSITORY_ID: "700000001",
    GITHUB_RUN_ID: "1",
    GITHUB_RUN_ATTEMPT: "1",
    BUILDKIT_VERSION: "bench",
    GHCR_TOKEN: "",
  };
  execFileSync("cosign", ["generate-key-pair"], { cwd: dir, env, stdio: "ignore" });
  fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
  return { dir, env, ref };
}

/** Runs each step in the repository copy with `env`; seconds per step. */
function timedSteps(steps: [string, string[]][], env: NodeJS.ProcessEnv): [string, number][] {
  return steps.map(([name, [cmd, ...args]]) => {
    const t0 = process.hrtime.bigint();
    execFileSync(cmd, args, { cwd: workDir, env, stdio: ["ignore", "ignore", "inherit"] });
    return [name, Number(process.hrtime.bigint() - t0) / 1e9];
  });
}

const verifyCommand = (target: string, env: NodeJS.ProcessEnv): string[] => [
  "node_modules/.bin/ts-node",
  "--transpile-only",
  "scripts/verify.ts",
  target,
  "--key",
  env.COSIGN_PUBLIC_KEY as string,
  "--repository",
  env.GITHUB_REPOSITORY as string,
  "--commit",
  base.commit,
];

/**
 * Times what the release job adds after `up` (scripts/release/*.sh, scripts/verify.ts; key mode
 * with a key pair made for this run): the image's evidence, then every other door (the dist
 * target's five targets) and the files' evidence.
 */
function timedEvidence(outputs: Record<string, unknown>): [string, number][] {
  const { dir, env, ref } = releaseRunner(outputs);
  return timedSteps(
    [
      ["sign", ["bash", "scripts/release/sign.sh"]],
      ["provenance", ["bash", "scripts/release/evidence.sh", "provenance"]],
      ["sbom", ["bash", "scripts/release/evidence.sh", "sbom"]],
      ["verify", verifyCommand(ref, env)],
      ["dist (5 targets, warm)", ["bash", "scripts/release/dist.sh"]],
      ["files' evidence", ["bash", "scripts/release/dist-evidence.sh"]],
      ["verify a zip", verifyCommand(path.join(dir, "dist", "github", "cq-source-s3_linux_amd64.zip"), env)],
    ],
    env,
  );
}

async function main(): Promise<void> {
  if (workDir === "" || !fs.existsSync(path.join(workDir, "index.ts"))) {
    throw new Error("CQ_BENCH_DIR must be a repository copy (run npm run bench)");
  }
  const two = `cq-bench-${stamp}-2arch`;
  const one = `cq-bench-${stamp}-1arch`;
  const f = (x: number) => x.toFixed(1);
  const rows: [string, string][] = [];

  prune();
  const cold2 = await timedUp("bench2", { imageName: two });
  requireCold("cold build, 2 arch", cold2.buildLog);
  rows.push(["cold build, 2 arch (up)", `${f(cold2.s)} s`]);
  rows.push(...buildBreakdown(cold2.buildLog));
  // What the five targets add to a cold release: dist right after the cold image build (its
  // linux compiles cached; darwin and windows compile every dependency).
  const coldRunner = releaseRunner(cold2.outputs);
  const [[, coldDist]] = timedSteps([["dist", ["bash", "scripts/release/dist.sh"]]], coldRunner.env);
  rows.push([
    "dist (5 targets) after the cold build",
    `${f(coldDist)} s  (${(coldDist / cold2.s).toFixed(2)} × the cold build)`,
  ]);

  fs.appendFileSync(path.join(workDir, "plugin", "main.go"), `\nconst benchMarker = "${stamp}"\n`);
  const warm = await timedUp("bench2", { imageName: two });
  rows.push([
    "warm rebuild after a one-line Go change (up)",
    `${f(warm.s)} s  (${JSON.stringify(warm.changes)})`,
  ]);

  const evidence = timedEvidence(warm.outputs);
  const evidenceTotal = evidence.reduce((n, [, sec]) => n + sec, 0);
  for (const [name, sec] of evidence) {
    rows.push([`evidence: ${name}`, `${f(sec)} s  (${(sec / warm.s).toFixed(2)} × the warm rebuild)`]);
  }
  const doors = evidence.filter(([name]) => /dist|files|zip/.test(name)).reduce((n, [, sec]) => n + sec, 0);
  rows.push([
    "evidence: all",
    `${f(evidenceTotal)} s  (${(evidenceTotal / warm.s).toFixed(2)} × the warm rebuild)`,
  ]);
  rows.push([
    "every other door: dist + files' evidence + verify",
    `${f(doors)} s  (${(doors / (warm.s + evidenceTotal - doors)).toFixed(2)} × the warm release without them; goal ≤ 0.20)`,
  ]);

  const noop = await timedUp("bench2", { imageName: two });
  rows.push(["no-op up", `${f(noop.s)} s  (${JSON.stringify(noop.changes)})`]);

  prune();
  const cold1 = await timedUp("bench1", { imageName: one, platforms: '["linux/amd64"]' });
  requireCold("cold build, 1 arch", cold1.buildLog);
  rows.push(["cold build, 1 arch (up)", `${f(cold1.s)} s`]);

  rows.push(["warm / cold (2 arch)", (warm.s / cold2.s).toFixed(3)]);
  rows.push(["no-op / cold (2 arch)", (noop.s / cold2.s).toFixed(3)]);
  rows.push(["2 arch / 1 arch (cold)", (cold2.s / cold1.s).toFixed(2)]);

  // Size: compressed layers of each platform image against gzip(binary).
  const reg = new Registry();
  const ref = (cold2.outputs.imageRefs as Record<string, string>).local;
  const digest = ref.split("@")[1];
  const index = await reg.manifest<Index>(two, digest);
  let amd64Binary = "";
  for (const d of index.manifests.filter((m) => m.platform?.os === "linux")) {
    const man = await reg.manifest<Manifest>(two, d.digest);
    const compressed = man.layers.reduce((n, l) => n + l.size, 0);
    const last = man.layers[man.layers.length - 1];
    const dir = fs.mkdtempSync(path.join(workDir, ".bench-"));
    fs.writeFileSync(path.join(dir, "l.tgz"), await reg.blob(two, last.digest));
    execFileSync("tar", ["-xzf", path.join(dir, "l.tgz"), "-C", dir]);
    const bin = fs.readFileSync(path.join(dir, "cq-source-s3"));
    if (d.platform?.architecture === "amd64") amd64Binary = path.join(dir, "cq-source-s3");
    const gz = zlib.gzipSync(bin).length;
    rows.push([
      `image size ${d.platform?.architecture}`,
      `${(compressed / 1e6).toFixed(2)} MB compressed vs gzip(binary) ${(gz / 1e6).toFixed(2)} MB (×${(compressed / gz).toFixed(3)}; binary ${(bin.length / 1e6).toFixed(2)} MB)`,
    ]);
  }

  // Start → first GetVersions answer, `docker run --read-only --cap-drop ALL`, image already pulled.
  execFileSync(docker, ["pull", "-q", ref], { stdio: "ignore" });
  if (amd64Binary === "") throw new Error("no linux/amd64 binary in the index: the start cannot be measured");
  rows.push(...(await startBreakdown(docker, ref, amd64Binary, RUNS)));
  rows.push(...compileBreakdown(path.join(workDir, "plugin")));

  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(
    `\nbench (${new Date().toISOString()}, load ${fs.readFileSync("/proc/loadavg", "utf8").trim()})`,
  );
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  console.log(`  repositories: ${reg.host}/${two}, ${reg.host}/${one}`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
