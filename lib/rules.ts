// What a valid id, name, branch or bucket is: one rule per kind of value, used by the stack config
// (lib/config.ts, which names the config key), the WIF settings (lib/wif.ts) and the identity
// component, so a value is accepted or rejected the same way everywhere, and rejected first by
// the config with the key's name. Every rule excludes quotes, backslashes and spaces: the values
// end up inside CEL string literals and resource names. Pure; tested in test/rules.test.ts.

/** A kind of value: its test and the text that says what is expected. */
export interface Rule {
  readonly test: (value: string) => boolean;
  /** Completes "expected …" in error messages. */
  readonly expected: string;
}

const regex = (re: RegExp, expected: string, extra: (value: string) => boolean = () => true): Rule => ({
  test: (value) => re.test(value) && extra(value),
  expected,
});

const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** GCP rejects a mapped WIF attribute over this many bytes (`refs/heads/<branch>` must fit). */
export const MAX_ATTRIBUTE_BYTES = 127;

export const RULES = {
  gcpProject: regex(
    /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
    "a GCP project ID: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter",
  ),
  gcpRegion: regex(/^[a-z]+(?:-[a-z]+)+[0-9]+$/, "a GCP region such as us-central1"),
  // GitHub logins: alphanumerics and single hyphens, no leading/trailing hyphen, at most 39 chars.
  githubOwner: regex(
    /^(?=.{1,39}$)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/,
    "a GitHub user or organisation name (letters, digits, single hyphens, at most 39 characters)",
  ),
  githubRepository: regex(
    /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/,
    "a GitHub repository name without owner (letters, digits, '.', '_', '-')",
  ),
  githubOwnerId: regex(/^[1-9][0-9]{0,19}$/, "a numeric GitHub owner ID such as 1234567"),
  githubRepositoryId: regex(/^[1-9][0-9]{0,19}$/, "a numeric GitHub repository ID such as 765432109"),
  // A conservative subset of git's ref-name rules; `refs/heads/<branch>` must fit a WIF attribute.
  branch: regex(
    /^(?![-/.])(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)[A-Za-z0-9._/-]+(?<![/.])$/,
    `a git branch name such as main whose ref fits in ${MAX_ATTRIBUTE_BYTES} bytes (a WIF attribute)`,
    (v) => utf8Bytes(`refs/heads/${v}`) <= MAX_ATTRIBUTE_BYTES,
  ),
  // Workload identity pool and provider ids; `gcp-` is reserved by Google.
  wifId: regex(
    /^(?!gcp-)(?!-)[a-z0-9-]{4,32}(?<!-)$/,
    "4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-, not starting or ending with a hyphen",
  ),
  serviceAccountId: regex(
    /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/,
    "6-30 characters of lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen",
  ),
  bucket: regex(
    /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/,
    "a GCS bucket name without gs:// (3-63 characters: lowercase letters, digits, '.', '_', '-')",
    (v) => !v.includes(".."),
  ),
  // A tag prefix followed by the version's digit: must not end in a digit itself.
  tagPrefix: regex(
    /^(?!.*\.\.)(?!.*\/\/)[A-Za-z][A-Za-z0-9._/-]{0,31}(?<![0-9])$/,
    "a tag prefix such as v: a letter, then up to 31 letters, digits, '.', '_', '/', '-', not ending in a digit",
  ),
  workflow: regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}\.ya?ml$/, "a workflow file name such as release.yml"),
  environment: regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/, "an environment name (letters, digits, . _ -)"),
  hostPort: regex(
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*):([0-9]{1,5})$/,
    "host:port such as 127.0.0.1:5000",
  ),
  imageName: regex(
    /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/,
    "a lowercase image name such as cq-source-s3 (letters, digits, '.', '_', '-', '/')",
  ),
  commit: regex(/^[0-9a-fA-F]{7,40}$/, "a hex commit sha of 7-40 characters"),
  builder: regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "a buildx builder name such as local"),
  // registry[:port]/path[:tag][@sha256:...] — loose on purpose, but no whitespace or scheme.
  imageRef: regex(
    /^[A-Za-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/,
    "an image reference registry/path[:tag][@sha256:<64 hex>]",
  ),
} as const satisfies Record<string, Rule>;

export type RuleName = keyof typeof RULES;

/** True when `value` does not follow `rule`; a non-string never does. */
export function violates(rule: RuleName, value: unknown): boolean {
  return typeof value !== "string" || !RULES[rule].test(value);
}
