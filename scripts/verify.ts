// `npm run verify -- <repository>@sha256:<digest> [options]`: checks a release image's evidence
// with cosign (docs/release.md, "Verify a release"):
//   1. signature    signed by the release workflow at a v* tag of the repository, GitHub's OIDC
//                   issuer (keyless; Rekor-logged) — or by --key (the offline rehearsal);
//   2. provenance   an SLSA v1 provenance attestation about this digest, same identity, naming
//                   this repository (and --repository-id), at --commit when given;
//   3. SBOM         an SPDX attestation, same identity, for every platform manifest the
//                   provenance lists.
// `npm run verify -- <file or folder> [--evidence <folder>] [options]`: the same three for a
// downloaded zip, checksums.txt or Hub package folder (scripts/lib/verifyFiles.ts).
// Options: --key <cosign.pub>, --repository <owner/name> and --repository-id <n> (default: the
// prod stack's githubOwner/githubRepository and githubRepositoryId, Pulumi.prod.yaml),
// --commit <40 hex>, --server-url <url>.
// Exit 0 when every check passes; otherwise the first failure's message and its status:
// 2 usage, 3 could not check (registry, network or TLS: no verdict), 10 signature, 11 provenance,
// 12 repository, 13 commit, 14 SBOM (tooling/evidence.ts). The report names every check not made.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

import * as yaml from "js-yaml";

import {
  checkProvenance,
  checkSboms,
  statementsFromCosignOutput,
  VERIFY_EXIT,
  VerifyFailure,
  cosignUnreachable,
  type Expectation,
} from "../tooling/evidence";
import { identityFlags } from "../lib/release";
import { verifyFiles } from "./lib/verifyFiles";

const REF_RE = /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/;

class UsageError extends Error {}

/** The repository releases come from (and its numeric id), as the prod stack configures it. */
function prodRepository(): { repository?: string; repositoryId?: string } {
  try {
    const file = path.join(__dirname, "..", "Pulumi.prod.yaml");
    const config =
      (yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
    const get = (key: string) => {
      const v = config[`cq-source-s3-release:${key}`];
      return typeof v === "string" ? v : undefined;
    };
    const owner = get("githubOwner");
    const name = get("githubRepository");
    return {
      repository: owner !== undefined && name !== undefined ? `${owner}/${name}` : undefined,
      repositoryId: get("githubRepositoryId"),
    };
  } catch {
    return {};
  }
}

function cosign(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(process.env.COSIGN ?? "cosign", args, { encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.error !== undefined) throw new UsageError(`cannot run cosign: ${r.error.message}`);
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

/** The last meaningful line of cosign's stderr (its error), for the failure message. */
function reason(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^WARNING/i.test(l));
  return lines.at(-1) ?? "cosign failed";
}

function verify(argv: string[]): string[] {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: "string" },
      repository: { type: "string" },
      "repository-id": { type: "string" },
      commit: { type: "string" },
      "server-url": { type: "string" },
      evidence: { type: "string" },
    },
  });
  const isFile = positionals.length === 1 && !REF_RE.test(positionals[0]) && existsSync(positionals[0]);
  if (positionals.length !== 1 || !(REF_RE.test(positionals[0]) || isFile)) {
    throw new UsageError(
      `usage: npm run verify -- <repository>@sha256:<digest> | <zip, checksums.txt or package folder> ` +
        `[--evidence DIR] [--key K] [--repository owner/name] ` +
        `[--repository-id N] [--commit SHA] (got ${JSON.stringify(positionals.join(" "))}); ` +
        "verify by digest, never by tag",
    );
  }
  if (values.evidence !== undefined && !isFile)
    throw new UsageError("--evidence is for a file or folder, not an image");
  const ref = positionals[0];
  // Without --repository, the prod stack's repository and its id; an explicit repository has no
  // default id (the prod one would belong to another repository).
  const prod = values.repository === undefined ? prodRepository() : {};
  const repository = values.repository ?? prod.repository;
  if (repository === undefined) throw new UsageError("--repository owner/name is required");
  const repositoryId = values["repository-id"] ?? prod.repositoryId;
  if (values.commit !== undefined && !/^[0-9a-f]{40}$/.test(values.commit)) {
    throw new UsageError(`--commit must be a full 40-hex commit sha, got ${JSON.stringify(values.commit)}`);
  }
  if (repositoryId !== undefined && !/^[0-9]+$/.test(repositoryId)) {
    throw new UsageError(`--repository-id must be numeric, got ${JSON.stringify(repositoryId)}`);
  }
  const expect: Expectation = {
    digest: isFile ? "" : ref.slice(ref.lastIndexOf("@") + 1),
    serverUrl: (values["server-url"] ?? "https://github.com").replace(/\/+$/, ""),
    repository,
    repositoryId,
    commit: values.commit,
  };
  const identity = identityFlags({ key: values.key, serverUrl: expect.serverUrl, repository });
  const report: string[] = [];

  // A cosign failure is a verdict only when cosign could check: otherwise exit 3, not 10/11/14.
  const checked = (r: { ok: boolean; stderr: string }, kind: VerifyFailure["kind"], what: string) => {
    if (r.ok) return;
    const unreachable = cosignUnreachable(r.stderr);
    if (unreachable !== undefined) {
      throw new VerifyFailure(
        "unreachable",
        `could not check the ${what} of ${ref} (no verdict): ${unreachable}`,
      );
    }
    throw new VerifyFailure(kind, `no valid ${what} for ${ref}: ${reason(r.stderr)}`);
  };
  // Every check not made, and why.
  const notChecked = () => {
    const lines: string[] = [];
    if (expect.commit === undefined) lines.push("not checked: the commit (pass --commit <sha>)");
    if (expect.repositoryId === undefined) {
      lines.push(
        `not checked: the repository id (${values.repository !== undefined ? "--repository given without --repository-id" : "none configured"}; ` +
          "pass --repository-id <n>: a deleted and re-created repository of the same name has another id)",
      );
    }
    return lines;
  };
  if (isFile) {
    return [
      ...verifyFiles(ref, { evidence: values.evidence, identity, expect }, cosign, checked),
      ...notChecked(),
    ];
  }

  checked(cosign(["verify", ...identity, ref]), "signature", "signature");
  report.push(
    `signature: ok (${values.key !== undefined ? `key ${values.key}; transparency log not checked: a key was given` : `release workflow of ${repository}`})`,
  );

  const prov = cosign(["verify-attestation", "--type", "slsaprovenance1", ...identity, ref]);
  checked(prov, "provenance", "SLSA provenance attestation");
  const facts = checkProvenance(statementsFromCosignOutput(prov.stdout), expect);
  report.push(
    `provenance: ok (repository ${repository} id ${facts.repositoryId}, ${facts.ref} at ${facts.commit}; builder ${facts.builderId})`,
  );
  report.push(...notChecked());

  const sbom = cosign(["verify-attestation", "--type", "spdxjson", ...identity, ref]);
  checked(sbom, "sbom", "SPDX SBOM attestation");
  for (const line of checkSboms(statementsFromCosignOutput(sbom.stdout), expect, facts)) {
    report.push(`sbom: ok (${line})`);
  }
  return report;
}

try {
  for (const line of verify(process.argv.slice(2))) console.log(line);
  console.log("verified");
} catch (err) {
  if (err instanceof VerifyFailure) {
    console.error(`verify: ${err.kind}: ${err.message}`);
    process.exit(VERIFY_EXIT[err.kind]);
  }
  console.error(`verify: ${(err as Error).message}`);
  process.exit(2);
}
