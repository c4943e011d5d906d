// Repository settings: what the workflows read (Actions variables and secrets), the `release`
// environment that only release tags may deploy to, and a ruleset that protects release tags.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

import { RELEASE_TAG_PREFIX } from "../lib/release";

/** Repository role ID of "admin" in GitHub rulesets (base roles: maintain 2, write 4, admin 5). */
export const ADMIN_REPOSITORY_ROLE_ID = 5;

/** The Actions variables the workflows read (.github/workflows use exactly these names). */
export interface ActionsVariables {
  readonly GCP_PROJECT_ID: pulumi.Input<string>;
  /** Full provider resource name `projects/<num>/locations/global/workloadIdentityPools/<pool>/providers/<id>`. */
  readonly GCP_WORKLOAD_IDENTITY_PROVIDER: pulumi.Input<string>;
  readonly GCP_RELEASE_SERVICE_ACCOUNT: pulumi.Input<string>;
  readonly GCP_PREVIEW_SERVICE_ACCOUNT: pulumi.Input<string>;
  /** e.g. `gs://<bucket>`. */
  readonly PULUMI_BACKEND_URL: pulumi.Input<string>;
}

/** Arguments of {@link RepoSettings}. */
export interface RepoSettingsArgs {
  /** GitHub owner; the component's GitHub provider acts on it (token from GITHUB_TOKEN). */
  readonly owner: string;
  /** Repository name. */
  readonly repository: string;
  /** Variables to write. */
  readonly variables: ActionsVariables;
  /** Value of the Actions secret PULUMI_CONFIG_PASSPHRASE; must be a Pulumi secret. */
  readonly pulumiConfigPassphrase: pulumi.Output<string>;
  /**
   * Value of the Actions secret CLOUDQUERY_API_KEY (the release's Hub publish); a Pulumi secret.
   * Unset: no such secret is managed (Hub publishing is off).
   */
  readonly cloudqueryApiKey?: pulumi.Output<string>;
  /** Name of the deployment environment. Defaults to `release`. */
  readonly environment?: string;
}

/** `GCP_PROJECT_ID` → `gcp-project-id`: a stable logical-name suffix. */
export function variableSlug(variableName: string): string {
  return variableName.toLowerCase().replaceAll("_", "-");
}

/**
 * Tag ruleset rules: release tags cannot be deleted, moved (update / non-fast-forward) or created
 * except by repository admins (the bypass actor). A moved tag would make a release lie about its
 * commit; a deleted one would let someone re-create it elsewhere.
 */
export function releaseTagRules(): github.types.input.RepositoryRulesetRules {
  return { creation: true, deletion: true, update: true, nonFastForward: true };
}

/**
 * Runs `create` with GITHUB_TOKEN hidden from this process. The GitHub SDK copies that variable into
 * an explicit provider's inputs, and provider inputs are saved in state (pulumi/pulumi-github#613),
 * where anyone who can run a preview (state read + passphrase) could decrypt the bootstrap admin's
 * token. The provider plugin is a separate process and still reads GITHUB_TOKEN from its own
 * environment, so authentication is unchanged; only the copy in state is avoided.
 */
export function withoutGitHubTokenInInputs<T>(create: () => T): T {
  const saved = process.env.GITHUB_TOKEN;
  delete process.env.GITHUB_TOKEN;
  try {
    return create();
  } finally {
    if (saved !== undefined) process.env.GITHUB_TOKEN = saved;
  }
}

/** GitHub Actions variables and secrets, the `release` environment, and the release-tag ruleset. */
export class RepoSettings extends pulumi.ComponentResource {
  /** Names of the variables written. */
  public readonly variableNames: string[];
  /** Name of the deployment environment. */
  public readonly environment: pulumi.Output<string>;
  /** ID of the tag ruleset. */
  public readonly rulesetId: pulumi.Output<string>;

  constructor(name: string, args: RepoSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cq-release:repoSettings:RepoSettings", name, args, opts);
    const prefix = RELEASE_TAG_PREFIX;
    const envName = args.environment ?? "release";

    // An explicit provider pins the owner to config rather than to ambient github:owner.
    const provider = withoutGitHubTokenInInputs(
      () => new github.Provider(`${name}-github`, { owner: args.owner }, { parent: this }),
    );
    const child = { parent: this, provider };

    this.variableNames = Object.keys(args.variables).sort();
    for (const variableName of this.variableNames) {
      new github.ActionsVariable(
        `${name}-var-${variableSlug(variableName)}`,
        {
          repository: args.repository,
          variableName,
          value: args.variables[variableName as keyof ActionsVariables],
        },
        child,
      );
    }

    // Secrets stay Pulumi secrets into the state (additionalSecretOutputs). CLOUDQUERY_API_KEY only
    // while Hub publishing is on (lib/config.ts hubPublish).
    const secrets: Record<string, pulumi.Output<string>> = {
      PULUMI_CONFIG_PASSPHRASE: args.pulumiConfigPassphrase,
      ...(args.cloudqueryApiKey === undefined ? {} : { CLOUDQUERY_API_KEY: args.cloudqueryApiKey }),
    };
    for (const [secretName, value] of Object.entries(secrets)) {
      new github.ActionsSecret(
        `${name}-secret-${variableSlug(secretName)}`,
        { repository: args.repository, secretName, value: pulumi.secret(value) },
        { ...child, additionalSecretOutputs: ["value"] },
      );
    }

    // Only refs matched by the deployment policies below may deploy; admins cannot bypass.
    const environment = new github.RepositoryEnvironment(
      `${name}-env-${envName}`,
      {
        repository: args.repository,
        environment: envName,
        canAdminsBypass: false,
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      },
      child,
    );
    new github.RepositoryEnvironmentDeploymentPolicy(
      `${name}-env-${envName}-tags`,
      { repository: args.repository, environment: environment.environment, tagPattern: `${prefix}*` },
      child,
    );

    const ruleset = new github.RepositoryRuleset(
      `${name}-release-tags`,
      {
        repository: args.repository,
        name: "release-tags",
        target: "tag",
        enforcement: "active",
        conditions: { refName: { includes: [`refs/tags/${prefix}*`], excludes: [] } },
        rules: releaseTagRules(),
        bypassActors: [
          { actorType: "RepositoryRole", actorId: ADMIN_REPOSITORY_ROLE_ID, bypassMode: "always" },
        ],
      },
      child,
    );

    this.environment = environment.environment;
    this.rulesetId = ruleset.id;
    this.registerOutputs({
      variableNames: this.variableNames,
      environment: this.environment,
      rulesetId: this.rulesetId,
    });
  }
}
