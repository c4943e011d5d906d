// The cleanup policy of the Artifact Registry repository gcr.io (components/registries.ts), as
// data: the program applies it, tooling/cleanupSimulation.ts applies Artifact Registry's documented
// semantics to it in the rehearsal. Pure.
//
// Keep-only, on purpose (docs/release.md, "Evidence outlives the cleanup"): cosign v3 stores every
// signature and attestation on Artifact Registry as an untagged OCI referrer manifest (the
// registry serves the referrers API), and no cleanup condition (tag state, tag, version or
// package prefix, age) tells those apart from superseded build-cache manifests. A rule deleting
// untagged versions after N days would delete every release's evidence N days after it was made.

/** One cleanup policy, in the shape of the Artifact Registry API (and gcp.artifactregistry.Repository). */
export interface CleanupPolicy {
  readonly id: string;
  readonly action: "KEEP" | "DELETE";
  readonly condition: {
    readonly tagState?: "TAGGED" | "UNTAGGED" | "ANY";
    readonly tagPrefixes?: string[];
    readonly versionNamePrefixes?: string[];
    readonly packageNamePrefixes?: string[];
    /** A duration in seconds, `"<n>s"`. */
    readonly olderThan?: string;
    readonly newerThan?: string;
  };
}

/** Release tags, `latest` and the build cache are kept; nothing is deleted (see the head comment). */
export function cleanupPolicies(releaseTagPrefix: string): CleanupPolicy[] {
  if (releaseTagPrefix === "") throw new Error("releaseTagPrefix must not be empty");
  return [
    {
      id: "keep-releases-and-cache",
      action: "KEEP",
      condition: { tagState: "TAGGED", tagPrefixes: [releaseTagPrefix, "latest", "buildcache-"] },
    },
  ];
}
