// The release plan posted on every pull request above `pulumi preview`'s raw output: whether the
// image would be rebuilt and why, which floating tags a release of the commit would move, the
// infrastructure changes waiting for the platform team, and policy violations. Pure; tested by
// tables (and on a real local-stack preview when its fixture exists) in test/releasePlan.test.ts.
// Input: previewJson.ts's ParsedPreview. The plan prints property *names* of changes, never
// their values; the few values it prints (build args, IAM role and member, tags) go through
// `shown()`, so a secret or unknown never appears.
import * as semver from "semver";

import { PROJECT } from "../../lib/config";
import { BASE_IMAGE_ARGS } from "../evidence";
import { PLUGIN_IMAGE_TYPE } from "../../lib/imageTarget";
import {
  isObject,
  type Json,
  ParsedPreview,
  parseUrn,
  PlanDiagnostic,
  PlanOp,
  PlanStep,
  plainText,
  shown,
  str,
  strings,
  UNKNOWN_VALUE,
} from "./previewJson";
import { deriveReleaseTags, RELEASE_TAG_PREFIX } from "../../lib/release";

/** First line of every plan comment; the workflow finds its own comment by it. */
export const PLAN_MARKER = "<!-- cq-release-plan -->";

/** GitHub refuses comment bodies over 65,536 characters; the default budget stays below it. */
export const COMMENT_MAX_CHARS = 60_000;

/** Raised for input the plan cannot be made from; the message says what and where. */
export class ReleasePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleasePlanError";
  }
}

/** Inline code: no backticks, no line breaks, at most `max` characters. */
export function code(s: string, max = 100): string {
  let t = s.replace(/[`\r\n]+/g, " ");
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return `\`${t}\``;
}

/** Text from the preview (messages) as safe Markdown: no HTML, no @-mentions, one line. */
export function text(s: string, max = 300): string {
  let t = s.replace(/\s+/g, " ").trim();
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return t
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll("@", "@\u200b");
}

/** `sha256:0123…` → the first 12 hex digits, as `docker images` shows them. */
export function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1");
}

/** `image:tag@sha256:<64 hex>` → the same with a 12-digit digest. */
function shortRef(ref: string): string {
  return ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}\b/, "@sha256:$1");
}

// ---------------------------------------------------------------------------------------------
// The image.

/** Build args that change with every release: the version stamp and the commit time (components/image.ts `buildArgs`). */
export const RELEASE_METADATA_BUILD_ARGS: readonly string[] = ["VERSION", "SOURCE_DATE_EPOCH"];
/**
 * docker-build Image inputs (the keys of its Diff, provider v0.0.22 `Image.Diff`) that change
 * with every release, and those that change how it builds but not what it builds.
 */
const RELEASE_METADATA_KEYS = new Set(["labels", "tags"]);
const BUILD_SETTING_KEYS = new Set([
  "cacheFrom",
  "cacheTo",
  "builder",
  "registries",
  "push",
  "buildOnPreview",
  "load",
]);

/** Why an Image differs from the last applied build. */
export interface ImageChange {
  /** Build context hash: a file under the context (`plugin/`) or the Dockerfile changed. */
  readonly context: boolean;
  /** Base-image build args that changed: name, old, new. */
  readonly baseImages: readonly { name: string; from: string; to: string }[];
  /** Other build args that changed (names only, plus old/new values). */
  readonly buildArgs: readonly { name: string; from: string; to: string }[];
  /** Release metadata that changed: VERSION, SOURCE_DATE_EPOCH, labels, tags. */
  readonly metadata: readonly string[];
  /** Other inputs that change what is built: platforms, dockerfile, exports, target, … */
  readonly definition: readonly string[];
  /** Inputs that change only how it is built: cache, builder, registries. */
  readonly settings: readonly string[];
}

function buildArgsOf(inputs: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  return isObject(inputs?.buildArgs) ? inputs.buildArgs : {};
}

/** Classifies the diff of one docker-build Image step. */
export function imageChange(step: PlanStep): ImageChange {
  const oldArgs = buildArgsOf(step.oldInputs);
  const newArgs = buildArgsOf(step.newInputs);
  const baseImages: { name: string; from: string; to: string }[] = [];
  const buildArgs: { name: string; from: string; to: string }[] = [];
  const metadata: string[] = [];
  const names = [...new Set([...Object.keys(oldArgs), ...Object.keys(newArgs)])].sort();
  if (step.changed.includes("buildArgs")) {
    for (const name of names) {
      if (JSON.stringify(oldArgs[name]) === JSON.stringify(newArgs[name])) continue;
      const change = { name, from: shown(oldArgs[name]), to: shown(newArgs[name]) };
      if (RELEASE_METADATA_BUILD_ARGS.includes(name)) metadata.push(name);
      else if ((BASE_IMAGE_ARGS as readonly string[]).includes(name)) baseImages.push(change);
      else buildArgs.push(change);
    }
    if (metadata.length + baseImages.length + buildArgs.length === 0) {
      // The provider says they differ but the values do not show how (hidden or absent values).
      buildArgs.push({ name: "(build args)", from: "", to: "" });
    }
  }
  const definition: string[] = [];
  const settings: string[] = [];
  for (const key of step.changed) {
    if (key === "buildArgs" || key === "contextHash") continue;
    if (RELEASE_METADATA_KEYS.has(key)) metadata.push(key);
    else if (BUILD_SETTING_KEYS.has(key)) settings.push(key);
    else definition.push(key);
  }
  return {
    context: step.changed.includes("contextHash"),
    baseImages,
    buildArgs,
    metadata,
    definition,
    settings,
  };
}

function platformOf(step: PlanStep): string {
  const p = strings(step.newInputs?.platforms)[0] ?? strings(step.oldInputs?.platforms)[0];
  return p ?? step.name;
}

const IMAGE_TYPE = "docker-build:index:Image";
const INDEX_TYPE = "docker-build:index:Index";

/** Whether a step belongs to the release image (the PluginImage component or any docker-build resource). */
export function isImageStep(step: PlanStep): boolean {
  return step.type.startsWith("docker-build:") || step.qualifiedType.split("$").includes(PLUGIN_IMAGE_TYPE);
}

function tagOf(ref: unknown): string | undefined {
  const s = str(ref);
  if (s === undefined || s === UNKNOWN_VALUE) return undefined;
  const at = s.lastIndexOf(":");
  return at < 0 || s.slice(at).includes("/") ? undefined : s.slice(at + 1);
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

function list(xs: readonly string[]): string {
  return xs.map((x) => code(x)).join(", ");
}

function renderImage(steps: readonly PlanStep[], outputs: Json): string[] {
  const images = steps.filter((s) => s.type === IMAGE_TYPE);
  const indexes = steps.filter((s) => s.type === INDEX_TYPE);
  if (images.length === 0 && indexes.length === 0) {
    return ["**Image:** not built by this stack (`enableImage` is off)."];
  }
  const lastVersion = str(outputs.version);
  const lastDigest = str(outputs.imageDigest);
  const last =
    lastVersion === undefined
      ? "the last applied build"
      : `the last applied build (${code(lastVersion)}${lastDigest === undefined ? "" : `, ${code(shortDigest(lastDigest))}`})`;

  const building = images.filter((s) => s.op !== "same" && s.op !== "delete" && s.op !== "read");
  const created = images.filter((s) => s.op === "create");
  const dropped = images.filter((s) => s.op === "delete");
  const changes = building.filter((s) => s.op !== "create").map(imageChange);
  const context = changes.some((c) => c.context);
  const baseImages = uniqBy(changes.flatMap((c) => c.baseImages));
  const buildArgs = uniqBy(changes.flatMap((c) => c.buildArgs));
  const definition = uniq(changes.flatMap((c) => c.definition));
  const settings = uniq(changes.flatMap((c) => c.settings));
  const metadata = uniq(changes.flatMap((c) => c.metadata));
  const unknown = building.some((s) => JSON.stringify(s.newInputs ?? {}).includes(UNKNOWN_VALUE));

  const lines: string[] = [];
  const reasons: string[] = [];
  if (context) reasons.push("sources changed (build context hash: a file under `plugin/` or the Dockerfile)");
  for (const b of baseImages) {
    reasons.push(
      `base image changed: ${code(b.name)} ${code(shortRef(b.from), 80)} → ${code(shortRef(b.to), 80)}`,
    );
  }
  for (const b of buildArgs) {
    reasons.push(
      b.from === "" ? "build args changed" : `build arg ${code(b.name)}: ${code(b.from)} → ${code(b.to)}`,
    );
  }
  if (definition.length > 0) reasons.push(`build definition changed: ${list(definition)}`);
  if (created.length > 0) reasons.push(`first build for ${list(created.map(platformOf))}`);
  if (dropped.length > 0) reasons.push(`platform dropped: ${list(dropped.map(platformOf))}`);

  if (building.length === 0 && dropped.length === 0) {
    lines.push(`**Image: no rebuild.** Every platform's build inputs equal ${last}.`);
  } else if (reasons.length > 0) {
    lines.push(`**Image: rebuilt** — ${reasons.join("; ")}.`);
    if (metadata.length > 0) lines.push(`- Also, as in every release: ${list(metadata)}.`);
  } else if (metadata.length > 0) {
    lines.push(
      `**Image: rebuilt for the release metadata only** (${list(metadata)}): sources, base images and ` +
        `platforms equal ${last}.`,
    );
  } else {
    lines.push(`**Image: rebuilt** — build settings changed: ${list(settings)}.`);
  }
  if (settings.length > 0 && reasons.length + metadata.length > 0) {
    lines.push(`- Build settings changed (not the content): ${list(settings)}.`);
  }
  if (unknown)
    lines.push("- Some build inputs are known only after apply; the preview could not build with them.");
  if (images.length > 0) {
    lines.push(`- Platforms: ${images.map((s) => `${code(platformOf(s))} ${s.op}`).join(", ")}.`);
  }

  // Indexes are named by registry × tag role; a pre-release or an older patch declares fewer of
  // them, so the others leave the stack (retainOnDelete: the registry keeps the tags).
  const pushed = uniq(
    indexes.filter((s) => s.op !== "same" && s.op !== "delete").flatMap((s) => tagOf(s.newInputs?.tag) ?? []),
  );
  const left = indexes.filter((s) => s.op === "delete");
  const leftTags = uniq(left.flatMap((s) => tagOf(s.oldInputs?.tag) ?? []));
  if (pushed.length > 0) lines.push(`- Tags pushed by this preview's version: ${list(pushed)}.`);
  if (left.length > 0) {
    const kept = left.every((s) => s.retainOnDelete);
    lines.push(
      `- Leaving the stack: ${list(leftTags)} ` +
        (kept ? "(retained in the registry: `retainOnDelete`)." : "(**deleted from the registry**)."),
    );
  }
  return lines;
}

function uniqBy<T extends { name: string; from: string; to: string }>(xs: readonly T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = `${x.name}\u0000${x.from}\u0000${x.to}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Floating tags.

/** One floating tag and what a release of the candidate version does to it. */
export interface FloatingTagMove {
  /** `latest` or `vX.Y`. */
  readonly tag: string;
  /** The released version it points at now (by the rule of lib/release.ts); undefined: none yet. */
  readonly from?: string;
  /** The candidate when the release takes the tag; undefined when the tag stays. */
  readonly to?: string;
}

/** Which floating tags a release of this commit as `version` would move. */
export interface FloatingTagPlan {
  readonly version: string;
  /** given: `--version`; previewed: the stable version the preview was configured with; next-patch: after the newest stable release. */
  readonly basis: "given" | "previewed" | "next-patch";
  /** Every tag the release would push (deriveReleaseTags). */
  readonly tags: readonly string[];
  readonly moves: readonly FloatingTagMove[];
}

/** Inputs of {@link planFloatingTags}. */
export interface FloatingTagInput {
  /** Version to plan for; undefined: `previewVersion` when it is a stable release, else the next patch. */
  readonly version?: string;
  /** The version the preview ran with (config `version`); PR previews use a `v0.0.0-pr.N` stand-in. */
  readonly previewVersion?: string;
  /** Commit of the release (only the sha tag uses it). */
  readonly commit?: string;
  /** Every existing release tag. */
  readonly releasedVersions: readonly string[];
  /** Release tag prefix. Defaults to `v`. */
  readonly prefix?: string;
}

const PLACEHOLDER_COMMIT = "0000000";

function isStable(version: string, prefix: string): boolean {
  try {
    return deriveReleaseTags({ version, commit: PLACEHOLDER_COMMIT, releasedVersions: [], prefix }).some(
      (t) => t.role === "latest",
    );
  } catch {
    return false;
  }
}

/**
 * Who holds each floating tag now: the released version to which the tag rule (lib/release.ts) gives
 * it among all released versions. Assumes each release's `up` succeeded, as the rule does.
 */
export function floatingTagHolders(releasedVersions: readonly string[], prefix = "v"): Map<string, string> {
  const holders = new Map<string, string>();
  for (const r of releasedVersions) {
    let tags;
    try {
      tags = deriveReleaseTags({ version: r, commit: PLACEHOLDER_COMMIT, releasedVersions, prefix });
    } catch {
      continue; // not semver: never holds anything
    }
    for (const t of tags) if (t.role === "latest" || t.role === "minor") holders.set(t.tag, r);
  }
  return holders;
}

/**
 * Plans the floating tags for a release of this commit. Returns undefined when there is no
 * version to plan for (no version given, the preview's is a stand-in, and nothing is released yet).
 * Throws ReleasePlanError naming a given version that is not semver.
 */
export function planFloatingTags(input: FloatingTagInput): FloatingTagPlan | undefined {
  const prefix = input.prefix ?? "v";
  const holders = floatingTagHolders(input.releasedVersions, prefix);
  let version: string;
  let basis: FloatingTagPlan["basis"];
  if (input.version !== undefined) {
    version = input.version;
    basis = "given";
  } else if (input.previewVersion !== undefined && isStable(input.previewVersion, prefix)) {
    version = input.previewVersion;
    basis = "previewed";
  } else {
    const newest = holders.get("latest");
    if (newest === undefined) return undefined;
    const bare = newest.startsWith(prefix) ? newest.slice(prefix.length) : newest;
    const next = semver.inc(bare, "patch");
    if (next === null) return undefined;
    version = `${prefix}${next}`;
    basis = "next-patch";
  }
  const commit =
    input.commit !== undefined && /^[0-9a-fA-F]{7,40}$/.test(input.commit) ? input.commit : undefined;
  let derived;
  try {
    derived = deriveReleaseTags({
      version,
      commit: commit ?? PLACEHOLDER_COMMIT,
      releasedVersions: input.releasedVersions,
      prefix,
    });
  } catch (err) {
    throw new ReleasePlanError(`release version: ${(err as Error).message}`);
  }
  const tags = derived.filter((t) => commit !== undefined || t.role !== "sha").map((t) => t.tag);
  const moves: FloatingTagMove[] = [];
  const parsed = semver.parse(version.startsWith(prefix) ? version.slice(prefix.length) : version);
  if (parsed !== null && parsed.prerelease.length === 0) {
    const line = `${prefix}${parsed.major}.${parsed.minor}`;
    for (const [tag, role] of [
      ["latest", "latest"],
      [line, "minor"],
    ] as const) {
      const takes = derived.some((t) => t.role === role);
      moves.push({ tag, from: holders.get(tag), to: takes ? version : undefined });
    }
  }
  return { version, basis, tags, moves };
}

function renderFloating(
  plan: FloatingTagPlan | undefined,
  known: boolean,
  outputs: Json,
  prefix: string,
): string[] {
  if (!known) {
    return [
      "**Floating tags:** unknown — the released versions were not given (`--tags`, or config " +
        "`releasedVersions`), so the plan cannot say what `latest` and `vX.Y` point at.",
    ];
  }
  if (plan === undefined) {
    return [
      `**Floating tags:** nothing released yet — the first stable \`${prefix}X.Y.Z\` takes \`latest\` and \`${prefix}X.Y\`.`,
    ];
  }
  const basis = {
    given: "",
    previewed: " (the version this preview ran with)",
    "next-patch": " (the next patch release)",
  }[plan.basis];
  const head = `**Floating tags** if this commit is released as ${code(plan.version)}${basis}`;
  if (plan.moves.length === 0) {
    return [`${head}: none — a pre-release never moves \`latest\` or \`${prefix}X.Y\`.`];
  }
  const lastVersion = str(outputs.version);
  const lastDigest = str(outputs.imageDigest);
  const lastTags = strings(outputs.imageTags);
  const at = (v: string, tag: string) =>
    v === lastVersion && lastDigest !== undefined && lastTags.includes(tag)
      ? `${code(v)} (${code(shortDigest(lastDigest))})`
      : code(v);
  const lines = [`${head}:`];
  for (const m of plan.moves) {
    if (m.to === undefined) {
      lines.push(`- ${code(m.tag)} stays at ${m.from === undefined ? "(none)" : at(m.from, m.tag)}.`);
    } else if (m.from === undefined) {
      lines.push(`- ${code(m.tag)}: (new) → ${code(m.to)}`);
    } else if (m.from === m.to) {
      lines.push(`- ${code(m.tag)} stays on ${at(m.from, m.tag)}: this version (a re-release re-points it).`);
    } else {
      lines.push(`- ${code(m.tag)}: ${at(m.from, m.tag)} → ${code(m.to)}`);
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Infrastructure pending for the platform team.

/** How an infrastructure change is flagged. */
export type InfraKind = "iam" | "identity" | "repository" | "other";

const KIND_LABEL: Record<InfraKind, string> = {
  iam: "IAM",
  identity: "identity",
  repository: "repository settings",
  other: "other",
};

/**
 * IAM: grants (`…IamMember`/`Binding`/`Policy`, any module) and service-account keys. Identity:
 * workload identity pools and providers, service accounts. Repository settings: every `github:`
 * resource (Actions variables and secrets, environments, rulesets).
 */
export function infraKind(type: string): InfraKind {
  const name = (type.split(":").pop() ?? "").toLowerCase();
  if (/iam(member|binding|policy|auditconfig)$/.test(name) || type === "gcp:serviceaccount/key:Key")
    return "iam";
  if (type.startsWith("gcp:iam/workloadIdentityPool") || type === "gcp:serviceaccount/account:Account")
    return "identity";
  if (type.startsWith("github:")) return "repository";
  return "other";
}

/** `gcp:serviceaccount/iAMMember:IAMMember` → `gcp.serviceaccount.IAMMember`; `github:index/x:X` → `github.X`. */
export function shortType(type: string): string {
  const [pkg, mod, name] = type.split(":");
  if (name === undefined) return type;
  const module = (mod ?? "").split("/")[0];
  return module === "index" || module === "" ? `${pkg}.${name}` : `${pkg}.${module}.${name}`;
}

/** What a resource is about, from inputs that are never secret. */
function subject(step: PlanStep): string {
  const inputs = step.op === "delete" ? step.oldInputs : (step.newInputs ?? step.oldInputs);
  const get = (k: string) => (inputs === undefined || !(k in inputs) ? undefined : shown(inputs[k]));
  const role = get("role");
  const member =
    get("member") ?? (Array.isArray(inputs?.members) ? `${inputs.members.length} members` : undefined);
  if (role !== undefined) return `${code(role)} → ${code(member ?? "(none)", 200)}`;
  for (const k of [
    "variableName",
    "secretName",
    "environment",
    "workloadIdentityPoolProviderId",
    "workloadIdentityPoolId",
    "accountId",
    "service",
  ]) {
    const v = get(k);
    if (v !== undefined) return code(v);
  }
  return "";
}

/** One pending infrastructure change. */
export interface InfraChange {
  readonly step: PlanStep;
  readonly kind: InfraKind;
}

/** Non-image resource changes, riskiest first (replace/delete, then IAM, identity, repository, other). */
export function pendingInfrastructure(steps: readonly PlanStep[]): InfraChange[] {
  const order: InfraKind[] = ["iam", "identity", "repository", "other"];
  return steps
    .filter(
      (s) =>
        s.custom &&
        !isImageStep(s) &&
        !s.type.startsWith("pulumi:") &&
        ["create", "update", "replace", "delete", "import"].includes(s.op),
    )
    .map((step) => ({ step, kind: infraKind(step.type) }))
    .sort((a, b) => {
      const risk = (c: InfraChange) => (c.step.op === "replace" || c.step.op === "delete" ? 0 : 1);
      return risk(a) - risk(b) || order.indexOf(a.kind) - order.indexOf(b.kind);
    });
}

function renderInfraLine(c: InfraChange): string {
  const s = c.step;
  const op = s.op === "replace" || s.op === "delete" ? `**${s.op.toUpperCase()}**` : s.op;
  const flag = c.kind === "other" ? "" : `⚠️ **${KIND_LABEL[c.kind]}** `;
  const what = subject(s);
  const keys = s.op === "update" || s.op === "replace" ? s.changed : [];
  const shownKeys = keys
    .slice(0, 5)
    .map((k) => (s.replaceKeys.includes(k) ? `${code(k)} (forces replace)` : code(k)));
  if (keys.length > 5) shownKeys.push(`+${keys.length - 5} more`);
  const protectedNote =
    s.protect && (s.op === "delete" || s.op === "replace") ? " — protected: fails until unprotected" : "";
  return (
    `- ${flag}${op} ${code(s.name)} (${code(shortType(s.type))})` +
    (what === "" ? "" : `: ${what}`) +
    (shownKeys.length === 0 ? "" : `; changes ${shownKeys.join(", ")}`) +
    protectedNote
  );
}

/** More entries than this go into a collapsed list. */
const INLINE_LIMIT = 6;

function renderInfrastructure(changes: readonly InfraChange[]): string[] {
  if (changes.length === 0) return ["**Infrastructure:** no changes pending."];
  const byKind = (["iam", "identity", "repository", "other"] as const)
    .map((k) => [k, changes.filter((c) => c.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${KIND_LABEL[k]}`);
  const risky = changes.filter((c) => c.step.op === "replace" || c.step.op === "delete").length;
  const head =
    `**Infrastructure pending for the platform team: ${changes.length} change${changes.length === 1 ? "" : "s"}** ` +
    `(${byKind.join(", ")}${risky > 0 ? `; **${risky} replace/delete**` : ""}). ` +
    "A release applies only the image; these wait for the platform team's `pulumi up`.";
  const lines = changes.map(renderInfraLine);
  if (lines.length <= INLINE_LIMIT) return [head, ...lines];
  return [head, "", "<details><summary>All changes</summary>", "", ...lines, "", "</details>"];
}

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
    renderImage(preview.steps, outputs),
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
