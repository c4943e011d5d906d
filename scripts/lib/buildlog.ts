// BuildKit plain-progress parsing, for assertions on what a build reused from its cache.

/**
 * Whether a Dockerfile step ran or came from the cache, from BuildKit's plain progress:
 * `#7 [build 3/6] RUN … go mod download` then `#7 CACHED`, or `#7 DONE 1.2s` when it ran.
 * `absent` when no step matches; `unfinished` when a matching step has neither line.
 */
export function stepState(
  lines: readonly string[],
  needle: RegExp,
): "cached" | "ran" | "absent" | "unfinished" {
  const ids = [
    ...new Set(
      lines
        .map((l) => /^#(\d+) \[[^\]]*\] (.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && needle.test(m[2]))
        .map((m) => m[1]),
    ),
  ];
  if (ids.length === 0) return "absent";
  const cached = ids.filter((id) => lines.includes(`#${id} CACHED`));
  if (cached.length === ids.length) return "cached";
  const ran = ids.filter((id) => lines.some((l) => l.startsWith(`#${id} DONE`)));
  return ran.length > 0 && cached.length + ran.length === ids.length ? "ran" : "unfinished";
}

/**
 * Refuses a figure that did less work than it claims: every Image of a "cold" build must have run
 * its `go build` (not a cache hit, not missing from the log).
 */
export function requireCold(label: string, buildLog: Record<string, string[]>): void {
  const images = Object.keys(buildLog);
  const notCold = images.filter((r) => stepState(buildLog[r], /go build/) !== "ran");
  if (images.length === 0 || notCold.length > 0) {
    throw new Error(
      `${label}: not a cold build (go build did not run in ${notCold.join(", ") || "any Image: no build log"}); the figure is refused`,
    );
  }
}

/** The engine events an `up` needs to watch (a structural subset of automation's EngineEvent). */
interface BuildEvent {
  diagnosticEvent?: { urn?: string; ephemeral?: boolean; message: string };
  resOutputsEvent?: { metadata: { urn: string; op: string } };
}

/**
 * Collects, from an `up`'s engine events, each resource's BuildKit log lines (the provider's
 * ephemeral diagnostics) and its operation, keyed by resource name: pass `onEvent` to `up`.
 */
export function buildLogCollector(): {
  onEvent: (e: BuildEvent) => void;
  buildLog: Record<string, string[]>;
  ops: Record<string, string>;
} {
  const buildLog: Record<string, string[]> = {};
  const ops: Record<string, string> = {};
  const onEvent = (e: BuildEvent) => {
    const d = e.diagnosticEvent;
    if (d?.urn !== undefined && d.ephemeral === true) {
      const name = d.urn.split("::").pop() as string;
      (buildLog[name] ??= []).push(...d.message.split("\n").filter((l) => l !== ""));
    }
    const m = e.resOutputsEvent?.metadata;
    if (m !== undefined) ops[m.urn.split("::").pop() as string] = m.op;
  };
  return { onEvent, buildLog, ops };
}
