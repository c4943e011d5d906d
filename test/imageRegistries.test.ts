import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import { CONFIG_KEYS } from "../lib/config";
import {
  allowedRegistries,
  configCredentials,
  imageRepositories,
  loginCredentials,
  loginsFor,
  orderedRegistryKeys,
  REGISTRIES,
  registryVisibility,
} from "../lib/imageRegistries";

describe("imageRegistries: repositories", () => {
  it("lists enabled registries, gcr first, ghcr owner lowercased", () => {
    assert.deepEqual(
      imageRepositories({
        gcr: true,
        ghcr: true,
        gcpProject: "p-123456",
        githubOwner: "Example-Org",
        imageName: "cq-source-s3",
        localRegistry: "127.0.0.1:5000",
      }),
      [
        { key: "gcr", address: "gcr.io", repository: "gcr.io/p-123456/cq-source-s3" },
        { key: "ghcr", address: "ghcr.io", repository: "ghcr.io/example-org/cq-source-s3" },
        { key: "local", address: "127.0.0.1:5000", repository: "127.0.0.1:5000/cq-source-s3" },
      ],
    );
  });
  it("lists only the local registry for the local stack", () => {
    assert.deepEqual(
      imageRepositories({
        gcr: false,
        ghcr: false,
        githubOwner: "o",
        imageName: "x",
        localRegistry: "127.0.0.1:5000",
      }).map((r) => r.key),
      ["local"],
    );
  });
  it("refuses gcr without a project", () => {
    assert.throws(() => imageRepositories({ gcr: true, ghcr: false, githubOwner: "o", imageName: "x" }), {
      message: "gcr is enabled but gcpProject is not set",
    });
  });
});

const PROD_INPUT = {
  gcr: true,
  ghcr: true,
  gcpProject: "example-cq-release",
  githubOwner: "Example-Org",
  imageName: "cq-source-s3",
};

describe("imageRegistries: what the workflows log in to and what the policy allows", () => {
  it("gives one login per registry with credentials, none for a plain local registry", () => {
    assert.deepEqual(loginsFor({ ...PROD_INPUT, localRegistry: "127.0.0.1:5000" }), [
      { address: "gcr.io", username: "oauth2accesstoken", passwordEnv: "GCR_TOKEN" },
      { address: "ghcr.io", usernameEnv: "GHCR_USERNAME", passwordEnv: "GHCR_TOKEN" },
    ]);
    assert.deepEqual(
      loginsFor({
        gcr: false,
        ghcr: false,
        githubOwner: "o",
        imageName: "x",
        localRegistry: "127.0.0.1:5000",
      }),
      [],
    );
  });

  it("allows pushes to the parent path of every enabled repository, once each", () => {
    assert.deepEqual(allowedRegistries({ ...PROD_INPUT, localRegistry: "127.0.0.1:5000" }), [
      "gcr.io/example-cq-release/",
      "ghcr.io/example-org/",
      "127.0.0.1:5000/",
    ]);
    assert.deepEqual(allowedRegistries({ ...PROD_INPUT, gcr: false, imageName: "team/cq-source-s3" }), [
      "ghcr.io/example-org/team/",
    ]);
  });

  it("orders registries for display: ghcr, gcr, local, then unknown keys sorted", () => {
    assert.deepEqual(orderedRegistryKeys(["zot", "local", "gcr", "ecr", "ghcr"]), [
      "ghcr",
      "gcr",
      "local",
      "ecr",
      "zot",
    ]);
  });

  // Contract: a login the workflows cannot make fails only in a real release, so check that every
  // job step that signs, attests or reads evidence sets the variables the table names.
  const workflow = yaml.load(
    readFileSync(path.join(__dirname, "..", ".github", "workflows", "release.yml"), "utf8"),
  ) as { jobs: Record<string, { steps?: { run?: string; env?: Record<string, string> }[] }> };
  const loginSteps = Object.entries(workflow.jobs).flatMap(([job, j]) =>
    (j.steps ?? [])
      .filter((s) => /scripts\/release\/(sign|evidence)\.sh/.test(s.run ?? ""))
      .map((s) => ({ job, run: s.run as string, env: s.env ?? {} })),
  );
  it("finds the release workflow's signing and evidence steps", () => {
    assert.ok(loginSteps.length >= 4, JSON.stringify(loginSteps.map((s) => s.run)));
  });
  // The exact-tag guard reads every registry with the same logins, inside up.sh.
  const upSteps = Object.values(workflow.jobs).flatMap((j) =>
    (j.steps ?? []).filter((s) => /scripts\/release\/up\.sh/.test(s.run ?? "")),
  );
  it("finds the release workflow's up step", () => assert.equal(upSteps.length, 1));
  for (const entry of REGISTRIES.filter((r) => r.login !== undefined && r.key !== "local")) {
    it(`release.yml passes the ${entry.key} login's variables to the up step (the exact-tag guard)`, () => {
      const login = entry.login as NonNullable<typeof entry.login>;
      const env = upSteps[0].env ?? {};
      // A GCP access token expires within the job: up.sh mints it per attempt with <var>_COMMAND.
      const password =
        entry.credentials.kind === "gcpAccessToken" ? `${login.passwordEnv}_COMMAND` : login.passwordEnv;
      for (const v of [password, ...(login.usernameEnv === undefined ? [] : [login.usernameEnv])]) {
        assert.ok(v in env, `up.sh step: no ${v}`);
      }
      if (entry.credentials.kind === "gcpAccessToken") {
        assert.ok(!(login.passwordEnv in env), `up.sh step: ${login.passwordEnv} minted once would expire`);
      }
    });
  }
  for (const entry of REGISTRIES.filter((r) => r.login !== undefined && r.key !== "local")) {
    it(`release.yml passes the ${entry.key} login's variables to the steps that push evidence`, () => {
      const login = entry.login as NonNullable<typeof entry.login>;
      for (const step of loginSteps.filter((s) => s.job === "sign")) {
        assert.ok(login.passwordEnv in step.env, `${step.run}: no ${login.passwordEnv}`);
        if (login.usernameEnv !== undefined) {
          assert.ok(login.usernameEnv in step.env, `${step.run}: no ${login.usernameEnv}`);
        }
      }
    });
  }
});

describe("imageRegistries: push credentials from config", () => {
  it("names the config keys configure.sh sets and the variables it sets them from", () => {
    assert.deepEqual(configCredentials(), [
      {
        usernameKey: "ghcrUsername",
        usernameEnv: "GHCR_USERNAME",
        passwordKey: "ghcrToken",
        passwordEnv: "GHCR_TOKEN",
      },
    ]);
  });
  for (const entry of REGISTRIES) {
    const c = entry.credentials;
    if (c.kind !== "config") continue;
    it(`${entry.key}: its password key is a secret config key`, () => {
      assert.equal((CONFIG_KEYS[c.passwordKey] as { secret?: boolean }).secret, true);
    });
  }
});

describe("imageRegistries: login credentials for reading outside Pulumi", () => {
  it("reads each login's variables: a fixed or variable username, the password", () => {
    const env = { GCR_TOKEN: "ya29", GHCR_USERNAME: "bot", GHCR_TOKEN: "ghs" };
    assert.deepEqual(loginCredentials("gcr", env), { username: "oauth2accesstoken", password: "ya29" });
    assert.deepEqual(loginCredentials("ghcr", env), { username: "bot", password: "ghs" });
    assert.equal(loginCredentials("local", env), undefined);
  });
  it("is anonymous without the password variable, and refuses a password without its username", () => {
    assert.equal(loginCredentials("ghcr", { GHCR_USERNAME: "bot", GHCR_TOKEN: "" }), undefined);
    assert.throws(() => loginCredentials("ghcr", { GHCR_TOKEN: "ghs" }), {
      message: "GHCR_TOKEN is set but GHCR_USERNAME is not (login to ghcr)",
    });
  });
});

describe("imageRegistries: who may pull without credentials", () => {
  const input = { ...PROD_INPUT, localRegistry: "127.0.0.1:5000", enableRegistries: true };
  const cases: [string, { gcrPublic: boolean; ghcrPublic: boolean; enableRegistries?: boolean }, unknown][] =
    [
      [
        "public by default: gcr made so by the program, ghcr only checked, local always",
        { gcrPublic: true, ghcrPublic: true },
        {
          gcr: { public: true, key: "gcrPublic", setByProgram: true },
          ghcr: { public: true, key: "ghcrPublic", setByProgram: false },
          local: { public: true, setByProgram: false },
        },
      ],
      [
        "private by config",
        { gcrPublic: false, ghcrPublic: false },
        {
          gcr: { public: false, key: "gcrPublic", setByProgram: true },
          ghcr: { public: false, key: "ghcrPublic", setByProgram: false },
          local: { public: true, setByProgram: false },
        },
      ],
      [
        "gcr public, but its repository is not the program's (registries component off)",
        { gcrPublic: true, ghcrPublic: true, enableRegistries: false },
        {
          gcr: { public: true, key: "gcrPublic", setByProgram: false },
          ghcr: { public: true, key: "ghcrPublic", setByProgram: false },
          local: { public: true, setByProgram: false },
        },
      ],
    ];
  for (const [what, over, want] of cases) {
    it(what, () => assert.deepEqual(registryVisibility({ ...input, ...over }), want));
  }
  it("covers only the enabled registries", () => {
    assert.deepEqual(
      Object.keys(
        registryVisibility({
          ...input,
          gcr: false,
          localRegistry: undefined,
          gcrPublic: true,
          ghcrPublic: true,
        }),
      ),
      ["ghcr"],
    );
  });
  for (const entry of REGISTRIES) {
    const v = entry.visibility;
    if (v.kind === "anonymous") continue;
    it(`${entry.key}: its public key is a boolean config key, public by default`, () => {
      assert.equal(CONFIG_KEYS[v.publicKey].type, "boolean");
      assert.equal(CONFIG_KEYS[v.publicKey].default, true);
    });
  }
});
