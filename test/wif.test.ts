import { strict as assert } from "node:assert";
import {
  ACCESS_PREVIEW,
  ACCESS_RELEASE,
  MAPPED_CLAIMS,
  MAX_CONDITION_CHARS,
  MAX_MAPPING_CHARS,
  accessExpression,
  attributeCondition,
  attributeMapping,
  celString,
  principalSetMember,
  validateServiceAccountId,
  validateWifId,
  validateWifSettings,
  type Access,
  type WifSettingsInput,
} from "../lib/wif";
import { evaluate, exchange, inPrincipalSet, type Claims } from "./claims/sts";
import githubDocsExample from "./claims/github-docs-example.json";
import { CASES, POOL_NAME, REPO, releaseTag, token, type Outcome } from "./claims/tokens";

const settings = validateWifSettings(REPO);
const mapping = attributeMapping(settings);
const condition = attributeCondition(settings);
const members = {
  release: principalSetMember(POOL_NAME, ACCESS_RELEASE),
  preview: principalSetMember(POOL_NAME, ACCESS_PREVIEW),
};

/** What a token may impersonate, through the exact bound members. */
function outcomeOf(m: Record<string, string>, cond: string, claims: Claims): Outcome {
  const result = exchange(m, cond, claims);
  const asRelease = inPrincipalSet(result, POOL_NAME, members.release);
  const asPreview = inPrincipalSet(result, POOL_NAME, members.preview);
  assert.ok(!(asRelease && asPreview), "a token must never be both release and preview");
  return asRelease ? "release" : asPreview ? "preview" : "denied";
}

describe("WIF CEL executed against GitHub OIDC claim sets", () => {
  it("covers at least 20 claim sets, allowed and denied", () => {
    assert.ok(CASES.length >= 20, `only ${CASES.length} cases`);
    for (const o of ["release", "preview", "denied"]) {
      assert.ok(
        CASES.some((c) => c.outcome === o),
        `no case with outcome ${o}`,
      );
    }
  });

  it("builds tokens with every claim GitHub's documented example carries", () => {
    const documented = Object.keys(githubDocsExample).filter((k) => k !== "environment");
    for (const claims of [
      releaseTag(),
      token({ event: "push", ref: "refs/heads/main", workflow: "preview.yml" }),
    ]) {
      assert.deepEqual(
        Object.keys(claims)
          .filter((k) => k !== "environment")
          .sort(),
        documented.sort(),
      );
    }
  });

  for (const c of CASES) {
    it(`${c.outcome === "denied" ? "denies" : `allows as ${c.outcome}`}: ${c.name}`, () => {
      const result = exchange(mapping, condition, c.claims);
      assert.equal(result.ok, c.accepted, `accepted (${result.ok ? "ok" : result.reason})`);
      assert.equal(result.attributes.access, c.access, "attribute.access");
      assert.equal(outcomeOf(mapping, condition, c.claims), c.outcome, "outcome");
    });
  }

  it("never errors in the access mapping, whatever claims are missing", () => {
    const full = releaseTag();
    for (const key of Object.keys(full)) {
      const claims = Object.fromEntries(Object.entries(full).filter(([k]) => k !== key));
      const r = evaluate(mapping["attribute.access"], {
        assertion: new Map(Object.entries(claims)) as never,
      });
      assert.ok("value" in r, `missing ${key}: ${"error" in r ? r.error : ""}`);
      assert.equal(r.value, isReleaseClaim(key) ? "none" : ACCESS_RELEASE, `missing ${key}`);
    }
  });

  it("the condition alone rejects another repository even when it maps to release", () => {
    // Defence in depth: the ids are pinned in the condition, not only inside attribute.access.
    const other = token({
      repositoryId: "799999999",
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    });
    const r = evaluate(condition, {
      assertion: new Map(Object.entries(other)) as never,
      attribute: new Map([["access", "release"]]),
      google: new Map([["subject", "x"]]),
    });
    assert.deepEqual(r, { value: false });
  });

  it("maps the sub claim to google.subject and bounds every mapped value to 127 bytes", () => {
    const ok = exchange(mapping, condition, releaseTag());
    assert.ok(ok.ok);
    assert.equal(ok.subject, "repo:cq-demo/cq-source-s3:environment:release");
    assert.equal(ok.attributes.repository_id, REPO.repositoryId);
    assert.equal(
      ok.attributes.job_workflow_ref,
      "cq-demo/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3",
    );
    const longBranch = exchange(
      mapping,
      "true",
      token({ event: "push", ref: `refs/heads/${"b".repeat(150)}`, workflow: "preview.yml" }),
    );
    assert.ok(longBranch.ok, longBranch.ok ? "" : longBranch.reason);
    assert.equal(longBranch.attributes.ref, "~too-long");
    assert.equal(longBranch.subject, "run:712345678/11223344556/1");
  });

  it("has teeth: a permissive mapping or condition is caught by the matrix", () => {
    const naive = {
      ...mapping,
      "attribute.access": "assertion.event_name == 'push' ? 'release' : 'preview'",
    };
    const wrong = CASES.filter((c) => outcomeOf(naive, "true", c.claims) !== c.outcome);
    assert.ok(wrong.length >= 10, `only ${wrong.length} cases caught the naive mapping`);
  });
});

function isReleaseClaim(key: string): boolean {
  return [
    "repository_owner_id",
    "repository_id",
    "event_name",
    "ref",
    "ref_type",
    "job_workflow_ref",
    "environment",
  ].includes(key);
}

describe("WIF CEL text", () => {
  it("maps google.subject, the informational claims and attribute.access, within length limits", () => {
    assert.deepEqual(
      Object.keys(mapping).sort(),
      ["attribute.access", ...MAPPED_CLAIMS.map((c) => `attribute.${c}`), "google.subject"].sort(),
    );
    for (const [key, expr] of Object.entries(mapping)) {
      assert.ok(expr.length <= MAX_MAPPING_CHARS, `${key} is ${expr.length} chars`);
      assert.ok(!("error" in evaluate(expr, { assertion: new Map() })) || key === "google.subject", key);
    }
    assert.ok(condition.length <= MAX_CONDITION_CHARS);
  });

  it("pins the numeric owner and repository ids in the condition", () => {
    assert.equal(
      condition,
      "assertion.repository_owner_id == '81234567' && assertion.repository_id == '712345678'" +
        " && attribute.access in ['release', 'preview']",
    );
  });

  it("builds principalSet members from the pool's full name, never a wildcard", () => {
    assert.equal(
      members.release,
      "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-actions/attribute.access/release",
    );
    assert.equal(
      members.preview,
      "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-actions/attribute.access/preview",
    );
    for (const bad of [
      "*",
      "github-actions",
      "projects/my-project/locations/global/workloadIdentityPools/github-actions",
      `${POOL_NAME}/*`,
      "",
    ]) {
      assert.throws(() => principalSetMember(bad, ACCESS_RELEASE), /invalid pool name/, bad);
    }
    assert.throws(() => principalSetMember(POOL_NAME, "*" as Access), /invalid access "\*"/);
    assert.throws(() => principalSetMember(POOL_NAME, "none" as Access), /invalid access "none"/);
  });

  it("follows other settings: tag prefix, default branch, workflow files, environment", () => {
    const s = validateWifSettings({
      ...REPO,
      releaseTagPrefix: "release/v",
      defaultBranch: "trunk",
      releaseWorkflow: "publish.yaml",
      previewWorkflow: "plan.yml",
      releaseEnvironment: "production",
    });
    const m = attributeMapping(s);
    const c = attributeCondition(s);
    const table: [Claims, Outcome][] = [
      [
        token({
          event: "push",
          ref: "refs/tags/release/v2.0.0",
          workflow: "publish.yaml",
          environment: "production",
        }),
        "release",
      ],
      [
        token({
          event: "push",
          ref: "refs/tags/v2.0.0",
          workflow: "publish.yaml",
          environment: "production",
        }),
        "denied",
      ],
      [
        token({
          event: "push",
          ref: "refs/tags/release/v2.0.0",
          workflow: "release.yml",
          environment: "production",
        }),
        "denied",
      ],
      [
        token({
          event: "push",
          ref: "refs/tags/release/v2.0.0",
          workflow: "publish.yaml",
          environment: "release",
        }),
        "denied",
      ],
      [token({ event: "push", ref: "refs/heads/trunk", workflow: "plan.yml" }), "preview"],
      [token({ event: "push", ref: "refs/heads/main", workflow: "plan.yml" }), "denied"],
      [token({ event: "pull_request", ref: "refs/pull/3/merge", workflow: "plan.yml" }), "preview"],
      [token({ event: "pull_request", ref: "refs/pull/3/merge", workflow: "preview.yml" }), "denied"],
    ];
    for (const [claims, expected] of table) {
      assert.equal(
        outcomeOf(m, c, claims),
        expected,
        `${String(claims.event_name)} ${String(claims.ref)} ${String(claims.job_workflow_ref)}`,
      );
    }
  });

  it("writes the release workflow path into the access expression", () => {
    assert.ok(
      accessExpression(settings).includes(
        "'cq-demo/cq-source-s3/.github/workflows/release.yml@' + assertion.ref",
      ),
    );
  });
});

describe("WIF settings validation", () => {
  const base: WifSettingsInput = { ...REPO };
  const invalid: [string, Partial<WifSettingsInput>, RegExp][] = [
    ["ownerId not numeric", { ownerId: "cq-demo" }, /invalid ownerId "cq-demo"/],
    ["ownerId with a quote", { ownerId: "1' || true || '" }, /invalid ownerId/],
    ["ownerId with leading zero", { ownerId: "0123" }, /invalid ownerId "0123"/],
    ["repositoryId empty", { repositoryId: "" }, /invalid repositoryId ""/],
    [
      "repositoryId numeric type",
      { repositoryId: 712345678 as unknown as string },
      /invalid repositoryId 712345678/,
    ],
    ["owner with a quote", { owner: "cq'demo" }, /invalid owner "cq'demo"/],
    ["owner too long", { owner: "a".repeat(40) }, /invalid owner/],
    [
      "repository with owner",
      { repository: "cq-demo/cq-source-s3" },
      /invalid repository "cq-demo\/cq-source-s3"/,
    ],
    ["repository with backslash", { repository: "cq\\x" }, /invalid repository/],
    ["repository ..", { repository: ".." }, /invalid repository/],
    ["defaultBranch with a quote", { defaultBranch: "main' || true || '" }, /invalid defaultBranch/],
    ["defaultBranch with ..", { defaultBranch: "a..b" }, /invalid defaultBranch/],
    ["defaultBranch too long for an attribute", { defaultBranch: "b".repeat(120) }, /fits in 127 bytes/],
    ["releaseTagPrefix empty", { releaseTagPrefix: "" }, /invalid releaseTagPrefix ""/],
    ["releaseTagPrefix wildcard", { releaseTagPrefix: "v*" }, /invalid releaseTagPrefix "v\*"/],
    ["releaseTagPrefix ending in a digit", { releaseTagPrefix: "v1" }, /not ending in a digit/],
    ["releaseTagPrefix with a quote", { releaseTagPrefix: "v'" }, /invalid releaseTagPrefix/],
    ["releaseWorkflow not yaml", { releaseWorkflow: "release.sh" }, /invalid releaseWorkflow/],
    ["releaseWorkflow with a path", { releaseWorkflow: "../x.yml" }, /invalid releaseWorkflow/],
    ["same release and preview workflow", { previewWorkflow: "release.yml" }, /invalid previewWorkflow/],
    ["releaseEnvironment with a quote", { releaseEnvironment: "prod'" }, /invalid releaseEnvironment/],
  ];
  for (const [name, patch, re] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => validateWifSettings({ ...base, ...patch }), re);
    });
  }

  it("applies defaults and accepts a realistic config", () => {
    assert.deepEqual(validateWifSettings(base), {
      ...REPO,
      defaultBranch: "main",
      releaseTagPrefix: "v",
      releaseWorkflow: "release.yml",
      previewWorkflow: "preview.yml",
      releaseEnvironment: "release",
    });
  });

  it("refuses quotes, backslashes and control characters in CEL literals", () => {
    assert.equal(celString("refs/tags/v1"), "'refs/tags/v1'");
    for (const bad of ["a'b", 'a"b', "a\\b", "a\nb", "é"]) assert.throws(() => celString(bad), /refusing/);
  });

  it("validates pool, provider and service-account ids", () => {
    assert.equal(validateWifId("poolId", "github-actions"), "github-actions");
    for (const bad of ["gcp-pool", "abc", "UPPER", "a".repeat(33), "-pool", "pool-"]) {
      assert.throws(() => validateWifId("poolId", bad), /invalid poolId/, bad);
    }
    assert.equal(validateServiceAccountId("sa", "cq-source-s3-release"), "cq-source-s3-release");
    for (const bad of ["short", "1starts-with-digit", "ends-with-", "a".repeat(31)]) {
      assert.throws(() => validateServiceAccountId("sa", bad), /invalid sa/, bad);
    }
  });
});
