// A model of GCP's STS token exchange for a workload identity pool provider, driven by a real
// CEL evaluator (@bufbuild/cel). It follows the documented order:
//   1. every attribute mapping is evaluated against `assertion`; an error, a non-string value or
//      a value over 127 bytes fails the exchange;
//   2. the attribute condition is evaluated with `assertion`, `google` and `attribute`; anything
//      but `true` (false, an error, a non-boolean) rejects the token;
//   3. a principalSet member `principalSet://iam.googleapis.com/<pool>/attribute.<name>/<value>`
//      contains the principal iff the pool matches and its mapped attribute equals the value.
import { isCelError, run, type CelInput } from "@bufbuild/cel";

export type Claims = Record<string, unknown>;

export type Exchange =
  | { readonly ok: true; readonly subject: string; readonly attributes: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly reason: string; readonly attributes: Readonly<Record<string, string>> };

function toCel(claims: Claims): Map<string, CelInput> {
  // The assertion is the token's JSON payload: a map from claim name to JSON value.
  return new Map(Object.entries(claims) as [string, CelInput][]);
}

/** Evaluates `expr` and returns its value or throws nothing: errors come back as `{ error }`. */
export function evaluate(
  expr: string,
  bindings: Record<string, CelInput>,
): { value: unknown } | { error: string } {
  const result = run(expr, bindings);
  if (isCelError(result)) return { error: String((result as { message?: string }).message ?? result) };
  return { value: result };
}

/** Runs the exchange for `claims` against the exact mapping and condition text. */
export function exchange(mapping: Record<string, string>, condition: string, claims: Claims): Exchange {
  const assertion = toCel(claims);
  const attributes: Record<string, string> = {};
  let subject: string | undefined;
  for (const [key, expr] of Object.entries(mapping)) {
    const r = evaluate(expr, { assertion });
    if ("error" in r) return { ok: false, reason: `mapping ${key}: ${r.error}`, attributes };
    if (typeof r.value !== "string") return { ok: false, reason: `mapping ${key}: not a string`, attributes };
    if (Buffer.byteLength(r.value, "utf8") > 127) {
      return { ok: false, reason: `mapping ${key}: value exceeds 127 bytes`, attributes };
    }
    if (key === "google.subject") subject = r.value;
    else if (key.startsWith("attribute.")) attributes[key.slice("attribute.".length)] = r.value;
    else return { ok: false, reason: `mapping ${key}: unsupported key`, attributes };
  }
  if (subject === undefined) return { ok: false, reason: "google.subject is not mapped", attributes };
  const cond = evaluate(condition, {
    assertion,
    google: new Map([["subject", subject]]),
    attribute: new Map(Object.entries(attributes)),
  });
  if ("error" in cond) return { ok: false, reason: `condition error: ${cond.error}`, attributes };
  if (cond.value !== true) return { ok: false, reason: `condition is ${String(cond.value)}`, attributes };
  return { ok: true, subject, attributes };
}

/** Whether the exchanged principal is in `member` (a principalSet of `pool`). Never `*`. */
export function inPrincipalSet(result: Exchange, poolName: string, member: string): boolean {
  const m = /^principalSet:\/\/iam\.googleapis\.com\/(.+)\/attribute\.([a-z0-9_]+)\/([^/]+)$/.exec(member);
  if (m === null) throw new Error(`not an attribute principalSet: ${member}`);
  if (!result.ok || m[1] !== poolName) return false;
  return result.attributes[m[2]] === m[3];
}
