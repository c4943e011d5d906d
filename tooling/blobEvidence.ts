// Evidence for the release's files (docs/release.md, "Evidence for the zips"): every door other
// than the image is a file — the GitHub Release zips and checksums.txt, the Hub package — and gets
// the evidence the image gets, as files beside them on the Release:
//   checksums.txt.sigstore.json            cosign sign-blob of checksums.txt (keyless in the workflow)
//   cq-source-s3_provenance.sigstore.json  cosign attest-blob of one in-toto statement: the image's
//                                          SLSA v1 provenance predicate, every dist file a subject
//                                          by SHA-256 (github/<file>, hub/<file>)
//   cq-source-s3_<os>_<arch>.spdx.json     the SPDX SBOM of each binary (syft), itself a subject
// and the checks `npm run verify` applies to a downloaded zip, checksums.txt or package folder.
// Pure (bytes in, facts out): the I/O is in scripts/release/dist-evidence.sh and scripts/verify.ts.
import { inflateRawSync } from "node:zlib";

import { IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1, VerifyFailure } from "./evidence";

/** The evidence files' names, beside the zips (dist/github/, the Release assets). */
export const CHECKSUMS_FILE = "checksums.txt";
export const CHECKSUMS_BUNDLE = "checksums.txt.sigstore.json";
export const PROVENANCE_BUNDLE = "cq-source-s3_provenance.sigstore.json";

const HEX64 = /^[0-9a-f]{64}$/;
const GITHUB_ZIP = /^cq-source-s3_([a-z0-9]+)_([a-z0-9]+)\.zip$/;
const HUB_ZIP = /^plugin-[a-z0-9-]+-v[^/]+-([a-z0-9]+)-([a-z0-9]+)\.zip$/;

/** A file and its SHA-256 (lowercase hex). */
export interface Subject {
  readonly name: string;
  readonly sha256: string;
}

/** `<os>_<arch>` of a GitHub zip or a Hub zip by its file name; undefined for any other file. */
export function zipTarget(fileName: string): string | undefined {
  const m = GITHUB_ZIP.exec(fileName) ?? HUB_ZIP.exec(fileName);
  return m === null ? undefined : `${m[1]}_${m[2]}`;
}

/** The SBOM file of a binary's target: `cq-source-s3_<os>_<arch>.spdx.json`. */
export const sbomFile = (target: string): string => `cq-source-s3_${target}.spdx.json`;

/** Parses sha256sum output (`<hex>  <name>` per line); throws on anything else or a repeated name. */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *]([^/\s][^\n]*)$/.exec(line);
    if (m === null)
      throw new Error(`checksums.txt line ${i + 1} is not "<sha256>  <file>": ${JSON.stringify(line)}`);
    if (out.has(m[2])) throw new Error(`checksums.txt names ${m[2]} twice`);
    out.set(m[2], m[1]);
  }
  if (out.size === 0) throw new Error("checksums.txt is empty");
  return out;
}

/** The in-toto statement the release attests about its files: the image's provenance, these subjects. */
export function blobStatement(subjects: readonly Subject[], predicate: unknown): Record<string, unknown> {
  if (subjects.length === 0) throw new Error("no files to attest");
  const names = new Set<string>();
  for (const s of subjects) {
    if (!HEX64.test(s.sha256))
      throw new Error(`subject ${s.name}: sha256 ${JSON.stringify(s.sha256)} is not 64 hex`);
    if (names.has(s.name)) throw new Error(`subject ${s.name} appears twice`);
    names.add(s.name);
  }
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [...subjects]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate,
  };
}

/**
 * The statement inside a sigstore bundle (`dsseEnvelope.payload`). Only read after cosign has
 * verified that very bundle file, so its signature covers these bytes.
 */
export function statementFromBundle(bundleText: string): unknown {
  let bundle: { dsseEnvelope?: { payload?: unknown } };
  try {
    bundle = JSON.parse(bundleText) as typeof bundle;
  } catch {
    throw new VerifyFailure("provenance", "the provenance bundle is not JSON");
  }
  const payload = bundle?.dsseEnvelope?.payload;
  if (typeof payload !== "string")
    throw new VerifyFailure("provenance", "the provenance bundle holds no DSSE payload");
  try {
    return JSON.parse(Buffer.from(payload, "base64").toString("utf8"));
  } catch {
    throw new VerifyFailure("provenance", "the provenance bundle's payload is not an in-toto statement");
  }
}

/** The subjects' SHA-256 by name. */
export function subjectDigests(statement: unknown): Map<string, string> {
  const subject = (statement as { subject?: unknown })?.subject;
  const out = new Map<string, string>();
  for (const s of Array.isArray(subject) ? subject : []) {
    const name = (s as { name?: unknown })?.name;
    const hex = (s as { digest?: { sha256?: unknown } })?.digest?.sha256;
    if (typeof name === "string" && typeof hex === "string") out.set(name, hex);
  }
  return out;
}

/** Whether an SPDX document describes a file with this SHA-256 (syft lists the scanned binary in `files`). */
export function sbomDescribes(sbom: unknown, sha256: string): boolean {
  const files = (sbom as { files?: unknown })?.files;
  return (
    Array.isArray(files) &&
    files.some(
      (f) =>
        Array.isArray((f as { checksums?: unknown })?.checksums) &&
        (f as { checksums: unknown[] }).checksums.some(
          (c) =>
            (c as { algorithm?: unknown })?.algorithm === "SHA256" &&
            (c as { checksumValue?: unknown })?.checksumValue === sha256,
        ),
    )
  );
}

/** One entry of a zip archive, uncompressed. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
}

/**
 * The entries of a zip archive (stored or deflated; what the SDK's `package` and
 * plugin/cmd/release-assets write), read through the central directory. Throws on anything else.
 */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error("zip central directory is corrupt");
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`zip entry ${name}: no local header`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : undefined;
    if (data === undefined)
      throw new Error(`zip entry ${name}: compression method ${method} is not stored or deflate`);
    if (data.length !== size)
      throw new Error(`zip entry ${name}: ${data.length} bytes, the directory says ${size}`);
    entries.push({ name, data });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
