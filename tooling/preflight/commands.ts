// The commands of the bootstrap preflight: the gcloud and pulumi calls it makes (arguments, no
// shell) and the shell lines it prints, quoted for a POSIX shell, to enable an API or to run the
// preflight again with the same flags.
import { type PreflightTarget, TARGET_DEFAULTS } from "./target";

/**
 * APIs the gcp provider cannot enable for itself: enabling an API (google_project_service) goes
 * through Service Usage, and its reads need Cloud Resource Manager.
 */
export const PREREQUISITE_APIS = [
  "cloudresourcemanager.googleapis.com",
  "serviceusage.googleapis.com",
] as const;

/** The Artifact Registry repository that serves gcr.io/<project>/… (registries component). */
export const GCR_REPOSITORY = { id: "gcr.io", location: "us" } as const;

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

const SAFE_WORD = /^[A-Za-z0-9_./:=@,+%-]+$/;

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A gcloud command line, quoted. */
export function gcloud(args: readonly string[]): string {
  return ["gcloud", ...args].map(shellQuote).join(" ");
}

/** The gcloud command that enables `apis`. */
export function enableCommand(apis: readonly string[], project: string): string {
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
