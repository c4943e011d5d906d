// The reference model of `npm run test:history` (test/history/model.ts), by tables and by the
// properties every generated history must keep.
import * as assert from "node:assert/strict";

import { expectedTags, generateHistory, releaseId, type ReleaseStep } from "./history/model";

const C = (n: number) => String(n).repeat(40).slice(0, 40);
const step = (version: string, commit: string): ReleaseStep => ({ version, commit, kind: "table" });

describe("history model: tags after a sequence of releases", () => {
  it("moves latest and the line forward, never to a pre-release", () => {
    const { tags } = expectedTags([step("v1.0.0", C(1)), step("v1.1.0", C(2)), step("v2.0.0-rc.1", C(3))]);
    assert.equal(tags.latest, `v1.1.0@${C(2)}`);
    assert.equal(tags["v1.1"], `v1.1.0@${C(2)}`);
    assert.equal(tags["v1.0"], `v1.0.0@${C(1)}`);
    assert.equal(tags["v2.0"], undefined);
    assert.equal(tags["v2.0.0-rc.1"], `v2.0.0-rc.1@${C(3)}`);
    assert.equal(tags[`v2.0.0-rc.1-${C(3).slice(0, 7)}`], `v2.0.0-rc.1@${C(3)}`);
  });
  it("keeps latest on the newest line when an older line gets a patch", () => {
    const { tags } = expectedTags([step("v1.2.0", C(1)), step("v1.3.0", C(2)), step("v1.2.1", C(3))]);
    assert.equal(tags.latest, `v1.3.0@${C(2)}`);
    assert.equal(tags["v1.2"], `v1.2.1@${C(3)}`);
  });
  it("keeps everything when releases finish out of order", () => {
    const { tags } = expectedTags([step("v1.0.0", C(1)), step("v1.0.2", C(2)), step("v1.0.1", C(3))]);
    assert.equal(tags.latest, `v1.0.2@${C(2)}`);
    assert.equal(tags["v1.0"], `v1.0.2@${C(2)}`);
    assert.equal(tags["v1.0.1"], `v1.0.1@${C(3)}`);
  });
  it("refuses a version re-tagged on another commit and changes nothing", () => {
    const before = expectedTags([step("v1.0.0", C(1))]).tags;
    const { tags, refused } = expectedTags([step("v1.0.0", C(1)), step("v1.0.0", C(2))]);
    assert.deepEqual(refused, [1]);
    assert.deepEqual(tags, before);
  });
  it("changes nothing on a re-run of an old tag", () => {
    const steps = [step("v1.0.0", C(1)), step("v1.1.0", C(2))];
    assert.deepEqual(expectedTags([...steps, step("v1.0.0", C(1))]).tags, expectedTags(steps).tags);
  });
});

describe("history model: generated histories", () => {
  const seeds = [1, 2, 3, 42, 20261130];
  for (const seed of seeds) {
    const history = generateHistory(seed);
    it(`seed ${seed}: at least 25 releases, every kind of step, reproducible`, () => {
      assert.ok(history.length >= 25, String(history.length));
      for (const kind of [
        "new patch",
        "new minor",
        "new major",
        "patch on an older line",
        "pre-release",
        "re-run",
        "out of order",
        "re-tag",
      ]) {
        assert.ok(
          history.some((s) => s.kind.startsWith(kind)),
          `${kind} missing`,
        );
      }
      assert.deepEqual(generateHistory(seed), history);
    });
    it(`seed ${seed}: exact tags never move, floating tags never move backwards`, () => {
      const rank = (id: string) =>
        id
          .split("@")[0]
          .slice(1)
          .split(".")
          .map((x) => parseInt(x, 10));
      const gte = (a: string, b: string) => {
        const [x, y] = [rank(a), rank(b)];
        return x[0] !== y[0] ? x[0] > y[0] : x[1] !== y[1] ? x[1] > y[1] : x[2] >= y[2];
      };
      let previous: Record<string, string> = {};
      for (let i = 1; i <= history.length; i++) {
        const { tags } = expectedTags(history.slice(0, i));
        for (const [tag, id] of Object.entries(previous)) {
          assert.ok(tag in tags, `step ${i}: ${tag} disappeared`);
          if (/^v\d+\.\d+\.\d+/.test(tag)) assert.equal(tags[tag], id, `step ${i}: exact tag ${tag} moved`);
          else assert.ok(gte(tags[tag], id), `step ${i}: ${tag} moved back from ${id} to ${tags[tag]}`);
        }
        if (tags.latest !== undefined)
          assert.ok(!tags.latest.split("@")[0].includes("-"), "latest on a pre-release");
        previous = { ...tags };
      }
      assert.equal(releaseId(history[0]), `${history[0].version}@${history[0].commit}`);
    });
  }
});
