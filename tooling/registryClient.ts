// A small read-only client of the OCI distribution API (Docker Registry HTTP API v2): tags, and
// manifests and blobs by tag or digest, enough for the release's exact-tag guard
// (tooling/exactTagGuard.ts) to see what a registry holds before anything is pushed; the
// rehearsal's registry client (scripts/lib/registry.ts) is built on it. Authentication as
// registries ask for it: anonymous first; on `401` with `WWW-Authenticate: Bearer
// realm=…,service=…,scope=…` a token from the realm (with basic credentials when given), or basic
// credentials on a `Basic` challenge. Trusts the system's roots plus an optional extra CA (the
// rehearsal registry's private CA).
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";

/** Media types of the manifests we read: OCI and Docker, index and single-platform. */
export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;

/** Username and password (or token) for a registry. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** `https` (every real registry, the rehearsal's) or `http` (in-process test servers only). Defaults to `https`. */
  readonly scheme?: "https" | "http";
  /** Extra CA certificates (PEM) trusted besides the system's. Defaults to none. */
  readonly ca?: string | Buffer;
  /** Credentials sent to the token realm or on a basic challenge. Defaults to anonymous. */
  readonly credentials?: RegistryCredentials;
  /** Per-request timeout. Defaults to 30 s. */
  readonly timeoutMs?: number;
}

/** A manifest as read: its digest, media type and parsed JSON. */
export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly json: unknown;
}

/** A registry answered something other than the content or "not found". */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses one `WWW-Authenticate` value: `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  // key=value or key="value with , and \" escapes"
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}

interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The registry's error codes (`{"errors":[{"code":…}]}`), for messages; [] when the body has none. */
function errorCodes(body: Buffer): string[] {
  try {
    const v = JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
    return (v.errors ?? []).map(
      (e) => `${String(e.code)}${e.message === undefined ? "" : `: ${String(e.message)}`}`,
    );
  } catch {
    return [];
  }
}

/** Read-only client of one registry (`host[:port]`). */
export class RegistryClient {
  private readonly scheme: "https" | "http";
  private readonly ca?: (string | Buffer)[];
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    readonly address: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.scheme = opts.scheme ?? "https";
    // `ca` replaces Node's roots, so keep them (real registries) and add the extra one.
    this.ca = opts.ca === undefined ? undefined : [...tls.rootCertificates, opts.ca];
  }

  /** Whether credentials were given (a denial then is the registry's word on this identity). */
  get authenticated(): boolean {
    return this.opts.credentials !== undefined;
  }

  /**
   * The manifest `reference` (tag or `sha256:` digest) of repository `path` (without the
   * registry address), or undefined when the registry says it does not exist (404).
   */
  async manifest(path: string, reference: string): Promise<FetchedManifest | undefined> {
    const r = await this.get(path, `/v2/${path}/manifests/${reference}`, MANIFEST_MEDIA_TYPES.join(", "));
    if (r.status === 404) return undefined;
    this.check(r, "GET", path, `manifests/${reference}`);
    const computed = `sha256:${createHash("sha256").update(r.body).digest("hex")}`;
    const header = r.headers["docker-content-digest"];
    if (reference.startsWith("sha256:") && computed !== reference) {
      throw new RegistryError(
        `${this.address}/${path}@${reference}: content has digest ${computed}`,
        r.status,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(r.body.toString("utf8"));
    } catch {
      throw new RegistryError(`${this.address}/${path}:${reference}: the manifest is not JSON`, r.status);
    }
    const mediaType =
      (json as { mediaType?: unknown }).mediaType ?? String(r.headers["content-type"] ?? "").split(";")[0];
    // The digest of the bytes served; a registry's header for them must agree.
    if (typeof header === "string" && header !== "" && header !== computed) {
      throw new RegistryError(
        `${this.address}/${path}:${reference}: Docker-Content-Digest ${header} but content ${computed}`,
        r.status,
      );
    }
    return { digest: computed, mediaType: String(mediaType), json };
  }

  /** The tags of repository `path`, sorted; [] when the repository does not exist. */
  async tags(path: string): Promise<string[]> {
    const r = await this.get(path, `/v2/${path}/tags/list?n=10000`);
    if (r.status === 404) return [];
    this.check(r, "GET", path, "tags/list");
    return ((JSON.parse(r.body.toString("utf8")) as { tags?: string[] | null }).tags ?? []).sort();
  }

  /** A blob of `path`, checked against its digest (registries may redirect to storage). */
  async blob(path: string, digest: string): Promise<Buffer> {
    const r = await this.get(path, `/v2/${path}/blobs/${digest}`);
    this.check(r, "GET", path, `blobs/${digest}`);
    const computed = `sha256:${createHash("sha256").update(r.body).digest("hex")}`;
    if (computed !== digest) {
      throw new RegistryError(
        `${this.address}/${path}@${digest}: blob content has digest ${computed}`,
        r.status,
      );
    }
    return r.body;
  }

  /** A blob of `path` parsed as JSON (an image config). */
  async blobJson(path: string, digest: string): Promise<unknown> {
    return JSON.parse((await this.blob(path, digest)).toString("utf8")) as unknown;
  }

  private check(r: Response, method: string, path: string, what: string): void {
    if (r.status >= 200 && r.status < 300) return;
    const codes = errorCodes(r.body);
    throw new RegistryError(
      `${method} ${this.scheme}://${this.address}/v2/${path}/${what}: HTTP ${r.status}` +
        (codes.length > 0 ? ` (${codes.join("; ")})` : "") +
        (r.status === 401 || r.status === 403
          ? this.authenticated
            ? ": the credentials were refused"
            : ": no credentials given"
          : ""),
      r.status,
    );
  }

  /** GET with the registry's authentication dance; follows redirects (blobs live elsewhere). */
  private async get(path: string, urlPath: string, accept?: string): Promise<Response> {
    const url = new URL(`${this.scheme}://${this.address}${urlPath}`);
    const scope = `repository:${path}:pull`;
    let r = await this.send(url, accept, this.authorization(scope));
    if (r.status === 401) {
      const challenge = parseChallenge(String(r.headers["www-authenticate"] ?? ""));
      if (challenge?.scheme === "bearer" && challenge.params.realm !== undefined) {
        const token = await this.token(challenge, scope);
        this.tokens.set(scope, token);
        r = await this.send(url, accept, `Bearer ${token}`);
      } else if (challenge?.scheme === "basic" && this.opts.credentials !== undefined) {
        this.basic = true;
        r = await this.send(url, accept, this.authorization(scope));
      }
    }
    return r;
  }

  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token !== undefined) return `Bearer ${token}`;
    const c = this.opts.credentials;
    if (this.basic && c !== undefined) {
      return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
    }
    return undefined;
  }

  /** A bearer token from the challenge's realm for `scope` (the challenge's own scope when it names one). */
  private async token(challenge: Challenge, scope: string): Promise<string> {
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service !== undefined) realm.searchParams.set("service", challenge.params.service);
    realm.searchParams.set("scope", challenge.params.scope ?? scope);
    const c = this.opts.credentials;
    const auth =
      c === undefined ? undefined : `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
    const r = await this.send(realm, "application/json", auth);
    if (r.status !== 200) {
      const codes = errorCodes(r.body);
      throw new RegistryError(
        `token for ${this.address} (${scope}) from ${realm.origin}${realm.pathname}: HTTP ${r.status}` +
          (codes.length > 0 ? ` (${codes.join("; ")})` : "") +
          (c === undefined ? ": no credentials given" : ": the credentials were refused"),
        r.status,
      );
    }
    const v = JSON.parse(r.body.toString("utf8")) as { token?: unknown; access_token?: unknown };
    const token = v.token ?? v.access_token;
    if (typeof token !== "string" || token === "") {
      throw new RegistryError(
        `token for ${this.address} from ${realm.origin}: no token in the answer`,
        r.status,
      );
    }
    return token;
  }

  private async send(
    url: URL,
    accept: string | undefined,
    authorization: string | undefined,
  ): Promise<Response> {
    for (let hops = 0; ; hops++) {
      const r = await this.once(url, accept, authorization);
      const location = r.headers.location;
      if (![301, 302, 303, 307, 308].includes(r.status) || location === undefined || hops >= 5) return r;
      const next = new URL(location, url);
      // Credentials stay with the registry: a redirect to storage carries its own signature.
      if (next.host !== url.host) authorization = undefined;
      url = next;
    }
  }

  private once(url: URL, accept: string | undefined, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accept !== undefined) headers.Accept = accept;
    if (authorization !== undefined) headers.Authorization = authorization;
    const mod = url.protocol === "http:" ? http : https;
    const timeout = this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method: "GET",
          headers,
          ...(url.protocol === "https:" && this.ca !== undefined ? { ca: this.ca } : {}),
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
      req.setTimeout(timeout, () => req.destroy(new Error(`no answer in ${timeout} ms`)));
      req.on("error", (e) => reject(new RegistryError(`GET ${url.origin}${url.pathname}: ${e.message}`, 0)));
      req.end();
    });
  }
}
