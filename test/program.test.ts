// The whole program (index.ts) under mocks, per stack: what `pulumi up` would register.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import * as pulumi from "@pulumi/pulumi";

import {
  calls,
  customResources,
  LOCAL,
  PROD,
  registrations,
  runProgram,
  settle,
  unwrap,
  type Program,
} from "./mocks";

/** Pulumi.local.yaml as a config table. */
function localStackFile(): Record<string, string> {
  const file = yaml.load(readFileSync(path.join(__dirname, "..", "Pulumi.local.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k, String(v)]));
}

describe("program: local stack (Pulumi.local.yaml)", () => {
  let program: Program;
  before(async () => {
    program = await runProgram(localStackFile());
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await settle();
  });

  it("registers only docker-build resources: one Image per platform and one Index per tag", () => {
    const types = customResources().map((r) => r.type);
    assert.deepEqual([...new Set(types)].sort(), ["docker-build:index:Image", "docker-build:index:Index"]);
    assert.equal(types.filter((t) => t === "docker-build:index:Image").length, 2);
    assert.equal(types.filter((t) => t === "docker-build:index:Index").length, 4);
    assert.deepEqual(
      registrations.filter((r) => !r.custom).map((r) => r.type),
      ["cq-release:image:PluginImage"],
    );
  });

  it("touches nothing from GCP, GitHub or time (the API wait), not even a provider function", () => {
    assert.equal(
      registrations.filter((r) => /^(gcp|github|time|pulumi:providers:(gcp|github|time))/.test(r.type))
        .length,
      0,
    );
    assert.equal(calls.length, 0);
  });

  it("does not even load the time package (a fresh process runs the local stack)", function () {
    // This process has loaded it for other tests already, so ask a fresh one.
    this.timeout(120_000);
    const script = `
      const mocks = require("./test/mocks");
      (async () => {
        await mocks.setupMocks(${JSON.stringify(localStackFile())});
        const program = require("./index");
        await mocks.unwrap(program.pullCommands);
        await mocks.settle();
        const loaded = Object.keys(require.cache).filter((f) => f.includes("@pulumiverse"));
        process.stdout.write(JSON.stringify({ images: mocks.registrations.length, loaded }));
      })();
    `;
    const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
    });
    const { images, loaded } = JSON.parse(out) as { images: number; loaded: string[] };
    assert.ok(images > 0, "the local program ran");
    assert.deepEqual(loaded, []);
  });

  it("pushes to 127.0.0.1:5000 without credentials, with the local builder and base images", () => {
    const img = customResources().find((r) => r.name === "plugin-linux-amd64");
    assert.ok(img);
    assert.deepEqual(img.inputs.tags, ["127.0.0.1:5000/cq-source-s3:v0.1.0-0123456-amd64"]);
    assert.deepEqual(img.inputs.registries, []);
    assert.deepEqual(img.inputs.builder, { name: "local" });
    assert.equal(
      (img.inputs.buildArgs as Record<string, string>).BUILDER_IMAGE,
      "127.0.0.1:5000/cq-build/golang:local",
    );
    assert.equal(
      (img.inputs.buildArgs as Record<string, string>).RUNTIME_IMAGE,
      "127.0.0.1:5000/cq-build/distroless-static:nonroot",
    );
  });

  it("exports the image outputs and no identity outputs", async () => {
    const digest = await unwrap(program.imageDigest as pulumi.Output<string>);
    assert.deepEqual(await unwrap(program.imageRefs as pulumi.Output<Record<string, string>>), {
      local: `127.0.0.1:5000/cq-source-s3@${digest}`,
    });
    assert.deepEqual(program.imageTags, ["v0.1.0-0123456", "v0.1.0", "v0.1", "latest"]);
    assert.deepEqual(program.imageRepositories, ["127.0.0.1:5000/cq-source-s3"]);
    assert.deepEqual(program.platforms, ["linux/amd64", "linux/arm64"]);
    assert.equal(program.version, "v0.1.0");
    assert.equal(program.commit, "0123456789abcdef0123456789abcdef01234567");
    assert.equal(program.workloadIdentityProvider, undefined);
    assert.equal(program.releaseServiceAccount, undefined);
    assert.deepEqual(program.registryVisibility, { local: { public: true, setByProgram: false } });
  });
});

describe("program: prod stack", () => {
  let program: Program;
  before(async () => {
    program = await runProgram(PROD, ["ghcrToken", "pulumiConfigPassphrase"]);
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await unwrap(program.workloadIdentityProvider as pulumi.Output<string>);
    await settle();
  });

  it("creates identity, registries, repo settings and image components in that order", () => {
    assert.deepEqual(
      registrations.filter((r) => !r.custom).map((r) => r.type),
      [
        "cq-release:identity:GitHubIdentity",
        "cq-release:registries:Registries",
        "cq-release:repoSettings:RepoSettings",
        "cq-release:image:PluginImage",
      ],
    );
  });

  it("grants registry write to the release service account and read to preview", async () => {
    const writer = customResources().find((r) => r.name === "registries-release-writer");
    const reader = customResources().find((r) => r.name === "registries-preview-reader");
    const release = await unwrap(program.releaseServiceAccount as pulumi.Output<string>);
    const preview = await unwrap(program.previewServiceAccount as pulumi.Output<string>);
    assert.equal(writer?.inputs.member, `serviceAccount:${release}`);
    assert.equal(reader?.inputs.member, `serviceAccount:${preview}`);
    assert.notEqual(release, preview);
  });

  it("enables each API once (identity enables iam/iamcredentials/sts, registries artifactregistry)", () => {
    const services = customResources()
      .filter((r) => r.type === "gcp:projects/service:Service")
      .map((r) => r.inputs.service as string)
      .sort();
    assert.deepEqual(services, [...new Set(services)]);
    assert.ok(services.includes("artifactregistry.googleapis.com"));
  });

  it("publishes the identity and image names as Actions variables", async () => {
    const vars = Object.fromEntries(
      customResources()
        .filter((r) => r.type === "github:index/actionsVariable:ActionsVariable")
        .map((r) => [r.inputs.variableName, r.inputs.value]),
    );
    assert.deepEqual(vars, {
      GCP_PROJECT_ID: "example-cq-release",
      GCP_WORKLOAD_IDENTITY_PROVIDER: await unwrap(program.workloadIdentityProvider as pulumi.Output<string>),
      GCP_RELEASE_SERVICE_ACCOUNT: await unwrap(program.releaseServiceAccount as pulumi.Output<string>),
      GCP_PREVIEW_SERVICE_ACCOUNT: await unwrap(program.previewServiceAccount as pulumi.Output<string>),
      PULUMI_BACKEND_URL: "gs://example-cq-release-state",
    });
    assert.match(
      vars.GCP_WORKLOAD_IDENTITY_PROVIDER as string,
      /^projects\/\d+\/locations\/global\/workloadIdentityPools\/github-actions\/providers\/github$/,
    );
  });

  it("gets the gcr.io password from the gcp provider's access token", () => {
    assert.deepEqual(
      calls.map((c) => c.token),
      ["gcp:organizations/getClientConfig:getClientConfig"],
    );
  });

  it("exports refs for gcr and ghcr and the contracted output names", async () => {
    const refs = await unwrap(program.imageRefs as pulumi.Output<Record<string, string>>);
    assert.deepEqual(Object.keys(refs), ["gcr", "ghcr"]);
    assert.deepEqual(program.imageTags, ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]);
    for (const name of [
      "imageDigest",
      "imageRefs",
      "imageTags",
      "imageRepositories",
      "pullCommands",
      "platforms",
      "platformDigests",
      "imageBuildArgs",
      "version",
      "commit",
      "workloadIdentityProvider",
      "releaseServiceAccount",
      "previewServiceAccount",
      "registryVisibility",
    ]) {
      assert.notEqual((program as Record<string, unknown>)[name], undefined, name);
    }
  });

  it("is public by default: allUsers may read the gcr.io repository, and the outputs say so", () => {
    const pub = customResources().find((r) => r.name === "registries-public-reader");
    assert.equal(pub?.inputs.member, "allUsers");
    assert.equal(pub?.inputs.role, "roles/artifactregistry.reader");
    assert.deepEqual(program.registryVisibility, {
      gcr: { public: true, key: "gcrPublic", setByProgram: true },
      ghcr: { public: true, key: "ghcrPublic", setByProgram: false },
    });
  });
});

describe("program: prod stack with private registries (gcrPublic, ghcrPublic false)", () => {
  let program: Program;
  before(async () => {
    program = await runProgram({ ...PROD, gcrPublic: "false", ghcrPublic: "false" }, [
      "ghcrToken",
      "pulumiConfigPassphrase",
    ]);
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await settle();
  });

  it("grants allUsers nothing, and the outputs say both are private", () => {
    assert.deepEqual(
      customResources()
        .filter((r) => r.inputs.member === "allUsers")
        .map((r) => r.name),
      [],
    );
    assert.ok(customResources().some((r) => r.name === "registries-preview-reader"));
    assert.deepEqual(program.registryVisibility, {
      gcr: { public: false, key: "gcrPublic", setByProgram: true },
      ghcr: { public: false, key: "ghcrPublic", setByProgram: false },
    });
  });
});

describe("program: invalid config", () => {
  const bad: [string, Record<string, string>, RegExp][] = [
    ["bad version", { ...PROD, version: "1.2" }, /cq-source-s3-release:version: invalid value "1.2"/],
    [
      "typo in a key",
      { ...PROD, enableImages: "false" },
      /cq-source-s3-release:enableImages: unknown config key/,
    ],
    [
      "local stack with ghcr but no token",
      { ...LOCAL, ghcr: "true" },
      /cq-source-s3-release:ghcrToken: missing/,
    ],
  ];
  for (const [what, config, message] of bad) {
    it(`fails before registering any resource: ${what}`, async () => {
      await assert.rejects(runProgram(config, ["ghcrToken", "pulumiConfigPassphrase"]), message);
      await settle();
      assert.equal(registrations.length, 0);
      assert.equal(calls.length, 0);
    });
  }
});

describe("program: the Hub door (hubPublish)", () => {
  const secretNames = () =>
    customResources()
      .filter((r) => r.type === "github:index/actionsSecret:ActionsSecret")
      .map((r) => r.inputs.secretName)
      .sort();

  it("off by default: no CLOUDQUERY_API_KEY secret, the hubPublish output false", async () => {
    const program = await runProgram(PROD, ["ghcrToken", "pulumiConfigPassphrase"]);
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await settle();
    assert.equal(program.hubPublish, false);
    assert.deepEqual(secretNames(), ["PULUMI_CONFIG_PASSPHRASE"]);
  });

  it("on: the key becomes the Actions secret CLOUDQUERY_API_KEY, the hubPublish output true", async () => {
    const program = await runProgram({ ...PROD, hubPublish: "true", cloudqueryApiKey: "cqhub_0123456789" }, [
      "ghcrToken",
      "pulumiConfigPassphrase",
      "cloudqueryApiKey",
    ]);
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await settle();
    assert.equal(program.hubPublish, true);
    assert.deepEqual(secretNames(), ["CLOUDQUERY_API_KEY", "PULUMI_CONFIG_PASSPHRASE"]);
  });

  it("on without a key: refused naming the key, before any resource is registered", async () => {
    await assert.rejects(
      runProgram({ ...PROD, hubPublish: "true" }, ["ghcrToken", "pulumiConfigPassphrase"]),
      /cloudqueryApiKey: missing: required because hubPublish is true \(set it with --secret\)/,
    );
    assert.equal(registrations.length, 0);
  });
});
