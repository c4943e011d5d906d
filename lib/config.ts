// Typed, validated stack configuration. Every key lives once, in CONFIG_KEYS: its type, default,
// parser, expected-value text, description and the stacks that use it. `StackConfig` is derived
// from that table, Pulumi.yaml and docs/configuration.md are checked against it
// (test/config.test.ts), and the rules for ids and names come from lib/rules.ts.
// parseConfig is pure: it throws before any resource exists, naming the key, the bad value and
// what is expected, so a typo never becomes half a deployment.
// One module past 400 lines on purpose: the key table is half of it, and the table, the rules
// across keys and the parser that applies both are one answer to "what is a valid stack config";
// the structured values' parsers are lib/configValues.ts, the docs table tooling/configDocs.ts.
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";

import {
  type Invalid,
  isInvalid,
  normaliseVersion,
  parsePlatformDigests,
  parsePlatforms,
  parseStringList,
  PLATFORMS_EXPECTED,
  refuse,
  REUSE_EXPECTED,
  rfc3339Seconds,
} from "./configValues";
import { RELEASE_TAG_PREFIX } from "./release";
import { RULES, type RuleName } from "./rules";

/** Pulumi project name; config keys are `cq-source-s3-release:<key>`. */
export const PROJECT = "cq-source-s3-release";

/** The stacks of this project (Pulumi.<stack>.yaml). */
export type StackName = "prod" | "local";

/** One config key. `optional` keys may be unset (their value type includes undefined). */
export interface KeyDef<T, Optional extends boolean> {
  /** Type as declared in Pulumi.yaml. */
  readonly type: "string" | "boolean";
  /** Default as it appears in Pulumi.yaml; `""` means unset; undefined means required. */
  readonly default?: string | boolean;
  /** Set with `--secret`; read as a secret Output, never as plain text. */
  readonly secret?: boolean;
  readonly description: string;
  /** What a valid value looks like; completes "expected …". */
  readonly expected: string;
  /** Stacks whose configuration uses the key, and a note on how (docs/configuration.md). */
  readonly stacks: readonly StackName[];
  readonly note?: string;
  /** The value when unset and without a default: another key's value. */
  readonly defaultFrom?: string;
  readonly optional: Optional;
  /** Parses a set (non-empty) raw value. */
  readonly parse: (raw: string) => T | Invalid;
}

type Common = Pick<KeyDef<unknown, boolean>, "description" | "stacks" | "note">;

/** A string key checked by a rule of lib/rules.ts. */
function ruled<O extends boolean>(rule: RuleName, optional: O, def: Common & { default?: string }) {
  return {
    type: "string",
    expected: RULES[rule].expected,
    optional,
    parse: (raw: string) => (RULES[rule].test(raw) ? raw : refuse()),
    ...def,
  } as const satisfies KeyDef<string, O>;
}

/** A `true`/`false` key. */
function flag(def: Common & { default: boolean }) {
  return {
    type: "boolean",
    expected: "true or false",
    optional: false,
    parse: (raw: string) => (raw === "true" ? true : raw === "false" ? false : refuse()),
    ...def,
  } as const satisfies KeyDef<boolean, false>;
}

/** A secret key (set with `--secret`); its value is a secret Output. */
function secret(def: Common) {
  return {
    type: "string",
    default: "",
    secret: true,
    expected: "a value set with --secret",
    optional: true,
    parse: (): pulumi.Output<string> | Invalid => refuse(),
    ...def,
  } as const satisfies KeyDef<pulumi.Output<string>, true>;
}

const BOTH: readonly StackName[] = ["prod", "local"];
const PROD: readonly StackName[] = ["prod"];
const LOCAL: readonly StackName[] = ["local"];
const RELEASE_WORKFLOW_NOTE = "release workflow";

/**
 * Every config key: the single source of types, defaults, parsers and texts. Pulumi.yaml and the
 * table in docs/configuration.md must say the same (test/config.test.ts).
 */
export const CONFIG_KEYS = {
  gcpProject: ruled("gcpProject", true, {
    default: "",
    description: "GCP project ID (identity, registries, gcr).",
    stacks: PROD,
  }),
  gcpRegion: ruled("gcpRegion", false, { default: "us-central1", description: "GCP region.", stacks: PROD }),
  githubOwner: ruled("githubOwner", false, {
    description: "GitHub owner (user/organisation) of the plugin repository.",
    stacks: BOTH,
  }),
  githubRepository: ruled("githubRepository", false, {
    description: "GitHub repository name, without owner.",
    stacks: BOTH,
  }),
  githubOwnerId: ruled("githubOwnerId", true, {
    default: "",
    description: "Numeric GitHub owner ID (required by identity).",
    stacks: PROD,
  }),
  githubRepositoryId: ruled("githubRepositoryId", true, {
    default: "",
    description: "Numeric GitHub repository ID (required by identity).",
    stacks: PROD,
  }),
  defaultBranch: ruled("branch", false, {
    default: "main",
    description: "Default branch (preview identity).",
    stacks: PROD,
  }),
  wifPoolId: ruled("wifId", false, {
    default: "github-actions",
    description: "Workload Identity Pool ID.",
    stacks: PROD,
  }),
  wifProviderId: ruled("wifId", false, {
    default: "github",
    description: "Workload Identity Pool Provider ID.",
    stacks: PROD,
  }),
  stateBucket: ruled("bucket", true, {
    default: "",
    description: "GCS bucket (name only) with the Pulumi state; required by repo settings.",
    stacks: PROD,
  }),
  allowServiceAccountKeys: flag({
    default: false,
    description: "Allow service-account JSON keys (discouraged).",
    stacks: PROD,
  }),
  enableIdentity: flag({
    default: true,
    description: "Create Workload Identity Federation.",
    stacks: BOTH,
    note: "local: false",
  }),
  enableRegistries: flag({
    default: true,
    description: "Create the Artifact Registry repo gcr.io.",
    stacks: BOTH,
    note: "local: false",
  }),
  enableRepoSettings: flag({
    default: true,
    description: "Manage GitHub Actions variables/secrets, environment and tag ruleset.",
    stacks: BOTH,
    note: "local: false",
  }),
  enableImage: flag({ default: true, description: "Build and push the plugin image.", stacks: BOTH }),
  gcr: flag({
    default: true,
    description: "Push the image to gcr.io/<project>/<imageName>.",
    stacks: BOTH,
    note: "local: false",
  }),
  ghcr: flag({
    default: true,
    description: "Push the image to ghcr.io/<owner>/<imageName>.",
    stacks: BOTH,
    note: "local: false",
  }),
  gcrPublic: flag({
    default: true,
    description:
      "Anyone may pull from gcr.io without credentials: the registries component grants allUsers roles/artifactregistry.reader on the whole Artifact Registry repository gcr.io (applied by the platform team's pulumi up).",
    stacks: PROD,
  }),
  ghcrPublic: flag({
    default: true,
    description:
      "The ghcr.io package is meant to be public. No API can set it: the release checks an anonymous pull and the Release body names the package settings page when it is not public.",
    stacks: PROD,
  }),
  localRegistry: {
    type: "string",
    default: "",
    description: "Extra registry host:port without credentials, e.g. 127.0.0.1:5000.",
    expected: RULES.hostPort.expected,
    stacks: LOCAL,
    optional: true,
    parse: (raw: string) => {
      const port = Number(/:([0-9]+)$/.exec(raw)?.[1] ?? "0");
      if (!RULES.hostPort.test(raw)) return refuse();
      return port >= 1 && port <= 65535 ? raw : refuse("a port between 1 and 65535");
    },
  },
  imageName: ruled("imageName", false, { default: "cq-source-s3", description: "Image name.", stacks: BOTH }),
  platforms: {
    type: "string",
    default: '["linux/amd64","linux/arm64"]',
    description: "JSON list of target platforms os/arch.",
    expected: PLATFORMS_EXPECTED,
    stacks: BOTH,
    optional: false,
    parse: parsePlatforms,
  },
  version: {
    type: "string",
    default: "",
    description: "Release version (semver, leading v optional).",
    expected: `a semantic version such as ${RELEASE_TAG_PREFIX}1.2.3 or 1.2.3-rc.1`,
    stacks: BOTH,
    note: RELEASE_WORKFLOW_NOTE,
    optional: true,
    parse: (raw: string) => normaliseVersion(raw, RELEASE_TAG_PREFIX) ?? refuse(),
  },
  commit: {
    ...ruled("commit", true, {
      default: "",
      description: "Commit sha (hex, 7-40 chars).",
      stacks: BOTH,
      note: RELEASE_WORKFLOW_NOTE,
    }),
    parse: (raw: string) => (RULES.commit.test(raw) ? raw.toLowerCase() : refuse()),
  },
  commitTime: {
    type: "string",
    default: "",
    description: "Commit time, RFC 3339 (OCI created label).",
    expected: "an RFC 3339 time such as 2025-01-02T03:04:05Z",
    stacks: BOTH,
    note: RELEASE_WORKFLOW_NOTE,
    optional: true,
    parse: (raw: string) => (rfc3339Seconds(raw) === undefined ? refuse() : raw),
  },
  releasedVersions: {
    type: "string",
    default: "[]",
    description: "JSON array of every existing release tag (decides latest / vX.Y).",
    expected: 'a JSON array of tags such as ["v1.0.0","v1.1.0"]',
    stacks: BOTH,
    note: RELEASE_WORKFLOW_NOTE,
    optional: false,
    parse: (raw: string): readonly string[] | Invalid => parseStringList(raw) ?? refuse(),
  },
  rollbackTo: {
    type: "string",
    default: "",
    description:
      "Stable release tag to roll latest and its vX.Y back to: the release run of exactly this version takes them, reusing its images (docs/release.md, Rollback).",
    expected: `a stable release tag such as ${RELEASE_TAG_PREFIX}1.2.2 (no pre-release)`,
    stacks: BOTH,
    note: "release workflow, from the ROLLBACK_TO variable",
    optional: true,
    parse: (raw: string) => {
      const v = normaliseVersion(raw, RELEASE_TAG_PREFIX);
      return v !== undefined && semver.prerelease(v.slice(RELEASE_TAG_PREFIX.length)) === null ? v : refuse();
    },
  },
  reusePlatformDigests: {
    type: "string",
    default: "",
    description:
      "Set by the release's exact-tag guard, never by hand: JSON object platform → digest of this commit's images already in every registry; the image is re-tagged from them, nothing is built.",
    expected: REUSE_EXPECTED,
    stacks: BOTH,
    note: "release workflow, exact-tag guard",
    optional: true,
    parse: parsePlatformDigests,
  },
  ghcrUsername: {
    ...ruled("githubOwner", false, {
      default: "",
      description: "ghcr.io username; defaults to githubOwner.",
      stacks: PROD,
      note: RELEASE_WORKFLOW_NOTE,
    }),
    expected: "a GitHub user name (letters, digits, single hyphens)",
    defaultFrom: "githubOwner",
  },
  ghcrToken: secret({
    description: "ghcr.io token (set with --secret).",
    stacks: PROD,
    note: "release workflow, secret",
  }),
  cache: flag({ default: true, description: "Use registry (and gha) build cache.", stacks: BOTH }),
  builder: ruled("builder", true, {
    default: "",
    description: "buildx builder name, e.g. local.",
    stacks: LOCAL,
  }),
  builderImage: ruled("imageRef", true, {
    default: "",
    description: "BUILDER_IMAGE build-arg override.",
    stacks: LOCAL,
  }),
  runtimeImage: ruled("imageRef", true, {
    default: "",
    description: "RUNTIME_IMAGE build-arg override.",
    stacks: LOCAL,
  }),
  pulumiConfigPassphrase: secret({
    description: "Passphrase stored as Actions secret PULUMI_CONFIG_PASSPHRASE (set with --secret).",
    stacks: PROD,
    note: "secret",
  }),
  hubPublish: flag({
    default: false,
    description:
      "Publish every release to the CloudQuery Hub too (`cloudquery plugin publish --finalize`, the registry: cloudquery door); the plugin must first be created on the Hub. Off: the other doors only.",
    stacks: PROD,
  }),
  cloudqueryApiKey: secret({
    description:
      "CloudQuery Hub API key of the plugin's team, stored as Actions secret CLOUDQUERY_API_KEY for the release's Hub publish (set with --secret).",
    stacks: PROD,
    note: "secret; with hubPublish",
  }),
} as const;

type ConfigKeys = typeof CONFIG_KEYS;
export type ConfigKey = keyof ConfigKeys;
type ValueOf<D> = D extends { readonly parse: (raw: string) => infer T } ? Exclude<T, Invalid> : never;
type OptionalKey = {
  [K in ConfigKey]: ConfigKeys[K] extends { readonly optional: true } ? K : never;
}[ConfigKey];

/**
 * The validated configuration of one stack: one field per key of {@link CONFIG_KEYS} (described
 * there), optional where the key may be unset.
 */
export type StackConfig = { readonly [K in Exclude<ConfigKey, OptionalKey>]: ValueOf<ConfigKeys[K]> } & {
  readonly [K in OptionalKey]?: ValueOf<ConfigKeys[K]>;
};

/** Where config values come from; `loadConfig` binds it to `pulumi.Config`, tests to a table. */
export interface ConfigSource {
  /** The raw value of a plain key, or undefined. An empty string counts as unset. */
  get(key: string): string | undefined;
  /** A secret key as a secret Output, or undefined when unset or empty. */
  getSecret(key: string): pulumi.Output<string> | undefined;
  /** Keys present in the project namespace (without prefix), to reject typos. Optional. */
  keys?: readonly string[];
}

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

/** A rule across keys, checked once every key parsed: the problem, or undefined when it holds. */
export type CrossFieldRule = (cfg: StackConfig, isSet: (key: ConfigKey) => boolean) => string | undefined;

/** `key` must be set when every one of `when` is true; the reason names the last of them. */
function requires(key: ConfigKey, ...when: ConfigKey[]): CrossFieldRule {
  const hint =
    CONFIG_KEYS[key].type === "string" && "secret" in CONFIG_KEYS[key] ? " (set it with --secret)" : "";
  return (cfg, isSet) =>
    when.every((w) => cfg[w] === true) && !isSet(key)
      ? missing(key, `${when[when.length - 1]} is true${hint}`)
      : undefined;
}

/** The rules across keys, in the order their problems are reported (docs/configuration.md lists them). */
export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  requires("gcpProject", "enableIdentity"),
  requires("githubOwnerId", "enableIdentity"),
  requires("githubRepositoryId", "enableIdentity"),
  requires("gcpProject", "enableRegistries"),
  // The variables it writes come from the identity component.
  (cfg) =>
    cfg.enableRepoSettings && !cfg.enableIdentity
      ? invalid(
          "enableRepoSettings",
          "true",
          "false when enableIdentity is false (it publishes identity names)",
        )
      : undefined,
  requires("stateBucket", "enableRepoSettings"),
  requires("pulumiConfigPassphrase", "enableRepoSettings"),
  requires("cloudqueryApiKey", "enableRepoSettings", "hubPublish"),
  (cfg, isSet) =>
    cfg.enableImage && !cfg.gcr && !cfg.ghcr && !isSet("localRegistry")
      ? invalid("enableImage", "true", "at least one registry: gcr, ghcr or localRegistry")
      : undefined,
  requires("gcpProject", "enableImage", "gcr"),
  requires("ghcrToken", "enableImage", "ghcr"),
  requires("version", "enableImage"),
  requires("commit", "enableImage"),
  requires("commitTime", "enableImage"),
  // Reuse joins exactly the platforms the program would build, no more, no fewer.
  (cfg) => {
    const reuse = cfg.reusePlatformDigests;
    // An invalid `platforms` is reported by itself (and leaves the field unset).
    if (reuse === undefined || (cfg.platforms as readonly string[] | undefined) === undefined)
      return undefined;
    const given = Object.keys(reuse).sort();
    const want = [...cfg.platforms].sort();
    return given.length === want.length && given.every((p, i) => p === want[i])
      ? undefined
      : invalid(
          "reusePlatformDigests",
          JSON.stringify(reuse),
          `a digest for each of platforms ${JSON.stringify(cfg.platforms)} and no other`,
        );
  },
];

/**
 * Validates the whole stack configuration. Pure apart from passing secret Outputs through.
 * Throws a ConfigError listing every problem; never returns a half-valid config.
 */
export function parseConfig(source: ConfigSource): StackConfig {
  const problems: string[] = [];
  for (const k of source.keys ?? []) {
    if (!(k in CONFIG_KEYS)) {
      problems.push(`${PROJECT}:${k}: unknown config key (known: see docs/configuration.md)`);
    }
  }

  const values: Record<string, unknown> = {};
  const set = new Set<ConfigKey>();
  for (const [key, def] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown, boolean>][]) {
    if (def.secret === true) {
      values[key] = source.getSecret(key);
      if (values[key] !== undefined) set.add(key);
      continue;
    }
    const given = source.get(key) ?? "";
    const raw = given !== "" ? given : def.default === undefined ? "" : String(def.default);
    if (raw === "") {
      if (def.default === undefined) problems.push(`${PROJECT}:${key}: missing: expected ${def.expected}`);
      continue;
    }
    set.add(key);
    const parsed = def.parse(raw);
    if (isInvalid(parsed)) {
      problems.push(invalid(key, raw, parsed.expected ?? def.expected));
    } else {
      values[key] = parsed;
    }
  }
  for (const [key, def] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown, boolean>][]) {
    if (def.defaultFrom !== undefined && values[key] === undefined) values[key] = values[def.defaultFrom];
  }
  const cfg = values as StackConfig;
  for (const rule of CROSS_FIELD_RULES) {
    const problem = rule(cfg, (key) => set.has(key));
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return cfg;
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
