// Artifact Registry's cleanup semantics (tooling/cleanupSimulation.ts) by tables, and the
// program's policy (lib/cleanup.ts) against a repository as a release leaves it: the image
// index and its platform manifests (tagged), the build cache, and cosign v3's evidence (untagged
// referrer manifests on Artifact Registry). The policy the program used before (delete untagged
// after 14 days) is kept here as the case that must fail: it would delete the evidence.
import * as assert from "node:assert/strict";

import { type CleanupPolicy, cleanupPolicies } from "../lib/cleanup";
import { cleanupDeletes, matches, type RegistryVersion } from "../tooling/cleanupSimulation";

const DAY = 86400;
const v = (
  digest: string,
  tags: string[],
  ageDays: number,
  packageName = "cq-source-s3",
): RegistryVersion => ({
  packageName,
  digest: `sha256:${digest.padEnd(64, "0")}`,
  tags,
  ageSeconds: ageDays * DAY,
});

/** A repository a month after a release, evidence stored as Artifact Registry does (referrers). */
const RELEASED = [
  v("a1", ["v1.2.3", "v1.2", "latest", "v1.2.3-abc1234"], 30),
  v("a2", ["v1.2.3-abc1234-amd64"], 30),
  v("a3", ["v1.2.3-abc1234-arm64"], 30),
  v("c1", ["buildcache-amd64"], 30),
  v("c0", [], 60), // a superseded build cache manifest
  v("e1", [], 30), // cosign signature (referrer of a1)
  v("e2", [], 30), // SLSA provenance attestation
  v("e3", [], 30), // SPDX SBOM attestation
];
const EVIDENCE = ["e1", "e2", "e3"].map((d) => `sha256:${d.padEnd(64, "0")}`);

const OLD: CleanupPolicy[] = [
  ...cleanupPolicies("v"),
  { id: "delete-untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: `${14 * DAY}s` } },
];

describe("cleanup simulation: the program's policy against a released repository", () => {
  it("deletes nothing: every release keeps its evidence, whatever its age", () => {
    assert.deepEqual(cleanupDeletes(cleanupPolicies("v"), RELEASED), []);
  });
  it("the earlier policy (delete untagged after 14 days) would delete the evidence: the check can fail", () => {
    const deleted = cleanupDeletes(OLD, RELEASED).map((x) => x.digest);
    for (const e of EVIDENCE) assert.ok(deleted.includes(e), e);
    assert.ok(!deleted.includes(RELEASED[0].digest), "the tagged index is kept");
  });
  it("the earlier policy spares evidence younger than 14 days (the failure shows two weeks later)", () => {
    assert.deepEqual(cleanupDeletes(OLD, [v("e1", [], 13)]), []);
  });
});

describe("cleanup simulation: Artifact Registry's condition semantics", () => {
  const p = (action: "KEEP" | "DELETE", condition: CleanupPolicy["condition"]): CleanupPolicy => ({
    id: "p",
    action,
    condition,
  });
  const table: [string, CleanupPolicy, RegistryVersion, boolean][] = [
    ["TAGGED matches a tagged version", p("DELETE", { tagState: "TAGGED" }), v("1", ["x"], 1), true],
    ["TAGGED does not match an untagged one", p("DELETE", { tagState: "TAGGED" }), v("1", [], 1), false],
    ["UNTAGGED matches an untagged one", p("DELETE", { tagState: "UNTAGGED" }), v("1", [], 1), true],
    ["UNTAGGED does not match a tagged one", p("DELETE", { tagState: "UNTAGGED" }), v("1", ["x"], 1), false],
    ["ANY (the default) matches both", p("DELETE", {}), v("1", [], 1), true],
    [
      "a tag prefix matches any of the tags",
      p("KEEP", { tagPrefixes: ["v"] }),
      v("1", ["latest", "v1"], 1),
      true,
    ],
    [
      "a tag prefix is a prefix, not a substring",
      p("KEEP", { tagPrefixes: ["1"] }),
      v("1", ["v1"], 1),
      false,
    ],
    ["olderThan: strictly older", p("DELETE", { olderThan: `${DAY}s` }), v("1", [], 1), false],
    ["olderThan: older", p("DELETE", { olderThan: `${DAY}s` }), v("1", [], 2), true],
    ["newerThan: newer", p("DELETE", { newerThan: `${2 * DAY}s` }), v("1", [], 1), true],
    ["newerThan: not newer", p("DELETE", { newerThan: `${2 * DAY}s` }), v("1", [], 3), false],
    [
      "a version name prefix is the digest's",
      p("DELETE", { versionNamePrefixes: ["sha256:ab"] }),
      v("ab", [], 1),
      true,
    ],
    ["another digest", p("DELETE", { versionNamePrefixes: ["sha256:ab"] }), v("cd", [], 1), false],
    [
      "a package name prefix",
      p("DELETE", { packageNamePrefixes: ["cq-source-s3-cache"] }),
      v("1", [], 1, "cq-source-s3-cache"),
      true,
    ],
    ["another package", p("DELETE", { packageNamePrefixes: ["cq-source-s3-cache"] }), v("1", [], 1), false],
    [
      "every field must match (AND)",
      p("DELETE", { tagState: "UNTAGGED", olderThan: `${DAY}s` }),
      v("1", [], 0),
      false,
    ],
  ];
  for (const [name, policy, version, want] of table) {
    it(name, () => assert.equal(matches(policy, version), want));
  }
  it("a KEEP wins over a DELETE that matches the same version", () => {
    const policies = [p("DELETE", { olderThan: "0s" }), p("KEEP", { tagPrefixes: ["v"] })];
    assert.deepEqual(
      cleanupDeletes(policies, [v("1", ["v1"], 5), v("2", ["dev"], 5)]).map((x) => x.tags),
      [["dev"]],
    );
  });
  it("without a DELETE nothing is deleted", () => {
    assert.deepEqual(cleanupDeletes([p("KEEP", { tagState: "TAGGED" })], [v("1", [], 999)]), []);
  });
  it("refuses what Artifact Registry refuses or cannot read", () => {
    assert.throws(
      () => matches(p("DELETE", { tagState: "UNTAGGED", tagPrefixes: ["v"] }), v("1", [], 1)),
      /tagPrefixes with tagState UNTAGGED/,
    );
    assert.throws(
      () => matches(p("DELETE", { olderThan: "14d" }), v("1", [], 1)),
      /olderThan "14d" is not a duration/,
    );
  });
  it("refuses an empty release tag prefix", () =>
    assert.throws(() => cleanupPolicies(""), /must not be empty/));
});
