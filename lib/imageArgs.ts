// The arguments of the image component (components/image.ts, `PluginImage`), as types: where to
// push, which tags, platforms, build args and labels. Here, below both, so that the component and
// the one place that maps the stack config to them (lib/stackArgs.ts) share them without a rule
// module importing a component.
import type * as pulumi from "@pulumi/pulumi";

import type { ImageRepository } from "./imageRegistries";
import type { ReleaseTag } from "./release";

/** Credentials for one registry. */
export interface RegistryCredentials {
  readonly username: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
}

/** A registry to push to: repository plus optional credentials (none for a local registry). */
export interface ImageTarget extends ImageRepository {
  readonly credentials?: RegistryCredentials;
}

/** Arguments of the image component, `PluginImage`. */
export interface PluginImageArgs {
  /** Where to push; the first is the primary and holds the registry build cache. */
  readonly targets: readonly ImageTarget[];
  /** Tags with their roles (lib/release.ts); the `sha` and `version` roles must be present. */
  readonly tags: readonly ReleaseTag[];
  /** Target platforms `os/arch`. Defaults to linux/amd64 and linux/arm64. */
  readonly platforms?: readonly string[];
  /** Build args (VERSION, and optional BUILDER_IMAGE, RUNTIME_IMAGE, SOURCE_DATE_EPOCH). */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** OCI labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Use a registry cache per platform in the primary repository. Defaults to true. */
  readonly cache?: boolean;
  /** Also use the GitHub Actions cache (only when its runtime variables are present). Defaults to false. */
  readonly ghaCache?: boolean;
  /** buildx builder name; unset lets docker-build choose. */
  readonly builder?: string;
  /**
   * Platform → digest of this commit's image for that platform, already pushed to every target
   * (under `<sha tag>-<arch>` by an earlier run). When set, no Image is built and every Index joins
   * these, in `platforms` order; it must name exactly `platforms`. Defaults to unset (build).
   */
  readonly reusePlatformDigests?: Readonly<Record<string, string>>;
  /** Dockerfile path. Defaults to `./Dockerfile`. */
  readonly dockerfile?: string;
  /** Build context. Defaults to `./plugin`. */
  readonly context?: string;
}
