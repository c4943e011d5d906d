// An in-process OCI registry for tests: 127.0.0.1, plain HTTP, an OS-assigned port; repositories
// by path; no auth, the bearer token flow (anonymous tokens too) or basic; blobs redirected to a
// second "storage" server; paths that answer 403 DENIED. Shared by the exact-tag guard's tests and
// the anonymous-pull check's.
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import { ociLabels } from "../lib/labels";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const sha256 = (b: string | Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
export const PLATFORMS = ["linux/amd64", "linux/arm64"];

export interface Repo {
  tags: Record<string, string>;
  manifests: Record<string, { mediaType: string; body: Buffer }>;
  blobs: Record<string, Buffer>;
}

/** What one push of a release puts in a repository: config blobs, platform manifests, index, tags. */
export function pushRelease(
  repo: Repo,
  commit: string,
  tags: string[],
  platforms = PLATFORMS,
): { index: string; platforms: Record<string, string> } {
  const descs = platforms.map((p) => {
    const [os, architecture] = p.split("/");
    const labels = ociLabels({
      owner: "example-org",
      repository: "cq-source-s3",
      version: "v1.2.3",
      commit,
      commitTime: "2025-03-04T05:06:07Z",
    });
    const config = Buffer.from(JSON.stringify({ architecture, os, config: { Labels: labels } }));
    repo.blobs[sha256(config)] = config;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(config),
          size: config.length,
        },
        layers: [],
      }),
    );
    repo.manifests[sha256(manifest)] = { mediaType: OCI_MANIFEST, body: manifest };
    return {
      mediaType: OCI_MANIFEST,
      digest: sha256(manifest),
      size: manifest.length,
      platform: { os, architecture },
    };
  });
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: descs }, null, 2),
  );
  repo.manifests[sha256(index)] = { mediaType: OCI_INDEX, body: index };
  for (const t of tags) repo.tags[t] = sha256(index);
  return {
    index: sha256(index),
    platforms: Object.fromEntries(platforms.map((p, i) => [p, descs[i].digest])),
  };
}

/** No auth, or the token or basic flow for these username → password pairs. */
export type AuthMode = { kind: "none" } | { kind: "bearer" | "basic"; users: Record<string, string> };

/** A registry on 127.0.0.1: repositories by path, an auth mode, blobs redirected to a storage server. */
export class FakeRegistry {
  readonly repos = new Map<string, Repo>();
  /** Paths answered 403 DENIED even with a valid token (GHCR, for a package never pushed). */
  readonly denied = new Set<string>();
  readonly requests: { url: string; authorization?: string }[] = [];
  readonly storageRequests: { url: string; authorization?: string }[] = [];
  auth: AuthMode = { kind: "none" };
  /** In bearer mode, whether the token realm gives a token to a request without credentials. */
  anonymousTokens = true;
  private server = http.createServer((req, res) => this.handle(req, res));
  private storage = http.createServer((req, res) => {
    this.storageRequests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    const digest = /^\/blob\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? "")?.[1] ?? "";
    const body = [...this.repos.values()].map((r) => r.blobs[digest]).find((b) => b !== undefined);
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  address = "";
  private storageAddress = "";

  repo(path: string): Repo {
    let r = this.repos.get(path);
    if (r === undefined) this.repos.set(path, (r = { tags: {}, manifests: {}, blobs: {} }));
    return r;
  }

  async start(): Promise<void> {
    for (const s of [this.server, this.storage])
      await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
    this.address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    // "localhost": another host than the registry's, as storage behind a redirect is.
    this.storageAddress = `localhost:${(this.storage.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of [this.server, this.storage]) await new Promise<void>((ok) => s.close(() => ok()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", `http://${this.address}`);
    this.requests.push({ url: url.pathname + url.search, authorization: req.headers.authorization });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
    };
    // The user whose basic credentials came, or undefined (none, or wrong).
    const basicUser = (a: { users: Record<string, string> }) =>
      Object.entries(a.users).find(
        ([u, p]) => req.headers.authorization === `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`,
      )?.[0];
    if (url.pathname === "/token") {
      if (this.auth.kind !== "bearer") return json(404, {});
      const user = basicUser(this.auth);
      if (req.headers.authorization !== undefined && user === undefined) {
        return json(401, { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] });
      }
      if (user === undefined && !this.anonymousTokens) {
        return json(401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });
      }
      const who = user ?? "anonymous";
      return json(200, {
        token: `tok-${who}-${url.searchParams.get("scope")}`,
        service: url.searchParams.get("service"),
      });
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (m === null) return json(404, { errors: [{ code: "NOT_FOUND" }] });
    const [, path, kind, ref] = m;
    if (this.auth.kind === "bearer") {
      const scope = `repository:${path}:pull`;
      const ok = [...Object.keys(this.auth.users), "anonymous"].map((u) => `Bearer tok-${u}-${scope}`);
      if (!ok.includes(req.headers.authorization ?? "")) {
        return json(
          401,
          { errors: [{ code: "UNAUTHORIZED" }] },
          {
            "WWW-Authenticate": `Bearer realm="http://${this.address}/token",service="fake.registry",scope="${scope}"`,
          },
        );
      }
    } else if (this.auth.kind === "basic" && basicUser(this.auth) === undefined) {
      return json(401, { errors: [{ code: "UNAUTHORIZED" }] }, { "WWW-Authenticate": 'Basic realm="fake"' });
    }
    if (this.denied.has(path)) {
      return json(403, {
        errors: [{ code: "DENIED", message: "requested access to the resource is denied" }],
      });
    }
    const repo = this.repos.get(path);
    if (kind === "blobs") {
      if (repo?.blobs[ref] === undefined) return json(404, { errors: [{ code: "BLOB_UNKNOWN" }] });
      res.writeHead(307, { Location: `http://${this.storageAddress}/blob/${ref}` }).end();
      return;
    }
    const digest = ref.startsWith("sha256:") ? ref : repo?.tags[ref];
    const manifest = digest === undefined ? undefined : repo?.manifests[digest];
    if (manifest === undefined) return json(404, { errors: [{ code: "MANIFEST_UNKNOWN" }] });
    res
      .writeHead(200, { "Content-Type": manifest.mediaType, "Docker-Content-Digest": digest as string })
      .end(manifest.body);
  }
}
