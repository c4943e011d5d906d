import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { parseConfig } from "../lib/config";
import { buildArgs, ghaCacheAvailable, imageArgsFromConfig } from "../lib/stackArgs";
import {
  byName,
  containsSecret,
  customResources,
  fakeDigest,
  isSecretInput,
  LOCAL,
  plain,
  PROD,
  source,
  settle,
  setupMocks,
  unwrap,
} from "./mocks";

type ImageModule = typeof import("../components/image");

const GHA_ENV = { ACTIONS_RUNTIME_TOKEN: "t", ACTIONS_CACHE_URL: "https://cache.example/" };

describe("image: pure helpers", () => {
  let mod: ImageModule;
  before(async () => {
    await setupMocks();
    mod = await import("../components/image");
  });

  const envs: [string, Record<string, string | undefined>, boolean][] = [
    ["token and legacy cache url", GHA_ENV, true],
    [
      "token and results url (cache service v2)",
      { ACTIONS_RUNTIME_TOKEN: "t", ACTIONS_RESULTS_URL: "r" },
      true,
    ],
    [
      "token, results url and the v2 switch",
      { ACTIONS_RUNTIME_TOKEN: "t", ACTIONS_RESULTS_URL: "r", ACTIONS_CACHE_SERVICE_V2: "True" },
      true,
    ],
    ["token and both urls", { ...GHA_ENV, ACTIONS_RESULTS_URL: "r" }, true],
    ["token only", { ACTIONS_RUNTIME_TOKEN: "t" }, false],
    ["token and only the v2 switch", { ACTIONS_RUNTIME_TOKEN: "t", ACTIONS_CACHE_SERVICE_V2: "True" }, false],
    ["url only", { ACTIONS_CACHE_URL: "u" }, false],
    ["results url only", { ACTIONS_RESULTS_URL: "r" }, false],
    ["empty token", { ACTIONS_RUNTIME_TOKEN: "", ACTIONS_CACHE_URL: "u" }, false],
    ["empty urls", { ACTIONS_RUNTIME_TOKEN: "t", ACTIONS_CACHE_URL: "", ACTIONS_RESULTS_URL: "" }, false],
    ["neither", {}, false],
  ];
  for (const [what, env, want] of envs) {
    it(`gha cache available: ${what} → ${want}`, () => {
      assert.equal(ghaCacheAvailable(env), want);
    });
  }

  it("slugs platforms for cache tags and names", () => {
    assert.deepEqual(mod.platformSlug("linux/arm64"), { arch: "arm64", name: "linux-arm64" });
  });

  it("puts a max-mode registry cache per platform in the primary repository", () => {
    assert.deepEqual(mod.cacheSettings("gcr.io/p/cq-source-s3", "cq-source-s3", "linux/arm64", false), {
      cacheFrom: [{ registry: { ref: "gcr.io/p/cq-source-s3:buildcache-arm64" } }],
      cacheTo: [
        { registry: { ref: "gcr.io/p/cq-source-s3:buildcache-arm64", mode: "max", ignoreError: true } },
      ],
    });
  });

  it("adds a gha cache scoped per platform when available", () => {
    const c = mod.cacheSettings("r/i", "i", "linux/amd64", true);
    assert.deepEqual(c.cacheFrom[1], { gha: { scope: "i-amd64" } });
    assert.deepEqual(c.cacheTo[1], { gha: { scope: "i-amd64", mode: "max", ignoreError: true } });
  });

  it("derives build args: VERSION, SOURCE_DATE_EPOCH from the commit time, base-image overrides", () => {
    assert.deepEqual(
      buildArgs({
        version: "v1.2.3",
        commitTime: "2025-01-01T00:00:00Z",
        builderImage: "127.0.0.1:5000/cq-build/golang:local",
      }),
      {
        VERSION: "v1.2.3",
        SOURCE_DATE_EPOCH: "1735689600",
        BUILDER_IMAGE: "127.0.0.1:5000/cq-build/golang:local",
      },
    );
  });

  it("maps config to image args with gcr/ghcr credentials as secrets and none for local", async () => {
    const cfg = parseConfig(source({ ...PROD, localRegistry: "127.0.0.1:5000" }));
    const args = imageArgsFromConfig(cfg, { gcrAccessToken: "ya29.token", env: {} });
    assert.deepEqual(
      args.targets.map((t) => [t.key, t.repository, t.credentials === undefined]),
      [
        ["gcr", "gcr.io/example-cq-release/cq-source-s3", false],
        ["ghcr", "ghcr.io/example-org/cq-source-s3", false],
        ["local", "127.0.0.1:5000/cq-source-s3", true],
      ],
    );
    const [gcr, ghcr] = args.targets;
    assert.equal(gcr.credentials?.username, "oauth2accesstoken");
    assert.equal(await pulumi.isSecret(gcr.credentials?.password as pulumi.Output<string>), true);
    assert.equal(await unwrap(gcr.credentials?.password as pulumi.Output<string>), "ya29.token");
    assert.equal(ghcr.credentials?.username, "Example-Org");
    assert.equal(await pulumi.isSecret(ghcr.credentials?.password as pulumi.Output<string>), true);
    assert.deepEqual(
      args.tags.map((t) => t.tag),
      ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"],
    );
    assert.equal(args.ghaCache, false);
    assert.equal(
      args.labels["org.opencontainers.image.revision"],
      "abc1234def5678901234567890abcdef12345678",
    );
  });

  it("builds the same image whatever the repository: image name and registries are not build inputs", () => {
    const inputs = (over: Record<string, string>) => {
      const a = imageArgsFromConfig(parseConfig(source({ ...LOCAL, ...over })), { env: {} });
      return { buildArgs: a.buildArgs, labels: a.labels };
    };
    const first = inputs({});
    assert.deepEqual(inputs({ imageName: "cq-source-s3-mirror" }), first);
    assert.deepEqual(inputs({ localRegistry: "127.0.0.1:5001" }), first);
    assert.equal(first.labels["org.opencontainers.image.title"], "cq-source-s3");
  });

  it("refuses gcr without an access token", () => {
    const cfg = parseConfig(source(PROD));
    assert.throws(() => imageArgsFromConfig(cfg, { env: {} }), {
      message: "gcr is enabled but no GCP access token was supplied",
    });
  });

  it("turns gha off when cache is off, even in Actions", () => {
    const cfg = parseConfig(source({ ...LOCAL, cache: "false" }));
    assert.equal(imageArgsFromConfig(cfg, { env: GHA_ENV }).ghaCache, false);
  });
});

describe("image component: gcr + ghcr + local, two platforms, gha cache", () => {
  let image: InstanceType<ImageModule["PluginImage"]>;

  before(async () => {
    await setupMocks();
    const mod = await import("../components/image");
    const cfg = parseConfig(
      source({
        ...PROD,
        localRegistry: "127.0.0.1:5000",
        builder: "local",
        runtimeImage: "r.example/d:nonroot",
      }),
    );
    image = new mod.PluginImage(
      "plugin",
      imageArgsFromConfig(cfg, { gcrAccessToken: "ya29.t", env: GHA_ENV }),
    );
    await unwrap(image.pullCommands);
    await settle();
  });

  it("registers one Image per platform and one Index per registry × tag, nothing else", () => {
    const types = customResources().map((r) => r.type);
    assert.equal(types.filter((t) => t === "docker-build:index:Image").length, 2);
    assert.equal(types.filter((t) => t === "docker-build:index:Index").length, 12);
    assert.equal(types.length, 14);
    assert.equal(byName("plugin").type, "cq-release:image:PluginImage");
  });

  it("builds each platform from ./Dockerfile with ./plugin as context and pushes with reproducible timestamps", () => {
    const amd64 = byName("plugin-linux-amd64");
    // One export: the registry push rewriting timestamps; `push: true` would add a second one.
    assert.equal(amd64.inputs.push, false);
    assert.deepEqual(amd64.inputs.exports, [{ raw: "type=registry,rewrite-timestamp=true" }]);
    assert.deepEqual(amd64.inputs.platforms, ["linux/amd64"]);
    assert.deepEqual(amd64.inputs.dockerfile, { location: "./Dockerfile" });
    assert.deepEqual(amd64.inputs.context, { location: "./plugin" });
    assert.deepEqual(amd64.inputs.builder, { name: "local" });
    assert.deepEqual(amd64.inputs.buildArgs, {
      VERSION: "v1.2.3",
      SOURCE_DATE_EPOCH: "1741064767",
      RUNTIME_IMAGE: "r.example/d:nonroot",
    });
    assert.equal(
      (amd64.inputs.labels as Record<string, string>)["org.opencontainers.image.created"],
      "2025-03-04T05:06:07Z",
    );
    assert.deepEqual(byName("plugin-linux-arm64").inputs.platforms, ["linux/arm64"]);
  });

  it("pushes each platform image under a per-arch sha tag in every registry", () => {
    assert.deepEqual(byName("plugin-linux-arm64").inputs.tags, [
      "gcr.io/example-cq-release/cq-source-s3:v1.2.3-abc1234-arm64",
      "ghcr.io/example-org/cq-source-s3:v1.2.3-abc1234-arm64",
      "127.0.0.1:5000/cq-source-s3:v1.2.3-abc1234-arm64",
    ]);
  });

  it("caches per platform in the primary (gcr) repository, plus gha", () => {
    const arm = byName("plugin-linux-arm64");
    assert.deepEqual(arm.inputs.cacheFrom, [
      { registry: { ref: "gcr.io/example-cq-release/cq-source-s3:buildcache-arm64" } },
      { gha: { scope: "cq-source-s3-arm64" } },
    ]);
    assert.deepEqual(plain(arm.inputs.cacheTo), [
      {
        registry: {
          ref: "gcr.io/example-cq-release/cq-source-s3:buildcache-arm64",
          mode: "max",
          ignoreError: true,
        },
      },
      { gha: { scope: "cq-source-s3-arm64", mode: "max", ignoreError: true } },
    ]);
  });

  it("logs in to gcr.io with the access token and ghcr.io with the token, both secret; none for local", () => {
    const raw = byName("plugin-linux-amd64").inputs.registries;
    // The list carries secrets, so Pulumi marks the whole input secret.
    assert.equal(isSecretInput(raw), true);
    const regs = plain(raw) as Record<string, unknown>[];
    assert.deepEqual(
      regs.map((r) => [r.address, plain(r.username)]),
      [
        ["gcr.io", "oauth2accesstoken"],
        ["ghcr.io", "Example-Org"],
      ],
    );
    assert.deepEqual(
      regs.map((r) => plain(r.password)),
      ["ya29.t", "ghs_token"],
    );
  });

  it("never lets Pulumi delete a pushed release (retainOnDelete on every Image and Index)", () => {
    for (const r of customResources()) {
      assert.equal(r.retainOnDelete, true, r.name);
    }
  });

  it("names indexes by registry and tag role, and joins the platform digests in that registry", () => {
    const names = customResources()
      .filter((r) => r.type === "docker-build:index:Index")
      .map((r) => r.name)
      .sort();
    assert.deepEqual(
      names,
      [
        "plugin-gcr-sha",
        "plugin-gcr-version",
        "plugin-gcr-minor",
        "plugin-gcr-latest",
        "plugin-ghcr-sha",
        "plugin-ghcr-version",
        "plugin-ghcr-minor",
        "plugin-ghcr-latest",
        "plugin-local-sha",
        "plugin-local-version",
        "plugin-local-minor",
        "plugin-local-latest",
      ].sort(),
    );
    const latest = byName("plugin-ghcr-latest");
    assert.equal(latest.inputs.tag, "ghcr.io/example-org/cq-source-s3:latest");
    const amdDigest = fakeDigest('plugin-linux-amd64:["linux/amd64"]');
    const armDigest = fakeDigest('plugin-linux-arm64:["linux/arm64"]');
    assert.deepEqual(latest.inputs.sources, [
      `ghcr.io/example-org/cq-source-s3@${amdDigest}`,
      `ghcr.io/example-org/cq-source-s3@${armDigest}`,
    ]);
    assert.equal(latest.inputs.push, true);
    assert.equal(containsSecret(latest.inputs.registry), true);
    assert.equal((plain(latest.inputs.registry) as Record<string, unknown>).username, "Example-Org");
    assert.equal(byName("plugin-local-version").inputs.registry, undefined);
  });

  it("outputs the index digest, refs per registry, tags and pull commands", async () => {
    const digest = await unwrap(image.digest);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(await unwrap(image.refs), {
      gcr: `gcr.io/example-cq-release/cq-source-s3@${digest}`,
      ghcr: `ghcr.io/example-org/cq-source-s3@${digest}`,
      local: `127.0.0.1:5000/cq-source-s3@${digest}`,
    });
    assert.deepEqual(image.tags, ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]);
    assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64"]);
    // Each platform's manifest digest is its Image's digest (what SBOM and provenance name).
    const platformDigests = await unwrap(image.platformDigests);
    assert.deepEqual(Object.keys(platformDigests), ["linux/amd64", "linux/arm64"]);
    assert.equal(platformDigests["linux/arm64"], fakeDigest('plugin-linux-arm64:["linux/arm64"]'));
    assert.notEqual(platformDigests["linux/amd64"], platformDigests["linux/arm64"]);
    assert.equal(image.buildArgs.SOURCE_DATE_EPOCH, "1741064767");
    assert.deepEqual(await unwrap(image.pullCommands), [
      `docker pull gcr.io/example-cq-release/cq-source-s3:v1.2.3@${digest}`,
      `docker pull ghcr.io/example-org/cq-source-s3:v1.2.3@${digest}`,
      `docker pull 127.0.0.1:5000/cq-source-s3:v1.2.3@${digest}`,
    ]);
  });
});

describe("image component: cache off, pre-release", () => {
  it("sets no cache and tags only the exact pre-release", async () => {
    await setupMocks();
    const mod = await import("../components/image");
    const cfg = parseConfig(
      source({ ...LOCAL, cache: "false", version: "v2.0.0-rc.1", platforms: '["linux/amd64"]' }),
    );
    const image = new mod.PluginImage("pre", imageArgsFromConfig(cfg, { env: GHA_ENV }));
    await unwrap(image.digest);
    await settle();
    const img = byName("pre-linux-amd64");
    assert.deepEqual(img.inputs.cacheFrom, []);
    assert.deepEqual(img.inputs.cacheTo, []);
    assert.deepEqual(img.inputs.registries, []);
    assert.deepEqual(
      customResources()
        .filter((r) => r.type === "docker-build:index:Index")
        .map((r) => r.inputs.tag),
      ["127.0.0.1:5000/cq-source-s3:v2.0.0-rc.1-0123456", "127.0.0.1:5000/cq-source-s3:v2.0.0-rc.1"],
    );
  });

  it("refuses tags without a version role", async () => {
    const mod = await import("../components/image");
    assert.throws(
      () =>
        new mod.PluginImage("bad", {
          targets: [{ key: "local", address: "a:1", repository: "a:1/i" }],
          tags: [{ role: "sha", tag: "x" }],
          buildArgs: {},
          labels: {},
        }),
      { message: "PluginImage needs a tag with role 'version'" },
    );
  });
});

describe("image component: reuse mode (reusePlatformDigests), gcr + ghcr", () => {
  // The digests a build of this commit got (the build's own fake digests), so the indexes must come
  // out exactly as in a build.
  const amd64 = fakeDigest('plugin-linux-amd64:["linux/amd64"]');
  const arm64 = fakeDigest('plugin-linux-arm64:["linux/arm64"]');
  let image: InstanceType<ImageModule["PluginImage"]>;
  let built: { digest: string; refs: Record<string, string> };

  before(async () => {
    await setupMocks();
    const mod = await import("../components/image");
    const build = new mod.PluginImage(
      "plugin",
      imageArgsFromConfig(parseConfig(source(PROD)), { gcrAccessToken: "ya29.t", env: {} }),
    );
    built = { digest: await unwrap(build.digest), refs: await unwrap(build.refs) };
    await settle();

    await setupMocks();
    const cfg = parseConfig(
      // Keys in another order than `platforms`: the sources still follow `platforms`.
      source({
        ...PROD,
        reusePlatformDigests: JSON.stringify({ "linux/arm64": arm64, "linux/amd64": amd64 }),
      }),
    );
    image = new mod.PluginImage("plugin", imageArgsFromConfig(cfg, { gcrAccessToken: "ya29.t", env: {} }));
    await unwrap(image.pullCommands);
    await settle();
  });

  it("registers no Image (nothing is built), and one Index per registry × tag", () => {
    const types = customResources().map((r) => r.type);
    assert.equal(types.filter((t) => t === "docker-build:index:Image").length, 0);
    assert.equal(types.filter((t) => t === "docker-build:index:Index").length, 8);
    assert.equal(types.length, 8);
  });

  it("joins the given digests in platforms order in each registry", () => {
    for (const [key, repo] of [
      ["gcr", "gcr.io/example-cq-release/cq-source-s3"],
      ["ghcr", "ghcr.io/example-org/cq-source-s3"],
    ]) {
      for (const role of ["sha", "version", "minor", "latest"]) {
        assert.deepEqual(byName(`plugin-${key}-${role}`).inputs.sources, [
          `${repo}@${amd64}`,
          `${repo}@${arm64}`,
        ]);
      }
    }
    assert.equal(byName("plugin-ghcr-version").inputs.tag, "ghcr.io/example-org/cq-source-s3:v1.2.3");
    assert.equal(
      byName("plugin-gcr-sha").inputs.tag,
      "gcr.io/example-cq-release/cq-source-s3:v1.2.3-abc1234",
    );
  });

  it("outputs what a build of the same digests outputs: index digest, refs, platform digests", async () => {
    assert.equal(await unwrap(image.digest), built.digest);
    assert.deepEqual(await unwrap(image.refs), built.refs);
    assert.deepEqual(await unwrap(image.platformDigests), { "linux/amd64": amd64, "linux/arm64": arm64 });
    assert.deepEqual(image.tags, ["v1.2.3-abc1234", "v1.2.3", "v1.2", "latest"]);
    assert.equal(image.buildArgs.SOURCE_DATE_EPOCH, "1741064767");
  });

  it("keeps retainOnDelete on every Index and the registry credentials secret", () => {
    for (const r of customResources()) assert.equal(r.retainOnDelete, true, r.name);
    assert.equal(containsSecret(byName("plugin-gcr-latest").inputs.registry), true);
  });

  it("refuses digests for other platforms than it builds", async () => {
    const mod = await import("../components/image");
    assert.throws(
      () =>
        new mod.PluginImage("bad-reuse", {
          targets: [{ key: "local", address: "a:1", repository: "a:1/i" }],
          tags: [
            { role: "sha", tag: "v1-abc1234" },
            { role: "version", tag: "v1" },
          ],
          buildArgs: {},
          labels: {},
          reusePlatformDigests: { "linux/amd64": amd64 },
        }),
      {
        message:
          "PluginImage: reusePlatformDigests names linux/amd64, but the platforms are linux/amd64,linux/arm64",
      },
    );
  });
});

describe("image component: rollback (rollbackTo = version)", () => {
  it("forces latest and the minor tag onto the release despite a newer one, from its images", async () => {
    await setupMocks();
    const mod = await import("../components/image");
    const digests = { "linux/amd64": fakeDigest("old-amd64"), "linux/arm64": fakeDigest("old-arm64") };
    const cfg = parseConfig(
      source({
        ...LOCAL,
        version: "v1.2.2",
        releasedVersions: '["v1.2.3","v1.3.0"]',
        rollbackTo: "v1.2.2",
        reusePlatformDigests: JSON.stringify(digests),
      }),
    );
    const image = new mod.PluginImage("rb", imageArgsFromConfig(cfg, { env: {} }));
    await unwrap(image.digest);
    await settle();
    assert.deepEqual(image.tags, ["v1.2.2-0123456", "v1.2.2", "v1.2", "latest"]);
    assert.deepEqual(byName("rb-local-latest").inputs.sources, [
      `127.0.0.1:5000/cq-source-s3@${digests["linux/amd64"]}`,
      `127.0.0.1:5000/cq-source-s3@${digests["linux/arm64"]}`,
    ]);
    assert.deepEqual(byName("rb-local-latest").inputs.sources, byName("rb-local-version").inputs.sources);
    assert.equal(customResources().filter((r) => r.type === "docker-build:index:Image").length, 0);
  });
});
