// Read-only client of the rehearsal registry (https://$CQ_REGISTRY, local CA): tags, manifests,
// image configs and blobs, enough to assert what the release pushed (test/e2e) and to measure it
// (scripts/bench.ts).
import * as fs from "fs";

import { RegistryClient } from "../../tooling/registryClient";
import { rehearsalEnv } from "./env";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}
export interface Index {
  mediaType: string;
  manifests: Descriptor[];
}
export interface Manifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}
export interface ImageConfig {
  architecture: string;
  os: string;
  config: {
    User?: string;
    Entrypoint?: string[];
    Cmd?: string[];
    ExposedPorts?: Record<string, unknown>;
    Labels?: Record<string, string>;
    Env?: string[];
  };
}

/** The rehearsal registry, read through tooling/registryClient.ts with the rehearsal's CA. */
export class Registry {
  private readonly client: RegistryClient;
  constructor(
    readonly host = rehearsalEnv("CQ_REGISTRY"),
    caFile = rehearsalEnv("CQ_REGISTRY_CA"),
  ) {
    this.client = new RegistryClient(host, { ca: fs.readFileSync(caFile), timeoutMs: 60_000 });
  }

  /** Tags of a repository, sorted; [] when the repository does not exist. */
  async tags(repo: string): Promise<string[]> {
    return this.client.tags(repo);
  }

  /** Content digest of a tag (or digest) reference; throws when it is absent. */
  async digest(repo: string, ref: string): Promise<string> {
    const m = await this.client.manifest(repo, ref);
    if (m === undefined) throw new Error(`${this.host}/${repo}:${ref}: not found`);
    return m.digest;
  }

  /** tag → digest for every tag of the repository: what "the registry is unchanged" compares. */
  async snapshot(repo: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const t of await this.tags(repo)) out[t] = await this.digest(repo, t);
    return out;
  }

  async manifest<T = Index | Manifest>(repo: string, ref: string): Promise<T> {
    const m = await this.client.manifest(repo, ref);
    if (m === undefined) throw new Error(`${this.host}/${repo}:${ref}: not found`);
    return m.json as T;
  }

  async blob(repo: string, digest: string): Promise<Buffer> {
    return this.client.blob(repo, digest);
  }

  async config(repo: string, manifest: Manifest): Promise<ImageConfig> {
    return JSON.parse((await this.blob(repo, manifest.config.digest)).toString()) as ImageConfig;
  }
}
