// Read-only client of the rehearsal registry (https://$CQ_REGISTRY, local CA): tags, manifests,
// image configs and blobs, enough to assert what the release pushed (test/e2e) and to measure it
// (scripts/bench.ts).
import * as fs from "fs";
import * as https from "https";

import { rehearsalEnv } from "./env";

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

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

export class Registry {
  private readonly ca: Buffer;
  constructor(
    readonly host = rehearsalEnv("CQ_REGISTRY"),
    caFile = rehearsalEnv("CQ_REGISTRY_CA"),
  ) {
    this.ca = fs.readFileSync(caFile);
  }

  private request(
    method: string,
    path: string,
    accept?: string,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const [hostname, port] = this.host.split(":");
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          hostname,
          port: Number(port),
          path,
          method,
          ca: this.ca,
          headers: accept ? { Accept: accept } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on("error", reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on("error", reject);
      req.end();
    });
  }

  private async get(path: string, accept?: string): Promise<Buffer> {
    const r = await this.request("GET", path, accept);
    if (r.status !== 200) throw new Error(`GET https://${this.host}${path}: HTTP ${r.status}: ${r.body}`);
    return r.body;
  }

  /** Tags of a repository, sorted; [] when the repository does not exist. */
  async tags(repo: string): Promise<string[]> {
    const r = await this.request("GET", `/v2/${repo}/tags/list?n=1000`);
    if (r.status === 404) return [];
    if (r.status !== 200) throw new Error(`tags of ${repo}: HTTP ${r.status}: ${r.body}`);
    return ((JSON.parse(r.body.toString()) as { tags: string[] | null }).tags ?? []).sort();
  }

  /** Content digest of a tag (or digest) reference. */
  async digest(repo: string, ref: string): Promise<string> {
    const r = await this.request("HEAD", `/v2/${repo}/manifests/${ref}`, MANIFEST_TYPES);
    const d = r.headers["docker-content-digest"];
    if (r.status !== 200 || typeof d !== "string") throw new Error(`HEAD ${repo}:${ref}: HTTP ${r.status}`);
    return d;
  }

  /** tag → digest for every tag of the repository: what "the registry is unchanged" compares. */
  async snapshot(repo: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const t of await this.tags(repo)) out[t] = await this.digest(repo, t);
    return out;
  }

  async manifest<T = Index | Manifest>(repo: string, ref: string): Promise<T> {
    return JSON.parse((await this.get(`/v2/${repo}/manifests/${ref}`, MANIFEST_TYPES)).toString()) as T;
  }

  async blob(repo: string, digest: string): Promise<Buffer> {
    return this.get(`/v2/${repo}/blobs/${digest}`);
  }

  async config(repo: string, manifest: Manifest): Promise<ImageConfig> {
    return JSON.parse((await this.blob(repo, manifest.config.digest)).toString()) as ImageConfig;
  }
}
