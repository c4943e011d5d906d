// The dependency graph `pulumi up` would hand the engine: every resource that calls a GCP API comes
// after the Service that enables that API and the propagation wait behind it.
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { API_PROPAGATION_WAIT_SECONDS, WAIT_TYPE } from "../components/apis";
import { API_RESOURCE_TYPES, apiOf, GCP_TYPES as T, NOT_ENABLED_HERE } from "../lib/gcpApis";
import { REPO } from "./claims/tokens";
import {
  PROD,
  plain,
  registrations,
  runProgram,
  settle,
  setupMocks,
  unwrap,
  type Registration,
} from "./mocks";

/** The specification: each resource type that calls a GCP API, and that API. */
const REQUIRED_API: readonly (readonly [string, string])[] = [
  [T.pool, "iam.googleapis.com"],
  [T.provider, "iam.googleapis.com"],
  [T.serviceAccount, "iam.googleapis.com"],
  [T.serviceAccountIamMember, "iam.googleapis.com"],
  [T.serviceAccountKey, "iam.googleapis.com"],
  [T.repository, "artifactregistry.googleapis.com"],
  [T.repositoryIamMember, "artifactregistry.googleapis.com"],
];
const requiredApi = new Map<string, string>(REQUIRED_API);

/**
 * `<name> → <api>` for every registration of a type in {@link REQUIRED_API}, and the ones among
 * them whose direct dependencies hold neither the Service of that API nor a wait that depends on it.
 */
function apiWaits(regs: readonly Registration[]): { checked: string[]; missing: string[] } {
  const byUrn = new Map(regs.map((r) => [r.urn, r]));
  const checked: string[] = [];
  const missing: string[] = [];
  for (const r of regs) {
    const api = requiredApi.get(r.type);
    if (api === undefined) continue;
    checked.push(`${r.name} → ${api}`);
    const enables = (urn: string) => {
      const d = byUrn.get(urn);
      return d?.type === T.service && plain(d.inputs.service) === api;
    };
    const waitsFor = (urn: string) => {
      const d = byUrn.get(urn);
      return d?.type === WAIT_TYPE && d.dependencies.some(enables);
    };
    if (!r.dependencies.some((urn) => enables(urn) || waitsFor(urn))) missing.push(`${r.name} → ${api}`);
  }
  return { checked: checked.sort(), missing: missing.sort() };
}

/** Runs `fn` with console.warn silenced (the key warning itself is asserted in identity.test.ts). */
async function quietly<R>(fn: () => Promise<R>): Promise<R> {
  const original = console.warn;
  console.warn = () => undefined;
  try {
    return await fn();
  } finally {
    console.warn = original;
  }
}

const gcpTypes = (regs: readonly Registration[]) =>
  [...new Set(regs.filter((r) => r.custom && r.type.startsWith("gcp:")).map((r) => r.type))].sort();

describe("GCP APIs: the table (lib/gcpApis.ts)", () => {
  it("maps each API-calling resource type to the API it calls", () => {
    for (const [type, api] of REQUIRED_API) assert.equal(apiOf(type), api, type);
    const listed = Object.values(API_RESOURCE_TYPES).flat().map(String).sort();
    assert.deepEqual(listed, REQUIRED_API.map(([type]) => type).sort());
  });

  it("lists no resource type under two APIs and knows no API for the exempt types", () => {
    const listed = Object.values(API_RESOURCE_TYPES).flat();
    assert.equal(new Set(listed).size, listed.length);
    for (const type of Object.keys(NOT_ENABLED_HERE)) assert.equal(apiOf(type), undefined, type);
  });

  it("waits at least a minute (GCP: 'wait a few minutes for the action to propagate')", () => {
    assert.ok(Number.isInteger(API_PROPAGATION_WAIT_SECONDS) && API_PROPAGATION_WAIT_SECONDS >= 60);
  });
});

describe("GCP APIs: components wait for the APIs they call (Pulumi mocks)", () => {
  type Identity = typeof import("../components/identity");
  type Registries = typeof import("../components/registries");
  let identity: Identity;
  let registries: Registries;
  before(async () => {
    await setupMocks();
    identity = await import("../components/identity");
    registries = await import("../components/registries");
  });

  async function createIdentity(
    name: string,
    extra: Partial<import("../components/identity").GitHubIdentityArgs>,
  ) {
    await setupMocks();
    const c = new identity.GitHubIdentity(name, {
      project: "cq-release-prod",
      ...REPO,
      stateBucket: "cq-release-state",
      ...extra,
    });
    await unwrap(c.providerName);
    await settle();
    return [...registrations];
  }

  it("identity: pool, provider, accounts, their IAM members and the key wait for iam", async () => {
    const regs = await quietly(() => createIdentity("idw", { allowServiceAccountKeys: true }));
    const { checked, missing } = apiWaits(regs);
    assert.deepEqual(checked, [
      "idw-pool → iam.googleapis.com",
      "idw-preview-sa → iam.googleapis.com",
      "idw-preview-wif-user → iam.googleapis.com",
      "idw-provider → iam.googleapis.com",
      "idw-release-key → iam.googleapis.com",
      "idw-release-sa → iam.googleapis.com",
      "idw-release-wif-user → iam.googleapis.com",
    ]);
    assert.deepEqual(missing, []);
  });

  it("the check catches resources that do not wait (identity with enableApis false)", async () => {
    const regs = await createIdentity("idn", { enableApis: false });
    const { checked, missing } = apiWaits(regs);
    assert.equal(checked.length, 6);
    assert.deepEqual(missing, checked);
  });

  it("waits once per component, after every Service it enables, for the named duration", async () => {
    const regs = await createIdentity("idt", {});
    const waits = regs.filter((r) => r.type === WAIT_TYPE);
    assert.equal(waits.length, 1);
    const [wait] = waits;
    assert.equal(wait.name, "idt-api-wait");
    assert.equal(plain(wait.inputs.createDuration), `${API_PROPAGATION_WAIT_SECONDS}s`);
    const services = regs.filter((r) => r.type === T.service);
    assert.equal(services.length, 3);
    assert.deepEqual(
      services.map((s) => s.urn).filter((urn) => !wait.dependencies.includes(urn)),
      [],
      "the wait comes after every Service of its component",
    );
    assert.deepEqual(Object.keys(plain(wait.inputs.triggers) as object).sort(), [
      "iam.googleapis.com",
      "iamcredentials.googleapis.com",
      "sts.googleapis.com",
    ]);
  });

  it("registries without identity: enables artifactregistry itself and the repository and IAM members wait", async () => {
    await setupMocks();
    const r = new registries.Registries("regw", {
      project: "example-cq-release",
      writerMember: "serviceAccount:rel@example-cq-release.iam.gserviceaccount.com",
      readerMember: "serviceAccount:pre@example-cq-release.iam.gserviceaccount.com",
    });
    await unwrap(r.repositoryName);
    await settle();
    const { checked, missing } = apiWaits(registrations);
    assert.deepEqual(checked, [
      "regw-gcr-io → artifactregistry.googleapis.com",
      "regw-preview-reader → artifactregistry.googleapis.com",
      "regw-release-writer → artifactregistry.googleapis.com",
    ]);
    assert.deepEqual(missing, []);
  });
});

describe("GCP APIs: the whole program waits for every API it calls (Pulumi mocks)", () => {
  const SECRET_KEYS = ["ghcrToken", "pulumiConfigPassphrase"];

  async function run(config: Record<string, string>): Promise<Registration[]> {
    const program = await runProgram(config, SECRET_KEYS);
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await settle();
    return [...registrations];
  }

  let prod: Registration[];
  before(async () => {
    // Keys allowed, so that every GCP resource type the program can register is registered.
    prod = await quietly(() => run({ ...PROD, allowServiceAccountKeys: "true" }));
  });

  it("prod: every API-calling resource depends on its API's Service or the wait after it", () => {
    const { checked, missing } = apiWaits(prod);
    // gcrPublic is on by default: the public reader is one of them.
    assert.equal(checked.length, 11);
    assert.ok(checked.includes("registries-public-reader → artifactregistry.googleapis.com"));
    assert.deepEqual(missing, []);
  });

  it("prod: the registry's IAM members wait for artifactregistry and for the accounts they bind", () => {
    const urnOf = (name: string) => prod.find((r) => r.name === name)?.urn;
    for (const [member, account] of [
      ["registries-release-writer", "identity-release-sa"],
      ["registries-preview-reader", "identity-preview-sa"],
    ]) {
      const reg = prod.find((r) => r.name === member);
      assert.ok(reg, member);
      assert.ok(reg.dependencies.includes(urnOf(account) ?? "?"), `${member} depends on ${account}`);
      assert.ok(reg.dependencies.includes(urnOf("registries-api-wait") ?? "?"), `${member} waits`);
    }
    const pub = prod.find((r) => r.name === "registries-public-reader");
    assert.ok(pub?.dependencies.includes(urnOf("registries-api-wait") ?? "?"), "the public reader waits");
  });

  it("identity off: registries enables and waits for everything it calls itself", async () => {
    const regs = await run({ ...PROD, enableIdentity: "false", enableRepoSettings: "false" });
    const { checked, missing } = apiWaits(regs);
    assert.deepEqual(checked, [
      "registries-gcr-io → artifactregistry.googleapis.com",
      "registries-public-reader → artifactregistry.googleapis.com",
    ]);
    assert.deepEqual(missing, []);
    assert.ok(regs.some((r) => r.name === "registries-api-wait"));
  });

  it("every GCP resource type the prod program registers is in the table, or exempt with a reason", () => {
    const unlisted = gcpTypes(prod).filter((type) => !requiredApi.has(type) && !(type in NOT_ENABLED_HERE));
    assert.deepEqual(unlisted, []);
  });

  it("the table has no stale entries: the prod program registers every type it lists", () => {
    const registered = new Set(gcpTypes(prod));
    assert.deepEqual(
      REQUIRED_API.map(([type]) => type).filter((type) => !registered.has(type)),
      [],
    );
    assert.deepEqual(
      Object.keys(NOT_ENABLED_HERE).filter((type) => !registered.has(type)),
      [],
    );
  });
});
