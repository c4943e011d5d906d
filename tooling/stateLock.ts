// When a DIY-backend state lock (`.pulumi/locks/<org>/<project>/<stack>/<id>.json`, written by
// `pulumi up` and removed when it ends) is provably stale, so that scripts/release/up.sh may delete
// exactly that lock file instead of waiting for someone with bucket access (docs/release.md,
// "When something fails"). A lock is stale when either:
//   - it was written on this host and its pid is not running here (a killed engine on a
//     self-hosted runner or in the rehearsal), or
//   - it is older than the longest a holder can live: the publish job's `timeout-minutes`
//     (release.yml), after which GitHub has ended the job that wrote it (a cancelled run, a lost
//     runner). Releases of different tags run concurrently, so a younger lock from another host
//     may belong to a live release and is never removed.
// Anything else is live: wait, and finally fail naming the one command.
// Every entry point that runs an update uses this rule and scripts/lib/stateLocks.ts (which deletes
// locks and ends an attempt's leftovers): scripts/release/up.sh through steps.ts, local:up and
// local:destroy, the e2e and the bench through withStateLock.

/** One lock as `pulumi up` lists it in "the stack is currently locked by N lock(s)". */
export interface StateLock {
  /** The lock file's URL (file://…, gs://…). */
  readonly url: string;
  readonly username: string;
  readonly hostname: string;
  readonly pid: number;
  /** RFC 3339, as the CLI prints it. */
  readonly timestamp: string;
}

// pkg/backend/diy/lock.go (3.248): "\n  %v: created by %v@%v (pid %v) at %v".
const LOCK_LINE = /^\s*(\S+): created by (.*)@([^@\s]*) \(pid (\d+)\) at (\S+)\s*$/;

/** The locks listed in a `pulumi up` log (deduplicated; empty when it names none). */
export function parseLocks(log: string): StateLock[] {
  const seen = new Map<string, StateLock>();
  for (const line of log.split("\n")) {
    const m = LOCK_LINE.exec(line);
    if (m === null) continue;
    seen.set(m[1], { url: m[1], username: m[2], hostname: m[3], pid: Number(m[4]), timestamp: m[5] });
  }
  return [...seen.values()];
}

/** What staleness is judged against. */
export interface StalenessContext {
  /** This host's name (os.hostname(), what the CLI records). */
  readonly hostname: string;
  readonly now: Date;
  /** Whether a pid runs on this host. */
  readonly pidAlive: (pid: number) => boolean;
  /** A lock older than this is stale whatever its host. */
  readonly maxAgeSeconds: number;
}

/** Why a lock is stale, or undefined when it may belong to a live update. */
export function staleReason(lock: StateLock, ctx: StalenessContext): string | undefined {
  if (lock.hostname === ctx.hostname && lock.pid > 0 && !ctx.pidAlive(lock.pid)) {
    return `written on this host (${lock.hostname}) by pid ${lock.pid}, which is not running`;
  }
  const written = Date.parse(lock.timestamp);
  if (Number.isNaN(written)) return undefined;
  const age = Math.floor((ctx.now.getTime() - written) / 1000);
  if (age > ctx.maxAgeSeconds) {
    return `written ${age} s ago, longer than any release job lives (${ctx.maxAgeSeconds} s)`;
  }
  return undefined;
}

/** Whether a pid runs here (signal 0; EPERM means it runs as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What a DIY backend says when another update holds the stack (pkg/backend/diy/lock.go). */
export const LOCKED_MESSAGE = "the stack is currently locked";

/** A lock and why it is judged stale or live. */
export interface JudgedLock {
  readonly lock: StateLock;
  readonly why: string;
}

/** The locks a "stack is currently locked" failure lists, split into provably stale and live. */
export function judgeLocks(log: string, ctx: StalenessContext): { stale: JudgedLock[]; live: JudgedLock[] } {
  const stale: JudgedLock[] = [];
  const live: JudgedLock[] = [];
  for (const lock of parseLocks(log)) {
    const why = staleReason(lock, ctx);
    if (why === undefined)
      live.push({ lock, why: `${lock.username}@${lock.hostname} (pid ${lock.pid}) at ${lock.timestamp}` });
    else stale.push({ lock, why });
  }
  return { stale, live };
}

/**
 * What to do after a failed attempt: `retry` at once (every lock was stale: delete `remove`),
 * `wait` for a live lock and try again, or `fail` (not a lock, or out of attempts) with the message.
 */
export type LockStep =
  | { readonly kind: "retry"; readonly remove: readonly JudgedLock[] }
  | { readonly kind: "wait"; readonly live: readonly JudgedLock[] }
  | { readonly kind: "fail"; readonly message: string };

/** The decision after attempt `attempt` of `attempts` failed with `log` (pure). */
export function lockStep(
  log: string,
  ctx: StalenessContext,
  attempt: number,
  attempts: number,
  cancelCommand: string,
): LockStep {
  if (!log.includes(LOCKED_MESSAGE)) {
    return {
      kind: "fail",
      message: "the update failed (not a state lock; not retried): the cause is in its log above",
    };
  }
  const { stale, live } = judgeLocks(log, ctx);
  if (stale.length > 0 && live.length === 0 && attempt < attempts) return { kind: "retry", remove: stale };
  if (attempt >= attempts) {
    const by = live.length > 0 ? live.map((l) => `${l.lock.url} (${l.why})`).join(", ") : "an unlisted lock";
    return {
      kind: "fail",
      message: `the stack is still locked after ${attempts} attempts by ${by}; if no other update of this stack is running, run: ${cancelCommand}`,
    };
  }
  return { kind: "wait", live };
}
