// scripts/check.ts: `npm run check` runs every part, side by side, and fails when any part fails.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";

import { CHECK_PARTS, runParts, summary } from "../scripts/check";

/** A part that finishes when the test says so. */
interface Gate {
  release(ok: boolean): void;
}

describe("npm run check (scripts/check.ts)", () => {
  it("runs only npm scripts of package.json, each once", () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    for (const part of CHECK_PARTS) assert.ok(pkg.scripts[part] !== undefined, `no npm script ${part}`);
    assert.equal(new Set(CHECK_PARTS).size, CHECK_PARTS.length);
    assert.ok(!(CHECK_PARTS as readonly string[]).includes("check"), "check would run itself");
  });

  it("never runs more than --jobs parts at a time, and starts them in the order given", async () => {
    const names = ["a", "b", "c", "d", "e"];
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    let running = 0;
    let most = 0;
    const done = runParts(names, 2, (name) => {
      started.push(name);
      running++;
      most = Math.max(most, running);
      return new Promise((resolve) =>
        gates.set(name, {
          release: (ok) => {
            running--;
            resolve({ ok, output: "" });
          },
        }),
      );
    });
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    assert.deepEqual(started, ["a", "b"]);
    gates.get("b")?.release(true);
    await tick();
    assert.deepEqual(started, ["a", "b", "c"]);
    for (const n of ["a", "c"]) gates.get(n)?.release(true);
    await tick();
    for (const n of ["d", "e"]) gates.get(n)?.release(true);
    const results = await done;
    assert.equal(most, 2);
    assert.deepEqual(started, names);
    assert.deepEqual(
      results.map((r) => r.name),
      names,
    );
  });

  it("runs every part even after one fails, and reports which failed, with its output", async () => {
    const ran: string[] = [];
    const results = await runParts(["typecheck", "lint", "test"], 1, (name) => {
      ran.push(name);
      if (name === "test") throw new Error("cannot spawn npm");
      return Promise.resolve({ ok: name !== "typecheck", output: `${name} said so\n` });
    });
    assert.deepEqual(ran, ["typecheck", "lint", "test"]);
    assert.deepEqual(
      results.map((r) => [r.name, r.ok, r.output]),
      [
        ["typecheck", false, "typecheck said so\n"],
        ["lint", true, "lint said so\n"],
        ["test", false, "cannot spawn npm\n"],
      ],
    );
    const table = summary(results, 12.3, 1);
    assert.match(table, /FAIL typecheck/);
    assert.match(table, /ok {3}lint/);
    assert.match(table, /check: FAILED: typecheck, test in 12\.3 s \(1 at a time; load average /);
  });

  it("times each part from its own start", async () => {
    let clock = 0;
    const results = await runParts(
      ["x", "y"],
      1,
      (name) => {
        clock += name === "x" ? 1500 : 250;
        return Promise.resolve({ ok: true, output: "" });
      },
      undefined,
      () => clock,
    );
    assert.deepEqual(
      results.map((r) => r.seconds),
      [1.5, 0.25],
    );
    assert.match(summary(results, 1.75, 1), /check: all passed in 1\.8 s/);
  });

  it("refuses a number of jobs that is not a positive integer", async () => {
    for (const jobs of [0, -1, 1.5, NaN]) {
      await assert.rejects(
        runParts(["x"], jobs, () => Promise.resolve({ ok: true, output: "" })),
        /jobs must be a positive integer/,
      );
    }
  });
});
