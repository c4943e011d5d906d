// Decisions of the release workflow's steps (scripts/release/*.sh call them through
// scripts/release/steps.ts). Pure; tested by tables in test/releaseSteps.test.ts.
import * as pulumi from "@pulumi/pulumi";

import { ConfigError, parseConfig, PROJECT, type StackConfig } from "../lib/config";
import { normaliseVersion, rfc3339Seconds } from "../lib/configValues";
import { allowedRegistries } from "../lib/imageRegistries";
import { orderedRegistries, parseReleaseOutputs, ReleaseStackOutputs } from "./releaseOutputs";
import { RELEASE_TAG_PREFIX, signingIdentity } from "../lib/release";

/** Raised for a refused input; the message says which one and why. */
export class ReleaseStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseStepError";
  }
}

/** What the metadata step reads: the runner's variables, the repository's tags, the commit time. */
export interface MetadataInput {
  /** `GITHUB_REF`, e.g. `refs/tags/v1.2.3`. */
  readonly ref: string;
  /** `GITHUB_REF_NAME`, e.g. `v1.2.3`. */
  readonly refName: string;
  /** `GITHUB_SHA`: the commit the tag points at. */
  readonly commit: string;
  /** Committer time of `commit` (`git show -s --format=%cI`). */
  readonly commitTime: string;
  /** Every tag of the repository at this moment (`git tag --list`), any order. */
  readonly tags: readonly string[];
  /** Release tag prefix. Defaults to `v`. */
  readonly prefix?: string;
}

/** The release metadata the configure step turns into stack config. */
export interface ReleaseMetadata {
  /** The release version: the tag itself. */
  readonly version: string;
  /** Every other `<prefix>*` tag, sorted; decides whether `latest`/`vX.Y` may move (lib/release.ts). */
  readonly releasedVersions: string[];
  /** RFC 3339 commit time (OCI `created` label, SOURCE_DATE_EPOCH). */
  readonly commitTime: string;
}

/**
 * Every `<prefix>*` tag except `tag`, sorted and without duplicates. Pre-releases and non-semver
 * tags stay in the list: the tag derivation ignores them, and the release notes use pre-releases
 * for a pre-release's compare link.
 */
export function releasedVersions(
  tag: string,
  tags: readonly string[],
  prefix = RELEASE_TAG_PREFIX,
): string[] {
  const others = tags.map((t) => t.trim()).filter((t) => t.startsWith(prefix) && t !== tag);
  return [...new Set(others)].sort();
}

/** Validates a tag push and derives the release metadata; throws naming the bad value. */
export function releaseMetadata(input: MetadataInput): ReleaseMetadata {
  const prefix = input.prefix ?? RELEASE_TAG_PREFIX;
  const { ref, refName, commit, commitTime } = input;
  if (ref !== `refs/tags/${refName}`) {
    throw new ReleaseStepError(
      `GITHUB_REF ${JSON.stringify(ref)} is not the tag ${JSON.stringify(refName)}: releases run on tag pushes only`,
    );
  }
  if (normaliseVersion(refName, prefix) !== refName || !refName.startsWith(prefix)) {
    throw new ReleaseStepError(
      `tag ${JSON.stringify(refName)} is not a release tag ${prefix}X.Y.Z[-pre] (strict semver)`,
    );
  }
  if (!/^[0-9a-f]{40}$/.test(commit)) {
    throw new ReleaseStepError(`GITHUB_SHA ${JSON.stringify(commit)} is not a full lowercase hex sha`);
  }
  if (rfc3339Seconds(commitTime) === undefined) {
    throw new ReleaseStepError(`commit time ${JSON.stringify(commitTime)} is not RFC 3339`);
  }
  return { version: refName, releasedVersions: releasedVersions(refName, input.tags, prefix), commitTime };
}

/**
 * `key=value` lines for `$GITHUB_OUTPUT`. Values must be single-line (a newline would let a value
 * forge another output).
 */
export function outputLines(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([key, value]) => {
      if (!/^[a-z][a-z0-9-]*$/.test(key) || /[\r\n]/.test(value)) {
        throw new ReleaseStepError(`refusing output ${JSON.stringify(key)}: not a single-line key=value`);
      }
      return `${key}=${value}\n`;
    })
    .join("");
}

/** The metadata step's outputs. */
export function metadataOutputs(meta: ReleaseMetadata): Record<string, string> {
  return {
    version: meta.version,
    "released-versions": JSON.stringify(meta.releasedVersions),
    "commit-time": meta.commitTime,
  };
}

/** What the outputs step expects of the stack it released. */
export interface ReleaseExpectation {
  /** The tag being released. */
  readonly version: string;
  /** `GITHUB_SHA`. */
  readonly commit: string;
  /** `GITHUB_SERVER_URL`. */
  readonly serverUrl: string;
  /** `GITHUB_REPOSITORY`. */
  readonly repository: string;
}

/** Validated stack outputs of this release, plus what the sign step needs. */
export interface CheckedOutputs extends ReleaseStackOutputs {
  /** Every `<repository>@sha256:<digest>` to sign, in display order; never a tag. */
  readonly refs: string[];
  /** Certificate identity of a keyless signature made by this release's workflow run. */
  readonly signingIdentity: string;
}

/**
 * Checks `pulumi stack output --json` against the release: complete, one digest everywhere, and
 * deployed with this version and this commit (a stale or foreign stack state is never signed or
 * announced).
 */
export function checkReleaseOutputs(outputs: unknown, expect: ReleaseExpectation): CheckedOutputs {
  const parsed = parseReleaseOutputs(outputs);
  if (parsed.version !== expect.version) {
    throw new ReleaseStepError(
      `stack output 'version' is ${JSON.stringify(parsed.version)}, but the release is ${JSON.stringify(expect.version)}`,
    );
  }
  if (parsed.commit !== expect.commit) {
    throw new ReleaseStepError(
      `stack output 'commit' is ${JSON.stringify(parsed.commit)}, but the release commit is ${JSON.stringify(expect.commit)}`,
    );
  }
  const refs = orderedRegistries(parsed.imageRefs).map((key) => parsed.imageRefs[key]);
  for (const ref of refs) {
    if (!/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/.test(ref)) {
      throw new ReleaseStepError(`refusing to sign ${JSON.stringify(ref)}: not <repository>@sha256:<digest>`);
    }
  }
  return {
    ...parsed,
    refs,
    signingIdentity: signingIdentity(expect.serverUrl, expect.repository, expect.version),
  };
}

/**
 * The stack's validated configuration from `pulumi config --json` (values of secrets are not
 * needed, only whether they are set). Throws ReleaseStepError naming every problem of the stack's
 * config, as the program would refuse it.
 */
export function stackConfigFromJson(pulumiConfigJson: unknown): StackConfig {
  if (typeof pulumiConfigJson !== "object" || pulumiConfigJson === null) {
    throw new ReleaseStepError(
      `pulumi config --json: expected an object, got ${JSON.stringify(pulumiConfigJson)}`,
    );
  }
  const entries = pulumiConfigJson as Record<string, { value?: unknown; secret?: boolean }>;
  const prefix = `${PROJECT}:`;
  const entry = (key: string) => entries[prefix + key];
  try {
    return parseConfig({
      get: (key) => {
        const v = entry(key)?.value;
        return v === undefined ? undefined : String(v);
      },
      // Only presence matters here; a secret's value is never printed without --show-secrets.
      getSecret: (key) => (entry(key) === undefined ? undefined : pulumi.secret("[secret]")),
      keys: Object.keys(entries)
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length)),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new ReleaseStepError(`stack config: ${err.message}`);
    throw err;
  }
}

/**
 * The policy pack's config for a run of `stack`: pushes are allowed only to the registries the
 * stack's own config enables (lib/imageRegistries.ts), from `pulumi config --json`. Throws
 * ReleaseStepError naming every problem of the stack's config.
 */
export function policyConfig(pulumiConfigJson: unknown): Record<string, unknown> {
  const cfg = stackConfigFromJson(pulumiConfigJson);
  return { "images-push-to-allowed-registries": { allowedRegistries: allowedRegistries(cfg) } };
}
