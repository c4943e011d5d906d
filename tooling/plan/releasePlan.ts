// The release plan posted on every pull request above `pulumi preview`'s raw output: whether the
// image would be rebuilt and why, which floating tags a release of the commit would move, the
// infrastructure changes waiting for the platform team, and policy violations. Pure; tested by
// tables (and on a real local-stack preview when its fixture exists) in test/releasePlan.test.ts.
// Input: previewJson.ts's ParsedPreview. The plan prints property *names* of changes, never
// their values; the few values it prints (build args, IAM role and member, tags) go through
// `shown()`, so a secret or unknown never appears.
//
// The sections are image.ts, floatingTags.ts and infrastructure.ts; this module adds the errors
// and policy violations, puts the plan together and wraps it in the PR comment.
import { PROJECT } from "../../lib/config";
import { RELEASE_TAG_PREFIX } from "../../lib/release";
import { isStable, planFloatingTags, renderFloating } from "./floatingTags";
import { renderImage } from "./image";
import { pendingInfrastructure, renderInfrastructure } from "./infrastructure";
import { code, text } from "./markdown";
import {
  type Json,
  type ParsedPreview,
  parseUrn,
  type PlanDiagnostic,
  type PlanOp,
  plainText,
  str,
  strings,
} from "./previewJson";

/** First line of every plan comment; the workflow finds its own comment by it. */
export const PLAN_MARKER = "<!-- cq-release-plan -->";

/** GitHub refuses comment bodies over 65,536 characters; the default budget stays below it. */
export const COMMENT_MAX_CHARS = 60_000;

// ---------------------------------------------------------------------------------------------
// Policy and errors.

function renderPolicy(preview: ParsedPreview): string[] {
  const v = preview.policyViolations;
  if (preview.policyPacks === undefined) {
    return [
      "**Policy:** not recorded — the `pulumi preview --json` digest omits policy events; render from the " +
        "event log (`--event-log`) to see them.",
    ];
  }
  const packs = Object.entries(preview.policyPacks).map(([n, ver]) => code(ver === "" ? n : `${n}@${ver}`));
  if (v.length === 0) {
    return [
      packs.length === 0
        ? "**Policy:** no policy pack ran."
        : `**Policy:** no violations (${packs.join(", ")}).`,
    ];
  }
  const mandatory = v.filter((x) => x.level === "mandatory" || x.level === "remediate");
  const advisory = v.filter((x) => !mandatory.includes(x));
  const parts = [
    mandatory.length > 0 ? `❌ ${mandatory.length} mandatory (the preview fails; a release would too)` : "",
    advisory.length > 0 ? `⚠️ ${advisory.length} advisory` : "",
  ].filter((p) => p !== "");
  const lines = [`**Policy violations:** ${parts.join(", ")}.`];
  for (const x of [...mandatory, ...advisory]) {
    const on = x.urn === undefined || x.urn === "" ? "" : ` on ${code(parseUrnSafe(x.urn))}`;
    const icon = mandatory.includes(x) ? "❌" : "⚠️";
    lines.push(`- ${icon} ${x.level} ${code(x.policy)}${on}: ${text(x.message)}`);
  }
  return lines;
}

function parseUrnSafe(urn: string): string {
  try {
    const { qualifiedType, name } = parseUrn(urn);
    return qualifiedType.endsWith("pulumi:pulumi:Stack") ? "the stack" : name;
  } catch {
    return urn;
  }
}

function renderErrors(diagnostics: readonly PlanDiagnostic[]): string[] {
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length === 0) return [];
  const lines = [`**The preview reported ${errors.length} error${errors.length === 1 ? "" : "s"}:**`];
  for (const e of errors.slice(0, 3)) {
    const first = e.message.split("\n").find((l) => l.trim() !== "") ?? "";
    lines.push(`- ${text(first)}`);
  }
  if (errors.length > 3) lines.push(`- … ${errors.length - 3} more (see the raw output below).`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The plan.

/** Inputs of {@link renderReleasePlan}. */
export interface ReleasePlanInput {
  readonly preview: ParsedPreview;
  /**
   * Stack outputs of the last `up` (`pulumi stack output --json`). Defaults to the root stack's
   * old outputs inside the preview, which are the same values.
   */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** Every existing release tag. Defaults to the preview's config `releasedVersions`. */
  readonly releasedVersions?: readonly string[];
  /** Version to plan the floating tags for; see {@link FloatingTagInput}. */
  readonly version?: string;
}

function configValue(preview: ParsedPreview, key: string): string | undefined {
  const v = preview.config[`${PROJECT}:${key}`];
  return v === undefined || v === "[secret]" || v === "" ? undefined : v;
}

function stackOf(preview: ParsedPreview): string | undefined {
  const urn = preview.steps[0]?.urn;
  return urn === undefined ? undefined : parseUrn(urn).stack;
}

/** The root stack's outputs before this preview: the last `up`'s stack outputs. */
export function previousOutputs(preview: ParsedPreview): Record<string, unknown> {
  const root = preview.steps.find((s) => s.type === "pulumi:pulumi:Stack");
  return { ...(root?.oldOutputs ?? {}) };
}

function releasedFromConfig(preview: ParsedPreview): string[] | undefined {
  const raw = configValue(preview, "releasedVersions");
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? strings(parsed) : undefined;
  } catch {
    return undefined;
  }
}

function summaryLine(preview: ParsedPreview): string {
  const counted: Record<string, number> = {};
  for (const s of preview.steps) {
    if (s.type === "pulumi:pulumi:Stack") continue;
    counted[s.op] = (counted[s.op] ?? 0) + 1;
  }
  // The digest omits unchanged resources; its summary still counts them.
  if (preview.format === "digest" && preview.changeSummary?.same !== undefined) {
    counted.same = preview.changeSummary.same;
  }
  const order: [PlanOp, string][] = [
    ["create", "to create"],
    ["update", "to update"],
    ["replace", "to replace"],
    ["delete", "to delete"],
    ["import", "to import"],
    ["same", "unchanged"],
  ];
  const parts = order
    .filter(([op]) => (counted[op] ?? 0) > 0)
    .map(([op, label]) => `${counted[op]} ${label}`);
  return parts.length === 0 ? "no resources" : parts.join(", ");
}

/** Renders the plan as Markdown (no marker; see {@link planComment}). */
export function renderReleasePlan(input: ReleasePlanInput): string {
  const { preview } = input;
  const outputs: Json = { ...previousOutputs(preview), ...(input.outputs ?? {}) };
  const prefix = RELEASE_TAG_PREFIX;
  const previewVersion = configValue(preview, "version");
  const commit = configValue(preview, "commit");

  let released = input.releasedVersions ?? releasedFromConfig(preview);
  const lastVersion = str(outputs.version);
  if (released !== undefined && lastVersion !== undefined && !released.includes(lastVersion)) {
    released = [...released, lastVersion];
  }
  const floating = planFloatingTags({
    version: input.version,
    previewVersion,
    commit,
    releasedVersions: released ?? [],
    prefix,
  });

  const stack = stackOf(preview);
  const head = [`### Release plan${stack === undefined ? "" : ` for ${code(stack)}`}`, ""];
  const ran = [
    previewVersion === undefined ? "" : `Previewed as ${code(previewVersion)}`,
    commit === undefined ? "" : `at ${code(commit.slice(0, 7))}`,
  ]
    .filter((x) => x !== "")
    .join(" ");
  const standIn =
    previewVersion !== undefined && !isStable(previewVersion, prefix)
      ? " — a pre-release stand-in, so the preview itself moves no floating tag"
      : "";
  head.push(`${ran === "" ? "Preview" : ran}${standIn}. Resources: ${summaryLine(preview)}.`);

  const sections = [
    renderErrors(preview.diagnostics),
    renderImage(preview.steps, outputs, preview.config),
    renderFloating(floating, released !== undefined || input.version !== undefined, outputs, prefix),
    renderInfrastructure(pendingInfrastructure(preview.steps)),
    renderPolicy(preview),
  ].filter((s) => s.length > 0);
  return [...head, ...sections.flatMap((s) => ["", ...s])].join("\n") + "\n";
}

/** A Markdown code fence longer than any backtick run in `body`. */
function fence(body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(longest + 1);
}

/**
 * The PR comment: the marker, the plan, and (when given) `pulumi preview`'s raw output in a
 * collapsed block, cut in the middle to fit `maxChars` (GitHub's comment limit).
 */
export function planComment(plan: string, rawDiff?: string, maxChars = COMMENT_MAX_CHARS): string {
  const top = `${PLAN_MARKER}\n${plan.trimEnd()}\n`;
  if (rawDiff === undefined) return top;
  let raw = plainText(rawDiff).trimEnd();
  const wrapper = (body: string) => {
    const f = fence(body);
    return `\n<details><summary>pulumi preview (raw output)</summary>\n\n${f}diff\n${body}\n${f}\n\n</details>\n`;
  };
  const budget = maxChars - top.length - wrapper("").length - 200;
  if (budget <= 0) return top;
  if (raw.length > budget) {
    const head = Math.floor(budget * 0.7);
    const tail = budget - head;
    const omitted = raw.length - head - tail;
    raw = `${raw.slice(0, head)}\n… ${omitted} characters omitted (the full output is in the workflow log) …\n${raw.slice(raw.length - tail)}`;
  }
  return top + wrapper(raw);
}

// ---------------------------------------------------------------------------------------------
// A run that cannot preview.

/** The Actions secret the preview needs: it decrypts the stack's configuration. */
export const PREVIEW_SECRET = "PULUMI_CONFIG_PASSPHRASE";

/** `github.actor` of the runs Dependabot triggers. */
export const DEPENDABOT_ACTOR = "dependabot[bot]";

/**
 * The PR comment (same marker, so it replaces an earlier plan) of a run that did not get
 * {@link PREVIEW_SECRET} and so did not preview: why, and how to get the plan. `actor` is the
 * run's `github.actor`, whose restrictions GitHub applies (even to a re-run by someone else).
 */
export function notPreviewedComment(actor: string): string {
  const why =
    actor === DEPENDABOT_ACTOR
      ? [
          "Dependabot triggered this run, and GitHub gives such runs Dependabot secrets only, never Actions " +
            "secrets, even when someone else re-runs them. The secret is deliberately not a Dependabot secret: " +
            "the preview would run this pull request's new dependencies with the stack's passphrase and a cloud " +
            "identity before anyone has reviewed them. The tests (ci.yml) ran as usual.",
          "",
          "To get the plan, review the change, then push a commit to this branch (e.g. " +
            "`git commit --allow-empty -m preview && git push`): a run someone else triggers gets the secret.",
        ]
      : [
          `${code(actor)} triggered this run and the secret was not available to it: it is not set for this ` +
            'repository (the platform team\'s bootstrap writes it; docs/release.md, "Bootstrap").',
        ];
  return [
    PLAN_MARKER,
    "### Release plan for `prod`: not previewed",
    "",
    `This run did not get the Actions secret ${code(PREVIEW_SECRET)}, which the preview needs to decrypt the ` +
      "stack's configuration, so it skipped the preview instead of failing it.",
    "",
    ...why,
    "",
  ].join("\n");
}
