import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { enableApis } from "./apis";
import { GCP_TYPES as T, IDENTITY_APIS } from "../lib/gcpApis";
import {
  ACCESS_PREVIEW,
  ACCESS_RELEASE,
  GITHUB_OIDC_ISSUER,
  IDENTITY_DEFAULTS,
  attributeCondition,
  attributeMapping,
  principalSetMember,
  validateServiceAccountId,
  validateWifId,
  validateWifSettings,
  type WifSettings,
} from "../lib/wif";
import { RULES, violates } from "../lib/rules";

/**
 * Arguments of {@link GitHubIdentity}. All are plain values, not Outputs: they are validated and
 * turned into CEL text before any resource is registered.
 */
export interface GitHubIdentityArgs {
  /** GCP project id that holds the pool, provider and service accounts. */
  readonly project: string;
  /** GitHub owner login, exactly as GitHub spells it (e.g. `cloudquery`). */
  readonly owner: string;
  /** Numeric GitHub id of the owner, as a string (`repository_owner_id` claim). */
  readonly ownerId: string;
  /** Repository name without the owner, exactly as GitHub spells it (e.g. `cq-source-s3`). */
  readonly repository: string;
  /** Numeric GitHub id of the repository, as a string (`repository_id` claim). */
  readonly repositoryId: string;
  /** Branch whose pushes get the preview identity. Defaults to `main`. */
  readonly defaultBranch?: string;
  /** Workload identity pool id (4–32 of `[a-z0-9-]`). Defaults to `github-actions`. */
  readonly poolId?: string;
  /** OIDC provider id inside the pool. Defaults to `github`. */
  readonly providerId?: string;
  /**
   * Pulumi state bucket (`name` or `gs://name[/prefix]`). When set, the release account may read
   * and write objects in it and the preview account may read them. Defaults to none.
   */
  readonly stateBucket?: string;
  /**
   * Create a JSON key for the release service account (a long-lived secret: avoid). Defaults to
   * `false`; when `true` a warning is logged and the key is a secret output.
   */
  readonly allowServiceAccountKeys?: boolean;
  /** Account id of the release service account. Defaults to `cq-source-s3-release`. */
  readonly releaseServiceAccountId?: string;
  /** Account id of the preview service account. Defaults to `cq-source-s3-preview`. */
  readonly previewServiceAccountId?: string;
  /** Workflow file allowed to act as release. Defaults to `release.yml`. */
  readonly releaseWorkflow?: string;
  /** Workflow file allowed to act as preview. Defaults to `preview.yml`. */
  readonly previewWorkflow?: string;
  /** GitHub environment the release job must use. Defaults to `release`. */
  readonly releaseEnvironment?: string;
  /**
   * Enable the APIs federation needs (iam, iamcredentials, sts), never disabled on destroy, and
   * wait for them to propagate before creating anything that calls them. Defaults to `true`.
   */
  readonly enableApis?: boolean;
}

/** Role letting a federated principalSet impersonate a service account. */
export const WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser";
/** Release: `pulumi up` reads the checkpoint and writes checkpoints, history and lock objects. */
export const STATE_WRITER_ROLE = "roles/storage.objectUser";
/** Preview: `pulumi preview` (no refresh) only reads the checkpoint; it takes no lock. */
export const STATE_READER_ROLE = "roles/storage.objectViewer";

/** Bucket name from `name` or `gs://name[/prefix]`. */
export function stateBucketName(value: string): string {
  const bucket = value.replace(/^gs:\/\//, "").split("/")[0];
  if (violates("bucket", bucket)) {
    throw new Error(
      `identity: invalid stateBucket ${JSON.stringify(value)}: expected ${RULES.bucket.expected}, or gs://<bucket>[/prefix]`,
    );
  }
  return bucket;
}

/** {@link GitHubIdentityArgs} validated, with defaults applied. */
export interface ResolvedIdentityArgs {
  readonly wif: WifSettings;
  readonly project: string;
  readonly poolId: string;
  readonly providerId: string;
  readonly releaseAccountId: string;
  readonly previewAccountId: string;
  readonly stateBucket?: string;
  readonly allowKeys: boolean;
  readonly enableApis: boolean;
}

/** Validates {@link GitHubIdentityArgs}; errors name the key and the bad value. */
export function resolveIdentityArgs(args: GitHubIdentityArgs): ResolvedIdentityArgs {
  const wif = validateWifSettings(args);
  const project = args.project;
  if (violates("gcpProject", project)) {
    throw new Error(
      `identity: invalid project ${JSON.stringify(project)}: expected ${RULES.gcpProject.expected}`,
    );
  }
  const poolId = validateWifId("poolId", args.poolId ?? IDENTITY_DEFAULTS.poolId);
  const providerId = validateWifId("providerId", args.providerId ?? IDENTITY_DEFAULTS.providerId);
  const releaseAccountId = validateServiceAccountId(
    "releaseServiceAccountId",
    args.releaseServiceAccountId ?? IDENTITY_DEFAULTS.releaseServiceAccountId,
  );
  const previewAccountId = validateServiceAccountId(
    "previewServiceAccountId",
    args.previewServiceAccountId ?? IDENTITY_DEFAULTS.previewServiceAccountId,
  );
  if (releaseAccountId === previewAccountId) {
    throw new Error(
      `identity: invalid previewServiceAccountId ${JSON.stringify(previewAccountId)}: expected an id other than the release account's`,
    );
  }
  const stateBucket = args.stateBucket === undefined ? undefined : stateBucketName(args.stateBucket);
  const allowKeys = args.allowServiceAccountKeys ?? IDENTITY_DEFAULTS.allowServiceAccountKeys;
  const enableApis = args.enableApis ?? IDENTITY_DEFAULTS.enableApis;
  for (const [key, value] of Object.entries({ allowServiceAccountKeys: allowKeys, enableApis })) {
    if (typeof value !== "boolean") {
      throw new Error(`identity: invalid ${key} ${JSON.stringify(value)}: expected a boolean`);
    }
  }
  return {
    wif,
    project,
    poolId,
    providerId,
    releaseAccountId,
    previewAccountId,
    stateBucket,
    allowKeys,
    enableApis,
  };
}

/**
 * GCP Workload Identity Federation for this repository's GitHub Actions: a protected pool and
 * OIDC provider whose condition pins the numeric owner and repository ids, a release service
 * account only release-tag pushes of the release workflow can impersonate, and a read-only
 * preview service account for pull requests and pushes to the default branch.
 *
 * The release account gets no project-level role here; the registries component grants it
 * `roles/artifactregistry.writer` on the `gcr.io` repository only (via {@link releaseMember}).
 */
export class GitHubIdentity extends pulumi.ComponentResource {
  /** The workload identity pool (protected: ids stay reserved for 30 days after deletion). */
  public readonly pool: gcp.iam.WorkloadIdentityPool;
  /** The GitHub OIDC provider (protected). */
  public readonly provider: gcp.iam.WorkloadIdentityPoolProvider;
  /** `projects/NUM/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`, for google-github-actions/auth. */
  public readonly providerName: pulumi.Output<string>;
  /** Email of the release service account. */
  public readonly releaseServiceAccountEmail: pulumi.Output<string>;
  /** Email of the preview (read-only) service account. */
  public readonly previewServiceAccountEmail: pulumi.Output<string>;
  /** `serviceAccount:<release email>`, for resource-level bindings made elsewhere. */
  public readonly releaseMember: pulumi.Output<string>;
  /** `serviceAccount:<preview email>`, for read-only bindings made elsewhere. */
  public readonly previewMember: pulumi.Output<string>;
  /** `principalSet://…/attribute.access/release`: the federated identities allowed to release. */
  public readonly releasePrincipalSet: pulumi.Output<string>;
  /** `principalSet://…/attribute.access/preview`. */
  public readonly previewPrincipalSet: pulumi.Output<string>;
  /** Base64 JSON key of the release account (secret); only when `allowServiceAccountKeys`. */
  public readonly releaseServiceAccountKey?: pulumi.Output<string>;

  constructor(name: string, args: GitHubIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate everything before anything (even this component) is registered.
    const r = resolveIdentityArgs(args);
    super("cq-release:identity:GitHubIdentity", name, {}, opts);
    const { wif, project, poolId, providerId, releaseAccountId, previewAccountId, stateBucket, allowKeys } =
      r;
    const mapping = attributeMapping(wif);
    const condition = attributeCondition(wif);

    // Every resource below waits for its API (components/apis.ts) unless enableApis is false.
    const apis = enableApis(name, project, r.enableApis ? IDENTITY_APIS : [], this);

    this.pool = new gcp.iam.WorkloadIdentityPool(
      `${name}-pool`,
      {
        project,
        workloadIdentityPoolId: poolId,
        displayName: "GitHub Actions",
        description: `GitHub Actions of ${wif.owner}/${wif.repository} (managed by Pulumi)`,
        disabled: false,
      },
      { parent: this, protect: true, dependsOn: apis.dependsOn(T.pool) },
    );

    this.provider = new gcp.iam.WorkloadIdentityPoolProvider(
      `${name}-provider`,
      {
        project,
        workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
        workloadIdentityPoolProviderId: providerId,
        displayName: "GitHub OIDC",
        description: `Tokens of ${wif.owner}/${wif.repository} (ids ${wif.ownerId}/${wif.repositoryId}) only`,
        disabled: false,
        attributeMapping: mapping,
        attributeCondition: condition,
        // No allowedAudiences: GCP then requires the provider's own resource name as `aud`,
        // which is what google-github-actions/auth requests.
        oidc: { issuerUri: GITHUB_OIDC_ISSUER },
      },
      { parent: this, protect: true, dependsOn: apis.dependsOn(T.provider) },
    );
    this.providerName = this.provider.name;

    this.releasePrincipalSet = this.pool.name.apply((pool) => principalSetMember(pool, ACCESS_RELEASE));
    this.previewPrincipalSet = this.pool.name.apply((pool) => principalSetMember(pool, ACCESS_PREVIEW));

    const release = new gcp.serviceaccount.Account(
      `${name}-release-sa`,
      {
        project,
        accountId: releaseAccountId,
        displayName: "cq-source-s3 release (GitHub Actions)",
        description: `Impersonated only by release tag pushes of ${wif.owner}/${wif.repository} (release workflow, release environment)`,
      },
      { parent: this, dependsOn: apis.dependsOn(T.serviceAccount) },
    );
    const preview = new gcp.serviceaccount.Account(
      `${name}-preview-sa`,
      {
        project,
        accountId: previewAccountId,
        displayName: "cq-source-s3 preview (GitHub Actions)",
        description: `Impersonated only by pull requests and default-branch pushes of ${wif.owner}/${wif.repository}; read-only`,
      },
      { parent: this, dependsOn: apis.dependsOn(T.serviceAccount) },
    );
    this.releaseServiceAccountEmail = release.email;
    this.previewServiceAccountEmail = preview.email;
    this.releaseMember = pulumi.interpolate`serviceAccount:${release.email}`;
    this.previewMember = pulumi.interpolate`serviceAccount:${preview.email}`;

    // Each account can be impersonated by exactly one principalSet; never the whole pool.
    new gcp.serviceaccount.IAMMember(
      `${name}-release-wif-user`,
      { serviceAccountId: release.name, role: WORKLOAD_IDENTITY_USER, member: this.releasePrincipalSet },
      { parent: this, dependsOn: apis.dependsOn(T.serviceAccountIamMember) },
    );
    new gcp.serviceaccount.IAMMember(
      `${name}-preview-wif-user`,
      { serviceAccountId: preview.name, role: WORKLOAD_IDENTITY_USER, member: this.previewPrincipalSet },
      { parent: this, dependsOn: apis.dependsOn(T.serviceAccountIamMember) },
    );

    // The only project-side access granted here is object access on the state bucket. The
    // preview account needs nothing at project level: `pulumi preview` without refresh diffs
    // against the checkpoint and makes no GCP read calls for this program's resources (the pool
    // and provider names come from state, not from a lookup).
    // No API wait here: these call storage.googleapis.com, which is on in any project that hosts
    // this stack's state bucket (lib/gcpApis.ts, NOT_ENABLED_HERE).
    if (stateBucket !== undefined) {
      new gcp.storage.BucketIAMMember(
        `${name}-release-state`,
        { bucket: stateBucket, role: STATE_WRITER_ROLE, member: this.releaseMember },
        { parent: this },
      );
      new gcp.storage.BucketIAMMember(
        `${name}-preview-state`,
        { bucket: stateBucket, role: STATE_READER_ROLE, member: this.previewMember },
        { parent: this },
      );
    }

    if (allowKeys) {
      void pulumi.log.warn(
        "identity: allowServiceAccountKeys is true: creating a long-lived JSON key for the release service " +
          "account. Anyone holding it can push images without GitHub's OIDC checks. Prefer Workload Identity " +
          "Federation and set allowServiceAccountKeys to false.",
        this,
      );
      const key = new gcp.serviceaccount.Key(
        `${name}-release-key`,
        { serviceAccountId: release.name, privateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE" },
        {
          parent: this,
          additionalSecretOutputs: ["privateKey"],
          dependsOn: apis.dependsOn(T.serviceAccountKey),
        },
      );
      this.releaseServiceAccountKey = pulumi.secret(key.privateKey);
    }

    this.registerOutputs({
      providerName: this.providerName,
      releaseServiceAccountEmail: this.releaseServiceAccountEmail,
      previewServiceAccountEmail: this.previewServiceAccountEmail,
      releaseMember: this.releaseMember,
      previewMember: this.previewMember,
      releasePrincipalSet: this.releasePrincipalSet,
      previewPrincipalSet: this.previewPrincipalSet,
      releaseServiceAccountKey: this.releaseServiceAccountKey,
    });
  }
}
