// CrossGuard policies for the cq-source-s3 release infrastructure: the invariants that must never
// regress, whoever edits the program. Resource types are matched by token (no provider SDKs are
// needed here, which keeps the pack small and independent of the program's provider versions).
// Each policy is exported so the unit tests can call it directly.
import {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
  UnknownValueError,
} from "@pulumi/policy";

export const T = {
  pool: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
  provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  serviceAccount: "gcp:serviceaccount/account:Account",
  serviceAccountKey: "gcp:serviceaccount/key:Key",
  registry: "gcp:artifactregistry/repository:Repository",
  registryIamMember: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
  registryIamBinding: "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
  registryIamPolicy: "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy",
  image: "docker-build:index:Image",
  index: "docker-build:index:Index",
} as const;

/** Artifact Registry roles that can push (or grant pushing); only the release identity may hold them. */
export const REGISTRY_WRITE_ROLES = [
  "roles/artifactregistry.writer",
  "roles/artifactregistry.createOnPushWriter",
  "roles/artifactregistry.repoAdmin",
  "roles/artifactregistry.createOnPushRepoAdmin",
  "roles/artifactregistry.admin",
];

/** Registries images may be pushed to when the pack is given no `allowedRegistries` config. */
export const DEFAULT_ALLOWED_REGISTRIES = ["gcr.io/", "ghcr.io/", "127.0.0.1:5000/"];

/**
 * The immutable per-commit tag every pushed repository must carry: `<version>-<7 hex>`, optionally
 * followed by a platform suffix (`v1.2.3-abc1234-arm64`, the per-platform images an Index joins).
 */
export const SHA_TAG_RE = /-[0-9a-f]{7}(?:-[a-z0-9]+)?$/;

// ---------------------------------------------------------------------------------------------
// Pure helpers (tested directly)

/**
 * Splits a CEL expression into its top-level `&&` conjuncts. Returns `undefined` when the
 * expression is not a pure conjunction at the top level (a top-level `||` or `?:` could let a
 * claim set bypass a pin that merely appears somewhere in the text).
 */
export function topLevelConjuncts(expr: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote !== undefined) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (depth === 0 && (c === "?" || (c === "|" && expr[i + 1] === "|"))) return undefined;
    else if (depth === 0 && c === "&" && expr[i + 1] === "&") {
      parts.push(expr.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  if (quote !== undefined || depth !== 0) return undefined;
  parts.push(expr.slice(start));
  return parts.map(stripParens);
}

function stripParens(s: string): string {
  let t = s.trim();
  while (t.startsWith("(") && t.endsWith(")") && topLevelConjuncts(t.slice(1, -1))?.length === 1) {
    t = t.slice(1, -1).trim();
  }
  return t;
}

/** Why a WIF attribute condition does not pin numeric repository IDs, or `undefined` if it does. */
export function attributeConditionProblem(condition: unknown): string | undefined {
  if (typeof condition !== "string" || condition.trim() === "") {
    return "has no attributeCondition; without one any GitHub repository could obtain tokens";
  }
  const conjuncts = topLevelConjuncts(condition);
  if (conjuncts === undefined) {
    return `attributeCondition must be a conjunction (a && b && …) at the top level, got ${JSON.stringify(condition)}`;
  }
  const missing = ["repository_owner_id", "repository_id"].filter(
    (claim) => !conjuncts.some((c) => new RegExp(`^assertion\\.${claim}\\s*==\\s*(["'])[0-9]+\\1$`).test(c)),
  );
  if (missing.length > 0) {
    return (
      `attributeCondition must pin ${missing.map((m) => `assertion.${m} == "<numeric id>"`).join(" and ")} ` +
      `as top-level conjuncts (names can be re-registered after a rename), got ${JSON.stringify(condition)}`
    );
  }
  return undefined;
}

/** Repository part of an image reference (`host[:port]/path` without `:tag` or `@digest`). */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split("@")[0];
  const lastSlash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

/** Tag part of an image reference, or `undefined` for an untagged reference. */
export function tagOf(ref: string): string | undefined {
  const noDigest = ref.split("@")[0];
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(colon + 1) : undefined;
}

/** `true` when `ref` is under one of the allowed registry prefixes (a prefix is normalised to end in `/`). */
export function isAllowedRegistry(ref: string, allowed: readonly string[]): boolean {
  return allowed.some((prefix) => ref.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`));
}

// ---------------------------------------------------------------------------------------------
// Config

/** Config of `no-service-account-keys` and `service-account-keys-allowed`. */
export interface KeysConfig {
  /** Allows `gcp:serviceaccount/key:Key` resources (reported as advisory instead). Defaults to false. */
  allowServiceAccountKeys?: boolean;
}

/** Config of `registry-writers-are-release-identity`. */
export interface WritersConfig {
  /** Email of the release service account. Defaults to the one Account whose accountId matches `releaseAccountIdPattern`. */
  releaseServiceAccountEmail?: string;
  /** Regular expression for the release Account's accountId. Defaults to `release$`. */
  releaseAccountIdPattern?: string;
}

/** Config of `images-push-to-allowed-registries`. */
export interface RegistriesConfig {
  /** Prefixes (`gcr.io/<project>/`, `ghcr.io/<owner>/`, `127.0.0.1:5000/`) images may be pushed under. Defaults to DEFAULT_ALLOWED_REGISTRIES. */
  allowedRegistries?: string[];
}

const keysSchema = {
  properties: { allowServiceAccountKeys: { type: "boolean" as const, default: false } },
};

// ---------------------------------------------------------------------------------------------
// Policies

export const wifProviderPinsRepositoryIds: ResourceValidationPolicy = {
  name: "wif-provider-pins-repository-ids",
  description:
    "Every Workload Identity Pool Provider has an attributeCondition that pins the numeric " +
    "assertion.repository_owner_id and assertion.repository_id.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== T.provider) return;
    const problem = attributeConditionProblem(args.props.attributeCondition);
    if (problem) report(`Workload identity provider '${args.name}' ${problem}.`);
  },
};

export const noServiceAccountKeys: ResourceValidationPolicy = {
  name: "no-service-account-keys",
  description:
    "No service-account JSON keys (use Workload Identity Federation) unless the policy config " +
    "allowServiceAccountKeys is true.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: keysSchema,
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== T.serviceAccountKey) return;
    if (args.getConfig<KeysConfig>().allowServiceAccountKeys === true) return;
    report(
      `Service account key '${args.name}' is forbidden: keys are long-lived credentials; ` +
        "use Workload Identity Federation, or set allowServiceAccountKeys in the policy config.",
    );
  },
};

/** The advisory half of the key switch: when keys are allowed they are still reported, loudly. */
export const serviceAccountKeysAllowed: ResourceValidationPolicy = {
  name: "service-account-keys-allowed",
  description: "Warns about every service-account key when allowServiceAccountKeys is true.",
  enforcementLevel: "advisory",
  severity: "high",
  configSchema: keysSchema,
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== T.serviceAccountKey) return;
    if (args.getConfig<KeysConfig>().allowServiceAccountKeys !== true) return;
    report(
      `Service account key '${args.name}' exists because allowServiceAccountKeys is true; rotate and remove it.`,
    );
  },
};

/** Reads `props[key]`, returning `unknown` as a marker when it is not known during preview. */
function maybeUnknown(props: Record<string, unknown>, key: string): unknown {
  try {
    return props[key];
  } catch (e) {
    if (e instanceof UnknownValueError) return UNKNOWN;
    throw e;
  }
}
const UNKNOWN = Symbol("unknown");

function releaseAccounts(resources: PolicyResource[], cfg: WritersConfig): PolicyResource[] {
  const pattern = new RegExp(cfg.releaseAccountIdPattern ?? "release$");
  return resources.filter((r) => {
    if (r.type !== T.serviceAccount) return false;
    const accountId = maybeUnknown(r.props, "accountId");
    return typeof accountId === "string" && pattern.test(accountId);
  });
}

export const registryWritersAreReleaseIdentity: StackValidationPolicy = {
  name: "registry-writers-are-release-identity",
  description:
    "Artifact Registry write roles are granted only to the release service account (the identity " +
    "the release workflow assumes); nobody else can push images.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema: {
    properties: {
      releaseServiceAccountEmail: { type: "string" },
      releaseAccountIdPattern: { type: "string", default: "release$" },
    },
  },
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const cfg = args.getConfig<WritersConfig>();
    const accounts = releaseAccounts(args.resources, cfg);
    const email =
      cfg.releaseServiceAccountEmail ??
      (accounts.length === 1 ? maybeUnknown(accounts[0].props, "email") : undefined);
    const expected = typeof email === "string" ? `serviceAccount:${email}` : undefined;

    // A member is the release identity if it equals its email, or — while the email is still
    // unknown during preview — if the member value is derived from the release Account.
    const isRelease = (r: PolicyResource, key: string, value: unknown): boolean => {
      if (expected !== undefined && value === expected) return true;
      if (value !== UNKNOWN) return false;
      return (
        accounts.length === 1 && (r.propertyDependencies[key] ?? []).some((d) => d.urn === accounts[0].urn)
      );
    };
    const who =
      expected ??
      (accounts.length === 1
        ? `the release account '${accounts[0].name}'`
        : `an unidentified release account (${accounts.length} Accounts match /${cfg.releaseAccountIdPattern ?? "release$"}/; set releaseServiceAccountEmail)`);

    for (const r of args.resources) {
      if (r.type === T.registryIamMember || r.type === T.registryIamBinding) {
        const role = maybeUnknown(r.props, "role");
        if (typeof role !== "string" || !REGISTRY_WRITE_ROLES.includes(role)) continue;
        const key = r.type === T.registryIamMember ? "member" : "members";
        const raw = maybeUnknown(r.props, key);
        const members = Array.isArray(raw) ? raw : [raw];
        for (const m of members) {
          if (!isRelease(r, key, m)) {
            report(
              `'${r.name}' grants ${role} to ${String(m === UNKNOWN ? "<unknown>" : m)}; only ${who} may write images.`,
              r.urn,
            );
          }
        }
      } else if (r.type === T.registryIamPolicy) {
        const data = maybeUnknown(r.props, "policyData");
        if (typeof data !== "string") continue;
        let bindings: { role?: string; members?: string[] }[] = [];
        try {
          bindings = (JSON.parse(data) as { bindings?: typeof bindings }).bindings ?? [];
        } catch {
          report(`'${r.name}' has policyData that is not JSON; cannot prove who may write images.`, r.urn);
          continue;
        }
        for (const b of bindings) {
          if (!b.role || !REGISTRY_WRITE_ROLES.includes(b.role)) continue;
          for (const m of b.members ?? []) {
            if (m !== expected)
              report(`'${r.name}' grants ${b.role} to ${m}; only ${who} may write images.`, r.urn);
          }
        }
      }
    }
  },
};

interface PushedRefs {
  name: string;
  refs: string[];
}

/** Registry cache destinations (`cacheTo: [{registry: {ref}}]`) of a docker-build Image. */
export function cacheRefs(props: Record<string, unknown>): string[] {
  const cacheTo = maybeUnknown(props, "cacheTo");
  if (!Array.isArray(cacheTo)) return [];
  return cacheTo
    .map((c: { registry?: { ref?: unknown } }) => c?.registry?.ref)
    .filter((r): r is string => typeof r === "string");
}

/**
 * A `raw` docker-build export as BuildKit reads it: CSV fields `key=value` (a field may be
 * double-quoted to hold commas, e.g. `"name=a,b"`). `pushes`: `type=registry` unless `push=false`,
 * `type=image` only with `push=true`; `names`: the `name` attribute's references (pushed besides
 * the Image's tags).
 */
export function parseRawExport(raw: string): { type: string; pushes: boolean; names: string[] } {
  const fields: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of raw) {
    if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) {
      fields.push(cur);
      cur = "";
    } else cur += ch;
  }
  fields.push(cur);
  const attrs = new Map<string, string>();
  for (const f of fields) {
    const eq = f.indexOf("=");
    if (eq > 0) attrs.set(f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1));
  }
  const type = attrs.get("type") ?? "";
  const push = attrs.get("push");
  const pushes = type === "registry" ? push !== "false" : type === "image" && push === "true";
  const names = (attrs.get("name") ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  return { type, pushes, names };
}

/** Tags a docker-build Image or Index pushes, or `undefined` when it does not push. */
export function pushedRefs(type: string, props: Record<string, unknown>): string[] | undefined {
  if (type === T.image) {
    const exportsList = maybeUnknown(props, "exports");
    const exportsArr: { registry?: unknown; image?: { push?: unknown }; raw?: unknown }[] = Array.isArray(
      exportsList,
    )
      ? exportsList
      : [];
    const raws = exportsArr
      .map((e) => e?.raw)
      .filter((r): r is string => typeof r === "string")
      .map(parseRawExport)
      .filter((r) => r.pushes);
    const pushesViaExport =
      raws.length > 0 || exportsArr.some((e) => e?.registry !== undefined || e?.image?.push === true);
    if (maybeUnknown(props, "push") !== true && !pushesViaExport) return undefined;
    const tags = maybeUnknown(props, "tags");
    const tagRefs = Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
    return [...tagRefs, ...raws.flatMap((r) => r.names)];
  }
  if (type === T.index) {
    if (maybeUnknown(props, "push") === false) return undefined; // Index pushes by default
    const tag = maybeUnknown(props, "tag");
    return typeof tag === "string" ? [tag] : [];
  }
  return undefined;
}

export const imagesPushToAllowedRegistries: ResourceValidationPolicy = {
  name: "images-push-to-allowed-registries",
  description:
    "docker-build Images and Indexes push only to our registries (gcr.io/<project>, ghcr.io/<owner>, " +
    "the local rehearsal registry), and a pushing Image carries an immutable -<7 hex> sha tag per repository.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      allowedRegistries: { type: "array", items: { type: "string" }, default: DEFAULT_ALLOWED_REGISTRIES },
    },
  },
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    const refs = pushedRefs(args.type, args.props);
    if (refs === undefined) return;
    const allowed = args.getConfig<RegistriesConfig>().allowedRegistries ?? DEFAULT_ALLOWED_REGISTRIES;
    // A registry cache export pushes layers too, so it must stay in our registries as well.
    for (const ref of [...refs, ...(args.type === T.image ? cacheRefs(args.props) : [])]) {
      if (!isAllowedRegistry(ref, allowed)) {
        report(`'${args.name}' pushes ${ref}, outside the allowed registries ${JSON.stringify(allowed)}.`);
      }
    }
    if (args.type !== T.image) return; // an Index has one tag; the stack check covers its repository
    if (refs.length === 0) {
      report(`'${args.name}' pushes but has no tags; it must carry an immutable -<7 hex> sha tag.`);
      return;
    }
    for (const repo of new Set(refs.map(repositoryOf))) {
      if (!refs.some((r) => repositoryOf(r) === repo && SHA_TAG_RE.test(tagOf(r) ?? ""))) {
        report(
          `'${args.name}' pushes to ${repo} without an immutable -<7 hex> sha tag (e.g. v1.2.3-abc1234).`,
        );
      }
    }
  },
};

export const pushedRepositoriesHaveShaTag: StackValidationPolicy = {
  name: "pushed-repositories-have-sha-tag",
  description:
    "Every repository the stack pushes to (through Images or Indexes) receives an immutable " +
    "-<7 hex> sha tag, so a release can always be traced back to its commit.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const pushed: PushedRefs[] = [];
    for (const r of args.resources) {
      const refs = pushedRefs(r.type, r.props);
      if (refs !== undefined) pushed.push({ name: r.name, refs });
    }
    const all = pushed.flatMap((p) => p.refs);
    for (const repo of new Set(all.map(repositoryOf))) {
      if (!all.some((r) => repositoryOf(r) === repo && SHA_TAG_RE.test(tagOf(r) ?? ""))) {
        const by = pushed.filter((p) => p.refs.some((r) => repositoryOf(r) === repo)).map((p) => p.name);
        report(`${repo} is pushed (by ${by.join(", ")}) without any immutable -<7 hex> sha tag.`);
      }
    }
  },
};

/** Types whose deletion is costly: WIF IDs are soft-deleted for 30 days; the registry holds every release. */
export const PROTECTED_TYPES: readonly string[] = [T.pool, T.provider, T.registry];

export const protectedResourcesStayProtected: ResourceValidationPolicy = {
  name: "protected-resources-stay-protected",
  description:
    "Workload Identity Pools and Providers and the Artifact Registry repository keep `protect: true` " +
    "(pool/provider IDs cannot be reused for 30 days after deletion; the registry holds every release).",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (!PROTECTED_TYPES.includes(args.type)) return;
    if (args.opts.protect !== true) {
      report(`'${args.name}' (${args.type}) must be created with { protect: true }.`);
    }
  },
};

/** Every policy of the pack, in the order they are reported. */
export const policies = [
  wifProviderPinsRepositoryIds,
  noServiceAccountKeys,
  serviceAccountKeysAllowed,
  registryWritersAreReleaseIdentity,
  imagesPushToAllowedRegistries,
  pushedRepositoriesHaveShaTag,
  protectedResourcesStayProtected,
];
