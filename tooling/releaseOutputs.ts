// The release stack's outputs as the release tooling reads them (`pulumi stack output --json`):
// validated once here, naming the key and the bad value, so the Release body
// (tooling/releaseNotes.ts), the release steps (tooling/releaseSteps.ts) and the anonymous-pull
// check (tooling/anonymousPull.ts) all start from the same checked shape. Pure.
import { orderedRegistryKeys } from "../lib/imageRegistries";

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
// `<registry>/<path>` without tag or digest: lowercase path components, optional host port.
const IMAGE_REPO_RE = /^[a-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$/;
const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const COMMIT_RE = /^[0-9a-f]{7,40}$/;

/** The stack outputs the release tooling reads (exported by index.ts; the workflows read the same names). */
export interface ReleaseStackOutputs {
  /** Manifest-list digest of the pushed image, `sha256:<64 hex>`. */
  readonly imageDigest: string;
  /** Registry key (`gcr`, `ghcr`, `local`, …) → `<repository>@<digest>`. */
  readonly imageRefs: Readonly<Record<string, string>>;
  /** Every tag applied to every registry, e.g. `["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]`. */
  readonly imageTags: readonly string[];
  /** Platforms of the image index, e.g. `["linux/amd64", "linux/arm64"]`. */
  readonly platforms: readonly string[];
  /** Version the stack was last deployed with; must equal the version being released. */
  readonly version?: string;
  /** Full commit sha the image was built from. */
  readonly commit?: string;
  /** The release publishes the Hub package too (config hubPublish): the body offers `registry: cloudquery`. */
  readonly hubPublish?: boolean;
}

/** Raised for any missing or malformed input; the message names the key and the bad value. */
export class ReleaseNotesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseNotesError";
  }
}

export function show(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(outputs: Record<string, unknown>, key: string, re: RegExp): string[] {
  const value = outputs[key];
  if (!Array.isArray(value) || value.length === 0) {
    throw new ReleaseNotesError(
      `stack output '${key}' must be a non-empty array of strings, got ${show(value)}`,
    );
  }
  for (const item of value) {
    if (typeof item !== "string" || !re.test(item)) {
      throw new ReleaseNotesError(`stack output '${key}' has an invalid entry ${show(item)}`);
    }
  }
  return value as string[];
}

/**
 * Validates the stack outputs of a release. All missing keys are reported at once, since a
 * partial stack (e.g. an `up` that failed half way) usually lacks several.
 */
export function parseReleaseOutputs(outputs: unknown): ReleaseStackOutputs {
  if (!isRecord(outputs)) {
    throw new ReleaseNotesError(`stack outputs must be a JSON object, got ${show(outputs)}`);
  }
  const required = ["imageDigest", "imageRefs", "imageTags", "platforms"];
  const missing = required.filter((key) => outputs[key] === undefined || outputs[key] === null);
  if (missing.length > 0) {
    throw new ReleaseNotesError(
      `stack outputs are missing ${missing.map((k) => `'${k}'`).join(", ")} ` +
        "(did `pulumi up` of the release stack finish?)",
    );
  }

  const digest = outputs.imageDigest;
  if (typeof digest !== "string" || !DIGEST_RE.test(digest)) {
    throw new ReleaseNotesError(`stack output 'imageDigest' must be sha256:<64 hex>, got ${show(digest)}`);
  }

  const rawRefs = outputs.imageRefs;
  if (!isRecord(rawRefs) || Object.keys(rawRefs).length === 0) {
    throw new ReleaseNotesError(
      `stack output 'imageRefs' must be a non-empty object registry → ref, got ${show(rawRefs)}`,
    );
  }
  const imageRefs: Record<string, string> = {};
  for (const [key, ref] of Object.entries(rawRefs)) {
    if (typeof ref !== "string") {
      throw new ReleaseNotesError(`stack output 'imageRefs.${key}' must be a string, got ${show(ref)}`);
    }
    const at = ref.lastIndexOf("@");
    const repo = ref.slice(0, at);
    if (at < 0 || !IMAGE_REPO_RE.test(repo)) {
      throw new ReleaseNotesError(
        `stack output 'imageRefs.${key}' must be <repository>@<digest>, got ${show(ref)}`,
      );
    }
    if (ref.slice(at + 1) !== digest) {
      // Every registry must serve the same index; a mismatch means a stale or partial push.
      throw new ReleaseNotesError(
        `stack output 'imageRefs.${key}' (${show(ref)}) does not carry imageDigest ${digest}`,
      );
    }
    imageRefs[key] = ref;
  }

  const imageTags = stringList(outputs, "imageTags", TAG_RE);
  const platforms = stringList(outputs, "platforms", PLATFORM_RE);

  const version = outputs.version;
  if (version !== undefined && typeof version !== "string") {
    throw new ReleaseNotesError(`stack output 'version' must be a string, got ${show(version)}`);
  }
  const commit = outputs.commit;
  if (commit !== undefined && (typeof commit !== "string" || !COMMIT_RE.test(commit))) {
    throw new ReleaseNotesError(`stack output 'commit' must be a hex sha, got ${show(commit)}`);
  }
  const hubPublish = outputs.hubPublish;
  if (hubPublish !== undefined && typeof hubPublish !== "boolean") {
    throw new ReleaseNotesError(`stack output 'hubPublish' must be true or false, got ${show(hubPublish)}`);
  }
  return { imageDigest: digest, imageRefs, imageTags, platforms, version, commit, hubPublish };
}

/** Registry keys of `imageRefs` in display order (lib/imageRegistries.ts): ghcr, gcr, local, then the rest. */
export function orderedRegistries(imageRefs: Readonly<Record<string, string>>): string[] {
  return orderedRegistryKeys(Object.keys(imageRefs));
}
