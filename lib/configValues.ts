// The structured values of the stack config, parsed: a release version (strict semver, optional tag
// prefix), an RFC 3339 time, a JSON list of strings, a platform list, a platform → digest map. Each
// parser returns the value or an Invalid whose `expected` completes the config's "expected …"
// message; lib/config.ts names the key. normaliseVersion and rfc3339Seconds are also the release
// steps' (tooling/releaseSteps.ts) and the image's build args' (lib/stackArgs.ts). Pure; tested in
// test/config.test.ts.
import * as semver from "semver";

/** A value a parser refused; `expected` completes "expected …" (defaults to the key's text). */
export interface Invalid {
  readonly invalid: true;
  readonly expected?: string;
}
export const refuse = (expected?: string): Invalid => ({ invalid: true, expected });
export const isInvalid = (v: unknown): v is Invalid => typeof v === "object" && v !== null && "invalid" in v;

/** Parses a JSON list of strings; undefined when malformed. */
export function parseStringList(raw: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.every((e) => typeof e === "string")) {
      return v as string[];
    }
  } catch {
    // reported by the caller with the key name
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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Seconds since the epoch of an RFC 3339 time, or undefined when it is not a valid RFC 3339 time. */
export function rfc3339Seconds(raw: string): number | undefined {
  const m = RFC3339.exec(raw);
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

const KNOWN_OS = ["linux"];
// The architectures both docker-build (its Platform enum) and distroless static publish.
const KNOWN_ARCH = ["amd64", "arm64", "arm", "386", "ppc64le", "riscv64", "s390x"];
export const PLATFORMS_EXPECTED =
  'a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]';

/** Parses `platforms`: a JSON list of distinct known `os/arch`. */
export function parsePlatforms(raw: string): string[] | Invalid {
  const list = parseStringList(raw);
  if (list === undefined || list.length === 0) return refuse();
  for (const p of list) {
    const [os, ...rest] = p.split("/");
    const arch = rest.join("/");
    if (!KNOWN_OS.includes(os)) {
      return refuse(`${PLATFORMS_EXPECTED}; unsupported os "${os}" (supported: ${KNOWN_OS.join(", ")})`);
    }
    if (!KNOWN_ARCH.includes(arch)) {
      return refuse(
        `${PLATFORMS_EXPECTED}; unsupported arch "${arch}" (supported: ${KNOWN_ARCH.join(", ")})`,
      );
    }
  }
  if (new Set(list).size !== list.length) return refuse(`${PLATFORMS_EXPECTED}; no duplicates`);
  return list;
}

/** A manifest digest as registries name content: `sha256:` and 64 lowercase hex digits. */
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
export const REUSE_EXPECTED =
  'a JSON object of platform → digest, e.g. {"linux/amd64":"sha256:<64 hex>","linux/arm64":"sha256:<64 hex>"}';

/** Parses `reusePlatformDigests`: known platforms (as in `platforms`) to `sha256:` digests. */
export function parsePlatformDigests(raw: string): Readonly<Record<string, string>> | Invalid {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return refuse();
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return refuse();
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return refuse();
  const platforms = parsePlatforms(JSON.stringify(entries.map(([p]) => p)));
  if (isInvalid(platforms)) {
    return refuse(`${REUSE_EXPECTED}; its keys: ${platforms.expected ?? PLATFORMS_EXPECTED}`);
  }
  for (const [p, d] of entries) {
    if (typeof d !== "string" || !DIGEST_RE.test(d)) {
      return refuse(`${REUSE_EXPECTED}; the digest of ${p} is not sha256:<64 hex>`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
