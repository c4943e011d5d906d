// The exact-tag guard: the decision by tables (tooling/exactTags.ts), then the whole guard
// (tooling/exactTagGuard.ts) and the registry client (tooling/registryClient.ts) against an
// in-process registry on 127.0.0.1 (plain HTTP, an OS-assigned port) that speaks the distribution
// API's token, basic and redirect dances.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { parseConfig } from "../lib/config";
import { exactTagGuard } from "../tooling/exactTagGuard";
import {
  decideExactTags,
  EXACT_TAG_OVERRIDE_ENV,
  type ExactTagDecision,
  type ExactTagObservation,
  type ExistingIndex,
  type RegistryObservation,
} from "../tooling/exactTags";
import { type ImageRepository, loginCredentials } from "../lib/imageRegistries";
import { parseChallenge, RegistryClient } from "../tooling/registryClient";
import { Registry } from "../scripts/lib/registry";
import { FakeRegistry, OCI_INDEX, OCI_MANIFEST, PLATFORMS, pushRelease, sha256 } from "./fakeRegistry";
import { PROD, source } from "./mocks";

const COMMIT = "abc1234def5678901234567890abcdef12345678";
const OTHER = "fedcba9876543210fedcba9876543210fedcba98";
const A = sha256("amd64 manifest");
const B = sha256("arm64 manifest");
const I = sha256("index");
const J = sha256("another index");

describe("exact tags: the decision", () => {
  const index = (
    digest: string,
    revision: string | undefined,
    manifests: ExistingIndex["manifests"] = [
      { platform: "linux/amd64", digest: A },
      { platform: "linux/arm64", digest: B },
    ],
    mediaType = OCI_INDEX,
  ): ExistingIndex => ({ digest, mediaType, manifests, revision });
  const reg = (key: "gcr" | "ghcr", over: Partial<RegistryObservation> = {}): RegistryObservation => ({
    key,
    repository: `${key}.io/o/cq-source-s3`,
    has: { [A]: true, [B]: true },
    ...over,
  });
  const obs = (registries: RegistryObservation[], ...indexes: ExistingIndex[]): ExactTagObservation => ({
    version: "v1.2.3",
    versionTag: "v1.2.3",
    shaTag: "v1.2.3-abc1234",
    commit: COMMIT,
    platforms: PLATFORMS,
    registries,
    indexes: Object.fromEntries(indexes.map((i) => [i.digest, i])),
  });
  const here = { version: I, sha: I };
  const reuse = { action: "reuse", indexDigest: I, platformDigests: { "linux/amd64": A, "linux/arm64": B } };

  // [behaviour, observation, settings, expected: "build", the reuse, or a RegExp the refusal matches]
  const rows: [string, ExactTagObservation, Record<string, string>, "build" | typeof reuse | RegExp][] = [
    ["a new release (no exact tag anywhere) is built", obs([reg("gcr"), reg("ghcr")]), {}, "build"],
    [
      "a re-run (this commit's index everywhere) re-tags without building",
      obs([reg("gcr", here), reg("ghcr", here)], index(I, COMMIT)),
      {},
      reuse,
    ],
    [
      "a lost state with an unreadable commit label still re-tags, by this commit's sha tag",
      obs([reg("gcr", here), reg("ghcr", here)], index(I, undefined)),
      {},
      reuse,
    ],
    [
      "a run that died between registries re-tags, the platform images being in both",
      obs([reg("gcr", here), reg("ghcr")], index(I, COMMIT)),
      {},
      reuse,
    ],
    [
      "a run that died after the version index but before the sha index re-tags (commit from the label)",
      obs([reg("gcr", { version: I }), reg("ghcr", { version: I })], index(I, COMMIT)),
      {},
      reuse,
    ],
    [
      "only the sha tag present (the version index never pushed) re-tags",
      obs([reg("gcr", { sha: I }), reg("ghcr")], index(I, undefined)),
      {},
      reuse,
    ],
    [
      "a registry lacking the platform images refuses (it cannot be re-tagged without a rebuild)",
      obs([reg("gcr", here), reg("ghcr", { has: { [A]: true } })], index(I, COMMIT)),
      {},
      /ghcr\.io\/o\/cq-source-s3 lacks the linux\/arm64 image\(s\) of sha256:/,
    ],
    [
      "the tag re-created on another commit is refused, naming registry, tag, digest and commit",
      obs([reg("gcr", { version: I }), reg("ghcr", { version: I })], index(I, OTHER)),
      {},
      new RegExp(
        `^exact tags are immutable: v1\\.2\\.3 is commit ${OTHER}'s build \\(${I}\\), not this commit's\\. ` +
          `Existing: gcr\\.io/o/cq-source-s3:v1\\.2\\.3 is ${I}; ghcr\\.io/o/cq-source-s3:v1\\.2\\.3 is ${I}\\. ` +
          `This run \\(commit ${COMMIT}\\) pushed nothing\\..*set ALLOW_EXACT_TAG_MOVE=v1\\.2\\.3 for this one run`,
      ),
    ],
    [
      "another commit's tag moves only with the override naming this version (a build)",
      obs([reg("gcr", { version: I }), reg("ghcr", { version: I })], index(I, OTHER)),
      { override: "v1.2.3" },
      "build",
    ],
    [
      "an override naming another version is ignored",
      obs([reg("gcr", { version: I }), reg("ghcr")], index(I, OTHER)),
      { override: "v1.2.4" },
      /not this commit's/,
    ],
    [
      "a version tag of unknown commit without this commit's sha tag is refused",
      obs([reg("gcr", { version: I }), reg("ghcr")], index(I, undefined)),
      {},
      /whose commit is unreadable, and this commit's v1\.2\.3-abc1234 is absent/,
    ],
    [
      "registries holding different indexes are refused",
      obs([reg("gcr", here), reg("ghcr", { version: J, sha: J })], index(I, COMMIT), index(J, COMMIT)),
      {},
      /the exact tags of v1\.2\.3 hold 2 different indexes/,
    ],
    [
      "an index of the platforms in another order is refused (a re-tag would change the digest)",
      obs(
        [reg("gcr", here), reg("ghcr", here)],
        index(I, COMMIT, [
          { platform: "linux/arm64", digest: B },
          { platform: "linux/amd64", digest: A },
        ]),
      ),
      {},
      /joins \[linux\/arm64, linux\/amd64\] but this run builds \[linux\/amd64, linux\/arm64\]/,
    ],
    [
      "an index with manifests the program would not join (an attestation) is refused",
      obs(
        [reg("gcr", here), reg("ghcr", here)],
        index(I, COMMIT, [
          { platform: "linux/amd64", digest: A },
          { platform: "linux/arm64", digest: B },
          { platform: "unknown/unknown", digest: J },
        ]),
      ),
      {},
      /joins \[linux\/amd64, linux\/arm64, unknown\/unknown\]/,
    ],
    [
      "a single-platform manifest under the tag is refused",
      obs([reg("gcr", here), reg("ghcr", here)], index(I, COMMIT, [], OCI_MANIFEST)),
      {},
      /is not a readable image index \(application\/vnd\.oci\.image\.manifest\.v1\+json\)/,
    ],
    [
      "a rollback re-tags the release's images",
      obs([reg("gcr", here), reg("ghcr", here)], index(I, COMMIT)),
      { rollbackTo: "v1.2.3" },
      reuse,
    ],
    [
      "a rollback to a release with no image anywhere is refused (it never builds)",
      obs([reg("gcr"), reg("ghcr")]),
      { rollbackTo: "v1.2.3" },
      /rollbackTo is v1\.2\.3, but no registry holds v1\.2\.3 or v1\.2\.3-abc1234/,
    ],
    [
      "a rollback never moves exact tags, override or not",
      obs([reg("gcr", { version: I }), reg("ghcr", { version: I })], index(I, OTHER)),
      { rollbackTo: "v1.2.3", override: "v1.2.3" },
      /A rollback cannot move exact tags/,
    ],
    [
      "another release while rollbackTo is set decides as usual",
      obs([reg("gcr"), reg("ghcr")]),
      { rollbackTo: "v1.2.2" },
      "build",
    ],
    [
      "a registry that denied the reads counts as absent: nothing anywhere is a build",
      obs([reg("gcr"), reg("ghcr", { denied: true, has: {} })]),
      {},
      "build",
    ],
  ];
  for (const [what, observation, settings, want] of rows) {
    it(what, () => {
      const got: ExactTagDecision = decideExactTags(observation, settings);
      if (want instanceof RegExp) {
        assert.equal(got.action, "refuse", JSON.stringify(got));
        assert.match((got as { message: string }).message, want);
      } else if (want === "build") {
        assert.equal(got.action, "build", JSON.stringify(got));
      } else {
        assert.deepEqual({ ...got, notes: undefined }, { ...want, notes: undefined });
      }
    });
  }

  // Every note and message in full: the run's log is what an operator reads when a release stops,
  // so its words are behaviour (the mutation pass showed regex checks left them free).
  const [gcrLine, ghcrLine] = ["gcr", "ghcr"].map((k) => `${k}.io/o/cq-source-s3`);
  const absentBoth = (repo: string) => `${repo}: v1.2.3 absent, v1.2.3-abc1234 absent`;
  const heldBoth = (repo: string) => `${repo}: v1.2.3 ${I.slice(0, 19)}, v1.2.3-abc1234 ${I.slice(0, 19)}`;
  const noteRows: [string, ExactTagObservation, Record<string, string>, ExactTagDecision][] = [
    [
      "a new release, one registry's reads denied",
      obs([reg("gcr"), reg("ghcr", { denied: true, has: {} })]),
      {},
      {
        action: "build",
        notes: [
          absentBoth(gcrLine),
          `${absentBoth(ghcrLine)} (reads denied to the credentials given: counted as absent)`,
          "v1.2.3 exists nowhere: a new release, built",
        ],
      },
    ],
    [
      "an override naming another version and a rollback pending for another one",
      obs([reg("gcr"), reg("ghcr")]),
      { override: "v9.9.9", rollbackTo: "v1.2.2" },
      {
        action: "build",
        notes: [
          "WARNING: rollbackTo is v1.2.2; this release (v1.2.3) ignores it and takes latest / its vX.Y by the " +
            "usual rule, which undoes the rollback if it is the newest",
          "ALLOW_EXACT_TAG_MOVE=v9.9.9 does not name this release (v1.2.3): ignored",
          absentBoth(gcrLine),
          absentBoth(ghcrLine),
          "v1.2.3 exists nowhere: a new release, built",
        ],
      },
    ],
    [
      "empty settings say nothing about overrides or rollbacks",
      obs([reg("gcr", here), reg("ghcr", here)], index(I, COMMIT)),
      { override: "", rollbackTo: "" },
      {
        ...reuse,
        notes: [
          heldBoth(gcrLine),
          heldBoth(ghcrLine),
          `v1.2.3 is already this commit's ${I} in every registry: re-tagging its platform images, no build`,
        ],
      } as ExactTagDecision,
    ],
    [
      "a run that died between registries names the registries that hold it",
      obs([reg("gcr", here), reg("ghcr")], index(I, COMMIT)),
      {},
      {
        ...reuse,
        notes: [
          heldBoth(gcrLine),
          absentBoth(ghcrLine),
          `v1.2.3 is already this commit's ${I} in gcr: re-tagging its platform images, no build`,
        ],
      } as ExactTagDecision,
    ],
    [
      "a rollback says it moves the floating tags",
      obs([reg("gcr", here), reg("ghcr", here)], index(I, COMMIT)),
      { rollbackTo: "v1.2.3" },
      {
        ...reuse,
        notes: [
          heldBoth(gcrLine),
          heldBoth(ghcrLine),
          `v1.2.3 is already this commit's ${I} in every registry: re-tagging its platform images, no build; ` +
            "rollback: latest and its minor tag are moved onto it",
        ],
      } as ExactTagDecision,
    ],
    [
      "the override that moves tags names every existing tag and digest",
      obs([reg("gcr", here), reg("ghcr", { version: I })], index(I, OTHER)),
      { override: "v1.2.3" },
      {
        action: "build",
        notes: [
          heldBoth(gcrLine),
          `${ghcrLine}: v1.2.3 ${I.slice(0, 19)}, v1.2.3-abc1234 absent`,
          `WARNING: ALLOW_EXACT_TAG_MOVE=v1.2.3: rebuilding and MOVING the exact tags of v1.2.3 (v1.2.3 is commit ` +
            `${OTHER}'s build (${I}), not this commit's; ${gcrLine}:v1.2.3 is ${I}; ${gcrLine}:v1.2.3-abc1234 is ` +
            `${I}; ${ghcrLine}:v1.2.3 is ${I}); the old digests keep their signatures, the tags no longer point at them`,
        ],
      },
    ],
  ];
  for (const [what, observation, settings, want] of noteRows) {
    it(`says in full what it decided: ${what}`, () => {
      assert.deepEqual(decideExactTags(observation, settings), want);
    });
  }

  const how =
    "Only to move the tags anyway (dangerous: whoever pulls v1.2.3 gets other content, its signature stays on " +
    'the old digest) set ALLOW_EXACT_TAG_MOVE=v1.2.3 for this one run (docs/release.md, "Exact tags").';
  const refusal = (problem: string, existing: string, tail = how) =>
    `exact tags are immutable: ${problem}. Existing: ${existing}. This run (commit ${COMMIT}) pushed nothing. ` +
    `If v1.2.3 was re-created on another commit, release a new version instead. ${tail}`;
  const messageRows: [string, ExactTagObservation, Record<string, string>, string][] = [
    [
      "a rollback to nothing",
      obs([reg("gcr"), reg("ghcr")]),
      { rollbackTo: "v1.2.3" },
      "rollbackTo is v1.2.3, but no registry holds v1.2.3 or v1.2.3-abc1234: a rollback only re-points latest " +
        "and vX.Y at an existing release's images, it never builds one",
    ],
    [
      "a rollback onto another commit's tags",
      obs([reg("gcr", { sha: I }), reg("ghcr")], index(I, OTHER)),
      { rollbackTo: "v1.2.3" },
      refusal(
        `v1.2.3 is commit ${OTHER}'s build (${I}), not this commit's`,
        `${gcrLine}:v1.2.3-abc1234 is ${I}`,
        "A rollback cannot move exact tags.",
      ),
    ],
    [
      "a registry lacking a platform image",
      obs([reg("gcr", here), reg("ghcr", { has: { [B]: true } })], index(I, COMMIT)),
      {},
      refusal(
        `${ghcrLine} lacks the linux/amd64 image(s) of ${I}, so it cannot be re-tagged there without a rebuild`,
        `${gcrLine}:v1.2.3 is ${I}; ${gcrLine}:v1.2.3-abc1234 is ${I}`,
      ),
    ],
    [
      "a registry lacking both platform images",
      obs([reg("gcr", here), reg("ghcr", { has: {} })], index(I, COMMIT)),
      {},
      refusal(
        `${ghcrLine} lacks the linux/amd64, linux/arm64 image(s) of ${I}, so it cannot be re-tagged there without ` +
          "a rebuild",
        `${gcrLine}:v1.2.3 is ${I}; ${gcrLine}:v1.2.3-abc1234 is ${I}`,
      ),
    ],
    [
      "an index of other platforms, one without a platform",
      obs(
        [reg("gcr", { sha: I }), reg("ghcr")],
        index(I, COMMIT, [{ platform: "linux/amd64", digest: A }, { digest: B }]),
      ),
      {},
      refusal(
        `the index ${I} joins [linux/amd64, <none>] but this run builds [linux/amd64, linux/arm64] in that ` +
          "order, so re-tagging it would not give the same digest",
        `${gcrLine}:v1.2.3-abc1234 is ${I}`,
      ),
    ],
    [
      "this commit's sha tag on a digest whose index was not read",
      obs([reg("gcr", { sha: I }), reg("ghcr")]),
      {},
      refusal(`${I} is not a readable image index (unread)`, `${gcrLine}:v1.2.3-abc1234 is ${I}`),
    ],
  ];
  for (const [what, observation, settings, want] of messageRows) {
    it(`refuses in full words: ${what}`, () => {
      const got = decideExactTags(observation, settings);
      assert.equal(got.action, "refuse", JSON.stringify(got));
      assert.equal((got as { message: string }).message, want);
    });
  }

  it("re-tags a Docker manifest list like an OCI index", () => {
    const list = index(I, COMMIT, undefined, "application/vnd.docker.distribution.manifest.list.v2+json");
    assert.deepEqual(
      { ...decideExactTags(obs([reg("gcr", here), reg("ghcr", here)], list)), notes: [] },
      { ...reuse, notes: [] },
    );
  });

  it("an unreadable commit is enough when any registry holds this commit's sha tag on the digest", () => {
    const got = decideExactTags(obs([reg("gcr", here), reg("ghcr", { version: I })], index(I, undefined)));
    assert.equal(got.action, "reuse", JSON.stringify(got));
  });

  it("logs what each registry holds, and loudly what an override or a pending rollback does", () => {
    const moved = decideExactTags(obs([reg("gcr", { version: I }), reg("ghcr")], index(I, OTHER)), {
      override: "v1.2.3",
    });
    assert.ok(
      moved.notes.some((n) =>
        n.startsWith(`WARNING: ${EXACT_TAG_OVERRIDE_ENV}=v1.2.3: rebuilding and MOVING`),
      ),
    );
    assert.ok(moved.notes.includes(`gcr.io/o/cq-source-s3: v1.2.3 ${I.slice(0, 19)}, v1.2.3-abc1234 absent`));
    const pending = decideExactTags(obs([reg("gcr"), reg("ghcr")]), { rollbackTo: "v1.2.2" });
    assert.ok(
      pending.notes.some((n) =>
        n.startsWith("WARNING: rollbackTo is v1.2.2; this release (v1.2.3) ignores it"),
      ),
    );
    const rollback = decideExactTags(obs([reg("gcr", here), reg("ghcr", here)], index(I, COMMIT)), {
      rollbackTo: "v1.2.3",
    });
    assert.ok(rollback.notes.some((n) => n.includes("rollback: latest and its minor tag are moved onto it")));
  });
});

describe("exact tags: the guard against a registry (gcr + ghcr paths on one in-process registry)", () => {
  const registry = new FakeRegistry();
  const GCR = "example-cq-release/cq-source-s3";
  const GHCR = "example-org/cq-source-s3";
  const env = { GCR_TOKEN: "ya29.token", GHCR_USERNAME: "release-bot", GHCR_TOKEN: "ghs_token" };
  const cfg = (over: Record<string, string> = {}) =>
    parseConfig(source({ ...PROD, commit: COMMIT, ...over }));
  // Each registry's client, pointed at the fake one, with the credentials its login entry names.
  const reader = (e: Record<string, string | undefined>) => (repo: ImageRepository) =>
    new RegistryClient(registry.address, { scheme: "http", credentials: loginCredentials(repo.key, e) });

  before(() => registry.start());
  after(() => registry.stop());
  beforeEach(() => {
    registry.repos.clear();
    registry.denied.clear();
    registry.requests.length = 0;
    registry.storageRequests.length = 0;
    registry.auth = {
      kind: "bearer",
      users: { oauth2accesstoken: "ya29.token", "release-bot": "ghs_token" },
    };
  });

  it("builds a new release when neither registry has its tags", async () => {
    registry.auth = { kind: "none" };
    assert.equal((await exactTagGuard(cfg(), {}, reader({}))).action, "build");
  });

  it("re-tags a re-run: reads tags, index and commit label through the token flow and the blob redirect", async () => {
    const tags = ["v1.2.3", "v1.2.3-abc1234"];
    const pushed = pushRelease(registry.repo(GHCR), COMMIT, tags);
    pushRelease(registry.repo(GCR), COMMIT, tags);
    registry.auth = { kind: "none" };
    const got = await exactTagGuard(cfg(), {}, reader({}));
    assert.deepEqual(
      { ...got, notes: [] },
      {
        action: "reuse",
        indexDigest: pushed.index,
        platformDigests: pushed.platforms,
        notes: [],
      },
    );
    assert.ok(registry.storageRequests.length > 0, "the config blob was read through the redirect");
  });

  it("authenticates with each registry's login variables (basic to the realm, then the bearer token), never to storage", async () => {
    pushRelease(registry.repo(GHCR), COMMIT, ["v1.2.3"]);
    pushRelease(registry.repo(GCR), COMMIT, ["v1.2.3"]);
    assert.equal((await exactTagGuard(cfg(), env, reader(env))).action, "reuse");
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
    const tokenCall = (path: string) =>
      registry.requests.find(
        (r) =>
          r.url === `/token?service=fake.registry&scope=${encodeURIComponent(`repository:${path}:pull`)}`,
      );
    assert.equal(tokenCall(GCR)?.authorization, basic("oauth2accesstoken", "ya29.token"));
    assert.equal(tokenCall(GHCR)?.authorization, basic("release-bot", "ghs_token"));
    assert.ok(
      registry.requests.some(
        (r) => r.authorization === `Bearer tok-oauth2accesstoken-repository:${GCR}:pull`,
      ),
    );
    assert.ok(registry.storageRequests.length > 0);
    for (const r of registry.storageRequests) assert.equal(r.authorization, undefined, r.url);
  });

  it("fails when the realm refuses gcr's credentials (an expired GCR_TOKEN): never counted as absent", async () => {
    registry.auth = { kind: "bearer", users: { "release-bot": "ghs_token" } };
    await assert.rejects(
      exactTagGuard(cfg(), env, reader(env)),
      /token for 127\.0\.0\.1:\d+ \(repository:example-cq-release\/cq-source-s3:pull\).*HTTP 401 \(UNAUTHORIZED: bad credentials\): the credentials were refused/,
    );
  });

  it("refuses a version tag that another commit's build holds, naming registry, tag, digest and commit", async () => {
    const theirs = pushRelease(registry.repo(GHCR), OTHER, ["v1.2.3", "v1.2.3-fedcba9"]);
    const got = await exactTagGuard(cfg(), env, reader(env));
    assert.equal(got.action, "refuse");
    const message = (got as { message: string }).message;
    assert.ok(message.includes(`v1.2.3 is commit ${OTHER}'s build (${theirs.index})`), message);
    assert.ok(message.includes(`ghcr.io/${GHCR}:v1.2.3 is ${theirs.index}`), message);
    assert.ok(message.includes(`${EXACT_TAG_OVERRIDE_ENV}=v1.2.3`), message);
  });

  it("lets the override naming this version build (and move the tags)", async () => {
    pushRelease(registry.repo(GHCR), OTHER, ["v1.2.3"]);
    const e = { ...env, [EXACT_TAG_OVERRIDE_ENV]: "v1.2.3" };
    assert.equal((await exactTagGuard(cfg(), e, reader(e))).action, "build");
  });

  it("counts ghcr's 'denied' for a package never pushed as absent, but fails on gcr's", async () => {
    registry.denied.add(GHCR);
    assert.equal((await exactTagGuard(cfg(), env, reader(env))).action, "build");
    registry.denied.add(GCR);
    await assert.rejects(
      exactTagGuard(cfg(), env, reader(env)),
      /HTTP 403 \(DENIED: requested access to the resource is denied\): the credentials were refused/,
    );
  });

  it("fails (never passes) when a registry wants credentials the job did not provide", async () => {
    registry.auth = { kind: "basic", users: { u: "p" } };
    await assert.rejects(
      exactTagGuard(cfg(), {}, reader({})),
      /HTTP 401 \(UNAUTHORIZED\): no credentials given/,
    );
  });

  it("re-tags a rollback to an earlier release, which a newer one followed", async () => {
    const old = pushRelease(registry.repo(GHCR), COMMIT, ["v1.2.2", "v1.2.2-abc1234"]);
    pushRelease(registry.repo(GCR), COMMIT, ["v1.2.2", "v1.2.2-abc1234"]);
    const got = await exactTagGuard(
      cfg({ version: "v1.2.2", releasedVersions: '["v1.2.3"]', rollbackTo: "v1.2.2" }),
      env,
      reader(env),
    );
    assert.equal(got.action, "reuse");
    assert.equal((got as { indexDigest: string }).indexDigest, old.index);
  });
});

describe("registry client", () => {
  const challenges: [string, ReturnType<typeof parseChallenge>][] = [
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/i:pull"',
      {
        scheme: "bearer",
        params: { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:o/i:pull" },
      },
    ],
    ['Basic realm="Registry Realm"', { scheme: "basic", params: { realm: "Registry Realm" } }],
    [
      'Bearer realm="https://auth.example/token",error="insufficient_scope",scope="repository:a/b:pull,push"',
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.example/token",
          error: "insufficient_scope",
          scope: "repository:a/b:pull,push",
        },
      },
    ],
    ["", undefined],
  ];
  for (const [header, want] of challenges) {
    it(`parses the challenge ${JSON.stringify(header)}`, () =>
      assert.deepEqual(parseChallenge(header), want));
  }

  const registry = new FakeRegistry();
  before(() => registry.start());
  after(() => registry.stop());

  it("answers undefined for an absent tag and refuses content that does not match the digest asked for", async () => {
    registry.auth = { kind: "basic", users: { u: "p" } };
    const repo = registry.repo("o/i");
    const pushed = pushRelease(repo, COMMIT, ["v1"]);
    const client = new RegistryClient(registry.address, {
      scheme: "http",
      credentials: { username: "u", password: "p" },
    });
    assert.equal(await client.manifest("o/i", "v2"), undefined);
    assert.equal((await client.manifest("o/i", "v1"))?.digest, pushed.index);
    // Tamper: the bytes under the index digest change.
    repo.manifests[pushed.index] = { mediaType: OCI_INDEX, body: Buffer.from("{}") };
    await assert.rejects(client.manifest("o/i", pushed.index), /content has digest sha256:44136fa/);
  });
});

describe("registry client: https with a private CA (the rehearsal registry's kind)", () => {
  let dir = "";
  let server: https.Server | undefined;
  let address = "";
  before(async function () {
    this.timeout(30_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "exact-tags-ca-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    try {
      ssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
      );
      ssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
      );
      fs.writeFileSync(path.join(dir, "ext"), "subjectAltName=IP:127.0.0.1\n");
      ssl(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext",
        "-out",
        "leaf.crt",
      );
    } catch {
      this.skip(); // no openssl: the CA path is then exercised by the rehearsal only
    }
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
    server = https.createServer(
      { key: fs.readFileSync(path.join(dir, "leaf.key")), cert: fs.readFileSync(path.join(dir, "leaf.crt")) },
      (req, res) => {
        if (req.url === "/v2/o/i/manifests/v1" || req.url === `/v2/o/i/manifests/${sha256(body)}`) {
          res.writeHead(200, { "Content-Type": OCI_INDEX }).end(body);
        } else if (req.url?.startsWith("/v2/o/i/tags/list") === true) {
          res.writeHead(200).end(JSON.stringify({ name: "o/i", tags: ["v1"] }));
        } else if (req.url === `/v2/o/i/blobs/${sha256("blob")}`) {
          res.writeHead(200).end("blob");
        } else {
          res.writeHead(404).end();
        }
      },
    );
    await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    if (server !== undefined) await new Promise<void>((ok) => server?.close(() => ok()));
    if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
  });

  it("trusts the extra CA besides the system's roots", async () => {
    const client = new RegistryClient(address, { ca: fs.readFileSync(path.join(dir, "ca.crt")) });
    assert.equal((await client.manifest("o/i", "v1"))?.mediaType, OCI_INDEX);
    assert.equal(await client.manifest("o/i", "v2"), undefined);
  });

  it("serves the rehearsal's Registry (scripts/lib/registry.ts): tags, digests, manifests, blobs", async () => {
    const reg = new Registry(address, path.join(dir, "ca.crt"));
    const digest = (
      await new RegistryClient(address, { ca: fs.readFileSync(path.join(dir, "ca.crt")) }).manifest(
        "o/i",
        "v1",
      )
    )?.digest as string;
    assert.deepEqual(await reg.snapshot("o/i"), { v1: digest });
    assert.deepEqual(await reg.tags("none"), []);
    assert.equal((await reg.manifest<{ mediaType: string }>("o/i", digest)).mediaType, OCI_INDEX);
    assert.equal((await reg.blob("o/i", sha256("blob"))).toString(), "blob");
    await assert.rejects(reg.digest("o/i", "v2"), /o\/i:v2: not found/);
  });

  it("refuses the registry's certificate without it", async () => {
    await assert.rejects(new RegistryClient(address).manifest("o/i", "v1"), /certificate/);
  });
});
