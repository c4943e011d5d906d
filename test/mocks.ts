// Shared Pulumi mocks: only the GCP and GitHub APIs (and docker-build's registry side) are faked.
// Records every registered resource with its inputs and the options Pulumi sends to the engine
// (protect, retainOnDelete, parent, provider, dependencies), so tests can assert on what `pulumi up`
// would do.
//
// Only `pulumi.runtime` exports are used: `setMocks` with a `Mocks` gives type, name, inputs,
// custom, provider and the provider function calls. `Mocks` never sees the resource options, and
// the public option hooks do not work under mocks: `registerResourceTransform` throws ("The Pulumi
// CLI does not support transforms": `setMocks` turns transforms off and there is no callback
// server); `registerStackTransformation` needs the root Stack, which mocks do not create, and
// creating one (`runInPulumiStack`) parents every top-level resource to it, so the mock URNs become
// `pulumi:pulumi:Stack$<type>::…` (not what the engine assigns, nor what lib/imageTarget targets).
// `dependencies` (dependsOn expanded to a component's children, plus the resources behind Output
// inputs) exists only in the engine request, so no transform could see it anyway. Hence the one
// workaround: `observeRegistrations` reads protect, retainOnDelete, parent, additionalSecretOutputs
// and dependencies from the request, and the URN from the answer, on the monitor instance that
// `pulumi.runtime.getMonitor()` returns (no deep import, no prototype patching).
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
  /** URN the mock engine answered with (set when its answer arrives; `settle` waits for it). */
  readonly urn: string;
  /**
   * URNs the engine is told this resource depends on: explicit `dependsOn` (a component expanded to
   * its children) plus the resources behind Output inputs.
   */
  readonly dependencies: string[];
}

/** Every registration since the last `setupMocks`. */
export const registrations: Registration[] = [];
/** Every provider function call since the last `setupMocks`. */
export const calls: { token: string; inputs: Record<string, unknown> }[] = [];

/** Whether a recorded input value arrived as a secret. */
export function isSecretInput(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value) === true;
}

/** Strips secret wrappers from a recorded input, for value assertions. */
export function plain(value: unknown): unknown {
  if (isSecretInput(value)) {
    return plain(pulumi.runtime.unwrapRpcSecret(value));
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

// The parts of the resource monitor protocol (pulumi/proto resource.proto: RegisterResourceRequest
// and its response) read here.
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getParent(): string;
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
}
type RegisterCallback = (err: unknown, response?: { getUrn(): string }) => void;
interface RegisteringMonitor {
  registerResource(req: RegisterRequest, callback: RegisterCallback): unknown;
}

type Recorded = { -readonly [K in keyof Registration]: Registration[K] };
/** Options of the registration being handed to `newResource` (it runs inside registerResource). */
const requested = new Map<string, Recorded>();
/** Registrations the mock engine has not answered yet. */
const unanswered = new Set<Recorded>();

/**
 * Wraps `registerResource` of the monitor `setMocks` just installed (that instance only; the next
 * `setMocks` installs a fresh one) to read the options from the request and the URN from the
 * answer, then hands both on unchanged.
 */
function observeRegistrations(): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as RegisteringMonitor | undefined;
  if (monitor === undefined) {
    throw new Error("setMocks installed no resource monitor");
  }
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const record: Recorded = {
      type: req.getType(),
      name: req.getName(),
      custom: true,
      inputs: {},
      protect: req.getProtect(),
      retainOnDelete: req.getRetainondelete(),
      parent: req.getParent(),
      provider: "",
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      urn: "",
      dependencies: req.getDependenciesList(),
    };
    requested.set(`${record.type}::${record.name}`, record);
    unanswered.add(record);
    return register(req, (err, response) => {
      record.urn = response?.getUrn() ?? "";
      unanswered.delete(record);
      callback(err, response);
    });
  };
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
  requested.clear();
  unanswered.clear();
  const full = (k: string) => (k.includes(":") ? k : `cq-source-s3-release:${k}`);
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [full(k), v])),
    secretKeys.map(full),
  );
  const installed = pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const key = `${args.type}::${args.name}`;
        // Reads (`Resource.get`) bypass registerResource and carry no options.
        const record: Recorded = requested.get(key) ?? {
          type: args.type,
          name: args.name,
          custom: true,
          inputs: {},
          protect: false,
          retainOnDelete: false,
          parent: "",
          provider: "",
          additionalSecretOutputs: [],
          urn: "",
          dependencies: [],
        };
        requested.delete(key);
        const inputs = args.inputs as Record<string, unknown>;
        record.inputs = inputs;
        record.custom = args.custom ?? true;
        record.provider = args.provider ?? "";
        registrations.push(record);
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
  // setMocks has installed its monitor by now (the promise only reports completion).
  observeRegistrations();
  return installed;
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

/** Waits until registrations stop arriving and are answered (registration is asynchronous). */
export async function settle(): Promise<void> {
  let last = -1;
  for (let i = 0; i < 50 && (last !== registrations.length || unanswered.size > 0); i++) {
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

const SECRETS = new Set(["ghcrToken", "pulumiConfigPassphrase", "cloudqueryApiKey"]);

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
