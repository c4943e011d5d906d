// The faults rehearsal's registry invariant (scripts/faults.sh), checked after every run, faulted
// or not: every release tag of REPO is an index that has every platform (the per-platform tags
// `<tag>-<arch>`, one Image each, and BuildKit's `buildcache*` are not release tags). Prints
// `tag<TAB>platforms` per tag; exit status 1 (with the offending tags) when one lacks a platform or
// is not an index. After a converged run faults.sh also compares the whole registry with the tag
// model (test/history/check.ts).
//   registry-check.ts REPO PLATFORM...
import { Index, Registry } from "../lib/registry";

/** The platforms of an index's manifests (attestation manifests, `unknown/unknown`, left out). */
export function indexPlatforms(index: Index): string[] {
  return (index.manifests ?? [])
    .map((m) => m.platform)
    .filter((p): p is NonNullable<typeof p> => p !== undefined && p.os !== "unknown")
    .map((p) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`)
    .sort();
}

/** Each release tag with its platforms, and the tags that are not an index of every platform. */
export async function releaseTagsIncomplete(
  registry: Pick<Registry, "tags" | "manifest">,
  repo: string,
  platforms: readonly string[],
): Promise<{ lines: string[]; bad: string[] }> {
  const arches = platforms.map((p) => `-${p.split("/")[1]}`);
  const tags = (await registry.tags(repo)).filter(
    (t) => !t.startsWith("buildcache") && !arches.some((a) => t.endsWith(a)),
  );
  const lines: string[] = [];
  const bad: string[] = [];
  for (const tag of tags) {
    const m = await registry.manifest<Index>(repo, tag);
    const got = indexPlatforms(m);
    lines.push(`${tag}\t${got.join(",")}`);
    if (!Array.isArray(m.manifests) || platforms.some((p) => !got.includes(p))) bad.push(tag);
  }
  return { lines, bad };
}

async function main([repo, ...platforms]: string[]): Promise<void> {
  const { lines, bad } = await releaseTagsIncomplete(new Registry(), repo, platforms);
  for (const l of lines) console.log(l);
  if (bad.length > 0) {
    console.error(`tags whose index lacks a platform of ${platforms.join(", ")}: ${bad.join(", ")}`);
    process.exit(1);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`registry-check: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  });
}
