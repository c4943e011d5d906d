// The one implementation of what every entry point that runs an update does about the state lock
// (tooling/stateLock.ts decides): delete exactly a provably stale lock file, end what a failed
// attempt left running, and, for updates run through the Automation API (local:up, local:destroy,
// the e2e, the bench), the attempt loop itself (withStateLock). scripts/release/up.sh keeps its
// own loop (it recomputes the release metadata before every attempt) and calls the first two
// through steps.ts (`remove-lock`, `reap`).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";

import { lockStep, pidAlive, type StalenessContext } from "../../tooling/stateLock";

/** Deletes exactly the lock file at `url` (file://…, gs://…; the CLI appends the backend's query). */
export function removeLock(url: string): void {
  const u = url.replace(/\?.*$/, "");
  if (u.startsWith("file://")) {
    const p = u.slice("file://".length);
    // The file blob store keeps the object's attributes beside it.
    for (const f of [p, `${p}.attrs`]) rmSync(f, { force: true });
  } else if (u.startsWith("gs://")) {
    execFileSync("gcloud", ["storage", "rm", "--quiet", u], { stdio: ["ignore", "inherit", "inherit"] });
  } else {
    throw new Error(`cannot delete the stale lock ${u} (unknown backend)`);
  }
}

/** The environment variable every process of one attempt inherits (see {@link reapAttempt}). */
export const ATTEMPT_ENV = "PULUMI_UP_ATTEMPT";

/**
 * Ends (SIGKILL) the processes that carry `PULUMI_UP_ATTEMPT=<id>` in their environment as they
 * were started (a provider of a killed engine); never anything the attempt did not start. Returns
 * their pids.
 */
export function reapAttempt(id: string): number[] {
  const marker = `${ATTEMPT_ENV}=${id}`;
  const left: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue; // gone, or another user's
    }
    if (environ.split("\0").includes(marker)) left.push(Number(entry));
  }
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return left;
}

/** Bounds and names of {@link withStateLock}. */
export interface StateLockOptions {
  /** Attempts in all (default 60, as up.sh). */
  readonly attempts?: number;
  /** Seconds between attempts while a live lock holds the stack (default 30). */
  readonly waitSeconds?: number;
  /** A lock older than this is stale whatever its host (default 5400: a job's longest life). */
  readonly maxAgeSeconds?: number;
  /** The command that releases every lock of this stack, named when waiting is over. */
  readonly cancelCommand: string;
  readonly log?: (line: string) => void;
}

/**
 * Runs `update` (an Automation API up or destroy) under the state-lock rule: a stale lock is
 * deleted and the update runs again at once; a live one is waited for (bounded); anything else
 * fails as it is. The processes of each attempt are marked and ended after it.
 */
export async function withStateLock<T>(update: () => Promise<T>, opts: StateLockOptions): Promise<T> {
  const attempts = opts.attempts ?? 60;
  const waitSeconds = opts.waitSeconds ?? 30;
  const log = opts.log ?? ((l: string) => console.error(`[state-lock] ${l}`));
  const ctx = (): StalenessContext => ({
    hostname: hostname(),
    now: new Date(),
    pidAlive,
    maxAgeSeconds: opts.maxAgeSeconds ?? 5400,
  });
  for (let attempt = 1; ; attempt++) {
    const id = `${process.pid}-${attempt}-${Date.now()}`;
    const before = process.env[ATTEMPT_ENV];
    process.env[ATTEMPT_ENV] = id; // inherited by the engine and the providers it starts
    try {
      return await update();
    } catch (e) {
      const step = lockStep(
        e instanceof Error ? e.message : String(e),
        ctx(),
        attempt,
        attempts,
        opts.cancelCommand,
      );
      if (step.kind === "fail") {
        if (step.message.startsWith("the update failed (not a state lock")) throw e;
        throw new Error(step.message);
      }
      if (step.kind === "retry") {
        for (const l of step.remove) {
          log(`deleting the stale lock ${l.lock.url}: ${l.why}`);
          removeLock(l.lock.url);
        }
        continue;
      }
      log(
        `the stack is locked by ${step.live.map((l) => l.why).join(", ")}; waiting ${waitSeconds} s (attempt ${attempt}/${attempts})`,
      );
      await new Promise((r) => setTimeout(r, waitSeconds * 1000));
    } finally {
      if (before === undefined) delete process.env[ATTEMPT_ENV];
      else process.env[ATTEMPT_ENV] = before;
      const left = reapAttempt(id);
      if (left.length > 0) log(`ended what attempt ${attempt} left running: pid ${left.join(" ")}`);
    }
  }
}
