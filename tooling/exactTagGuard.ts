// The exact-tag guard's reading (tooling/exactTags.ts decides): in every enabled registry, what
// the release's exact tags hold, the commit the index found there was built from (its images'
// revision label) and whether each registry has that index's platform manifests; then the decision.
// Run by the release step `steps.ts exact-tags` (scripts/release/exact-tags.sh) before every
// `pulumi up`; tested against an in-process registry in test/exactTags.test.ts.
import { readFileSync } from "node:fs";

import { type StackConfig } from "../lib/config";
import {
  imageRepositories,
  type ImageRepository,
  loginCredentials,
  type RegistryKey,
  registryEntry,
} from "../lib/imageRegistries";
import { deriveReleaseTags, type ReleaseTag, tagOfRole } from "../lib/release";
import {
  decideExactTags,
  EXACT_TAG_OVERRIDE_ENV,
  type ExactTagDecision,
  type ExactTagObservation,
  type ExistingIndex,
  type RegistryObservation,
} from "./exactTags";
import { type FetchedManifest, RegistryClient, RegistryError } from "./registryClient";

/** OCI label naming the commit an image was built from (lib/labels.ts sets it). */
export const REVISION_LABEL = "org.opencontainers.image.revision";

/** `os/arch[/variant]` of an index descriptor's platform; undefined when it has none. */
function platformOf(d: {
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown };
}): string | undefined {
  const p = d.platform;
  if (p === undefined || typeof p.os !== "string" || typeof p.architecture !== "string") return undefined;
  return [
    p.os,
    p.architecture,
    ...(typeof p.variant === "string" && p.variant !== "" ? [p.variant] : []),
  ].join("/");
}

/** An index as read from a registry → {@link ExistingIndex} (without its revision). */
export function describeIndex(m: FetchedManifest): ExistingIndex {
  const manifests = (m.json as { manifests?: unknown }).manifests;
  return {
    digest: m.digest,
    mediaType: m.mediaType,
    manifests: Array.isArray(manifests)
      ? (manifests as { digest?: unknown; platform?: { os?: unknown; architecture?: unknown } }[]).map(
          (d) => ({
            platform: platformOf(d),
            digest: String(d.digest),
          }),
        )
      : [],
  };
}

/** What {@link observeExactTags} reads through, per registry (tooling/registryClient.ts's RegistryClient). */
export interface ManifestReader {
  /** The manifest by tag or digest, or undefined when absent. */
  manifest(path: string, reference: string): Promise<FetchedManifest | undefined>;
  /** A blob parsed as JSON. */
  blobJson(path: string, digest: string): Promise<unknown>;
  /** Whether credentials were given (see {@link RegistryObservation.denied}). */
  readonly authenticated: boolean;
}

/** Input of {@link observeExactTags}. */
export interface ObserveInput {
  readonly version: string;
  readonly commit: string;
  readonly platforms: readonly string[];
  /** This release's tags (deriveReleaseTags); only the `version` and `sha` roles are read. */
  readonly tags: readonly ReleaseTag[];
  readonly repositories: readonly ImageRepository[];
  readonly reader: (repository: ImageRepository) => ManifestReader;
}

/** A refusal that counts as "absent" in this registry (see {@link RegistryObservation.denied}). */
const absentWhenDenied = (repo: ImageRepository, reader: ManifestReader, e: unknown) =>
  e instanceof RegistryError &&
  (e.status === 401 || e.status === 403) &&
  reader.authenticated &&
  registryEntry(repo.key).deniedMeansAbsent === true;

/**
 * Reads, in every repository: the version and sha tags; the index they hold and the commit of its
 * first image (config label); and whether each registry has that index's platform manifests.
 */
export async function observeExactTags(input: ObserveInput): Promise<ExactTagObservation> {
  const versionTag = tagOfRole(input.tags, "version");
  const shaTag = tagOfRole(input.tags, "sha");
  const found = new Map<string, { repo: ImageRepository; manifest: FetchedManifest }>();
  const registries: {
    key: RegistryKey;
    repository: string;
    version?: string;
    sha?: string;
    denied?: boolean;
  }[] = [];
  for (const repo of input.repositories) {
    const reader = input.reader(repo);
    const path = repo.repository.slice(repo.address.length + 1);
    let denied = false;
    const read = async (tag: string): Promise<string | undefined> => {
      try {
        const m = await reader.manifest(path, tag);
        if (m !== undefined && !found.has(m.digest)) found.set(m.digest, { repo, manifest: m });
        return m?.digest;
      } catch (e) {
        if (absentWhenDenied(repo, reader, e)) {
          denied = true;
          return undefined;
        }
        throw e;
      }
    };
    const version = await read(versionTag);
    const sha = await read(shaTag);
    registries.push({
      key: repo.key,
      repository: repo.repository,
      version,
      sha,
      ...(denied ? { denied } : {}),
    });
  }

  const indexes: Record<string, ExistingIndex> = {};
  for (const [digest, { repo, manifest }] of found) {
    const index = describeIndex(manifest);
    indexes[digest] = { ...index, revision: await revisionOf(input.reader(repo), repo, index) };
  }

  // Whether each registry has the platform manifests: only needed (and only read) for one index.
  const only = found.size === 1 ? indexes[[...found.keys()][0]] : undefined;
  const observed: RegistryObservation[] = [];
  for (const [i, repo] of input.repositories.entries()) {
    const reader = input.reader(repo);
    const path = repo.repository.slice(repo.address.length + 1);
    const has: Record<string, boolean> = {};
    for (const m of only?.manifests ?? []) {
      try {
        has[m.digest] = (await reader.manifest(path, m.digest)) !== undefined;
      } catch (e) {
        if (!absentWhenDenied(repo, reader, e)) throw e;
        has[m.digest] = false;
      }
    }
    observed.push({ ...registries[i], has });
  }
  return {
    version: input.version,
    versionTag,
    shaTag,
    commit: input.commit,
    platforms: input.platforms,
    registries: observed,
    indexes,
  };
}

/** The revision label of the index's first image, or undefined when it cannot be read. */
async function revisionOf(
  reader: ManifestReader,
  repo: ImageRepository,
  index: ExistingIndex,
): Promise<string | undefined> {
  const path = repo.repository.slice(repo.address.length + 1);
  const first = index.manifests.find((m) => m.platform !== undefined && !m.platform.startsWith("unknown/"));
  if (first === undefined) return undefined;
  try {
    const image = await reader.manifest(path, first.digest);
    const config = (image?.json as { config?: { digest?: unknown } } | undefined)?.config?.digest;
    if (typeof config !== "string") return undefined;
    const labels = (
      (await reader.blobJson(path, config)) as { config?: { Labels?: Record<string, unknown> } }
    ).config?.Labels;
    const revision = labels?.[REVISION_LABEL];
    return typeof revision === "string" && revision !== "" ? revision : undefined;
  } catch {
    return undefined;
  }
}

/** The variable naming an extra CA file to trust (the rehearsal registry's; scripts/env.sh sets it). */
export const REGISTRY_CA_ENV = "CQ_REGISTRY_CA";

/** A client per registry: credentials from its login entry's variables, the extra CA when set. */
export function registryReaders(
  env: Readonly<Record<string, string | undefined>>,
): (repository: ImageRepository) => ManifestReader {
  const caFile = env[REGISTRY_CA_ENV] ?? "";
  const ca = caFile === "" ? undefined : readFileSync(caFile);
  return (repo) => new RegistryClient(repo.address, { ca, credentials: loginCredentials(repo.key, env) });
}

/**
 * The guard for the stack's release: reads every enabled registry and decides (the step
 * `steps.ts exact-tags`). `env` gives the override, the credentials and the CA.
 */
export async function exactTagGuard(
  cfg: StackConfig,
  env: Readonly<Record<string, string | undefined>>,
  reader: (repository: ImageRepository) => ManifestReader = registryReaders(env),
): Promise<ExactTagDecision> {
  if (cfg.version === undefined || cfg.commit === undefined) {
    throw new Error("the stack config has no version or commit (configure.sh sets them)");
  }
  const obs = await observeExactTags({
    version: cfg.version,
    commit: cfg.commit,
    platforms: cfg.platforms,
    tags: deriveReleaseTags({ version: cfg.version, commit: cfg.commit, releasedVersions: [] }),
    repositories: imageRepositories(cfg),
    reader,
  });
  return decideExactTags(obs, { override: env[EXACT_TAG_OVERRIDE_ENV], rollbackTo: cfg.rollbackTo });
}
