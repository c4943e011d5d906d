// The release, for real: the `e2e` stack of a temporary copy of the repository (CQ_E2E_DIR,
// made by scripts/e2e.sh) builds and pushes the image through the real engine, docker-build and
// BuildKit to the rehearsal registry; the assertions read the registry API and run the image.
// Steps depend on each other and run in order (mocha --bail).
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";

import { ociLabels } from "../../lib/labels";
import { deriveTags } from "../../lib/release";
import { buildLogCollector, stepState } from "../../scripts/lib/buildlog";
import { firstAnswer, freePort } from "../../scripts/lib/discovery";
import { rehearsalEnv } from "../../scripts/lib/env";
import { Registry, type Index, type Manifest } from "../../scripts/lib/registry";
import { withStateLock } from "../../scripts/lib/stateLocks";
import { parsePreviewText } from "../../tooling/plan/previewJson";
import { renderReleasePlan } from "../../tooling/plan/releasePlan";
import { RELEASE_ZIP_TARGETS } from "../../tooling/releaseNotes";
import { capturePreviewEvents, fixtureText } from "../../scripts/capture-preview";
import { openRehearsalStack, plainOutputs, type LocalStack } from "../../scripts/local-stack";

const workDir = process.env.CQ_E2E_DIR ?? "";
const outDir = process.env.CQ_E2E_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), "cq-e2e-out-"));
const docker = rehearsalEnv("CQ_DOCKER");

// Distinct from the `local` stack's repository and release, so the two never share tags.
const E2E = {
  imageName: "cq-source-s3-e2e",
  version: "v0.0.1",
  commit: "0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e",
  commitTime: "2025-06-01T00:00:00Z",
  releasedVersions: ["v0.0.1"],
};
/** The stack config of the e2e's release (imageName and the release metadata). */
const E2E_CONFIG = {
  imageName: E2E.imageName,
  version: E2E.version,
  commit: E2E.commit,
  commitTime: E2E.commitTime,
  releasedVersions: JSON.stringify(E2E.releasedVersions),
};
/**
 * How reproducibility is proven (CQ_E2E_REPRO): `rebuild` (default) prunes BuildKit and builds the
 * image again cold in this run; `record` skips that second build and leaves the proof to the
 * caller, which compares this run's record (CQ_E2E_DIST_RECORD: image index, platform images and
 * every dist file) with that of another independent build: .ci/run compares root's run with the
 * unprivileged run's, whose BuildKit state is new (CQ_E2E_EXPECT_COLD=1 makes this run prove its
 * build was cold). One cold build then proves what two did, without a third.
 */
const REPRO = process.env.CQ_E2E_REPRO ?? "rebuild";
const EXPECT_COLD = process.env.CQ_E2E_EXPECT_COLD === "1";
const RECORD = process.env.CQ_E2E_DIST_RECORD ?? "";
if (REPRO !== "rebuild" && REPRO !== "record") {
  throw new Error(`CQ_E2E_REPRO is ${JSON.stringify(REPRO)}: expected rebuild or record`);
}
if (REPRO === "record" && RECORD === "") {
  throw new Error(
    "CQ_E2E_REPRO=record needs CQ_E2E_DIST_RECORD: without a record nothing proves reproducibility",
  );
}
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const ARCHES = ["amd64", "arm64"];

/** Resource changes of one `up`, plus the BuildKit log lines per Image (from engine events). */
interface UpResult {
  changes: Record<string, number>;
  /** Resource name → `op` (create/update/same/…) per resource. */
  ops: Record<string, string>;
  buildLog: Record<string, string[]>;
}

async function up(ls: LocalStack): Promise<UpResult> {
  const { onEvent, buildLog, ops } = buildLogCollector();
  const r = await withStateLock(() => ls.stack.up({ configFile: ls.configFile, onEvent }), {
    cancelCommand: ls.cancelCommand,
    attempts: 3,
    waitSeconds: 5,
  });
  return { changes: (r.summary.resourceChanges ?? {}) as Record<string, number>, ops, buildLog };
}

/** Changes other than `same`, e.g. {update: 2}. */
function changed(r: UpResult): Record<string, number> {
  return Object.fromEntries(Object.entries(r.changes).filter(([k, v]) => k !== "same" && v > 0));
}

function dockerCli(args: string[]): string {
  return execFileSync(docker, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

describe("release e2e (local registry, real engine + docker-build + BuildKit)", function () {
  this.timeout(30 * 60_000);
  const reg = new Registry();
  const repo = E2E.imageName;
  // The oracle is written out (issue 21): the tags a v0.0.1 release of 0e2e0e2… must carry, by
  // docs/configuration.md's rule, not by the code under test; deriveTags must agree with it.
  const expectedTags = ["v0.0.1-0e2e0e2", "v0.0.1", "v0.0", "latest"];
  assert.deepStrictEqual(
    deriveTags({ version: E2E.version, commit: E2E.commit, releasedVersions: E2E.releasedVersions }),
    expectedTags,
  );
  // components/image.ts also pushes each platform under `<sha tag>-<arch>` and keeps the
  // registry build cache per platform in the same repository.
  const perArchTags = ARCHES.map((a) => `${expectedTags[0]}-${a}`);
  const cacheTags = ARCHES.map((a) => `buildcache-${a}`);
  let ls: LocalStack;
  let outputs: Record<string, unknown>;
  let indexDigest: string;
  const binaries: Record<string, string> = {};

  before(async function () {
    assert.ok(
      workDir !== "" && fs.existsSync(path.join(workDir, "index.ts")),
      "CQ_E2E_DIR must be a repository copy",
    );
    assert.notStrictEqual(
      fs.realpathSync(workDir),
      fs.realpathSync(path.resolve(__dirname, "../..")),
      "CQ_E2E_DIR must be a temporary copy: the experiments edit index.ts and plugin/main.go",
    );
    ls = await openRehearsalStack(workDir, "e2e", E2E_CONFIG);
  });

  it("up builds and pushes the image", async function () {
    const r = await up(ls);
    outputs = await plainOutputs(ls);
    fs.writeFileSync(path.join(outDir, "outputs.json"), JSON.stringify(outputs, null, 2));
    const refs = outputs.imageRefs as Record<string, string>;
    assert.match(refs.local, new RegExp(`^127\\.0\\.0\\.1:5000/${repo}@sha256:[0-9a-f]{64}$`));
    const [repository, digest] = refs.local.split("@");
    indexDigest = digest;
    fs.writeFileSync(path.join(outDir, "image-ref"), `${repository}:${E2E.version}@${indexDigest}\n`);
    console.log(`      up: ${JSON.stringify(r.changes)}; ${refs.local}`);
    if (EXPECT_COLD) {
      for (const name of ["plugin-linux-amd64", "plugin-linux-arm64"]) {
        assert.strictEqual(
          stepState(r.buildLog[name] ?? [], /go build/),
          "ran",
          `${name} was not built cold`,
        );
      }
      console.log("      cold: both platforms compiled (CQ_E2E_EXPECT_COLD)");
    }
  });

  it("the registry holds exactly the derived tags (+ per-arch and build-cache tags)", async function () {
    assert.deepStrictEqual(outputs.imageTags, expectedTags);
    assert.deepStrictEqual(await reg.tags(repo), [...expectedTags, ...perArchTags, ...cacheTags].sort());
    for (const t of expectedTags) assert.strictEqual(await reg.digest(repo, t), indexDigest, `tag ${t}`);
  });

  it("the index has linux/amd64 and linux/arm64 with the right config and OCI labels", async function () {
    const index = await reg.manifest<Index>(repo, indexDigest);
    const plats = index.manifests
      .filter((m) => m.platform !== undefined && m.platform.os !== "unknown")
      .map((m) => `${m.platform?.os}/${m.platform?.architecture}`)
      .sort();
    assert.deepStrictEqual(plats, PLATFORMS);
    // The oracle is written out (issue 21), and lib/labels.ts must agree with it.
    const labels = {
      "org.opencontainers.image.created": "2025-06-01T00:00:00Z",
      "org.opencontainers.image.description": "CloudQuery source plugin that reads Parquet objects from S3",
      "org.opencontainers.image.licenses": "Apache-2.0",
      "org.opencontainers.image.revision": "0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e",
      "org.opencontainers.image.source": "https://github.com/cloudquery-example/cq-source-s3",
      "org.opencontainers.image.title": "cq-source-s3",
      "org.opencontainers.image.url": "https://github.com/cloudquery-example/cq-source-s3",
      "org.opencontainers.image.version": "v0.0.1",
    };
    assert.deepStrictEqual(
      ociLabels({
        owner: "cloudquery-example",
        repository: "cq-source-s3",
        version: E2E.version,
        commit: E2E.commit,
        commitTime: E2E.commitTime,
      }),
      labels,
    );
    for (const arch of ARCHES) {
      const desc = index.manifests.find((m) => m.platform?.architecture === arch);
      const man = await reg.manifest<Manifest>(repo, desc?.digest as string);
      const cfg = await reg.config(repo, man);
      assert.strictEqual(cfg.architecture, arch);
      assert.match(cfg.config.User ?? "", /^65532(:65532)?$/, "numeric non-root user");
      assert.deepStrictEqual(cfg.config.Entrypoint, ["/cq-source-s3"]);
      assert.deepStrictEqual(cfg.config.Cmd, ["serve", "--address", "[::]:7777"]);
      assert.deepStrictEqual(Object.keys(cfg.config.ExposedPorts ?? {}), ["7777/tcp"]);
      const oci = Object.fromEntries(
        Object.entries(cfg.config.Labels ?? {}).filter(([k]) => k.startsWith("org.opencontainers.image.")),
      );
      assert.deepStrictEqual(oci, labels);

      // Size: what a pull transfers (compressed layers) against the gzip of the binary alone.
      const compressed = man.layers.reduce((n, l) => n + l.size, 0);
      const dir = fs.mkdtempSync(path.join(outDir, `bin-${arch}-`));
      let found = false;
      for (const layer of man.layers) {
        const file = path.join(dir, "layer.tgz");
        fs.writeFileSync(file, await reg.blob(repo, layer.digest));
        const names = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).split("\n");
        if (names.includes("cq-source-s3") || names.includes("./cq-source-s3")) {
          execFileSync("tar", ["-xzf", file, "-C", dir]);
          found = true;
        }
        fs.rmSync(file);
      }
      assert.ok(found, `no layer of the ${arch} image holds /cq-source-s3`);
      binaries[arch] = path.join(dir, "cq-source-s3");
      const raw = fs.readFileSync(binaries[arch]);
      const gz = zlib.gzipSync(raw).length;
      const mb = (n: number) => (n / 1e6).toFixed(2);
      console.log(
        `      ${arch}: image ${mb(compressed)} MB compressed (${man.layers.length} layers); binary ${mb(raw.length)} MB, gzip ${mb(gz)} MB; ratio ${(compressed / gz).toFixed(2)}`,
      );
      assert.ok(compressed < 2 * gz + 5e6, `${arch}: ${compressed} B is far more than gzip(binary) ${gz} B`);
      assert.ok(compressed < 50e6, `${arch}: ${compressed} B ≥ 50 MB`);
    }
  });

  it("reproducible: after `buildctl prune --all`, another repository gets the same digests", async function () {
    if (REPRO === "record") {
      console.log(
        `      CQ_E2E_REPRO=record: no second build here; ${RECORD} is compared with another build's`,
      );
      this.skip();
    }
    // A cold build (every BuildKit cache and state pruned; no registry build cache: `cache` off,
    // since the registry keeps the -repro repository's cache from earlier runs) of the same commit
    // and inputs. Only the image name differs, and it is not an input of the build.
    const buildkit = process.env.BUILDKIT_HOST ?? "";
    assert.notStrictEqual(buildkit, "", "BUILDKIT_HOST is not set (scripts/env.sh)");
    execFileSync("buildctl", ["--addr", buildkit, "prune", "--all"], { stdio: "ignore" });
    const reproRepo = `${repo}-repro`;
    const repro = await openRehearsalStack(workDir, "e2e-repro", {
      ...E2E_CONFIG,
      imageName: reproRepo,
      cache: "false",
    });
    const r = await up(repro);
    for (const name of ["plugin-linux-amd64", "plugin-linux-arm64"]) {
      assert.strictEqual(stepState(r.buildLog[name] ?? [], /go build/), "ran", `${name} was not built cold`);
    }
    const reproDigest = ((await plainOutputs(repro)).imageRefs as Record<string, string>).local.split("@")[1];
    const platformDigests = async (name: string, digest: string) =>
      (await reg.manifest<Index>(name, digest)).manifests
        .map((m) => `${m.platform?.os}/${m.platform?.architecture} ${m.digest}`)
        .sort();
    const first = await platformDigests(repo, indexDigest);
    assert.deepStrictEqual(await platformDigests(reproRepo, reproDigest), first);
    assert.strictEqual(reproDigest, indexDigest);
    fs.writeFileSync(
      path.join(outDir, "reproducible.txt"),
      [`index ${indexDigest}`, ...first, ""].join("\n"),
    );
    console.log(`      cold rebuild into ${reproRepo}: index ${reproDigest} (= first build)`);
    for (const line of first) console.log(`        ${line}`);
  });

  it("docker run --read-only --cap-drop ALL answers gRPC on 7777; the image has no shell", async function () {
    const ref = (outputs.imageRefs as Record<string, string>).local;
    dockerCli(["pull", "-q", ref]);
    const t0 = Date.now();
    const id = dockerCli([
      "run",
      "-d",
      "--rm",
      "--read-only",
      "--cap-drop",
      "ALL",
      "-p",
      "127.0.0.1::7777",
      ref,
    ]);
    try {
      const addr = dockerCli(["port", id, "7777/tcp"]).split("\n")[0];
      assert.match(addr, /^127\.0\.0\.1:\d+$/);
      const { versions, ms } = await firstAnswer(addr, t0);
      // plugin-sdk v4 serves CloudQuery plugin protocol 3.
      assert.ok(versions.includes(3), `GetVersions: ${JSON.stringify(versions)}`);
      const user = dockerCli(["inspect", "-f", "{{.Config.User}}", id]);
      console.log(
        `      docker run → first GetVersions answer: ${ms} ms (versions ${versions}; user ${user})`,
      );
      fs.writeFileSync(path.join(outDir, "start-ms"), `${ms}\n`);
    } finally {
      execFileSync(docker, ["rm", "-f", id], { stdio: "ignore" });
    }
    let shell: string;
    try {
      dockerCli(["run", "--rm", "--entrypoint", "/bin/sh", ref, "-c", "true"]);
      shell = "ran";
    } catch (e) {
      shell = String((e as { stderr?: string }).stderr ?? e);
    }
    assert.notStrictEqual(shell, "ran", "/bin/sh ran in the image");
    // The runtime's own words for a missing entrypoint (a registry "not found" or a network error
    // must not pass this check).
    assert.match(shell, /exec: "\/bin\/sh": stat \/bin\/sh: no such file or directory/);
  });

  it("the arm64 binary answers GetVersions under qemu-aarch64-static", async function () {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const t0 = Date.now();
    const child = spawn("qemu-aarch64-static", [binaries.arm64, "serve", "--address", addr], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    try {
      const { versions, ms } = await firstAnswer(addr, t0, 120_000, () => child.exitCode === null);
      assert.ok(versions.includes(3), `GetVersions: ${JSON.stringify(versions)}`);
      console.log(`      arm64 under qemu: first answer after ${ms} ms (versions ${versions})`);
    } catch (e) {
      throw new Error(`${String(e)}\nstderr: ${stderr}`);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("every door: the dist build's Hub package and GitHub zips hold the image's binaries", async function () {
    // scripts/release/dist.sh, as the release job runs it: the Dockerfile's `dist` target with the
    // image's build args (the stack output imageBuildArgs) on the same BuildKit.
    const runnerTemp = fs.mkdtempSync(path.join(outDir, "dist-runner-"));
    fs.writeFileSync(path.join(runnerTemp, "outputs.json"), JSON.stringify(outputs));
    const dist = (dest: string) => {
      const t0 = Date.now();
      execFileSync("bash", [path.join(workDir, "scripts/release/dist.sh"), dest], {
        env: { ...process.env, RUNNER_TEMP: runnerTemp },
        stdio: ["ignore", "ignore", "inherit"],
      });
      return ((Date.now() - t0) / 1000).toFixed(1);
    };
    const first = path.join(outDir, "dist");
    const firstS = dist(first);
    const hub = path.join(first, "hub");
    const github = path.join(first, "github");

    // The Hub package, as the SDK's `package` writes it.
    const pkg = JSON.parse(fs.readFileSync(path.join(hub, "package.json"), "utf8"));
    assert.deepStrictEqual(
      { ...pkg, supported_targets: undefined },
      {
        schema_version: 1,
        name: "s3",
        team: "infobloxopen",
        kind: "source",
        message: `cq-source-s3 ${E2E.version}`,
        version: E2E.version,
        protocols: [3],
        supported_targets: undefined,
        package_type: "native",
      },
    );
    const targets = (pkg.supported_targets as { os: string; arch: string; path: string; checksum: string }[])
      .map((t) => `${t.os}/${t.arch}`)
      .sort();
    assert.deepStrictEqual(targets, [
      "darwin/amd64",
      "darwin/arm64",
      "linux/amd64",
      "linux/arm64",
      "windows/amd64",
    ]);
    // What the Release body and the release plan promise is what the SDK built.
    assert.deepStrictEqual(
      [...RELEASE_ZIP_TARGETS].sort(),
      targets,
      "tooling/releaseNotes.ts RELEASE_ZIP_TARGETS",
    );
    for (const t of pkg.supported_targets as { os: string; arch: string; path: string; checksum: string }[]) {
      assert.strictEqual(t.path, `plugin-s3-${E2E.version}-${t.os}-${t.arch}.zip`);
      const sum = execFileSync("sha256sum", [path.join(hub, t.path)], { encoding: "utf8" }).split(" ")[0];
      assert.strictEqual(t.checksum, `sha256:${sum}`, `${t.path}: package.json's checksum`);
    }
    // Tables come from the bucket at sync time: none without a spec (plugin/README.md).
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(hub, "tables.json"), "utf8")), []);
    assert.deepStrictEqual(fs.readdirSync(path.join(hub, "docs")).sort(), [
      "configuration.md",
      "overview.md",
    ]);
    assert.deepStrictEqual(
      JSON.parse(fs.readFileSync(path.join(hub, "spec_json_schema.json"), "utf8")),
      JSON.parse(fs.readFileSync(path.join(workDir, "plugin/internal/spec/schema.json"), "utf8")),
    );

    // The GitHub Release assets: checksums.txt in sha256sum format over the five zips.
    const zips = fs
      .readdirSync(github)
      .filter((f) => f.endsWith(".zip"))
      .sort();
    assert.deepStrictEqual(
      zips,
      targets.map((t) => `cq-source-s3_${t.replace("/", "_")}.zip`),
    );
    execFileSync("sha256sum", ["--quiet", "-c", "checksums.txt"], { cwd: github });
    const unzipped = (zip: string) => {
      const dir = fs.mkdtempSync(path.join(outDir, "unzip-"));
      execFileSync("unzip", ["-q", zip, "-d", dir]);
      const names = fs.readdirSync(dir);
      assert.strictEqual(names.length, 1, `${zip} holds ${names}`);
      return path.join(dir, names[0]);
    };
    for (const arch of ARCHES) {
      const fromGithub = unzipped(path.join(github, `cq-source-s3_linux_${arch}.zip`));
      assert.strictEqual(path.basename(fromGithub), "cq-source-s3");
      assert.strictEqual(fs.statSync(fromGithub).mode & 0o777, 0o755, "the binary is executable as unzipped");
      const fromHub = unzipped(path.join(hub, `plugin-s3-${E2E.version}-linux-${arch}.zip`));
      const image = fs.readFileSync(binaries[arch]);
      assert.ok(
        image.equals(fs.readFileSync(fromGithub)),
        `linux/${arch}: the GitHub zip's binary is not the image's`,
      );
      assert.ok(
        image.equals(fs.readFileSync(fromHub)),
        `linux/${arch}: the Hub zip's binary is not the image's`,
      );
    }
    // darwin and windows: format and target, from the binaries' own build info.
    for (const [goos, goarch, entry] of [
      ["darwin", "amd64", "cq-source-s3"],
      ["darwin", "arm64", "cq-source-s3"],
      ["windows", "amd64", "cq-source-s3.exe"],
    ]) {
      const bin = unzipped(path.join(github, `cq-source-s3_${goos}_${goarch}.zip`));
      assert.strictEqual(path.basename(bin), entry);
      const info = execFileSync("go", ["version", "-m", bin], { encoding: "utf8" });
      for (const want of [
        `GOOS=${goos}`,
        `GOARCH=${goarch}`,
        "CGO_ENABLED=0",
        "-trimpath=true",
        "-tags=grpcnotrace",
        "-buildmode=exe",
      ]) {
        assert.ok(info.includes(want), `${goos}/${goarch}: go version -m lacks ${want}:\n${info}`);
      }
      const raw = fs.readFileSync(bin);
      // Mach-O 64-bit little-endian, or a PE file's MZ header.
      const magic = raw.subarray(0, goos === "windows" ? 2 : 4).toString("hex");
      assert.strictEqual(magic, goos === "windows" ? "4d5a" : "cffaedfe", `${goos}/${goarch}: file magic`);
      // -trimpath keeps -ldflags out of the build info; the stamped version is in the data.
      assert.ok(raw.includes(Buffer.from(E2E.version)), `${goos}/${goarch}: no ${E2E.version} stamped`);
    }

    // Reproducible: every file's SHA-256, for comparison with another cold build of this commit.
    // .ci/run compares the record of its own e2e with that of the unprivileged run (another user,
    // another BuildKit state, a fresh clone): two independent builds, byte for byte.
    const files = execFileSync("find", [".", "-type", "f"], { cwd: first, encoding: "utf8" })
      .trim()
      .split("\n")
      .sort();
    // The image's digests lead the record (scripts/compare-dist-records.sh requires them).
    const images = (await reg.manifest<Index>(repo, indexDigest)).manifests
      .map((m) => `${m.digest.slice("sha256:".length)}  image:${m.platform?.os}/${m.platform?.architecture}`)
      .sort();
    const record = [
      `${indexDigest.slice("sha256:".length)}  image:index`,
      ...images,
      execFileSync("sha256sum", files, { cwd: first, encoding: "utf8" }).trimEnd(),
      "",
    ].join("\n");
    fs.writeFileSync(path.join(outDir, "dist-dir"), `${first}\n`);
    if (RECORD !== "") fs.writeFileSync(RECORD, record);
    console.log(`      dist: ${files.length} files in ${firstS} s`);
    console.log(
      `      ${fs.readFileSync(path.join(github, "checksums.txt"), "utf8").trim().replace(/\n/g, "\n      ")}`,
    );
  });

  it("preview pushes nothing, and its release plan (the PR comment) says no rebuild", async function () {
    const before = await reg.snapshot(repo);
    // The engine events of a real preview: what preview.yml's event log holds.
    const events = await capturePreviewEvents(ls);
    assert.deepStrictEqual(await reg.snapshot(repo), before);
    fs.writeFileSync(path.join(outDir, "preview-events.json"), fixtureText(events));
    const plan = renderReleasePlan({ preview: parsePreviewText(fixtureText(events), "e2e preview") });
    assert.match(plan, /^### Release plan for `e2e`/, plan);
    assert.ok(plan.includes("**Image: no rebuild.**"), plan);
    assert.match(plan, /\*\*Infrastructure:\*\* no changes pending\./, plan);
    assert.ok(!plan.includes("ciphertext"), plan);
  });

  it("a second up with nothing changed builds and pushes nothing", async function () {
    const before = await reg.snapshot(repo);
    const r = await up(ls);
    assert.deepStrictEqual(changed(r), {});
    assert.deepStrictEqual(await reg.snapshot(repo), before);
  });

  it("a TypeScript-only change does not rebuild the image", async function () {
    fs.appendFileSync(path.join(workDir, "index.ts"), "\n// e2e: a TypeScript-only change\n");
    const before = await reg.snapshot(repo);
    const r = await up(ls);
    assert.deepStrictEqual(changed(r), {});
    assert.deepStrictEqual(
      Object.keys(r.buildLog).filter((n) => n.startsWith("plugin-linux-")),
      [],
    );
    assert.deepStrictEqual(await reg.snapshot(repo), before);
  });

  it("a one-line plugin change rebuilds the Images, reusing the cached dependency layer", async function () {
    fs.appendFileSync(
      path.join(workDir, "plugin", "main.go"),
      `\nconst e2eMarker = "${new Date().toISOString()}"\n`,
    );
    const r = await up(ls);
    for (const name of ["plugin-linux-amd64", "plugin-linux-arm64"]) {
      assert.strictEqual(r.ops[name], "update", `${name}: ${r.ops[name]}`);
      const log = r.buildLog[name] ?? [];
      // go.mod/go.sum did not change, so the dependency download must come from the cache…
      assert.strictEqual(stepState(log, /go mod download/), "cached", `${name} log:\n${log.join("\n")}`);
      // …while the source changed, so the compile ran.
      assert.strictEqual(stepState(log, /go build/), "ran", `${name} log:\n${log.join("\n")}`);
    }
    assert.deepStrictEqual(
      await reg.tags(repo),
      [...expectedTags, ...perArchTags, ...cacheTags].sort(),
      "the tag set stays exact",
    );
    const index = await reg.manifest<Index>(repo, E2E.version);
    assert.strictEqual(index.manifests.filter((m) => m.platform?.os === "linux").length, 2);
    // Reproducible, not constant: the changed source gives a new index digest.
    const changedDigest = await reg.digest(repo, E2E.version);
    assert.notStrictEqual(changedDigest, indexDigest, "a one-line plugin change kept the index digest");
    console.log(`      one-line plugin change: index ${indexDigest} → ${changedDigest}`);
  });
});
