// `npm run verify -- <file or folder>`: the checks of an image ref, for the release's files — a
// downloaded zip, checksums.txt, or a package folder (docs/release.md, "Verify a release"):
//   1. signature    checksums.txt is signed by the release workflow (cosign verify-blob of its
//                   bundle); every file is covered by a signed statement: a zip must hash to its
//                   line in checksums.txt, and every file to a subject of the provenance;
//   2. provenance   the provenance bundle verifies for each file (cosign verify-blob-attestation),
//                   and names this repository (id) and commit, as for the image;
//   3. SBOM         for each binary's zip: an SPDX SBOM beside it, itself a provenance subject,
//                   describing the binary inside the zip.
// The evidence files (tooling/blobEvidence.ts) are looked for in --evidence, else beside the file
// (a folder: in it). Same statuses as for an image (tooling/evidence.ts VERIFY_EXIT).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

import {
  CHECKSUMS_BUNDLE,
  CHECKSUMS_FILE,
  parseChecksums,
  PROVENANCE_BUNDLE,
  sbomDescribes,
  sbomFile,
  statementFromBundle,
  subjectDigests,
  zipEntries,
  zipTarget,
} from "../../tooling/blobEvidence";
import { checkProvenance, type Expectation, VerifyFailure } from "../../tooling/evidence";

type CosignRun = (args: string[]) => { ok: boolean; stdout: string; stderr: string };
type Checked = (r: { ok: boolean; stderr: string }, kind: VerifyFailure["kind"], what: string) => void;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The files to verify: the file itself, or every regular file under the folder. */
function filesOf(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => !f.endsWith(".sigstore.json"))
    .sort();
}

export function verifyFiles(
  target: string,
  /** expect.digest is ignored: each file's own SHA-256 is the subject looked for. */
  opts: { evidence?: string; identity: string[]; expect: Expectation },
  cosign: CosignRun,
  checked: Checked,
): string[] {
  const evidence = opts.evidence ?? (statSync(target).isDirectory() ? target : path.dirname(target));
  const need = (name: string, kind: VerifyFailure["kind"]) => {
    const file = path.join(evidence, name);
    if (!existsSync(file)) {
      throw new VerifyFailure(
        kind,
        `no ${name} in ${evidence}: download it from the Release with the files, or pass --evidence <folder>`,
      );
    }
    return file;
  };
  const report: string[] = [];

  // 1. The signed checksums.txt, and the signed statement's subjects.
  const checksumsPath = need(CHECKSUMS_FILE, "signature");
  checked(
    cosign(["verify-blob", ...opts.identity, "--bundle", need(CHECKSUMS_BUNDLE, "signature"), checksumsPath]),
    "signature",
    `signature of ${CHECKSUMS_FILE}`,
  );
  let checksums: Map<string, string>;
  try {
    checksums = parseChecksums(readFileSync(checksumsPath, "utf8"));
  } catch (e) {
    throw new VerifyFailure("signature", `the signed ${CHECKSUMS_FILE}: ${(e as Error).message}`);
  }
  report.push(
    `signature: ok (${CHECKSUMS_FILE}, ${checksums.size} files; ${opts.identity.includes("--key") ? "key" : "release workflow"})`,
  );
  const bundlePath = need(PROVENANCE_BUNDLE, "provenance");
  const statement = statementFromBundle(readFileSync(bundlePath, "utf8"));
  const subjects = new Set(subjectDigests(statement).values());

  let provenanceReported = false;
  for (const file of filesOf(target)) {
    const name = path.basename(file);
    const bytes = readFileSync(file);
    const digest = sha256(bytes);
    const listed = checksums.get(name);
    if (listed !== undefined && listed !== digest) {
      throw new VerifyFailure(
        "signature",
        `${name} hashes to ${digest}, the signed ${CHECKSUMS_FILE} says ${listed}: not the released bytes`,
      );
    }
    if (!subjects.has(digest)) {
      throw new VerifyFailure(
        "signature",
        `no signed statement covers ${name} (sha256 ${digest}): not a file of this release`,
      );
    }
    // 2. cosign verifies the bundle (signer, and this file among its subjects); then its facts.
    checked(
      cosign([
        "verify-blob-attestation",
        ...opts.identity,
        "--type",
        "slsaprovenance1",
        "--bundle",
        bundlePath,
        file,
      ]),
      "provenance",
      `SLSA provenance of ${name}`,
    );
    const facts = checkProvenance([statement], { ...opts.expect, digest: `sha256:${digest}` });
    if (!provenanceReported) {
      report.push(
        `provenance: ok (repository ${opts.expect.repository} id ${facts.repositoryId}, ${facts.ref} at ${facts.commit}; builder ${facts.builderId})`,
      );
      provenanceReported = true;
    }

    // 3. A binary's zip: its SBOM, signed, describing the binary inside.
    const targetName = zipTarget(name);
    if (targetName === undefined) {
      const signedItself = name === CHECKSUMS_FILE && digest === sha256(readFileSync(checksumsPath));
      report.push(
        `${name}: signed (${signedItself ? "its signature and " : listed !== undefined ? `${CHECKSUMS_FILE} and ` : ""}provenance); no SBOM: not a binary`,
      );
      continue;
    }
    const sbomPath = path.join(evidence, sbomFile(targetName));
    if (!existsSync(sbomPath))
      throw new VerifyFailure("sbom", `no ${sbomFile(targetName)} in ${evidence} for ${name}`);
    const sbomBytes = readFileSync(sbomPath);
    if (!subjects.has(sha256(sbomBytes))) {
      throw new VerifyFailure("sbom", `${sbomFile(targetName)} is not covered by the signed provenance`);
    }
    let entries;
    try {
      entries = zipEntries(bytes);
    } catch (e) {
      throw new VerifyFailure("sbom", `${name}: ${(e as Error).message}`);
    }
    if (entries.length !== 1)
      throw new VerifyFailure("sbom", `${name} holds ${entries.length} entries, not the one binary`);
    const binary = sha256(entries[0].data);
    let sbom: unknown;
    try {
      sbom = JSON.parse(sbomBytes.toString("utf8"));
    } catch {
      throw new VerifyFailure("sbom", `${sbomFile(targetName)} is not JSON`);
    }
    if (!sbomDescribes(sbom, binary)) {
      throw new VerifyFailure(
        "sbom",
        `${sbomFile(targetName)} does not describe the binary of ${name} (sha256 ${binary})`,
      );
    }
    const packages = (sbom as { packages?: unknown[] }).packages;
    report.push(
      `${name}: signed; sbom: ok (${targetName}: ${Array.isArray(packages) ? packages.length : 0} packages)`,
    );
  }
  return report;
}
