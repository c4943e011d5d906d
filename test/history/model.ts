// The reference model of the registry's tags over a history of releases, and a seeded generator of
// such histories (issue 11, `npm run test:history`). Written apart from lib/release.ts on purpose:
// it states the rules from the outside (by sorting every released version), so the real stack is
// checked against an independent reading of them, not against its own code.
//
// Rules modelled:
// - exact tags (`vX.Y.Z`, `vX.Y.Z-<sha7>`) are set by the first release of that version and commit,
//   and never move or disappear afterwards, whatever is released later or re-run;
// - `vX.Y` is the highest stable version of line X.Y released so far; `latest` the highest stable
//   version overall; pre-releases never hold either; neither moves backwards.

/** One release run: the tag pushed and the commit it points at. */
export interface ReleaseStep {
  readonly version: string;
  readonly commit: string;
  /** What the generator meant by it (printed with a failure). */
  readonly kind: string;
}

/** Tag → the release (version@commit) it must point at. */
export type TagState = Readonly<Record<string, string>>;

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

interface Parsed {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre?: string;
}

function parse(version: string): Parsed {
  const m = SEMVER.exec(version);
  if (m === null) throw new Error(`model: not a release version: ${version}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] };
}

/** Stable versions only, highest first. */
function byStableDescending(versions: readonly string[]): string[] {
  return versions
    .filter((v) => parse(v).pre === undefined)
    .sort((a, b) => {
      const x = parse(a);
      const y = parse(b);
      return y.major - x.major || y.minor - x.minor || y.patch - x.patch;
    });
}

/** The release a `version@commit` id names. */
export function releaseId(step: { version: string; commit: string }): string {
  return `${step.version}@${step.commit}`;
}

/**
 * The tags after `steps`, in order. A step whose version was already released from another commit
 * must be refused by the release (exact tags never move): it changes nothing here, and `refused`
 * lists its index.
 */
export function expectedTags(steps: readonly ReleaseStep[]): { tags: TagState; refused: number[] } {
  const tags: Record<string, string> = {};
  const released = new Map<string, string>(); // version → commit of its first release
  const refused: number[] = [];
  steps.forEach((step, i) => {
    const first = released.get(step.version);
    if (first !== undefined && first !== step.commit) {
      refused.push(i);
      return;
    }
    released.set(step.version, step.commit);
    const id = releaseId(step);
    tags[step.version] = id;
    tags[`${step.version}-${step.commit.slice(0, 7)}`] = id;
    const stable = byStableDescending([...released.keys()]);
    if (stable.length > 0)
      tags.latest = releaseId({ version: stable[0], commit: released.get(stable[0]) as string });
    const { major, minor } = parse(step.version);
    const line = stable.filter((v) => parse(v).major === major && parse(v).minor === minor);
    if (line.length > 0) {
      tags[`v${major}.${minor}`] = releaseId({ version: line[0], commit: released.get(line[0]) as string });
    }
  });
  return { tags, refused };
}

/** A small deterministic PRNG (mulberry32), so a failing history is reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A history of at least `length` release runs from `seed`: new patches, minors and majors, a patch
 * on an older line after a newer one, pre-releases, re-runs of an old tag, tags released out of
 * order, and a version re-tagged on another commit (which must be refused). Every kind appears at
 * least once whatever the seed.
 */
export function generateHistory(seed: number, length = 25): ReleaseStep[] {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const hex = () => Array.from({ length: 40 }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
  const steps: ReleaseStep[] = [];
  const commitOf = new Map<string, string>();
  const stable = () => byStableDescending([...commitOf.keys()]);
  const release = (version: string, kind: string, commit = commitOf.get(version) ?? hex()) => {
    if (!commitOf.has(version)) commitOf.set(version, commit);
    steps.push({ version, commit, kind });
  };
  const next = (kind: "patch" | "minor" | "major", from: string) => {
    const p = parse(from);
    if (kind === "major") return `v${p.major + 1}.0.0`;
    if (kind === "minor") return `v${p.major}.${p.minor + 1}.0`;
    return `v${p.major}.${p.minor}.${p.patch + 1}`;
  };
  const unreleased = (v: string) => !commitOf.has(v);

  release("v1.0.0", "first release");
  const kinds = [
    "patch",
    "minor",
    "major",
    "older-line patch",
    "pre-release",
    "re-run",
    "out of order",
    "re-tag",
  ] as const;
  const mustAppear = new Set<string>(kinds);
  while (steps.length < length || mustAppear.size > 0) {
    const kind = mustAppear.size > 0 && random() < 0.5 ? pick([...mustAppear]) : pick(kinds);
    const newest = stable()[0];
    switch (kind) {
      case "patch":
      case "minor":
      case "major":
        release(next(kind, newest), `new ${kind}`);
        break;
      case "older-line patch": {
        const lines = stable().filter(
          (v) => parse(v).major !== parse(newest).major || parse(v).minor !== parse(newest).minor,
        );
        if (lines.length === 0) continue;
        let v = next("patch", pick(lines));
        while (!unreleased(v)) v = next("patch", v);
        release(v, "patch on an older line");
        break;
      }
      case "pre-release": {
        const base = next(pick(["minor", "major"] as const), newest);
        let n = 1;
        while (!unreleased(`${base}-rc.${n}`)) n++;
        release(`${base}-rc.${n}`, "pre-release");
        break;
      }
      case "re-run":
        release(pick([...commitOf.keys()]), "re-run of an existing tag");
        break;
      case "out of order": {
        // Two tags pushed together, the higher one's release finishing first.
        const hi = next("patch", next("patch", newest));
        const lo = next("patch", newest);
        release(hi, "out of order (higher first)");
        release(lo, "out of order (lower second)");
        break;
      }
      case "re-tag": {
        // The same version re-created on another commit: the release must refuse it.
        const v = pick([...commitOf.keys()]);
        steps.push({ version: v, commit: hex(), kind: "re-tag on another commit (refused)" });
        break;
      }
    }
    mustAppear.delete(kind);
  }
  return steps;
}
