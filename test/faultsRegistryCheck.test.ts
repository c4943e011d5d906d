// The faults rehearsal's registry invariant (scripts/faults/registry-check.ts) fed right and wrong
// registries: every release tag must be an index with every platform; per-platform and cache tags
// are not release tags.
import * as assert from "node:assert/strict";

import type { Index, Manifest } from "../scripts/lib/registry";
import { releaseTagsIncomplete } from "../scripts/faults/registry-check";

const PLATFORMS = ["linux/amd64", "linux/arm64"];
const index = (...arches: string[]): Index => ({
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    ...arches.map((a) => ({
      mediaType: "m",
      digest: `sha256:${a}`,
      size: 1,
      platform: { os: "linux", architecture: a },
    })),
    { mediaType: "m", digest: "sha256:att", size: 1, platform: { os: "unknown", architecture: "unknown" } },
  ],
});
const image: Manifest = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "c", digest: "sha256:c", size: 1 },
  layers: [],
};

function registry(content: Record<string, Index | Manifest>) {
  return {
    tags: async () => Object.keys(content),
    manifest: async <T>(_repo: string, ref: string) => content[ref] as T,
  };
}

describe("the faults registry invariant", () => {
  const right = {
    "v1.3.0": index("amd64", "arm64"),
    "v1.3.0-abcdef0": index("amd64", "arm64"),
    latest: index("amd64", "arm64"),
    "v1.3.0-abcdef0-amd64": image,
    "v1.3.0-abcdef0-arm64": image,
    "buildcache-amd64": image,
  };

  it("passes complete indexes and ignores per-platform and cache tags", async () => {
    const { bad, lines } = await releaseTagsIncomplete(registry(right), "r", PLATFORMS);
    assert.deepEqual(bad, []);
    assert.deepEqual(lines.sort(), [
      "latest\tlinux/amd64,linux/arm64",
      "v1.3.0\tlinux/amd64,linux/arm64",
      "v1.3.0-abcdef0\tlinux/amd64,linux/arm64",
    ]);
  });

  for (const [name, content, want] of [
    ["a release tag on one platform's image, not an index", { ...right, latest: image }, ["latest"]],
    ["an index without arm64", { ...right, "v1.3.0": index("amd64") }, ["v1.3.0"]],
    [
      "an index of no platform (attestations only)",
      { ...right, "v1.3.0-abcdef0": index() },
      ["v1.3.0-abcdef0"],
    ],
  ] as const) {
    it(`fails on ${name}`, async () => {
      const { bad } = await releaseTagsIncomplete(
        registry(content as Record<string, Index | Manifest>),
        "r",
        PLATFORMS,
      );
      assert.deepEqual(bad, want);
    });
  }
});
