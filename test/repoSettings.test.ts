import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { byName, customResources, isSecretInput, plain, settle, setupMocks, unwrap } from "./mocks";

const VARIABLES = {
  GCP_PROJECT_ID: "example-cq-release",
  GCP_WORKLOAD_IDENTITY_PROVIDER:
    "projects/123456789012/locations/global/workloadIdentityPools/github-actions/providers/github",
  GCP_RELEASE_SERVICE_ACCOUNT: "cq-source-s3-release@example-cq-release.iam.gserviceaccount.com",
  GCP_PREVIEW_SERVICE_ACCOUNT: "cq-source-s3-preview@example-cq-release.iam.gserviceaccount.com",
  PULUMI_BACKEND_URL: "gs://example-state",
};

const BOOTSTRAP_TOKEN = "ghp_bootstrapAdminToken0123456789abcdef";

describe("repoSettings component", () => {
  let tokenAfterConstruction: string | undefined;
  let settings: InstanceType<typeof import("../components/repoSettings").RepoSettings>;

  before(async () => {
    await setupMocks();
    const { RepoSettings } = await import("../components/repoSettings");
    // As at bootstrap: the admin's token is in the environment of `pulumi up`.
    const before = process.env.GITHUB_TOKEN;
    process.env.GITHUB_TOKEN = BOOTSTRAP_TOKEN;
    try {
      settings = new RepoSettings("repo", {
        owner: "example-org",
        repository: "cq-source-s3",
        variables: { ...VARIABLES, GCP_PROJECT_ID: pulumi.output(VARIABLES.GCP_PROJECT_ID) },
        pulumiConfigPassphrase: pulumi.secret("correct horse"),
      });
      tokenAfterConstruction = process.env.GITHUB_TOKEN;
    } finally {
      if (before === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = before;
    }
    await unwrap(settings.rulesetId);
    await settle();
  });

  it("registers the component with its token", () => {
    assert.equal(byName("repo").type, "cq-release:repoSettings:RepoSettings");
  });

  it("uses its own GitHub provider pinned to the configured owner", () => {
    const provider = byName("repo-github");
    assert.equal(provider.type, "pulumi:providers:github");
    assert.equal(provider.inputs.owner, "example-org");
    for (const r of customResources().filter((r) => r.type.startsWith("github:"))) {
      assert.match(r.provider, /pulumi:providers:github::repo-github::/, r.name);
    }
  });

  it("keeps the bootstrap GITHUB_TOKEN out of the provider's inputs (they are saved in state)", () => {
    const provider = byName("repo-github");
    assert.equal(provider.inputs.token, undefined);
    assert.ok(!JSON.stringify(customResources().map((r) => r.inputs)).includes(BOOTSTRAP_TOKEN));
    // The variable is only hidden while the provider is constructed; the plugin process reads it.
    assert.equal(tokenAfterConstruction, BOOTSTRAP_TOKEN);
  });

  it("writes exactly the contracted Actions variables with stable names", () => {
    const vars = customResources().filter((r) => r.type === "github:index/actionsVariable:ActionsVariable");
    assert.deepEqual(Object.fromEntries(vars.map((v) => [v.inputs.variableName, v.inputs.value])), VARIABLES);
    assert.ok(vars.every((v) => v.inputs.repository === "cq-source-s3"));
    assert.ok(byName("repo-var-gcp-workload-identity-provider"));
    assert.deepEqual(settings.variableNames, Object.keys(VARIABLES).sort());
  });

  it("stores PULUMI_CONFIG_PASSPHRASE as a secret and keeps its value secret", async () => {
    const secret = byName("repo-secret-pulumi-config-passphrase");
    assert.equal(secret.type, "github:index/actionsSecret:ActionsSecret");
    assert.equal(secret.inputs.secretName, "PULUMI_CONFIG_PASSPHRASE");
    assert.equal(isSecretInput(secret.inputs.value), true);
    assert.equal(plain(secret.inputs.value), "correct horse");
    assert.ok(secret.additionalSecretOutputs.includes("value"), secret.additionalSecretOutputs.join());
    // No variable carries a secret.
    for (const v of customResources().filter((r) => r.type.endsWith("ActionsVariable"))) {
      assert.equal(isSecretInput(v.inputs.value), false, v.name);
    }
  });

  it("manages no CLOUDQUERY_API_KEY while Hub publishing is off (no key given)", () => {
    assert.deepEqual(
      customResources()
        .filter((r) => r.type === "github:index/actionsSecret:ActionsSecret")
        .map((r) => r.inputs.secretName),
      ["PULUMI_CONFIG_PASSPHRASE"],
    );
  });

  it("stores CLOUDQUERY_API_KEY as a secret when given one (Hub publishing on)", async () => {
    const { RepoSettings } = await import("../components/repoSettings");
    const hub = new RepoSettings("hub", {
      owner: "example-org",
      repository: "cq-source-s3",
      variables: VARIABLES,
      pulumiConfigPassphrase: pulumi.secret("correct horse"),
      cloudqueryApiKey: pulumi.secret("cqhub_0123456789"),
    });
    await unwrap(hub.rulesetId);
    await settle();
    const secret = byName("hub-secret-cloudquery-api-key");
    assert.equal(secret.type, "github:index/actionsSecret:ActionsSecret");
    assert.equal(secret.inputs.secretName, "CLOUDQUERY_API_KEY");
    assert.equal(secret.inputs.repository, "cq-source-s3");
    assert.equal(isSecretInput(secret.inputs.value), true);
    assert.equal(plain(secret.inputs.value), "cqhub_0123456789");
    assert.ok(secret.additionalSecretOutputs.includes("value"), secret.additionalSecretOutputs.join());
  });

  it("limits the release environment to v* tags, admins cannot bypass", async () => {
    const env = byName("repo-env-release");
    assert.equal(env.type, "github:index/repositoryEnvironment:RepositoryEnvironment");
    assert.equal(env.inputs.environment, "release");
    assert.equal(env.inputs.canAdminsBypass, false);
    assert.deepEqual(env.inputs.deploymentBranchPolicy, {
      protectedBranches: false,
      customBranchPolicies: true,
    });
    const policy = byName("repo-env-release-tags");
    assert.equal(
      policy.type,
      "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
    );
    assert.equal(policy.inputs.tagPattern, "v*");
    assert.equal(policy.inputs.branchPattern, undefined);
    assert.equal(await unwrap(settings.environment), "release");
  });

  it("protects refs/tags/v* against deletion, moves and creation by non-admins", () => {
    const ruleset = byName("repo-release-tags");
    assert.equal(ruleset.type, "github:index/repositoryRuleset:RepositoryRuleset");
    assert.equal(ruleset.inputs.target, "tag");
    assert.equal(ruleset.inputs.enforcement, "active");
    assert.deepEqual(ruleset.inputs.conditions, { refName: { includes: ["refs/tags/v*"], excludes: [] } });
    assert.deepEqual(ruleset.inputs.rules, {
      creation: true,
      deletion: true,
      update: true,
      nonFastForward: true,
    });
    assert.deepEqual(ruleset.inputs.bypassActors, [
      { actorType: "RepositoryRole", actorId: 5, bypassMode: "always" },
    ]);
  });

  it("derives variable logical names from the variable name", async () => {
    const { variableSlug } = await import("../components/repoSettings");
    assert.equal(variableSlug("GCP_WORKLOAD_IDENTITY_PROVIDER"), "gcp-workload-identity-provider");
  });
});
