// Preflight for the GCP bootstrap of the `prod` stack (docs/release.md#preflight): what `pulumi up`
// cannot do for itself, and what would make it fail with 409. Pure: the input is the recorded
// answer of each gcloud (and `pulumi stack export`) call, the output is a list of findings, each
// with the exact commands that fix it. scripts/preflight.ts runs the commands and prints the report.
//
// Field names and states were checked against the Google Cloud SDK 528 generated clients
// (artifactregistry_v1_messages.py `ProjectSettings.legacyRedirectionState`, iam_v1_messages.py
// `WorkloadIdentityPool.state` ACTIVE/DELETED + `expireTime`, serviceusage v1 `Service.config.name`)
// and the Artifact Registry v1 reference "ProjectSettings.RedirectionState"
// (cloud.google.com/ruby/docs/reference/google-cloud-artifact_registry-v1/latest/…RedirectionState).
import { CONFIG_KEYS, ConfigError, parseConfig, PROJECT } from "../../lib/config";
import { GCP_APIS, GCP_TYPES, IDENTITY_APIS } from "../../lib/gcpApis";
import { IDENTITY_DEFAULTS, validateServiceAccountId, validateWifId } from "../../lib/wif";

/**
 * APIs the gcp provider cannot enable for itself: enabling an API (google_project_service) goes
 * through Service Usage, and its reads need Cloud Resource Manager.
 */
export const PREREQUISITE_APIS = [
  "cloudresourcemanager.googleapis.com",
  "serviceusage.googleapis.com",
] as const;

/** APIs the program enables itself (registries and identity components), deduplicated and sorted. */
export const PROGRAM_APIS: readonly string[] = [...new Set<string>([...GCP_APIS, ...IDENTITY_APIS])].sort();

/** The Artifact Registry repository that serves gcr.io/<project>/… (registries component). */
export const GCR_REPOSITORY = { id: "gcr.io", location: "us" } as const;

/**
 * Component resources as index.ts registers them (logical name, type token). The children's names
 * derive from them as in the components; test/preflight.test.ts checks both against the program.
 */
export const COMPONENTS = {
  registries: { type: "cq-release:registries:Registries", name: "registries" },
  identity: { type: "cq-release:identity:GitHubIdentity", name: "identity" },
} as const;

/** The stack the bootstrap creates. */
export const DEFAULT_STACK = "prod";

/** What the preflight looks at: the project and the ids the program would create there. */
export interface PreflightTarget {
  /** GCP project id (config `gcpProject`). */
  readonly project: string;
  /** Workload identity pool id (config `wifPoolId`). */
  readonly poolId: string;
  /** Workload identity pool provider id (config `wifProviderId`). */
  readonly providerId: string;
  /** Account id of the release service account. */
  readonly releaseAccountId: string;
  /** Account id of the preview service account. */
  readonly previewAccountId: string;
  /** Pulumi stack (`name` or `org/project/name`). */
  readonly stack: string;
}

/** The program's own defaults for everything but the project (lib/config.ts, lib/wif.ts). */
export const TARGET_DEFAULTS: Omit<PreflightTarget, "project"> = {
  poolId: String(CONFIG_KEYS.wifPoolId.default),
  providerId: String(CONFIG_KEYS.wifProviderId.default),
  releaseAccountId: IDENTITY_DEFAULTS.releaseServiceAccountId,
  previewAccountId: IDENTITY_DEFAULTS.previewServiceAccountId,
  stack: DEFAULT_STACK,
};

const STACK_RE = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+){0,2}$/;

/**
 * Applies the defaults and validates with the program's own rules (the config loader's for the
 * project, pool and provider ids, then identity's); returns the problems, each naming its flag.
 */
export function resolveTarget(flags: Readonly<Partial<Record<keyof PreflightTarget, string>>>): {
  target?: PreflightTarget;
  problems: string[];
} {
  const problems: string[] = [];
  if (flags.project === undefined || flags.project === "") {
    return { problems: ["--project: missing: expected the GCP project id of the prod stack (gcpProject)"] };
  }
  const target: PreflightTarget = { ...TARGET_DEFAULTS, ...definedOnly(flags), project: flags.project };
  const flagOf: Record<string, string> = {
    gcpProject: "--project",
    wifPoolId: "--pool-id",
    wifProviderId: "--provider-id",
  };
  const values: Record<string, string> = {
    gcpProject: target.project,
    wifPoolId: target.poolId,
    wifProviderId: target.providerId,
    // Switch everything off so the loader only judges the three keys above.
    enableIdentity: "false",
    enableRegistries: "false",
    enableRepoSettings: "false",
    enableImage: "false",
  };
  try {
    parseConfig({ get: (key) => values[key], getSecret: () => undefined });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const [key, flag] of Object.entries(flagOf)) {
      const prefix = `${PROJECT}:${key}:`;
      for (const p of err.problems.filter((q) => q.startsWith(prefix))) {
        problems.push(`${flag} (config ${key}):${p.slice(prefix.length)}`);
      }
    }
  }
  const identityRules: [string, () => unknown][] = [
    ["--pool-id", () => validateWifId("poolId", target.poolId)],
    ["--provider-id", () => validateWifId("providerId", target.providerId)],
    [
      "--release-account-id",
      () => validateServiceAccountId("releaseServiceAccountId", target.releaseAccountId),
    ],
    [
      "--preview-account-id",
      () => validateServiceAccountId("previewServiceAccountId", target.previewAccountId),
    ],
  ];
  for (const [flag, rule] of identityRules) {
    try {
      rule();
    } catch (err) {
      const message = (err as Error).message;
      if (!problems.some((p) => p.startsWith(`${flag} `))) problems.push(`${flag}: ${message}`);
    }
  }
  if (!STACK_RE.test(target.stack)) {
    problems.push(
      `--stack: invalid value ${JSON.stringify(target.stack)}: expected a stack name such as prod`,
    );
  }
  return problems.length > 0 ? { problems } : { target, problems };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}

/** The questions asked of gcloud, one per check. */
export type QueryKey =
  "services" | "redirection" | "repository" | "pool" | "provider" | "releaseAccount" | "previewAccount";

/** One gcloud call: its arguments (no shell) and what it tells. */
export interface GcloudQuery {
  readonly key: QueryKey;
  readonly args: readonly string[];
  /** What the answer means, for someone running it by hand. */
  readonly purpose: string;
}

/** Email of a user-managed service account. */
export function serviceAccountEmail(accountId: string, project: string): string {
  return `${accountId}@${project}.iam.gserviceaccount.com`;
}

/** The gcloud calls the preflight makes, in report order. */
export function gcloudQueries(t: PreflightTarget): GcloudQuery[] {
  const p = `--project=${t.project}`;
  const json = "--format=json";
  const account = (id: string): string[] => [
    "iam",
    "service-accounts",
    "describe",
    serviceAccountEmail(id, t.project),
  ];
  return [
    {
      key: "services",
      args: ["services", "list", "--enabled", p, json],
      purpose: `lists the enabled APIs: ${PREREQUISITE_APIS.join(" and ")} must be among them`,
    },
    {
      key: "redirection",
      args: ["artifacts", "settings", "describe", p, json],
      purpose:
        "legacyRedirectionState must be REDIRECTION_FROM_GCR_IO_ENABLED or _FINALIZED if the project used Container Registry",
    },
    {
      key: "repository",
      args: [
        "artifacts",
        "repositories",
        "describe",
        GCR_REPOSITORY.id,
        `--location=${GCR_REPOSITORY.location}`,
        p,
        json,
      ],
      purpose: "NOT_FOUND is fine; an existing repository must be imported",
    },
    {
      key: "pool",
      args: ["iam", "workload-identity-pools", "describe", t.poolId, "--location=global", p, json],
      purpose: "NOT_FOUND is fine; ACTIVE must be imported; DELETED must be undeleted or another id chosen",
    },
    {
      key: "provider",
      args: [
        "iam",
        "workload-identity-pools",
        "providers",
        "describe",
        t.providerId,
        `--workload-identity-pool=${t.poolId}`,
        "--location=global",
        p,
        json,
      ],
      purpose: "as for the pool",
    },
    {
      key: "releaseAccount",
      args: [...account(t.releaseAccountId), p, json],
      purpose: "NOT_FOUND is fine; an existing account must be imported",
    },
    {
      key: "previewAccount",
      args: [...account(t.previewAccountId), p, json],
      purpose: "NOT_FOUND is fine; an existing account must be imported",
    },
  ];
}

/** Arguments of the `pulumi` call that tells which resources the stack already manages. */
export function stackExportArgs(t: PreflightTarget): string[] {
  return ["stack", "export", "--stack", t.stack];
}

/** A recorded command answer. `exitCode` is null when the command was killed (e.g. timed out). */
export interface CommandAnswer {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a gcloud answer means. */
export type Classified =
  | { readonly kind: "found"; readonly value: unknown }
  | { readonly kind: "absent" }
  | { readonly kind: "denied"; readonly permission?: string; readonly detail: string }
  | { readonly kind: "disabled"; readonly api?: string; readonly detail: string }
  | { readonly kind: "unauthenticated"; readonly detail: string }
  | { readonly kind: "error"; readonly detail: string };

/** The line of stderr worth quoting: gcloud's `ERROR: (…)` line, else the first non-empty one. */
function errorLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim());
  const line = lines.find((l) => l.startsWith("ERROR:")) ?? lines.find((l) => l !== "") ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Classifies a gcloud answer. Order matters: a disabled API answers PERMISSION_DENIED with reason
 * SERVICE_DISABLED, and a missing project answers "not found or permission denied", which says
 * nothing about the resource.
 */
export function classify(answer: CommandAnswer | undefined): Classified {
  if (answer === undefined) {
    return { kind: "error", detail: "not asked" };
  }
  if (answer.exitCode === 0) {
    try {
      return { kind: "found", value: JSON.parse(answer.stdout) as unknown };
    } catch {
      return {
        kind: "error",
        detail: `answered without JSON: ${errorLine(answer.stdout) || "(empty output)"}`,
      };
    }
  }
  const err = answer.stderr;
  const detail =
    errorLine(err) || (answer.exitCode === null ? "killed (timed out?)" : `exit ${answer.exitCode}`);
  if (/do not currently have an active account|Reauthentication|invalid_grant/i.test(err)) {
    return { kind: "unauthenticated", detail };
  }
  if (/SERVICE_DISABLED|has not been used in project .* before or it is disabled/is.test(err)) {
    const api =
      /^\s*service: ([a-z0-9.-]+)\s*$/m.exec(err)?.[1] ?? /\/apis\/api\/([a-z0-9.-]+)\//.exec(err)?.[1];
    return { kind: "disabled", api, detail };
  }
  if (/PERMISSION_DENIED|permission denied|does not have permission/i.test(err)) {
    return { kind: "denied", permission: /Permission '([^']+)' denied/.exec(err)?.[1], detail };
  }
  if (/NOT_FOUND|not found/i.test(err)) {
    return { kind: "absent" };
  }
  return { kind: "error", detail };
}

/** What the stack already manages, from `pulumi stack export`. */
export type StackState =
  | { readonly kind: "read"; readonly urns: ReadonlySet<string> }
  | { readonly kind: "no-stack" }
  | { readonly kind: "unknown"; readonly reason: string };

/** Reads `pulumi stack export` output; `undefined` means the pulumi CLI is not available. */
export function stackState(answer: CommandAnswer | undefined): StackState {
  if (answer === undefined) {
    return { kind: "unknown", reason: "the pulumi CLI is not on PATH" };
  }
  if (answer.exitCode !== 0) {
    if (/no stack named/i.test(answer.stderr)) return { kind: "no-stack" };
    return { kind: "unknown", reason: errorLine(answer.stderr) || `exit ${String(answer.exitCode)}` };
  }
  try {
    const parsed = JSON.parse(answer.stdout) as { deployment?: { resources?: { urn?: unknown }[] } };
    const urns = (parsed.deployment?.resources ?? []).map((r) => r.urn).filter((u) => typeof u === "string");
    return { kind: "read", urns: new Set(urns as string[]) };
  } catch {
    return { kind: "unknown", reason: "`pulumi stack export` did not print JSON" };
  }
}

/** The stack's own name (last part of `org/project/stack`), as it appears in URNs. */
function stackName(stack: string): string {
  return stack.split("/").pop() ?? stack;
}

/** URN of a resource of this project; `parentType` for a child of a component. */
export function urn(stack: string, type: string, name: string, parentType?: string): string {
  const qualified = parentType === undefined ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stackName(stack)}::${PROJECT}::${qualified}::${name}`;
}

/** A resource the program creates that may already exist in the project (a 409 on `pulumi up`). */
export interface Adoptable {
  readonly check: string;
  /** Human name, e.g. `workload identity pool "github-actions"`. */
  readonly what: string;
  readonly query: QueryKey;
  /** Type token and logical name the program registers it with. */
  readonly type: string;
  readonly name: string;
  /** The component it is a child of. */
  readonly parent: { readonly type: string; readonly name: string };
  /** Import id accepted by the gcp provider. */
  readonly importId: string;
  /** For soft-deletable resources: how to restore it and which config key renames it. */
  readonly softDelete?: { readonly undelete: string; readonly configKey: string; readonly flag: string };
}

/** Everything the program creates that could already exist, with how to adopt it. */
export function adoptables(t: PreflightTarget): Adoptable[] {
  const { registries, identity } = COMPONENTS;
  const pool = `projects/${t.project}/locations/global/workloadIdentityPools/${t.poolId}`;
  const account = (check: string, label: string, id: string, suffix: string, query: QueryKey): Adoptable => ({
    check,
    what: `${label} service account ${serviceAccountEmail(id, t.project)}`,
    query,
    type: GCP_TYPES.serviceAccount,
    name: `${identity.name}-${suffix}`,
    parent: identity,
    importId: `projects/${t.project}/serviceAccounts/${serviceAccountEmail(id, t.project)}`,
  });
  return [
    {
      check: "gcr-repository",
      what: `Artifact Registry repository "${GCR_REPOSITORY.id}" in ${GCR_REPOSITORY.location}`,
      query: "repository",
      type: GCP_TYPES.repository,
      name: `${registries.name}-gcr-io`,
      parent: registries,
      importId: `projects/${t.project}/locations/${GCR_REPOSITORY.location}/repositories/${GCR_REPOSITORY.id}`,
    },
    {
      check: "wif-pool",
      what: `workload identity pool "${t.poolId}"`,
      query: "pool",
      type: GCP_TYPES.pool,
      name: `${identity.name}-pool`,
      parent: identity,
      importId: pool,
      softDelete: {
        undelete: gcloud([
          "iam",
          "workload-identity-pools",
          "undelete",
          t.poolId,
          "--location=global",
          `--project=${t.project}`,
        ]),
        configKey: "wifPoolId",
        flag: "--pool-id",
      },
    },
    {
      check: "wif-provider",
      what: `workload identity pool provider "${t.providerId}" (pool "${t.poolId}")`,
      query: "provider",
      type: GCP_TYPES.provider,
      name: `${identity.name}-provider`,
      parent: identity,
      importId: `${pool}/providers/${t.providerId}`,
      softDelete: {
        undelete: gcloud([
          "iam",
          "workload-identity-pools",
          "providers",
          "undelete",
          t.providerId,
          `--workload-identity-pool=${t.poolId}`,
          "--location=global",
          `--project=${t.project}`,
        ]),
        configKey: "wifProviderId",
        flag: "--provider-id",
      },
    },
    account("release-service-account", "release", t.releaseAccountId, "release-sa", "releaseAccount"),
    account("preview-service-account", "preview", t.previewAccountId, "preview-sa", "previewAccount"),
  ];
}

/** One result of the preflight. */
export interface Finding {
  /** Stable id of the check (`apis`, `gcr-redirection`, `wif-pool`, …). */
  readonly check: string;
  /** False when something must be fixed before the bootstrap `pulumi up`. */
  readonly ok: boolean;
  readonly message: string;
  /**
   * Shell lines that fix it, in order (`#` lines are comments). On an ok finding they are
   * optional (info); on a failed one they may be empty when no command can (e.g. a missing role).
   */
  readonly fix: readonly string[];
}

/** Everything the preflight needs to decide: the target and the recorded answers. */
export interface PreflightInput {
  readonly target: PreflightTarget;
  readonly answers: Readonly<Partial<Record<QueryKey, CommandAnswer>>>;
  /** Answer of `pulumi stack export`; undefined when the pulumi CLI is not available. */
  readonly stackExport?: CommandAnswer;
}

const SAFE_WORD = /^[A-Za-z0-9_./:=@,+%-]+$/;

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function gcloud(args: readonly string[]): string {
  return ["gcloud", ...args].map(shellQuote).join(" ");
}

function enableCommand(apis: readonly string[], project: string): string {
  return gcloud(["services", "enable", ...apis, `--project=${project}`]);
}

/** `npm run preflight -- …` with the flags that differ from the defaults (overrides win). */
export function preflightCommand(
  t: PreflightTarget,
  overrides: Readonly<Record<string, string>> = {},
): string {
  const flags: [string, string, string][] = [
    ["--pool-id", t.poolId, TARGET_DEFAULTS.poolId],
    ["--provider-id", t.providerId, TARGET_DEFAULTS.providerId],
    ["--release-account-id", t.releaseAccountId, TARGET_DEFAULTS.releaseAccountId],
    ["--preview-account-id", t.previewAccountId, TARGET_DEFAULTS.previewAccountId],
    ["--stack", t.stack, TARGET_DEFAULTS.stack],
  ];
  const words = ["npm", "run", "preflight", "--", "--project", t.project];
  for (const [flag, value, dflt] of flags) {
    const v = overrides[flag] ?? value;
    if (v !== dflt || flag in overrides) words.push(flag, v);
  }
  return words.map((w) => (w.startsWith("<") ? w : shellQuote(w))).join(" ");
}

/**
 * A check that could not look: one finding per kind of failure. `covered` are APIs whose enable
 * command another finding (program-apis) already prints.
 */
function unanswered(
  check: string,
  what: string,
  c: Classified,
  project: string,
  covered: ReadonlySet<string> = new Set(),
): Finding {
  switch (c.kind) {
    case "denied":
      return {
        check,
        ok: false,
        message:
          `cannot tell whether ${what} exists: permission denied` +
          `${c.permission === undefined ? "" : ` (missing ${c.permission})`}. Run the preflight as the platform ` +
          `admin who runs the bootstrap (gcloud auth login), or grant that identity the role. gcloud: ${c.detail}`,
        fix: [],
      };
    case "disabled": {
      const elsewhere = c.api !== undefined && covered.has(c.api);
      return {
        check,
        ok: false,
        message:
          `not checked: ${c.api ?? "the API"} is not enabled in ${project}, so gcloud cannot look for ${what} ` +
          `(a project that enabled it earlier may still hold one). Enable it${elsewhere ? " (program-apis)" : ""}, ` +
          "then run the preflight again.",
        fix: c.api === undefined || elsewhere ? [] : [enableCommand([c.api], project)],
      };
    }
    default:
      return {
        check,
        ok: false,
        message: `could not check ${what}: ${"detail" in c ? c.detail : c.kind}`,
        fix: [],
      };
  }
}

/** The enabled APIs from `gcloud services list --enabled`; undefined when it did not answer a list. */
function enabledApis(c: Classified): Set<string> | undefined {
  if (c.kind !== "found" || !Array.isArray(c.value)) return undefined;
  const services = c.value as { config?: { name?: unknown }; name?: unknown; state?: unknown }[];
  return new Set(
    services
      .filter((s) => s.state === undefined || s.state === "ENABLED")
      .map((s) =>
        typeof s.config?.name === "string" ? s.config.name : (String(s.name).split("/").pop() ?? ""),
      ),
  );
}

/** The API findings; `blocked` are APIs whose absence kept other checks from looking. */
function apiFindings(c: Classified, t: PreflightTarget, blocked: ReadonlySet<string>): Finding[] {
  const enabled = enabledApis(c);
  if (c.kind !== "found") {
    const f = unanswered("apis", "which APIs are enabled", c, t.project);
    // Listing needs Service Usage; when that is what is off, the fix is the prerequisite set.
    return [c.kind === "disabled" ? { ...f, fix: [enableCommand(PREREQUISITE_APIS, t.project)] } : f];
  }
  if (enabled === undefined) {
    return [
      { check: "apis", ok: false, message: "`gcloud services list` did not answer a JSON list", fix: [] },
    ];
  }
  const missing = PREREQUISITE_APIS.filter((api) => !enabled.has(api));
  const programMissing = PROGRAM_APIS.filter((api) => !enabled.has(api));
  return [
    missing.length === 0
      ? { check: "apis", ok: true, message: `${PREREQUISITE_APIS.join(", ")} are enabled`, fix: [] }
      : {
          check: "apis",
          ok: false,
          message:
            `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not enabled: the gcp provider enables ` +
            "APIs through Service Usage and reads them through Cloud Resource Manager, so it cannot turn these on itself",
          fix: [enableCommand(missing, t.project)],
        },
    programMissing.length === 0
      ? {
          check: "program-apis",
          ok: true,
          message: `the APIs the program enables are on: ${PROGRAM_APIS.join(", ")}`,
          fix: [],
        }
      : {
          check: "program-apis",
          // Optional for `pulumi up` (it enables them and waits), but until they are on the checks
          // for existing resources cannot look; the program never disables them, so it is harmless.
          ok: !programMissing.some((api) => blocked.has(api)),
          message:
            `the program enables ${programMissing.join(", ")} itself, so this is optional for \`pulumi up\`; ` +
            (programMissing.some((api) => blocked.has(api))
              ? "but the checks below cannot look for existing resources until they are on:"
              : "enabling them now spares the wait for them to propagate:"),
          fix: [enableCommand(programMissing, t.project)],
        },
  ];
}

// States per the Artifact Registry v1 ProjectSettings.RedirectionState reference and the SDK's
// messages. Container Registry's deprecation notice (cloud.google.com/container-registry/docs/
// deprecations/container-registry-deprecation): projects that enabled the Container Registry API or
// pushed to it before 2024-05-15 keep Container Registry unless redirection is enabled; newer
// projects serve gcr.io from Artifact Registry already. `enable-upgrade-redirection` first offers to
// create the missing gcr.io repositories (SDK command_lib/artifacts/util.py, MaybeCreateMissingRepos).
const REDIRECTED = new Set([
  "REDIRECTION_FROM_GCR_IO_ENABLED",
  "REDIRECTION_FROM_GCR_IO_FINALIZED",
  "REDIRECTION_FROM_GCR_IO_ENABLED_AND_COPYING",
]);
const NOT_REDIRECTED = new Set([
  "REDIRECTION_FROM_GCR_IO_DISABLED",
  "REDIRECTION_FROM_GCR_IO_PARTIAL",
  "REDIRECTION_FROM_GCR_IO_PARTIAL_AND_COPYING",
]);

function redirectionFinding(c: Classified, t: PreflightTarget, covered: ReadonlySet<string>): Finding {
  const check = "gcr-redirection";
  if (c.kind !== "found") return unanswered(check, "the gcr.io redirection state", c, t.project, covered);
  const state = (c.value as { legacyRedirectionState?: unknown } | null)?.legacyRedirectionState;
  const enable = gcloud(["artifacts", "settings", "enable-upgrade-redirection", `--project=${t.project}`]);
  // The enable command offers to create missing gcr.io repositories: re-run the preflight after it.
  const rerun = preflightCommand(t);
  if (typeof state === "string" && REDIRECTED.has(state)) {
    return { check, ok: true, message: `gcr.io is served by Artifact Registry (${state})`, fix: [] };
  }
  if (typeof state === "string" && NOT_REDIRECTED.has(state)) {
    return {
      check,
      ok: false,
      message:
        `gcr.io is not (fully) redirected to Artifact Registry (${state}): this project used Container Registry ` +
        "before 2024-05-15, so pushes to gcr.io/<project> would not reach the repository the program creates. " +
        "There is no Pulumi resource for this setting. If gcloud offers to create the missing gcr.io " +
        "repositories, run the preflight again afterwards (it then prints their import).",
      fix: [enable, rerun],
    };
  }
  if (state === undefined || state === "REDIRECTION_STATE_UNSPECIFIED") {
    return {
      check,
      ok: true,
      message:
        "no gcr.io redirection state is set, as for projects that never used Container Registry. If this " +
        "project pushed images to gcr.io before 2024-05-15, enable the redirection:",
      fix: [enable],
    };
  }
  return {
    check,
    ok: false,
    message: `unrecognised gcr.io redirection state ${JSON.stringify(state)}: check it in the Artifact Registry settings`,
    fix: [enable],
  };
}

/** Whether an adoptable was found, and in which state. */
type Presence =
  { kind: "absent" } | { kind: "active"; value: unknown } | { kind: "deleted"; expireTime?: string };

function presence(a: Adoptable, c: Classified): Presence | undefined {
  if (c.kind === "absent") return { kind: "absent" };
  if (c.kind !== "found") return undefined;
  const value = c.value as { state?: unknown; expireTime?: unknown } | null;
  if (a.softDelete !== undefined && value?.state === "DELETED") {
    return {
      kind: "deleted",
      expireTime: typeof value.expireTime === "string" ? value.expireTime : undefined,
    };
  }
  return { kind: "active", value: c.value };
}

/**
 * `pulumi import` of one resource under a parent that the stack already has: `--parent` takes
 * `name=urn` (pulumi.com/docs/iac/cli/commands/pulumi_import; pkg/cmd/pulumi/operations/import.go
 * parseResourceSpec), and the engine refuses a parent URN the stack lacks (pulumi/pulumi#9146).
 */
export function importCommand(a: Adoptable, t: PreflightTarget): string {
  const parentUrn = urn(t.stack, a.parent.type, a.parent.name);
  return ["pulumi", "import", a.type, a.name, a.importId, "--parent", `${a.parent.name}=${parentUrn}`]
    .concat(["--stack", t.stack, "--generate-code=false"])
    .map(shellQuote)
    .join(" ");
}

/**
 * A `pulumi import --file` document. Since Pulumi 3.94 (pulumi/pulumi#14467, #14461) an entry with
 * `component: true` creates an empty component to parent the others; the next `up` fills it in.
 */
export interface ImportFile {
  readonly nameTable?: Readonly<Record<string, string>>;
  readonly resources: readonly {
    readonly type: string;
    readonly name: string;
    readonly id?: string;
    readonly parent?: string;
    readonly component?: boolean;
  }[];
}

/** One import file for all of them: parents the stack lacks are created as empty components. */
export function importFile(
  toImport: readonly Adoptable[],
  t: PreflightTarget,
  state: StackState,
): ImportFile {
  const nameTable: Record<string, string> = {};
  const resources: ImportFile["resources"][number][] = [];
  for (const a of toImport) {
    const parentUrn = urn(t.stack, a.parent.type, a.parent.name);
    if (state.kind === "read" && state.urns.has(parentUrn)) {
      nameTable[a.parent.name] = parentUrn;
    } else if (!resources.some((r) => r.component === true && r.name === a.parent.name)) {
      resources.push({ type: a.parent.type, name: a.parent.name, component: true });
    }
  }
  for (const a of toImport) {
    resources.push({ type: a.type, name: a.name, id: a.importId, parent: a.parent.name });
  }
  return Object.keys(nameTable).length > 0 ? { nameTable, resources } : { resources };
}

/** Where the printed commands write the import file. */
export const IMPORT_FILE_PATH = "${TMPDIR:-/tmp}/cq-release-import.json";

function adoptFindings(
  t: PreflightTarget,
  answers: PreflightInput["answers"],
  state: StackState,
  covered: ReadonlySet<string>,
): Finding[] {
  const list = adoptables(t);
  const found = list.map((a) => ({ a, c: classify(answers[a.query]) }));
  const toImport = found
    .filter(({ a, c }) => presence(a, c)?.kind === "active" && !managed(a, t, state))
    .map(({ a }) => a);
  const parentsInStack = toImport.every(
    (a) => state.kind === "read" && state.urns.has(urn(t.stack, a.parent.type, a.parent.name)),
  );
  const findings: Finding[] = found.map(({ a, c }) => {
    const p = presence(a, c);
    if (p === undefined) return unanswered(a.check, a.what, c, t.project, covered);
    if (p.kind === "absent")
      return { check: a.check, ok: true, message: `${a.what} does not exist yet`, fix: [] };
    if (p.kind === "deleted") return softDeleted(a, p.expireTime, t);
    if (managed(a, t, state)) {
      return {
        check: a.check,
        ok: true,
        message: `${a.what} exists and stack ${t.stack} manages it`,
        fix: [],
      };
    }
    const format = (p.value as { format?: unknown } | null)?.format;
    const formatNote =
      a.query === "repository" && format !== undefined && format !== "DOCKER"
        ? ` Its format is ${String(format)}, not DOCKER: the program would replace it, and the repository is protected, so move its contents and delete it instead.`
        : "";
    return {
      check: a.check,
      ok: false,
      message:
        `${a.what} already exists: \`pulumi up\` would fail with 409. Adopt it into stack ${t.stack} as ` +
        `${a.name} (child of ${a.parent.name})` +
        (parentsInStack ? ":" : " with the import file under import-file.") +
        formatNote,
      fix: parentsInStack ? [importCommand(a, t)] : [],
    };
  });
  if (toImport.length > 0 && !parentsInStack) {
    const doc = JSON.stringify(importFile(toImport, t, state), null, 2);
    findings.push({
      check: "import-file",
      ok: false,
      message:
        `stack ${t.stack} does not hold ${[...new Set(toImport.map((a) => a.parent.name))].join(" / ")} yet, and ` +
        "`pulumi import --parent` needs a parent the stack has; an import file creates the components " +
        "empty (Pulumi 3.94+) and imports the resources under them. Run it after `pulumi login` with " +
        "PULUMI_CONFIG_PASSPHRASE set (Bootstrap step 2), before `pulumi up`:",
      fix: [
        ...(state.kind === "read" ? [] : [`pulumi stack select --create ${shellQuote(t.stack)}`]),
        `cat > "${IMPORT_FILE_PATH}" <<'EOF'\n${doc}\nEOF`,
        `pulumi import --file "${IMPORT_FILE_PATH}" --stack ${shellQuote(t.stack)} --generate-code=false`,
      ],
    });
  }
  return findings;
}

function managed(a: Adoptable, t: PreflightTarget, state: StackState): boolean {
  return state.kind === "read" && state.urns.has(urn(t.stack, a.type, a.name, a.parent.type));
}

function softDeleted(a: Adoptable, expireTime: string | undefined, t: PreflightTarget): Finding {
  const sd = a.softDelete as NonNullable<Adoptable["softDelete"]>;
  return {
    check: a.check,
    ok: false,
    message:
      `${a.what} was deleted and is kept ${expireTime === undefined ? "for 30 days" : `until ${expireTime}`}; ` +
      "its id cannot be reused meanwhile, so `pulumi up` would fail. Either restore it (the preflight then " +
      `prints its import), or give the program another ${sd.configKey}:`,
    fix: [
      "# either: restore it, then run the preflight again",
      sd.undelete,
      preflightCommand(t),
      `# or: use another id (4-32 of a-z, 0-9, -)`,
      `pulumi config set ${sd.configKey} <new-id> --stack ${shellQuote(t.stack)}`,
      preflightCommand(t, { [sd.flag]: "<new-id>" }),
    ],
  };
}

function stackFinding(state: StackState, t: PreflightTarget): Finding {
  switch (state.kind) {
    case "read":
      return {
        check: "stack-state",
        ok: true,
        message: `stack ${t.stack} holds ${state.urns.size} resources; those it manages are not conflicts`,
        fix: [],
      };
    case "no-stack":
      return {
        check: "stack-state",
        ok: true,
        message: `stack ${t.stack} does not exist yet (fresh bootstrap)`,
        fix: [],
      };
    case "unknown":
      return {
        check: "stack-state",
        ok: true,
        message:
          `info: could not read stack ${t.stack} (${state.reason}); assuming it manages nothing yet. ` +
          "If it was bootstrapped already, resources reported below may be its own: log in and run the preflight again.",
        fix: [],
      };
  }
}

/** The preflight: one finding per check, failures carrying the commands that fix them. */
export function preflight(input: PreflightInput): Finding[] {
  const { target: t, answers } = input;
  const classified = Object.values(answers).map(classify);
  const unauth = classified.find((c) => c.kind === "unauthenticated");
  if (unauth !== undefined) {
    return [
      {
        check: "gcloud-auth",
        ok: false,
        message: `gcloud has no usable credentials (${"detail" in unauth ? unauth.detail : ""}); log in as the platform admin`,
        fix: ["gcloud auth login", "gcloud auth application-default login  # the credentials pulumi uses"],
      },
    ];
  }
  const state = stackState(input.stackExport);
  const services = classify(answers.services);
  const blocked = new Set(
    classified.flatMap((c) => (c.kind === "disabled" && c.api !== undefined ? [c.api] : [])),
  );
  // When the API list answered, program-apis prints the enable command for the blocked ones.
  const enabled = enabledApis(services);
  const covered = new Set(
    enabled === undefined ? [] : PROGRAM_APIS.filter((api) => blocked.has(api) && !enabled.has(api)),
  );
  return [
    ...apiFindings(services, t, blocked),
    redirectionFinding(classify(answers.redirection), t, covered),
    stackFinding(state, t),
    ...adoptFindings(t, answers, state, covered),
  ];
}

/** 0 when every finding is ok (ready for `pulumi up`), 1 when something must be fixed. */
export function exitCode(findings: readonly Finding[]): 0 | 1 {
  return findings.every((f) => f.ok) ? 0 : 1;
}

/** The printed report. */
export function renderReport(t: PreflightTarget, findings: readonly Finding[]): string {
  const out: string[] = [
    `Preflight of GCP project ${t.project} for stack ${t.stack} ` +
      `(pool ${t.poolId}, provider ${t.providerId}, accounts ${t.releaseAccountId} / ${t.previewAccountId})`,
    "",
  ];
  for (const f of findings) {
    const label = !f.ok ? "FIX " : f.fix.length > 0 ? "INFO" : "ok  ";
    out.push(`[${label}] ${f.check}: ${f.message}`);
    // Continuation lines stay unindented: a heredoc's EOF must start its line when pasted.
    for (const line of f.fix) {
      const [first, ...rest] = line.split("\n");
      out.push(first.startsWith("#") ? `    ${first}` : `    $ ${first}`, ...rest);
    }
  }
  const failed = findings.filter((f) => !f.ok).length;
  out.push(
    "",
    failed === 0
      ? "Ready: nothing blocks the bootstrap `pulumi up` (docs/release.md#bootstrap-platform-team-once)."
      : `${failed} to fix before the bootstrap \`pulumi up\`; then run \`${preflightCommand(t)}\` again.`,
  );
  return out.join("\n") + "\n";
}

/** What to run by hand when gcloud is not installed. */
export function manualChecks(t: PreflightTarget): string {
  const out = [
    "gcloud is not on PATH, so nothing was checked. Install the Google Cloud CLI",
    "(https://cloud.google.com/sdk/docs/install) and run the preflight again, or run these by hand",
    "as the platform admin and compare with docs/release.md#preflight:",
    "",
  ];
  for (const q of gcloudQueries(t)) {
    out.push(`  ${gcloud(q.args)}`, `      # ${q.purpose}`);
  }
  out.push(
    `  pulumi ${stackExportArgs(t).map(shellQuote).join(" ")}`,
    "      # resources the stack already manages",
  );
  return out.join("\n") + "\n";
}
