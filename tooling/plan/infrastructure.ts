// The release plan's infrastructure section: the changes other than the image that wait for the
// platform team's `pulumi up`, riskiest first (replace/delete, then IAM, identity, repository
// settings), with what each is about from inputs that are never secret.
import { code } from "./markdown";
import { isImageStep } from "./image";
import { type PlanStep, shown } from "./previewJson";

/** How an infrastructure change is flagged. */
export type InfraKind = "iam" | "identity" | "repository" | "other";

const KIND_LABEL: Record<InfraKind, string> = {
  iam: "IAM",
  identity: "identity",
  repository: "repository settings",
  other: "other",
};

/**
 * IAM: grants (`…IamMember`/`Binding`/`Policy`, any module) and service-account keys. Identity:
 * workload identity pools and providers, service accounts. Repository settings: every `github:`
 * resource (Actions variables and secrets, environments, rulesets).
 */
export function infraKind(type: string): InfraKind {
  const name = (type.split(":").pop() ?? "").toLowerCase();
  if (/iam(member|binding|policy|auditconfig)$/.test(name) || type === "gcp:serviceaccount/key:Key")
    return "iam";
  if (type.startsWith("gcp:iam/workloadIdentityPool") || type === "gcp:serviceaccount/account:Account")
    return "identity";
  if (type.startsWith("github:")) return "repository";
  return "other";
}

/** `gcp:serviceaccount/iAMMember:IAMMember` → `gcp.serviceaccount.IAMMember`; `github:index/x:X` → `github.X`. */
export function shortType(type: string): string {
  const [pkg, mod, name] = type.split(":");
  if (name === undefined) return type;
  const module = (mod ?? "").split("/")[0];
  return module === "index" || module === "" ? `${pkg}.${name}` : `${pkg}.${module}.${name}`;
}

/** What a resource is about, from inputs that are never secret. */
function subject(step: PlanStep): string {
  const inputs = step.op === "delete" ? step.oldInputs : (step.newInputs ?? step.oldInputs);
  const get = (k: string) => (inputs === undefined || !(k in inputs) ? undefined : shown(inputs[k]));
  const role = get("role");
  const member =
    get("member") ?? (Array.isArray(inputs?.members) ? `${inputs.members.length} members` : undefined);
  if (role !== undefined) return `${code(role)} → ${code(member ?? "(none)", 200)}`;
  for (const k of [
    "variableName",
    "secretName",
    "environment",
    "workloadIdentityPoolProviderId",
    "workloadIdentityPoolId",
    "accountId",
    "service",
  ]) {
    const v = get(k);
    if (v !== undefined) return code(v);
  }
  return "";
}

/** One pending infrastructure change. */
export interface InfraChange {
  readonly step: PlanStep;
  readonly kind: InfraKind;
}

/** Non-image resource changes, riskiest first (replace/delete, then IAM, identity, repository, other). */
export function pendingInfrastructure(steps: readonly PlanStep[]): InfraChange[] {
  const order: InfraKind[] = ["iam", "identity", "repository", "other"];
  return steps
    .filter(
      (s) =>
        s.custom &&
        !isImageStep(s) &&
        !s.type.startsWith("pulumi:") &&
        ["create", "update", "replace", "delete", "import"].includes(s.op),
    )
    .map((step) => ({ step, kind: infraKind(step.type) }))
    .sort((a, b) => {
      const risk = (c: InfraChange) => (c.step.op === "replace" || c.step.op === "delete" ? 0 : 1);
      return risk(a) - risk(b) || order.indexOf(a.kind) - order.indexOf(b.kind);
    });
}

function renderInfraLine(c: InfraChange): string {
  const s = c.step;
  const op = s.op === "replace" || s.op === "delete" ? `**${s.op.toUpperCase()}**` : s.op;
  const flag = c.kind === "other" ? "" : `⚠️ **${KIND_LABEL[c.kind]}** `;
  const what = subject(s);
  const keys = s.op === "update" || s.op === "replace" ? s.changed : [];
  const shownKeys = keys
    .slice(0, 5)
    .map((k) => (s.replaceKeys.includes(k) ? `${code(k)} (forces replace)` : code(k)));
  if (keys.length > 5) shownKeys.push(`+${keys.length - 5} more`);
  const protectedNote =
    s.protect && (s.op === "delete" || s.op === "replace") ? " — protected: fails until unprotected" : "";
  return (
    `- ${flag}${op} ${code(s.name)} (${code(shortType(s.type))})` +
    (what === "" ? "" : `: ${what}`) +
    (shownKeys.length === 0 ? "" : `; changes ${shownKeys.join(", ")}`) +
    protectedNote
  );
}

/** More entries than this go into a collapsed list. */
const INLINE_LIMIT = 6;

/** The infrastructure section. */
export function renderInfrastructure(changes: readonly InfraChange[]): string[] {
  if (changes.length === 0) return ["**Infrastructure:** no changes pending."];
  const byKind = (["iam", "identity", "repository", "other"] as const)
    .map((k) => [k, changes.filter((c) => c.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${KIND_LABEL[k]}`);
  const risky = changes.filter((c) => c.step.op === "replace" || c.step.op === "delete").length;
  const head =
    `**Infrastructure pending for the platform team: ${changes.length} change${changes.length === 1 ? "" : "s"}** ` +
    `(${byKind.join(", ")}${risky > 0 ? `; **${risky} replace/delete**` : ""}). ` +
    "A release applies only the image; these wait for the platform team's `pulumi up`.";
  const lines = changes.map(renderInfraLine);
  if (lines.length <= INLINE_LIMIT) return [head, ...lines];
  return [head, "", "<details><summary>All changes</summary>", "", ...lines, "", "</details>"];
}
