import * as assert from "node:assert/strict";

import {
  deriveReleaseTags,
  deriveTags,
  floatingMoves,
  identityFlags,
  isRollbackTarget,
} from "../lib/release";

const SHA = "abc1234def5678901234567890abcdef12345678";

describe("tags: derivation table", () => {
  // [what, version, commit, releasedVersions, expected tags]
  const rows: [string, string, string, string[], string[]][] = [
    ["stable, first release", "v1.2.3", SHA, [], ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]],
    [
      "stable, newest (its own tag listed)",
      "v1.2.3",
      SHA,
      ["v1.0.0", "v1.2.2", "v1.2.3"],
      ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"],
    ],
    ["stable without v", "1.2.3", SHA, ["v1.2.3"], ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]],
    [
      "older patch line: no latest",
      "v1.1.9",
      SHA,
      ["v1.1.8", "v1.2.0", "v1.1.9"],
      ["v1.1.9-abc1234", "v1.1.9", "v1.1"],
    ],
    [
      "older patch of the same line: neither moves",
      "v1.2.1",
      SHA,
      ["v1.2.2", "v1.2.1"],
      ["v1.2.1-abc1234", "v1.2.1"],
    ],
    ["newer major exists", "v1.9.0", SHA, ["v2.0.0"], ["v1.9.0-abc1234", "v1.9.0", "v1.9"]],
    ["re-run of an old release", "v1.0.0", SHA, ["v1.0.0", "v1.0.1", "v1.1.0"], ["v1.0.0-abc1234", "v1.0.0"]],
    [
      "newer pre-release does not block latest",
      "v1.2.4",
      SHA,
      ["v1.2.3", "v1.3.0-rc.1"],
      ["v1.2.4-abc1234", "v1.2.4", "v1.2", "latest"],
    ],
    [
      "non-semver tags are ignored",
      "v1.2.4",
      SHA,
      ["v1.2.3", "v-test", "vnext", "v9"],
      ["v1.2.4-abc1234", "v1.2.4", "v1.2", "latest"],
    ],
    ["released list without prefix", "v1.2.4", SHA, ["1.3.0"], ["v1.2.4-abc1234", "v1.2.4", "v1.2"]],
    ["pre-release gets only exact tags", "v1.2.3-rc.1", SHA, [], ["v1.2.3-rc.1-abc1234", "v1.2.3-rc.1"]],
    ["pre-release without v", "2.0.0-beta.2", SHA, ["v1.0.0"], ["v2.0.0-beta.2-abc1234", "v2.0.0-beta.2"]],
    [
      "build metadata: + becomes _",
      "v1.2.3+build.5",
      SHA,
      [],
      ["v1.2.3_build.5-abc1234", "v1.2.3_build.5", "v1.2", "latest"],
    ],
    [
      "build metadata ranks equal to the same version",
      "v1.2.3+build.6",
      SHA,
      ["v1.2.3+build.5"],
      ["v1.2.3_build.6-abc1234", "v1.2.3_build.6", "v1.2", "latest"],
    ],
    [
      "pre-release with build metadata",
      "v1.2.3-rc.1+exp",
      SHA,
      [],
      ["v1.2.3-rc.1_exp-abc1234", "v1.2.3-rc.1_exp"],
    ],
    [
      "uppercase sha is lowercased",
      "v1.2.3",
      SHA.toUpperCase(),
      [],
      ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"],
    ],
    ["short sha of exactly 7", "v1.2.3", "ABC1234", [], ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]],
    ["sha of 12 is cut to 7", "v0.1.0", "0123456789ab", [], ["v0.1.0-0123456", "v0.1.0", "v0.1", "latest"]],
    ["zero major is still stable", "v0.0.1", SHA, ["v0.0.0"], ["v0.0.1-abc1234", "v0.0.1", "v0.0", "latest"]],
    [
      "double-digit minor compares numerically",
      "v1.10.0",
      SHA,
      ["v1.9.9"],
      ["v1.10.0-abc1234", "v1.10.0", "v1.10", "latest"],
    ],
    [
      "v1.9.9 after v1.10.0 does not take latest",
      "v1.9.9",
      SHA,
      ["v1.10.0"],
      ["v1.9.9-abc1234", "v1.9.9", "v1.9"],
    ],
  ];
  for (const [what, version, commit, released, want] of rows) {
    it(`${what}: ${version} → ${want.join(", ")}`, () => {
      assert.deepEqual(deriveTags({ version, commit, releasedVersions: released }), want);
    });
  }

  it("uses a custom prefix for exact and minor tags", () => {
    assert.deepEqual(deriveTags({ version: "rel1.2.3", commit: SHA, releasedVersions: [], prefix: "rel" }), [
      "rel1.2.3-abc1234",
      "rel1.2.3",
      "rel1.2",
      "latest",
    ]);
  });

  it("labels each tag with a stable role", () => {
    assert.deepEqual(
      deriveReleaseTags({ version: "v1.2.3", commit: SHA, releasedVersions: [] }).map((t) => t.role),
      ["sha", "version", "minor", "latest"],
    );
  });
});

describe("tags: rollback (rollbackTo)", () => {
  // [what, version, releasedVersions, rollbackTo, floating tags]
  const rows: [string, string, string[], string | undefined, string[]][] = [
    [
      "the target takes latest and its minor back",
      "v1.2.2",
      ["v1.2.3", "v1.3.0"],
      "v1.2.2",
      ["v1.2", "latest"],
    ],
    ["the target without v in rollbackTo", "v1.2.2", ["v1.2.3"], "1.2.2", ["v1.2", "latest"]],
    [
      "a re-run of the bad release ignores it (and is newest)",
      "v1.2.3",
      ["v1.2.2"],
      "v1.2.2",
      ["v1.2", "latest"],
    ],
    ["the next release ignores it: undone", "v1.2.4", ["v1.2.2", "v1.2.3"], "v1.2.2", ["v1.2", "latest"]],
    ["an older line's release ignores it", "v1.1.9", ["v1.2.2", "v1.2.3"], "v1.2.2", ["v1.1"]],
    ["unset: the usual rule", "v1.2.2", ["v1.2.3"], undefined, []],
    ["empty: the usual rule", "v1.2.2", ["v1.2.3"], "", []],
    ["a pre-release is never a target", "v1.3.0-rc.1", ["v1.2.3"], "v1.3.0-rc.1", []],
    ["build metadata must match too", "v1.2.2+a", ["v1.2.3"], "v1.2.2+b", []],
    ["not semver: ignored", "v1.2.2", ["v1.2.3"], "v1.2", []],
  ];
  for (const [what, version, released, rollbackTo, want] of rows) {
    it(`${what}: ${version}, rollbackTo ${String(rollbackTo)} → ${want.join(", ") || "no floating tag"}`, () => {
      const tags = deriveReleaseTags({ version, commit: SHA, releasedVersions: released, rollbackTo });
      assert.deepEqual(
        tags.filter((t) => t.role === "minor" || t.role === "latest").map((t) => t.tag),
        want,
      );
      assert.deepEqual(floatingMoves(version, released, { rollbackTo }), {
        minor: want.some((t) => t !== "latest"),
        latest: want.includes("latest"),
      });
    });
  }

  it("names the target by the exact tag, not by rank", () => {
    assert.equal(isRollbackTarget("v1.2.2", "v1.2.2"), true);
    assert.equal(isRollbackTarget("v1.2.2", "v1.2.3"), false);
    assert.equal(isRollbackTarget("1.2.2", "v1.2.2"), true);
    assert.equal(isRollbackTarget("v1.2.2", undefined), false);
  });
});

describe("tags: invalid input is a clear error", () => {
  const bad: [string, string, string][] = [
    ["v1.2", SHA, 'version "v1.2" is not a semantic version (e.g. v1.2.3)'],
    ["latest", SHA, 'version "latest" is not a semantic version (e.g. v1.2.3)'],
    ["v01.2.3", SHA, 'version "v01.2.3" is not a semantic version (e.g. v1.2.3)'],
    ["vv1.2.3", SHA, 'version "vv1.2.3" is not a semantic version (e.g. v1.2.3)'],
    ["", SHA, 'version "" is not a semantic version (e.g. v1.2.3)'],
    ["v1.2.3", "xyz1234", 'commit "xyz1234" is not a hex sha of 7-40 characters'],
    ["v1.2.3", "abc123", 'commit "abc123" is not a hex sha of 7-40 characters'],
    ["v1.2.3", `${SHA}0`, `commit "${SHA}0" is not a hex sha of 7-40 characters`],
    ["v1.2.3", "", 'commit "" is not a hex sha of 7-40 characters'],
  ];
  for (const [version, commit, message] of bad) {
    it(`rejects version ${JSON.stringify(version)} / commit ${JSON.stringify(commit)}`, () => {
      assert.throws(() => deriveTags({ version, commit, releasedVersions: [] }), { message });
    });
  }
});

describe("release: cosign identity", () => {
  it("uses the public key in key mode", () => {
    assert.deepEqual(identityFlags({ key: "k.pub", serverUrl: "https://github.com", repository: "a/b" }), [
      "--key",
      "k.pub",
      "--insecure-ignore-tlog=true",
    ]);
  });
  it("keyless: only the release workflow of this repository at a v<digit> tag, GitHub's issuer", () => {
    const flags = identityFlags({ serverUrl: "https://github.com", repository: "acme/cq-source-s3" });
    assert.equal(flags[0], "--certificate-identity-regexp");
    assert.equal(flags[3], "https://token.actions.githubusercontent.com");
    const re = new RegExp(flags[1]);
    const id = (s: string) => `https://github.com/${s}`;
    const table: [string, boolean][] = [
      [id("acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3"), true],
      [id("acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v2.0.0-rc.1"), true],
      [id("acme/cq-source-s3/.github/workflows/release.yml@refs/heads/main"), false],
      [id("acme/cq-source-s3/.github/workflows/preview.yml@refs/tags/v1.2.3"), false],
      [id("acme/cq-source-s3/.github/workflows/releaseXyml@refs/tags/v1.2.3"), false],
      [id("acme/cq-source-s3-fork/.github/workflows/release.yml@refs/tags/v1.2.3"), false],
      [id("evil/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3"), false],
      [`https://evil.example/?${id("acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1")}`, false],
      [id("acme/cq-source-s3/.github/workflows/release.yml@refs/tags/vx"), false],
    ];
    for (const [identity, want] of table) assert.equal(re.test(identity), want, identity);
  });
});
