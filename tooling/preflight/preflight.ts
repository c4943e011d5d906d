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
//
// The parts: target.ts (flags → what is checked), commands.ts (what is run and printed),
// answers.ts (what the answers mean), adopt.ts (resources that already exist); this module decides
// the findings and prints the report.
import { GCP_APIS, IDENTITY_APIS } from "../../lib/gcpApis";
import { adoptFindings } from "./adopt";
import {
  type Answers,
  type Classified,
  classify,
  type CommandAnswer,
  type Finding,
  type StackState,
  stackState,
  unanswered,
} from "./answers";
import {
  enableCommand,
  gcloud,
  gcloudQueries,
  preflightCommand,
  PREREQUISITE_APIS,
  shellQuote,
  stackExportArgs,
} from "./commands";
import type { PreflightTarget } from "./target";

/** APIs the program enables itself (registries and identity components), deduplicated and sorted. */
export const PROGRAM_APIS: readonly string[] = [...new Set<string>([...GCP_APIS, ...IDENTITY_APIS])].sort();

/** Everything the preflight needs to decide: the target and the recorded answers. */
export interface PreflightInput {
  readonly target: PreflightTarget;
  readonly answers: Answers;
  /** Answer of `pulumi stack export`; undefined when the pulumi CLI is not available. */
  readonly stackExport?: CommandAnswer;
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
