// Public images: the decision of the release's anonymous-pull check. Per published ref, what the
// config intends (the `registryVisibility` stack output, lib/imageRegistries.ts) against what an
// anonymous client got (tooling/anonymousPull.ts reads it): a finding with a severity, one plain
// sentence and the one action to take, which the Release body, the job summary and the job's
// outcome are made of. Pure; tested by tables in test/visibility.test.ts.
//
// The job fails (`fail`) only where config says public and the program grants it (gcr.io with
// the registries component): the infrastructure is not applied as configured, and a person who can
// fix it must look. Everything else is a warning or a note: the images are already published and
// signed, and what is missing (GHCR's visibility, which no API can set) is for a person to do.
import { type IntendedVisibility, type PublicKey, REGISTRIES } from "../lib/imageRegistries";

/** What an anonymous `GET /v2/<path>/manifests/<digest>` came to. */
export type AnonymousRead =
  | { readonly result: "pullable" }
  /** The registry (or its token realm) answered 401, 403 or 404: not for anyone without credentials. */
  | { readonly result: "refused"; readonly status: number; readonly detail: string }
  /** No answer that says either way (network, 5xx, content not matching the digest). */
  | { readonly result: "error"; readonly detail: string };

/** An anonymous read's outcome from the client's answer: the content, or an HTTP status and message. */
export function classifyAnonymousRead(
  answer: { readonly ok: true } | { readonly status: number; readonly message: string },
): AnonymousRead {
  if ("ok" in answer) return { result: "pullable" };
  if ([401, 403, 404].includes(answer.status)) {
    return { result: "refused", status: answer.status, detail: answer.message };
  }
  return { result: "error", detail: answer.message };
}

/** An anonymous pull, as a finding reports it: it `works`, is `refused`, or could not be checked. */
export type AnonymousPull = "works" | "refused" | "unchecked";

/** How much a finding matters: `fail` fails the release job (after the Release is announced). */
export type Severity = "ok" | "note" | "warn" | "fail";

/** One published ref, checked. */
export interface VisibilityFinding {
  /** Registry key (`gcr`, `ghcr`, `local`). */
  readonly key: string;
  /** `<registry>/<path>` without tag or digest. */
  readonly repository: string;
  /** What an anonymous client got for the release's digest just now. */
  readonly pull: AnonymousPull;
  readonly severity: Severity;
  /** One plain sentence: what an anonymous client gets, against what the config says. */
  readonly message: string;
  /** The one action to take; absent when there is nothing to do. */
  readonly action?: string;
}

/** What a finding needs besides the read. */
export interface VisibilityInput {
  readonly key: string;
  /** `<repository>@sha256:<digest>`. */
  readonly ref: string;
  readonly intended: IntendedVisibility;
  readonly read: AnonymousRead;
}

/** Facts about where the release runs, for the actions' wording. */
export interface VisibilityContext {
  /** The Pulumi stack of the release. Defaults to `prod`. */
  readonly stack?: string;
  /** `repository.owner.type` of the workflow event (`Organization` or `User`); undefined when unknown. */
  readonly ownerType?: string;
}

/** `repository.owner.type` of a workflow event payload (`GITHUB_EVENT_PATH`), when it has one. */
export function eventOwnerType(event: unknown): string | undefined {
  const type = (event as { repository?: { owner?: { type?: unknown } } } | null)?.repository?.owner?.type;
  return typeof type === "string" ? type : undefined;
}

/**
 * The GHCR package settings page of `repository` (`ghcr.io/<owner>/<name…>`), where "Change
 * visibility" is; both forms when the owner's type is unknown (organisations and personal
 * accounts have different URLs).
 */
export function ghcrSettingsUrl(repository: string, ownerType?: string): string {
  const m = /^ghcr\.io\/([^/]+)\/(.+)$/.exec(repository);
  if (m === null) throw new Error(`not a ghcr.io repository: ${JSON.stringify(repository)}`);
  const url = (kind: string) =>
    `https://github.com/${kind}/${m[1]}/packages/container/${encodeURIComponent(m[2])}/settings`;
  if (ownerType === "Organization") return url("orgs");
  if (ownerType === "User") return url("users");
  return `${url("orgs")} (for a personal account: ${url("users")})`;
}

/** The GCP project of a `gcr.io/<project>/<image>` repository. */
function gcrProject(repository: string): string {
  const project = /^gcr\.io\/([^/]+)\//.exec(repository)?.[1];
  if (project === undefined) throw new Error(`not a gcr.io repository: ${JSON.stringify(repository)}`);
  return project;
}

/** `gcloud` changing who may read the repository `gcr.io` (`add` or `remove` allUsers as reader). */
function gcloudBinding(verb: "add" | "remove", repository: string): string {
  return (
    `\`gcloud artifacts repositories ${verb}-iam-policy-binding gcr.io --project=${gcrProject(repository)} ` +
    "--location=us --member=allUsers --role=roles/artifactregistry.reader`"
  );
}

function refused(read: AnonymousRead): string {
  return read.result === "refused" ? `HTTP ${read.status}` : read.result;
}

/** The finding for one published ref (the decision table in docs/release.md, "Public images"). */
export function decideVisibility(input: VisibilityInput, ctx: VisibilityContext = {}): VisibilityFinding {
  const { key, intended, read } = input;
  const at = input.ref.lastIndexOf("@");
  if (at < 0) throw new Error(`not <repository>@<digest>: ${JSON.stringify(input.ref)}`);
  const repository = input.ref.slice(0, at);
  const digest = input.ref.slice(at + 1);
  const stack = ctx.stack ?? "prod";
  const base = { key, repository };
  const keyName = intended.key ?? `the ${key} registry's public key`;
  const setting =
    intended.key === undefined
      ? `it is configured ${intended.public ? "public" : "private"}`
      : `${intended.key} is ${String(intended.public)}`;
  const isGhcr = key === "ghcr";
  const isGcr = key === "gcr";

  if (read.result === "error") {
    return {
      ...base,
      pull: "unchecked",
      severity: "warn",
      message: `\`${repository}\`: an anonymous pull could not be checked (${read.detail}).`,
      action: "re-run the GitHub Release job to check again",
    };
  }
  if (read.result === "pullable") {
    if (intended.public) {
      return { ...base, pull: "works", severity: "ok", message: `\`${repository}\` is public.` };
    }
    const orPublic = `or set ${keyName} true if it is meant to be public`;
    let action = `require credentials on the registry, ${orPublic}`;
    if (isGhcr) {
      action = `${ghcrSettingsUrl(repository, ctx.ownerType)} → "Change visibility" → Private, ${orPublic}`;
    } else if (isGcr && intended.setByProgram) {
      action =
        `the platform team runs \`pulumi up --stack ${stack}\`, which deletes the program's public reader ` +
        `(a grant made outside the program: ${gcloudBinding("remove", repository)}), ${orPublic}`;
    } else if (isGcr) {
      action = `a project admin runs ${gcloudBinding("remove", repository)}, ${orPublic}`;
    }
    return {
      ...base,
      pull: "works",
      severity: "warn",
      message: `\`${repository}\` is public although ${setting}: anyone can pull \`${digest}\` without credentials.`,
      action,
    };
  }

  // Refused.
  const what = `an anonymous pull of \`${digest}\` is refused (${refused(read)})`;
  if (!intended.public) {
    return {
      ...base,
      pull: "refused",
      severity: "note",
      message: `\`${repository}\` is private (${setting}): ${what}; pulling needs credentials.`,
      action: isGhcr
        ? `to make it public: \`pulumi config set ${keyName} true --stack ${stack}\`, and ${ghcrSettingsUrl(repository, ctx.ownerType)} → "Change visibility" → Public`
        : `to make it public: \`pulumi config set ${keyName} true --stack ${stack}\`, then the platform team's \`pulumi up --stack ${stack}\``,
    };
  }
  if (intended.setByProgram) {
    return {
      ...base,
      pull: "refused",
      severity: "fail",
      message:
        `\`${repository}\` is not public although ${setting}: ${what}. ` +
        "The program grants allUsers read on this repository, so that grant is not in effect.",
      action:
        `the platform team runs \`pulumi up --stack ${stack}\` (it creates \`registries-public-reader\`; ` +
        'docs/release.md, "Public images"), then re-runs this job',
    };
  }
  if (isGhcr) {
    return {
      ...base,
      pull: "refused",
      severity: "warn",
      message:
        `\`${repository}\` is private although ${setting}: ${what}. ` +
        "GitHub may create a package private on its first push, and no API can change that.",
      action: `an admin of the package opens ${ghcrSettingsUrl(repository, ctx.ownerType)} → "Change visibility" → Public (once: later releases stay public)`,
    };
  }
  if (isGcr) {
    return {
      ...base,
      pull: "refused",
      severity: "warn",
      message:
        `\`${repository}\` is private although ${setting}: ${what}. ` +
        "The registries component is off, so the program does not manage the repository's IAM.",
      action: `a project admin runs ${gcloudBinding("add", repository)}`,
    };
  }
  return {
    ...base,
    pull: "refused",
    severity: "warn",
    message: `\`${repository}\` asks for credentials: ${what}.`,
    action: "serve the registry without authentication",
  };
}

/** Severities from the most to the least pressing. */
const ORDER: readonly Severity[] = ["fail", "warn", "note", "ok"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const PUBLIC_KEYS: readonly string[] = REGISTRIES.flatMap((r) =>
  r.visibility.kind === "anonymous" ? [] : [r.visibility.publicKey],
);

/**
 * The stack output `registryVisibility` (index.ts), validated: registry key → intended visibility.
 * Throws naming the bad entry.
 */
export function parseRegistryVisibility(outputs: unknown): Record<string, IntendedVisibility> {
  const v = isRecord(outputs) ? outputs.registryVisibility : undefined;
  if (!isRecord(v) || Object.keys(v).length === 0) {
    throw new Error(
      `stack output 'registryVisibility' must be an object registry → {public, key?, setByProgram}, got ${JSON.stringify(v)}`,
    );
  }
  const out: Record<string, IntendedVisibility> = {};
  for (const [key, e] of Object.entries(v)) {
    if (
      !isRecord(e) ||
      typeof e.public !== "boolean" ||
      typeof e.setByProgram !== "boolean" ||
      (e.key !== undefined && !PUBLIC_KEYS.includes(String(e.key)))
    ) {
      throw new Error(
        `stack output 'registryVisibility.${key}' is not {public, key?, setByProgram}: ${JSON.stringify(e)}`,
      );
    }
    out[key] = {
      public: e.public,
      setByProgram: e.setByProgram,
      ...(e.key === undefined ? {} : { key: e.key as PublicKey }),
    };
  }
  return out;
}

/** The findings file between the check and the notes (`visibility.sh`), validated. */
export function parseFindings(json: unknown): VisibilityFinding[] {
  if (!Array.isArray(json))
    throw new Error(`visibility findings must be a JSON array, got ${JSON.stringify(json)}`);
  return json.map((f, i) => {
    if (
      !isRecord(f) ||
      typeof f.key !== "string" ||
      typeof f.repository !== "string" ||
      !["works", "refused", "unchecked"].includes(f.pull as string) ||
      !ORDER.includes(f.severity as Severity) ||
      typeof f.message !== "string" ||
      (f.action !== undefined && typeof f.action !== "string")
    ) {
      throw new Error(`visibility finding ${i} is malformed: ${JSON.stringify(f)}`);
    }
    return f as unknown as VisibilityFinding;
  });
}

/** The most pressing severity among `findings` (`ok` for none). */
export function worstSeverity(findings: readonly VisibilityFinding[]): Severity {
  return ORDER.find((s) => findings.some((f) => f.severity === s)) ?? "ok";
}

/** The line of one finding: its sentence, then what to do. */
export function findingLine(f: VisibilityFinding): string {
  return f.action === undefined ? f.message : `${f.message} **To do:** ${f.action}.`;
}

/** The job summary's section (Markdown): one row per published ref. */
export function visibilitySummary(findings: readonly VisibilityFinding[]): string {
  const mark: Record<Severity, string> = { ok: "✅", note: "ℹ️", warn: "⚠️", fail: "❌" };
  return [
    "### Anonymous pulls",
    "",
    "| registry | anonymous pull | finding |",
    "|---|---|---|",
    ...findings.map(
      (f) =>
        `| ${mark[f.severity]} \`${f.repository}\` | ${f.pull} | ${findingLine(f).replaceAll("|", "\\|").replaceAll("\n", " ")} |`,
    ),
    "",
  ].join("\n");
}

/** A workflow command's message, escaped (`%`, CR, LF) so it stays one command. */
function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/**
 * Workflow annotations for the findings that need a person: `::error::` for `fail`,
 * `::warning::` for `warn`, `::notice::` for `note`; nothing for `ok`.
 */
export function visibilityAnnotations(findings: readonly VisibilityFinding[]): string {
  const level: Partial<Record<Severity, string>> = { fail: "error", warn: "warning", note: "notice" };
  return findings
    .filter((f) => level[f.severity] !== undefined)
    .map((f) => `::${level[f.severity]}::${escapeData(findingLine(f))}\n`)
    .join("");
}
