// When a state lock is provably stale (tooling/stateLock.ts), by tables; and that its age bound is
// the publish job's timeout (release.yml), the longest a lock's holder can live.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as yaml from "js-yaml";

import { parseLocks, pidAlive, staleReason, type StateLock } from "../tooling/stateLock";

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
