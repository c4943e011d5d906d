// The tag-history checker (test/history/check.ts `differences`, also scripts/faults.sh's after every
// converged run) fed right and wrong registries: it must pass the right one and name each kind of
// wrong one — an extra tag, a moved tag, a floating tag on the wrong digest, a missing platform, a
// per-platform tag off its index, an exact tag that moved, a digest that is not the run's.
import * as assert from "node:assert/strict";

import type { Index } from "../scripts/lib/registry";
import { differences } from "./history/check";

const sha = (c: string) => c.repeat(40);
const dg = (name: string) => `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;

// The history: two stable releases on line 1.x, a patch on the older line after the newer one,
// and a pre-release of 2.0.0.
const steps = [
  { version: "v1.0.0", commit: "m1", sha: sha("a"), kind: "" },
  { version: "v1.1.0", commit: "m2", sha: sha("b"), kind: "" },
  { version: "v1.0.1", commit: "m3", sha: sha("c"), kind: "" },
  { version: "v2.0.0-rc.1", commit: "m4", sha: sha("d"), kind: "" },
];

/** A registry written by hand (not by the model): tag → digest, digest → index. */
function rightRegistry(): { tags: Map<string, string>; indexes: Map<string, Index> } {
  const tags = new Map<string, string>();
  const indexes = new Map<string, Index>();
  for (const s of steps) {
    const exact = `${s.version}-${s.sha.slice(0, 7)}`;
    const index = dg(`index ${s.version}`);
    indexes.set(index, {
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "m",
          digest: dg(`amd64 ${s.version}`),
          size: 1,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          mediaType: "m",
          digest: dg(`arm64 ${s.version}`),
          size: 1,
          platform: { os: "linux", architecture: "arm64" },
        },
        {
          mediaType: "m",
          digest: dg(`att ${s.version}`),
          size: 1,
          platform: { os: "unknown", architecture: "unknown" },
        },
      ],
    });
    tags.set(s.version, index).set(exact, index);
    tags.set(`${exact}-amd64`, dg(`amd64 ${s.version}`)).set(`${exact}-arm64`, dg(`arm64 ${s.version}`));
  }
  tags.set("latest", dg("index v1.1.0")).set("v1.1", dg("index v1.1.0")).set("v1.0", dg("index v1.0.1"));
  tags.set("buildcache-amd64", dg("cache amd64")).set("buildcache-arm64", dg("cache arm64"));
  return { tags, indexes };
}

function fake(r: { tags: Map<string, string>; indexes: Map<string, Index> }) {
  return {
    tags: async () => [...r.tags.keys()],
    digest: async (_repo: string, ref: string) => {
      const d = r.tags.get(ref);
      if (d === undefined) throw new Error(`no tag ${ref}`);
      return d;
    },
    manifest: async <T>(_repo: string, digest: string) => {
      const m = r.indexes.get(digest);
      if (m === undefined) throw new Error(`no manifest ${digest}`);
      return m as T;
    },
  };
}

async function check(
  edit: (r: ReturnType<typeof rightRegistry>) => void,
  ledger: Record<string, string> = {},
  run?: { version: string; digest: string },
): Promise<string[]> {
  const r = rightRegistry();
  edit(r);
  return differences(fake(r) as never, "repo", steps, ledger, run);
}

describe("the tag-history checker", () => {
  it("passes the registry the model describes", async () => {
    assert.deepEqual(await check(() => {}), []);
    assert.deepEqual(await check(() => {}, {}, { version: "v1.0.1", digest: dg("index v1.0.1") }), []);
  });

  const wrong: [string, (r: ReturnType<typeof rightRegistry>) => void, RegExp][] = [
    [
      "an extra floating tag for a pre-release",
      (r) => r.tags.set("v2.0", dg("index v2.0.0-rc.1")),
      /^v2\.0: in the registry, not in the model$/,
    ],
    [
      "an extra tag of any name",
      (r) => r.tags.set("stable", dg("index v1.1.0")),
      /^stable: in the registry, not in the model$/,
    ],
    [
      "latest moved back to an older line's patch",
      (r) => r.tags.set("latest", dg("index v1.0.1")),
      /^latest: .*, but v1\.1\.0 \(v1\.1\.0-bbbbbbb\) is /,
    ],
    [
      "a line tag on another line's release",
      (r) => r.tags.set("v1.0", dg("index v1.1.0")),
      /^v1\.0: .*, but v1\.0\.1 \(v1\.0\.1-ccccccc\) is /,
    ],
    ["a missing floating tag", (r) => r.tags.delete("v1.1"), /^v1\.1: missing \(model: v1\.1\.0\)$/],
    [
      "a missing exact tag",
      (r) => r.tags.delete("v1.0.0-aaaaaaa"),
      /^v1\.0\.0: the exact tag v1\.0\.0-aaaaaaa of v1\.0\.0 is missing$/,
    ],
    [
      "an index without arm64",
      (r) => {
        const i = r.indexes.get(dg("index v1.1.0")) as Index;
        r.indexes.set(dg("index v1.1.0"), {
          ...i,
          manifests: i.manifests.filter((m) => m.platform?.architecture !== "arm64"),
        });
      },
      /^v1\.1\.0-bbbbbbb: index .* lacks linux\/arm64$/,
    ],
    [
      "a per-platform tag off its index",
      (r) => r.tags.set("v1.0.0-aaaaaaa-amd64", dg("amd64 v1.1.0")),
      /^v1\.0\.0-aaaaaaa-amd64: .*, but v1\.0\.0-aaaaaaa's index has .* for linux\/amd64$/,
    ],
    [
      "a missing per-platform tag",
      (r) => r.tags.delete("v1.0.1-ccccccc-arm64"),
      /^v1\.0\.1-ccccccc-arm64: missing \(the linux\/arm64 image of v1\.0\.1\)$/,
    ],
  ];
  for (const [name, edit, want] of wrong) {
    it(`fails on ${name}`, async () => {
      const problems = await check(edit);
      assert.ok(
        problems.some((p) => want.test(p)),
        `no problem matching ${want}: ${JSON.stringify(problems)}`,
      );
    });
  }

  it("fails when an exact tag moved since an earlier step (the ledger)", async () => {
    const problems = await check(() => {}, { "v1.0.0": dg("index of an earlier build") });
    assert.ok(
      problems.some((p) => /^v1\.0\.0: exact tag moved from .* to /.test(p)),
      JSON.stringify(problems),
    );
  });

  it("fails when a release's tags are not the digest its run reported", async () => {
    const problems = await check(() => {}, {}, { version: "v1.1.0", digest: dg("index v1.0.0") });
    assert.ok(
      problems.some((p) => /^v1\.1\.0: .*, but the run of v1\.1\.0 reported imageDigest /.test(p)),
      JSON.stringify(problems),
    );
  });
});
