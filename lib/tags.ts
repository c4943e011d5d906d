// Release metadata → image tags. Pure; tested by tables in test/tags.test.ts.
//
// How the release learns whether it is the newest: the release workflow passes every existing
// other release tag (`git tag --list 'v*'` minus the tag being released; including it changes
// nothing, the comparisons are ≥) as the config value `releasedVersions`. `latest` is added only when the version is a stable release ≥ every stable
// released version; `vX.Y` only when it is ≥ every stable released version with the same X.Y.
// So re-running an old release, or patching an older line (v1.1.9 after v1.2.0), never moves
// `latest` or `vX.Y` backwards, and re-running the newest release is idempotent.
// Pre-releases in `releasedVersions` are ignored (a v1.3.0-rc.1 must not block `latest` for
// v1.2.4), as are tags that are not semver (a stray `v-test` tag must not block every release).
import * as semver from "semver";

/** Length of the short sha in tags, as `git rev-parse --short` and docker/metadata-action give. */
export const SHORT_SHA_LENGTH = 7;

/** Inputs of the tag derivation. */
export interface TagInput {
  /** Release version, semver with or without the prefix (e.g. `v1.2.3`, `1.2.3-rc.1`). */
  readonly version: string;
  /** Commit sha, hex, 7–40 characters, any case. */
  readonly commit: string;
  /** Every existing release tag; decides whether `latest` and `vX.Y` may move. */
  readonly releasedVersions: readonly string[];
  /** Release tag prefix. Defaults to `v`. */
  readonly prefix?: string;
}

/** Parses `<prefix>?<semver>` strictly; undefined when not semver. */
function parse(version: string, prefix: string): semver.SemVer | undefined {
  const bare = version.startsWith(prefix) ? version.slice(prefix.length) : version;
  const parsed = semver.parse(bare);
  return parsed !== null && parsed.raw === bare && !/^[v=\s]/.test(bare) ? parsed : undefined;
}

/**
 * Docker tags allow `[A-Za-z0-9_.-]` only; semver build metadata uses `+`. Like Helm for OCI
 * charts, we write `+` as `_` so build metadata survives in the exact tag.
 */
function tagSafe(s: string): string {
  return s.replaceAll("+", "_");
}

/** What a tag stands for; stable across releases, so it names resources (never the tag text). */
export type TagRole = "sha" | "version" | "minor" | "latest";

/** One derived tag. */
export interface ReleaseTag {
  readonly role: TagRole;
  readonly tag: string;
}

/**
 * Derives the image tags, most specific first:
 * `<v><ver>-<sha7>`, `<v><ver>`, and for the newest stable release of its line `<v>X.Y`, and for
 * the newest stable release overall `latest`. Throws on a version that is not semver or a sha
 * that is not hex.
 */
export function deriveReleaseTags(input: TagInput): ReleaseTag[] {
  const prefix = input.prefix ?? "v";
  const v = parse(input.version, prefix);
  if (v === undefined) {
    throw new Error(
      `version ${JSON.stringify(input.version)} is not a semantic version (e.g. ${prefix}1.2.3)`,
    );
  }
  if (!/^[0-9a-fA-F]{7,40}$/.test(input.commit)) {
    throw new Error(`commit ${JSON.stringify(input.commit)} is not a hex sha of 7-40 characters`);
  }
  const shortSha = input.commit.slice(0, SHORT_SHA_LENGTH).toLowerCase();
  const exact = tagSafe(`${prefix}${v.raw}`);
  const tags: ReleaseTag[] = [
    { role: "sha", tag: `${exact}-${shortSha}` },
    { role: "version", tag: exact },
  ];
  if (v.prerelease.length > 0) {
    return tags;
  }
  const stableReleased = input.releasedVersions
    .map((r) => parse(r, prefix))
    .filter((r): r is semver.SemVer => r !== undefined && r.prerelease.length === 0);
  // semver comparison ignores build metadata, so v1.2.3+a and v1.2.3+b rank equal (both may move).
  if (stableReleased.every((r) => r.major !== v.major || r.minor !== v.minor || semver.gte(v, r))) {
    tags.push({ role: "minor", tag: `${prefix}${v.major}.${v.minor}` });
  }
  if (stableReleased.every((r) => semver.gte(v, r))) {
    tags.push({ role: "latest", tag: "latest" });
  }
  return tags;
}

/** The tag strings of `deriveReleaseTags`. */
export function deriveTags(input: TagInput): string[] {
  return deriveReleaseTags(input).map((t) => t.tag);
}

/** Which registries are enabled and where; see `imageRepositories`. */
export interface RepositoryInput {
  readonly gcr: boolean;
  readonly ghcr: boolean;
  readonly gcpProject?: string;
  readonly githubOwner: string;
  readonly imageName: string;
  readonly localRegistry?: string;
}

/** Registry keys, in push/primary order. */
export type RegistryKey = "gcr" | "ghcr" | "local";

/** An image repository (no tag) in one registry. */
export interface ImageRepository {
  readonly key: RegistryKey;
  /** Registry host, e.g. `gcr.io`. */
  readonly address: string;
  /** `<address>/<path>`, e.g. `gcr.io/my-project/cq-source-s3`. */
  readonly repository: string;
}

/** `gcr.io/<project>/<imageName>` (served by the Artifact Registry repository `gcr.io`). */
export function gcrRepository(project: string, imageName: string): string {
  return `gcr.io/${project}/${imageName}`;
}

/** `ghcr.io/<owner>/<imageName>`; GHCR paths must be lowercase, so the owner is lowercased. */
export function ghcrRepository(owner: string, imageName: string): string {
  return `ghcr.io/${owner.toLowerCase()}/${imageName}`;
}

/**
 * The repositories of every enabled registry, gcr first. The first entry is the primary (it holds
 * the build cache).
 */
export function imageRepositories(input: RepositoryInput): ImageRepository[] {
  const repos: ImageRepository[] = [];
  if (input.gcr) {
    if (input.gcpProject === undefined) {
      throw new Error("gcr is enabled but gcpProject is not set");
    }
    repos.push({
      key: "gcr",
      address: "gcr.io",
      repository: gcrRepository(input.gcpProject, input.imageName),
    });
  }
  if (input.ghcr) {
    repos.push({
      key: "ghcr",
      address: "ghcr.io",
      repository: ghcrRepository(input.githubOwner, input.imageName),
    });
  }
  if (input.localRegistry !== undefined) {
    repos.push({
      key: "local",
      address: input.localRegistry,
      repository: `${input.localRegistry}/${input.imageName}`,
    });
  }
  return repos;
}

/** `repository:tag` for every repository × tag, repository-major (stable order for names). */
export function taggedRefs(repositories: readonly string[], tags: readonly string[]): string[] {
  return repositories.flatMap((repo) => tags.map((tag) => `${repo}:${tag}`));
}
