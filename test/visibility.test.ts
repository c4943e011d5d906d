// Public images: the anonymous-pull check's decision by tables (tooling/visibility.ts), then the
// check against an in-process registry (tooling/anonymousPull.ts), which must never send a
// credential.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import { type IntendedVisibility } from "../lib/imageRegistries";
import { anonymousReaders, checkAnonymousPulls, readAnonymously } from "../tooling/anonymousPull";
import {
  type AnonymousPull,
  type AnonymousRead,
  classifyAnonymousRead,
  decideVisibility,
  eventOwnerType,
  ghcrSettingsUrl,
  parseFindings,
  parseRegistryVisibility,
  type Severity,
  visibilityAnnotations,
  type VisibilityFinding,
  visibilitySummary,
  worstSeverity,
} from "../tooling/visibility";
import { FakeRegistry, pushRelease } from "./fakeRegistry";

const COMMIT = "abc1234def5678901234567890abcdef12345678";
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const GCR = "gcr.io/example-cq-release/cq-source-s3";
const GHCR = "ghcr.io/example-org/cq-source-s3";
const SETTINGS = "https://github.com/orgs/example-org/packages/container/cq-source-s3/settings";

const PULLABLE: AnonymousRead = { result: "pullable" };
const DENIED: AnonymousRead = { result: "refused", status: 403, detail: "DENIED" };
const ERROR: AnonymousRead = { result: "error", detail: "GET https://gcr.io/v2/…: ECONNRESET" };
const gcr = (isPublic: boolean, setByProgram = true): IntendedVisibility => ({
  public: isPublic,
  key: "gcrPublic",
  setByProgram,
});
const ghcr = (isPublic: boolean): IntendedVisibility => ({
  public: isPublic,
  key: "ghcrPublic",
  setByProgram: false,
});

describe("public images: what an anonymous read came to", () => {
  const cases: [string, Parameters<typeof classifyAnonymousRead>[0], AnonymousRead][] = [
    ["the manifest", { ok: true }, PULLABLE],
    [
      "401 (a realm without anonymous tokens)",
      { status: 401, message: "m" },
      { result: "refused", status: 401, detail: "m" },
    ],
    [
      "403 DENIED (a private GHCR package)",
      { status: 403, message: "m" },
      { result: "refused", status: 403, detail: "m" },
    ],
    [
      "404 (a registry hiding what it will not serve)",
      { status: 404, message: "m" },
      { result: "refused", status: 404, detail: "m" },
    ],
    ["a 5xx", { status: 502, message: "m" }, { result: "error", detail: "m" }],
    ["no answer (status 0)", { status: 0, message: "m" }, { result: "error", detail: "m" }],
    [
      "content not matching the digest (a 200 that is no pull)",
      { status: 200, message: "m" },
      { result: "error", detail: "m" },
    ],
  ];
  for (const [what, answer, want] of cases) {
    it(`${what} → ${want.result}`, () => assert.deepEqual(classifyAnonymousRead(answer), want));
  }
});

describe("public images: the decision per published ref", () => {
  // [what, key, repository, intended, read, severity, pull, message, action (undefined: none)]
  const cases: [
    string,
    string,
    string,
    IntendedVisibility,
    AnonymousRead,
    Severity,
    AnonymousPull,
    RegExp,
    RegExp | undefined,
  ][] = [
    [
      "gcr public as configured",
      "gcr",
      GCR,
      gcr(true),
      PULLABLE,
      "ok",
      "works",
      /^`gcr\.io\/example-cq-release\/cq-source-s3` is public\.$/,
      undefined,
    ],
    [
      "ghcr public as configured",
      "ghcr",
      GHCR,
      ghcr(true),
      PULLABLE,
      "ok",
      "works",
      /is public\.$/,
      undefined,
    ],
    [
      "gcr refused although the program grants it: fails (the platform team has not applied it)",
      "gcr",
      GCR,
      gcr(true),
      DENIED,
      "fail",
      "refused",
      /is not public although gcrPublic is true: an anonymous pull of `sha256:0123.*` is refused \(HTTP 403\)\. The program grants allUsers read/,
      /^the platform team runs `pulumi up --stack prod` \(it creates `registries-public-reader`/,
    ],
    [
      "ghcr refused although meant public: only a person can fix it, so a warning with the settings page",
      "ghcr",
      GHCR,
      ghcr(true),
      DENIED,
      "warn",
      "refused",
      /is private although ghcrPublic is true: .*no API can change that/,
      new RegExp(
        `^an admin of the package opens ${SETTINGS.replaceAll(".", "\\.")} → "Change visibility" → Public`,
      ),
    ],
    [
      "gcr refused, meant public, repository not the program's (registries off): a warning with the grant",
      "gcr",
      GCR,
      gcr(true, false),
      DENIED,
      "warn",
      "refused",
      /the program does not manage the repository's IAM/,
      /^a project admin runs `gcloud artifacts repositories add-iam-policy-binding gcr\.io --project=example-cq-release --location=us --member=allUsers --role=roles\/artifactregistry\.reader`$/,
    ],
    [
      "gcr private by config: a note naming the config key",
      "gcr",
      GCR,
      gcr(false),
      DENIED,
      "note",
      "refused",
      /is private \(gcrPublic is false\): .*pulling needs credentials\.$/,
      /^to make it public: `pulumi config set gcrPublic true --stack prod`, then the platform team's `pulumi up --stack prod`$/,
    ],
    [
      "ghcr private by config: a note naming the key and the settings page",
      "ghcr",
      GHCR,
      ghcr(false),
      DENIED,
      "note",
      "refused",
      /is private \(ghcrPublic is false\)/,
      /^to make it public: `pulumi config set ghcrPublic true --stack prod`, and https:\/\/github\.com\/orgs\/.*→ Public$/,
    ],
    [
      "ghcr public although private by config: a warning",
      "ghcr",
      GHCR,
      ghcr(false),
      PULLABLE,
      "warn",
      "works",
      /is public although ghcrPublic is false: anyone can pull/,
      /"Change visibility" → Private, or set ghcrPublic true if it is meant to be public$/,
    ],
    [
      "gcr public although private by config (a pending removal, or a grant outside the program): a warning",
      "gcr",
      GCR,
      gcr(false),
      PULLABLE,
      "warn",
      "works",
      /is public although gcrPublic is false/,
      /^the platform team runs `pulumi up --stack prod`, which deletes the program's public reader \(a grant made outside the program: `gcloud artifacts repositories remove-iam-policy-binding gcr\.io/,
    ],
    [
      "could not check: a warning, never a failure",
      "gcr",
      GCR,
      gcr(true),
      ERROR,
      "warn",
      "unchecked",
      /could not be checked \(GET https:\/\/gcr\.io\/v2\/…: ECONNRESET\)/,
      /^re-run the GitHub Release job/,
    ],
    [
      "the local registry asking for credentials",
      "local",
      "127.0.0.1:5000/cq-source-s3",
      { public: true, setByProgram: false },
      { result: "refused", status: 401, detail: "d" },
      "warn",
      "refused",
      /asks for credentials: an anonymous pull of .* is refused \(HTTP 401\)/,
      /^serve the registry without authentication$/,
    ],
  ];
  for (const [what, key, repository, intended, read, severity, pull, message, action] of cases) {
    it(what, () => {
      const f = decideVisibility(
        { key, ref: `${repository}@${DIGEST}`, intended, read },
        { stack: "prod", ownerType: "Organization" },
      );
      assert.equal(f.severity, severity);
      assert.equal(f.pull, pull);
      assert.equal(f.key, key);
      assert.equal(f.repository, repository);
      assert.match(f.message, message);
      if (action === undefined) assert.equal(f.action, undefined);
      else assert.match(f.action ?? "", action);
    });
  }

  it("fails only where config says public and the program grants it", () => {
    const reads = [PULLABLE, DENIED, ERROR];
    const failing: string[] = [];
    for (const [key, repo, intendeds] of [
      ["gcr", GCR, [gcr(true), gcr(false), gcr(true, false), gcr(false, false)]],
      ["ghcr", GHCR, [ghcr(true), ghcr(false)]],
    ] as const) {
      for (const intended of intendeds) {
        for (const read of reads) {
          const f = decideVisibility({ key, ref: `${repo}@${DIGEST}`, intended, read });
          if (f.severity === "fail") failing.push(`${key} ${JSON.stringify(intended)} ${read.result}`);
        }
      }
    }
    assert.deepEqual(failing, ['gcr {"public":true,"key":"gcrPublic","setByProgram":true} refused']);
  });

  it("names the stack the release runs in", () => {
    const f = decideVisibility(
      { key: "gcr", ref: `${GCR}@${DIGEST}`, intended: gcr(true), read: DENIED },
      { stack: "staging" },
    );
    assert.match(f.action ?? "", /`pulumi up --stack staging`/);
  });
});

describe("public images: GHCR's package settings page", () => {
  const cases: [string, string | undefined, string][] = [
    [GHCR, "Organization", SETTINGS],
    [GHCR, "User", "https://github.com/users/example-org/packages/container/cq-source-s3/settings"],
    [
      GHCR,
      undefined,
      `${SETTINGS} (for a personal account: https://github.com/users/example-org/packages/container/cq-source-s3/settings)`,
    ],
    [
      "ghcr.io/example-org/team/cq-source-s3",
      "Organization",
      "https://github.com/orgs/example-org/packages/container/team%2Fcq-source-s3/settings",
    ],
  ];
  for (const [repository, type, want] of cases) {
    it(`${repository}, owned by ${type ?? "an owner of unknown type"}`, () =>
      assert.equal(ghcrSettingsUrl(repository, type), want));
  }
  it("refuses a repository of another registry", () => {
    assert.throws(() => ghcrSettingsUrl(GCR), /not a ghcr\.io repository/);
  });
  it("reads the owner's type from the workflow event", () => {
    assert.equal(
      eventOwnerType({ repository: { owner: { login: "x", type: "Organization" } } }),
      "Organization",
    );
    assert.equal(eventOwnerType({ repository: {} }), undefined);
    assert.equal(eventOwnerType(null), undefined);
  });
});

describe("public images: the stack output and the findings file", () => {
  it("reads registryVisibility as index.ts exports it", () => {
    const v = { gcr: gcr(true), ghcr: ghcr(true), local: { public: true, setByProgram: false } };
    assert.deepEqual(parseRegistryVisibility({ registryVisibility: v }), v);
  });
  const bad: [string, unknown, RegExp][] = [
    [
      "missing (outputs of a release before the check existed)",
      {},
      /stack output 'registryVisibility' must be an object/,
    ],
    ["empty", { registryVisibility: {} }, /must be an object/],
    [
      "an entry without public",
      { registryVisibility: { gcr: { setByProgram: true } } },
      /'registryVisibility\.gcr' is not/,
    ],
    [
      "an unknown key",
      { registryVisibility: { gcr: { public: true, setByProgram: true, key: "gcr" } } },
      /'registryVisibility\.gcr'/,
    ],
  ];
  for (const [what, outputs, message] of bad) {
    it(`refuses registryVisibility ${what}`, () =>
      assert.throws(() => parseRegistryVisibility(outputs), message));
  }
  it("refuses a malformed findings file", () => {
    assert.throws(() => parseFindings({}), /must be a JSON array/);
    assert.throws(
      () => parseFindings([{ key: "gcr", repository: GCR, pull: "works", severity: "bad", message: "m" }]),
      /visibility finding 0 is malformed/,
    );
  });
});

describe("public images: the job summary and the annotations", () => {
  const findings: VisibilityFinding[] = [
    {
      key: "ghcr",
      repository: GHCR,
      pull: "refused",
      severity: "warn",
      message: "`x` is private 100%.",
      action: "open a | b\nc",
    },
    { key: "gcr", repository: GCR, pull: "works", severity: "ok", message: "`y` is public." },
    { key: "local", repository: "l/x", pull: "refused", severity: "fail", message: "m", action: "a" },
    { key: "z", repository: "z/x", pull: "refused", severity: "note", message: "n" },
  ];
  it("annotates what needs a person, one escaped command each; nothing for ok", () => {
    assert.equal(
      visibilityAnnotations(findings),
      "::warning::`x` is private 100%25. **To do:** open a | b%0Ac.\n::error::m **To do:** a.\n::notice::n\n",
    );
  });
  it("summarises every ref in a table, escaping pipes", () => {
    const s = visibilitySummary(findings);
    assert.ok(
      s.startsWith("### Anonymous pulls\n\n| registry | anonymous pull | finding |\n|---|---|---|\n"),
      s,
    );
    assert.ok(
      s.includes(`| ⚠️ \`${GHCR}\` | refused | \`x\` is private 100%. **To do:** open a \\| b c. |`),
      s,
    );
    assert.ok(s.includes(`| ✅ \`${GCR}\` | works | \`y\` is public. |`), s);
  });
  it("orders severities fail, warn, note, ok", () => {
    assert.equal(worstSeverity(findings), "fail");
    assert.equal(worstSeverity(findings.slice(0, 2)), "warn");
    assert.equal(worstSeverity([]), "ok");
  });
});

describe("public images: the check against a registry (gcr + ghcr paths on one in-process registry)", () => {
  const registry = new FakeRegistry();
  const GCR_PATH = "example-cq-release/cq-source-s3";
  const GHCR_PATH = "example-org/cq-source-s3";
  // Credentials in the environment must not reach the registry.
  const env = { GCR_TOKEN: "ya29.token", GHCR_USERNAME: "release-bot", GHCR_TOKEN: "ghs_token" };
  let index = "";
  const asked: string[] = [];
  const reader = (address: string) => {
    asked.push(address);
    return anonymousReaders(env, "http")(registry.address);
  };
  const outputs = (
    visibility: Record<string, IntendedVisibility> = { gcr: gcr(true), ghcr: ghcr(true) },
  ) => ({
    imageDigest: index,
    imageRefs: { gcr: `${GCR}@${index}`, ghcr: `${GHCR}@${index}` },
    imageTags: ["v1.2.3-abc1234", "v1.2.3"],
    platforms: ["linux/amd64", "linux/arm64"],
    registryVisibility: visibility,
  });
  const check = (o: unknown = outputs()) => checkAnonymousPulls(o, { ownerType: "Organization" }, reader);

  before(() => registry.start());
  after(() => registry.stop());
  beforeEach(() => {
    registry.repos.clear();
    registry.denied.clear();
    registry.requests.length = 0;
    registry.anonymousTokens = true;
    asked.length = 0;
    // Registries that give anyone a token, and serve only to those allowed.
    registry.auth = {
      kind: "bearer",
      users: { oauth2accesstoken: "ya29.token", "release-bot": "ghs_token" },
    };
    index = pushRelease(registry.repo(GCR_PATH), COMMIT, ["v1.2.3"]).index;
    pushRelease(registry.repo(GHCR_PATH), COMMIT, ["v1.2.3"]);
  });

  it("finds both public through the anonymous token flow, ghcr first, without sending a credential", async () => {
    const got = await check();
    assert.deepEqual(
      got.map((f) => [f.key, f.severity, f.pull]),
      [
        ["ghcr", "ok", "works"],
        ["gcr", "ok", "works"],
      ],
    );
    assert.deepEqual(asked, ["ghcr.io", "gcr.io"]);
    assert.ok(
      registry.requests.some((r) => r.url.startsWith("/token")),
      "the token flow ran",
    );
    for (const r of registry.requests) {
      assert.ok(
        r.authorization === undefined || r.authorization.startsWith("Bearer tok-anonymous-"),
        `${r.url}: ${r.authorization}`,
      );
    }
    // By digest, never by tag.
    const manifests = registry.requests.filter((r) => r.url.includes("/manifests/"));
    assert.ok(manifests.length >= 2 && manifests.every((r) => r.url.endsWith(`/manifests/${index}`)));
  });

  it("warns with the settings page when the ghcr package is private (403 DENIED)", async () => {
    registry.denied.add(GHCR_PATH);
    const [g, c] = await check();
    assert.deepEqual([g.key, g.severity, g.pull], ["ghcr", "warn", "refused"]);
    assert.match(g.message, /refused \(HTTP 403\)/);
    assert.match(g.action ?? "", new RegExp(SETTINGS.replaceAll(".", "\\.")));
    assert.equal(c.severity, "ok");
  });

  it("fails gcr when the realm gives strangers no token although gcrPublic is true", async () => {
    registry.anonymousTokens = false;
    const [g, c] = await check();
    assert.deepEqual([c.key, c.severity], ["gcr", "fail"]);
    assert.match(c.message, /refused \(HTTP 401\)/);
    assert.equal(g.severity, "warn");
  });

  it("notes registries that are private by config and refuse", async () => {
    registry.denied.add(GCR_PATH);
    registry.denied.add(GHCR_PATH);
    const got = await check(outputs({ gcr: gcr(false), ghcr: ghcr(false) }));
    assert.deepEqual(
      got.map((f) => f.severity),
      ["note", "note"],
    );
  });

  it("counts a digest the registry does not have for strangers (404) as refused", async () => {
    registry.repos.delete(GHCR_PATH);
    assert.deepEqual(await readAnonymously(`${GHCR}@${index}`, reader), {
      result: "refused",
      status: 404,
      detail: "manifest unknown",
    });
  });

  it("warns, never fails, when the registry cannot be reached (unchecked)", async () => {
    const dead = (address: string) =>
      anonymousReaders({}, "http")(address === "gcr.io" ? "127.0.0.1:1" : registry.address);
    const got = await checkAnonymousPulls(outputs(), {}, dead);
    const c = got.find((f) => f.key === "gcr");
    assert.equal(c?.severity, "warn");
    assert.equal(c?.pull, "unchecked");
    assert.match(c?.message ?? "", /could not be checked/);
  });

  it("refuses outputs that publish a registry registryVisibility does not cover", async () => {
    await assert.rejects(
      check(outputs({ gcr: gcr(true) })),
      /'registryVisibility' has no entry for the published registry ghcr/,
    );
  });
});

describe("public images: the release workflow runs the check in order, without credentials", () => {
  const workflow = yaml.load(
    readFileSync(path.join(__dirname, "..", ".github", "workflows", "release.yml"), "utf8"),
  ) as { jobs: Record<string, { steps: { run?: string; env?: Record<string, string> }[] }> };
  const steps = workflow.jobs["github-release"].steps;
  const at = (script: string) => steps.findIndex((s) => (s.run ?? "").includes(script));

  it("checks after the evidence, before the body; enforces after the Release exists", () => {
    const order = [
      "evidence.sh assets",
      "visibility.sh check",
      "notes.sh",
      "github-release.sh",
      "visibility.sh enforce",
    ].map(at);
    assert.ok(
      order.every((i) => i >= 0),
      JSON.stringify(order),
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
  });
  it("gives the check the stack outputs and no token", () => {
    const env = steps[at("visibility.sh check")].env ?? {};
    assert.deepEqual(Object.keys(env), ["STACK_OUTPUTS"]);
  });
});
