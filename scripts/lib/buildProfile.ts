// Parsers behind `npm run bench`'s breakdowns (issue 22, item 6): where a cold image build spends
// its time (BuildKit's plain progress, step by step), which Go packages compile longest (the Go
// command's -debug-actiongraph), and what runs before main (GODEBUG=inittrace=1). Pure, tested
// by tables in test/buildProfile.test.ts.

/** One BuildKit step or sub-step that reported a duration. */
export interface StepTime {
  /** `[build 5/7] RUN go build …`, `exporting to image`, or `exporting to image › pushing layers`. */
  readonly step: string;
  readonly seconds: number;
}

/**
 * Durations from BuildKit's plain progress: `#N <name>` opens a step and `#N DONE 12.3s` closes it;
 * `#N <text> 1.2s done` inside a step (export, push, rewrite-timestamp) is a sub-step, named
 * `<step> › <text>`. Cached steps (`#N CACHED`) and steps without DONE are left out. Durations of
 * the same name (one per platform) are summed, in first-seen order.
 */
export function stepDurations(lines: readonly string[]): StepTime[] {
  const names = new Map<string, string>();
  const totals = new Map<string, number>();
  const add = (step: string, seconds: number) => totals.set(step, (totals.get(step) ?? 0) + seconds);
  for (const line of lines) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (m === null) continue;
    const [, id, rest] = m;
    const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest);
    if (done !== null) {
      const name = names.get(id);
      if (name !== undefined) add(name, Number(done[1]));
      continue;
    }
    const sub = /^(.*\S) (\d+(?:\.\d+)?)s done$/.exec(rest);
    if (sub !== null && names.has(id)) {
      // Sub-step names may carry a digest (`exporting manifest sha256:…`): keep the words only.
      const text = sub[1].replace(/ sha256:[0-9a-f]{64}.*$/, "");
      add(`${names.get(id) as string} › ${text}`, Number(sub[2]));
      continue;
    }
    if (!names.has(id) && !/^(CACHED|ERROR|CANCELED|\d+\.\d+ )/.test(rest)) {
      names.set(id, rest);
    }
  }
  return [...totals].map(([step, seconds]) => ({ step, seconds: Math.round(seconds * 10) / 10 }));
}

/** One action of `go build -debug-actiongraph` (the fields used here). */
export interface GoAction {
  readonly Mode: string;
  readonly Package?: string;
  readonly TimeStart?: string;
  readonly TimeDone?: string;
  /** Nanoseconds of the compile/link command: wall, user and system CPU. */
  readonly CmdReal?: number;
  readonly CmdUser?: number;
  readonly CmdSys?: number;
}

export interface CompileProfile {
  /** Packages compiled (mode `build` with a command). */
  readonly packages: number;
  /** Wall seconds from the first action's start to the last one's end. */
  readonly wallSeconds: number;
  /** CPU seconds (user + system) of every compile, and of the link. */
  readonly compileCpuSeconds: number;
  readonly linkSeconds: number;
  /** The costliest packages and modules by CPU seconds, most first. */
  readonly topPackages: readonly { readonly name: string; readonly cpuSeconds: number }[];
  readonly topModules: readonly {
    readonly name: string;
    readonly cpuSeconds: number;
    readonly packages: number;
  }[];
}

/** Hosts whose module paths are host/owner/repo; elsewhere (google.golang.org/grpc) host/name. */
const OWNER_HOSTS = new Set(["github.com", "gitlab.com", "bitbucket.org", "golang.org"]);

/**
 * A package's module, by its path (an approximation: nested modules count as their parent):
 * `std` for the standard library, else host/owner/repo or host/name, a major version kept.
 */
export function moduleOf(pkg: string): string {
  const parts = pkg.split("/");
  if (!parts[0].includes(".")) return "std";
  const n = OWNER_HOSTS.has(parts[0]) ? 3 : 2;
  return parts.slice(0, parts.length > n && /^v\d+$/.test(parts[n]) ? n + 1 : n).join("/");
}

/** Sums the action graph of one `go build`: what the compiles cost, and where. */
export function compileProfile(actions: readonly GoAction[], top = 10): CompileProfile {
  const cpu = (a: GoAction) => ((a.CmdUser ?? 0) + (a.CmdSys ?? 0)) / 1e9;
  const compiles = actions.filter(
    (a) => a.Mode === "build" && a.CmdReal !== undefined && a.Package !== undefined,
  );
  const link = actions.find((a) => a.Mode === "link" && a.CmdReal !== undefined);
  const times = actions
    .flatMap((a) => [a.TimeStart, a.TimeDone])
    .filter((t): t is string => t !== undefined)
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  const byModule = new Map<string, { cpuSeconds: number; packages: number }>();
  for (const a of compiles) {
    const m = byModule.get(moduleOf(a.Package as string)) ?? { cpuSeconds: 0, packages: 0 };
    m.cpuSeconds += cpu(a);
    m.packages += 1;
    byModule.set(moduleOf(a.Package as string), m);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    packages: compiles.length,
    wallSeconds: times.length === 0 ? 0 : round((Math.max(...times) - Math.min(...times)) / 1000),
    compileCpuSeconds: round(compiles.reduce((n, a) => n + cpu(a), 0)),
    linkSeconds: round((link?.CmdReal ?? 0) / 1e9),
    topPackages: compiles
      .map((a) => ({ name: a.Package as string, cpuSeconds: round(cpu(a)) }))
      .sort((x, y) => y.cpuSeconds - x.cpuSeconds || x.name.localeCompare(y.name))
      .slice(0, top),
    topModules: [...byModule]
      .map(([name, m]) => ({ name, cpuSeconds: round(m.cpuSeconds), packages: m.packages }))
      .sort((x, y) => y.cpuSeconds - x.cpuSeconds || x.name.localeCompare(y.name))
      .slice(0, top),
  };
}

export interface InitTrace {
  /** Packages with an init. */
  readonly packages: number;
  /** Milliseconds of init work (sum of `clock`), and from process start to the end of the last init. */
  readonly clockMs: number;
  readonly doneAtMs: number;
  readonly top: readonly { readonly name: string; readonly ms: number }[];
}

/** Parses GODEBUG=inittrace=1 output: `init <pkg> @<t> ms, <c> ms clock, <b> bytes, <n> allocs`. */
export function parseInitTrace(text: string, top = 3): InitTrace {
  const rows = text
    .split("\n")
    .map((l) => /^init (\S+) @(\d+(?:\.\d+)?) ms, (\d+(?:\.\d+)?) ms clock/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1], at: Number(m[2]), ms: Number(m[3]) }));
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    packages: rows.length,
    clockMs: round(rows.reduce((n, r) => n + r.ms, 0)),
    doneAtMs: round(Math.max(0, ...rows.map((r) => r.at + r.ms))),
    top: [...rows]
      .sort((x, y) => y.ms - x.ms)
      .slice(0, top)
      .map((r) => ({ name: r.name, ms: r.ms })),
  };
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Refuses a "cold" compile profile that compiled nothing: an empty GOCACHE compiles hundreds of
 * packages, so none means the action graph was not what was read (or the cache was warm).
 */
export function requireCompiled(p: { packages: number; compileCpuSeconds: number }): void {
  if (p.packages === 0 || p.compileCpuSeconds === 0) {
    throw new Error(`the cold compile profile counted ${p.packages} packages compiled: refused`);
  }
}
