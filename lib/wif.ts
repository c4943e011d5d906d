// Workload Identity Federation for GitHub Actions: the exact text (attribute mapping, attribute
// condition, principalSet members) the program sends to GCP. Pure functions, so the CEL can be
// executed in tests (test/wif.test.ts) exactly as GCP receives it.
//
// How a GitHub OIDC token becomes a GCP identity:
//   1. GCP evaluates every attribute mapping expression against `assertion` (the token claims).
//      An expression that errors, or a mapped value over 127 bytes, fails the whole exchange.
//   2. GCP evaluates the attribute condition (it may read `assertion` and the mapped `attribute`);
//      anything but `true` rejects the token.
//   3. The federated principal may impersonate a service account only if a binding names a
//      principalSet it belongs to. We bind `attribute.access/release` and `attribute.access/preview`
//      only, so everything hinges on the `attribute.access` expression below.
import { CONFIG_KEYS } from "./config";
import { PREVIEW_WORKFLOW, RELEASE_ENVIRONMENT, RELEASE_TAG_PREFIX, RELEASE_WORKFLOW } from "./release";
import { MAX_ATTRIBUTE_BYTES, RULES, violates, type RuleName } from "./rules";

export { GITHUB_OIDC_ISSUER } from "./release";

/** Values of `attribute.access`. Anything but release/preview binds to nothing. */
export const ACCESS_RELEASE = "release";
export const ACCESS_PREVIEW = "preview";
export const ACCESS_NONE = "none";
export type Access = typeof ACCESS_RELEASE | typeof ACCESS_PREVIEW;

/** GCP rejects a token whose mapped attribute value exceeds this many bytes. */
export { MAX_ATTRIBUTE_BYTES };
/** Documented limit of the attribute condition. */
export const MAX_CONDITION_CHARS = 4096;
/** Self-imposed limit per mapping expression, well below anything GCP accepts. */
export const MAX_MAPPING_CHARS = 2048;

/**
 * Sentinels for informational attributes whose claim is absent or too long. `~` cannot occur in
 * a git ref name, so a sentinel never equals a real ref; nothing is ever bound to these values.
 */
export const MISSING = "~missing";
export const TOO_LONG = "~too-long";

/** Claims copied into `attribute.<claim>` (bounded, never erroring) for bindings and audit. */
export const MAPPED_CLAIMS = [
  "repository_owner_id",
  "repository_id",
  "repository",
  "ref",
  "ref_type",
  "event_name",
  "environment",
  "job_workflow_ref",
] as const;

/** Validated settings from which all CEL text is generated. */
export interface WifSettings {
  /** GitHub owner login exactly as GitHub spells it (it appears in `job_workflow_ref`). */
  readonly owner: string;
  /** Numeric id of the owner (`repository_owner_id` claim). */
  readonly ownerId: string;
  /** Repository name without the owner, exactly as GitHub spells it. */
  readonly repository: string;
  /** Numeric id of the repository (`repository_id` claim). */
  readonly repositoryId: string;
  /** Default branch; pushes to it get the preview identity. */
  readonly defaultBranch: string;
  /** Release tags are `<releaseTagPrefix><digit>…`, e.g. `v1.2.3` for prefix `v`. */
  readonly releaseTagPrefix: string;
  /** Workflow file (in .github/workflows) that may act as the release identity. */
  readonly releaseWorkflow: string;
  /** Workflow file that may act as the preview identity. */
  readonly previewWorkflow: string;
  /** GitHub environment the release job must run in. */
  readonly releaseEnvironment: string;
}

/** Input to {@link validateWifSettings}; optional keys get the defaults below. */
export type WifSettingsInput = Omit<
  WifSettings,
  "defaultBranch" | "releaseTagPrefix" | "releaseWorkflow" | "previewWorkflow" | "releaseEnvironment"
> &
  Partial<WifSettings>;

export const WIF_DEFAULTS = {
  defaultBranch: String(CONFIG_KEYS.defaultBranch.default),
  releaseTagPrefix: RELEASE_TAG_PREFIX,
  releaseWorkflow: RELEASE_WORKFLOW,
  previewWorkflow: PREVIEW_WORKFLOW,
  releaseEnvironment: RELEASE_ENVIRONMENT,
} as const;

/**
 * Defaults of the optional arguments of the identity component (components/identity.ts,
 * `GitHubIdentity`), the only place they live; the bootstrap preflight checks the same ids.
 */
export const IDENTITY_DEFAULTS = {
  ...WIF_DEFAULTS,
  poolId: String(CONFIG_KEYS.wifPoolId.default),
  providerId: String(CONFIG_KEYS.wifProviderId.default),
  releaseServiceAccountId: "cq-source-s3-release",
  previewServiceAccountId: "cq-source-s3-preview",
  allowServiceAccountKeys: false,
  enableApis: true,
} as const;

function fail(key: string, value: unknown, expected: string): never {
  throw new Error(`identity: invalid ${key} ${JSON.stringify(value)}: expected ${expected}`);
}

/** `value` if it follows `rule` (lib/rules.ts), else an error naming `key`. */
function check(key: string, value: unknown, rule: RuleName): string {
  if (violates(rule, value)) fail(key, value, RULES[rule].expected);
  return value as string;
}

/**
 * Validates the settings the CEL is built from. Every value is restricted to a character set
 * without quotes or backslashes, so nothing from config can break out of a CEL string literal.
 */
export function validateWifSettings(input: WifSettingsInput): WifSettings {
  const s = { ...WIF_DEFAULTS, ...stripUndefined(input) };
  const ownerId = check("ownerId", s.ownerId, "githubOwnerId");
  const repositoryId = check("repositoryId", s.repositoryId, "githubRepositoryId");
  const owner = check("owner", s.owner, "githubOwner");
  const repository = check("repository", s.repository, "githubRepository");
  const defaultBranch = check("defaultBranch", s.defaultBranch, "branch");
  const releaseTagPrefix = check("releaseTagPrefix", s.releaseTagPrefix, "tagPrefix");
  const releaseWorkflow = check("releaseWorkflow", s.releaseWorkflow, "workflow");
  const previewWorkflow = check("previewWorkflow", s.previewWorkflow, "workflow");
  if (releaseWorkflow === previewWorkflow) {
    fail("previewWorkflow", previewWorkflow, "a workflow file other than the release workflow");
  }
  const releaseEnvironment = check("releaseEnvironment", s.releaseEnvironment, "environment");
  return {
    owner,
    ownerId,
    repository,
    repositoryId,
    defaultBranch,
    releaseTagPrefix,
    releaseWorkflow,
    previewWorkflow,
    releaseEnvironment,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A single-quoted CEL string literal. Validation already excludes quotes and backslashes; this
 * refuses anything unexpected a second time instead of trusting every caller.
 */
export function celString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value) || /['"\\]/.test(value)) {
    throw new Error(`identity: refusing to put ${JSON.stringify(value)} into a CEL string literal`);
  }
  return `'${value}'`;
}

const A = "assertion";
const has = (claim: string): string => `has(${A}.${claim})`;
const claimIs = (claim: string, value: string): string => `${A}.${claim} == ${celString(value)}`;

/** `<owner>/<repo>/.github/workflows/<file>@` — the prefix of `job_workflow_ref` for a workflow here. */
export function workflowRefPrefix(s: WifSettings, workflow: string): string {
  return `${s.owner}/${s.repository}/.github/workflows/${workflow}@`;
}

/**
 * CEL for `attribute.access`: `release`, `preview` or `none`. It never errors on a missing claim
 * (every claim it reads is guarded by `has()`, and `?:` evaluates one branch only), so a token
 * lacking a claim maps to `none` in GCP and in @bufbuild/cel alike.
 */
export function accessExpression(s: WifSettings): string {
  const guards = ["repository_owner_id", "repository_id", "event_name", "ref", "job_workflow_ref"]
    .map(has)
    .join(" && ");
  const thisRepo = `${claimIs("repository_owner_id", s.ownerId)} && ${claimIs("repository_id", s.repositoryId)}`;
  // A digit must follow the prefix (`va`, `v-next` are not releases); no regex, only startsWith.
  const tagPrefixes = [..."0123456789"]
    .map((d) => `${A}.ref.startsWith(${celString(`refs/tags/${s.releaseTagPrefix}${d}`)})`)
    .join(" || ");
  const release = [
    claimIs("event_name", "push"),
    has("ref_type"),
    claimIs("ref_type", "tag"),
    `(${tagPrefixes})`,
    // The release workflow file at the very tag being released, not a copy on a branch.
    `${A}.job_workflow_ref == ${celString(workflowRefPrefix(s, s.releaseWorkflow))} + ${A}.ref`,
    has("environment"),
    claimIs("environment", s.releaseEnvironment),
  ].join(" && ");
  const preview =
    `((${claimIs("event_name", "pull_request")} && ${A}.ref.startsWith('refs/pull/'))` +
    ` || (${claimIs("event_name", "push")} && ${claimIs("ref", `refs/heads/${s.defaultBranch}`)}))` +
    ` && ${A}.job_workflow_ref.startsWith(${celString(workflowRefPrefix(s, s.previewWorkflow))})`;
  const none = celString(ACCESS_NONE);
  return (
    `(${guards} && ${thisRepo})` +
    ` ? ((${release}) ? ${celString(ACCESS_RELEASE)} : ((${preview}) ? ${celString(ACCESS_PREVIEW)} : ${none}))` +
    ` : ${none}`
  );
}

/** CEL copying a string claim, bounded to 127 bytes and total (never an error for a missing claim). */
export function boundedClaimExpression(claim: string): string {
  if (!/^[a-z_]+$/.test(claim)) throw new Error(`identity: bad claim name ${JSON.stringify(claim)}`);
  const c = `${A}.${claim}`;
  return (
    `${has(claim)} ? (bytes(${c}).size() <= ${MAX_ATTRIBUTE_BYTES} ? ${c} : ${celString(TOO_LONG)})` +
    ` : ${celString(MISSING)}`
  );
}

/**
 * CEL for `google.subject` (shown in audit logs): the `sub` claim (e.g.
 * `repo:owner/repo:environment:release`) when it fits in 127 bytes, else a run identifier, so a
 * long branch name or a customised sub template cannot fail the exchange.
 */
export function subjectExpression(): string {
  const fallbackClaims = ["repository_id", "run_id", "run_attempt"];
  const fallback = `'run:' + ${A}.repository_id + '/' + ${A}.run_id + '/' + ${A}.run_attempt`;
  return (
    `${has("sub")} && bytes(${A}.sub).size() <= ${MAX_ATTRIBUTE_BYTES} ? ${A}.sub` +
    ` : (${fallbackClaims.map(has).join(" && ")} ? ${fallback} : ${celString(MISSING)})`
  );
}

/** The provider's attribute mapping: `google.subject`, `attribute.<claim>`, `attribute.access`. */
export function attributeMapping(s: WifSettings): Record<string, string> {
  const mapping: Record<string, string> = { "google.subject": subjectExpression() };
  for (const claim of MAPPED_CLAIMS) mapping[`attribute.${claim}`] = boundedClaimExpression(claim);
  mapping["attribute.access"] = accessExpression(s);
  for (const [key, expr] of Object.entries(mapping)) {
    if (expr.length > MAX_MAPPING_CHARS) {
      throw new Error(`identity: mapping for ${key} is ${expr.length} characters (> ${MAX_MAPPING_CHARS})`);
    }
  }
  return mapping;
}

/**
 * The provider's attribute condition: only tokens of this repository (numeric ids: a name can
 * be re-registered by someone else after a rename) that map to an access level we bind at all.
 * Everything else is rejected at the token exchange, before any binding is consulted.
 */
export function attributeCondition(s: WifSettings): string {
  const cond =
    `${claimIs("repository_owner_id", s.ownerId)} && ${claimIs("repository_id", s.repositoryId)}` +
    ` && attribute.access in [${celString(ACCESS_RELEASE)}, ${celString(ACCESS_PREVIEW)}]`;
  if (cond.length > MAX_CONDITION_CHARS) throw new Error("identity: attribute condition too long");
  return cond;
}

const POOL_NAME = /^projects\/[0-9]+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}$/;

/**
 * The principalSet of every federated identity whose `attribute.access` is `access`, from the
 * pool's full resource name (the pool's `name` output: `projects/NUM/locations/global/workloadIdentityPools/POOL`).
 */
export function principalSetMember(poolName: string, access: Access): string {
  if (!POOL_NAME.test(poolName)) {
    fail("pool name", poolName, "projects/<number>/locations/global/workloadIdentityPools/<pool-id>");
  }
  if (access !== ACCESS_RELEASE && access !== ACCESS_PREVIEW) {
    fail("access", access, `${ACCESS_RELEASE} or ${ACCESS_PREVIEW}`);
  }
  return `principalSet://iam.googleapis.com/${poolName}/attribute.access/${access}`;
}

/** Pool and provider ids: 4–32 of [a-z0-9-], not starting with `gcp-` (reserved by Google). */
export function validateWifId(key: string, value: unknown): string {
  return check(key, value, "wifId");
}

/** Service-account ids: 6–30 chars, a lowercase letter first, no trailing hyphen. */
export function validateServiceAccountId(key: string, value: unknown): string {
  return check(key, value, "serviceAccountId");
}
