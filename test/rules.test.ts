import * as assert from "node:assert/strict";

import { MAX_ATTRIBUTE_BYTES, RULES, RuleName, violates } from "../lib/rules";

// Every rule of lib/rules.ts, with values on both sides of each of its boundaries (length, first
// and last character, the characters it allows, the sequences it forbids). The table must cover
// every rule: a rule added without rows fails the first test.

const x = (n: number, c = "a"): string => c.repeat(n);
const branchMax = MAX_ATTRIBUTE_BYTES - "refs/heads/".length; // 116

const TABLE: Record<RuleName, { ok: string[]; bad: string[] }> = {
  gcpProject: {
    ok: ["abcdef", `a${x(28)}1`, "my-project-1"],
    bad: ["abcde", `a${x(29)}1`, "1abcdef", "abcde-", "Abcdef", "abc_def", "abc def", 'abc"def'],
  },
  gcpRegion: {
    ok: ["us-central1", "europe-west4", "northamerica-northeast2"],
    bad: ["us", "uscentral1", "us-central", "US-central1", "us-central1a", "us-central-"],
  },
  githubOwner: {
    ok: ["a", "A-b", x(39), "infobloxopen"],
    bad: ["", x(40), "-a", "a-", "a--b", "a_b", "a.b", "a b"],
  },
  githubRepository: {
    ok: ["a", "cq-source-s3", "a.b_c-d", x(100), "..."],
    bad: ["", ".", "..", x(101), "a/b", "a b", 'a"b'],
  },
  githubOwnerId: {
    ok: ["1", "1234567", `1${x(19, "0")}`],
    bad: ["", "0", "01", `1${x(20, "0")}`, "-1", "1e3", " 1"],
  },
  githubRepositoryId: {
    ok: ["1", "765432109", `9${x(19, "9")}`],
    bad: ["", "0", "007", `9${x(20, "9")}`, "12a"],
  },
  branch: {
    ok: ["main", "release/v1.x", "a", x(branchMax), "feat_1.2-b"],
    bad: [
      "",
      x(branchMax + 1),
      "-main",
      "/main",
      ".main",
      "main/",
      "main.",
      "a..b",
      "a//b",
      "a@{b",
      "main.lock",
      "a b",
      'a"b',
      "a\\b",
      "é",
    ],
  },
  wifId: {
    ok: ["abcd", x(32), "github-actions", "a-1b"],
    bad: ["abc", x(33), "gcp-pool", "-abcd", "abcd-", "ABCD", "ab_cd"],
  },
  serviceAccountId: {
    ok: ["abcdef", `a${x(28)}1`, "cq-release"],
    bad: ["abcde", `a${x(29)}1`, "1abcde", "abcde-", "abc_de", "Abcdef"],
  },
  bucket: {
    ok: ["abc", x(63), "my.state_bucket-1", "0ab"],
    bad: ["ab", x(64), "gs://abc", ".abc", "abc.", "-abc", "a..b", "ABC", "a b"],
  },
  tagPrefix: {
    ok: ["v", "release/v", "V", `a${x(31)}`, "cq-source-s3-v"],
    bad: ["", "1v", "v1", `a${x(32)}`, "a..b", "a//b", "v b", 'v"'],
  },
  workflow: {
    ok: ["release.yml", "release.yaml", "a.yml", `${x(100)}.yml`, "_x.yml"],
    bad: ["release", "release.json", ".yml", `${x(101)}.yml`, "a/b.yml", "a b.yml", ".x.yml"],
  },
  environment: {
    ok: ["release", "a", x(100), "prod-1.x_y"],
    bad: ["", x(101), ".hidden", "a b", "a/b", 'a"'],
  },
  hostPort: {
    ok: ["127.0.0.1:5000", "localhost:1", "registry.example.com:443", `${x(63)}:80`],
    bad: [
      "127.0.0.1",
      ":5000",
      "host:",
      "host:123456",
      `${x(64)}:80`,
      "-host:80",
      "host-:80",
      "https://h:1",
      "h :1",
    ],
  },
  imageName: {
    ok: ["cq-source-s3", "a", "org/cq-source-s3", "a__b", "a.b", "a---b"],
    bad: ["", "Cq", "a/", "/a", "a..b", "a___b", "-a", "a-", "a b", "a:tag"],
  },
  commit: {
    ok: [x(7, "f"), x(40, "0"), "ABC1234"],
    bad: [x(6, "f"), x(41, "0"), "abc123g", "", " abc1234"],
  },
  builder: {
    ok: ["local", "a", `a${x(62)}`, "b_1.x-y"],
    bad: ["", `a${x(63)}`, "-a", "_a", ".a", "a b", "a/b"],
  },
  imageRef: {
    ok: [
      "127.0.0.1:5000/rehearsal/cq-source-s3",
      "ghcr.io/org/cq-source-s3:v1.2.3",
      `gcr.io/p/cq-source-s3@sha256:${x(64, "a")}`,
      `ghcr.io/org/img:latest@sha256:${x(64, "0")}`,
      `h/p:_${x(127)}`,
    ],
    bad: [
      "cq-source-s3",
      "https://ghcr.io/org/img",
      "ghcr.io/Org/img",
      "ghcr.io/org/img:",
      `h/p:_${x(128)}`,
      `ghcr.io/org/img@sha256:${x(63, "a")}`,
      `ghcr.io/org/img@sha256:${x(64, "A")}`,
      "ghcr.io/org/img tag",
    ],
  },
};

describe("rules: every rule, accepted and refused at each boundary", () => {
  it("has rows for every rule, and every rule says what it expects", () => {
    assert.deepEqual(Object.keys(TABLE).sort(), Object.keys(RULES).sort());
    for (const [name, rule] of Object.entries(RULES)) {
      assert.ok(rule.expected.length > 10, `${name}: expected text ${JSON.stringify(rule.expected)}`);
    }
  });

  for (const [name, rows] of Object.entries(TABLE) as [RuleName, { ok: string[]; bad: string[] }][]) {
    it(`${name}: accepts ${rows.ok.length}, refuses ${rows.bad.length}`, () => {
      for (const v of rows.ok) assert.equal(violates(name, v), false, `${name} refused ${JSON.stringify(v)}`);
      for (const v of rows.bad)
        assert.equal(violates(name, v), true, `${name} accepted ${JSON.stringify(v)}`);
    });
  }

  it("refuses every value that is not a string, whatever the rule", () => {
    for (const name of Object.keys(RULES) as RuleName[]) {
      for (const v of [undefined, null, 7, true, {}, ["main"]]) {
        assert.equal(violates(name, v), true, `${name} accepted ${JSON.stringify(v)}`);
      }
    }
  });

  it("keeps a branch's ref within a WIF attribute, counting bytes not characters", () => {
    const multibyteFree = x(branchMax);
    assert.equal(violates("branch", multibyteFree), false);
    // The rule's characters are ASCII, so bytes equal characters; the bound is on refs/heads/<branch>.
    assert.equal(Buffer.byteLength(`refs/heads/${multibyteFree}`, "utf8"), MAX_ATTRIBUTE_BYTES);
  });
});
