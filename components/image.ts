// The plugin image: one docker-build Image per platform (each with its own registry cache, since a
// multi-platform Image exports cache for one platform only), joined by one docker-build Index per
// registry × tag. Released manifests are never deleted by Pulumi (retainOnDelete): the next release
// replaces these resources, and deleting the old ones would delete the old release's tags.
// Reuse mode (`reusePlatformDigests`): this commit's platform images already exist in every
// registry (an earlier run of the same release), so nothing is built and each Index joins those
// digests — the same sources in the same order as the first time, so `imagetools create` gives
// the same index bytes and digest (docs/release.md, "Exact tags").
import * as docker from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

import type { PluginImageArgs } from "../lib/imageArgs";
import { RegistryKey } from "../lib/imageRegistries";
import { PLUGIN_IMAGE_TYPE } from "../lib/imageTarget";
import { tagOfRole } from "../lib/release";

/** `linux/arm64` → `arm64` (cache tag, gha scope); `linux/arm64` → `linux-arm64` (names). */
export function platformSlug(platform: string): { arch: string; name: string } {
  const [os, ...arch] = platform.split("/");
  return { arch: arch.join("-"), name: [os, ...arch].join("-") };
}

/** Registry cache references for one platform: `<primary repo>:buildcache-<arch>`, plus gha when available. */
export function cacheSettings(
  primaryRepository: string,
  imageName: string,
  platform: string,
  gha: boolean,
): { cacheFrom: docker.types.input.CacheFromArgs[]; cacheTo: docker.types.input.CacheToArgs[] } {
  const { arch } = platformSlug(platform);
  const ref = `${primaryRepository}:buildcache-${arch}`;
  const scope = `${imageName}-${arch}`;
  // A cache export failure must not fail a release; the image itself is what matters.
  const cacheFrom: docker.types.input.CacheFromArgs[] = [{ registry: { ref } }];
  const cacheTo: docker.types.input.CacheToArgs[] = [
    { registry: { ref, mode: docker.CacheMode.Max, ignoreError: true } },
  ];
  if (gha) {
    cacheFrom.push({ gha: { scope } });
    cacheTo.push({ gha: { scope, mode: docker.CacheMode.Max, ignoreError: true } });
  }
  return { cacheFrom, cacheTo };
}

/**
 * The export of every platform Image: push to the registries of its tags, with every file's
 * timestamp in the layers rewritten to SOURCE_DATE_EPOCH (BuildKit's `rewrite-timestamp`). With
 * the commit time as SOURCE_DATE_EPOCH (buildArgs) the same commit gives the same layer, manifest
 * and index digests whatever the cache state: without it, files built on a cold cache carry the
 * build's time. docker-build 0.0.22 has no typed field for the key, so the export is `raw` and
 * `push` stays false (`push: true` would add a second, non-rewriting registry export). The raw
 * string is parsed by docker-build as `type=image,push=true`: it still reports the digest.
 */
export const REPRODUCIBLE_PUSH_EXPORT = "type=registry,rewrite-timestamp=true";

/** Builds the plugin image per platform, joins the platforms into an index per registry × tag, pushes. */
export class PluginImage extends pulumi.ComponentResource {
  /** Digest of the multi-platform index (`sha256:…`). */
  public readonly digest: pulumi.Output<string>;
  /** Registry key → `<repository>@<digest>`. */
  public readonly refs: pulumi.Output<Record<string, string>>;
  /** Tags applied in every registry. */
  public readonly tags: string[];
  /** Repositories pushed to (`<registry>/<path>`, no tag). */
  public readonly repositories: string[];
  /** `docker pull <repository>:<version>@<digest>` per registry. */
  public readonly pullCommands: pulumi.Output<string[]>;
  /** Platforms built. */
  public readonly platforms: string[];
  /** Platform (`linux/arm64`) → digest of its manifest in the index (SBOM and provenance name these). */
  public readonly platformDigests: pulumi.Output<Record<string, string>>;
  /** Build args of every platform (provenance records them). */
  public readonly buildArgs: Record<string, string>;

  constructor(name: string, args: PluginImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PLUGIN_IMAGE_TYPE, name, args, opts);
    if (args.targets.length === 0) {
      throw new Error("PluginImage needs at least one registry target");
    }
    const versionTag = args.tags.find((t) => t.role === "version");
    if (versionTag === undefined) {
      throw new Error("PluginImage needs a tag with role 'version'");
    }
    const shaTag = tagOfRole(args.tags, "sha");
    const platforms = [...(args.platforms ?? ["linux/amd64", "linux/arm64"])];
    const primary = args.targets[0];
    const imageName = primary.repository.split("/").pop() ?? "image";
    const registries: docker.types.input.RegistryArgs[] = args.targets
      .filter((t) => t.credentials !== undefined)
      .map((t) => ({
        address: t.address,
        username: t.credentials?.username,
        password: t.credentials?.password,
      }));

    const reuse = args.reusePlatformDigests;
    if (reuse !== undefined) {
      const given = Object.keys(reuse).sort().join(",");
      if (given !== [...platforms].sort().join(",")) {
        throw new Error(
          `PluginImage: reusePlatformDigests names ${given}, but the platforms are ${platforms.join(",")}`,
        );
      }
    }
    // One Image per platform, pushed under `<sha tag>-<arch>` in every registry, so each index
    // below only references manifests already in its own registry (no cross-registry copy).
    // In reuse mode there is nothing to build: the digests are given.
    const platformDigestList: pulumi.Output<string>[] =
      reuse !== undefined
        ? platforms.map((p) => pulumi.output(reuse[p]))
        : platforms.map((platform) => {
            const slug = platformSlug(platform);
            const cache =
              (args.cache ?? true)
                ? cacheSettings(primary.repository, imageName, platform, args.ghaCache ?? false)
                : { cacheFrom: [], cacheTo: [] };
            return new docker.Image(
              `${name}-${slug.name}`,
              {
                push: false,
                exports: [{ raw: REPRODUCIBLE_PUSH_EXPORT }],
                dockerfile: { location: args.dockerfile ?? "./Dockerfile" },
                context: { location: args.context ?? "./plugin" },
                platforms: [platform as docker.Platform],
                tags: args.targets.map((t) => `${t.repository}:${shaTag}-${slug.arch}`),
                buildArgs: { ...args.buildArgs },
                labels: { ...args.labels },
                cacheFrom: cache.cacheFrom,
                cacheTo: cache.cacheTo,
                registries,
                builder: args.builder === undefined ? undefined : { name: args.builder },
              },
              { parent: this, retainOnDelete: true },
            ).digest;
          });

    // Index names use the registry key and the tag role, never the tag text, so they stay
    // stable across releases.
    const indexRefs: Partial<Record<RegistryKey, pulumi.Output<string>>> = {};
    for (const target of args.targets) {
      for (const tag of args.tags) {
        const index = new docker.Index(
          `${name}-${target.key}-${tag.role}`,
          {
            tag: `${target.repository}:${tag.tag}`,
            sources: platformDigestList.map((digest) => pulumi.interpolate`${target.repository}@${digest}`),
            push: true,
            registry:
              target.credentials === undefined
                ? undefined
                : {
                    address: target.address,
                    username: target.credentials.username,
                    password: target.credentials.password,
                  },
          },
          { parent: this, retainOnDelete: true },
        );
        if (tag.role === "version") {
          indexRefs[target.key] = index.ref;
        }
      }
    }

    const digestOf = (ref: string) => {
      const at = ref.lastIndexOf("@");
      return at < 0 ? "" : ref.slice(at + 1);
    };
    const firstRef = indexRefs[primary.key] as pulumi.Output<string>;
    this.digest = firstRef.apply(digestOf);
    this.refs = pulumi
      .all(args.targets.map((t) => indexRefs[t.key] as pulumi.Output<string>))
      .apply((refs) =>
        Object.fromEntries(args.targets.map((t, i) => [t.key, `${t.repository}@${digestOf(refs[i])}`])),
      );
    this.pullCommands = this.refs.apply((refs) =>
      args.targets.map((t) => `docker pull ${t.repository}:${versionTag.tag}@${digestOf(refs[t.key])}`),
    );
    this.tags = args.tags.map((t) => t.tag);
    this.repositories = args.targets.map((t) => t.repository);
    this.platforms = platforms;
    this.platformDigests = pulumi
      .all(platformDigestList)
      .apply((digests) => Object.fromEntries(platforms.map((p, i) => [p, digests[i]])));
    this.buildArgs = { ...args.buildArgs };
    this.registerOutputs({
      digest: this.digest,
      refs: this.refs,
      tags: this.tags,
      repositories: this.repositories,
      pullCommands: this.pullCommands,
      platforms: this.platforms,
      platformDigests: this.platformDigests,
      buildArgs: this.buildArgs,
    });
  }
}
