// What the preflight's calls answered, read: a gcloud answer classified (found, absent, denied,
// API disabled, not logged in), what `pulumi stack export` says the stack manages, and the finding
// for a check whose answer tells nothing about what it asked.
import { enableCommand, type QueryKey } from "./commands";

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

/** The recorded answer of each gcloud call. */
export type Answers = Readonly<Partial<Record<QueryKey, CommandAnswer>>>;

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

/**
 * A check that could not look: one finding per kind of failure. `covered` are APIs whose enable
 * command another finding (program-apis) already prints.
 */
export function unanswered(
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
