// Shared Pulumi mocks: only the GCP and GitHub APIs (and docker-build's registry side) are faked.
// Records every registered resource with its inputs and the options Pulumi sends to the engine
// (protect, retainOnDelete, parent, provider, dependencies), so tests can assert on what `pulumi up`
// would do.
import { createHash } from "node:crypto";

import * as pulumi from "@pulumi/pulumi";

import type { ConfigSource } from "../lib/config";

/** One resource registration as the engine would see it. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly parent: string;
  readonly provider: string;
  readonly additionalSecretOutputs: string[];
  /** URN the mock monitor gave the resource. */
  readonly urn: string;
  /**
   * URNs the engine is told this resource depends on: explicit `dependsOn` (a component expanded to
   * its children) plus the resources behind Output inputs.
   */
  readonly dependencies: string[];
}

/** Every registration since the last `resetMocks`. */
export const registrations: Registration[] = [];
/** Every provider function call since the last `resetMocks`. */
export const calls: { token: string; inputs: Record<string, unknown> }[] = [];

// Pulumi's wire marker for a secret value (rpc.specialSigKey / specialSecretSig).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input value arrived as a secret. */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** Strips secret wrappers from a recorded input, for value assertions. */
export function plain(value: unknown): unknown {
  if (isSecretInput(value)) {
    return plain((value as { value: unknown }).value);
  }
  if (Array.isArray(value)) {
    return value.map(plain);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Resolves an Output to a Promise (await it: an assertion inside an un-awaited apply never fails). */
export function unwrap<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise<T>((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** A fake `sha256:` digest derived from text, so digests differ per input and are stable. */
export function fakeDigest(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

interface MockMonitorProto {
  registerResource(req: RegisterRequest, cb: unknown): Promise<void>;
  newUrn(parent: string, type: string, name: string): string;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getParent(): string;
  getProvider(): string;
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
}

// The mock monitor hands newResource only type/name/inputs; wrap it once to also see the options.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mocksModule = require("@pulumi/pulumi/runtime/mocks") as {
  MockMonitor: { prototype: MockMonitorProto };
};
const pendingOptions = new Map<string, Omit<Registration, "inputs">>();
const originalRegister = mocksModule.MockMonitor.prototype.registerResource;
if (!(originalRegister as { wrapped?: boolean }).wrapped) {
  const wrapped = function (this: MockMonitorProto, req: RegisterRequest, cb: unknown) {
    pendingOptions.set(`${req.getType()}::${req.getName()}`, {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      protect: req.getProtect(),
      retainOnDelete: req.getRetainondelete(),
      parent: req.getParent(),
      provider: req.getProvider(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
      dependencies: req.getDependenciesList(),
    });
    return originalRegister.call(this, req, cb);
  };
  (wrapped as { wrapped?: boolean }).wrapped = true;
  mocksModule.MockMonitor.prototype.registerResource = wrapped;
}

/** Fake provider-computed outputs for the resource types we create. */
function fakeState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "docker-build:index:Image": {
      const digest = fakeDigest(`${name}:${JSON.stringify(plain(inputs.platforms))}`);
      const tags = (plain(inputs.tags) as string[] | undefined) ?? [];
      return { ...inputs, digest, ref: tags.length > 0 ? `${tags[0]}@${digest}` : "" };
    }
    case "docker-build:index:Index": {
      // Same sources (by digest) → same index digest, whichever registry it lives in.
      const sources = (plain(inputs.sources) as string[]).map((s) => s.slice(s.indexOf("@")));
      return { ...inputs, ref: `${String(plain(inputs.tag))}@${fakeDigest(sources.join(","))}` };
    }
    case "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
      return {
        ...inputs,
        name: `projects/123456789012/locations/global/workloadIdentityPools/${String(inputs.workloadIdentityPoolId)}`,
      };
    case "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
      return {
        ...inputs,
        name: `projects/123456789012/locations/global/workloadIdentityPools/${String(inputs.workloadIdentityPoolId)}/providers/${String(inputs.workloadIdentityPoolProviderId)}`,
      };
    case "gcp:serviceaccount/account:Account":
      return {
        ...inputs,
        email: `${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com`,
        name: `projects/${String(inputs.project)}/serviceAccounts/${String(inputs.accountId)}`,
        member: `serviceAccount:${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com`,
      };
    case "gcp:artifactregistry/repository:Repository":
      return { ...inputs, name: String(inputs.repositoryId) };
    case "gcp:projects/service:Service":
    default:
      return { ...inputs };
  }
}

/**
 * Installs the mocks with the given stack config (keys without the project prefix are prefixed).
 * Call before `await import(...)` of the code under test.
 */
export function setupMocks(config: Record<string, string> = {}, secretKeys: string[] = [], preview = false) {
  registrations.length = 0;
  calls.length = 0;
  pendingOptions.clear();
  const full = (k: string) => (k.includes(":") ? k : `cq-source-s3-release:${k}`);
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [full(k), v])),
    secretKeys.map(full),
  );
  return pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = args.inputs as Record<string, unknown>;
        const opts = pendingOptions.get(`${args.type}::${args.name}`);
        registrations.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs,
          protect: opts?.protect ?? false,
          retainOnDelete: opts?.retainOnDelete ?? false,
          parent: opts?.parent ?? "",
          provider: opts?.provider ?? "",
          additionalSecretOutputs: opts?.additionalSecretOutputs ?? [],
          urn: opts?.urn ?? "",
          dependencies: opts?.dependencies ?? [],
        });
        return { id: `${args.name}-id`, state: fakeState(args.type, args.name, inputs) };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
        if (args.token === "gcp:organizations/getClientConfig:getClientConfig") {
          return { accessToken: "ya29.fake-access-token", project: "p", region: "r", zone: "z", id: "x" };
        }
        return args.inputs as Record<string, unknown>;
      },
    },
    "cq-source-s3-release",
    "test",
    preview,
  );
}

/** The program's exports (index.ts). */
export type Program = typeof import("../index");

/** Runs index.ts afresh under the mocks with this stack config and returns its exports. */
export async function runProgram(
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<Program> {
  await setupMocks(config, secretKeys);
  delete require.cache[require.resolve("../index")];
  return import("../index");
}

/** Waits until registrations stop arriving (resource registration is asynchronous). */
export async function settle(): Promise<void> {
  let last = -1;
  for (let i = 0; i < 50 && last !== registrations.length; i++) {
    last = registrations.length;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Custom (non-component) registrations only. */
export function customResources(): Registration[] {
  return registrations.filter((r) => r.custom);
}

/** The registration with this logical name; throws if absent or ambiguous. */
export function byName(name: string): Registration {
  const found = registrations.filter((r) => r.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one registration named ${name}, found ${found.length}: ${registrations.map((r) => r.name).join(", ")}`,
    );
  }
  return found[0];
}

const SECRETS = new Set(["ghcrToken", "pulumiConfigPassphrase"]);

/** A complete, valid prod-like config; tests override single keys. */
export const PROD: Readonly<Record<string, string>> = {
  gcpProject: "example-cq-release",
  githubOwner: "Example-Org",
  githubRepository: "cq-source-s3",
  githubOwnerId: "100000001",
  githubRepositoryId: "700000001",
  stateBucket: "example-cq-release-state",
  version: "v1.2.3",
  commit: "ABC1234DEF5678901234567890ABCDEF12345678",
  commitTime: "2025-03-04T05:06:07Z",
  releasedVersions: '["v1.0.0","v1.2.2","v1.2.3"]',
  ghcrToken: "ghs_token",
  pulumiConfigPassphrase: "correct horse",
};

/** The `local` stack's config as in Pulumi.local.yaml. */
export const LOCAL: Readonly<Record<string, string>> = {
  githubOwner: "cloudquery-example",
  githubRepository: "cq-source-s3",
  enableIdentity: "false",
  enableRegistries: "false",
  enableRepoSettings: "false",
  gcr: "false",
  ghcr: "false",
  localRegistry: "127.0.0.1:5000",
  builder: "local",
  version: "v0.1.0",
  commit: "0123456789abcdef0123456789abcdef01234567",
  commitTime: "2025-01-01T00:00:00Z",
};

/** A ConfigSource over a plain table, secrets wrapped as pulumi secrets (as loadConfig does). */
export function source(values: Readonly<Record<string, string | undefined>>, keys?: string[]): ConfigSource {
  return {
    get: (k) => (SECRETS.has(k) ? undefined : values[k]),
    getSecret: (k) => {
      const v = values[k];
      return v === undefined || v === "" ? undefined : pulumi.secret(v);
    },
    keys,
  };
}

/** Whether a recorded input is, or contains, a secret. */
export function containsSecret(value: unknown): boolean {
  if (isSecretInput(value)) {
    return true;
  }
  if (typeof value === "object" && value !== null) {
    return Object.values(value).some(containsSecret);
  }
  return false;
}
