// Typed, validated stack configuration. Every key, its default and its validation live here and
// only here (Pulumi.yaml mirrors the defaults; test/config.test.ts checks that they agree).
// parseConfig is pure: it throws before any resource exists, naming the key, the bad value and
// what is expected, so a typo never becomes half a deployment.
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";

/** Pulumi project name; config keys are `cq-source-s3-release:<key>`. */
export const PROJECT = "cq-source-s3-release";

/** The validated configuration of one stack. */
export interface StackConfig {
  /** GCP project that hosts identity and Artifact Registry. Required by identity, registries and gcr. */
  readonly gcpProject?: string;
  /** GCP region for regional resources. */
  readonly gcpRegion: string;
  /** GitHub owner (user or organisation) of the plugin repository. */
  readonly githubOwner: string;
  /** GitHub repository name (without owner). */
  readonly githubRepository: string;
  /** Numeric GitHub owner ID (pinned by the WIF condition; names can be re-registered). */
  readonly githubOwnerId?: string;
  /** Numeric GitHub repository ID (pinned by the WIF condition). */
  readonly githubRepositoryId?: string;
  /** Default branch whose pushes may act as the preview identity. */
  readonly defaultBranch: string;
  /** Prefix of release tags (`v` → `v1.2.3`). */
  readonly releaseTagPrefix: string;
  /** Workload Identity Pool ID. */
  readonly wifPoolId: string;
  /** Workload Identity Pool Provider ID. */
  readonly wifProviderId: string;
  /** GCS bucket holding the Pulumi state (name only); the release identity may read/write it. */
  readonly stateBucket?: string;
  /** Allow service-account JSON keys (discouraged; warned about). */
  readonly allowServiceAccountKeys: boolean;
  /** Create the Workload Identity Federation pieces. */
  readonly enableIdentity: boolean;
  /** Enable the APIs and create the Artifact Registry repository `gcr.io`. */
  readonly enableRegistries: boolean;
  /** Write GitHub Actions variables/secrets, the `release` environment and the tag ruleset. */
  readonly enableRepoSettings: boolean;
  /** Build and push the plugin image. */
  readonly enableImage: boolean;
  /** Push the image to gcr.io (Artifact Registry repository `gcr.io`). */
  readonly gcr: boolean;
  /** Push the image to ghcr.io. */
  readonly ghcr: boolean;
  /** Also push to a plain local registry `host:port` (no credentials), e.g. `127.0.0.1:5000`. */
  readonly localRegistry?: string;
  /** Image name (last path component(s) of every repository). */
  readonly imageName: string;
  /** Target platforms, `os/arch`. */
  readonly platforms: readonly string[];
  /** Release version, normalised to `<releaseTagPrefix><semver>` (e.g. `v1.2.3`). Set when image is enabled. */
  readonly version?: string;
  /** Full commit sha, lowercased. Set when image is enabled. */
  readonly commit?: string;
  /** Commit time (RFC 3339) as given. Set when image is enabled. */
  readonly commitTime?: string;
  /** Every existing release tag (decides whether `latest`/`vX.Y` may move). */
  readonly releasedVersions: readonly string[];
  /** Username for ghcr.io (the workflow sets github.actor). Defaults to githubOwner. */
  readonly ghcrUsername: string;
  /** Token for ghcr.io with `packages: write` (secret). */
  readonly ghcrToken?: pulumi.Output<string>;
  /** Use registry (and, in GitHub Actions, gha) build cache. */
  readonly cache: boolean;
  /** buildx builder name (e.g. a remote builder `local`). */
  readonly builder?: string;
  /** Override of the Dockerfile's BUILDER_IMAGE build arg. */
  readonly builderImage?: string;
  /** Override of the Dockerfile's RUNTIME_IMAGE build arg. */
  readonly runtimeImage?: string;
  /** Passphrase written to the repository's Actions secret PULUMI_CONFIG_PASSPHRASE (secret). */
  readonly pulumiConfigPassphrase?: pulumi.Output<string>;
}

/** Where config values come from; `loadConfig` binds it to `pulumi.Config`, tests to a table. */
export interface ConfigSource {
  /** The raw value of a plain key, or undefined. An empty string counts as unset. */
  get(key: string): string | undefined;
  /** A secret key as a secret Output, or undefined when unset or empty. */
  getSecret(key: string): pulumi.Output<string> | undefined;
  /** Keys present in the project namespace (without prefix), to reject typos. Optional. */
  keys?: readonly string[];
}

type KeyType = "string" | "boolean";

interface KeySpec {
  readonly type: KeyType;
  /** Default as it appears in Pulumi.yaml; `""` means "unset" for optional keys; undefined = required. */
  readonly default?: string | boolean;
  readonly secret?: boolean;
  readonly description: string;
}

/**
 * Every config key with its type, default and description: the single source of the defaults.
 * Pulumi.yaml must declare the same set (test/config.test.ts compares them).
 */
export const CONFIG_KEYS: Readonly<Record<string, KeySpec>> = {
  gcpProject: { type: "string", default: "", description: "GCP project ID (identity, registries, gcr)." },
  gcpRegion: { type: "string", default: "us-central1", description: "GCP region." },
  githubOwner: { type: "string", description: "GitHub owner (user/organisation) of the plugin repository." },
  githubRepository: { type: "string", description: "GitHub repository name, without owner." },
  githubOwnerId: {
    type: "string",
    default: "",
    description: "Numeric GitHub owner ID (required by identity).",
  },
  githubRepositoryId: {
    type: "string",
    default: "",
    description: "Numeric GitHub repository ID (required by identity).",
  },
  defaultBranch: { type: "string", default: "main", description: "Default branch (preview identity)." },
  releaseTagPrefix: { type: "string", default: "v", description: "Release tag prefix." },
  wifPoolId: { type: "string", default: "github-actions", description: "Workload Identity Pool ID." },
  wifProviderId: { type: "string", default: "github", description: "Workload Identity Pool Provider ID." },
  stateBucket: {
    type: "string",
    default: "",
    description: "GCS bucket (name only) with the Pulumi state; required by repo settings.",
  },
  allowServiceAccountKeys: {
    type: "boolean",
    default: false,
    description: "Allow service-account JSON keys (discouraged).",
  },
  enableIdentity: { type: "boolean", default: true, description: "Create Workload Identity Federation." },
  enableRegistries: {
    type: "boolean",
    default: true,
    description: "Create the Artifact Registry repo gcr.io.",
  },
  enableRepoSettings: {
    type: "boolean",
    default: true,
    description: "Manage GitHub Actions variables/secrets, environment and tag ruleset.",
  },
  enableImage: { type: "boolean", default: true, description: "Build and push the plugin image." },
  gcr: { type: "boolean", default: true, description: "Push the image to gcr.io/<project>/<imageName>." },
  ghcr: { type: "boolean", default: true, description: "Push the image to ghcr.io/<owner>/<imageName>." },
  localRegistry: {
    type: "string",
    default: "",
    description: "Extra registry host:port without credentials, e.g. 127.0.0.1:5000.",
  },
  imageName: { type: "string", default: "cq-source-s3", description: "Image name." },
  platforms: {
    type: "string",
    default: '["linux/amd64","linux/arm64"]',
    description: "JSON list of target platforms os/arch.",
  },
  version: { type: "string", default: "", description: "Release version (semver, leading v optional)." },
  commit: { type: "string", default: "", description: "Commit sha (hex, 7-40 chars)." },
  commitTime: { type: "string", default: "", description: "Commit time, RFC 3339 (OCI created label)." },
  releasedVersions: {
    type: "string",
    default: "[]",
    description: "JSON array of every existing release tag (decides latest / vX.Y).",
  },
  ghcrUsername: { type: "string", default: "", description: "ghcr.io username; defaults to githubOwner." },
  ghcrToken: { type: "string", default: "", secret: true, description: "ghcr.io token (set with --secret)." },
  cache: { type: "boolean", default: true, description: "Use registry (and gha) build cache." },
  builder: { type: "string", default: "", description: "buildx builder name, e.g. local." },
  builderImage: { type: "string", default: "", description: "BUILDER_IMAGE build-arg override." },
  runtimeImage: { type: "string", default: "", description: "RUNTIME_IMAGE build-arg override." },
  pulumiConfigPassphrase: {
    type: "string",
    default: "",
    secret: true,
    description: "Passphrase stored as Actions secret PULUMI_CONFIG_PASSPHRASE (set with --secret).",
  },
};

/** A config problem; `problems` lists each one (the message joins them). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

/** The message for one bad key: names the full key, the value and what is expected. */
export function invalid(key: string, value: string, expected: string): string {
  return `${PROJECT}:${key}: invalid value ${JSON.stringify(value)}: expected ${expected}`;
}

/** The message for a key that a setting requires but that is unset. */
export function missing(key: string, because: string): string {
  return `${PROJECT}:${key}: missing: required because ${because}`;
}

const KNOWN_OS = new Set(["linux"]);
// The architectures both docker-build (its Platform enum) and distroless static publish.
const KNOWN_ARCH = new Set(["amd64", "arm64", "arm", "386", "ppc64le", "riscv64", "s390x"]);

const RE = {
  gcpProject: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  gcpRegion: /^[a-z]+(?:-[a-z]+)+[0-9]+$/,
  githubOwner: /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/,
  githubRepository: /^[A-Za-z0-9._-]{1,100}$/,
  numericId: /^[1-9][0-9]{0,19}$/,
  // refs/heads/<branch> must fit a 127-byte WIF attribute.
  branch: /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9._/-]{1,116}(?<![/.])$/,
  // Also used in image tags (no '/'); must not end in a digit, since the version's digit follows.
  tagPrefix: /^[A-Za-z][A-Za-z0-9._-]{0,19}(?<![0-9])$/,
  gcpId: /^(?!gcp-)[a-z0-9-]{4,32}$/,
  bucket: /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/,
  hostPort:
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*):([0-9]{1,5})$/,
  imageName: /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/,
  commit: /^[0-9a-fA-F]{7,40}$/,
  rfc3339: /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  builder: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
  // registry[:port]/path[:tag][@sha256:...] — loose on purpose, but no whitespace or scheme.
  imageRef:
    /^[A-Za-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/,
};

/** Parses a released-versions or platforms style JSON list of strings; undefined when malformed. */
function parseStringList(raw: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.every((e) => typeof e === "string")) {
      return v as string[];
    }
  } catch {
    // fall through: reported by the caller with the key name
  }
  return undefined;
}

/**
 * Normalises a release version: strips an optional tag prefix, checks strict semver and returns
 * `<prefix><semver>`; undefined when it is not semver.
 */
export function normaliseVersion(raw: string, prefix: string): string | undefined {
  const bare = raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  const parsed = semver.parse(bare);
  // semver.parse accepts a leading "v"/"=" and surrounding spaces; insist on the exact text.
  if (parsed === null || parsed.raw !== bare || bare.trim() !== bare || /^[v=]/.test(bare)) {
    return undefined;
  }
  return `${prefix}${bare}`;
}

/** Seconds since the epoch of an RFC 3339 time, or undefined when it is not a valid RFC 3339 time. */
export function rfc3339Seconds(raw: string): number | undefined {
  const m = RE.rfc3339.exec(raw);
  if (m === null) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const ms = Date.parse(raw.toUpperCase());
  if (Number.isNaN(ms) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) {
    return undefined;
  }
  // Date.parse rolls 2024-02-30 over to March; reject days that do not exist in that month.
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) {
    return undefined;
  }
  return Math.floor(ms / 1000);
}

/** Validates a platform `os/arch`; returns the problem text or undefined. */
function platformProblem(p: string): string | undefined {
  const [os, ...rest] = p.split("/");
  const arch = rest.join("/");
  if (!KNOWN_OS.has(os)) {
    return `os "${os}" (supported: ${[...KNOWN_OS].join(", ")})`;
  }
  if (!KNOWN_ARCH.has(arch)) {
    return `arch "${arch}" (supported: ${[...KNOWN_ARCH].join(", ")})`;
  }
  return undefined;
}

/**
 * Validates the whole stack configuration. Pure apart from passing secret Outputs through.
 * Throws a ConfigError listing every problem; never returns a half-valid config.
 */
export function parseConfig(source: ConfigSource): StackConfig {
  const problems: string[] = [];

  if (source.keys !== undefined) {
    for (const k of source.keys) {
      if (!(k in CONFIG_KEYS)) {
        problems.push(`${PROJECT}:${k}: unknown config key (known: see docs/configuration.md)`);
      }
    }
  }

  /** The raw value or the default; "" means unset. */
  const raw = (key: string): string => {
    const spec = CONFIG_KEYS[key];
    const v = source.get(key);
    if (v !== undefined && v !== "") {
      return v;
    }
    return spec.default === undefined ? "" : String(spec.default);
  };
  const optional = (key: string, re: RegExp, expected: string): string | undefined => {
    const v = raw(key);
    if (v === "") {
      return undefined;
    }
    if (!re.test(v)) {
      problems.push(invalid(key, v, expected));
    }
    return v;
  };
  const required = (key: string, re: RegExp, expected: string): string => {
    const v = raw(key);
    if (v === "") {
      problems.push(`${PROJECT}:${key}: missing: expected ${expected}`);
    } else if (!re.test(v)) {
      problems.push(invalid(key, v, expected));
    }
    return v;
  };
  const bool = (key: string): boolean => {
    const v = raw(key);
    if (v !== "true" && v !== "false") {
      problems.push(invalid(key, v, "true or false"));
    }
    return v === "true";
  };

  const gcpProject = optional(
    "gcpProject",
    RE.gcpProject,
    "a GCP project ID: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter",
  );
  const gcpRegion = required("gcpRegion", RE.gcpRegion, "a GCP region such as us-central1");
  const githubOwner = required(
    "githubOwner",
    RE.githubOwner,
    "a GitHub user or organisation name (letters, digits, single hyphens, at most 39 characters)",
  );
  const githubRepository = required(
    "githubRepository",
    RE.githubRepository,
    "a GitHub repository name without owner (letters, digits, '.', '_', '-')",
  );
  if (githubRepository === "." || githubRepository === "..") {
    problems.push(invalid("githubRepository", githubRepository, "a GitHub repository name, not . or .."));
  }
  const githubOwnerId = optional("githubOwnerId", RE.numericId, "a numeric GitHub owner ID such as 1234567");
  const githubRepositoryId = optional(
    "githubRepositoryId",
    RE.numericId,
    "a numeric GitHub repository ID such as 765432109",
  );
  const defaultBranch = required("defaultBranch", RE.branch, "a git branch name such as main");
  const releaseTagPrefix = required(
    "releaseTagPrefix",
    RE.tagPrefix,
    "a tag prefix such as v: a letter, then up to 19 letters, digits, '.', '_', '-', not ending in a digit",
  );
  const gcpIdExpected = "4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-";
  const wifPoolId = required("wifPoolId", RE.gcpId, gcpIdExpected);
  const wifProviderId = required("wifProviderId", RE.gcpId, gcpIdExpected);
  const stateBucket = optional(
    "stateBucket",
    RE.bucket,
    "a GCS bucket name without gs:// (3-63 characters: lowercase letters, digits, '.', '_', '-')",
  );
  const allowServiceAccountKeys = bool("allowServiceAccountKeys");
  const enableIdentity = bool("enableIdentity");
  const enableRegistries = bool("enableRegistries");
  const enableRepoSettings = bool("enableRepoSettings");
  const enableImage = bool("enableImage");
  const gcr = bool("gcr");
  const ghcr = bool("ghcr");
  const localRegistry = optional("localRegistry", RE.hostPort, "host:port such as 127.0.0.1:5000");
  if (localRegistry !== undefined && RE.hostPort.test(localRegistry)) {
    const port = Number(RE.hostPort.exec(localRegistry)?.[1] ?? "0");
    if (port < 1 || port > 65535) {
      problems.push(invalid("localRegistry", localRegistry, "a port between 1 and 65535"));
    }
  }
  const imageName = required(
    "imageName",
    RE.imageName,
    "a lowercase image name such as cq-source-s3 (letters, digits, '.', '_', '-', '/')",
  );

  const platformsRaw = raw("platforms");
  const platformsExpected = 'a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]';
  let platforms = parseStringList(platformsRaw) ?? [];
  if (parseStringList(platformsRaw) === undefined || platforms.length === 0) {
    problems.push(invalid("platforms", platformsRaw, platformsExpected));
  } else {
    for (const p of platforms) {
      const why = platformProblem(p);
      if (why !== undefined) {
        problems.push(invalid("platforms", platformsRaw, `${platformsExpected}; unsupported ${why}`));
      }
    }
    if (new Set(platforms).size !== platforms.length) {
      problems.push(invalid("platforms", platformsRaw, `${platformsExpected}; no duplicates`));
    }
  }
  platforms = [...platforms];

  const versionRaw = raw("version");
  let version: string | undefined;
  if (versionRaw !== "") {
    version = normaliseVersion(versionRaw, releaseTagPrefix);
    if (version === undefined) {
      problems.push(
        invalid("version", versionRaw, `a semantic version such as ${releaseTagPrefix}1.2.3 or 1.2.3-rc.1`),
      );
    }
  }
  const commitRaw = optional("commit", RE.commit, "a hex commit sha of 7-40 characters");
  const commit = commitRaw?.toLowerCase();
  const commitTime = raw("commitTime") === "" ? undefined : raw("commitTime");
  if (commitTime !== undefined && rfc3339Seconds(commitTime) === undefined) {
    problems.push(invalid("commitTime", commitTime, "an RFC 3339 time such as 2025-01-02T03:04:05Z"));
  }
  const releasedRaw = raw("releasedVersions");
  const releasedVersions = parseStringList(releasedRaw);
  if (releasedVersions === undefined) {
    problems.push(
      invalid("releasedVersions", releasedRaw, 'a JSON array of tags such as ["v1.0.0","v1.1.0"]'),
    );
  }

  const ghcrUsername =
    optional("ghcrUsername", RE.githubOwner, "a GitHub user name (letters, digits, single hyphens)") ??
    githubOwner;
  const ghcrToken = source.getSecret("ghcrToken");
  const cache = bool("cache");
  const builder = optional("builder", RE.builder, "a buildx builder name such as local");
  const refExpected = "an image reference registry/path[:tag][@sha256:<64 hex>]";
  const builderImage = optional("builderImage", RE.imageRef, refExpected);
  const runtimeImage = optional("runtimeImage", RE.imageRef, refExpected);
  const pulumiConfigPassphrase = source.getSecret("pulumiConfigPassphrase");

  // Cross-field rules: fail now rather than half-way through `pulumi up`.
  if (enableIdentity) {
    if (gcpProject === undefined) problems.push(missing("gcpProject", "enableIdentity is true"));
    if (githubOwnerId === undefined) problems.push(missing("githubOwnerId", "enableIdentity is true"));
    if (githubRepositoryId === undefined)
      problems.push(missing("githubRepositoryId", "enableIdentity is true"));
  }
  if (enableRegistries && gcpProject === undefined) {
    problems.push(missing("gcpProject", "enableRegistries is true"));
  }
  if (enableRepoSettings) {
    // The variables it writes come from the identity component.
    if (!enableIdentity) {
      problems.push(
        invalid(
          "enableRepoSettings",
          "true",
          "false when enableIdentity is false (it publishes identity names)",
        ),
      );
    }
    if (stateBucket === undefined) problems.push(missing("stateBucket", "enableRepoSettings is true"));
    if (pulumiConfigPassphrase === undefined) {
      problems.push(missing("pulumiConfigPassphrase", "enableRepoSettings is true (set it with --secret)"));
    }
  }
  if (enableImage) {
    if (!gcr && !ghcr && localRegistry === undefined) {
      problems.push(invalid("enableImage", "true", "at least one registry: gcr, ghcr or localRegistry"));
    }
    if (gcr && gcpProject === undefined) problems.push(missing("gcpProject", "gcr is true"));
    if (ghcr && ghcrToken === undefined) {
      problems.push(missing("ghcrToken", "ghcr is true (set it with --secret)"));
    }
    if (versionRaw === "") problems.push(missing("version", "enableImage is true"));
    if (commitRaw === undefined) problems.push(missing("commit", "enableImage is true"));
    if (commitTime === undefined) problems.push(missing("commitTime", "enableImage is true"));
  }

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return {
    gcpProject,
    gcpRegion,
    githubOwner,
    githubRepository,
    githubOwnerId,
    githubRepositoryId,
    defaultBranch,
    releaseTagPrefix,
    wifPoolId,
    wifProviderId,
    stateBucket,
    allowServiceAccountKeys,
    enableIdentity,
    enableRegistries,
    enableRepoSettings,
    enableImage,
    gcr,
    ghcr,
    localRegistry,
    imageName,
    platforms,
    version,
    commit,
    commitTime,
    releasedVersions: releasedVersions ?? [],
    ghcrUsername,
    ghcrToken,
    cache,
    builder,
    builderImage,
    runtimeImage,
    pulumiConfigPassphrase,
  };
}

/** Reads and validates this stack's configuration from `pulumi.Config`. */
export function loadConfig(): StackConfig {
  const config = new pulumi.Config(PROJECT);
  const prefix = `${PROJECT}:`;
  return parseConfig({
    get: (key) => config.get(key),
    // Peek at the raw value only to learn whether it is set; the value itself goes through
    // requireSecret so it never exists as a plain string in the program's outputs or state.
    getSecret: (key) => {
      const rawValue = pulumi.runtime.getConfig(prefix + key);
      return rawValue === undefined || rawValue === "" ? undefined : config.requireSecret(key);
    },
    keys: Object.keys(pulumi.runtime.allConfig())
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length)),
  });
}
