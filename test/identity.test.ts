import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { attributeCondition, attributeMapping, validateWifSettings } from "../lib/wif";
import { byName, plain, registrations, settle, setupMocks, unwrap, type Registration } from "./mocks";
import { exchange, inPrincipalSet } from "./claims/sts";
import { CASES, REPO } from "./claims/tokens";
import type * as IdentityModule from "../components/identity";

const ARGS = { project: "cq-release-prod", ...REPO, stateBucket: "cq-release-state" } as const;
const POOL_NAME = "projects/123456789012/locations/global/workloadIdentityPools/github-actions";

const T = {
  component: "cq-release:identity:GitHubIdentity",
  service: "gcp:projects/service:Service",
  pool: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
  provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  account: "gcp:serviceaccount/account:Account",
  saMember: "gcp:serviceaccount/iAMMember:IAMMember",
  bucketMember: "gcp:storage/bucketIAMMember:BucketIAMMember",
  key: "gcp:serviceaccount/key:Key",
  wait: "time:index/sleep:Sleep",
};

/** Captures console.warn, where pulumi.log.warn writes when no engine is attached (mocks). */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  try {
    return { result: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

describe("GitHubIdentity component (Pulumi mocks)", () => {
  let identity: typeof IdentityModule;

  before(async () => {
    await setupMocks();
    identity = await import("../components/identity");
  });

  async function create(name: string, extra: Partial<IdentityModule.GitHubIdentityArgs> = {}) {
    await setupMocks();
    const { result, warnings } = await captureWarnings(async () => {
      const c = new identity.GitHubIdentity(name, { ...ARGS, ...extra });
      await unwrap(c.providerName);
      await unwrap(c.releaseMember);
      await unwrap(c.previewPrincipalSet);
      await settle();
      return c;
    });
    return { c: result, warnings, regs: [...registrations] };
  }

  const ofType = (regs: Registration[], type: string) => regs.filter((r) => r.type === type);

  it("registers exactly the expected resources, named from the component name", async () => {
    const { regs } = await create("gh");
    assert.deepEqual(
      regs.map((r) => `${r.type} ${r.name}`).sort(),
      [
        `${T.component} gh`,
        `${T.service} gh-iam`,
        `${T.service} gh-iamcredentials`,
        `${T.service} gh-sts`,
        `${T.pool} gh-pool`,
        `${T.provider} gh-provider`,
        `${T.account} gh-release-sa`,
        `${T.account} gh-preview-sa`,
        `${T.saMember} gh-release-wif-user`,
        `${T.saMember} gh-preview-wif-user`,
        `${T.bucketMember} gh-release-state`,
        `${T.bucketMember} gh-preview-state`,
        `${T.wait} gh-api-wait`,
      ].sort(),
    );
    for (const r of regs.filter((x) => x.custom)) assert.match(r.parent, /GitHubIdentity::gh$/, r.name);
  });

  it("protects the pool and the provider (ids are reserved 30 days after deletion), nothing else", async () => {
    const { regs } = await create("gh-protect");
    const protectedNames = regs.filter((r) => r.protect).map((r) => r.name);
    assert.deepEqual(protectedNames.sort(), ["gh-protect-pool", "gh-protect-provider"]);
  });

  it("configures the GitHub OIDC provider with the exact CEL from lib/wif.ts", async () => {
    await create("gh-cel");
    const pool = plain(byName("gh-cel-pool").inputs) as Record<string, unknown>;
    assert.equal(pool.workloadIdentityPoolId, "github-actions");
    assert.equal(pool.project, "cq-release-prod");
    const provider = plain(byName("gh-cel-provider").inputs) as Record<string, unknown>;
    const wif = validateWifSettings(REPO);
    assert.equal(provider.workloadIdentityPoolProviderId, "github");
    assert.equal(provider.workloadIdentityPoolId, "github-actions");
    assert.deepEqual(provider.oidc, { issuerUri: "https://token.actions.githubusercontent.com" });
    assert.deepEqual(provider.attributeMapping, attributeMapping(wif));
    assert.equal(provider.attributeCondition, attributeCondition(wif));
    assert.match(
      String(provider.attributeCondition),
      /^assertion\.repository_owner_id == '81234567' && assertion\.repository_id == '712345678' /,
    );
  });

  it("lets each service account be impersonated by exactly one principalSet", async () => {
    const { regs } = await create("gh-bind");
    const bindings = ofType(regs, T.saMember).map((r) => plain(r.inputs));
    assert.deepEqual(bindings, [
      {
        serviceAccountId: "projects/cq-release-prod/serviceAccounts/cq-source-s3-release",
        role: "roles/iam.workloadIdentityUser",
        member: `principalSet://iam.googleapis.com/${POOL_NAME}/attribute.access/release`,
      },
      {
        serviceAccountId: "projects/cq-release-prod/serviceAccounts/cq-source-s3-preview",
        role: "roles/iam.workloadIdentityUser",
        member: `principalSet://iam.googleapis.com/${POOL_NAME}/attribute.access/preview`,
      },
    ]);
    for (const r of regs) {
      assert.ok(!/projects\/iAM|organizations\/iAM|folder\/iAM/.test(r.type), `project-level IAM: ${r.type}`);
      assert.ok(!JSON.stringify(plain(r.inputs)).includes("/*"), `wildcard member in ${r.name}`);
    }
  });

  it("grants object read/write on the state bucket to release and read to preview, on that bucket only", async () => {
    const { regs } = await create("gh-state", { stateBucket: "gs://cq-release-state/pulumi" });
    assert.deepEqual(
      ofType(regs, T.bucketMember).map((r) => plain(r.inputs)),
      [
        {
          bucket: "cq-release-state",
          role: "roles/storage.objectUser",
          member: "serviceAccount:cq-source-s3-release@cq-release-prod.iam.gserviceaccount.com",
        },
        {
          bucket: "cq-release-state",
          role: "roles/storage.objectViewer",
          member: "serviceAccount:cq-source-s3-preview@cq-release-prod.iam.gserviceaccount.com",
        },
      ],
    );
    const none = await create("gh-nostate", { stateBucket: undefined });
    assert.equal(ofType(none.regs, T.bucketMember).length, 0);
  });

  it("exposes the provider name, emails, members and principal sets", async () => {
    const { c } = await create("gh-out");
    assert.equal(await unwrap(c.providerName), `${POOL_NAME}/providers/github`);
    assert.equal(
      await unwrap(c.releaseServiceAccountEmail),
      "cq-source-s3-release@cq-release-prod.iam.gserviceaccount.com",
    );
    assert.equal(
      await unwrap(c.previewServiceAccountEmail),
      "cq-source-s3-preview@cq-release-prod.iam.gserviceaccount.com",
    );
    assert.equal(
      await unwrap(c.releaseMember),
      "serviceAccount:cq-source-s3-release@cq-release-prod.iam.gserviceaccount.com",
    );
    assert.equal(
      await unwrap(c.previewMember),
      "serviceAccount:cq-source-s3-preview@cq-release-prod.iam.gserviceaccount.com",
    );
    assert.equal(
      await unwrap(c.releasePrincipalSet),
      `principalSet://iam.googleapis.com/${POOL_NAME}/attribute.access/release`,
    );
    assert.equal(await unwrap(c.pool.name), POOL_NAME);
  });

  it("creates no service-account key and logs no warning by default", async () => {
    const { c, regs, warnings } = await create("gh-nokey");
    assert.equal(ofType(regs, T.key).length, 0);
    assert.equal(c.releaseServiceAccountKey, undefined);
    assert.deepEqual(warnings, []);
  });

  it("creates a key only when allowServiceAccountKeys, warns loudly and keeps it secret", async () => {
    const { c, regs, warnings } = await create("gh-key", { allowServiceAccountKeys: true });
    const keys = ofType(regs, T.key);
    assert.equal(keys.length, 1);
    assert.equal(
      plain(keys[0].inputs.serviceAccountId),
      "projects/cq-release-prod/serviceAccounts/cq-source-s3-release",
    );
    assert.ok(keys[0].additionalSecretOutputs.includes("privateKey"), "privateKey is a secret output");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /allowServiceAccountKeys is true.*long-lived JSON key/);
    assert.ok(c.releaseServiceAccountKey !== undefined);
    assert.equal(await pulumi.isSecret(c.releaseServiceAccountKey), true);
  });

  it("can leave API enablement to someone else, and never disables APIs on destroy", async () => {
    const on = await create("gh-apis");
    for (const r of ofType(on.regs, T.service)) assert.equal(plain(r.inputs.disableOnDestroy), false);
    const off = await create("gh-noapis", { enableApis: false });
    assert.equal(ofType(off.regs, T.service).length, 0);
    assert.equal(ofType(off.regs, T.wait).length, 0);
  });

  const invalid: [string, Partial<IdentityModule.GitHubIdentityArgs>, RegExp][] = [
    ["a non-numeric ownerId", { ownerId: "cq-demo" }, /invalid ownerId "cq-demo"/],
    ["a repositoryId with a quote", { repositoryId: "1' || true || '" }, /invalid repositoryId/],
    ["a reserved pool id", { poolId: "gcp-github" }, /invalid poolId "gcp-github"/],
    ["a short provider id", { providerId: "gh" }, /invalid providerId "gh"/],
    ["an invalid project", { project: "My Project" }, /invalid project "My Project"/],
    [
      "a state bucket URL of another scheme",
      { stateBucket: "s3://bucket" },
      /invalid stateBucket "s3:\/\/bucket"/,
    ],
    [
      "the same account id twice",
      { previewServiceAccountId: "cq-source-s3-release" },
      /invalid previewServiceAccountId/,
    ],
    [
      "a non-boolean key switch",
      { allowServiceAccountKeys: "yes" as unknown as boolean },
      /invalid allowServiceAccountKeys "yes"/,
    ],
  ];
  for (const [what, patch, re] of invalid) {
    it(`rejects ${what} before registering anything`, async () => {
      await setupMocks();
      assert.throws(() => new identity.GitHubIdentity("gh-bad", { ...ARGS, ...patch }), re);
      await settle();
      assert.equal(registrations.length, 0);
    });
  }

  it("the CEL and members it registers pass the whole claim matrix", async () => {
    const { c } = await create("gh-matrix");
    const provider = plain(byName("gh-matrix-provider").inputs) as {
      attributeMapping: Record<string, string>;
      attributeCondition: string;
    };
    const members = plain(
      registrations.filter((r) => r.type === T.saMember).map((r) => r.inputs.member),
    ) as string[];
    const pool = await unwrap(c.pool.name);
    for (const k of CASES) {
      const result = exchange(provider.attributeMapping, provider.attributeCondition, k.claims);
      const granted = members.filter((m) => inPrincipalSet(result, pool, m));
      const expected =
        k.outcome === "denied"
          ? []
          : [`principalSet://iam.googleapis.com/${POOL_NAME}/attribute.access/${k.outcome}`];
      assert.deepEqual(granted, expected, k.name);
    }
  });
});
