// The release plan's image section: whether the image would be rebuilt and why (sources, base
// images, build args, definition, or only the release metadata), per platform, and which tags the
// preview's version pushes or leaves. Reads docker-build Image and Index steps of the preview.
import { PROJECT } from "../../lib/config";
import { PLUGIN_IMAGE_TYPE } from "../../lib/imageTarget";
import { BASE_IMAGE_ARGS } from "../evidence";
import { RELEASE_ZIP_TARGETS } from "../releaseNotes";
import { code, shortDigest } from "./markdown";
import { isObject, type Json, type PlanStep, shown, str, strings, UNKNOWN_VALUE } from "./previewJson";

/** `image:tag@sha256:<64 hex>` → the same with a 12-digit digest. */
function shortRef(ref: string): string {
  return ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}\b/, "@sha256:$1");
}

/** Build args that change with every release: the version stamp and the commit time (lib/stackArgs.ts `buildArgs`). */
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

/** The image section. */
export function renderImage(
  steps: readonly PlanStep[],
  outputs: Json,
  config: Readonly<Record<string, string>> = {},
): string[] {
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
  // The doors a release of this build opens (docs/release.md, "Every door, one build").
  // The Hub door follows the stack config the preview ran with (hubPublish, lib/config.ts).
  const hub =
    config[`${PROJECT}:hubPublish`] === "true"
      ? "the Hub package, published to the CloudQuery Hub (`hubPublish`)"
      : "The Hub package is built, not published (`hubPublish` is off)";
  lines.push(
    `- Doors a release opens from this build: the image; on the GitHub Release, zips for ` +
      `${list(RELEASE_ZIP_TARGETS)} and \`checksums.txt\`` +
      (hub.startsWith("the") ? `; ${hub}.` : `. ${hub}.`),
  );
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
