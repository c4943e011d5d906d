// The gcr.io cleanup policy applied to a repository of the rehearsal registry, as an Artifact
// Registry cleanup run would apply it (tooling/cleanupSimulation.ts), with every version's age
// simulated (the rehearsal's versions are minutes old; the policy speaks of days):
//   ts-node scripts/cleanup-simulate.ts --repo <name> --age-days <n> [--policies <file.json>]
// Versions: every tagged manifest, and every manifest a tagged index lists (its platform images,
// and cosign's referrers-fallback index `sha256-<digest>`'s signatures and attestations), each
// with its own tags only. Policies: the program's (lib/cleanup.ts), or a JSON list in that shape.
// Prints the digests to delete, one per line (the caller deletes them), and a summary on stderr.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { cleanupPolicies, type CleanupPolicy } from "../lib/cleanup";
import { RELEASE_TAG_PREFIX } from "../lib/release";
import { cleanupDeletes, type RegistryVersion } from "../tooling/cleanupSimulation";
import { type Index, Registry } from "./lib/registry";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { repo: { type: "string" }, "age-days": { type: "string" }, policies: { type: "string" } },
  });
  const repo = values.repo ?? "";
  const ageDays = Number(values["age-days"]);
  if (repo === "" || !Number.isFinite(ageDays) || ageDays < 0) {
    throw new Error("usage: cleanup-simulate.ts --repo <name> --age-days <n> [--policies <file.json>]");
  }
  const policies: CleanupPolicy[] =
    values.policies === undefined
      ? cleanupPolicies(RELEASE_TAG_PREFIX)
      : (JSON.parse(readFileSync(values.policies, "utf8")) as CleanupPolicy[]);
  const reg = new Registry();
  const tagsOf = new Map<string, string[]>();
  for (const [tag, digest] of Object.entries(await reg.snapshot(repo))) {
    tagsOf.set(digest, [...(tagsOf.get(digest) ?? []), tag]);
  }
  const digests = new Set(tagsOf.keys());
  for (const digest of [...tagsOf.keys()]) {
    const m = await reg.manifest<Index>(repo, digest);
    for (const child of m.manifests ?? []) digests.add(child.digest);
  }
  const versions: RegistryVersion[] = [...digests].sort().map((digest) => ({
    packageName: repo,
    digest,
    tags: (tagsOf.get(digest) ?? []).sort(),
    ageSeconds: ageDays * 86400,
  }));
  const deletes = cleanupDeletes(policies, versions);
  process.stderr.write(
    `cleanup (${policies.map((p) => `${p.action} ${p.id}`).join(", ")}; every version ${ageDays} days old): ` +
      `${versions.length} versions (${versions.filter((v) => v.tags.length === 0).length} untagged), ` +
      `${deletes.length} to delete\n`,
  );
  for (const d of deletes) process.stdout.write(`${d.digest}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`cleanup-simulate: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
