import * as assert from "node:assert/strict";

import {
  baseImages,
  buildType,
  checkProvenance,
  checkSboms,
  cosignUnreachable,
  EvidenceError,
  IN_TOTO_STATEMENT_V1,
  provenancePredicate,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE_TYPE,
  statementsFromCosignOutput,
  VERIFY_EXIT,
  VerifyFailure,
  type Expectation,
  type ProvenanceInput,
} from "../tooling/evidence";

const HEX = (c: string) => c.repeat(64);
const DIGEST = `sha256:${HEX("a")}`;
const AMD64 = `sha256:${HEX("b")}`;
const ARM64 = `sha256:${HEX("c")}`;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const DOCKERFILE = [
  "# comment",
  `ARG BUILDER_IMAGE=golang:1.26.8-bookworm@sha256:${HEX("1")}`,
  `ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:${HEX("2")}`,
  "FROM ${BUILDER_IMAGE} AS build",
].join("\n");

const INPUT: ProvenanceInput = {
  serverUrl: "https://github.com",
  repository: "acme/cq-source-s3",
  repositoryId: "123456",
  repositoryOwnerId: "42",
  ref: "refs/tags/v1.2.3",
  commit: COMMIT,
  runId: "987",
  runAttempt: "2",
  eventName: "push",
  runnerEnvironment: "github-hosted",
  version: "v1.2.3",
  platforms: ["linux/amd64", "linux/arm64"],
  platformDigests: { "linux/amd64": AMD64, "linux/arm64": ARM64 },
  buildArgs: { VERSION: "v1.2.3", SOURCE_DATE_EPOCH: "1741064767" },
  baseImages: baseImages(DOCKERFILE, {}),
  toolchain: { pulumi: "v3.248.0", buildkit: "v0.33.1" },
};

const EXPECT: Expectation = {
  digest: DIGEST,
  serverUrl: "https://github.com",
  repository: "acme/cq-source-s3",
  repositoryId: "123456",
  commit: COMMIT,
};

/** The in-toto statement cosign makes of a predicate attested to DIGEST. */
function statement(predicate: unknown, predicateType = SLSA_PROVENANCE_V1, digest = DIGEST): unknown {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    predicateType,
    subject: [{ name: "ghcr.io/acme/cq-source-s3", digest: { sha256: digest.slice(7) } }],
    predicate,
  };
}

/** `cosign verify-attestation` output: a human line on stderr aside, one DSSE envelope per line. */
function cosignOutput(...statements: unknown[]): string {
  return statements
    .map((s) =>
      JSON.stringify({
        payloadType: "application/vnd.in-toto+json",
        payload: Buffer.from(JSON.stringify(s)).toString("base64"),
        signatures: [{ keyid: "", sig: "MEUCIQ" }],
      }),
    )
    .join("\n");
}

function spdx(digest: string): unknown {
  return {
    spdxVersion: "SPDX-2.3",
    packages: [
      { name: "127.0.0.1:5000/cq-source-s3", versionInfo: digest, primaryPackagePurpose: "CONTAINER" },
      { name: "github.com/apache/arrow-go/v18", versionInfo: "v18.4.1" },
    ],
  };
}

describe("evidence: base images", () => {
  it("takes the Dockerfile's digest-pinned ARG defaults", () => {
    assert.deepEqual(baseImages(DOCKERFILE, {}), [
      { name: "BUILDER_IMAGE", uri: "oci://golang:1.26.8-bookworm", digest: { sha256: HEX("1") } },
      {
        name: "RUNTIME_IMAGE",
        uri: "oci://gcr.io/distroless/static-debian12:nonroot",
        digest: { sha256: HEX("2") },
      },
    ]);
  });
  it("prefers a build arg override", () => {
    const got = baseImages(DOCKERFILE, { RUNTIME_IMAGE: `127.0.0.1:5000/rt:nonroot@sha256:${HEX("3")}` });
    assert.deepEqual(got[1], {
      name: "RUNTIME_IMAGE",
      uri: "oci://127.0.0.1:5000/rt:nonroot",
      digest: { sha256: HEX("3") },
    });
  });
  const bad: [string, string, Record<string, string>, RegExp][] = [
    [
      "an override by tag only",
      DOCKERFILE,
      { BUILDER_IMAGE: "golang:1.26" },
      /BUILDER_IMAGE "golang:1.26" is not pinned by digest/,
    ],
    [
      "a short digest",
      DOCKERFILE,
      { RUNTIME_IMAGE: "x@sha256:abc" },
      /RUNTIME_IMAGE "x@sha256:abc" is not pinned/,
    ],
    ["no default and no arg", "FROM scratch\n", {}, /BUILDER_IMAGE: neither a build arg nor an ARG default/],
  ];
  for (const [title, dockerfile, args, re] of bad) {
    it(`refuses ${title}`, () =>
      assert.throws(
        () => baseImages(dockerfile, args),
        (e) => e instanceof EvidenceError && re.test(e.message),
      ));
  }
});

describe("evidence: SLSA v1 provenance predicate", () => {
  const p = provenancePredicate(INPUT) as {
    buildDefinition: Record<string, unknown>;
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: unknown;
      byproducts: unknown;
    };
  };
  it("names the release workflow at the tag as the builder (= the keyless signing identity)", () => {
    assert.equal(
      p.runDetails.builder.id,
      "https://github.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3",
    );
    assert.deepEqual(p.runDetails.builder.version, { pulumi: "v3.248.0", buildkit: "v0.33.1" });
    assert.deepEqual(p.runDetails.metadata, {
      invocationId: "https://github.com/acme/cq-source-s3/actions/runs/987/attempts/2",
    });
  });
  it("resolves the source by commit and the base images by digest", () => {
    const deps = p.buildDefinition.resolvedDependencies as unknown[];
    assert.deepEqual(deps[0], {
      uri: "git+https://github.com/acme/cq-source-s3@refs/tags/v1.2.3",
      digest: { gitCommit: COMMIT },
    });
    assert.deepEqual(
      deps.slice(1).map((d) => (d as { name: string }).name),
      ["BUILDER_IMAGE", "RUNTIME_IMAGE"],
    );
  });
  it("records the repository id, build args and each platform's manifest", () => {
    assert.deepEqual(p.buildDefinition.internalParameters, {
      github: {
        repository_id: "123456",
        repository_owner_id: "42",
        event_name: "push",
        runner_environment: "github-hosted",
      },
    });
    assert.deepEqual(
      (p.buildDefinition.externalParameters as { buildArgs: unknown }).buildArgs,
      INPUT.buildArgs,
    );
    assert.deepEqual(p.runDetails.byproducts, [
      { name: "linux/amd64", digest: { sha256: HEX("b") } },
      { name: "linux/arm64", digest: { sha256: HEX("c") } },
    ]);
  });
  const bad: [string, Partial<ProvenanceInput>, RegExp][] = [
    ["a non-numeric repository id", { repositoryId: "acme" }, /repositoryId "acme"/],
    ["a short commit", { commit: "abc1234" }, /commit "abc1234"/],
    ["a branch ref", { ref: "refs/heads/main" }, /ref "refs\/heads\/main"/],
    [
      "a platform without digest",
      { platformDigests: { "linux/amd64": AMD64 } },
      /platform linux\/arm64 has no manifest digest/,
    ],
    [
      "an empty tool version",
      { toolchain: { ...INPUT.toolchain, cosign: "" } },
      /toolchain\.cosign has no version \(got ""\)/,
    ],
    [
      "a null tool version",
      { toolchain: { ...INPUT.toolchain, syft: null as unknown as string } },
      /toolchain\.syft has no version \(got null\)/,
    ],
    [
      'a tool version of "undefined"',
      { toolchain: { ...INPUT.toolchain, pulumi: "undefined" } },
      /toolchain\.pulumi has no version/,
    ],
  ];
  for (const [title, patch, re] of bad) {
    it(`refuses ${title}`, () =>
      assert.throws(
        () => provenancePredicate({ ...INPUT, ...patch }),
        (e) => e instanceof EvidenceError && re.test(e.message),
      ));
  }
});

describe("evidence: checks of npm run verify", () => {
  const good = statement(provenancePredicate(INPUT));
  const sboms = [statement(spdx(AMD64), SPDX_PREDICATE_TYPE), statement(spdx(ARM64), SPDX_PREDICATE_TYPE)];

  it("reads the statements out of cosign's DSSE envelopes, skipping other lines", () => {
    const out = `Verification for x --\n${cosignOutput(good, sboms[0])}\n\n`;
    assert.deepEqual(statementsFromCosignOutput(out), [good, sboms[0]]);
  });

  it("accepts the release's own provenance and SBOMs", () => {
    const facts = checkProvenance([good], EXPECT);
    assert.equal(facts.commit, COMMIT);
    assert.equal(facts.ref, "refs/tags/v1.2.3");
    assert.deepEqual(facts.platformDigests, { "linux/amd64": AMD64, "linux/arm64": ARM64 });
    assert.deepEqual(checkSboms(sboms, EXPECT, facts), [
      "linux/amd64: 2 packages",
      "linux/arm64: 2 packages",
    ]);
  });

  it("accepts cosign's in-toto Statement v0.1 and its bundle output form", () => {
    const v01 = { ...(good as Record<string, unknown>), _type: "https://in-toto.io/Statement/v0.1" };
    const bundle = JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      dsseEnvelope: {
        payload: Buffer.from(JSON.stringify(v01)).toString("base64"),
        payloadType: "application/vnd.in-toto+json",
      },
    });
    assert.equal(checkProvenance(statementsFromCosignOutput(bundle), EXPECT).commit, COMMIT);
    const other = { ...(good as Record<string, unknown>), _type: "https://example.com/Statement" };
    assert.throws(() => checkProvenance([other], EXPECT), /no SLSA v1 provenance/);
  });

  it("leaves commit and repository id unchecked when not expected", () => {
    const other = statement(provenancePredicate({ ...INPUT, commit: "f".repeat(40), repositoryId: "9" }));
    assert.equal(
      checkProvenance([other], { ...EXPECT, commit: undefined, repositoryId: undefined }).commit,
      "f".repeat(40),
    );
  });

  const provenanceCases: [string, unknown[], Partial<Expectation>, VerifyFailure["kind"], RegExp][] = [
    ["no statement at all", [], {}, "provenance", /no SLSA v1 provenance about sha256:a+ is attached/],
    [
      "provenance about another digest",
      [statement(provenancePredicate(INPUT), SLSA_PROVENANCE_V1, AMD64)],
      {},
      "provenance",
      /no SLSA v1 provenance/,
    ],
    ["an SBOM only", sboms, {}, "provenance", /no SLSA v1 provenance/],
    [
      "another commit",
      [statement(provenancePredicate({ ...INPUT, commit: "f".repeat(40) }))],
      {},
      "commit",
      /provenance names commit f{40}, expected 0123/,
    ],
    [
      "another repository id",
      [statement(provenancePredicate({ ...INPUT, repositoryId: "999" }))],
      {},
      "repository",
      /repository id "999", expected 123456/,
    ],
    [
      "a fork's repository",
      [statement(provenancePredicate({ ...INPUT, repository: "evil/cq-source-s3" }))],
      {},
      "repository",
      /git\+https:\/\/github.com\/evil\/cq-source-s3@refs\/tags\/v1.2.3".*expected a ref of git\+https:\/\/github.com\/acme\/cq-source-s3/,
    ],
    [
      "a look-alike repository prefix",
      [statement(provenancePredicate({ ...INPUT, repository: "acme/cq-source-s3-evil" }))],
      {},
      "repository",
      /expected a ref of/,
    ],
    [
      "a rerun that disagrees",
      [good, statement(provenancePredicate({ ...INPUT, commit: "f".repeat(40) }))],
      {},
      "commit",
      /names commit f{40}/,
    ],
  ];
  for (const [title, statements, patch, kind, re] of provenanceCases) {
    it(`provenance: fails on ${title} (${kind}, exit ${VERIFY_EXIT[kind]})`, () =>
      assert.throws(
        () => checkProvenance(statements, { ...EXPECT, ...patch }),
        (e) => e instanceof VerifyFailure && e.kind === kind && re.test(e.message),
      ));
  }

  const facts = checkProvenance([good], EXPECT);
  const sbomCases: [string, unknown[], RegExp][] = [
    ["no SBOM", [good], /no SPDX SBOM attestation is attached to sha256:a+/],
    [
      "an SBOM for one platform only",
      [sboms[0]],
      /no SPDX SBOM describes the linux\/arm64 manifest sha256:c+/,
    ],
    [
      "SBOMs attached to another digest",
      [statement(spdx(AMD64), SPDX_PREDICATE_TYPE, AMD64)],
      /no SPDX SBOM attestation/,
    ],
  ];
  for (const [title, statements, re] of sbomCases) {
    it(`sbom: fails on ${title}`, () =>
      assert.throws(
        () => checkSboms(statements, EXPECT, facts),
        (e) => e instanceof VerifyFailure && e.kind === "sbom" && re.test(e.message),
      ));
  }

  it("has one distinct exit status per failure kind", () => {
    const codes = Object.values(VERIFY_EXIT);
    assert.equal(new Set(codes).size, codes.length);
    assert.ok(codes.every((c) => c > 2));
  });
});

describe("evidence: a cosign failure is a verdict only when cosign could check", () => {
  const cases: [string, string, string | undefined][] = [
    // Could not check: exit 3, never taken for a bad signature.
    [
      "TLS, unknown CA",
      "Error: GET https://r/v2/: tls: failed to verify certificate: x509: certificate signed by unknown authority",
      "x509: certificate signed by unknown authority",
    ],
    [
      "connection refused",
      'Error: Get "https://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
      "dial tcp 127.0.0.1:5000: connect: connection refused",
    ],
    [
      "DNS",
      "Error: dial tcp: lookup ghcr.example: no such host",
      "dial tcp: lookup ghcr.example: no such host",
    ],
    ["timeout", "Error: context deadline exceeded", "context deadline exceeded"],
    [
      "registry 503",
      "GET https://r/v2/x/manifests/sha256:1: unexpected status code 503 Service Unavailable",
      "503 Service Unavailable",
    ],
    [
      "access denied",
      "GET https://r/token: DENIED: requested access to the resource is denied",
      "DENIED: requested access to the resource is denied",
    ],
    [
      "no such image",
      "MANIFEST_UNKNOWN: manifest unknown; map[Tag:sha256:1]",
      "MANIFEST_UNKNOWN: manifest unknown; map[Tag:sha256:1]",
    ],
    // Each pattern alone, to its end of line (the next line is not part of the cause).
    [
      "TLS alert without x509, any case",
      "Error: remote error: TLS: bad certificate\nretrying",
      "TLS: bad certificate",
    ],
    ["DNS without dial", "lookup r on 127.0.0.53:53: no such host\nmore", "no such host"],
    [
      "refused on read, not on dial",
      "read tcp 1.2.3.4:5->6.7.8.9:443: read: connection refused",
      "connection refused",
    ],
    ["i/o timeout alone", "net/http: TLS handshake i/o timeout", "i/o timeout"],
    [
      "registry 500",
      "unexpected status code 500 Internal Server Error\nError: x",
      "500 Internal Server Error",
    ],
    ["registry 502", "status 502 Bad Gateway", "502 Bad Gateway"],
    ["registry 504", "status 504 Gateway Timeout", "504 Gateway Timeout"],
    [
      "unauthorized",
      "GET https://r/v2/: UNAUTHORIZED: authentication required",
      "UNAUTHORIZED: authentication required",
    ],
    [
      "no such repository",
      "NAME_UNKNOWN: repository name not known to registry",
      "NAME_UNKNOWN: repository name not known to registry",
    ],
    // Look-alikes that are not a cause: no verdict is invented from them either.
    ["a number that only ends in 503", "size 1503 Bytes", undefined],
    ["a status without its reason phrase", "unexpected status code 503 service unavailable", undefined],
    ["a word that only contains DENIED", "UNDENIED_THING", undefined],
    ["nothing recognisable", "Error: something else went wrong", undefined],
    // Checked, and the evidence did not match: the verdict's own status.
    [
      "a verdict after a registry error: the verdict wins",
      "x509: certificate has expired\nError: none of the expected identities matched what was in the certificate",
      undefined,
    ],
    [
      "no signature",
      "Error: no signatures found\nmain.go:74: error during command execution: no signatures found",
      undefined,
    ],
    [
      "another key",
      "Error: no matching signatures: invalid signature when validating ASN.1 encoded signature",
      undefined,
    ],
    [
      "another identity",
      "Error: no matching signatures: none of the expected identities matched what was in the certificate",
      undefined,
    ],
    ["no attestation", "Error: no matching attestations: ", undefined],
    [
      "no signature tag (a registry without referrers)",
      "GET https://ghcr.io/v2/o/r/manifests/sha256-1.sig: MANIFEST_UNKNOWN: manifest unknown\nError: no signatures found",
      undefined,
    ],
  ];
  for (const [name, stderr, want] of cases) {
    it(`${name}: ${want === undefined ? "a verdict" : "no verdict"}`, () =>
      assert.equal(cosignUnreachable(stderr), want));
  }
  it("exits 3 for no verdict, apart from every verdict's status", () => {
    assert.equal(VERIFY_EXIT.unreachable, 3);
    const verdicts = Object.entries(VERIFY_EXIT)
      .filter(([k]) => k !== "unreachable")
      .map(([, v]) => v);
    assert.ok(!verdicts.includes(3) && new Set(verdicts).size === verdicts.length);
  });
});

// The mutants a StrykerJS pass over tooling/evidence.ts left alive (issue 21), each killed by the
// case that tells the rule from its mutant: anchors of every pattern, each optional branch, each
// refusal's field name.
describe("evidence: every rule's edge (mutation pass)", () => {
  const refused = (over: Partial<ProvenanceInput>, field: string) =>
    assert.throws(
      () => provenancePredicate({ ...INPUT, ...over }),
      (e: Error) =>
        e instanceof EvidenceError &&
        e.name === "EvidenceError" &&
        e.message.startsWith(`provenance: ${field} `),
    );
  const bad: [keyof ProvenanceInput, string][] = [
    ["serverUrl", " https://github.com"],
    ["serverUrl", "https://github.com/"],
    ["serverUrl", "xhttps://github.com"],
    ["serverUrl", "https://github.com:8a"],
    ["serverUrl", "https://github.com:"],
    ["repository", " acme/cq-source-s3"],
    ["repository", "acme/cq-source-s3/"],
    ["repositoryId", "12a"],
    ["repositoryId", "a12"],
    ["ref", "xrefs/tags/v1.2.3"],
    ["ref", "refs/tags/v1.2.3 "],
    ["commit", `${COMMIT}0`],
    ["commit", `0${COMMIT}`],
    ["runId", "9a"],
    ["runId", "a9"],
    ["runAttempt", "2a"],
    ["runAttempt", "a2"],
  ];
  for (const [field, value] of bad) {
    it(`refuses ${field} ${JSON.stringify(value)}, naming ${field}`, () =>
      refused({ [field]: value }, field));
  }
  it("accepts a port in the server URL and a run attempt of two digits", () => {
    assert.doesNotThrow(() =>
      provenancePredicate({ ...INPUT, serverUrl: "https://ghe.example:8443", runAttempt: "12" }),
    );
  });
  for (const version of ["null", "undefined", "   "]) {
    it(`refuses the tool version ${JSON.stringify(version)}`, () =>
      assert.throws(
        () => provenancePredicate({ ...INPUT, toolchain: { syft: version } }),
        /toolchain\.syft has no version/,
      ));
  }
  it("refuses a platform digest with text around it", () => {
    for (const d of [`${AMD64} `, `x${AMD64}`]) {
      assert.throws(
        () =>
          provenancePredicate({ ...INPUT, platformDigests: { ...INPUT.platformDigests, "linux/amd64": d } }),
        /platform linux\/amd64 has no manifest digest/,
      );
    }
  });
  it("writes the optional GitHub facts only when given", () => {
    const p = provenancePredicate({
      ...INPUT,
      repositoryOwnerId: undefined,
      eventName: undefined,
      runnerEnvironment: undefined,
    });
    assert.deepEqual((p.buildDefinition as { internalParameters: unknown }).internalParameters, {
      github: { repository_id: "123456" },
    });
  });
  it("names the workflow, the platforms and the build type", () => {
    const p = provenancePredicate(INPUT) as {
      buildDefinition: { buildType: string; externalParameters: Record<string, unknown> };
    };
    assert.equal(
      p.buildDefinition.buildType,
      "https://github.com/acme/cq-source-s3/blob/main/docs/release.md#evidence",
    );
    assert.equal(buildType("https://github.com", "acme/cq-source-s3"), p.buildDefinition.buildType);
    assert.deepEqual(p.buildDefinition.externalParameters.workflow, {
      ref: "refs/tags/v1.2.3",
      repository: "https://github.com/acme/cq-source-s3",
      path: ".github/workflows/release.yml",
    });
    assert.deepEqual(p.buildDefinition.externalParameters.platforms, ["linux/amd64", "linux/arm64"]);
  });

  describe("base images from the Dockerfile's ARG lines", () => {
    const pinned = `img@sha256:${HEX("1")}`;
    const other = `img@sha256:${HEX("2")}`;
    const of = (lines: string[]) => baseImages([...lines, `ARG RUNTIME_IMAGE=${other}`].join("\n"), {});
    it("reads indented lines, several spaces and trailing blanks", () => {
      for (const line of [
        `  ARG BUILDER_IMAGE=${pinned}`,
        `ARG  BUILDER_IMAGE=${pinned}`,
        `ARG BUILDER_IMAGE=${pinned}   `,
      ]) {
        assert.equal(of([line])[0].digest.sha256, HEX("1"), line);
      }
    });
    it("ignores a commented-out ARG and one with a trailing word", () => {
      assert.throws(
        () => of([`# ARG BUILDER_IMAGE=${pinned}`]),
        /BUILDER_IMAGE: neither a build arg nor an ARG default/,
      );
      assert.throws(
        () => of([`ARG BUILDER_IMAGE=${pinned} extra`]),
        /BUILDER_IMAGE: neither a build arg nor an ARG default/,
      );
    });
    it("refuses a digest without an image name, with or without the @", () => {
      for (const ref of [`sha256:${HEX("1")}`, `@sha256:${HEX("1")}`]) {
        assert.throws(() => baseImages(DOCKERFILE, { BUILDER_IMAGE: ref }), /is not pinned by digest/, ref);
      }
    });
  });

  describe("checkProvenance: every field it reads", () => {
    const predicate = () => provenancePredicate(INPUT) as Record<string, Record<string, unknown>>;
    const withDeps = (deps: unknown) => {
      const p = predicate();
      (p.buildDefinition as Record<string, unknown>).resolvedDependencies = deps;
      return statement(p);
    };
    const git = {
      uri: "git+https://github.com/acme/cq-source-s3@refs/tags/v1.2.3",
      digest: { gitCommit: COMMIT },
    };
    it("finds the git dependency among others, whatever comes first", () => {
      const s = withDeps([
        { uri: 5 },
        { name: "x" },
        { uri: "oci://img", digest: { sha256: HEX("1") } },
        git,
      ]);
      assert.equal(checkProvenance([s], EXPECT).commit, COMMIT);
    });
    it("no git dependency: names the empty source (repository, 12)", () => {
      assert.throws(
        () => checkProvenance([withDeps([{ uri: "oci://img" }])], EXPECT),
        (e: VerifyFailure) =>
          e.kind === "repository" &&
          e.message ===
            'provenance names source "", expected a ref of git+https://github.com/acme/cq-source-s3',
      );
    });
    it("a git dependency without a commit: names it (provenance, 11)", () => {
      assert.throws(
        () => checkProvenance([withDeps([{ uri: git.uri }])], EXPECT),
        (e: VerifyFailure) =>
          e.kind === "provenance" &&
          e.name === "VerifyFailure" &&
          e.message === 'provenance names no commit (got "")',
      );
      assert.throws(
        () =>
          checkProvenance([withDeps([{ ...git, digest: { gitCommit: `${COMMIT}0` } }])], {
            ...EXPECT,
            commit: undefined,
          }),
        /provenance names no commit/,
      );
    });
    it("no repository id: names the empty id when one is expected", () => {
      const p = predicate();
      (p.buildDefinition as Record<string, unknown>).internalParameters = {};
      assert.throws(
        () => checkProvenance([statement(p)], EXPECT),
        /provenance names repository id "", expected 123456/,
      );
    });
    const withByproducts = (byproducts: unknown) => {
      const p = predicate();
      (p.runDetails as Record<string, unknown>).byproducts = byproducts;
      return statement(p);
    };
    for (const [name, byproducts] of [
      ["not a list", { name: "linux/amd64" }],
      ["entries without a name", [{ digest: { sha256: HEX("b") } }]],
      ["entries without a digest", [{ name: "linux/amd64", digest: { sha256: 5 } }]],
    ] as [string, unknown][]) {
      it(`byproducts ${name}: no platform manifests (provenance, 11)`, () =>
        assert.throws(
          () => checkProvenance([withByproducts(byproducts)], EXPECT),
          (e: VerifyFailure) =>
            e.kind === "provenance" &&
            e.message === "provenance lists no platform manifests (runDetails.byproducts)",
        ));
    }
    it("keeps only complete byproducts", () => {
      const facts = checkProvenance(
        [withByproducts([{ name: "linux/amd64", digest: { sha256: HEX("b") } }, { name: "x" }])],
        EXPECT,
      );
      assert.deepEqual(facts.platformDigests, { "linux/amd64": AMD64 });
    });
    it("reports the builder id, empty when there is none", () => {
      assert.equal(
        checkProvenance([statement(predicate())], EXPECT).builderId,
        "https://github.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3",
      );
      const p = predicate();
      (p.runDetails as Record<string, unknown>).builder = {};
      assert.equal(checkProvenance([statement(p)], EXPECT).builderId, "");
    });
    it("a statement about several subjects counts when one of them is the digest", () => {
      const s = statement(predicate()) as Record<string, unknown>;
      s.subject = [{ name: "other", digest: { sha256: HEX("9") } }, ...(s.subject as unknown[])];
      assert.equal(checkProvenance([s], EXPECT).commit, COMMIT);
    });
    it("an expected digest that is not one finds no provenance (not a crash)", () => {
      assert.throws(
        () => checkProvenance([statement(predicate())], { ...EXPECT, digest: "latest" }),
        (e: VerifyFailure) => e.kind === "provenance" && /no SLSA v1 provenance about latest/.test(e.message),
      );
      assert.throws(
        () => checkProvenance([statement(predicate())], { ...EXPECT, digest: `x${DIGEST}` }),
        /no SLSA v1 provenance/,
      );
      assert.throws(
        () => checkProvenance([statement(predicate())], { ...EXPECT, digest: `${DIGEST}x` }),
        /no SLSA v1 provenance/,
      );
    });
    it("a predicate that is a list is read as no predicate", () => {
      const s = statement([predicate()]);
      assert.throws(() => checkProvenance([s], EXPECT), /provenance names source ""/);
    });
    it("checkSboms reports the platforms sorted, whatever the provenance's order", () => {
      const facts = {
        ...checkProvenance([statement(predicate())], EXPECT),
        platformDigests: { "linux/arm64": ARM64, "linux/amd64": AMD64 },
      };
      const sboms = [
        statement(spdx(ARM64), SPDX_PREDICATE_TYPE),
        statement(spdx(AMD64), SPDX_PREDICATE_TYPE),
      ];
      assert.deepEqual(checkSboms(sboms, EXPECT, facts), [
        "linux/amd64: 2 packages",
        "linux/arm64: 2 packages",
      ]);
    });
  });

  describe("cosignUnreachable: the cause runs to the end of its line, trimmed", () => {
    const cases: [string, string][] = [
      ["lookup r: no such host (after 3 tries)  \nnext", "no such host (after 3 tries)"],
      ["read: connection refused by peer\nnext", "connection refused by peer"],
      ["net/http: i/o timeout while reading\nnext", "i/o timeout while reading"],
      [
        "Error: context deadline exceeded (Client.Timeout)\nnext",
        "context deadline exceeded (Client.Timeout)",
      ],
      ["Error: x509: certificate has expired   \nnext", "x509: certificate has expired"],
    ];
    for (const [stderr, want] of cases)
      it(JSON.stringify(want), () => assert.equal(cosignUnreachable(stderr), want));
  });
});
