// When a state lock is provably stale (tooling/stateLock.ts), by tables; and that its age bound is
// the publish job's timeout (release.yml), the longest a lock's holder can live.
import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";

import * as yaml from "js-yaml";

import { ATTEMPT_ENV, withStateLock } from "../scripts/lib/stateLocks";
import { lockStep, parseLocks, pidAlive, staleReason, type StateLock } from "../tooling/stateLock";

// What `pulumi up` 3.248 printed in the faults rehearsal (pkg/backend/diy/lock.go).
const LOG = `Updating (local):
error: the stack is currently locked by 2 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.
  file:///tmp/s/repo/.pulumi-local/.pulumi/locks/organization/cq-source-s3-release/local/a1.json: created by root@vm (pid 4242) at 2026-11-30T20:00:00Z
  gs://state/.pulumi/locks/organization/cq-source-s3-release/prod/b2.json: created by runner@fv-az1-1 (pid 17) at 2026-11-30T18:00:00+00:00
`;
const NOW = new Date("2026-11-30T20:10:00Z");
const ctx = (alive: number[]) => ({
  hostname: "vm",
  now: NOW,
  pidAlive: (p: number) => alive.includes(p),
  maxAgeSeconds: 5400,
});
const lock = (over: Partial<StateLock>): StateLock => ({
  url: "file:///l.json",
  username: "root",
  hostname: "vm",
  pid: 4242,
  timestamp: "2026-11-30T20:00:00Z",
  ...over,
});

describe("stateLock", () => {
  it("parses every lock a locked `pulumi up` lists", () => {
    assert.deepEqual(parseLocks(LOG), [
      {
        url: "file:///tmp/s/repo/.pulumi-local/.pulumi/locks/organization/cq-source-s3-release/local/a1.json",
        username: "root",
        hostname: "vm",
        pid: 4242,
        timestamp: "2026-11-30T20:00:00Z",
      },
      {
        url: "gs://state/.pulumi/locks/organization/cq-source-s3-release/prod/b2.json",
        username: "runner",
        hostname: "fv-az1-1",
        pid: 17,
        timestamp: "2026-11-30T18:00:00+00:00",
      },
    ]);
    assert.deepEqual(parseLocks("error: something else\n"), []);
  });

  const cases: [string, StateLock, number[], boolean][] = [
    ["this host, pid gone: stale", lock({}), [], true],
    ["this host, pid running: live", lock({}), [4242], false],
    ["another host, young: live (maybe another tag's release)", lock({ hostname: "fv-az1-1" }), [], false],
    [
      "another host, older than the job timeout: stale",
      lock({ hostname: "x", timestamp: "2026-11-30T18:00:00Z" }),
      [],
      true,
    ],
    [
      "another host, exactly at the bound: live",
      lock({ hostname: "x", timestamp: "2026-11-30T18:40:00Z" }),
      [],
      false,
    ],
    [
      "this host, pid running, older than the bound: stale",
      lock({ timestamp: "2026-11-30T17:00:00Z" }),
      [4242],
      true,
    ],
    ["unparseable time, another host: live", lock({ hostname: "x", timestamp: "yesterday" }), [], false],
  ];
  for (const [name, l, alive, stale] of cases) {
    it(`judges a lock: ${name}`, () => {
      assert.equal(staleReason(l, ctx(alive)) !== undefined, stale);
    });
  }

  it("sees this process as alive and an unused pid as not", () => {
    assert.equal(pidAlive(process.pid), true);
    assert.equal(pidAlive(2 ** 22 + 1), false);
  });

  it("ages locks by the publish job's timeout-minutes (up.sh's UP_STALE_LOCK_SECONDS default)", () => {
    const wf = yaml.load(readFileSync(".github/workflows/release.yml", "utf8")) as {
      jobs: { publish: { "timeout-minutes": number } };
    };
    const up = readFileSync("scripts/release/up.sh", "utf8");
    const def = /stale_s="\$\{UP_STALE_LOCK_SECONDS:-(\d+)\}"/.exec(up);
    assert.ok(def, "up.sh sets stale_s from UP_STALE_LOCK_SECONDS");
    assert.equal(Number(def[1]), wf.jobs.publish["timeout-minutes"] * 60);
  });
});

describe("stateLock: what to do after a failed attempt (lockStep)", () => {
  const CANCEL = "pulumi cancel --yes --stack local";
  it("retries at once when every lock is stale, naming what to delete", () => {
    const step = lockStep(LOG, { ...ctx([]), now: new Date("2026-11-30T20:10:00Z") }, 1, 3, CANCEL);
    // a1: this host, dead pid; b2: another host, 2 h 10 min old (> 5400 s): both stale.
    assert.equal(step.kind, "retry");
    assert.deepEqual(step.kind === "retry" ? step.remove.map((l) => l.lock.pid) : [], [4242, 17]);
  });
  it("waits while a lock may be live", () => {
    const step = lockStep(LOG, ctx([4242]), 1, 3, CANCEL);
    assert.equal(step.kind, "wait");
  });
  it("fails on the last attempt, naming the live lock and the one command", () => {
    const step = lockStep(LOG, ctx([4242]), 3, 3, CANCEL);
    assert.equal(step.kind, "fail");
    assert.match(
      step.kind === "fail" ? step.message : "",
      /still locked after 3 attempts by file:\/\/.*a1\.json \(root@vm \(pid 4242\).*run: pulumi cancel --yes --stack local$/,
    );
  });
  it("fails at once on anything but a lock", () => {
    const step = lockStep("error: docker-build: failed to solve", ctx([]), 1, 3, CANCEL);
    assert.deepEqual(step, {
      kind: "fail",
      message: "the update failed (not a state lock; not retried): the cause is in its log above",
    });
  });
});

describe("stateLocks: the one implementation the entry points share", () => {
  // Each test's lock files live in a directory of its own, removed after it.
  let dir = "";
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "locks-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  // A lock file as the file backend writes it, by a pid that has exited on this host.
  function staleLockLog(dir: string): { log: string; file: string } {
    const file = path.join(dir, ".pulumi/locks/organization/p/local/x1.json");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, "{}");
    writeFileSync(`${file}.attrs`, "{}");
    const child = spawnSync("true");
    return {
      file,
      log: `error: the stack is currently locked by 1 lock(s). Either wait …\n  file://${file}?no_tmp_dir=true: created by root@${hostname()} (pid ${child.pid}) at ${new Date().toISOString()}\n`,
    };
  }

  it("deletes a stale lock file (and its attributes) and runs the update again", async () => {
    const { log, file } = staleLockLog(dir);
    let calls = 0;
    const out = await withStateLock(
      async () => {
        calls++;
        if (calls === 1) throw new Error(log);
        return "up";
      },
      { cancelCommand: "c", attempts: 3, waitSeconds: 0, log: () => {} },
    );
    assert.equal(out, "up");
    assert.equal(calls, 2);
    assert.ok(!existsSync(file) && !existsSync(`${file}.attrs`), "the stale lock is still there");
  });

  it("waits for a live lock, then fails naming the cancel command; leaves the lock", async () => {
    const file = path.join(dir, "l.json");
    writeFileSync(file, "{}");
    const log = `the stack is currently locked by 1 lock(s)\n  file://${file}: created by root@${hostname()} (pid ${process.pid}) at ${new Date().toISOString()}\n`;
    let calls = 0;
    await assert.rejects(
      withStateLock(
        async () => {
          calls++;
          throw new Error(log);
        },
        {
          cancelCommand: "PULUMI_BACKEND_URL=file:///x pulumi cancel --yes --stack local",
          attempts: 2,
          waitSeconds: 0,
          log: () => {},
        },
      ),
      /still locked after 2 attempts .*run: PULUMI_BACKEND_URL=file:\/\/\/x pulumi cancel --yes --stack local$/,
    );
    assert.equal(calls, 2);
    assert.ok(existsSync(file), "a live lock was deleted");
  });

  it("passes any other failure through as it is", async () => {
    const boom = new Error("docker-build: failed to solve");
    await assert.rejects(
      withStateLock(
        async () => {
          throw boom;
        },
        { cancelCommand: "c", attempts: 3, waitSeconds: 0, log: () => {} },
      ),
      (e) => e === boom,
    );
  });

  it("ends what an attempt left running, and nothing else", async () => {
    let child: ChildProcess | undefined;
    let bystander: ChildProcess | undefined;
    await withStateLock(
      async () => {
        // Started during the attempt: inherits its marker, as the engine's provider does.
        child = spawn("sleep", ["30"], { stdio: "ignore" });
        bystander = spawn("sleep", ["30"], { stdio: "ignore", env: { PATH: process.env.PATH } });
        await new Promise((r) => setTimeout(r, 100));
        return "ok";
      },
      { cancelCommand: "c", log: () => {} },
    );
    const exited = (c: ChildProcess) =>
      new Promise((r) =>
        c.exitCode !== null || c.signalCode !== null
          ? r(c.signalCode)
          : c.once("exit", (_code, sig) => r(sig)),
      );
    assert.equal(await exited(child as ChildProcess), "SIGKILL");
    assert.equal((bystander as ChildProcess).exitCode, null, "a process without the marker was ended");
    (bystander as ChildProcess).kill("SIGKILL");
    assert.equal(process.env[ATTEMPT_ENV], undefined, "the marker outlived the attempt");
  });
});
