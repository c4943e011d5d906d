import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

import { buildArgs } from "../lib/stackArgs";
import { PROJECT } from "../lib/config";
import { BASE_IMAGE_ARGS } from "../tooling/evidence";
import { PLUGIN_IMAGE_TYPE } from "../lib/imageTarget";
import {
  parsePreview,
  parsePreviewText,
  planOp,
  PreviewJsonError,
  SECRET_SIG,
  shown,
  SIG_KEY,
  UNKNOWN_VALUE,
} from "../tooling/plan/previewJson";
import { floatingTagHolders, planFloatingTags } from "../tooling/plan/floatingTags";
import { imageChange, RELEASE_METADATA_BUILD_ARGS } from "../tooling/plan/image";
import { infraKind, pendingInfrastructure, shortType } from "../tooling/plan/infrastructure";
import { ReleasePlanError } from "../tooling/plan/markdown";
import {
  DEPENDABOT_ACTOR,
  notPreviewedComment,
  PLAN_MARKER,
  planComment,
  PREVIEW_SECRET,
  renderReleasePlan,
} from "../tooling/plan/releasePlan";
import { exitStatus, main } from "../scripts/release-plan";

// ---------------------------------------------------------------------------------------------
// Builders of preview JSON modelled on Pulumi 3.248's event log (apitype.EngineEvent) and its
// `pulumi preview --json` digest (display.PreviewDigest).

const STACK = "prod";
const ROOT_TYPE = "pulumi:pulumi:Stack";
const ROOT_URN = `urn:pulumi:${STACK}::${PROJECT}::${ROOT_TYPE}::${PROJECT}-${STACK}`;
const IMAGE = "docker-build:index:Image";
const INDEX = "docker-build:index:Index";
const SHA = "abc1234def5678901234567890abcdef12345678";
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const GCR = "gcr.io/acme-prod/cq-source-s3";
const BUILDER = (d: string) => `golang:1.26.8-bookworm@sha256:${d.repeat(64 / d.length)}`;
const RUNTIME = `gcr.io/distroless/static-debian12:nonroot@sha256:${"b7".repeat(32)}`;

function urn(qualifiedType: string, name: string): string {
  return `urn:pulumi:${STACK}::${PROJECT}::${qualifiedType}::${name}`;
}

interface Res {
  /** `parent$type`, or the type alone. */
  qtype: string;
  name: string;
  op: string;
  old?: Record<string, unknown>;
  neu?: Record<string, unknown>;
  oldOutputs?: Record<string, unknown>;
  /** property path → diff kind (`update`, `update-replace`, …). */
  diff?: Record<string, string>;
  keys?: string[];
  protect?: boolean;
  retain?: boolean;
  custom?: boolean;
}

function typeOf(qtype: string): string {
  return qtype.split("$").pop() as string;
}

function state(r: Res, inputs: Record<string, unknown> | undefined, outputs?: Record<string, unknown>) {
  if (inputs === undefined) return undefined;
  return {
    type: typeOf(r.qtype),
    urn: urn(r.qtype, r.name),
    ...((r.custom ?? true) ? { custom: true } : {}),
    inputs,
    outputs: outputs ?? {},
    parent: ROOT_URN,
    ...(r.protect ? { protect: true } : {}),
    ...(r.retain ? { retainOnDelete: true } : {}),
    provider: "",
  };
}

/** A `resourcePreEvent` as the event log has it. */
function pre(r: Res): Record<string, unknown> {
  return {
    sequence: 1,
    timestamp: 1700000000,
    resourcePreEvent: {
      metadata: {
        op: r.op,
        urn: urn(r.qtype, r.name),
        type: typeOf(r.qtype),
        old: state(r, r.old, r.oldOutputs) ?? null,
        new: state(r, r.neu) ?? null,
        ...(r.keys ? { keys: r.keys } : {}),
        ...(r.diff ? { diffs: Object.keys(r.diff) } : {}),
        detailedDiff:
          r.diff === undefined
            ? null
            : Object.fromEntries(
                Object.entries(r.diff).map(([k, v]) => [k, { diffKind: v, inputDiff: false }]),
              ),
        provider: "",
      },
    },
  };
}

/** The same resource as a digest step. */
function digestStep(r: Res): Record<string, unknown> {
  const s = (inputs?: Record<string, unknown>, outputs?: Record<string, unknown>) =>
    inputs === undefined
      ? undefined
      : {
          urn: urn(r.qtype, r.name),
          custom: r.custom ?? true,
          type: typeOf(r.qtype),
          inputs,
          outputs: outputs ?? {},
          ...(r.protect ? { protect: true } : {}),
          ...(r.retain ? { retainOnDelete: true } : {}),
        };
  return {
    op: r.op,
    urn: urn(r.qtype, r.name),
    provider: "",
    oldState: s(r.old, r.oldOutputs),
    newState: s(r.neu),
    diffReasons: r.diff === undefined ? undefined : Object.keys(r.diff),
    replaceReasons: r.keys,
    detailedDiff:
      r.diff === undefined
        ? null
        : Object.fromEntries(Object.entries(r.diff).map(([k, v]) => [k, { kind: v, inputDiff: false }])),
  };
}

const LAST_OUTPUTS = {
  version: "v1.2.3",
  commit: "fedcba9876543210fedcba9876543210fedcba98",
  imageDigest: DIGEST,
  imageTags: ["v1.2.3-fedcba9", "v1.2.3", "v1.2", "latest"],
};

function root(op = "same", outputs: Record<string, unknown> = LAST_OUTPUTS): Res {
  return {
    qtype: ROOT_TYPE,
    name: `${PROJECT}-${STACK}`,
    op,
    old: {},
    neu: {},
    oldOutputs: outputs,
    custom: false,
  };
}

function config(over: Record<string, string> = {}): Record<string, string> {
  const c: Record<string, string> = {
    version: "v0.0.0-pr.12",
    commit: SHA,
    releasedVersions: '["v1.1.0","v1.2.2","v1.2.3"]',
    ghcrToken: "[secret]",
    ...over,
  };
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [`${PROJECT}:${k}`, v]));
}

function prelude(over: Record<string, string> = {}) {
  return { sequence: 0, timestamp: 1700000000, preludeEvent: { config: config(over) } };
}

const PACK = { name: "cq-source-s3-release", version: "0.1.0" };

function summary(packs: Record<string, string> = { [PACK.name]: PACK.version }) {
  return {
    sequence: 99,
    timestamp: 1700000001,
    summaryEvent: {
      maybeCorrupt: false,
      durationSeconds: 42,
      resourceChanges: {},
      PolicyPacks: packs,
      isPreview: true,
    },
  };
}

function policy(level: string, name: string, resUrn: string, message: string) {
  return {
    sequence: 50,
    timestamp: 1700000001,
    policyEvent: {
      resourceUrn: resUrn,
      message,
      color: "never",
      policyName: name,
      policyPackName: PACK.name,
      policyPackVersion: PACK.version,
      policyPackVersionTag: PACK.version,
      enforcementLevel: level,
    },
  };
}

function events(resources: Res[], extra: Record<string, unknown>[] = [], over: Record<string, string> = {}) {
  return [prelude(over), ...[root(), ...resources].map(pre), ...extra, summary()];
}

function plan(resources: Res[], extra: Record<string, unknown>[] = [], over: Record<string, string> = {}) {
  return renderReleasePlan({ preview: parsePreview(events(resources, extra, over)) });
}

// The image component's children.
const IMG = `${PLUGIN_IMAGE_TYPE}$${IMAGE}`;
const IDX = `${PLUGIN_IMAGE_TYPE}$${INDEX}`;

function imageInputs(platform: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    platforms: [platform],
    buildArgs: args,
    context: { location: "./plugin" },
    dockerfile: { location: "./Dockerfile" },
    push: false,
    ...extra,
  };
}

const OLD_ARGS = {
  VERSION: "v1.2.3",
  SOURCE_DATE_EPOCH: "1735689600",
  BUILDER_IMAGE: BUILDER("a6"),
  RUNTIME_IMAGE: RUNTIME,
};
const PR_ARGS = { ...OLD_ARGS, VERSION: "v0.0.0-pr.12", SOURCE_DATE_EPOCH: "1735776000" };
const METADATA_DIFF = { buildArgs: "update", labels: "update", tags: "update" };

function image(
  platform: string,
  op: string,
  newArgs: Record<string, unknown> | undefined,
  diff?: Record<string, string>,
  oldArgs: Record<string, unknown> | undefined = OLD_ARGS,
): Res {
  const arch = platform.split("/")[1];
  return {
    qtype: IMG,
    name: `plugin-linux-${arch}`,
    op,
    old: oldArgs === undefined ? undefined : imageInputs(platform, oldArgs),
    neu: newArgs === undefined ? undefined : imageInputs(platform, newArgs),
    diff,
    retain: true,
  };
}

function both(op: string, newArgs: Record<string, unknown>, diff?: Record<string, string>): Res[] {
  return ["linux/amd64", "linux/arm64"].map((p) => image(p, op, newArgs, diff));
}

function index(role: string, op: string, oldTag: string | undefined, newTag: string | undefined): Res {
  return {
    qtype: IDX,
    name: `plugin-gcr-${role}`,
    op,
    old: oldTag === undefined ? undefined : { tag: `${GCR}:${oldTag}`, push: true },
    neu: newTag === undefined ? undefined : { tag: `${GCR}:${newTag}`, push: true },
    diff: op === "replace" ? { tag: "update-replace" } : undefined,
    keys: op === "replace" ? ["tag"] : undefined,
    retain: true,
  };
}

const IDENTITY = "cq-release:identity:GitHubIdentity";
const REPO = "cq-release:repo:RepoSettings";

function iamMember(op: string, name = "identity-release-wif"): Res {
  const inputs = {
    serviceAccountId:
      "projects/acme-prod/serviceAccounts/cq-source-s3-release@acme-prod.iam.gserviceaccount.com",
    role: "roles/iam.workloadIdentityUser",
    member:
      "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github-actions/attribute.access/release",
  };
  return {
    qtype: `${IDENTITY}$gcp:serviceaccount/iAMMember:IAMMember`,
    name,
    op,
    old: op === "create" ? undefined : inputs,
    neu: op === "delete" ? undefined : inputs,
  };
}

// ---------------------------------------------------------------------------------------------

describe("releasePlan: preview JSON forms", () => {
  it("keeps Pulumi's sentinel values in step with @pulumi/pulumi", () => {
    assert.equal(UNKNOWN_VALUE, unknownValue);
    assert.equal(SIG_KEY, specialSigKey);
    assert.equal(SECRET_SIG, specialSecretSig);
  });

  it("reads newline-delimited events, a JSON array of events and the digest alike", () => {
    const res = [...both("update", PR_ARGS, METADATA_DIFF), iamMember("create")];
    const evs = events(res);
    const ndjson = parsePreviewText(evs.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const array = parsePreviewText(JSON.stringify(evs, null, 2));
    const digest = parsePreviewText(
      JSON.stringify({
        config: config(),
        steps: [root(), ...res].map(digestStep),
        changeSummary: { update: 2, create: 1, same: 9 },
      }),
    );
    for (const p of [ndjson, array, digest]) {
      assert.deepEqual(
        p.steps.map((s) => [s.name, s.op, s.type]),
        [
          [`${PROJECT}-${STACK}`, "same", ROOT_TYPE],
          ["plugin-linux-amd64", "update", IMAGE],
          ["plugin-linux-arm64", "update", IMAGE],
          ["identity-release-wif", "create", "gcp:serviceaccount/iAMMember:IAMMember"],
        ],
      );
      assert.deepEqual(p.steps[1].changed, ["buildArgs", "labels", "tags"]);
      assert.equal(p.config[`${PROJECT}:version`], "v0.0.0-pr.12");
    }
    assert.equal(ndjson.format, "events");
    assert.equal(digest.format, "digest");
    assert.deepEqual(ndjson.policyPacks, { [PACK.name]: PACK.version });
    assert.equal(digest.policyPacks, undefined, "the digest does not record policy packs");
  });

  it("merges the steps of one replacement into a single replace with its replace keys", () => {
    const r = index("version", "replace", "v1.2.3", "v0.0.0-pr.12");
    const p = parsePreview([
      pre({ ...r, op: "create-replacement" }),
      pre({ ...r, op: "replace" }),
      pre({ ...r, op: "delete-replaced" }),
    ]);
    assert.equal(p.steps.length, 1);
    assert.equal(p.steps[0].op, "replace");
    assert.deepEqual(p.steps[0].replaceKeys, ["tag"]);
  });

  const opRows: [string, string][] = [
    ["create-replacement", "replace"],
    ["delete-replaced", "replace"],
    ["discard-replaced", "replace"],
    ["refresh", "same"],
    ["remove-pending-replace", "same"],
    ["update", "update"],
    ["import", "import"],
  ];
  for (const [op, want] of opRows) {
    it(`maps the engine op ${op} to ${want}`, () => assert.equal(planOp(op), want));
  }

  const bad: [string, string, RegExp][] = [
    ["empty input", "  \n", /preview is empty/],
    ["text that is not JSON", "error: no stack named 'prod' found\n", /not JSON .*line 1/],
    ["a JSON value that is not a preview", '{"hello": "world"}', /not a Pulumi preview/],
    ["a step without a URN", '{"steps": [{"op": "create"}]}', /a step has no urn/],
    ["a malformed URN", '{"steps": [{"op": "create", "urn": "x"}]}', /not a Pulumi URN/],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses ${what} with a message`, () => {
      assert.throws(
        () => parsePreviewText(input),
        (e: unknown) => e instanceof PreviewJsonError && message.test(e.message),
      );
    });
  }
});

describe("releasePlan: values that may be printed", () => {
  const rows: [string, unknown, string][] = [
    ["a digest secret", "[secret]", "[secret]"],
    ["an event-log secret envelope", { [SIG_KEY]: SECRET_SIG, ciphertext: "hunter2" }, "[secret]"],
    ["an unknown", UNKNOWN_VALUE, "(known after apply)"],
    ["a plain string", "roles/viewer", "roles/viewer"],
    ["a structured value", { a: 1 }, "(structured value)"],
  ];
  for (const [what, v, want] of rows) it(`shows ${what} as ${want}`, () => assert.equal(shown(v), want));
});

describe("releasePlan: the image", () => {
  // [behaviour, resources, expected in the plan, not expected]
  const rows: [string, Res[], string[], string[]][] = [
    [
      "a no-op preview says no rebuild",
      both("same", OLD_ARGS),
      [
        "**Image: no rebuild.** Every platform's build inputs equal the last applied build (`v1.2.3`, `sha256:0123456789ab`).",
      ],
      ["rebuilt"],
    ],
    [
      "a PR with only the release metadata changed says so",
      both("update", PR_ARGS, METADATA_DIFF),
      [
        "**Image: rebuilt for the release metadata only** (`SOURCE_DATE_EPOCH`, `VERSION`, `labels`, `tags`): sources, base images and platforms equal the last applied build",
        "- Platforms: `linux/amd64` update, `linux/arm64` update.",
      ],
      ["base image changed", "sources changed"],
    ],
    [
      "a changed BUILDER_IMAGE build arg shows as base image changed, old → new",
      both("update", { ...PR_ARGS, BUILDER_IMAGE: BUILDER("c3") }, METADATA_DIFF),
      [
        "**Image: rebuilt** — base image changed: `BUILDER_IMAGE` `golang:1.26.8-bookworm@sha256:a6a6a6a6a6a6` → `golang:1.26.8-bookworm@sha256:c3c3c3c3c3c3`.",
        "- Also, as in every release: `SOURCE_DATE_EPOCH`, `VERSION`, `labels`, `tags`.",
      ],
      ["RUNTIME_IMAGE"],
    ],
    [
      "a plugin source change shows as the context hash",
      both("update", PR_ARGS, { ...METADATA_DIFF, contextHash: "update" }),
      [
        "**Image: rebuilt** — sources changed (build context hash: a file under `plugin/` or the Dockerfile).",
      ],
      ["metadata only"],
    ],
    [
      "a new platform is a first build",
      [
        image("linux/amd64", "same", OLD_ARGS),
        image("linux/riscv64", "create", OLD_ARGS, undefined, undefined),
      ],
      ["**Image: rebuilt** — first build for `linux/riscv64`.", "`linux/amd64` same, `linux/riscv64` create"],
      [],
    ],
    [
      "a dropped platform is named",
      [image("linux/amd64", "same", OLD_ARGS), image("linux/arm64", "delete", undefined)],
      ["platform dropped: `linux/arm64`"],
      ["no rebuild"],
    ],
    [
      "cache settings alone do not count as content",
      both("update", OLD_ARGS, { cacheTo: "update" }),
      ["**Image: rebuilt** — build settings changed: `cacheTo`."],
      ["metadata only"],
    ],
    [
      "a secret build arg is never shown",
      both(
        "update",
        { ...PR_ARGS, GOPROXY: { [SIG_KEY]: SECRET_SIG, ciphertext: "[secret]" } },
        METADATA_DIFF,
      ),
      ["build arg `GOPROXY`: `(none)` → `[secret]`"],
      ["ciphertext", SIG_KEY],
    ],
    [
      "Indexes of floating tags leaving the stack are retained, not deleted",
      [
        ...both("update", PR_ARGS, METADATA_DIFF),
        index("version", "replace", "v1.2.3", "v0.0.0-pr.12"),
        index("latest", "delete", "latest", undefined),
        index("minor", "delete", "v1.2", undefined),
      ],
      [
        "- Tags pushed by this preview's version: `v0.0.0-pr.12`.",
        "- Leaving the stack: `latest`, `v1.2` (retained in the registry: `retainOnDelete`).",
      ],
      ["deleted from the registry"],
    ],
    [
      "a stack without the image says so",
      [],
      ["**Image:** not built by this stack (`enableImage` is off)."],
      [],
    ],
  ];
  for (const [what, resources, want, notWant] of rows) {
    it(what, () => {
      const md = plan(resources);
      for (const w of want) assert.ok(md.includes(w), `missing ${JSON.stringify(w)} in:\n${md}`);
      for (const n of notWant) assert.ok(!md.includes(n), `unexpected ${JSON.stringify(n)} in:\n${md}`);
    });
  }

  it("classifies every build arg the program sets", () => {
    const args = Object.keys(
      buildArgs({
        version: "v1.2.3",
        commitTime: "2025-01-01T00:00:00Z",
        builderImage: BUILDER("a6"),
        runtimeImage: RUNTIME,
      }),
    );
    assert.deepEqual(args.sort(), [...RELEASE_METADATA_BUILD_ARGS, ...BASE_IMAGE_ARGS].sort());
  });

  it("classifies an Image diff into base images, metadata, definition and settings", () => {
    const step = parsePreview([
      pre(
        image(
          "linux/amd64",
          "update",
          { ...PR_ARGS, RUNTIME_IMAGE: "mirror/static:nonroot" },
          {
            ...METADATA_DIFF,
            platforms: "update",
            cacheFrom: "update",
          },
        ),
      ),
    ]).steps[0];
    assert.deepEqual(imageChange(step), {
      context: false,
      baseImages: [{ name: "RUNTIME_IMAGE", from: RUNTIME, to: "mirror/static:nonroot" }],
      buildArgs: [],
      metadata: ["SOURCE_DATE_EPOCH", "VERSION", "labels", "tags"],
      definition: ["platforms"],
      settings: ["cacheFrom"],
    });
  });
});

describe("releasePlan: floating tags", () => {
  // [behaviour, input, version planned, moves as `tag: from → to` (to "-" = stays)]
  const rows: [string, Parameters<typeof planFloatingTags>[0], string, string[]][] = [
    [
      "a PR preview plans the next patch, moving latest and its line",
      { previewVersion: "v0.0.0-pr.12", commit: SHA, releasedVersions: ["v1.1.0", "v1.2.2", "v1.2.3"] },
      "v1.2.4",
      ["latest: v1.2.3 → v1.2.4", "v1.2: v1.2.3 → v1.2.4"],
    ],
    [
      "a backport keeps latest and moves only its line",
      { version: "v1.1.9", releasedVersions: ["v1.1.8", "v1.2.3"] },
      "v1.1.9",
      ["latest: v1.2.3 → -", "v1.1: v1.1.8 → v1.1.9"],
    ],
    [
      "a new minor starts its line",
      { version: "v1.3.0", releasedVersions: ["v1.2.3"] },
      "v1.3.0",
      ["latest: v1.2.3 → v1.3.0", "v1.3: (none) → v1.3.0"],
    ],
    [
      "an older patch of the newest line moves nothing",
      { version: "v1.2.1", releasedVersions: ["v1.2.3"] },
      "v1.2.1",
      ["latest: v1.2.3 → -", "v1.2: v1.2.3 → -"],
    ],
    [
      "a pre-release moves nothing",
      { version: "v1.3.0-rc.1", releasedVersions: ["v1.2.3"] },
      "v1.3.0-rc.1",
      [],
    ],
    [
      "newer pre-releases and non-semver tags do not hold latest",
      { releasedVersions: ["v1.2.3", "v1.3.0-rc.1", "v-test", "vnext"] },
      "v1.2.4",
      ["latest: v1.2.3 → v1.2.4", "v1.2: v1.2.3 → v1.2.4"],
    ],
    [
      "a preview configured with a stable version plans that version",
      { previewVersion: "v0.1.0", releasedVersions: ["v0.1.0"] },
      "v0.1.0",
      ["latest: v0.1.0 → v0.1.0", "v0.1: v0.1.0 → v0.1.0"],
    ],
  ];
  for (const [what, input, version, moves] of rows) {
    it(what, () => {
      const p = planFloatingTags(input);
      assert.ok(p !== undefined);
      assert.equal(p.version, version);
      assert.deepEqual(
        p.moves.map((m) => `${m.tag}: ${m.from ?? "(none)"} → ${m.to ?? "-"}`),
        moves,
      );
    });
  }

  it("derives the release's tags through deriveReleaseTags (sha tag only with a commit)", () => {
    assert.deepEqual(
      planFloatingTags({ version: "v1.2.4", commit: SHA, releasedVersions: ["v1.2.3"] })?.tags,
      ["v1.2.4-abc1234", "v1.2.4", "v1.2", "latest"],
    );
    assert.deepEqual(planFloatingTags({ version: "v1.2.4", releasedVersions: [] })?.tags, [
      "v1.2.4",
      "v1.2",
      "latest",
    ]);
  });

  it("has nothing to plan before the first stable release when the preview version is a stand-in", () => {
    assert.equal(
      planFloatingTags({ previewVersion: "v0.0.0-pr.1", releasedVersions: ["v0.1.0-rc.1"] }),
      undefined,
    );
  });

  it("names a given version that is not semver", () => {
    assert.throws(
      () => planFloatingTags({ version: "next", releasedVersions: [] }),
      (e: unknown) =>
        e instanceof ReleasePlanError &&
        /release version: version "next" is not a semantic version/.test(e.message),
    );
  });

  it("finds the holders by the tag rule itself", () => {
    assert.deepEqual(
      Object.fromEntries(floatingTagHolders(["v1.1.8", "v1.2.3", "v1.2.2", "v2.0.0-rc.1", "junk"])),
      { "v1.1": "v1.1.8", "v1.2": "v1.2.3", latest: "v1.2.3" },
    );
  });

  it("renders the moves with the digest latest points at now", () => {
    const md = plan(both("update", PR_ARGS, METADATA_DIFF));
    assert.ok(
      md.includes(
        "**Floating tags** if this commit is released as `v1.2.4` (the next patch release):\n" +
          "- `latest`: `v1.2.3` (`sha256:0123456789ab`) → `v1.2.4`\n" +
          "- `v1.2`: `v1.2.3` (`sha256:0123456789ab`) → `v1.2.4`",
      ),
      md,
    );
  });

  // [behaviour, version, released versions, expected lines]; the stack's last release is v1.2.3
  // unless the row says there is none.
  const renders: [string, string | undefined, string[], string[], boolean][] = [
    [
      "a backport shows latest staying where it is",
      "v1.1.9",
      ["v1.1.8", "v1.2.3"],
      [
        "**Floating tags** if this commit is released as `v1.1.9`:",
        "- `latest` stays at `v1.2.3` (`sha256:0123456789ab`).",
        "- `v1.1`: `v1.1.8` → `v1.1.9`",
      ],
      true,
    ],
    [
      "a pre-release says it moves nothing",
      "v1.3.0-rc.1",
      ["v1.2.3"],
      [
        "**Floating tags** if this commit is released as `v1.3.0-rc.1`: none — a pre-release never moves `latest` or `vX.Y`.",
      ],
      true,
    ],
    [
      "before the first release, says who takes the tags",
      undefined,
      [],
      ["**Floating tags:** nothing released yet — the first stable `vX.Y.Z` takes `latest` and `vX.Y`."],
      false,
    ],
  ];
  for (const [what, version, released, want, hasRelease] of renders) {
    it(what, () => {
      const preview = parsePreview(events([]));
      const outputs = hasRelease ? undefined : { version: undefined };
      const md = renderReleasePlan({ preview, version, releasedVersions: released, outputs });
      assert.ok(md.includes(want.join("\n")), md);
    });
  }

  it("says when the released versions are unknown instead of guessing", () => {
    const preview = parsePreview(events([], [], { releasedVersions: "" }));
    const md = renderReleasePlan({ preview, outputs: { version: "v0.0.0-dev" } });
    assert.match(md, /\*\*Floating tags:\*\* unknown — the released versions were not given/);
  });

  it("takes the released versions given by the caller over the preview's config", () => {
    const preview = parsePreview(events([]));
    const md = renderReleasePlan({ preview, releasedVersions: ["v2.0.0"], outputs: {} });
    assert.match(md, /released as `v2\.0\.1`/);
  });
});

describe("releasePlan: infrastructure pending for the platform team", () => {
  it("flags an IAM member create with its role and member", () => {
    const md = plan([iamMember("create")]);
    assert.ok(
      md.includes(
        "- ⚠️ **IAM** create `identity-release-wif` (`gcp.serviceaccount.IAMMember`): `roles/iam.workloadIdentityUser` → " +
          "`principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github-actions/attribute.access/release`",
      ),
      md,
    );
    assert.match(md, /\*\*Infrastructure pending for the platform team: 1 change\*\* \(1 IAM\)/);
  });

  it("puts replaces and deletes first, in capitals, with replace keys and protection", () => {
    const md = plan([
      {
        qtype: `${IDENTITY}$gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider`,
        name: "identity-provider",
        op: "update",
        old: { workloadIdentityPoolProviderId: "github", attributeCondition: "a" },
        neu: { workloadIdentityPoolProviderId: "github", attributeCondition: "b" },
        diff: { attributeCondition: "update", "attributeMapping.attribute.access": "update" },
        protect: true,
      },
      {
        qtype: `${REPO}$github:index/repositoryRuleset:RepositoryRuleset`,
        name: "repo-release-tags",
        op: "replace",
        old: { name: "release-tags", target: "branch" },
        neu: { name: "release-tags", target: "tag" },
        diff: { target: "update-replace" },
        keys: ["target"],
      },
      {
        qtype: `${IDENTITY}$gcp:iam/workloadIdentityPool:WorkloadIdentityPool`,
        name: "identity-pool",
        op: "delete",
        old: { workloadIdentityPoolId: "github-actions" },
        protect: true,
      },
    ]);
    const lines = md.split("\n").filter((l) => l.startsWith("- ⚠️"));
    assert.deepEqual(lines, [
      "- ⚠️ **identity** **DELETE** `identity-pool` (`gcp.iam.WorkloadIdentityPool`): `github-actions` — protected: fails until unprotected",
      "- ⚠️ **repository settings** **REPLACE** `repo-release-tags` (`github.RepositoryRuleset`); changes `target` (forces replace)",
      "- ⚠️ **identity** update `identity-provider` (`gcp.iam.WorkloadIdentityPoolProvider`): `github`; changes `attributeCondition`, `attributeMapping`",
    ]);
    assert.match(md, /3 changes\*\* \(2 identity, 1 repository settings; \*\*2 replace\/delete\*\*\)/);
  });

  it("names an Actions secret but never its value", () => {
    const secret = { [SIG_KEY]: SECRET_SIG, ciphertext: "[secret]" };
    const md = plan([
      {
        qtype: `${REPO}$github:index/actionsSecret:ActionsSecret`,
        name: "repo-secret-PULUMI_CONFIG_PASSPHRASE",
        op: "update",
        old: { secretName: "PULUMI_CONFIG_PASSPHRASE", plaintextValue: secret },
        neu: { secretName: "PULUMI_CONFIG_PASSPHRASE", plaintextValue: secret },
        diff: { plaintextValue: "update" },
      },
    ]);
    assert.match(
      md,
      /\*\*repository settings\*\* update `repo-secret-PULUMI_CONFIG_PASSPHRASE` \(`github.ActionsSecret`\): `PULUMI_CONFIG_PASSPHRASE`; changes `plaintextValue`/,
    );
    assert.ok(!md.includes("ciphertext") && !md.includes(SECRET_SIG), md);
  });

  it("leaves out the image, providers, components and unchanged resources", () => {
    const changes = pendingInfrastructure(
      parsePreview(
        events([
          ...both("update", PR_ARGS, METADATA_DIFF),
          {
            qtype: "pulumi:providers:github",
            name: "repo-github",
            op: "update",
            old: {},
            neu: {},
            diff: { owner: "update" },
          },
          { qtype: REPO, name: "repo", op: "create", neu: {}, custom: false },
          { ...iamMember("same"), name: "identity-preview-wif" },
        ]),
      ).steps,
    );
    assert.deepEqual(changes, []);
    assert.match(plan(both("same", OLD_ARGS)), /\*\*Infrastructure:\*\* no changes pending\./);
  });

  it("collapses a long list", () => {
    const many = Array.from({ length: 8 }, (_, i) => iamMember("create", `grant-${i}`));
    const md = plan(many);
    assert.match(md, /8 changes\*\* \(8 IAM\)/);
    assert.match(md, /<details><summary>All changes<\/summary>\n\n- ⚠️ \*\*IAM\*\* create `grant-0`/);
  });

  const kinds: [string, string][] = [
    ["gcp:serviceaccount/iAMMember:IAMMember", "iam"],
    ["gcp:storage/bucketIAMMember:BucketIAMMember", "iam"],
    ["gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "iam"],
    ["gcp:projects/iAMBinding:IAMBinding", "iam"],
    ["gcp:iam/workloadIdentityPoolIamMember:WorkloadIdentityPoolIamMember", "iam"],
    ["gcp:serviceaccount/key:Key", "iam"],
    ["gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "identity"],
    ["gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "identity"],
    ["gcp:serviceaccount/account:Account", "identity"],
    ["github:index/actionsVariable:ActionsVariable", "repository"],
    ["github:index/repositoryEnvironment:RepositoryEnvironment", "repository"],
    ["gcp:artifactregistry/repository:Repository", "other"],
    ["gcp:projects/service:Service", "other"],
    ["time:index/sleep:Sleep", "other"],
  ];
  for (const [type, kind] of kinds) {
    it(`classifies ${shortType(type)} as ${kind}`, () => assert.equal(infraKind(type), kind));
  }
});

describe("releasePlan: policy and errors", () => {
  it("lists a mandatory violation first, with the policy, the resource and an escaped message", () => {
    const key = urn(`${IDENTITY}$gcp:serviceaccount/key:Key`, "identity-release-key");
    const md = plan(
      [],
      [
        policy("advisory", "service-account-keys-allowed", key, "a key exists\n"),
        policy(
          "mandatory",
          "no-service-account-keys",
          key,
          "Service account keys are <b>not</b> allowed @platform\n",
        ),
      ],
    );
    assert.ok(
      md.includes(
        "**Policy violations:** ❌ 1 mandatory (the preview fails; a release would too), ⚠️ 1 advisory.\n" +
          "- ❌ mandatory `no-service-account-keys` on `identity-release-key`: Service account keys are &lt;b&gt;not&lt;/b&gt; allowed @\u200bplatform\n" +
          "- ⚠️ advisory `service-account-keys-allowed` on `identity-release-key`: a key exists",
      ),
      md,
    );
  });

  it("strips Pulumi's colour directives from messages and names stack policies", () => {
    const md = plan(
      [],
      [policy("mandatory", "pushed-repositories-have-sha-tag", ROOT_URN, "<{%fg 1%}>no sha tag<{%reset%}>")],
    );
    assert.match(md, /`pushed-repositories-have-sha-tag` on `the stack`: no sha tag$/m);
  });

  it("says no violations when a pack ran clean, and what the digest cannot tell", () => {
    assert.match(plan([]), /\*\*Policy:\*\* no violations \(`cq-source-s3-release@0\.1\.0`\)\./);
    const digest = parsePreview({ config: config(), steps: [digestStep(root())] });
    assert.match(
      renderReleasePlan({ preview: digest }),
      /\*\*Policy:\*\* not recorded — the `pulumi preview --json` digest omits policy events/,
    );
  });

  it("puts the preview's errors first", () => {
    const md = plan(
      [],
      [
        {
          diagnosticEvent: {
            urn: ROOT_URN,
            message: "Running program failed:\n  Error: cq-source-s3-release:commit: invalid value\n",
            color: "never",
            severity: "error",
          },
        },
        { diagnosticEvent: { message: "building…", color: "never", severity: "info", ephemeral: true } },
      ],
    );
    const body = md.split("\n\n");
    assert.equal(body[2], "**The preview reported 1 error:**\n- Running program failed:");
  });
});

describe("releasePlan: the whole plan and the comment", () => {
  it("renders a PR preview end to end (the example in docs/release.md)", () => {
    const md = plan(
      [
        ...both(
          "update",
          { ...PR_ARGS, BUILDER_IMAGE: BUILDER("c3") },
          { ...METADATA_DIFF, contextHash: "update" },
        ),
        index("version", "replace", "v1.2.3", "v0.0.0-pr.12"),
        index("latest", "delete", "latest", undefined),
        index("minor", "delete", "v1.2", undefined),
        iamMember("create"),
      ],
      [],
    );
    assert.equal(
      md,
      [
        "### Release plan for `prod`",
        "",
        "Previewed as `v0.0.0-pr.12` at `abc1234` — a pre-release stand-in, so the preview itself moves no floating tag. Resources: 1 to create, 2 to update, 1 to replace, 2 to delete.",
        "",
        "**Image: rebuilt** — sources changed (build context hash: a file under `plugin/` or the Dockerfile); base image changed: `BUILDER_IMAGE` `golang:1.26.8-bookworm@sha256:a6a6a6a6a6a6` → `golang:1.26.8-bookworm@sha256:c3c3c3c3c3c3`.",
        "- Also, as in every release: `SOURCE_DATE_EPOCH`, `VERSION`, `labels`, `tags`.",
        "- Platforms: `linux/amd64` update, `linux/arm64` update.",
        "- Tags pushed by this preview's version: `v0.0.0-pr.12`.",
        "- Leaving the stack: `latest`, `v1.2` (retained in the registry: `retainOnDelete`).",
        "- Doors a release opens from this build: the image; on the GitHub Release, zips for `linux/amd64`, `linux/arm64`, `darwin/amd64`, `darwin/arm64`, `windows/amd64` and `checksums.txt`. The Hub package is built, not published (`hubPublish` is off).",
        "",
        "**Floating tags** if this commit is released as `v1.2.4` (the next patch release):",
        "- `latest`: `v1.2.3` (`sha256:0123456789ab`) → `v1.2.4`",
        "- `v1.2`: `v1.2.3` (`sha256:0123456789ab`) → `v1.2.4`",
        "",
        "**Infrastructure pending for the platform team: 1 change** (1 IAM). A release applies only the image; these wait for the platform team's `pulumi up`.",
        "- ⚠️ **IAM** create `identity-release-wif` (`gcp.serviceaccount.IAMMember`): `roles/iam.workloadIdentityUser` → `principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github-actions/attribute.access/release`",
        "",
        "**Policy:** no violations (`cq-source-s3-release@0.1.0`).",
        "",
      ].join("\n"),
    );
  });

  it("lists the Hub among the doors when the stack config publishes there (hubPublish)", () => {
    const doors = (over: Record<string, string>) =>
      plan(both("update", PR_ARGS, METADATA_DIFF), [], over)
        .split("\n")
        .find((l) => l.startsWith("- Doors a release opens"));
    assert.equal(
      doors({ hubPublish: "true" }),
      "- Doors a release opens from this build: the image; on the GitHub Release, zips for `linux/amd64`, `linux/arm64`, `darwin/amd64`, `darwin/arm64`, `windows/amd64` and `checksums.txt`; the Hub package, published to the CloudQuery Hub (`hubPublish`).",
    );
    assert.match(
      doors({ hubPublish: "false" }) ?? "",
      /The Hub package is built, not published \(`hubPublish` is off\)\.$/,
    );
  });

  it("puts the marker first and the raw output collapsed below the plan", () => {
    const c = planComment("### Release plan\n", "\u001b[32m+ create\u001b[0m\n```nested```\n");
    assert.ok(c.startsWith(`${PLAN_MARKER}\n### Release plan\n`));
    assert.match(
      c,
      /<details><summary>pulumi preview \(raw output\)<\/summary>\n\n````diff\n\+ create\n```nested```\n````\n\n<\/details>\n$/,
    );
  });

  it("says in the plan's comment why a Dependabot run did not preview, and how to get the plan", () => {
    const c = notPreviewedComment(DEPENDABOT_ACTOR);
    assert.ok(c.startsWith(`${PLAN_MARKER}\n### Release plan for \`prod\`: not previewed\n`), c);
    assert.match(c, new RegExp(`did not get the Actions secret \`${PREVIEW_SECRET}\``));
    assert.match(c, /Dependabot secrets only, never Actions secrets, even when someone else re-runs them/);
    assert.match(c, /push a commit to this branch/);
    assert.doesNotMatch(c, /not set for this repository/);
  });

  it("says the secret is missing for a run by anyone else, naming the actor safely", () => {
    const c = notPreviewedComment("mallory`<b>@x");
    assert.match(
      c,
      /`mallory <b>@x` triggered this run and the secret was not available to it: it is not set/,
    );
    assert.doesNotMatch(c, /Dependabot/);
  });

  it("cuts a long raw output in the middle to fit the comment limit", () => {
    const raw = "HEAD\n" + "x".repeat(200_000) + "\nTAIL";
    const c = planComment("### Release plan\n", raw, 10_000);
    assert.ok(c.length <= 10_000, String(c.length));
    assert.match(c, /^HEAD$/m);
    assert.match(c, /TAIL\n```\n\n<\/details>\n$/);
    assert.match(c, /… \d+ characters omitted \(the full output is in the workflow log\) …/);
  });
});

describe("release-plan CLI", () => {
  const script = path.join(__dirname, "..", "scripts", "release-plan.ts");
  let dir: string;
  let log: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "release-plan-"));
    log = path.join(dir, "events.json");
    writeFileSync(
      log,
      events(both("update", PR_ARGS, METADATA_DIFF), [], { releasedVersions: "" })
        .map((e) => JSON.stringify(e))
        .join("\n"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(args: string[], input = "") {
    const res = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", script, ...args], {
      input,
      encoding: "utf8",
      cwd: path.join(__dirname, ".."),
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  it("renders an event log from stdin, with the released versions from `git tag --list`", () => {
    const tags = path.join(dir, "tags.txt");
    writeFileSync(tags, "v1.2.3\nv1.3.0\nplugin-0.9\n2.0.0\n");
    const r = run(["--tags", tags], readFileSync(log, "utf8"));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^### Release plan for `prod`/);
    assert.match(r.stdout, /released as `v1\.3\.1` \(the next patch release\)/);
  });

  it("exits 1 with a message and prints nothing on an unparseable preview", () => {
    const r = run([], "error: no stack named 'prod' found\n");
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^release-plan: preview - is not JSON \(neither one document nor one event per line\): line 1/,
    );
    assert.equal(r.stdout, "");
  });

  it("prints the comment with the raw output when asked", () => {
    const diff = path.join(dir, "preview.txt");
    writeFileSync(diff, "Previewing update (prod):\n");
    const out = main(["--preview", log, "--comment", "--diff", diff, "--version", "v9.0.0"]);
    assert.ok(out.startsWith(`${PLAN_MARKER}\n### Release plan for \`prod\``), out);
    assert.match(out, /released as `v9\.0\.0`:/);
    assert.match(out, /Previewing update \(prod\):/);
  });

  it("prints the comment of a run that did not preview, without reading a preview", () => {
    assert.equal(main(["--not-previewed", DEPENDABOT_ACTOR]), notPreviewedComment(DEPENDABOT_ACTOR));
  });

  it("reads stack outputs from a file over the preview's", () => {
    const outputs = path.join(dir, "outputs.json");
    writeFileSync(outputs, JSON.stringify({ ...LAST_OUTPUTS, version: "v1.2.9", imageTags: ["latest"] }));
    const out = main(["--preview", log, "--outputs", outputs, "--released-versions", '["v1.2.9"]']);
    assert.match(out, /- `latest`: `v1\.2\.9` \(`sha256:0123456789ab`\) → `v1\.2\.10`/);
  });

  const failures: [string, () => string[], number, RegExp][] = [
    [
      "a missing file",
      () => ["--preview", path.join(dir, "missing.json")],
      1,
      /preview .*missing\.json: ENOENT/,
    ],
    [
      "a bad --version",
      () => ["--preview", log, "--version", "latest"],
      1,
      /release version: version "latest" is not a semantic version/,
    ],
    [
      "outputs that are not JSON",
      () => ["--preview", log, "--outputs", log],
      1,
      /stack outputs .*events\.json is not valid JSON/,
    ],
    [
      "outputs that are not an object",
      () => {
        writeFileSync(path.join(dir, "array.json"), "[]");
        return ["--preview", log, "--outputs", path.join(dir, "array.json")];
      },
      1,
      /stack outputs .*array\.json must be a JSON object/,
    ],
    [
      "bad --released-versions",
      () => ["--preview", log, "--released-versions", '"v1"'],
      1,
      /--released-versions must be a JSON array of tags/,
    ],
    ["an unknown option", () => ["--bogus"], 2, /Unknown option '--bogus'[\s\S]*usage: release-plan/],
    ["--diff without --comment", () => ["--diff", "x"], 2, /--diff goes with --comment/],
    ["--tags with --released-versions", () => ["--tags", "x", "--released-versions", "[]"], 2, /exclusive/],
    [
      "--not-previewed with another option",
      () => ["--not-previewed", "x", "--comment"],
      2,
      /no other option/,
    ],
    ["--not-previewed without an actor", () => ["--not-previewed", ""], 2, /takes an actor/],
  ];
  for (const [what, args, status, message] of failures) {
    it(`refuses ${what} (exit status ${status}) with a message`, () => {
      assert.throws(
        () => main(args()),
        (e: unknown) => exitStatus(e) === status && message.test((e as Error).message),
      );
    });
  }
});

// The real format: a preview of the local stack recorded by scripts/capture-preview.ts after
// `npm run local:up` (docs/release.md, "The release plan"), committed; re-record it when the
// engine's event format or the stack changes.
const FIXTURE = path.join(__dirname, "fixtures", "preview", "local.json");
describe("releasePlan: a real preview of the local stack", () => {
  const raw = readFileSync(FIXTURE, "utf8");
  const preview = parsePreviewText(raw, FIXTURE);
  const md = renderReleasePlan({ preview });
  // Independent reading of the same file: the ops of the platform Images as the engine wrote them.
  const imageOps = new Map<string, string>();
  for (const e of JSON.parse(raw) as Record<
    string,
    { metadata?: { type?: string; urn?: string; op?: string } }
  >[]) {
    const m = e.resourcePreEvent?.metadata;
    if (m?.type === IMAGE && m.urn !== undefined && m.op !== undefined) imageOps.set(m.urn, m.op);
  }

  it("parses every Image of the local stack", () => {
    assert.ok(imageOps.size > 0, "the fixture has no docker-build Image step");
    assert.deepEqual(
      preview.steps
        .filter((s) => s.type === IMAGE)
        .map((s) => s.urn)
        .sort(),
      [...imageOps.keys()].sort(),
    );
    // The stack it was recorded from (`local`, or the e2e's own), named in the heading.
    const stack = /^urn:pulumi:([^:]+)::/.exec([...imageOps.keys()][0])?.[1];
    assert.ok(md.startsWith(`### Release plan for \`${stack}\``), md);
  });

  it("says no rebuild exactly when every Image is the same", () => {
    const same = [...imageOps.values()].every((op) => op === "same");
    assert.equal(md.includes("**Image: no rebuild.**"), same, md);
    assert.equal(/\*\*Image: rebuilt/.test(md), !same, md);
  });

  it("finds nothing pending for the platform team (the local stack has only the image)", () => {
    assert.match(md, /\*\*Infrastructure:\*\* no changes pending\./);
  });

  it("plans the floating tags from the stack's releasedVersions", () => {
    assert.match(md, /\*\*Floating tags\*\* if this commit is released as `v\d+\.\d+\.\d+`/);
  });

  it("prints no secret envelope", () => {
    assert.ok(!md.includes(SIG_KEY) && !md.includes("ciphertext"), md);
  });
});
