// The exact-tag guard: a release's exact tags (`vX.Y.Z`, `vX.Y.Z-<sha7>`, the `version` and `sha`
// roles of lib/release.ts) are immutable. Before every `pulumi up` the release step
// (`steps.ts exact-tags`, scripts/release/exact-tags.sh) looks at what every enabled registry
// holds under them and decides:
//
//   nothing there                          → build (a new release)
//   one index, of this commit, everywhere  → reuse: re-tag that index's platform manifests without
//     it is present (a re-run, a lost or      building (config `reusePlatformDigests`); the index is
//     rebuilt state, a run that died          re-created from the same sources, so its digest is the
//     between registries)                     same and nothing moves
//   anything else (another commit's index,  → refuse before anything is pushed, naming registry, tag,
//     different indexes, a registry that     digest and commit, unless ALLOW_EXACT_TAG_MOVE names
//     lacks the platform manifests)          this version (then build: the tags move)
//
// A rollback run (version = `rollbackTo`) must reuse: it only re-points floating tags at an
// existing release. This module decides and is pure, tested by tables (test/exactTags.test.ts);
// tooling/exactTagGuard.ts reads what the registries hold (a client per registry) and calls it.
import { type RegistryKey } from "../lib/imageRegistries";
import { isRollbackTarget } from "../lib/release";

/** The environment variable that lets one release move its exact tags (docs/release.md). */
export const EXACT_TAG_OVERRIDE_ENV = "ALLOW_EXACT_TAG_MOVE";

const INDEX_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];

/** What one registry holds under this release's exact tags. */
export interface RegistryObservation {
  readonly key: RegistryKey;
  /** `<address>/<path>`, no tag. */
  readonly repository: string;
  /** Digest at the `version` tag; undefined when absent. */
  readonly version?: string;
  /** Digest at this commit's `sha` tag; undefined when absent. */
  readonly sha?: string;
  /**
   * Reads were refused to the credentials given, by a registry that answers so for an image never
   * pushed (RegistryEntry.deniedMeansAbsent: GHCR). Counted as absent: the push uses the same
   * credentials, which then cannot write there either, so nothing there can move.
   */
  readonly denied?: boolean;
  /** Platform manifest digest (of the index found) → whether this registry has it. */
  readonly has: Readonly<Record<string, boolean>>;
}

/** An index found under an exact tag. */
export interface ExistingIndex {
  readonly digest: string;
  readonly mediaType: string;
  /** Its manifests in order: `os/arch[/variant]` (undefined when the descriptor has none) and digest. */
  readonly manifests: readonly { readonly platform?: string; readonly digest: string }[];
  /** The commit its images were built from (their `org.opencontainers.image.revision` label), when readable. */
  readonly revision?: string;
}

/** Everything the decision needs. */
export interface ExactTagObservation {
  /** This release: version, its exact tags, its commit (full sha) and the platforms it builds, in order. */
  readonly version: string;
  readonly versionTag: string;
  readonly shaTag: string;
  readonly commit: string;
  readonly platforms: readonly string[];
  readonly registries: readonly RegistryObservation[];
  /** Every index found under an exact tag, by digest. */
  readonly indexes: Readonly<Record<string, ExistingIndex>>;
}

/** What the run asked for besides the tags. */
export interface ExactTagSettings {
  /** {@link EXACT_TAG_OVERRIDE_ENV}: moving the exact tags is allowed only when it equals the version. */
  readonly override?: string;
  /** Config `rollbackTo`. */
  readonly rollbackTo?: string;
}

/** The guard's answer; `notes` are logged either way. */
export type ExactTagDecision =
  | { readonly action: "build"; readonly notes: string[] }
  | {
      readonly action: "reuse";
      /** The index the exact tags hold; the re-tag must give this digest again. */
      readonly indexDigest: string;
      /** Platform → manifest digest, in the index's (= `platforms`) order. */
      readonly platformDigests: Record<string, string>;
      readonly notes: string[];
    }
  | { readonly action: "refuse"; readonly message: string; readonly notes: string[] };

const short = (digest: string) => digest.slice(0, "sha256:".length + 12);

/** Decides build, reuse or refuse from what the registries hold (see the top of this file). Pure. */
export function decideExactTags(obs: ExactTagObservation, settings: ExactTagSettings = {}): ExactTagDecision {
  const notes: string[] = [];
  const rollback = isRollbackTarget(obs.version, settings.rollbackTo);
  const override = settings.override ?? "";
  const overridden = override !== "" && override === obs.version;
  if (settings.rollbackTo !== undefined && settings.rollbackTo !== "" && !rollback) {
    notes.push(
      `WARNING: rollbackTo is ${settings.rollbackTo}; this release (${obs.version}) ignores it and ` +
        "takes latest / its vX.Y by the usual rule, which undoes the rollback if it is the newest",
    );
  }
  if (override !== "" && !overridden) {
    notes.push(`${EXACT_TAG_OVERRIDE_ENV}=${override} does not name this release (${obs.version}): ignored`);
  }
  for (const r of obs.registries) {
    const at = (tag: string, d: string | undefined) => `${tag} ${d === undefined ? "absent" : short(d)}`;
    notes.push(
      `${r.repository}: ${at(obs.versionTag, r.version)}, ${at(obs.shaTag, r.sha)}` +
        (r.denied === true ? " (reads denied to the credentials given: counted as absent)" : ""),
    );
  }

  const present = obs.registries.filter((r) => r.version !== undefined || r.sha !== undefined);
  if (present.length === 0) {
    if (rollback) {
      return refuse(
        `rollbackTo is ${obs.version}, but no registry holds ${obs.versionTag} or ${obs.shaTag}: a rollback ` +
          "only re-points latest and vX.Y at an existing release's images, it never builds one",
        notes,
      );
    }
    return { action: "build", notes: [...notes, `${obs.versionTag} exists nowhere: a new release, built`] };
  }

  // Either a refusal, or (when overridden and not a rollback) a build that moves the tags.
  const conflict = (problem: string): ExactTagDecision => {
    const existing = present
      .flatMap((r) => [
        ...(r.version === undefined ? [] : [`${r.repository}:${obs.versionTag} is ${r.version}`]),
        ...(r.sha === undefined ? [] : [`${r.repository}:${obs.shaTag} is ${r.sha}`]),
      ])
      .join("; ");
    if (overridden && !rollback) {
      return {
        action: "build",
        notes: [
          ...notes,
          `WARNING: ${EXACT_TAG_OVERRIDE_ENV}=${override}: rebuilding and MOVING the exact tags of ${obs.version} ` +
            `(${problem}; ${existing}); the old digests keep their signatures, the tags no longer point at them`,
        ],
      };
    }
    return refuse(
      `exact tags are immutable: ${problem}. Existing: ${existing}. This run (commit ${obs.commit}) pushed ` +
        `nothing. If ${obs.versionTag} was re-created on another commit, release a new version instead. ` +
        (rollback
          ? "A rollback cannot move exact tags."
          : `Only to move the tags anyway (dangerous: whoever pulls ${obs.versionTag} gets other content, its ` +
            `signature stays on the old digest) set ${EXACT_TAG_OVERRIDE_ENV}=${obs.version} for this one run ` +
            '(docs/release.md, "Exact tags").'),
      notes,
    );
  };

  const digests = [...new Set(present.flatMap((r) => [r.version, r.sha]).filter((d) => d !== undefined))];
  if (digests.length > 1) {
    return conflict(`the exact tags of ${obs.version} hold ${digests.length} different indexes`);
  }
  const digest = digests[0] as string;
  const index = obs.indexes[digest];
  const revision = index?.revision;
  if (revision !== undefined && revision.toLowerCase() !== obs.commit.toLowerCase()) {
    return conflict(`${obs.versionTag} is commit ${revision}'s build (${digest}), not this commit's`);
  }
  if (revision === undefined && !present.some((r) => r.sha === digest)) {
    return conflict(
      `${obs.versionTag} is ${digest}, whose commit is unreadable, and this commit's ${obs.shaTag} is absent`,
    );
  }
  if (index === undefined || !INDEX_TYPES.includes(index.mediaType)) {
    return conflict(`${digest} is not a readable image index (${index?.mediaType ?? "unread"})`);
  }
  const plats = index.manifests.map((m) => m.platform ?? "<none>");
  if (plats.join(",") !== obs.platforms.join(",")) {
    return conflict(
      `the index ${digest} joins [${plats.join(", ")}] but this run builds [${obs.platforms.join(", ")}] ` +
        "in that order, so re-tagging it would not give the same digest",
    );
  }
  for (const r of obs.registries) {
    const missing = index.manifests.filter((m) => r.has[m.digest] !== true).map((m) => m.platform);
    if (missing.length > 0) {
      return conflict(
        `${r.repository} lacks the ${missing.join(", ")} image(s) of ${digest}, so it cannot be re-tagged there ` +
          "without a rebuild",
      );
    }
  }
  const platformDigests = Object.fromEntries(index.manifests.map((m) => [m.platform as string, m.digest]));
  const where =
    present.length === obs.registries.length ? "every registry" : present.map((r) => r.key).join(", ");
  return {
    action: "reuse",
    indexDigest: digest,
    platformDigests,
    notes: [
      ...notes,
      `${obs.versionTag} is already this commit's ${digest} in ${where}: re-tagging its platform images, no build` +
        (rollback ? `; rollback: latest and its minor tag are moved onto it` : ""),
    ],
  };
}

function refuse(message: string, notes: string[]): ExactTagDecision {
  return { action: "refuse", message, notes };
}
