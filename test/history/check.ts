// `npm run test:history`'s two helpers, called by scripts/history.sh in its rehearsal session:
//
//   check.ts plan --seed N [--length 25]   the generated history, one step per line:
//                                          <version> <model commit> <refused 0|1> <kind…>
//   check.ts check --steps FILE --repository R --ledger FILE [--digest VERSION=sha256:…]
//       after a step: the registry's tags of repository R must be what the model says after the
//       steps in FILE (lines `<version> <model commit> <real sha>`, the model run on the real
//       commits), in both directions: every tag the model has exists and points at the index of
//       the release it names (that release's exact sha tag), every exact tag still points at the
//       digest it got first (kept in the ledger FILE), every tag's index lists every platform and
//       each release's per-platform tags `<exact>-<arch>` are that index's manifests; and the
//       registry holds no other tag (only BuildKit's `buildcache-<arch>` besides). With --digest,
//       VERSION's tags must be the run's imageDigest. Exit 1 naming each difference.
//       Also used by scripts/faults.sh after every converged run (the faults' releases as steps).
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { parseArgs } from "node:util";

import { Registry, type Index } from "../../scripts/lib/registry";
import { expectedTags, generateHistory, type ReleaseStep } from "./model";

const PLATFORMS = ["linux/amd64", "linux/arm64"];
const ARCHES = PLATFORMS.map((p) => p.split("/")[1]);

interface RealStep extends ReleaseStep {
  readonly sha: string;
}

function readSteps(file: string): RealStep[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [version, commit, sha] = l.trim().split(/\s+/);
      return { version, commit, sha, kind: "" };
    });
}

/** The differences between the registry and the model after `steps`; empty when they agree. */
export async function differences(
  registry: Pick<Registry, "tags" | "digest" | "manifest">,
  repository: string,
  steps: readonly RealStep[],
  ledger: Record<string, string>,
  run?: { readonly version: string; readonly digest: string },
): Promise<string[]> {
  const problems: string[] = [];
  // The model on the real commits, so its exact tags carry the real short shas.
  const { tags: model } = expectedTags(steps.map((s) => ({ ...s, commit: s.sha })));
  const present = new Set(await registry.tags(repository));
  // Registry → model: every tag is the model's, a release's per-platform tag, or the build cache.
  const known = new Set([...Object.keys(model), ...ARCHES.map((a) => `buildcache-${a}`)]);
  for (const id of new Set(Object.values(model))) {
    const [version, sha] = id.split("@");
    for (const a of ARCHES) known.add(`${version}-${sha.slice(0, 7)}-${a}`);
  }
  for (const tag of [...present].sort()) {
    if (!known.has(tag)) problems.push(`${tag}: in the registry, not in the model`);
  }
  // Model → registry.
  for (const [tag, id] of Object.entries(model)) {
    const [version, sha] = id.split("@");
    const exact = `${version}-${sha.slice(0, 7)}`;
    if (!present.has(tag)) {
      problems.push(`${tag}: missing (model: ${version})`);
      continue;
    }
    const digest = await registry.digest(repository, tag);
    const want = present.has(exact) ? await registry.digest(repository, exact) : undefined;
    if (want === undefined) problems.push(`${tag}: the exact tag ${exact} of ${version} is missing`);
    else if (digest !== want) problems.push(`${tag}: ${digest}, but ${version} (${exact}) is ${want}`);
    if (run !== undefined && version === run.version && digest !== run.digest)
      problems.push(`${tag}: ${digest}, but the run of ${version} reported imageDigest ${run.digest}`);
    const index = await registry.manifest<Index>(repository, digest);
    for (const p of PLATFORMS) {
      const m = (index.manifests ?? []).find((d) => `${d.platform?.os}/${d.platform?.architecture}` === p);
      if (m === undefined) {
        problems.push(`${tag}: index ${digest} lacks ${p}`);
        continue;
      }
      // The release's per-platform tag is that platform's manifest (checked once, at the exact tag).
      const perArch = `${exact}-${p.split("/")[1]}`;
      if (tag !== exact) continue;
      if (!present.has(perArch)) problems.push(`${perArch}: missing (the ${p} image of ${version})`);
      else if ((await registry.digest(repository, perArch)) !== m.digest)
        problems.push(
          `${perArch}: ${await registry.digest(repository, perArch)}, but ${exact}'s index has ${m.digest} for ${p}`,
        );
    }
    // Exact tags never move (nor disappear: the model keeps every tag it ever had).
    if (tag === version || tag === exact) {
      if (ledger[tag] === undefined) ledger[tag] = digest;
      else if (ledger[tag] !== digest)
        problems.push(`${tag}: exact tag moved from ${ledger[tag]} to ${digest}`);
    }
  }
  return problems;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      seed: { type: "string" },
      length: { type: "string" },
      steps: { type: "string" },
      repository: { type: "string" },
      ledger: { type: "string" },
      digest: { type: "string" },
    },
    strict: true,
  });
  if (cmd === "plan") {
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) throw new Error("plan needs --seed <integer>");
    const history = generateHistory(seed, Number(values.length ?? 25));
    const { refused } = expectedTags(history);
    for (const [i, s] of history.entries()) {
      process.stdout.write(`${s.version} ${s.commit} ${refused.includes(i) ? 1 : 0} ${s.kind}\n`);
    }
    return 0;
  }
  if (cmd === "check") {
    const { steps, repository, ledger, digest } = values;
    if (steps === undefined || repository === undefined || ledger === undefined) {
      throw new Error("check needs --steps, --repository and --ledger");
    }
    let run: { version: string; digest: string } | undefined;
    if (digest !== undefined) {
      const [version, d] = digest.split("=");
      if (!/^sha256:[0-9a-f]{64}$/.test(d ?? ""))
        throw new Error(`--digest ${digest}: want VERSION=sha256:<64 hex>`);
      run = { version, digest: d };
    }
    const book: Record<string, string> = existsSync(ledger) ? JSON.parse(readFileSync(ledger, "utf8")) : {};
    const problems = await differences(new Registry(), repository, readSteps(steps), book, run);
    writeFileSync(ledger, JSON.stringify(book, null, 1));
    for (const p of problems) console.error(`history: ${p}`);
    return problems.length === 0 ? 0 : 1;
  }
  throw new Error(`usage: check.ts plan|check … (got ${JSON.stringify(cmd)})`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`history: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
