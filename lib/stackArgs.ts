// The program's validated config → the typed arguments of a component. Components never see the
// config (they take typed args, documented on their own interfaces; the image's in
// lib/imageArgs.ts); this is the one place that knows which config key feeds which argument. Pure
// apart from passing secret Outputs through.
import * as pulumi from "@pulumi/pulumi";

import { type StackConfig } from "./config";
import { rfc3339Seconds } from "./configValues";
import type { ImageTarget, PluginImageArgs } from "./imageArgs";
import { imageRepositories, registryEntry } from "./imageRegistries";
import { ociLabels } from "./labels";
import { deriveReleaseTags } from "./release";

/**
 * Whether BuildKit's gha cache would work. docker-build 0.0.22 passes `token`/`url` from
 * ACTIONS_RUNTIME_TOKEN/ACTIONS_CACHE_URL; the buildx it links (v0.35) then fills `url` from
 * ACTIONS_RESULTS_URL when ACTIONS_CACHE_URL is absent (and `url_v2` for the cache service v2,
 * selected by ACTIONS_CACHE_SERVICE_V2), and silently drops a gha cache entry that has no token or
 * no URL. So: a token, and either the legacy cache URL or the results (v2) URL. The workflow
 * exposes them with crazy-max/ghaction-github-runtime.
 */
export function ghaCacheAvailable(env: Readonly<Record<string, string | undefined>>): boolean {
  const set = (k: string) => (env[k] ?? "") !== "";
  return set("ACTIONS_RUNTIME_TOKEN") && (set("ACTIONS_CACHE_URL") || set("ACTIONS_RESULTS_URL"));
}

/** Build args from config: VERSION, SOURCE_DATE_EPOCH (commit time → reproducible timestamps), base-image overrides. */
export function buildArgs(
  cfg: Pick<StackConfig, "version" | "commitTime" | "builderImage" | "runtimeImage">,
) {
  if (cfg.version === undefined || cfg.commitTime === undefined) {
    throw new Error("version and commitTime are required to build the image");
  }
  const epoch = rfc3339Seconds(cfg.commitTime);
  if (epoch === undefined) {
    throw new Error(`commitTime ${JSON.stringify(cfg.commitTime)} is not RFC 3339`);
  }
  const args: Record<string, string> = { VERSION: cfg.version, SOURCE_DATE_EPOCH: String(epoch) };
  if (cfg.builderImage !== undefined) args.BUILDER_IMAGE = cfg.builderImage;
  if (cfg.runtimeImage !== undefined) args.RUNTIME_IMAGE = cfg.runtimeImage;
  return args;
}

/** Per-registry credentials supplied by the caller (Outputs, so they stay secret). */
export interface CredentialInputs {
  /** GCP access token for gcr.io (username `oauth2accesstoken`); required when gcr is enabled. */
  readonly gcrAccessToken?: pulumi.Input<string>;
  /** GitHub Actions environment, read once by the caller; decides the gha cache. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Maps the validated config to the image arguments. Pure apart from passing secret Outputs through. */
export function imageArgsFromConfig(cfg: StackConfig, inputs: CredentialInputs): PluginImageArgs {
  if (cfg.version === undefined || cfg.commit === undefined || cfg.commitTime === undefined) {
    throw new Error("version, commit and commitTime are required to build the image");
  }
  const targets = imageRepositories(cfg).map((repo): ImageTarget => {
    const source = registryEntry(repo.key).credentials;
    switch (source.kind) {
      case "gcpAccessToken":
        if (inputs.gcrAccessToken === undefined) {
          throw new Error(`${repo.key} is enabled but no GCP access token was supplied`);
        }
        return {
          ...repo,
          credentials: { username: "oauth2accesstoken", password: pulumi.secret(inputs.gcrAccessToken) },
        };
      case "config": {
        const values = cfg as Readonly<Record<string, unknown>>;
        const password = values[source.passwordKey] as pulumi.Output<string> | undefined;
        if (password === undefined) {
          throw new Error(`${repo.key} is enabled but ${source.passwordKey} is not set`);
        }
        return { ...repo, credentials: { username: values[source.usernameKey] as string, password } };
      }
      case "none":
        return repo;
    }
  });
  return {
    targets,
    tags: deriveReleaseTags({
      version: cfg.version,
      commit: cfg.commit,
      releasedVersions: cfg.releasedVersions,
      rollbackTo: cfg.rollbackTo,
    }),
    platforms: cfg.platforms,
    buildArgs: buildArgs(cfg),
    // Nothing about where the image is pushed (imageName, registries) goes into it: the same
    // commit must give the same digest in any repository (reproducible builds).
    labels: ociLabels({
      owner: cfg.githubOwner,
      repository: cfg.githubRepository,
      version: cfg.version,
      commit: cfg.commit,
      commitTime: cfg.commitTime,
    }),
    cache: cfg.cache,
    ghaCache: cfg.cache && ghaCacheAvailable(inputs.env),
    builder: cfg.builder,
    reusePlatformDigests: cfg.reusePlatformDigests,
  };
}
