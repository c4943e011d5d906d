// The CloudQuery Hub door's decisions, for scripts/release/hub-publish.sh: what the Hub already
// holds for this exact version against the package the release built (dist/hub/package.json),
// and one plain action for each error the CLI's publish can end in. An exact version is immutable
// on every door, as exact image tags are: a finalized version with the same checksums is a no-op,
// with other checksums it is refused before anything is sent; a draft (a run that stopped before
// finalizing) is replaced. Pure except fetchHubVersion; tested in test/hub.test.ts.
//
// The Hub API as the CLI calls it (cloudquery-api-go): GET /plugins/{team}/{kind}/{name}/
// versions/{version} → PluginVersionDetails {draft, supported_targets, checksums (bare hex)}.

/** The Hub API's default base URL (CLOUDQUERY_API_URL overrides it, as for the CLI). */
export const HUB_API_URL = "https://api.cloudquery.io";

/** Where a plugin is created before its first version can be published (the API cannot). */
export const HUB_CONSOLE_URL = "https://cloud.cloudquery.io";

/** The package the SDK's `package` command wrote, reduced to what the Hub compares. */
export interface HubPackage {
  readonly team: string;
  readonly kind: string;
  readonly name: string;
  readonly version: string;
  /** `<os>_<arch>` → bare lowercase hex SHA-256 of its zip, in package.json order. */
  readonly checksums: ReadonlyMap<string, string>;
}

/** What the Hub holds for the version: undefined when it has none. */
export interface HubVersion {
  readonly draft: boolean;
  readonly supportedTargets: readonly string[];
  readonly checksums: readonly string[];
}

export type HubDecision =
  | { readonly action: "publish"; readonly why: string }
  | { readonly action: "published"; readonly why: string }
  | { readonly action: "refuse"; readonly why: string };

const SEGMENT = /^[a-z0-9][a-z0-9-]*$/;
const SHA256 = /^sha256:([0-9a-f]{64})$/;

/** `infobloxopen/source/s3@v1.2.3`: how messages name the version. */
export const hubRef = (p: HubPackage): string => `${p.team}/${p.kind}/${p.name}@${p.version}`;

/** Parses dist/hub/package.json; throws naming the field when it is not a native v1 package. */
export function parseHubPackage(text: string): HubPackage {
  const fail = (what: string): never => {
    throw new Error(`package.json: ${what}`);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return fail(`not JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== "object") fail("not a JSON object");
  if (raw.schema_version !== 1) fail(`schema_version ${JSON.stringify(raw.schema_version)}, expected 1`);
  if (raw.package_type !== "native")
    fail(`package_type ${JSON.stringify(raw.package_type)}, expected "native"`);
  for (const field of ["team", "kind", "name"] as const) {
    const v = raw[field];
    if (typeof v !== "string" || !SEGMENT.test(v)) fail(`${field} ${JSON.stringify(v)} is not a Hub name`);
  }
  const version = raw.version;
  if (typeof version !== "string" || !/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    fail(`version ${JSON.stringify(version)}, expected v<semver>`);
  }
  const targets = raw.supported_targets;
  if (!Array.isArray(targets) || targets.length === 0) fail("supported_targets is empty");
  const checksums = new Map<string, string>();
  for (const t of targets as Record<string, unknown>[]) {
    const target = `${String(t?.os)}_${String(t?.arch)}`;
    const m = SHA256.exec(String(t?.checksum));
    if (m === null) fail(`checksum of ${target} ${JSON.stringify(t?.checksum)}, expected sha256:<64 hex>`);
    if (checksums.has(target)) fail(`${target} appears twice`);
    checksums.set(target, (m as RegExpExecArray)[1]);
  }
  return {
    team: raw.team as string,
    kind: raw.kind as string,
    name: raw.name as string,
    version: version as string,
    checksums,
  };
}

/** Targets whose checksum differs, or that only one side has: `linux_amd64 (hub abc… ≠ ours def…)`. */
export function checksumDifferences(pkg: HubPackage, hub: HubVersion): string[] {
  const theirs = new Map<string, string>();
  hub.supportedTargets.forEach((t, i) => theirs.set(t, hub.checksums[i] ?? ""));
  const short = (s: string | undefined) => (s === undefined || s === "" ? "none" : `${s.slice(0, 12)}…`);
  const targets = [...new Set([...pkg.checksums.keys(), ...theirs.keys()])].sort();
  return targets
    .filter((t) => pkg.checksums.get(t) !== theirs.get(t))
    .map((t) => `${t} (Hub ${short(theirs.get(t))}, this build ${short(pkg.checksums.get(t))})`);
}

/** Publish, skip (already published, identical) or refuse (already published, different). */
export function hubPublishDecision(pkg: HubPackage, hub: HubVersion | undefined): HubDecision {
  const ref = hubRef(pkg);
  if (hub === undefined) return { action: "publish", why: `${ref} is not on the Hub yet` };
  if (hub.draft) {
    return {
      action: "publish",
      why: `${ref} is a draft on the Hub (an earlier run stopped before finalizing): replaced`,
    };
  }
  const diff = checksumDifferences(pkg, hub);
  if (diff.length === 0) {
    return {
      action: "published",
      why: `${ref} is already published on the Hub with these exact checksums: nothing to do`,
    };
  }
  return {
    action: "refuse",
    why:
      `${ref} is already published on the Hub with other contents: ${diff.join("; ")}. ` +
      `A published version is immutable; release a new version`,
  };
}

/**
 * The one action for a failed `cloudquery plugin publish`, from its output; undefined when the
 * output names no cause this knows (the output is then shown as it is).
 */
export function hubErrorAction(
  output: string,
  pkg: Pick<HubPackage, "team" | "kind" | "name">,
): string | undefined {
  const plugin = `${pkg.team}/${pkg.kind}/${pkg.name}`;
  if (/failed to get auth token|CLOUDQUERY_API_KEY/.test(output) && !/\b40[13]\b/.test(output)) {
    return "no Hub API key in this job: set the stack's cloudqueryApiKey (pulumi config set --secret cloudqueryApiKey …), run pulumi up to write the Actions secret CLOUDQUERY_API_KEY, then re-run";
  }
  if (/\b401\b|unauthorized/i.test(output)) {
    return `the Hub refused the API key (401): create a new API key of team ${pkg.team} at ${HUB_CONSOLE_URL}, set it as the stack's cloudqueryApiKey, run pulumi up, then re-run`;
  }
  if (/create new draft version: 403|create the plugin first/.test(output)) {
    return `the Hub has no plugin ${plugin} this key may publish (403): create it once at ${HUB_CONSOLE_URL} (team ${pkg.team}, kind ${pkg.kind}, name ${pkg.name}) with the key's team, then re-run`;
  }
  if (/already (published|finalized|exists)/i.test(output)) {
    return "the version is already published on the Hub and a published version is immutable: release a new version";
  }
  if (/failed to upload (binary|file)|status \d{3}/.test(output)) {
    return "an upload to the Hub failed midway: the version stays a draft, which a re-run replaces; re-run the job";
  }
  return undefined;
}

type Fetch = (
  url: string,
  init: { headers: Record<string, string> },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

/** GETs what the Hub holds for the package's version (undefined on 404); throws with the action otherwise. */
export async function fetchHubVersion(
  pkg: HubPackage,
  opts: { readonly apiUrl: string; readonly apiKey?: string; readonly fetch?: Fetch },
): Promise<HubVersion | undefined> {
  const base = opts.apiUrl.replace(/\/+$/, "");
  const url = `${base}/plugins/${pkg.team}/${pkg.kind}/${pkg.name}/versions/${encodeURIComponent(pkg.version)}`;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.apiKey) headers.Authorization = `Bearer ${opts.apiKey}`;
  const res = await (opts.fetch ?? (fetch as unknown as Fetch))(url, { headers });
  const body = await res.text();
  if (res.status === 404) return undefined;
  if (res.status !== 200) {
    const action = hubErrorAction(`${res.status}`, pkg);
    throw new Error(`GET ${url}: ${res.status} ${body.trim().slice(0, 200)}${action ? `; ${action}` : ""}`);
  }
  let v: { draft?: unknown; supported_targets?: unknown; checksums?: unknown };
  try {
    v = JSON.parse(body) as typeof v;
  } catch {
    throw new Error(`GET ${url}: 200 with a body that is not JSON`);
  }
  const strings = (x: unknown) => Array.isArray(x) && x.every((e) => typeof e === "string");
  if (typeof v.draft !== "boolean" || !strings(v.supported_targets) || !strings(v.checksums)) {
    throw new Error(`GET ${url}: 200 without draft, supported_targets and checksums`);
  }
  return {
    draft: v.draft,
    supportedTargets: v.supported_targets as string[],
    checksums: v.checksums as string[],
  };
}
