// Supply-chain evidence of a release (docs/release.md, "Evidence"): the SLSA v1 provenance
// predicate the release attests, the digest-pinned base images it names, and the checks
// `npm run verify` applies to what cosign has verified. Pure: the I/O is in
// scripts/release/evidence.sh (syft, cosign attest) and scripts/verify.ts (cosign verify).
import { builderId, RELEASE_WORKFLOW_PATH } from "../lib/release";

/** in-toto Statement types: cosign v3 still writes v0.1 (same shape as v1 for what is read here). */
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const IN_TOTO_STATEMENT_TYPES: readonly string[] = [
  IN_TOTO_STATEMENT_V1,
  "https://in-toto.io/Statement/v0.1",
];
/** The predicate types the release attests. */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** What cosign writes as predicateType for `--type spdxjson`. */
export const SPDX_PREDICATE_TYPE = "https://spdx.dev/Document";

/** The Dockerfile's base-image build args, in the order they are used. */
export const BASE_IMAGE_ARGS = ["BUILDER_IMAGE", "RUNTIME_IMAGE"] as const;

/** Raised for a bad input of the evidence steps; the message names the input and the value. */
export class EvidenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvidenceError";
  }
}

/** An SLSA ResourceDescriptor (only the fields used here). */
export interface ResourceDescriptor {
  readonly uri?: string;
  readonly name?: string;
  readonly digest: Readonly<Record<string, string>>;
}

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;
const COMMIT_RE = /^[0-9a-f]{40}$/;
const REPO_RE = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;

/**
 * The base images of a build: each of {@link BASE_IMAGE_ARGS} from `buildArgs` when set, else
 * the `ARG NAME=default` of the Dockerfile. Each must be pinned by digest, or provenance could
 * not say what was built on.
 */
export function baseImages(
  dockerfile: string,
  buildArgs: Readonly<Record<string, string>>,
): ResourceDescriptor[] {
  const defaults = new Map<string, string>();
  for (const line of dockerfile.split("\n")) {
    const m = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$/i.exec(line);
    if (m !== null && !defaults.has(m[1])) defaults.set(m[1], m[2]);
  }
  return BASE_IMAGE_ARGS.map((name) => {
    const ref = buildArgs[name] ?? defaults.get(name);
    if (ref === undefined) {
      throw new EvidenceError(`base image ${name}: neither a build arg nor an ARG default in the Dockerfile`);
    }
    const at = ref.lastIndexOf("@");
    // No image name before the "@" is no image either.
    const digest = at <= 0 ? null : DIGEST_RE.exec(ref.slice(at + 1));
    if (digest === null) {
      throw new EvidenceError(
        `base image ${name} ${JSON.stringify(ref)} is not pinned by digest (<image>@sha256:<64 hex>)`,
      );
    }
    return { name, uri: `oci://${ref.slice(0, at)}`, digest: { sha256: digest[1] } };
  });
}

/** Everything the provenance of one release says. */
export interface ProvenanceInput {
  /** `https://github.com`. */
  readonly serverUrl: string;
  /** `owner/name`. */
  readonly repository: string;
  /** GitHub's numeric repository id (survives renames and transfers; names do not). */
  readonly repositoryId: string;
  readonly repositoryOwnerId?: string;
  /** `refs/tags/v1.2.3`. */
  readonly ref: string;
  /** Full commit sha of the tag. */
  readonly commit: string;
  readonly runId: string;
  readonly runAttempt: string;
  readonly eventName?: string;
  /** `github-hosted` or `self-hosted`. */
  readonly runnerEnvironment?: string;
  readonly version: string;
  readonly platforms: readonly string[];
  /** Platform (`linux/arm64`) → its manifest digest inside the index. */
  readonly platformDigests: Readonly<Record<string, string>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly baseImages: readonly ResourceDescriptor[];
  /** Tool → version (pulumi, docker-build, buildkit, syft, cosign, …). */
  readonly toolchain: Readonly<Record<string, string>>;
}

/** The `buildType` of this project's releases (what the external parameters mean). */
export function buildType(serverUrl: string, repository: string): string {
  return `${serverUrl}/${repository}/blob/main/docs/release.md#evidence`;
}

function need(name: string, value: string | undefined, re: RegExp): string {
  if (value === undefined || !re.test(value)) {
    throw new EvidenceError(`provenance: ${name} ${JSON.stringify(value)} is not valid`);
  }
  return value;
}

/** The SLSA v1 provenance predicate of a release (cosign wraps it into the in-toto statement). */
export function provenancePredicate(input: ProvenanceInput): Record<string, unknown> {
  need("serverUrl", input.serverUrl, /^https:\/\/[A-Za-z0-9.-]+(:[0-9]+)?$/);
  need("repository", input.repository, REPO_RE);
  need("repositoryId", input.repositoryId, /^[0-9]+$/);
  need("ref", input.ref, /^refs\/tags\/v\S+$/);
  need("commit", input.commit, COMMIT_RE);
  need("runId", input.runId, /^[0-9]+$/);
  need("runAttempt", input.runAttempt, /^[0-9]+$/);
  const byproducts = input.platforms.map((platform): ResourceDescriptor => {
    const m = DIGEST_RE.exec(input.platformDigests[platform] ?? "");
    if (m === null) {
      throw new EvidenceError(
        `provenance: platform ${platform} has no manifest digest (got ${JSON.stringify(input.platformDigests[platform])})`,
      );
    }
    return { name: platform, digest: { sha256: m[1] } };
  });
  // Every tool named must carry its version: an empty one says nothing a consumer can check.
  for (const [tool, version] of Object.entries(input.toolchain)) {
    if (
      typeof version !== "string" ||
      version.trim() === "" ||
      version === "null" ||
      version === "undefined"
    ) {
      throw new EvidenceError(
        `provenance: toolchain.${tool} has no version (got ${JSON.stringify(version)})`,
      );
    }
  }
  const repoUrl = `${input.serverUrl}/${input.repository}`;
  const github: Record<string, string> = { repository_id: input.repositoryId };
  if (input.repositoryOwnerId !== undefined) github.repository_owner_id = input.repositoryOwnerId;
  if (input.eventName !== undefined) github.event_name = input.eventName;
  if (input.runnerEnvironment !== undefined) github.runner_environment = input.runnerEnvironment;
  return {
    buildDefinition: {
      buildType: buildType(input.serverUrl, input.repository),
      externalParameters: {
        workflow: { ref: input.ref, repository: repoUrl, path: RELEASE_WORKFLOW_PATH },
        version: input.version,
        platforms: [...input.platforms],
        buildArgs: { ...input.buildArgs },
      },
      internalParameters: { github },
      resolvedDependencies: [
        { uri: `git+${repoUrl}@${input.ref}`, digest: { gitCommit: input.commit } },
        ...input.baseImages,
      ],
    },
    runDetails: {
      builder: {
        id: builderId(input.serverUrl, input.repository, input.ref),
        version: { ...input.toolchain },
      },
      metadata: {
        invocationId: `${repoUrl}/actions/runs/${input.runId}/attempts/${input.runAttempt}`,
      },
      byproducts,
    },
  };
}

/** What a consumer expects of a release image. */
export interface Expectation {
  readonly digest: string;
  readonly serverUrl: string;
  readonly repository: string;
  readonly repositoryId?: string;
  readonly commit?: string;
}

/** What the verified provenance says, for the verify report. */
export interface ProvenanceFacts {
  readonly commit: string;
  readonly ref: string;
  readonly repositoryId: string;
  readonly builderId: string;
  /** Platform → manifest digest: each needs its SBOM. */
  readonly platformDigests: Record<string, string>;
}

/**
 * A failed check: `kind` selects the exit status of `npm run verify`. `unreachable` is no verdict:
 * cosign could not reach or read the evidence (network, TLS, registry errors, no such image).
 */
export class VerifyFailure extends Error {
  constructor(
    readonly kind: "unreachable" | "signature" | "provenance" | "repository" | "commit" | "sbom",
    message: string,
  ) {
    super(message);
    this.name = "VerifyFailure";
  }
}

/** Exit status of `npm run verify` per failure kind (0 = verified, 2 = usage). */
export const VERIFY_EXIT: Readonly<Record<VerifyFailure["kind"], number>> = {
  unreachable: 3,
  signature: 10,
  provenance: 11,
  repository: 12,
  commit: 13,
  sbom: 14,
};

/**
 * Cosign's stderr when it could not check at all, so a failure is not taken for a verdict: what it
 * says about the registry or the network (TLS, DNS, connection, timeouts, 5xx, denied access, no
 * such image), or undefined when it checked and the evidence did not match.
 */
export function cosignUnreachable(stderr: string): string | undefined {
  // Cosign's verdicts first: a lookup of a `sha256-….sig` tag that is not there (MANIFEST_UNKNOWN)
  // is how it finds no signature on a registry without the referrers API.
  const verdicts = [
    /no signatures found/,
    /no matching (?:signatures|attestations)/,
    /none of the expected identities/,
    /invalid signature/,
  ];
  if (verdicts.some((re) => re.test(stderr))) return undefined;
  const patterns = [
    /x509: [^\n]*/,
    /tls: [^\n]*/i,
    /dial tcp[^\n]*/,
    /no such host[^\n]*/,
    /connection refused[^\n]*/,
    /i\/o timeout[^\n]*/,
    /context deadline exceeded[^\n]*/,
    /\b(?:500|502|503|504) [A-Z][a-z]+[^\n]*/,
    /\b(?:UNAUTHORIZED|DENIED|MANIFEST_UNKNOWN|NAME_UNKNOWN)\b[^\n]*/,
  ];
  for (const re of patterns) {
    const m = re.exec(stderr);
    if (m !== null) return m[0].trim();
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) cur = isRecord(cur) ? cur[p] : undefined;
  return cur;
}

/** The in-toto statements in `cosign verify-attestation` output (one DSSE envelope per line). */
export function statementsFromCosignOutput(stdout: string): unknown[] {
  const out: unknown[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    let envelope: unknown;
    try {
      envelope = JSON.parse(line);
    } catch {
      continue; // cosign's human-readable lines
    }
    const payload = at(envelope, "payload") ?? at(envelope, "dsseEnvelope", "payload");
    if (typeof payload !== "string") continue;
    try {
      out.push(JSON.parse(Buffer.from(payload, "base64").toString("utf8")));
    } catch {
      continue;
    }
  }
  return out;
}

function subjectHasDigest(statement: unknown, digest: string): boolean {
  const hex = DIGEST_RE.exec(digest)?.[1];
  const subject = at(statement, "subject");
  return Array.isArray(subject) && subject.some((s) => at(s, "digest", "sha256") === hex);
}

/**
 * Checks the verified provenance statements of `expect.digest`: one must be SLSA v1 about this
 * digest, from this repository (and id, when given), at this commit (when given).
 */
export function checkProvenance(statements: readonly unknown[], expect: Expectation): ProvenanceFacts {
  const ours = statements.filter(
    (s) =>
      at(s, "predicateType") === SLSA_PROVENANCE_V1 &&
      IN_TOTO_STATEMENT_TYPES.includes(String(at(s, "_type"))) &&
      subjectHasDigest(s, expect.digest),
  );
  if (ours.length === 0) {
    throw new VerifyFailure("provenance", `no SLSA v1 provenance about ${expect.digest} is attached`);
  }
  // Several (a re-run attests again): every one must agree, the last reported.
  let facts: ProvenanceFacts | undefined;
  for (const s of ours) {
    const p = at(s, "predicate");
    const deps = at(p, "buildDefinition", "resolvedDependencies");
    const git = Array.isArray(deps)
      ? deps.find((d) => typeof at(d, "uri") === "string" && (at(d, "uri") as string).startsWith("git+"))
      : undefined;
    const uri = String(at(git, "uri") ?? "");
    const commit = String(at(git, "digest", "gitCommit") ?? "");
    const repoUrl = `${expect.serverUrl}/${expect.repository}`;
    if (!uri.startsWith(`git+${repoUrl}@`)) {
      throw new VerifyFailure(
        "repository",
        `provenance names source ${JSON.stringify(uri)}, expected a ref of git+${repoUrl}`,
      );
    }
    const repositoryId = String(
      at(p, "buildDefinition", "internalParameters", "github", "repository_id") ?? "",
    );
    if (expect.repositoryId !== undefined && repositoryId !== expect.repositoryId) {
      throw new VerifyFailure(
        "repository",
        `provenance names repository id ${JSON.stringify(repositoryId)}, expected ${expect.repositoryId}`,
      );
    }
    if (!COMMIT_RE.test(commit)) {
      throw new VerifyFailure("provenance", `provenance names no commit (got ${JSON.stringify(commit)})`);
    }
    if (expect.commit !== undefined && commit !== expect.commit) {
      throw new VerifyFailure("commit", `provenance names commit ${commit}, expected ${expect.commit}`);
    }
    const platformDigests: Record<string, string> = {};
    const byproducts = at(p, "runDetails", "byproducts");
    for (const b of Array.isArray(byproducts) ? byproducts : []) {
      const hex = at(b, "digest", "sha256");
      if (typeof at(b, "name") === "string" && typeof hex === "string") {
        platformDigests[at(b, "name") as string] = `sha256:${hex}`;
      }
    }
    if (Object.keys(platformDigests).length === 0) {
      throw new VerifyFailure("provenance", "provenance lists no platform manifests (runDetails.byproducts)");
    }
    facts = {
      commit,
      ref: uri.slice(`git+${repoUrl}@`.length),
      repositoryId,
      builderId: String(at(p, "runDetails", "builder", "id") ?? ""),
      platformDigests,
    };
  }
  return facts as ProvenanceFacts;
}

/**
 * Checks the verified SPDX statements of the index: every platform manifest of the provenance
 * has an SPDX document whose described image is that manifest (syft names it by digest).
 */
export function checkSboms(
  statements: readonly unknown[],
  expect: Expectation,
  facts: ProvenanceFacts,
): string[] {
  const docs = statements
    .filter((s) => at(s, "predicateType") === SPDX_PREDICATE_TYPE && subjectHasDigest(s, expect.digest))
    .map((s) => at(s, "predicate"));
  if (docs.length === 0) {
    throw new VerifyFailure("sbom", `no SPDX SBOM attestation is attached to ${expect.digest}`);
  }
  const found: string[] = [];
  for (const [platform, digest] of Object.entries(facts.platformDigests).sort()) {
    const doc = docs.find((d) => JSON.stringify(at(d, "packages") ?? []).includes(digest));
    if (doc === undefined) {
      throw new VerifyFailure("sbom", `no SPDX SBOM describes the ${platform} manifest ${digest}`);
    }
    const packages = at(doc, "packages");
    found.push(`${platform}: ${Array.isArray(packages) ? packages.length : 0} packages`);
  }
  return found;
}
