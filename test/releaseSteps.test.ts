// The release steps' decisions (tooling/releaseSteps.ts) and the rehearsal's `pulumi up`
// substitute's argument parsing (scripts/release/local-up.ts), by tables.
import * as assert from "node:assert/strict";

import {
  checkReleaseOutputs,
  metadataOutputs,
  outputLines,
  policyConfig,
  releasedVersions,
  releaseMetadata,
  type MetadataInput,
} from "../tooling/releaseSteps";
import { deriveTags } from "../lib/release";
import { LOCAL, PROD } from "./mocks";
import { fileBackendDir, parseUpArgs } from "../scripts/release/local-up";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const TIME = "2025-04-10T12:34:56+00:00";
const TAGS = ["v1.1.0", "v1.2.0", "v1.2.3-rc.1", "v1.2.3", "other", ""];

function meta(overrides: Partial<MetadataInput> = {}): MetadataInput {
  return {
    ref: "refs/tags/v1.2.3",
    refName: "v1.2.3",
    commit: SHA,
    commitTime: TIME,
    tags: TAGS,
    ...overrides,
  };
}

describe("releaseSteps: metadata of a tag push", () => {
  it("lists every other v* tag, sorted, pre-releases included, the tag itself and non-v tags left out", () => {
    assert.deepEqual(releaseMetadata(meta()), {
      version: "v1.2.3",
      releasedVersions: ["v1.1.0", "v1.2.0", "v1.2.3-rc.1"],
      commitTime: TIME,
    });
  });

  const released: [string, string[], string[]][] = [
    ["no other tag (first release)", ["v1.0.0"], []],
    ["duplicates and surrounding spaces", [" v1.0.1", "v1.0.1", "v0.9.0 "], ["v0.9.0", "v1.0.1"]],
    [
      "a stray non-semver v tag is kept (the tag rule ignores it)",
      ["v-test", "v2.0.0"],
      ["v-test", "v2.0.0"],
    ],
  ];
  for (const [what, tags, want] of released) {
    it(`releasedVersions: ${what}`, () => assert.deepEqual(releasedVersions("v1.0.0", tags), want));
  }

  const refused: [string, Partial<MetadataInput>, RegExp][] = [
    ["a branch push", { ref: "refs/heads/v1.2.3" }, /releases run on tag pushes only/],
    ["a ref that is not this tag", { ref: "refs/tags/v1.2.4" }, /is not the tag/],
    ["a tag without the v", { ref: "refs/tags/1.2.3", refName: "1.2.3" }, /not a release tag vX\.Y\.Z/],
    ["two components", { ref: "refs/tags/v1.2", refName: "v1.2" }, /not a release tag/],
    ["a leading zero", { ref: "refs/tags/v1.02.3", refName: "v1.02.3" }, /not a release tag/],
    ["a double v", { ref: "refs/tags/vv1.2.3", refName: "vv1.2.3" }, /not a release tag/],
    ["a short sha", { commit: "0123456" }, /not a full lowercase hex sha/],
    ["an uppercase sha", { commit: SHA.toUpperCase() }, /not a full lowercase hex sha/],
    ["a commit time that is not RFC 3339", { commitTime: "yesterday" }, /not RFC 3339/],
  ];
  for (const [what, overrides, message] of refused) {
    it(`refuses ${what}`, () => assert.throws(() => releaseMetadata(meta(overrides)), message));
  }

  it("accepts a pre-release tag", () => {
    assert.equal(
      releaseMetadata(meta({ ref: "refs/tags/v1.3.0-rc.1", refName: "v1.3.0-rc.1" })).version,
      "v1.3.0-rc.1",
    );
  });

  // The point of recomputing before every up attempt: whichever run gets the state lock first,
  // tags are derived from every tag that exists at that moment.
  const order: [string, string, string[], boolean][] = [
    ["v1.2.4 before v1.3.0 is tagged", "v1.2.4", ["v1.2.3"], true],
    ["v1.2.4 after v1.3.0 is tagged (its up got the lock later)", "v1.2.4", ["v1.2.3", "v1.3.0"], false],
    ["v1.3.0 after v1.2.4 was released", "v1.3.0", ["v1.2.3", "v1.2.4"], true],
    ["v1.3.0 while v1.4.0-rc.1 exists", "v1.3.0", ["v1.2.3", "v1.4.0-rc.1"], true],
  ];
  for (const [what, version, existing, latest] of order) {
    it(`latest ${latest ? "moves" : "stays"}: ${what}`, () => {
      const m = releaseMetadata(
        meta({ ref: `refs/tags/${version}`, refName: version, tags: [...existing, version] }),
      );
      const tags = deriveTags({ version, commit: SHA, releasedVersions: m.releasedVersions });
      assert.equal(tags.includes("latest"), latest);
    });
  }

  it("writes single-line $GITHUB_OUTPUT lines", () => {
    assert.equal(
      outputLines(metadataOutputs(releaseMetadata(meta()))),
      `version=v1.2.3\nreleased-versions=["v1.1.0","v1.2.0","v1.2.3-rc.1"]\ncommit-time=${TIME}\n`,
    );
  });

  it("refuses a value that could forge another output", () => {
    assert.throws(() => outputLines({ refs: "a\nversion=v9.9.9" }), /not a single-line/);
    assert.throws(() => outputLines({ "Bad Key": "x" }), /not a single-line/);
  });
});

describe("releaseSteps: the stack outputs of a release", () => {
  const DIGEST = "sha256:" + "ab".repeat(32);
  const GCR = "gcr.io/acme-prod/cq-source-s3";
  const GHCR = "ghcr.io/acme/cq-source-s3";
  const expect = {
    version: "v1.2.3",
    commit: SHA,
    serverUrl: "https://github.com",
    repository: "acme/cq-source-s3",
  };
  const outputs = (o: Record<string, unknown> = {}) => ({
    imageDigest: DIGEST,
    imageRefs: { gcr: `${GCR}@${DIGEST}`, ghcr: `${GHCR}@${DIGEST}` },
    imageTags: ["v1.2.3-0123456", "v1.2.3"],
    platforms: ["linux/amd64", "linux/arm64"],
    version: "v1.2.3",
    commit: SHA,
    ...o,
  });

  it("gives every registry's ref by digest, ghcr first, and the keyless signing identity", () => {
    const checked = checkReleaseOutputs(outputs(), expect);
    assert.deepEqual(checked.refs, [`${GHCR}@${DIGEST}`, `${GCR}@${DIGEST}`]);
    assert.equal(
      checked.signingIdentity,
      "https://github.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3",
    );
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    [
      "another version (a stale stack)",
      { version: "v1.2.2" },
      /'version' is "v1.2.2", but the release is "v1.2.3"/,
    ],
    ["another commit", { commit: "f".repeat(40) }, /'commit' is "f{40}", but the release commit is/],
    ["no commit", { commit: undefined }, /'commit' is undefined/],
    [
      "a partial push (registries disagree)",
      { imageRefs: { gcr: `${GCR}@sha256:${"cd".repeat(32)}` } },
      /does not carry imageDigest/,
    ],
    [
      "no image at all",
      { imageDigest: undefined, imageRefs: undefined },
      /missing 'imageDigest', 'imageRefs'/,
    ],
    [
      "a ref with upper case",
      { imageRefs: { gcr: `gcr.io/Acme/x@${DIGEST}` } },
      /must be <repository>@<digest>/,
    ],
  ];
  for (const [what, o, message] of refused) {
    it(`refuses ${what}`, () => assert.throws(() => checkReleaseOutputs(outputs(o), expect), message));
  }

  it("accepts the local registry's host:port refs (the rehearsal)", () => {
    const local = `127.0.0.1:5000/cq-source-s3-release-rehearsal@${DIGEST}`;
    assert.deepEqual(checkReleaseOutputs(outputs({ imageRefs: { local } }), expect).refs, [local]);
  });
});

describe("releaseSteps: the policy pack's config from the stack's config", () => {
  // `pulumi config --json` of a stack: every key with its value; secrets without one.
  const configJson = (values: Record<string, string>, secrets: string[] = []) =>
    Object.fromEntries([
      ...Object.entries(values).map(([k, v]) => [`cq-source-s3-release:${k}`, { value: v, secret: false }]),
      ...secrets.map((k) => [`cq-source-s3-release:${k}`, { secret: true }]),
    ]);
  const allowed = (c: Record<string, unknown>) =>
    (policyConfig(c)["images-push-to-allowed-registries"] as { allowedRegistries: string[] })
      .allowedRegistries;

  it("allows the prod stack's gcr.io project and ghcr.io owner, nothing else", () => {
    const secrets = ["ghcrToken", "pulumiConfigPassphrase"];
    const plainProd = Object.fromEntries(Object.entries(PROD).filter(([k]) => !secrets.includes(k)));
    assert.deepEqual(allowed(configJson(plainProd, secrets)), [
      "gcr.io/example-cq-release/",
      "ghcr.io/example-org/",
    ]);
  });
  it("allows the local stack's registry only", () => {
    assert.deepEqual(allowed(configJson(LOCAL)), ["127.0.0.1:5000/"]);
  });
  it("refuses a stack config the program would refuse, naming the key", () => {
    assert.throws(
      () => policyConfig(configJson({ ...LOCAL, localRegistry: "http://x" })),
      /localRegistry: invalid value/,
    );
    assert.throws(() => policyConfig("x"), /expected an object/);
  });
});

describe("local-up: the rehearsal's `pulumi up` substitute", () => {
  const base = ["--stack", "local", "--yes", "--non-interactive"];

  it("takes the arguments up.sh gives `pulumi up`", () => {
    const args = parseUpArgs([
      ...base,
      "--diff",
      "--policy-pack",
      "policy",
      "--policy-pack-config",
      "/tmp/p.json",
      "--message",
      "release v1.2.3 (sha)",
      "--target",
      "urn:a",
      "--target",
      "urn:b$**::plugin-*",
    ]);
    assert.equal(args.stack, "local");
    assert.deepEqual(args.targets, ["urn:a", "urn:b$**::plugin-*"]);
    assert.equal(args.targetDependents, false);
    assert.equal(args.policyPacks.length, 1);
    assert.ok(args.policyPacks[0].endsWith("/policy"));
    assert.deepEqual(args.policyPackConfigs, ["/tmp/p.json"]);
    assert.equal(args.message, "release v1.2.3 (sha)");
    assert.equal(args.diff, true);
  });

  const refused: [string, string[], RegExp][] = [
    ["an unknown flag (drift from up.sh)", [...base, "--refresh"], /Unknown option '--refresh'/],
    ["a positional", [...base, "extra"], /unexpected arguments/],
    ["no --yes", ["--stack", "local", "--non-interactive"], /expected --stack S --yes --non-interactive/],
  ];
  for (const [what, argv, message] of refused) {
    it(`refuses ${what}`, () => assert.throws(() => parseUpArgs(argv), message));
  }

  it("only runs against a file:// backend", () => {
    assert.equal(fileBackendDir("file:///tmp/x/.pulumi-local"), "/tmp/x/.pulumi-local");
    assert.throws(() => fileBackendDir("gs://bucket"), /must be a file:\/\/ backend/);
    assert.throws(() => fileBackendDir(undefined), /must be a file:\/\/ backend/);
  });
});
