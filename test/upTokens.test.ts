// A fresh gcr.io token for every attempt: the real scripts/release/up.sh (with common.sh) in a
// scratch tree where everything around its attempt loop is a stand-in: the steps it calls
// (metadata, configure, the exact-tag guard, which records the GCR_TOKEN it is given), `pulumi up`
// (locked on the first call), the pulumi and git CLIs, ts-node for steps.ts, and the token minter
// GCR_TOKEN_COMMAND (token-1, token-2, …). Nothing here talks to a network.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");
const SHA = "abc1234def5678901234567890abcdef12345678";

/** Writes an executable bash script. */
function script(file: string, body: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  chmodSync(file, 0o755);
}

/** The lines of a file the stand-ins append to; [] when absent. */
function lines(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : [];
}

describe("up.sh: a fresh gcr.io access token for every attempt", function () {
  this.timeout(60_000);
  let dir: string;
  let tree: string;
  let temp: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "up-tokens-"));
    tree = path.join(dir, "tree");
    temp = path.join(dir, "runner-temp");
    mkdirSync(temp);
    const release = path.join(tree, "scripts", "release");
    mkdirSync(release, { recursive: true });
    for (const f of ["up.sh", "common.sh"])
      copyFileSync(path.join(ROOT, "scripts", "release", f), path.join(release, f));
    script(
      path.join(release, "metadata.sh"),
      `printf 'released-versions=[]\\ncommit-time=2025-01-01T00:00:00Z\\n' >>"$GITHUB_OUTPUT"`,
    );
    script(path.join(release, "configure.sh"), ":");
    // The exact-tag guard: records the token it reads gcr.io with; a new release, built.
    script(
      path.join(release, "exact-tags.sh"),
      `printf '%s\\n' "\${GCR_TOKEN:-<unset>}" >>"$RUNNER_TEMP/guard-tokens"; : >"$RUNNER_TEMP/exact-tags.out"`,
    );
    // steps.ts through ts-node: the targets, one live lock of another host, nothing left to reap.
    script(
      path.join(tree, "node_modules", ".bin", "ts-node"),
      `case "$3" in
targets) echo 'urn:pulumi:prod::p::cq-release:image:PluginImage::plugin' ;;
state-locks) printf 'live\\tgs://state/.pulumi/locks/l.json\\tother@runner (pid 1)\\n' ;;
reap) ;;
*) exit 2 ;;
esac`,
    );
    const bin = path.join(dir, "bin");
    script(path.join(bin, "git"), ":");
    script(path.join(bin, "pulumi"), `echo '{"version":"v1.2.3","commit":"${SHA}"}'`);
    // `pulumi up`: the first call meets another release's state lock.
    script(
      path.join(dir, "up"),
      `echo call >>"${dir}/up-calls"
if (( $(wc -l <"${dir}/up-calls") == 1 )); then
	echo "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with pulumi cancel."
	exit 255
fi
echo "Update succeeded"`,
    );
    // The minter: token-1, token-2, …
    script(
      path.join(dir, "mint"),
      `echo call >>"${dir}/mint-calls"; echo "token-$(wc -l <"${dir}/mint-calls")"`,
    );
    script(
      path.join(dir, "mint-fails"),
      `echo "ERROR: (gcloud.auth.print-access-token) There was a problem refreshing your current auth tokens" >&2; exit 1`,
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function up(env: Record<string, string>) {
    const res = spawnSync("bash", [path.join(tree, "scripts", "release", "up.sh")], {
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`,
        HOME: dir,
        GITHUB_OUTPUT: path.join(dir, "github-output"),
        GITHUB_SHA: SHA,
        GITHUB_REF_NAME: "v1.2.3",
        RUNNER_TEMP: temp,
        PULUMI_UP_COMMAND: `bash ${path.join(dir, "up")}`,
        UP_LOCK_ATTEMPTS: "3",
        UP_LOCK_WAIT_SECONDS: "1",
        // What the job started with: stale by the time a later attempt runs.
        GCR_TOKEN: "token-0-minted-at-job-start",
        ...env,
      },
    });
    return { status: res.status, out: `${res.stdout}${res.stderr}` };
  }

  it("mints before each attempt, so the attempt after the lock wait reads gcr.io with a new token", () => {
    const res = up({ GCR_TOKEN_COMMAND: `bash ${path.join(dir, "mint")}` });
    assert.equal(res.status, 0, res.out);
    assert.equal(lines(path.join(dir, "up-calls")).length, 2, "pulumi up: locked, then succeeded");
    assert.equal(lines(path.join(dir, "mint-calls")).length, 2, "one token per attempt");
    assert.deepEqual(lines(path.join(temp, "guard-tokens")), ["token-1", "token-2"]);
    assert.match(res.out, /attempt 2\/3/);
  });

  it("masks each minted token in the job's log", () => {
    const res = up({ GCR_TOKEN_COMMAND: `bash ${path.join(dir, "mint")}`, GITHUB_ACTIONS: "true" });
    assert.equal(res.status, 0, res.out);
    assert.match(res.out, /^::add-mask::token-1$/m);
    assert.match(res.out, /^::add-mask::token-2$/m);
  });

  it("stops before `pulumi up` when no token can be minted, naming the command", () => {
    const res = up({ GCR_TOKEN_COMMAND: `bash ${path.join(dir, "mint-fails")}` });
    assert.equal(res.status, 1);
    assert.match(res.out, /There was a problem refreshing your current auth tokens/);
    assert.match(res.out, /::error::could not mint a gcr\.io access token with 'bash .*mint-fails'/);
    assert.deepEqual(lines(path.join(dir, "up-calls")), []);
    assert.deepEqual(lines(path.join(temp, "guard-tokens")), []);
  });

  it("refuses an empty token", () => {
    const res = up({ GCR_TOKEN_COMMAND: "true" });
    assert.equal(res.status, 1);
    assert.match(res.out, /::error::'true' printed no gcr\.io access token/);
  });

  it("uses GCR_TOKEN as given without a command (the rehearsal, which reads no gcr.io)", () => {
    const res = up({});
    assert.equal(res.status, 0, res.out);
    assert.deepEqual(lines(path.join(temp, "guard-tokens")), [
      "token-0-minted-at-job-start",
      "token-0-minted-at-job-start",
    ]);
  });
});
