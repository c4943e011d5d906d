// The release plan's floating tags: which of `latest` and `vX.Y` a release of the commit would
// move, by the tag rule of lib/release.ts over the released versions (for a given version, the
// previewed stable one, or the next patch after the newest stable release).
import * as semver from "semver";

import { deriveReleaseTags } from "../../lib/release";
import { code, ReleasePlanError, shortDigest } from "./markdown";
import { type Json, str, strings } from "./previewJson";

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

/** Whether `version` is a stable release (one that may take `latest`). */
export function isStable(version: string, prefix: string): boolean {
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

/** The floating-tags section; `known`: whether the released versions were given. */
export function renderFloating(
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
