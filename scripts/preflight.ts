// Checks a GCP project before the bootstrap `pulumi up` of the prod stack and prints, for each gap,
// the command that fixes it (docs/release.md#preflight). The decisions are tooling/preflight/;
// this only runs gcloud (and `pulumi stack export`, when pulumi is installed) and prints.
//
//   npm run preflight -- --project <id> [--pool-id ID] [--provider-id ID] [--stack prod]
//                        [--release-account-id ID] [--preview-account-id ID]
//
// Exit status: 0 ready, 1 something to fix (or gcloud missing), 2 bad usage.
import { execFile } from "node:child_process";
import { parseArgs } from "node:util";

import type { CommandAnswer } from "../tooling/preflight/answers";
import { gcloudQueries, type QueryKey, stackExportArgs } from "../tooling/preflight/commands";
import { exitCode, manualChecks, preflight, renderReport } from "../tooling/preflight/preflight";
import { resolveTarget, TARGET_DEFAULTS } from "../tooling/preflight/target";

const USAGE =
  "usage: npm run preflight -- --project <id> [--pool-id ID] [--provider-id ID] [--stack NAME]\n" +
  "                            [--release-account-id ID] [--preview-account-id ID]\n" +
  `defaults: pool ${TARGET_DEFAULTS.poolId}, provider ${TARGET_DEFAULTS.providerId}, stack ${TARGET_DEFAULTS.stack}, ` +
  `accounts ${TARGET_DEFAULTS.releaseAccountId} / ${TARGET_DEFAULTS.previewAccountId}`;

/** Bound per call: gcloud answers in seconds; a hung call must not hang the preflight. */
const TIMEOUT_MS = 60_000;

/** Runs a command without a shell; undefined when the executable is not on PATH. */
function run(file: string, args: readonly string[]): Promise<CommandAnswer | undefined> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
        // Never prompt (e.g. gcloud's "enable this API and retry?"); no pulumi update check.
        env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: "1", PULUMI_SKIP_UPDATE_CHECK: "true" },
      },
      (err, stdout, stderr) => {
        if (err !== null && (err as NodeJS.ErrnoException).code === "ENOENT") {
          resolve(undefined);
          return;
        }
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
        const killed = err?.killed === true ? `\n${file} killed after ${TIMEOUT_MS / 1000} s` : "";
        resolve({ exitCode: err?.killed === true ? null : code, stdout, stderr: stderr + killed });
      },
    );
  });
}

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        project: { type: "string" },
        "pool-id": { type: "string" },
        "provider-id": { type: "string" },
        "release-account-id": { type: "string" },
        "preview-account-id": { type: "string" },
        stack: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`preflight: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const str = (k: string) => values[k] as string | undefined;
  const { target, problems } = resolveTarget({
    project: str("project"),
    poolId: str("pool-id"),
    providerId: str("provider-id"),
    releaseAccountId: str("release-account-id"),
    previewAccountId: str("preview-account-id"),
    stack: str("stack"),
  });
  if (target === undefined) {
    process.stderr.write(problems.map((p) => `preflight: ${p}\n`).join("") + `${USAGE}\n`);
    return 2;
  }

  const queries = gcloudQueries(target);
  const [stackExport, ...answers] = await Promise.all([
    run("pulumi", stackExportArgs(target)),
    ...queries.map((q) => run("gcloud", q.args)),
  ]);
  if (answers.some((a) => a === undefined)) {
    process.stdout.write(manualChecks(target));
    return 1;
  }
  const findings = preflight({
    target,
    answers: Object.fromEntries(queries.map((q, i) => [q.key, answers[i]])) as Record<
      QueryKey,
      CommandAnswer
    >,
    stackExport,
  });
  process.stdout.write(renderReport(target, findings));
  return exitCode(findings);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`preflight: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
