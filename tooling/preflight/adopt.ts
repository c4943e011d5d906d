// What the program creates that may already exist in the project (a 409 on `pulumi up`): the
// Artifact Registry repository, the workload identity pool and provider (soft-deleted for 30 days:
// `WorkloadIdentityPool.state` ACTIVE/DELETED + `expireTime`), the two service accounts; and how to
// adopt each into the stack (`pulumi import`, one by one or with an import file).
import { PROJECT } from "../../lib/config";
import { GCP_TYPES } from "../../lib/gcpApis";
import {
  type Answers,
  type Classified,
  classify,
  type Finding,
  type StackState,
  unanswered,
} from "./answers";
import {
  GCR_REPOSITORY,
  gcloud,
  preflightCommand,
  type QueryKey,
  serviceAccountEmail,
  shellQuote,
} from "./commands";
import type { PreflightTarget } from "./target";

/**
 * Component resources as index.ts registers them (logical name, type token). The children's names
 * derive from them as in the components; test/preflight.test.ts checks both against the program.
 */
export const COMPONENTS = {
  registries: { type: "cq-release:registries:Registries", name: "registries" },
  identity: { type: "cq-release:identity:GitHubIdentity", name: "identity" },
} as const;

/** The stack's own name (last part of `org/project/stack`), as it appears in URNs. */
function stackName(stack: string): string {
  return stack.split("/").pop() ?? stack;
}

/** URN of a resource of this project; `parentType` for a child of a component. */
export function urn(stack: string, type: string, name: string, parentType?: string): string {
  const qualified = parentType === undefined ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stackName(stack)}::${PROJECT}::${qualified}::${name}`;
}

/** A resource the program creates that may already exist in the project (a 409 on `pulumi up`). */
export interface Adoptable {
  readonly check: string;
  /** Human name, e.g. `workload identity pool "github-actions"`. */
  readonly what: string;
  readonly query: QueryKey;
  /** Type token and logical name the program registers it with. */
  readonly type: string;
  readonly name: string;
  /** The component it is a child of. */
  readonly parent: { readonly type: string; readonly name: string };
  /** Import id accepted by the gcp provider. */
  readonly importId: string;
  /** For soft-deletable resources: how to restore it and which config key renames it. */
  readonly softDelete?: { readonly undelete: string; readonly configKey: string; readonly flag: string };
}

/** Everything the program creates that could already exist, with how to adopt it. */
export function adoptables(t: PreflightTarget): Adoptable[] {
  const { registries, identity } = COMPONENTS;
  const pool = `projects/${t.project}/locations/global/workloadIdentityPools/${t.poolId}`;
  const account = (check: string, label: string, id: string, suffix: string, query: QueryKey): Adoptable => ({
    check,
    what: `${label} service account ${serviceAccountEmail(id, t.project)}`,
    query,
    type: GCP_TYPES.serviceAccount,
    name: `${identity.name}-${suffix}`,
    parent: identity,
    importId: `projects/${t.project}/serviceAccounts/${serviceAccountEmail(id, t.project)}`,
  });
  return [
    {
      check: "gcr-repository",
      what: `Artifact Registry repository "${GCR_REPOSITORY.id}" in ${GCR_REPOSITORY.location}`,
      query: "repository",
      type: GCP_TYPES.repository,
      name: `${registries.name}-gcr-io`,
      parent: registries,
      importId: `projects/${t.project}/locations/${GCR_REPOSITORY.location}/repositories/${GCR_REPOSITORY.id}`,
    },
    {
      check: "wif-pool",
      what: `workload identity pool "${t.poolId}"`,
      query: "pool",
      type: GCP_TYPES.pool,
      name: `${identity.name}-pool`,
      parent: identity,
      importId: pool,
      softDelete: {
        undelete: gcloud([
          "iam",
          "workload-identity-pools",
          "undelete",
          t.poolId,
          "--location=global",
          `--project=${t.project}`,
        ]),
        configKey: "wifPoolId",
        flag: "--pool-id",
      },
    },
    {
      check: "wif-provider",
      what: `workload identity pool provider "${t.providerId}" (pool "${t.poolId}")`,
      query: "provider",
      type: GCP_TYPES.provider,
      name: `${identity.name}-provider`,
      parent: identity,
      importId: `${pool}/providers/${t.providerId}`,
      softDelete: {
        undelete: gcloud([
          "iam",
          "workload-identity-pools",
          "providers",
          "undelete",
          t.providerId,
          `--workload-identity-pool=${t.poolId}`,
          "--location=global",
          `--project=${t.project}`,
        ]),
        configKey: "wifProviderId",
        flag: "--provider-id",
      },
    },
    account("release-service-account", "release", t.releaseAccountId, "release-sa", "releaseAccount"),
    account("preview-service-account", "preview", t.previewAccountId, "preview-sa", "previewAccount"),
  ];
}

/** Whether an adoptable was found, and in which state. */
type Presence =
  { kind: "absent" } | { kind: "active"; value: unknown } | { kind: "deleted"; expireTime?: string };

function presence(a: Adoptable, c: Classified): Presence | undefined {
  if (c.kind === "absent") return { kind: "absent" };
  if (c.kind !== "found") return undefined;
  const value = c.value as { state?: unknown; expireTime?: unknown } | null;
  if (a.softDelete !== undefined && value?.state === "DELETED") {
    return {
      kind: "deleted",
      expireTime: typeof value.expireTime === "string" ? value.expireTime : undefined,
    };
  }
  return { kind: "active", value: c.value };
}

/**
 * `pulumi import` of one resource under a parent that the stack already has: `--parent` takes
 * `name=urn` (pulumi.com/docs/iac/cli/commands/pulumi_import; pkg/cmd/pulumi/operations/import.go
 * parseResourceSpec), and the engine refuses a parent URN the stack lacks (pulumi/pulumi#9146).
 */
export function importCommand(a: Adoptable, t: PreflightTarget): string {
  const parentUrn = urn(t.stack, a.parent.type, a.parent.name);
  return ["pulumi", "import", a.type, a.name, a.importId, "--parent", `${a.parent.name}=${parentUrn}`]
    .concat(["--stack", t.stack, "--generate-code=false"])
    .map(shellQuote)
    .join(" ");
}

/**
 * A `pulumi import --file` document. Since Pulumi 3.94 (pulumi/pulumi#14467, #14461) an entry with
 * `component: true` creates an empty component to parent the others; the next `up` fills it in.
 */
export interface ImportFile {
  readonly nameTable?: Readonly<Record<string, string>>;
  readonly resources: readonly {
    readonly type: string;
    readonly name: string;
    readonly id?: string;
    readonly parent?: string;
    readonly component?: boolean;
  }[];
}

/** One import file for all of them: parents the stack lacks are created as empty components. */
export function importFile(
  toImport: readonly Adoptable[],
  t: PreflightTarget,
  state: StackState,
): ImportFile {
  const nameTable: Record<string, string> = {};
  const resources: ImportFile["resources"][number][] = [];
  for (const a of toImport) {
    const parentUrn = urn(t.stack, a.parent.type, a.parent.name);
    if (state.kind === "read" && state.urns.has(parentUrn)) {
      nameTable[a.parent.name] = parentUrn;
    } else if (!resources.some((r) => r.component === true && r.name === a.parent.name)) {
      resources.push({ type: a.parent.type, name: a.parent.name, component: true });
    }
  }
  for (const a of toImport) {
    resources.push({ type: a.type, name: a.name, id: a.importId, parent: a.parent.name });
  }
  return Object.keys(nameTable).length > 0 ? { nameTable, resources } : { resources };
}

/** Where the printed commands write the import file. */
export const IMPORT_FILE_PATH = "${TMPDIR:-/tmp}/cq-release-import.json";

/** One finding per adoptable (and the import file when the stack lacks their parents). */
export function adoptFindings(
  t: PreflightTarget,
  answers: Answers,
  state: StackState,
  covered: ReadonlySet<string>,
): Finding[] {
  const list = adoptables(t);
  const found = list.map((a) => ({ a, c: classify(answers[a.query]) }));
  const toImport = found
    .filter(({ a, c }) => presence(a, c)?.kind === "active" && !managed(a, t, state))
    .map(({ a }) => a);
  const parentsInStack = toImport.every(
    (a) => state.kind === "read" && state.urns.has(urn(t.stack, a.parent.type, a.parent.name)),
  );
  const findings: Finding[] = found.map(({ a, c }) => {
    const p = presence(a, c);
    if (p === undefined) return unanswered(a.check, a.what, c, t.project, covered);
    if (p.kind === "absent")
      return { check: a.check, ok: true, message: `${a.what} does not exist yet`, fix: [] };
    if (p.kind === "deleted") return softDeleted(a, p.expireTime, t);
    if (managed(a, t, state)) {
      return {
        check: a.check,
        ok: true,
        message: `${a.what} exists and stack ${t.stack} manages it`,
        fix: [],
      };
    }
    const format = (p.value as { format?: unknown } | null)?.format;
    const formatNote =
      a.query === "repository" && format !== undefined && format !== "DOCKER"
        ? ` Its format is ${String(format)}, not DOCKER: the program would replace it, and the repository is protected, so move its contents and delete it instead.`
        : "";
    return {
      check: a.check,
      ok: false,
      message:
        `${a.what} already exists: \`pulumi up\` would fail with 409. Adopt it into stack ${t.stack} as ` +
        `${a.name} (child of ${a.parent.name})` +
        (parentsInStack ? ":" : " with the import file under import-file.") +
        formatNote,
      fix: parentsInStack ? [importCommand(a, t)] : [],
    };
  });
  if (toImport.length > 0 && !parentsInStack) {
    const doc = JSON.stringify(importFile(toImport, t, state), null, 2);
    findings.push({
      check: "import-file",
      ok: false,
      message:
        `stack ${t.stack} does not hold ${[...new Set(toImport.map((a) => a.parent.name))].join(" / ")} yet, and ` +
        "`pulumi import --parent` needs a parent the stack has; an import file creates the components " +
        "empty (Pulumi 3.94+) and imports the resources under them. Run it after `pulumi login` with " +
        "PULUMI_CONFIG_PASSPHRASE set (Bootstrap step 2), before `pulumi up`:",
      fix: [
        ...(state.kind === "read" ? [] : [`pulumi stack select --create ${shellQuote(t.stack)}`]),
        `cat > "${IMPORT_FILE_PATH}" <<'EOF'\n${doc}\nEOF`,
        `pulumi import --file "${IMPORT_FILE_PATH}" --stack ${shellQuote(t.stack)} --generate-code=false`,
      ],
    });
  }
  return findings;
}

function managed(a: Adoptable, t: PreflightTarget, state: StackState): boolean {
  return state.kind === "read" && state.urns.has(urn(t.stack, a.type, a.name, a.parent.type));
}

function softDeleted(a: Adoptable, expireTime: string | undefined, t: PreflightTarget): Finding {
  const sd = a.softDelete as NonNullable<Adoptable["softDelete"]>;
  return {
    check: a.check,
    ok: false,
    message:
      `${a.what} was deleted and is kept ${expireTime === undefined ? "for 30 days" : `until ${expireTime}`}; ` +
      "its id cannot be reused meanwhile, so `pulumi up` would fail. Either restore it (the preflight then " +
      `prints its import), or give the program another ${sd.configKey}:`,
    fix: [
      "# either: restore it, then run the preflight again",
      sd.undelete,
      preflightCommand(t),
      `# or: use another id (4-32 of a-z, 0-9, -)`,
      `pulumi config set ${sd.configKey} <new-id> --stack ${shellQuote(t.stack)}`,
      preflightCommand(t, { [sd.flag]: "<new-id>" }),
    ],
  };
}
