// What an Artifact Registry cleanup run would delete, by its documented semantics ("Configure
// cleanup policies", "Cleanup policy overview"): a version (one manifest digest of a package)
// is deleted when it matches a DELETE policy and no KEEP policy (a KEEP always wins); within a
// condition every given field must match: tagState (TAGGED: the version has a tag; UNTAGGED:
// none; ANY), tagPrefixes (some tag starts with one), versionNamePrefixes (the digest),
// packageNamePrefixes (the image name), olderThan / newerThan (the version's age). A manifest
// referenced by a tagged index is still its own version: only its own tags count. The rehearsal
// applies it to the local registry with ages simulated (scripts/cleanup-simulate.ts), then
// verifies the release's evidence. Pure; tested in test/cleanupSimulation.test.ts.
import type { CleanupPolicy } from "../lib/cleanup";

/** One version of a package as the simulation sees it. */
export interface RegistryVersion {
  readonly packageName: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly ageSeconds: number;
}

function seconds(duration: string | undefined, field: string): number | undefined {
  if (duration === undefined) return undefined;
  const m = /^([0-9]+)s$/.exec(duration);
  if (m === null) throw new Error(`${field} ${JSON.stringify(duration)} is not a duration "<n>s"`);
  return Number(m[1]);
}

/** Whether the version matches every field the policy's condition gives. */
export function matches(policy: CleanupPolicy, v: RegistryVersion): boolean {
  const c = policy.condition;
  const state = c.tagState ?? "ANY";
  if (state === "UNTAGGED" && c.tagPrefixes !== undefined) {
    throw new Error(`policy ${policy.id}: tagPrefixes with tagState UNTAGGED (Artifact Registry refuses it)`);
  }
  if (state === "TAGGED" && v.tags.length === 0) return false;
  if (state === "UNTAGGED" && v.tags.length > 0) return false;
  const any = (prefixes: readonly string[] | undefined, values: readonly string[]) =>
    prefixes === undefined || values.some((x) => prefixes.some((p) => x.startsWith(p)));
  if (!any(c.tagPrefixes, v.tags)) return false;
  if (!any(c.versionNamePrefixes, [v.digest])) return false;
  if (!any(c.packageNamePrefixes, [v.packageName])) return false;
  const older = seconds(c.olderThan, "olderThan");
  const newer = seconds(c.newerThan, "newerThan");
  if (older !== undefined && !(v.ageSeconds > older)) return false;
  if (newer !== undefined && !(v.ageSeconds < newer)) return false;
  return true;
}

/** The versions a cleanup run would delete. */
export function cleanupDeletes(
  policies: readonly CleanupPolicy[],
  versions: readonly RegistryVersion[],
): RegistryVersion[] {
  const keep = policies.filter((p) => p.action === "KEEP");
  const del = policies.filter((p) => p.action === "DELETE");
  return versions.filter((v) => del.some((p) => matches(p, v)) && !keep.some((p) => matches(p, v)));
}
