// The workflows install what the rehearsal proves (toolchain/versions.env), restore no cache, and
// pull Docker Hub through the mirror: tooling/workflowTools.ts run over the real workflows, and over
// synthetic ones that are wrong in one way each, so the checks are shown able to fail.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import * as yaml from "js-yaml";

import {
  checkVersions,
  checkWorkflow,
  MIRROR_SCRIPT,
  parseVersionsEnv,
  TOOL_INPUTS,
  VERSIONS_SCRIPT,
  type VersionsEnv,
} from "../tooling/workflowTools";

const ROOT = path.join(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const VERSIONS = parseVersionsEnv(readFileSync(path.join(ROOT, "toolchain", "versions.env"), "utf8"));

describe("toolchain/versions.env: the one place of every pin", () => {
  it("passes its own checks (images by digest, BuildKit's image of BUILDKIT_VERSION)", () => {
    assert.deepEqual(checkVersions(VERSIONS), []);
  });

  it("is what scripts/release/tool-versions.sh gives the workflows as step outputs, key for key", () => {
    const out = execFileSync("bash", [path.join(ROOT, VERSIONS_SCRIPT)], { encoding: "utf8" });
    const printed = Object.fromEntries(
      out
        .trimEnd()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    assert.deepEqual(printed, VERSIONS);
    assert.equal(printed.COSIGN_VERSION, "v3.1.3");
  });

  const bad: [string, VersionsEnv, RegExp][] = [
    [
      "an image tag other than BUILDKIT_VERSION",
      { ...VERSIONS, BUILDKIT_VERSION: "v0.33.1" },
      /BUILDKIT_IMAGE is tag v0\.31\.0, but the rehearsal builds BUILDKIT_VERSION=v0\.33\.1/,
    ],
    [
      "an image by tag only",
      { ...VERSIONS, BINFMT_IMAGE: "tonistiigi/binfmt:latest" },
      /BINFMT_IMAGE tonistiigi\/binfmt:latest is not pinned by digest/,
    ],
    ["no mirror host", { ...VERSIONS, DOCKER_HUB_MIRROR: "https://mirror.gcr.io" }, /DOCKER_HUB_MIRROR/],
  ];
  for (const [name, versions, want] of bad) {
    it(`refuses ${name}`, () => {
      const problems = checkVersions(versions);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], want);
    });
  }

  const parse: [string, string, VersionsEnv | RegExp][] = [
    ["comments, blank lines, quotes", "# c\n\nA=1\nB=\"x y\"\nC='z'\n", { A: "1", B: "x y", C: "z" }],
    ["a value bash would split", "A=x y\n", /line 1: quote A's value/],
    ["a line that is not KEY=value", "export A=1\n", /line 1 is not KEY=value/],
  ];
  for (const [name, text, want] of parse) {
    it(`parses ${name}`, () => {
      if (want instanceof RegExp) assert.throws(() => parseVersionsEnv(text), want);
      else assert.deepEqual(parseVersionsEnv(text), want);
    });
  }
});

describe("the workflows install the rehearsal's tools, use no cache, pull Docker Hub through the mirror", () => {
  const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));
  const checks = files.map((f) => ({
    file: f,
    ...checkWorkflow(f, readFileSync(path.join(WORKFLOWS, f), "utf8"), VERSIONS),
  }));

  for (const c of checks) {
    it(`${c.file}: no problem`, () => assert.deepEqual(c.problems, []));
  }

  it("saw every install (the check above is not vacuous)", () => {
    const seen = checks.flatMap((c) => c.installs.map((i) => `${c.file} ${i.job} ${i.key}`)).sort();
    assert.deepEqual(seen, [
      "ci.yml unit PULUMI_VERSION",
      "preview.yml preview BINFMT_IMAGE",
      "preview.yml preview BUILDKIT_IMAGE",
      "preview.yml preview PULUMI_VERSION",
      "release.yml github-release COSIGN_VERSION",
      "release.yml hub COSIGN_VERSION",
      "release.yml publish BINFMT_IMAGE",
      "release.yml publish BUILDKIT_IMAGE",
      "release.yml publish PULUMI_VERSION",
      "release.yml sign COSIGN_VERSION",
    ]);
    for (const i of checks.flatMap((c) => c.installs)) assert.equal(i.value, VERSIONS[i.key], i.key);
  });

  it("hands the sign job the BuildKit image the publish job built with (provenance)", () => {
    const wf = yaml.load(readFileSync(path.join(WORKFLOWS, "release.yml"), "utf8")) as {
      jobs: Record<string, { outputs?: Record<string, string>; env?: Record<string, string> }>;
    };
    assert.equal(wf.jobs.publish.outputs?.["buildkit-image"], "${{ steps.versions.outputs.BUILDKIT_IMAGE }}");
    assert.equal(wf.jobs.sign.env?.BUILDKIT_VERSION, "${{ needs.publish.outputs.buildkit-image }}");
  });

  // Synthetic workflows, each wrong in one way (or right, to show what passes).
  const V = `      - id: versions\n        run: bash ${VERSIONS_SCRIPT} >>"\${GITHUB_OUTPUT}"\n`;
  const M = `      - id: docker-hub\n        run: bash ${MIRROR_SCRIPT}\n`;
  const wf = (...steps: string[]) => `on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n${steps.join("")}`;
  const uses = (action: string, inputs: Record<string, string> = {}) =>
    `      - uses: ${action}@0123456789012345678901234567890123456789\n` +
    (Object.keys(inputs).length === 0
      ? ""
      : `        with:\n${Object.entries(inputs)
          .map(
            ([k, v]) =>
              `          ${k}: ${v.includes("\n") ? `|\n${v.replace(/^/gm, "            ")}` : JSON.stringify(v)}\n`,
          )
          .join("")}`);
  const out = (key: string) => `\${{ steps.versions.outputs.${key} }}`;
  const qemu = (image: string) => uses("docker/setup-qemu-action", { image, "cache-image": "false" });
  const buildx = (opts: string, extra: Record<string, string> = {}) =>
    uses("docker/setup-buildx-action", {
      "driver-opts": opts,
      "buildkitd-config": "${{ steps.docker-hub.outputs.buildkitd-config }}",
      "cache-binary": "false",
      ...extra,
    });
  const cases: [string, string, RegExp[]][] = [
    [
      "cosign-installer left to its default (v3.0.6 with v4.1.2)",
      wf(uses("sigstore/cosign-installer")),
      [/without cosign-release: it installs its own default, not COSIGN_VERSION=v3\.1\.3/],
    ],
    [
      "cosign-installer given another version",
      wf(uses("sigstore/cosign-installer", { "cosign-release": "v3.0.6" })),
      [/cosign-release is v3\.0\.6, but toolchain\/versions\.env has COSIGN_VERSION=v3\.1\.3/],
    ],
    [
      "cosign-installer given the same version literally",
      wf(uses("sigstore/cosign-installer", { "cosign-release": "v3.1.3" })),
      [],
    ],
    [
      "cosign-installer reading the versions step",
      wf(V, uses("sigstore/cosign-installer", { "cosign-release": out("COSIGN_VERSION") })),
      [],
    ],
    [
      "cosign-installer reading another key of the versions step",
      wf(V, uses("sigstore/cosign-installer", { "cosign-release": out("SYFT_VERSION") })),
      [
        /reads SYFT_VERSION, not COSIGN_VERSION/,
        /is v1\.57\.1, but toolchain\/versions\.env has COSIGN_VERSION/,
      ],
    ],
    [
      "the versions step after the install",
      wf(uses("sigstore/cosign-installer", { "cosign-release": out("COSIGN_VERSION") }), V),
      [/is not an output of an earlier `bash scripts\/release\/tool-versions\.sh` step/],
    ],
    [
      "a version from somewhere else",
      wf(V, uses("pulumi/actions", { "pulumi-version": "${{ vars.PULUMI_VERSION }}" })),
      [/\$\{\{ vars\.PULUMI_VERSION \}\} is not an output of an earlier/],
    ],
    [
      "another Pulumi CLI",
      wf(uses("pulumi/actions", { "pulumi-version": "3.200.0" })),
      [/pulumi-version is 3\.200\.0, but toolchain\/versions\.env has PULUMI_VERSION=3\.248\.0/],
    ],
    [
      "pulumi/actions without a version (the latest CLI)",
      wf(uses("pulumi/actions", { command: "preview" })),
      [/pulumi\/actions without pulumi-version/],
    ],
    [
      "another BuildKit image for the builder",
      wf(
        M,
        buildx(
          "image=moby/buildkit:v0.33.1@sha256:cec9f139f45e93c5c69c60f8b07cfad9f43f4ef6b6a6cd917527fea5ff2e3dea\nnetwork=host",
        ),
      ),
      [
        /driver-opts is moby\/buildkit:v0\.33\.1@sha256:cec9.*, but toolchain\/versions\.env has BUILDKIT_IMAGE=/,
      ],
    ],
    [
      "a builder without an image (moby/buildkit:buildx-stable-1)",
      wf(M, buildx("network=host")),
      [/setup-buildx-action without driver-opts image=: it installs its own default/],
    ],
    ["the builder image from the versions step", wf(V, M, buildx(`image=${out("BUILDKIT_IMAGE")}`)), []],
    [
      "the QEMU installer's default image",
      wf(M, uses("docker/setup-qemu-action", { platforms: "arm64", "cache-image": "false" })),
      [/setup-qemu-action without image: it installs its own default, not BINFMT_IMAGE=/],
    ],
    [
      "a QEMU image by tag",
      wf(M, qemu("tonistiigi/binfmt:latest")),
      [
        /image is tonistiigi\/binfmt:latest, but toolchain\/versions\.env has BINFMT_IMAGE/,
        /tonistiigi\/binfmt:latest is not pinned by digest/,
      ],
    ],
    [
      "an image of versions.env written into an env value, another version",
      wf(
        "      - run: echo\n        env:\n          BUILDKIT_VERSION: moby/buildkit:v0.33.1@sha256:cec9f139f45e93c5c69c60f8b07cfad9f43f4ef6b6a6cd917527fea5ff2e3dea\n",
      ),
      [/moby\/buildkit:v0\.33\.1@sha256:cec9.* is not BUILDKIT_IMAGE=.* of toolchain\/versions\.env/],
    ],
    [
      "syft by anchore/sbom-action at another version",
      wf(uses("anchore/sbom-action", { "syft-version": "v1.50.0" })),
      [/syft-version is v1\.50\.0, but toolchain\/versions\.env has SYFT_VERSION=v1\.57\.1/],
    ],
    [
      "go install of another cosign",
      wf("      - run: go install github.com/sigstore/cosign/v3/cmd/cosign@v3.0.6\n"),
      [
        /go install github\.com\/sigstore\/cosign\/v3\/cmd\/cosign@v3\.0\.6, but toolchain\/versions\.env has COSIGN_VERSION \(v3\.1\.3\)/,
      ],
    ],
    [
      "go install of the Pulumi CLI without its v",
      wf("      - run: go install -trimpath github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@3.248.0\n"),
      [/has PULUMI_VERSION \(v3\.248\.0\)/],
    ],
    [
      "go install reading the pin's variable",
      wf('      - run: go install github.com/anchore/syft/cmd/syft@"${SYFT_VERSION}"\n'),
      [],
    ],
    [
      "go install reading another variable",
      wf("      - run: go install github.com/anchore/syft/cmd/syft@${COSIGN_VERSION}\n"),
      [/syft@\$\{COSIGN_VERSION\}, but toolchain\/versions\.env has SYFT_VERSION/],
    ],
    [
      "setup-node's package-manager cache left on",
      wf(uses("actions/setup-node", { "node-version": "24" })),
      [/setup-node package-manager-cache is unset \(its default caches\); set it to false/],
    ],
    [
      "setup-node with a cache",
      wf(uses("actions/setup-node", { "package-manager-cache": "false", cache: "npm" })),
      [/setup-node cache is npm; leave it unset/],
    ],
    [
      "setup-go caching",
      wf(uses("actions/setup-go", { cache: "true" })),
      [/setup-go cache is true; set it to false/],
    ],
    [
      "setup-qemu caching its image (v4's default)",
      wf(M, uses("docker/setup-qemu-action", { image: VERSIONS.BINFMT_IMAGE })),
      [/setup-qemu-action cache-image is unset \(its default caches\)/],
    ],
    [
      "setup-buildx caching its binary",
      wf(M, buildx(`image=${VERSIONS.BUILDKIT_IMAGE}`, { "cache-binary": "true" })),
      [/setup-buildx-action cache-binary is true; set it to false/],
    ],
    [
      "actions/cache",
      wf(uses("actions/cache/restore", { path: "x", key: "k" })),
      [/actions\/cache\/restore restores a cache/],
    ],
    [
      "the cache service exposed to BuildKit",
      wf(uses("crazy-max/ghaction-github-runtime")),
      [/crazy-max\/ghaction-github-runtime restores a cache or exposes the cache service/],
    ],
    [
      "a gha BuildKit cache",
      wf(uses("docker/build-push-action", { "cache-from": "type=gha,scope=x" })),
      [/cache-from uses BuildKit's gha cache/],
    ],
    [
      "QEMU pulled without the mirror",
      wf(qemu(VERSIONS.BINFMT_IMAGE)),
      [
        /setup-qemu-action pulls images, but no earlier step runs `bash scripts\/release\/docker-hub-mirror\.sh`/,
      ],
    ],
    [
      "a builder whose BuildKit does not use the mirror",
      wf(M, buildx(`image=${VERSIONS.BUILDKIT_IMAGE}`, { "buildkitd-config": "" })),
      [
        /buildkitd-config is not the buildkitd-config output of the `bash scripts\/release\/docker-hub-mirror\.sh` step/,
      ],
    ],
    [
      "the images without docker.io/, through the mirror",
      wf(M, qemu(VERSIONS.BINFMT_IMAGE.replace("docker.io/", ""))),
      [],
    ],
    [
      "a job container (pulled before any step)",
      "on: push\njobs:\n  j:\n    runs-on: x\n    container: golang:1.26\n    steps:\n      - run: true\n",
      [/a job container or service is pulled before any step/],
    ],
  ];
  for (const [name, text, wants] of cases) {
    it(`${wants.length === 0 ? "accepts" : "refuses"} ${name}`, () => {
      const { problems } = checkWorkflow("t.yml", text, VERSIONS);
      assert.equal(problems.length, wants.length, problems.join("\n"));
      wants.forEach((w, i) => assert.match(problems[i], w));
    });
  }

  it("knows an input for every installer it checks", () => {
    for (const t of TOOL_INPUTS) assert.ok(VERSIONS[t.key] !== undefined, `${t.action}: ${t.key}`);
  });
});

describe("preview.yml: a run without the preview's secret is green, with a comment saying why", () => {
  const wf = yaml.load(readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8")) as {
    jobs: Record<
      string,
      {
        if?: string;
        needs?: string | string[];
        permissions?: unknown;
        steps?: { run?: string; env?: Record<string, string> }[];
      }
    >;
  };

  it("decides on the secret itself, in a job with no permissions", () => {
    const gate = wf.jobs.secret;
    assert.deepEqual(gate.permissions, {});
    assert.equal(gate.if, "github.event.pull_request.head.repo.full_name == github.repository");
    assert.equal(gate.steps?.[0].env?.AVAILABLE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE != '' }}");
  });

  it("previews only when the secret is there, and says why otherwise", () => {
    assert.equal(wf.jobs.preview.needs, "secret");
    assert.equal(wf.jobs.preview.if, "needs.secret.outputs.available == 'true'");
    const np = wf.jobs["not-previewed"];
    assert.equal(np.needs, "secret");
    assert.equal(np.if, "needs.secret.outputs.available == 'false'");
    assert.deepEqual(np.permissions, { contents: "read", "pull-requests": "write" });
    const say = np.steps?.find((s) => /plan-comment\.sh --not-previewed/.test(s.run ?? ""));
    assert.ok(say, "the not-previewed job runs plan-comment.sh --not-previewed");
    assert.equal(say.env?.ACTOR, "${{ github.actor }}");
  });
});

describe("scripts/release/docker-hub-mirror.sh (runner's Docker daemon and BuildKit, with stand-ins)", () => {
  const script = path.join(ROOT, MIRROR_SCRIPT);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "docker-hub-mirror-"));
    mkdirSync(path.join(dir, "bin"));
    const shim = (name: string, body: string) => {
      writeFileSync(path.join(dir, "bin", name), `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(path.join(dir, "bin", name), 0o755);
    };
    shim("sudo", 'exec "$@"');
    shim("systemctl", 'echo "systemctl $*" >>"${SHIM_LOG}"');
    // `docker info`: answers with the mirrors of the configuration, as the daemon normalizes them.
    shim(
      "docker",
      '[[ "$1" == info ]] || exit 2\n' +
        'if [[ "${2:-}" == --format ]]; then jq -c \'."registry-mirrors" // [] | map(. + "/")\' "${DOCKER_DAEMON_CONFIG}"; fi',
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function run(env: Record<string, string>) {
    return spawnSync("bash", [script], {
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`,
        HOME: dir,
        SHIM_LOG: path.join(dir, "log"),
        GITHUB_ACTIONS: "true",
        RUNNER_TEMP: dir,
        GITHUB_OUTPUT: path.join(dir, "output"),
        DOCKER_DAEMON_CONFIG: path.join(dir, "daemon.json"),
        ...env,
      },
    });
  }

  it("puts the mirror first in the daemon's configuration, keeps the rest, restarts it, writes buildkitd.toml", () => {
    writeFileSync(
      path.join(dir, "daemon.json"),
      JSON.stringify({
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        "registry-mirrors": ["https://other.example"],
      }),
    );
    for (let i = 0; i < 2; i++) {
      const r = run({});
      assert.equal(r.status, 0, r.stderr);
    }
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, "daemon.json"), "utf8")), {
      "exec-opts": ["native.cgroupdriver=cgroupfs"],
      "registry-mirrors": [`https://${VERSIONS.DOCKER_HUB_MIRROR}`, "https://other.example"],
    });
    assert.equal(readFileSync(path.join(dir, "log"), "utf8"), "systemctl restart docker\n".repeat(2));
    const toml = path.join(dir, "buildkitd.toml");
    assert.equal(
      readFileSync(toml, "utf8"),
      `[registry."docker.io"]\n  mirrors = ["${VERSIONS.DOCKER_HUB_MIRROR}"]\n`,
    );
    assert.equal(readFileSync(path.join(dir, "output"), "utf8"), `buildkitd-config=${toml}\n`.repeat(2));
  });

  it("starts from an empty configuration when the runner has none", () => {
    const r = run({});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, "daemon.json"), "utf8")), {
      "registry-mirrors": [`https://${VERSIONS.DOCKER_HUB_MIRROR}`],
    });
  });

  it("fails when the restarted daemon does not list the mirror", () => {
    writeFileSync(
      path.join(dir, "bin", "docker"),
      '#!/usr/bin/env bash\n[[ "${2:-}" == --format ]] && echo "[]"\nexit 0\n',
    );
    const r = run({});
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /::error::the Docker daemon's registry mirrors are \[\], without https:\/\/mirror\.gcr\.io/,
    );
  });

  it("refuses to touch a Docker daemon outside GitHub Actions", () => {
    const r = run({ GITHUB_ACTIONS: "" });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /::error::docker-hub-mirror\.sh reconfigures and restarts the Docker daemon; it runs on GitHub-hosted runners only/,
    );
    assert.equal(
      spawnSync("test", ["-e", path.join(dir, "daemon.json")]).status,
      1,
      "no configuration written",
    );
  });
});
