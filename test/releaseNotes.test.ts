import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  HUB_TEAM,
  isPrerelease,
  PLUGIN_NAME,
  previousRelease,
  releaseMeta,
  ReleaseNotesError,
  renderReleaseNotes,
} from "../tooling/releaseNotes";
import { orderedRegistries, parseReleaseOutputs } from "../tooling/releaseOutputs";
import { signingIdentity } from "../lib/release";
import { type VisibilityFinding } from "../tooling/visibility";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const GCR = "gcr.io/acme-prod/cq-source-s3";
const GHCR = "ghcr.io/acme/cq-source-s3";

function outputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    imageDigest: DIGEST,
    imageRefs: { gcr: `${GCR}@${DIGEST}`, ghcr: `${GHCR}@${DIGEST}` },
    imageTags: ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"],
    imageRepositories: [GCR, GHCR],
    pullCommands: [`docker pull ${GCR}@${DIGEST}`, `docker pull ${GHCR}@${DIGEST}`],
    platforms: ["linux/amd64", "linux/arm64"],
    version: "v1.2.3",
    commit: "abc1234def5678abc1234def5678abc1234def56",
    ...overrides,
  };
}

const base = { version: "v1.2.3", repository: "acme/cq-source-s3", outputs: outputs() };

describe("renderReleaseNotes", () => {
  const body = renderReleaseNotes({
    ...base,
    generatedNotes: "## What's Changed\n* Fix parquet reader by @a in #1\n",
  });

  it("states the digest, platforms and tags", () => {
    assert.match(body, new RegExp(`\\*\\*Digest:\\*\\* \`${DIGEST}\``));
    assert.match(body, /\*\*Platforms:\*\* `linux\/amd64`, `linux\/arm64`/);
    assert.match(body, /\*\*Tags:\*\* `v1.2.3-abc1234`, `v1.2.3`, `v1.2`, `latest`/);
    assert.match(
      body,
      /\[`abc1234def5678abc1234def5678abc1234def56`\]\(https:\/\/github.com\/acme\/cq-source-s3\/commit\//,
    );
  });

  it("gives pull commands by tag and by digest for every registry", () => {
    for (const repo of [GCR, GHCR]) {
      assert.ok(body.includes(`docker pull ${repo}:v1.2.3\n`), `tag pull for ${repo}`);
      assert.ok(body.includes(`docker pull ${repo}@${DIGEST}\n`), `digest pull for ${repo}`);
    }
  });

  it("shows how to run the image by digest, preferring ghcr", () => {
    assert.ok(body.includes(`docker run --rm -p 7777:7777 ${GHCR}@${DIGEST}\n`));
  });

  it("includes the CloudQuery docker-registry spec pinned by digest", () => {
    assert.ok(body.includes(`  registry: docker\n  path: ${GHCR}@${DIGEST}\n`));
    assert.match(body, /^kind: source$/m);
  });

  it("gives every other door's spec lines: the Release's zips as registry github and local", () => {
    for (const t of ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"]) {
      assert.ok(body.includes(`\`cq-source-s3_${t}.zip\``), t);
    }
    assert.ok(body.includes("  registry: github\n  path: acme/s3\n  version: v1.2.3\n"));
    assert.ok(body.includes("sha256sum --ignore-missing -c checksums.txt\n"));
    assert.ok(body.includes("  registry: local\n  path: ./cq-source-s3\n"));
    // Before the verify sections, after the image's spec.
    const at = (s: string) => body.indexOf(s);
    assert.ok(
      at("registry: docker") < at("registry: github") &&
        at("registry: local") < at("### Verify the signature"),
    );
  });

  it("offers registry cloudquery (the Hub) only when the release publishes there", () => {
    assert.ok(!body.includes("registry: cloudquery"));
    const hub = renderReleaseNotes({ ...base, outputs: { ...outputs(), hubPublish: true } });
    assert.ok(hub.includes("  registry: cloudquery\n  path: infobloxopen/s3\n  version: v1.2.3\n"));
    const at = (s: string) => hub.indexOf(s);
    assert.ok(
      at("registry: docker") < at("registry: cloudquery") &&
        at("registry: cloudquery") < at("registry: github"),
    );
    assert.throws(
      () => renderReleaseNotes({ ...base, outputs: { ...outputs(), hubPublish: "yes" } }),
      /stack output 'hubPublish' must be true or false, got "yes"/,
    );
  });

  it("names the Hub path from the plugin's own Team and Name (plugin/plugin/plugin.go)", () => {
    const source = readFileSync(path.join(__dirname, "..", "plugin", "plugin", "plugin.go"), "utf8");
    assert.equal(/\bTeam = "([^"]+)"/.exec(source)?.[1], HUB_TEAM);
    assert.equal(/\bName = "([^"]+)"/.exec(source)?.[1], PLUGIN_NAME);
  });

  it("gives the verify command of a zip, with the same pins as the image's", () => {
    const pinned = renderReleaseNotes({ ...base, repositoryId: "700000001" });
    assert.match(
      pinned,
      /^npm run verify -- cq-source-s3_linux_amd64\.zip --repository-id 700000001 --commit [0-9a-f]{40}$/m,
    );
    assert.ok(pinned.includes("`checksums.txt.sigstore.json`, `cq-source-s3_provenance.sigstore.json`"));
  });

  it("offers registry github only for a repository named cq-source-s3", () => {
    const other = renderReleaseNotes({ ...base, repository: "acme/s3-plugin" });
    assert.ok(!other.includes("registry: github\n"));
    assert.ok(
      other.includes("`registry: github` needs a repository named `cq-source-s3` (this one is `s3-plugin`)"),
    );
    assert.ok(other.includes("  registry: local\n"));
  });

  it("gives a keyless cosign verify command bound to the release workflow at the tag", () => {
    for (const repo of [GCR, GHCR]) {
      assert.ok(
        body.includes(
          `cosign verify ${repo}@${DIGEST} \\\n` +
            "  --certificate-identity 'https://github.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3' \\\n" +
            "  --certificate-oidc-issuer 'https://token.actions.githubusercontent.com'\n",
        ),
        `verify for ${repo}`,
      );
    }
  });

  it("gives the attestation checks and the one verify command pinned to repository id and commit", () => {
    const flags =
      "  --certificate-identity 'https://github.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3' \\\n" +
      "  --certificate-oidc-issuer 'https://token.actions.githubusercontent.com'\n";
    for (const type of ["slsaprovenance1", "spdxjson", "cyclonedx"]) {
      assert.ok(
        body.includes(`cosign verify-attestation --type ${type} ${GHCR}@${DIGEST} \\\n${flags}`),
        type,
      );
    }
    const withId = renderReleaseNotes({ ...base, repositoryId: "123456" });
    assert.match(
      withId,
      new RegExp(`\nnpm run verify -- ${GHCR}@${DIGEST} --repository-id 123456 --commit [0-9a-f]{40}\n`),
    );
    assert.throws(
      () => renderReleaseNotes({ ...base, repositoryId: "12a" }),
      /repositoryId must be numeric, got "12a"/,
    );
  });

  it("ends with the generated notes verbatim and no pre-release warning", () => {
    assert.ok(body.endsWith("## What's Changed\n* Fix parquet reader by @a in #1\n"));
    assert.doesNotMatch(body, /Pre-release/);
  });

  it("marks a pre-release", () => {
    const pre = renderReleaseNotes({
      ...base,
      version: "v1.3.0-rc.1",
      outputs: outputs({ version: "v1.3.0-rc.1", imageTags: ["v1.3.0-rc.1-abc1234", "v1.3.0-rc.1"] }),
    });
    assert.ok(pre.startsWith("> [!WARNING]\n> **Pre-release.** `v1.3.0-rc.1`"));
    assert.ok(pre.includes(`docker pull ${GHCR}:v1.3.0-rc.1\n`));
    assert.ok(pre.includes("@refs/tags/v1.3.0-rc.1'"));
  });

  it("links the compare view when there are no generated notes", () => {
    const b = renderReleaseNotes({ ...base, previousTag: "v1.2.2" });
    assert.ok(
      b.endsWith("**Full Changelog**: https://github.com/acme/cq-source-s3/compare/v1.2.2...v1.2.3\n"),
    );
  });

  it("uses the immutable tag when the version tag is absent and honours a GHES server URL", () => {
    const b = renderReleaseNotes({
      ...base,
      serverUrl: "https://github.example.com/",
      outputs: outputs({
        imageTags: ["v1.2.3-abc1234"],
        imageRefs: { local: `127.0.0.1:5000/cq-source-s3@${DIGEST}` },
      }),
    });
    assert.ok(b.includes("docker pull 127.0.0.1:5000/cq-source-s3:v1.2.3-abc1234\n"));
    assert.ok(
      b.includes(
        "'https://github.example.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3'",
      ),
    );
  });

  it("is deterministic", () => {
    assert.equal(renderReleaseNotes(base), renderReleaseNotes(base));
  });
});

describe("renderReleaseNotes rejects bad input with the key and value", () => {
  const cases: [string, Partial<Parameters<typeof renderReleaseNotes>[0]>, RegExp][] = [
    ["outputs not an object", { outputs: [] }, /stack outputs must be a JSON object, got \[\]/],
    [
      "empty outputs (nothing deployed)",
      { outputs: {} },
      /missing 'imageDigest', 'imageRefs', 'imageTags', 'platforms'/,
    ],
    [
      "partial outputs",
      { outputs: outputs({ imageDigest: undefined, platforms: null }) },
      /missing 'imageDigest', 'platforms' \(did `pulumi up`/,
    ],
    [
      "malformed digest",
      { outputs: outputs({ imageDigest: "sha256:abc" }) },
      /'imageDigest' must be sha256:<64 hex>, got "sha256:abc"/,
    ],
    ["empty refs", { outputs: outputs({ imageRefs: {} }) }, /'imageRefs' must be a non-empty object/],
    [
      "ref without digest",
      { outputs: outputs({ imageRefs: { gcr: `${GCR}:v1.2.3` } }) },
      /'imageRefs.gcr' must be <repository>@<digest>/,
    ],
    [
      "ref with another digest",
      { outputs: outputs({ imageRefs: { gcr: `${GCR}@sha256:${"f".repeat(64)}` } }) },
      /'imageRefs.gcr' .* does not carry imageDigest/,
    ],
    [
      "ref not a string",
      { outputs: outputs({ imageRefs: { gcr: 1 } }) },
      /'imageRefs.gcr' must be a string, got 1/,
    ],
    [
      "empty tags",
      { outputs: outputs({ imageTags: [] }) },
      /'imageTags' must be a non-empty array of strings, got \[\]/,
    ],
    [
      "bad platform",
      { outputs: outputs({ platforms: ["linux/amd64", "windows amd64"] }) },
      /'platforms' has an invalid entry "windows amd64"/,
    ],
    ["bad commit", { outputs: outputs({ commit: "not-hex" }) }, /'commit' must be a hex sha, got "not-hex"/],
    [
      "stack deployed for another version",
      { outputs: outputs({ version: "v1.2.2" }) },
      /'version' is "v1.2.2" but the release is "v1.2.3"/,
    ],
    [
      "version not semver",
      { version: "release-1" },
      /version must be a semver tag like v1.2.3, got "release-1"/,
    ],
    [
      "version without v",
      { version: "1.2.3", outputs: outputs({ version: "1.2.3" }) },
      /leading v, got "1.2.3"/,
    ],
    ["bad repository", { repository: "acme" }, /repository must be owner\/name, got "acme"/],
    ["markdown in repository", { repository: "acme/x)[y" }, /repository must be owner\/name/],
    ["http server url", { serverUrl: "http://github.com" }, /serverUrl must be an https origin/],
    ["bad previous tag", { previousTag: "main" }, /previousTag must be a semver tag, got "main"/],
  ];
  for (const [title, override, want] of cases) {
    it(title, () => {
      assert.throws(
        () => renderReleaseNotes({ ...base, ...override }),
        (err: unknown) => err instanceof ReleaseNotesError && want.test(err.message),
      );
    });
  }
});

describe("release notes helpers", () => {
  it("parses outputs without the optional keys", () => {
    const o = outputs({ version: undefined, commit: undefined });
    assert.deepEqual(parseReleaseOutputs(o).platforms, ["linux/amd64", "linux/arm64"]);
  });

  it("orders registries ghcr, gcr, local, then the rest sorted", () => {
    assert.deepEqual(orderedRegistries({ zot: "", local: "", gcr: "", ecr: "", ghcr: "" }), [
      "ghcr",
      "gcr",
      "local",
      "ecr",
      "zot",
    ]);
  });

  const pre: [string, boolean][] = [
    ["v1.2.3", false],
    ["v1.2.3-rc.1", true],
    ["v0.0.1-alpha", true],
    ["v2.0.0+build.5", false],
  ];
  for (const [v, want] of pre) it(`isPrerelease(${v}) is ${want}`, () => assert.equal(isPrerelease(v), want));

  const prev: [string, string[], string | undefined][] = [
    ["v1.2.3", ["v1.2.2", "v1.1.9", "v1.2.4"], "v1.2.2"],
    ["v1.2.3", ["v1.2.3-rc.1", "v1.2.2"], "v1.2.2"],
    ["v1.2.3-rc.2", ["v1.2.3-rc.1", "v1.2.2"], "v1.2.3-rc.1"],
    ["v1.2.3", ["v1.2.10", "junk", "1.2.2", "v0.9.0"], "v0.9.0"],
    ["v1.0.0", [], undefined],
    ["v1.0.0", ["v1.0.0", "v2.0.0"], undefined],
  ];
  for (const [v, tags, want] of prev) {
    it(`previousRelease(${v}, ${JSON.stringify(tags)}) is ${want}`, () =>
      assert.equal(previousRelease(v, tags), want));
  }

  const meta: [string, string[], ReturnType<typeof releaseMeta>][] = [
    ["v1.2.3", ["v1.2.2", "v1.1.9"], { previousTag: "v1.2.2", prerelease: false, latest: true }],
    ["v1.1.10", ["v1.2.0", "v1.1.9"], { previousTag: "v1.1.9", prerelease: false, latest: false }],
    ["v1.2.3", ["v1.3.0-rc.1", "v1.2.2"], { previousTag: "v1.2.2", prerelease: false, latest: true }],
    ["v2.0.0-rc.1", ["v1.9.0"], { previousTag: "v1.9.0", prerelease: true, latest: false }],
    ["v0.1.0", [], { previousTag: "", prerelease: false, latest: true }],
  ];
  for (const [v, tags, want] of meta) {
    it(`releaseMeta(${v}, ${JSON.stringify(tags)})`, () => assert.deepEqual(releaseMeta(v, tags), want));
  }

  it("marks the rollback target Latest, and only it", () => {
    const released = ["v1.2.2", "v1.2.3"];
    assert.equal(releaseMeta("v1.2.2", released, "v1.2.2").latest, true);
    assert.equal(releaseMeta("v1.2.2", released).latest, false);
    assert.equal(releaseMeta("v1.1.9", [...released, "v1.2.2"], "v1.2.2").latest, false);
  });

  it("builds the signing identity from server, repository and tag", () => {
    assert.equal(
      signingIdentity("https://github.com", "acme/cq-source-s3", "v1.2.3"),
      "https://github.com/acme/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3",
    );
  });
});

describe("renderReleaseNotes: who can pull (the anonymous-pull check's findings)", () => {
  const finding = (key: string, repo: string, over: Partial<VisibilityFinding> = {}): VisibilityFinding => ({
    key,
    repository: repo,
    pull: "works",
    severity: "ok",
    message: `\`${repo}\` is public.`,
    ...over,
  });
  const privateGhcr = finding("ghcr", GHCR, {
    pull: "refused",
    severity: "warn",
    message: `\`${GHCR}\` is private although ghcrPublic is true: an anonymous pull is refused (HTTP 403).`,
    action:
      'an admin of the package opens https://github.com/orgs/acme/packages/container/cq-source-s3/settings → "Change visibility" → Public',
  });

  it("says nothing more when every registry is public", () => {
    const body = renderReleaseNotes({ ...base, visibility: [finding("gcr", GCR), finding("ghcr", GHCR)] });
    assert.equal(body, renderReleaseNotes(base));
  });

  it("names a registry that is not public, with the one action, before any docker pull", () => {
    const body = renderReleaseNotes({ ...base, visibility: [finding("gcr", GCR), privateGhcr] });
    const warning = [
      "> [!WARNING]",
      "> **Who can pull:** an anonymous pull was checked in every registry after publishing.",
      `> - ${privateGhcr.message} **To do:** ${privateGhcr.action}.`,
    ].join("\n");
    assert.ok(body.includes(`\n\n${warning}\n\n### Pull`), body);
    assert.ok(body.includes(`# ghcr (not public: log in first)\ndocker pull ${GHCR}:v1.2.3\n`));
    assert.ok(body.includes(`# gcr\ndocker pull ${GCR}:v1.2.3\n`));
  });

  it("shows the run, CloudQuery and verify examples with a registry anyone can pull from", () => {
    const body = renderReleaseNotes({ ...base, visibility: [finding("gcr", GCR), privateGhcr] });
    assert.ok(body.includes(`docker run --rm -p 7777:7777 ${GCR}@${DIGEST}\n`));
    assert.ok(body.includes(`  path: ${GCR}@${DIGEST}\n`));
    assert.ok(body.includes(`npm run verify -- ${GCR}@${DIGEST}`));
    // Still signed and verifiable in both.
    assert.ok(body.includes(`cosign verify ${GHCR}@${DIGEST} \\\n`));
  });

  it("marks a registry that could not be checked as such, not as private", () => {
    const unchecked = finding("ghcr", GHCR, {
      pull: "unchecked",
      severity: "warn",
      message: "u",
      action: "r",
    });
    const body = renderReleaseNotes({ ...base, visibility: [finding("gcr", GCR), unchecked] });
    assert.ok(body.includes(`# ghcr (not checked: see above)\ndocker pull ${GHCR}:v1.2.3\n`));
    assert.ok(body.includes("> - u **To do:** r.\n"));
    assert.ok(body.includes(`docker run --rm -p 7777:7777 ${GCR}@${DIGEST}\n`));
  });

  it("keeps the display order when no registry is public", () => {
    const privateGcr = finding("gcr", GCR, { pull: "refused", severity: "note", message: "n", action: "a" });
    const body = renderReleaseNotes({ ...base, visibility: [privateGcr, privateGhcr] });
    assert.ok(body.includes(`docker run --rm -p 7777:7777 ${GHCR}@${DIGEST}\n`));
    assert.ok(body.includes("> - n **To do:** a.\n"));
  });

  it("uses a note, not a warning, when the only finding is a registry private by config", () => {
    const privateGcr = finding("gcr", GCR, { pull: "refused", severity: "note", message: "n", action: "a" });
    const body = renderReleaseNotes({ ...base, visibility: [privateGcr, finding("ghcr", GHCR)] });
    assert.ok(body.includes("> [!NOTE]\n> **Who can pull:**"));
    assert.ok(!body.includes("[!WARNING]"));
  });

  it("refuses a finding for a registry the outputs do not publish", () => {
    assert.throws(
      () => renderReleaseNotes({ ...base, visibility: [finding("local", "127.0.0.1:5000/x")] }),
      /visibility finding for "local", which the stack outputs do not publish/,
    );
  });
});

describe("scripts/release-notes.ts", function () {
  this.timeout(60000);
  const script = path.join(__dirname, "..", "scripts", "release-notes.ts");
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "release-notes-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(args: string[], input?: string) {
    const res = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", script, ...args], {
      input,
      encoding: "utf8",
      cwd: path.join(__dirname, ".."),
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  it("renders the body from an outputs file, generated notes and released versions", () => {
    const file = path.join(dir, "outputs.json");
    writeFileSync(file, JSON.stringify(outputs()));
    const res = run([
      "--version",
      "v1.2.3",
      "--repository",
      "acme/cq-source-s3",
      "--outputs",
      file,
      "--released-versions",
      '["v1.2.2","v1.1.0","v1.2.3-rc.1"]',
    ]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(
      res.stdout,
      renderReleaseNotes({ ...base, previousTag: "v1.2.2" }),
      "the script prints exactly what the pure renderer returns",
    );
  });

  it("reads the outputs from stdin and appends the notes file", () => {
    const notes = path.join(dir, "notes.md");
    writeFileSync(notes, "## What's Changed\n* thing\n");
    const res = run(
      ["--version", "v1.2.3", "--repository", "acme/cq-source-s3", "--notes-file", notes],
      JSON.stringify(outputs()),
    );
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.stdout.endsWith("## What's Changed\n* thing\n"));
  });

  it("puts the anonymous-pull findings of --visibility in the body, and refuses a malformed file", () => {
    const file = path.join(dir, "visibility.json");
    const findings: VisibilityFinding[] = [
      { key: "ghcr", repository: GHCR, pull: "refused", severity: "warn", message: "m", action: "a" },
    ];
    writeFileSync(file, JSON.stringify(findings));
    const args = ["--version", "v1.2.3", "--repository", "acme/cq-source-s3", "--visibility", file];
    const res = run(args, JSON.stringify(outputs()));
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, renderReleaseNotes({ ...base, visibility: findings }));
    writeFileSync(file, JSON.stringify({ ghcr: "private" }));
    const bad = run(args, JSON.stringify(outputs()));
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /^release-notes: --visibility .*visibility\.json: visibility findings must be a JSON array/,
    );
  });

  it("exits 1 naming the missing outputs of a partial stack", () => {
    const res = run(
      ["--version", "v1.2.3", "--repository", "acme/cq-source-s3"],
      JSON.stringify({ imageDigest: DIGEST }),
    );
    assert.equal(res.status, 1);
    assert.equal(res.stdout, "");
    assert.match(
      res.stderr,
      /^release-notes: stack outputs are missing 'imageRefs', 'imageTags', 'platforms'/,
    );
  });

  it("prints the release meta for the workflow", () => {
    const res = run(["--print-meta", "--version", "v1.1.10", "--released-versions", '["v1.2.0","v1.1.9"]']);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { previousTag: "v1.1.9", prerelease: false, latest: false });
    const bad = run(["--print-meta", "--version", "v1.0.0", "--released-versions", '{"a":1}']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--released-versions must be a JSON array of tags/);
  });

  it("exits 1 on invalid JSON and on missing flags", () => {
    const bad = run(["--version", "v1.2.3", "--repository", "acme/cq-source-s3"], "{not json");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /stack outputs \(-\) is not valid JSON/);
    const missing = run(["--repository", "acme/cq-source-s3"], "{}");
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--version and --repository are required/);
  });
});
