import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import * as pulumi from "@pulumi/pulumi";

import { CONFIG_KEYS, ConfigError, parseConfig } from "../lib/config";
import { normaliseVersion, rfc3339Seconds } from "../lib/configValues";
import { configReferenceTable } from "../tooling/configDocs";
import { LOCAL, PROD, source, unwrap } from "./mocks";

const P = "cq-source-s3-release";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

describe("config: valid stacks", () => {
  it("applies every default for a prod config", () => {
    const cfg = parseConfig(source(PROD));
    assert.equal(cfg.gcpRegion, "us-central1");
    assert.equal(cfg.defaultBranch, "main");
    assert.equal(cfg.wifPoolId, "github-actions");
    assert.equal(cfg.wifProviderId, "github");
    assert.equal(cfg.imageName, "cq-source-s3");
    assert.deepEqual(cfg.platforms, ["linux/amd64", "linux/arm64"]);
    assert.equal(
      cfg.enableIdentity && cfg.enableRegistries && cfg.enableRepoSettings && cfg.enableImage,
      true,
    );
    assert.equal(cfg.gcr && cfg.ghcr && cfg.cache, true);
    assert.equal(cfg.allowServiceAccountKeys, false);
    assert.equal(cfg.localRegistry, undefined);
    assert.equal(cfg.builder, undefined);
    assert.deepEqual(cfg.releasedVersions, ["v1.0.0", "v1.2.2", "v1.2.3"]);
  });

  it("lowercases the commit and keeps the version's prefix form", () => {
    const cfg = parseConfig(source({ ...PROD, version: "1.2.3" }));
    assert.equal(cfg.commit, "abc1234def5678901234567890abcdef12345678");
    assert.equal(cfg.version, "v1.2.3");
  });

  it("defaults ghcrUsername to the owner and accepts an explicit one", () => {
    assert.equal(parseConfig(source(PROD)).ghcrUsername, "Example-Org");
    assert.equal(parseConfig(source({ ...PROD, ghcrUsername: "release-bot" })).ghcrUsername, "release-bot");
  });

  it("keeps secrets as secret Outputs", async () => {
    const cfg = parseConfig(source(PROD));
    assert.ok(pulumi.Output.isInstance(cfg.ghcrToken));
    assert.equal(await pulumi.isSecret(cfg.ghcrToken as pulumi.Output<string>), true);
    assert.equal(await pulumi.isSecret(cfg.pulumiConfigPassphrase as pulumi.Output<string>), true);
    assert.equal(await unwrap(cfg.ghcrToken as pulumi.Output<string>), "ghs_token");
  });

  it("accepts the local stack without any GCP or GitHub identity settings", () => {
    const cfg = parseConfig(source(LOCAL));
    assert.equal(cfg.gcpProject, undefined);
    assert.equal(cfg.ghcrToken, undefined);
    assert.equal(cfg.localRegistry, "127.0.0.1:5000");
    assert.equal(cfg.enableIdentity || cfg.enableRegistries || cfg.enableRepoSettings, false);
  });

  it("treats an empty string as unset (Pulumi.yaml's default for optional keys)", () => {
    const cfg = parseConfig(source({ ...LOCAL, builder: "", runtimeImage: "" }));
    assert.equal(cfg.builder, undefined);
    assert.equal(cfg.runtimeImage, undefined);
  });

  it("normalises rollbackTo to the tag form and keeps it unset by default", () => {
    assert.equal(parseConfig(source(PROD)).rollbackTo, undefined);
    assert.equal(parseConfig(source({ ...PROD, rollbackTo: "1.2.2" })).rollbackTo, "v1.2.2");
  });

  it("reads reusePlatformDigests naming every platform, in any order", () => {
    const reuse = { "linux/arm64": D2, "linux/amd64": D1 };
    assert.equal(parseConfig(source(PROD)).reusePlatformDigests, undefined);
    assert.deepEqual(
      parseConfig(source({ ...PROD, reusePlatformDigests: JSON.stringify(reuse) })).reusePlatformDigests,
      reuse,
    );
  });

  it("reports every problem at once", () => {
    assert.throws(
      () => parseConfig(source({ ...PROD, gcr: "yes", commit: "xyz" })),
      (e: unknown) => e instanceof ConfigError && e.problems.length === 2,
    );
  });
});

describe("config: invalid values name the key, the value and what is expected", () => {
  const cases: [string, Record<string, string>, string][] = [
    [
      "gcp project with uppercase",
      { gcpProject: "My-Project" },
      `${P}:gcpProject: invalid value "My-Project": expected a GCP project ID: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter`,
    ],
    [
      "region",
      { gcpRegion: "moon" },
      `${P}:gcpRegion: invalid value "moon": expected a GCP region such as us-central1`,
    ],
    [
      "owner with a slash",
      { githubOwner: "org/repo" },
      `${P}:githubOwner: invalid value "org/repo": expected a GitHub user or organisation name (letters, digits, single hyphens, at most 39 characters)`,
    ],
    [
      "repository with a space",
      { githubRepository: "cq source" },
      `${P}:githubRepository: invalid value "cq source": expected a GitHub repository name without owner (letters, digits, '.', '_', '-')`,
    ],
    [
      "owner id not numeric",
      { githubOwnerId: "example-org" },
      `${P}:githubOwnerId: invalid value "example-org": expected a numeric GitHub owner ID such as 1234567`,
    ],
    [
      "repository id with a leading zero",
      { githubRepositoryId: "0123" },
      `${P}:githubRepositoryId: invalid value "0123": expected a numeric GitHub repository ID such as 765432109`,
    ],
    [
      "pool id starting with gcp-",
      { wifPoolId: "gcp-pool" },
      `${P}:wifPoolId: invalid value "gcp-pool": expected 4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-, not starting or ending with a hyphen`,
    ],
    [
      "provider id too short",
      { wifProviderId: "gh" },
      `${P}:wifProviderId: invalid value "gh": expected 4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-, not starting or ending with a hyphen`,
    ],
    [
      "state bucket as a URL",
      { stateBucket: "gs://state" },
      `${P}:stateBucket: invalid value "gs://state": expected a GCS bucket name without gs:// (3-63 characters: lowercase letters, digits, '.', '_', '-')`,
    ],
    ["boolean spelled yes", { gcr: "yes" }, `${P}:gcr: invalid value "yes": expected true or false`],
    [
      "boolean capitalised",
      { enableImage: "True" },
      `${P}:enableImage: invalid value "True": expected true or false`,
    ],
    [
      "local registry with a scheme",
      { localRegistry: "http://127.0.0.1:5000" },
      `${P}:localRegistry: invalid value "http://127.0.0.1:5000": expected host:port such as 127.0.0.1:5000`,
    ],
    [
      "local registry port out of range",
      { localRegistry: "127.0.0.1:70000" },
      `${P}:localRegistry: invalid value "127.0.0.1:70000": expected a port between 1 and 65535`,
    ],
    [
      "image name uppercase",
      { imageName: "CQ-Source" },
      `${P}:imageName: invalid value "CQ-Source": expected a lowercase image name such as cq-source-s3 (letters, digits, '.', '_', '-', '/')`,
    ],
    [
      "platforms not JSON",
      { platforms: "linux/amd64,linux/arm64" },
      `${P}:platforms: invalid value "linux/amd64,linux/arm64": expected a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]`,
    ],
    [
      "platforms empty",
      { platforms: "[]" },
      `${P}:platforms: invalid value "[]": expected a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]`,
    ],
    [
      "platform windows",
      { platforms: '["windows/amd64"]' },
      `${P}:platforms: invalid value "[\\"windows/amd64\\"]": expected a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]; unsupported os "windows" (supported: linux)`,
    ],
    [
      "platform unknown arch",
      { platforms: '["linux/x86_64"]' },
      `${P}:platforms: invalid value "[\\"linux/x86_64\\"]": expected a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]; unsupported arch "x86_64" (supported: amd64, arm64, arm, 386, ppc64le, riscv64, s390x)`,
    ],
    [
      "platform duplicated",
      { platforms: '["linux/amd64","linux/amd64"]' },
      `${P}:platforms: invalid value "[\\"linux/amd64\\",\\"linux/amd64\\"]": expected a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]; no duplicates`,
    ],
    [
      "version not semver",
      { version: "v1.2" },
      `${P}:version: invalid value "v1.2": expected a semantic version such as v1.2.3 or 1.2.3-rc.1`,
    ],
    [
      "version with a leading zero",
      { version: "v01.2.3" },
      `${P}:version: invalid value "v01.2.3": expected a semantic version such as v1.2.3 or 1.2.3-rc.1`,
    ],
    [
      "version with a double prefix",
      { version: "vv1.2.3" },
      `${P}:version: invalid value "vv1.2.3": expected a semantic version such as v1.2.3 or 1.2.3-rc.1`,
    ],
    [
      "commit not hex",
      { commit: "zzzzzzz" },
      `${P}:commit: invalid value "zzzzzzz": expected a hex commit sha of 7-40 characters`,
    ],
    [
      "commit too short",
      { commit: "abc12" },
      `${P}:commit: invalid value "abc12": expected a hex commit sha of 7-40 characters`,
    ],
    [
      "commit time without zone",
      { commitTime: "2025-03-04T05:06:07" },
      `${P}:commitTime: invalid value "2025-03-04T05:06:07": expected an RFC 3339 time such as 2025-01-02T03:04:05Z`,
    ],
    [
      "commit time on a day that does not exist",
      { commitTime: "2025-02-30T00:00:00Z" },
      `${P}:commitTime: invalid value "2025-02-30T00:00:00Z": expected an RFC 3339 time such as 2025-01-02T03:04:05Z`,
    ],
    [
      "released versions not a list",
      { releasedVersions: "v1.0.0 v1.1.0" },
      `${P}:releasedVersions: invalid value "v1.0.0 v1.1.0": expected a JSON array of tags such as ["v1.0.0","v1.1.0"]`,
    ],
    [
      "released versions with a number",
      { releasedVersions: "[1]" },
      `${P}:releasedVersions: invalid value "[1]": expected a JSON array of tags such as ["v1.0.0","v1.1.0"]`,
    ],
    [
      "builder image with whitespace",
      { builderImage: "golang latest" },
      `${P}:builderImage: invalid value "golang latest": expected an image reference registry/path[:tag][@sha256:<64 hex>]`,
    ],
    [
      "builder name with a slash",
      { builder: "a/b" },
      `${P}:builder: invalid value "a/b": expected a buildx builder name such as local`,
    ],
    // Cross-field rules.
    [
      "identity without owner id",
      { githubOwnerId: "" },
      `${P}:githubOwnerId: missing: required because enableIdentity is true`,
    ],
    [
      "gcr without project",
      { gcpProject: "", enableIdentity: "false", enableRegistries: "false", enableRepoSettings: "false" },
      `${P}:gcpProject: missing: required because gcr is true`,
    ],
    [
      "ghcr without token",
      { ghcrToken: "" },
      `${P}:ghcrToken: missing: required because ghcr is true (set it with --secret)`,
    ],
    [
      "image without any registry",
      { gcr: "false", ghcr: "false" },
      `${P}:enableImage: invalid value "true": expected at least one registry: gcr, ghcr or localRegistry`,
    ],
    ["image without version", { version: "" }, `${P}:version: missing: required because enableImage is true`],
    [
      "image without commit time",
      { commitTime: "" },
      `${P}:commitTime: missing: required because enableImage is true`,
    ],
    [
      "repo settings without identity",
      { enableIdentity: "false" },
      `${P}:enableRepoSettings: invalid value "true": expected false when enableIdentity is false (it publishes identity names)`,
    ],
    [
      "repo settings without passphrase",
      { pulumiConfigPassphrase: "" },
      `${P}:pulumiConfigPassphrase: missing: required because enableRepoSettings is true (set it with --secret)`,
    ],
    [
      "Hub publishing without its API key",
      { hubPublish: "true" },
      `${P}:cloudqueryApiKey: missing: required because hubPublish is true (set it with --secret)`,
    ],
    [
      "repo settings without state bucket",
      { stateBucket: "" },
      `${P}:stateBucket: missing: required because enableRepoSettings is true`,
    ],
    [
      "pool id starting with a hyphen (refused here, not later by the identity component)",
      { wifPoolId: "-abcd" },
      `${P}:wifPoolId: invalid value "-abcd": expected 4-32 characters of lowercase letters, digits and hyphens, not starting with gcp-, not starting or ending with a hyphen`,
    ],
    [
      "rollbackTo a pre-release",
      { rollbackTo: "v1.2.3-rc.1" },
      `${P}:rollbackTo: invalid value "v1.2.3-rc.1": expected a stable release tag such as v1.2.2 (no pre-release)`,
    ],
    [
      "rollbackTo not semver",
      { rollbackTo: "v1.2" },
      `${P}:rollbackTo: invalid value "v1.2": expected a stable release tag such as v1.2.2 (no pre-release)`,
    ],
    [
      "reusePlatformDigests not an object",
      { reusePlatformDigests: '["sha256:00"]' },
      `${P}:reusePlatformDigests: invalid value "[\\"sha256:00\\"]": expected a JSON object of platform → digest, e.g. {"linux/amd64":"sha256:<64 hex>","linux/arm64":"sha256:<64 hex>"}`,
    ],
    [
      "reusePlatformDigests with a short digest",
      { reusePlatformDigests: JSON.stringify({ "linux/amd64": "sha256:abc", "linux/arm64": D2 }) },
      `${P}:reusePlatformDigests: invalid value ${JSON.stringify(JSON.stringify({ "linux/amd64": "sha256:abc", "linux/arm64": D2 }))}: expected a JSON object of platform → digest, e.g. {"linux/amd64":"sha256:<64 hex>","linux/arm64":"sha256:<64 hex>"}; the digest of linux/amd64 is not sha256:<64 hex>`,
    ],
    [
      "reusePlatformDigests with an unknown platform",
      { reusePlatformDigests: JSON.stringify({ "windows/amd64": D1 }) },
      `${P}:reusePlatformDigests: invalid value ${JSON.stringify(JSON.stringify({ "windows/amd64": D1 }))}: expected a JSON object of platform → digest, e.g. {"linux/amd64":"sha256:<64 hex>","linux/arm64":"sha256:<64 hex>"}; its keys: a JSON list of distinct platforms os/arch, e.g. ["linux/amd64","linux/arm64"]; unsupported os "windows" (supported: linux)`,
    ],
    [
      "reusePlatformDigests for other platforms than the build's",
      { reusePlatformDigests: JSON.stringify({ "linux/amd64": D1 }) },
      `${P}:reusePlatformDigests: invalid value ${JSON.stringify(JSON.stringify({ "linux/amd64": D1 }))}: expected a digest for each of platforms ["linux/amd64","linux/arm64"] and no other`,
    ],
    [
      "missing owner",
      { githubOwner: "" },
      `${P}:githubOwner: missing: expected a GitHub user or organisation name (letters, digits, single hyphens, at most 39 characters)`,
    ],
  ];
  for (const [what, override, message] of cases) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseConfig(source({ ...PROD, ...override })),
        (e: unknown) => e instanceof ConfigError && e.message === message,
      );
    });
  }

  it("rejects an unknown key (a typo would otherwise be silently ignored)", () => {
    assert.throws(
      () => parseConfig(source(PROD, ["gcpProject", "enableImages"])),
      (e: unknown) =>
        e instanceof Error &&
        e.message === `${P}:enableImages: unknown config key (known: see docs/configuration.md)`,
    );
  });
});

describe("config: helpers", () => {
  const versions: [string, string | undefined][] = [
    ["v1.2.3", "v1.2.3"],
    ["1.2.3", "v1.2.3"],
    ["1.2.3-rc.1+build.5", "v1.2.3-rc.1+build.5"],
    ["v1.2", undefined],
    ["=1.2.3", undefined],
    [" 1.2.3", undefined],
    ["V1.2.3", undefined],
  ];
  for (const [raw, want] of versions) {
    it(`normalises version ${JSON.stringify(raw)} to ${String(want)}`, () => {
      assert.equal(normaliseVersion(raw, "v"), want);
    });
  }
  it("reads RFC 3339 with offsets and fractions as epoch seconds", () => {
    assert.equal(rfc3339Seconds("1970-01-01T00:00:00Z"), 0);
    assert.equal(rfc3339Seconds("2025-01-01T01:00:00.999+01:00"), 1735689600);
    assert.equal(rfc3339Seconds("2025-13-01T00:00:00Z"), undefined);
  });
});

describe("config: Pulumi.yaml declares every key with the same type and default", () => {
  const project = yaml.load(readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
    name: string;
    config: Record<string, { type: string; description: string; default?: unknown }>;
  };

  it("is the cq-source-s3-release project", () => {
    assert.equal(project.name, P);
  });
  it("declares exactly the keys lib/config.ts knows", () => {
    assert.deepEqual(Object.keys(project.config).sort(), Object.keys(CONFIG_KEYS).sort());
  });
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    it(`declares ${key} as ${spec.type} with default ${JSON.stringify(spec.default)}`, () => {
      const declared = project.config[key];
      assert.equal(declared.type, spec.type);
      assert.ok(declared.description.length > 10);
      assert.deepEqual(declared.default, spec.default);
    });
  }
  for (const stack of ["prod", "local"] as const) {
    it(`Pulumi.${stack}.yaml uses only declared keys, each declared for that stack`, () => {
      const file = yaml.load(readFileSync(path.join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
      };
      for (const k of Object.keys(file.config)) {
        const key = k.slice(P.length + 1);
        assert.ok(k.startsWith(`${P}:`) && key in CONFIG_KEYS, `unknown key ${k}`);
        const stacks: readonly string[] = CONFIG_KEYS[key as keyof typeof CONFIG_KEYS].stacks;
        assert.ok(
          stacks.includes(stack),
          `${key} is set in Pulumi.${stack}.yaml but its stacks are ${stacks}`,
        );
      }
    });
  }
  it("docs/configuration.md carries the table generated from CONFIG_KEYS (npm run docs:config)", () => {
    const page = readFileSync(path.join(__dirname, "..", "docs", "configuration.md"), "utf8");
    assert.ok(
      page.includes(`\n${configReferenceTable()}\n`),
      "docs/configuration.md is stale: run npm run docs:config",
    );
  });
  it("Pulumi.local.yaml is a valid image-only config", () => {
    const file = yaml.load(readFileSync(path.join(__dirname, "..", "Pulumi.local.yaml"), "utf8")) as {
      config: Record<string, string>;
    };
    const values = Object.fromEntries(
      Object.entries(file.config).map(([k, v]) => [k.slice(P.length + 1), String(v)]),
    );
    const cfg = parseConfig(source(values));
    assert.equal(cfg.enableImage, true);
    assert.equal(
      cfg.enableIdentity || cfg.enableRegistries || cfg.enableRepoSettings || cfg.gcr || cfg.ghcr,
      false,
    );
  });
});
