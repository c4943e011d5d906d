// The release files' evidence (tooling/blobEvidence.ts) by tables: names, checksums.txt, the
// statement, the bundle's payload, the SBOM's binary, and zips read back (written here with
// Node's zlib, stored and deflated, as `package` and release-assets write them).
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { deflateRawSync } from "node:zlib";

import {
  blobStatement,
  parseChecksums,
  sbomDescribes,
  sbomFile,
  statementFromBundle,
  subjectDigests,
  zipEntries,
  zipTarget,
} from "../tooling/blobEvidence";
import { IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from "../tooling/evidence";

const A = "a".repeat(64);
const B = "b".repeat(64);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A minimal zip of `entries` (method 0 stored or 8 deflate), with a central directory. */
function zip(entries: { name: string; data: Buffer; method: 0 | 8 }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.method === 8 ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.method, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe("blobEvidence: names", () => {
  const table: [string, string | undefined][] = [
    ["cq-source-s3_linux_amd64.zip", "linux_amd64"],
    ["cq-source-s3_windows_amd64.zip", "windows_amd64"],
    ["plugin-s3-v1.2.3-darwin-arm64.zip", "darwin_arm64"],
    ["plugin-s3-v1.2.3-rc.1-linux-arm64.zip", "linux_arm64"],
    ["checksums.txt", undefined],
    ["cq-source-s3_linux_amd64.spdx.json", undefined],
    ["cq-source-s3_linux.zip", undefined],
    ["other_linux_amd64.zip", undefined],
  ];
  for (const [name, target] of table) {
    it(`${name} → ${String(target)}`, () => assert.equal(zipTarget(name), target));
  }
  it("names the SBOM of a target", () =>
    assert.equal(sbomFile("linux_arm64"), "cq-source-s3_linux_arm64.spdx.json"));
});

describe("blobEvidence: parseChecksums (sha256sum's format)", () => {
  it("reads text and binary mode lines", () => {
    assert.deepEqual(
      [...parseChecksums(`${A}  cq-source-s3_linux_amd64.zip\n${B} *cq-source-s3_darwin_arm64.zip\n`)],
      [
        ["cq-source-s3_linux_amd64.zip", A],
        ["cq-source-s3_darwin_arm64.zip", B],
      ],
    );
  });
  const refused: [string, string, RegExp][] = [
    ["empty", "", /checksums.txt is empty/],
    ["upper-case hex", `${A.toUpperCase()}  x.zip\n`, /line 1 is not/],
    ["one space", `${A} x.zip\n`, /line 1 is not/],
    ["a path", `${A}  /etc/x.zip\n`, /line 1 is not/],
    ["short digest", `${A.slice(1)}  x.zip\n`, /line 1 is not/],
    ["a name twice", `${A}  x.zip\n${B}  x.zip\n`, /names x.zip twice/],
  ];
  for (const [name, text, message] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => parseChecksums(text), message));
  }
});

describe("blobEvidence: blobStatement", () => {
  it("is an in-toto v1 SLSA statement with the subjects sorted by name", () => {
    const s = blobStatement(
      [
        { name: "hub/package.json", sha256: B },
        { name: "github/checksums.txt", sha256: A },
      ],
      { buildDefinition: {} },
    );
    assert.deepEqual(s, {
      _type: IN_TOTO_STATEMENT_V1,
      subject: [
        { name: "github/checksums.txt", digest: { sha256: A } },
        { name: "hub/package.json", digest: { sha256: B } },
      ],
      predicateType: SLSA_PROVENANCE_V1,
      predicate: { buildDefinition: {} },
    });
    assert.deepEqual(
      [...subjectDigests(s)],
      [
        ["github/checksums.txt", A],
        ["hub/package.json", B],
      ],
    );
  });
  it("refuses no subjects, a bad digest and a name twice", () => {
    assert.throws(() => blobStatement([], {}), /no files to attest/);
    assert.throws(
      () => blobStatement([{ name: "x", sha256: "sha256:" + A }], {}),
      /subject x: sha256 "sha256:a+" is not 64 hex/,
    );
    assert.throws(
      () =>
        blobStatement(
          [
            { name: "x", sha256: A },
            { name: "x", sha256: B },
          ],
          {},
        ),
      /subject x appears twice/,
    );
  });
});

describe("blobEvidence: statementFromBundle", () => {
  const statement = { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: "a", digest: { sha256: A } }] };
  it("decodes the DSSE payload of a sigstore bundle", () => {
    const bundle = JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      dsseEnvelope: {
        payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
        payloadType: "application/vnd.in-toto+json",
      },
    });
    assert.deepEqual(statementFromBundle(bundle), statement);
  });
  const refused: [string, string, RegExp][] = [
    ["not JSON", "{", /not JSON/],
    [
      "a message signature (sign-blob's bundle)",
      JSON.stringify({ messageSignature: {} }),
      /holds no DSSE payload/,
    ],
    [
      "a payload that is not JSON",
      JSON.stringify({ dsseEnvelope: { payload: Buffer.from("<x>").toString("base64") } }),
      /not an in-toto statement/,
    ],
  ];
  for (const [name, text, message] of refused) {
    it(`refuses ${name} as provenance (status 11)`, () =>
      assert.throws(
        () => statementFromBundle(text),
        (e: Error & { kind?: string }) => e.kind === "provenance" && message.test(e.message),
      ));
  }
});

describe("blobEvidence: sbomDescribes", () => {
  const sbom = (value: string, algorithm = "SHA256") => ({
    files: [
      {
        fileName: "cq-source-s3",
        checksums: [
          { algorithm: "SHA1", checksumValue: "0" },
          { algorithm, checksumValue: value },
        ],
      },
    ],
  });
  it("finds the binary's SHA-256 among the files", () => assert.equal(sbomDescribes(sbom(A), A), true));
  it("not another binary's", () => assert.equal(sbomDescribes(sbom(B), A), false));
  it("not a SHA-1 of the same text", () => assert.equal(sbomDescribes(sbom(A, "SHA1"), A), false));
  it("not a document without files", () => assert.equal(sbomDescribes({ packages: [] }, A), false));
});

describe("blobEvidence: zipEntries", () => {
  const binary = Buffer.from("\x7fELF" + "x".repeat(5000));
  it("reads deflated and stored entries", () => {
    const entries = zipEntries(
      zip([
        { name: "cq-source-s3", data: binary, method: 8 },
        { name: "README", data: Buffer.from("hi"), method: 0 },
      ]),
    );
    assert.deepEqual(
      entries.map((e) => [e.name, sha(e.data)]),
      [
        ["cq-source-s3", sha(binary)],
        ["README", sha(Buffer.from("hi"))],
      ],
    );
  });
  it("refuses what is not a zip", () =>
    assert.throws(
      () => zipEntries(Buffer.from("not a zip at all, long enough to search")),
      /no end of central directory/,
    ));
  it("refuses an unknown compression method", () => {
    const z = zip([{ name: "x", data: Buffer.from("abc"), method: 0 }]);
    const cd = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z.writeUInt16LE(12, cd + 10); // bzip2
    assert.throws(() => zipEntries(z), /compression method 12 is not stored or deflate/);
  });
  it("refuses an entry whose size disagrees with the directory", () => {
    const z = zip([{ name: "x", data: Buffer.from("abc"), method: 0 }]);
    const cd = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z.writeUInt32LE(4, cd + 24);
    assert.throws(() => zipEntries(z), /x: 3 bytes, the directory says 4/);
  });
});
