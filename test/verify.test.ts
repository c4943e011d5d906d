// `npm run verify` (scripts/verify.ts) as a consumer runs it, with a stand-in cosign
// (test/fixtures/cosign/cosign) answering from a scenario: exit statuses, messages, the defaults
// taken from Pulumi.prod.yaml, and what cosign is asked. The checks themselves are tabled in
// evidence.test.ts; the real cosign runs in the release rehearsal.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  IN_TOTO_STATEMENT_V1,
  provenancePredicate,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE_TYPE,
  type ProvenanceInput,
} from "../tooling/evidence";

const ROOT = path.resolve(__dirname, "..");
const COSIGN = path.join(__dirname, "fixtures", "cosign", "cosign");
const HEX = (c: string) => c.repeat(64);
const DIGEST = `sha256:${HEX("a")}`;
const REF = `ghcr.io/example-org/cq-source-s3@${DIGEST}`;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const PLATFORMS = { "linux/amd64": `sha256:${HEX("b")}`, "linux/arm64": `sha256:${HEX("c")}` };

// The prod stack's repository and id (Pulumi.prod.yaml), as a release of it would record them.
const PROVENANCE: ProvenanceInput = {
  serverUrl: "https://github.com",
  repository: "example-org/cq-source-s3",
  repositoryId: "700000001",
  ref: "refs/tags/v1.2.3",
  commit: COMMIT,
  runId: "1",
  runAttempt: "1",
  version: "v1.2.3",
  platforms: Object.keys(PLATFORMS),
  platformDigests: PLATFORMS,
  buildArgs: {},
  baseImages: [],
  toolchain: {},
};

function statement(predicateType: string, predicate: unknown): unknown {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    predicateType,
    subject: [{ digest: { sha256: HEX("a") } }],
    predicate,
  };
}
const spdx = (digest: string) => ({ spdxVersion: "SPDX-2.3", packages: [{ versionInfo: digest }] });
const provenance = (over: Partial<ProvenanceInput> = {}) =>
  statement(SLSA_PROVENANCE_V1, provenancePredicate({ ...PROVENANCE, ...over }));
const SBOMS = Object.values(PLATFORMS).map((d) => statement(SPDX_PREDICATE_TYPE, spdx(d)));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[][];
}

function verify(scenario: unknown, args: string[]): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cq-verify-"));
  const file = path.join(dir, "scenario.json");
  fs.writeFileSync(file, JSON.stringify(scenario));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "verify.ts"), ...args],
      { cwd: ROOT, env: { ...process.env, COSIGN, FAKE_COSIGN_SCENARIO: file } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (status) => {
      const callsFile = `${file}.calls`;
      const calls = fs.existsSync(callsFile)
        ? fs
            .readFileSync(callsFile, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as string[])
        : [];
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ status, stdout, stderr, calls });
    });
  });
}

describe("npm run verify (stand-in cosign)", function () {
  this.timeout(60_000);
  const all = { verify: true, attestations: { slsaprovenance1: [provenance()], spdxjson: SBOMS } };
  // [title, scenario, args, exit status, message]
  const cases: [string, unknown, string[], number, RegExp][] = [
    ["verifies a complete release", all, [REF, "--commit", COMMIT], 0, /^verified$/m],
    ["refuses a tag", all, ["ghcr.io/example-org/cq-source-s3:v1.2.3"], 2, /verify by digest, never by tag/],
    ["refuses a short commit", all, [REF, "--commit", "0123456"], 2, /--commit must be a full 40-hex/],
    [
      "fails an unsigned digest",
      { ...all, verify: false },
      [REF],
      10,
      /signature: no valid signature for .*no matching signatures/,
    ],
    [
      "fails without provenance",
      { verify: true, attestations: { spdxjson: SBOMS } },
      [REF],
      11,
      /provenance: no valid SLSA provenance attestation/,
    ],
    [
      "pins the prod stack's repository id by default",
      {
        ...all,
        attestations: { ...all.attestations, slsaprovenance1: [provenance({ repositoryId: "42" })] },
      },
      [REF],
      12,
      /repository: provenance names repository id "42", expected 700000001/,
    ],
    [
      "fails another commit",
      all,
      [REF, "--commit", "f".repeat(40)],
      13,
      /commit: provenance names commit 0123/,
    ],
    [
      "fails a missing platform SBOM",
      { ...all, attestations: { ...all.attestations, spdxjson: SBOMS.slice(0, 1) } },
      [REF],
      14,
      /sbom: no SPDX SBOM describes the linux\/arm64 manifest/,
    ],
  ];
  let runs: Run[];
  before(async () => {
    runs = await Promise.all(cases.map(([, scenario, args]) => verify(scenario, args)));
  });
  cases.forEach(([title, , , status, message], i) => {
    it(`${title} (exit ${status})`, () => {
      const r = runs[i];
      assert.equal(r.status, status, `${r.stdout}${r.stderr}`);
      assert.match(status === 0 ? r.stdout : r.stderr, message);
    });
  });
  it("asks cosign for the release workflow identity of the prod repository, by digest", () => {
    const [sig, prov, sbom] = runs[0].calls;
    assert.deepEqual(sig, [
      "verify",
      "--certificate-identity-regexp",
      "^https://github\\.com/example-org/cq-source-s3/\\.github/workflows/release\\.yml@refs/tags/v[0-9]",
      "--certificate-oidc-issuer",
      "https://token.actions.githubusercontent.com",
      REF,
    ]);
    assert.deepEqual(prov.slice(0, 3), ["verify-attestation", "--type", "slsaprovenance1"]);
    assert.deepEqual(sbom.slice(0, 3), ["verify-attestation", "--type", "spdxjson"]);
    assert.equal(runs[1].calls.length, 0, "a usage error asks cosign nothing");
  });
});
