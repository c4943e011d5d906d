// The release rules, in one place: the tag prefix and scheme, when `latest` and `vX.Y` move, and
// who may sign a release (the release workflow at a release tag, GitHub's OIDC issuer). Used by
// the image tags (components/image.ts), the WIF condition (lib/wif.ts), and around the program by
// the release notes and evidence (tooling/releaseNotes.ts, tooling/evidence.ts); the policy pack's
// sha-tag pattern is checked against these tags by policy/test/policies.test.ts. Pure; tested by
// tables in test/release.test.ts.
//
// How the release learns whether it is the newest: the release workflow passes every existing
// other release tag (`git tag --list 'v*'` minus the tag being released; including it changes
// nothing, the comparisons are ≥) as the config value `releasedVersions`. `latest` is added only
// when the version is a stable release ≥ every stable released version; `vX.Y` only when it is ≥
// every stable released version with the same X.Y.
// So re-running an old release, or patching an older line (v1.1.9 after v1.2.0), never moves
// `latest` or `vX.Y` backwards, and re-running the newest release is idempotent.
// Pre-releases in `releasedVersions` are ignored (a v1.3.0-rc.1 must not block `latest` for
// v1.2.4), as are tags that are not semver (a stray `v-test` tag must not block every release).
//
// Rollback (`rollbackTo`, docs/release.md "Rollback"): a release run whose version equals
// `rollbackTo` takes `latest` and its `vX.Y` whatever else was released; a run of any other version
// ignores it, so the next normal release moves them forward again.
import * as semver from "semver";

/**
 * Prefix of release tags: `v1.2.3`. Fixed, not configurable: release.yml's `on.push.tags: ["v*"]`,
 * the tag ruleset and the WIF condition all follow it.
 */
export const RELEASE_TAG_PREFIX = "v";

/** GitHub Actions' OIDC issuer: the only issuer a federated token or a release signature may come from. */
export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

/** Workflow file that publishes and signs releases (part of the WIF condition and the signing identity). */
export const RELEASE_WORKFLOW = "release.yml";
/** Workflow file that previews pull requests (the read-only identity). */
export const PREVIEW_WORKFLOW = "preview.yml";
/** GitHub environment the release job runs in. */
export const RELEASE_ENVIRONMENT = "release";
/** Path of the release workflow in the repository. */
export const RELEASE_WORKFLOW_PATH = `.github/workflows/${RELEASE_WORKFLOW}`;

/** Certificate identity of a keyless signature made by the release workflow at tag `version`. */
export function signingIdentity(serverUrl: string, repository: string, version: string): string {
  return builderId(serverUrl, repository, `refs/tags/${version}`);
}

/** The release workflow of `repository` at `ref`: the SLSA builder id, the same as the signing identity. */
export function builderId(serverUrl: string, repository: string, ref: string): string {
  return `${serverUrl}/${repository}/${RELEASE_WORKFLOW_PATH}@${ref}`;
}

/** cosign's identity flags: a public key (rehearsal), or the release workflow at any release tag. */
export function identityFlags(opts: { key?: string; serverUrl: string; repository: string }): string[] {
  if (opts.key !== undefined) return ["--key", opts.key, "--insecure-ignore-tlog=true"];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [
    "--certificate-identity-regexp",
    `^${esc(builderId(opts.serverUrl, opts.repository, `refs/tags/${RELEASE_TAG_PREFIX}`))}[0-9]`,
    "--certificate-oidc-issuer",
    GITHUB_OIDC_ISSUER,
  ];
}

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
  /** Release tag prefix. Defaults to {@link RELEASE_TAG_PREFIX}. */
  readonly prefix?: string;
  /** A stable release to roll `latest` and its `vX.Y` back to (see {@link floatingMoves}). Defaults to none. */
  readonly rollbackTo?: string;
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
  const prefix = input.prefix ?? RELEASE_TAG_PREFIX;
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
  const moves = floatingMoves(v, input.releasedVersions, { prefix, rollbackTo: input.rollbackTo });
  if (moves.minor) {
    tags.push({ role: "minor", tag: `${prefix}${v.major}.${v.minor}` });
  }
  if (moves.latest) {
    tags.push({ role: "latest", tag: "latest" });
  }
  return tags;
}

/** Options of {@link floatingMoves}. */
export interface FloatingOptions {
  /** Release tag prefix. Defaults to {@link RELEASE_TAG_PREFIX}. */
  readonly prefix?: string;
  /**
   * A stable release tag to roll back to: a release of exactly this version moves `latest` and its
   * `vX.Y` onto itself regardless of newer releases. Any other version ignores it.
   */
  readonly rollbackTo?: string;
}

/**
 * Whether a release of `version` moves `vX.Y` (`minor`) and `latest`, given every other release
 * tag: only a stable release ≥ every stable released version of its line / overall, or the
 * rollback target itself. The one rule behind the image tags and the GitHub Release's "Latest" mark.
 */
export function floatingMoves(
  version: string | semver.SemVer,
  releasedVersions: readonly string[],
  opts: FloatingOptions = {},
): { minor: boolean; latest: boolean } {
  const prefix = opts.prefix ?? RELEASE_TAG_PREFIX;
  const v = typeof version === "string" ? parse(version, prefix) : version;
  if (v === undefined) {
    throw new Error(`version ${JSON.stringify(version)} is not a semantic version (e.g. ${prefix}1.2.3)`);
  }
  if (v.prerelease.length > 0) {
    return { minor: false, latest: false };
  }
  if (isRollbackTarget(v, opts.rollbackTo, prefix)) {
    return { minor: true, latest: true };
  }
  const stableReleased = releasedVersions
    .map((r) => parse(r, prefix))
    .filter((r): r is semver.SemVer => r !== undefined && r.prerelease.length === 0);
  // semver comparison ignores build metadata, so v1.2.3+a and v1.2.3+b rank equal (both may move).
  return {
    minor: stableReleased.every((r) => r.major !== v.major || r.minor !== v.minor || semver.gte(v, r)),
    latest: stableReleased.every((r) => semver.gte(v, r)),
  };
}

/**
 * Whether `version` is the rollback target `rollbackTo`: the same stable version, build metadata
 * included (`v1.2.3+a` is not `v1.2.3+b`: they are different tags). Unset or not semver: false.
 */
export function isRollbackTarget(
  version: string | semver.SemVer,
  rollbackTo: string | undefined,
  prefix: string = RELEASE_TAG_PREFIX,
): boolean {
  if (rollbackTo === undefined || rollbackTo === "") return false;
  const v = typeof version === "string" ? parse(version, prefix) : version;
  const r = parse(rollbackTo, prefix);
  return v !== undefined && r !== undefined && r.prerelease.length === 0 && r.raw === v.raw;
}

/** The tag strings of `deriveReleaseTags`. */
export function deriveTags(input: TagInput): string[] {
  return deriveReleaseTags(input).map((t) => t.tag);
}

/** The tag of `role` among `tags`; throws when it is absent (e.g. `minor` of a pre-release). */
export function tagOfRole(tags: readonly ReleaseTag[], role: TagRole): string {
  const found = tags.find((t) => t.role === role);
  if (found === undefined) {
    throw new Error(`no ${role} tag among ${tags.map((t) => t.tag).join(", ")}`);
  }
  return found.tag;
}
