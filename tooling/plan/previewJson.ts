// Pulumi preview JSON → one normalised record per resource, plus config, diagnostics and policy
// violations. Pure; tested in test/releasePlan.test.ts (tables, and the real local-stack preview).
//
// Pulumi 3.248 prints a preview as JSON in two forms, both accepted:
// - the engine event stream: `pulumi preview --event-log FILE` (one `apitype.EngineEvent` per
//   line; the Automation API's `onEvent` gets the same objects), or
//   `PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --json`. The only form that carries
//   policy violations (`policyEvent`), so the preview workflow records it;
// - the digest of `pulumi preview --json` (`display.PreviewDigest`: `steps`, `diagnostics`,
//   `config`, `changeSummary`). It has no policy events at all (pkg/backend/display/json.go,
//   ShowPreviewDigest: "we don't handle policy events in JSON serialization") and omits `same` steps.
// Both hide secret values: the digest writes `[secret]`, the event stream a secret envelope whose
// ciphertext is `[secret]`; `shown()` turns either (and unknowns) into a printable placeholder.

/** Pulumi's placeholder for a value known only after apply (`@pulumi/pulumi` runtime `unknownValue`). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Signature key of Pulumi's special objects, and the signature of a secret (`specialSigKey`, `specialSecretSig`). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Raised for input that is not a Pulumi preview; the message says what and where. */
export class PreviewJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreviewJsonError";
  }
}

/** A resource's planned operation, one per URN (an engine replace is several steps; they merge). */
export type PlanOp = "same" | "create" | "update" | "replace" | "delete" | "import" | "read";

/** One resource of the preview, normalised from either input form. */
export interface PlanStep {
  readonly op: PlanOp;
  readonly urn: string;
  readonly type: string;
  /** Logical name (the last URN segment). */
  readonly name: string;
  /** Parent types and the type, `$`-joined, as in the URN. */
  readonly qualifiedType: string;
  readonly custom: boolean;
  readonly oldInputs?: Readonly<Record<string, unknown>>;
  readonly newInputs?: Readonly<Record<string, unknown>>;
  readonly oldOutputs?: Readonly<Record<string, unknown>>;
  /** Top-level property paths that differ (detailed diff, else the engine's diff keys). */
  readonly changed: readonly string[];
  /** Property paths that force a replacement. */
  readonly replaceKeys: readonly string[];
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
}

/** A policy violation (event stream only). */
export interface PolicyViolation {
  /** `mandatory` fails the preview and any `up`; `advisory` only reports. */
  readonly level: string;
  readonly policy: string;
  readonly pack: string;
  readonly urn?: string;
  readonly message: string;
}

/** An engine or program diagnostic (ephemeral and debug ones are dropped). */
export interface PlanDiagnostic {
  readonly severity: string;
  readonly urn?: string;
  readonly message: string;
}

/** The preview, normalised. */
export interface ParsedPreview {
  readonly format: "events" | "digest";
  readonly steps: readonly PlanStep[];
  /** Stack config as the engine saw it (`<project>:<key>` → value; secrets blinded). */
  readonly config: Readonly<Record<string, string>>;
  readonly diagnostics: readonly PlanDiagnostic[];
  readonly policyViolations: readonly PolicyViolation[];
  /** Policy packs that ran, name → version; undefined when the form does not record them (digest). */
  readonly policyPacks?: Readonly<Record<string, string>>;
  /** The engine's own count per operation, when it finished (summary). */
  readonly changeSummary?: Readonly<Record<string, number>>;
}

/** A JSON object (the helpers below are shared with the release plan's sections). */
export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

const OP_RANK: Record<PlanOp, number> = {
  same: 0,
  read: 0,
  update: 2,
  create: 3,
  import: 3,
  delete: 4,
  replace: 5,
};

/** Engine step op → plan op: the parts of a replacement are one replace. */
export function planOp(op: string): PlanOp {
  switch (op) {
    case "create":
    case "update":
    case "delete":
    case "replace":
    case "import":
    case "read":
    case "same":
      return op;
    case "create-replacement":
    case "delete-replaced":
    case "import-replacement":
    case "read-replacement":
    case "discard-replaced":
      return "replace";
    default:
      // refresh, discard, remove-pending-replace, diff: nothing a reader of the plan acts on.
      return "same";
  }
}

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` → its parts. */
export function parseUrn(urn: string): {
  stack: string;
  project: string;
  qualifiedType: string;
  name: string;
} {
  const parts = urn.split("::");
  const head = parts[0] ?? "";
  if (parts.length < 4 || !head.startsWith("urn:pulumi:")) {
    throw new PreviewJsonError(`not a Pulumi URN: ${JSON.stringify(urn)}`);
  }
  return {
    stack: head.slice("urn:pulumi:".length),
    project: parts[1],
    qualifiedType: parts[2],
    name: parts.slice(3).join("::"),
  };
}

/** Top-level property of a property path: `buildArgs.VERSION` → `buildArgs`, `tags[0]` → `tags`. */
function topLevel(path: string): string {
  const m = /^[^.[]+/.exec(path);
  return m === null ? path : m[0];
}

interface RawStep {
  op: string;
  urn: string;
  type?: string;
  old?: Json;
  new?: Json;
  detailedDiff?: Json | null;
  diffs: string[];
  keys: string[];
}

function rawStepFromEvent(md: Json): RawStep {
  return {
    op: str(md.op) ?? "",
    urn: str(md.urn) ?? "",
    type: str(md.type),
    old: isObject(md.old) ? md.old : undefined,
    new: isObject(md.new) ? md.new : undefined,
    detailedDiff: isObject(md.detailedDiff) ? md.detailedDiff : null,
    diffs: strings(md.diffs),
    keys: strings(md.keys),
  };
}

function rawStepFromDigest(s: Json): RawStep {
  return {
    op: str(s.op) ?? "",
    urn: str(s.urn) ?? "",
    old: isObject(s.oldState) ? s.oldState : undefined,
    new: isObject(s.newState) ? s.newState : undefined,
    detailedDiff: isObject(s.detailedDiff) ? s.detailedDiff : null,
    diffs: strings(s.diffReasons),
    keys: strings(s.replaceReasons),
  };
}

/** Merges the raw steps of each URN into one PlanStep, in first-seen order. */
function normaliseSteps(raw: readonly RawStep[]): PlanStep[] {
  const byUrn = new Map<string, RawStep[]>();
  for (const r of raw) {
    if (r.urn === "") throw new PreviewJsonError("a step has no urn");
    byUrn.set(r.urn, [...(byUrn.get(r.urn) ?? []), r]);
  }
  return [...byUrn.entries()].map(([urn, rs]) => {
    const { qualifiedType, name } = parseUrn(urn);
    const op = rs.map((r) => planOp(r.op)).reduce((a, b) => (OP_RANK[b] > OP_RANK[a] ? b : a), "same");
    const old = rs.find((r) => r.old !== undefined)?.old;
    const neu = [...rs].reverse().find((r) => r.new !== undefined)?.new;
    const changed = new Set<string>();
    const replaceKeys = new Set<string>();
    for (const r of rs) {
      for (const [path, d] of Object.entries(r.detailedDiff ?? {})) {
        changed.add(topLevel(path));
        const kind = isObject(d) ? (str(d.diffKind) ?? str(d.kind) ?? "") : "";
        if (kind.endsWith("-replace")) replaceKeys.add(topLevel(path));
      }
      if (r.detailedDiff === null || Object.keys(r.detailedDiff ?? {}).length === 0) {
        r.diffs.forEach((k) => changed.add(topLevel(k)));
      }
      r.keys.forEach((k) => replaceKeys.add(topLevel(k)));
    }
    replaceKeys.forEach((k) => changed.add(k));
    const type = rs.find((r) => r.type !== undefined)?.type ?? str(neu?.type) ?? str(old?.type) ?? "";
    const state = neu ?? old ?? {};
    return {
      op,
      urn,
      type: type || (qualifiedType.split("$").pop() ?? ""),
      name,
      qualifiedType,
      custom: state.custom === true,
      oldInputs: isObject(old?.inputs) ? old.inputs : undefined,
      newInputs: isObject(neu?.inputs) ? neu.inputs : undefined,
      oldOutputs: isObject(old?.outputs) ? old.outputs : undefined,
      changed: [...changed].sort(),
      replaceKeys: [...replaceKeys].sort(),
      protect: old?.protect === true || neu?.protect === true,
      retainOnDelete: old?.retainOnDelete === true || neu?.retainOnDelete === true,
    };
  });
}

/** Drops Pulumi's colour directives (`<{%fg 1%}>`) and ANSI escapes. */
export function plainText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/<\{%[^%]*%\}>/g, "").replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

function fromEvents(events: readonly unknown[]): ParsedPreview {
  const raw: RawStep[] = [];
  const diagnostics: PlanDiagnostic[] = [];
  const policyViolations: PolicyViolation[] = [];
  let config: Record<string, string> = {};
  let packs: Record<string, string> | undefined;
  let changeSummary: Record<string, number> | undefined;
  const addPack = (name: unknown, version: unknown) => {
    if (typeof name === "string" && name !== "") packs = { ...packs, [name]: str(version) ?? "" };
  };
  events.forEach((e, i) => {
    if (!isObject(e)) throw new PreviewJsonError(`event ${i + 1} is not an object`);
    if (isObject(e.preludeEvent) && isObject(e.preludeEvent.config)) {
      config = Object.fromEntries(
        Object.entries(e.preludeEvent.config).filter(
          (kv): kv is [string, string] => typeof kv[1] === "string",
        ),
      );
    }
    if (isObject(e.resourcePreEvent) && isObject(e.resourcePreEvent.metadata)) {
      raw.push(rawStepFromEvent(e.resourcePreEvent.metadata));
    }
    const d = e.diagnosticEvent;
    if (isObject(d) && d.ephemeral !== true && d.severity !== "debug") {
      diagnostics.push({
        severity: str(d.severity) ?? "info",
        urn: str(d.urn),
        message: plainText((str(d.prefix) ?? "") + (str(d.message) ?? "")),
      });
    }
    const p = e.policyEvent;
    if (isObject(p)) {
      addPack(p.policyPackName, p.policyPackVersion);
      policyViolations.push({
        level: str(p.enforcementLevel) ?? "",
        policy: str(p.policyName) ?? "",
        pack: str(p.policyPackName) ?? "",
        urn: str(p.resourceUrn),
        message: plainText(str(p.message) ?? "").trim(),
      });
    }
    for (const s of [e.policyAnalyzeSummaryEvent, e.policyAnalyzeStackSummaryEvent]) {
      if (isObject(s)) addPack(s.policyPackName, s.policyPackVersion);
    }
    if (isObject(e.summaryEvent)) {
      const s = e.summaryEvent;
      // The Go struct has no json tag on PolicyPacks (apitype.SummaryEvent), hence the capital.
      const ran = isObject(s.PolicyPacks) ? s.PolicyPacks : isObject(s.policyPacks) ? s.policyPacks : {};
      Object.entries(ran).forEach(([name, version]) => addPack(name, version));
      if (isObject(s.resourceChanges)) changeSummary = counts(s.resourceChanges);
    }
  });
  return {
    format: "events",
    steps: normaliseSteps(raw),
    config,
    diagnostics,
    policyViolations,
    policyPacks: packs ?? {},
    changeSummary,
  };
}

function counts(o: Json): Record<string, number> {
  return Object.fromEntries(
    Object.entries(o).filter((kv): kv is [string, number] => typeof kv[1] === "number"),
  );
}

function fromDigest(d: Json): ParsedPreview {
  const steps = Array.isArray(d.steps) ? d.steps : [];
  return {
    format: "digest",
    steps: normaliseSteps(
      steps.map((s, i) => {
        if (!isObject(s)) throw new PreviewJsonError(`steps[${i}] is not an object`);
        return rawStepFromDigest(s);
      }),
    ),
    config: isObject(d.config)
      ? Object.fromEntries(
          Object.entries(d.config).filter((kv): kv is [string, string] => typeof kv[1] === "string"),
        )
      : {},
    diagnostics: (Array.isArray(d.diagnostics) ? d.diagnostics : []).filter(isObject).map((x) => ({
      severity: str(x.severity) ?? "info",
      urn: str(x.urn),
      message: plainText((str(x.prefix) ?? "") + (str(x.message) ?? "")),
    })),
    policyViolations: [],
    policyPacks: undefined,
    changeSummary: isObject(d.changeSummary) ? counts(d.changeSummary) : undefined,
  };
}

/** A parsed JSON value: a digest object, or an array of engine events. */
export function parsePreview(input: unknown): ParsedPreview {
  if (Array.isArray(input)) return fromEvents(input);
  if (isObject(input)) {
    if ("steps" in input || "changeSummary" in input || "diagnostics" in input) return fromDigest(input);
    if (Object.keys(input).some((k) => k.endsWith("Event"))) return fromEvents([input]);
  }
  throw new PreviewJsonError(
    "not a Pulumi preview: expected the `pulumi preview --json` digest (an object with `steps`) " +
      "or engine events (`--event-log`, one JSON object per line)",
  );
}

/**
 * Preview text in any of the forms: a digest (one JSON object), a JSON array of engine events, or
 * newline-delimited engine events. `what` names the input in error messages.
 */
export function parsePreviewText(text: string, what = "preview"): ParsedPreview {
  const trimmed = text.trim();
  if (trimmed === "") throw new PreviewJsonError(`${what} is empty`);
  try {
    return parsePreview(JSON.parse(trimmed));
  } catch (err) {
    if (err instanceof PreviewJsonError) throw new PreviewJsonError(`${what}: ${err.message}`);
    // Not one JSON document: newline-delimited events.
  }
  const lines = trimmed.split("\n").filter((l) => l.trim() !== "");
  const events = lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (err) {
      throw new PreviewJsonError(
        `${what} is not JSON (neither one document nor one event per line): line ${i + 1}: ${(err as Error).message}`,
      );
    }
  });
  try {
    return fromEvents(events);
  } catch (err) {
    throw new PreviewJsonError(`${what}: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Values that may be printed.

/** A value as the plan may show it: secrets and unknowns never show; strings only. */
export function shown(v: unknown): string {
  if (v === "[secret]" || (isObject(v) && v[SIG_KEY] === SECRET_SIG)) return "[secret]";
  if (v === UNKNOWN_VALUE) return "(known after apply)";
  if (v === undefined || v === null) return "(none)";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "(structured value)";
}
