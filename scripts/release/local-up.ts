// `pulumi up` for the release rehearsal: takes the arguments scripts/release/up.sh gives `pulumi up`
// and runs the same update through the Automation API (scripts/local-stack.ts), because this
// machine has no Node.js language host to run `pulumi up` of a `runtime: nodejs` project
// (docs/rehearsal.md, "Known limits"). The engine, the provider, the state backend
// (PULUMI_BACKEND_URL, file://) and the stack config (Pulumi.<stack>.yaml, as configure.sh left it)
// are the real ones. Unknown arguments are refused, so up.sh and this substitute cannot drift apart
// silently. Used as PULUMI_UP_COMMAND by scripts/rehearse-release.sh; never by the workflow.
//
//   local-up.ts --stack S --yes --non-interactive --diff [--policy-pack DIR --policy-pack-config F]
//               [--target URN]... [--target-dependents] [--message M]
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { openLocalStack } from "../local-stack";

/** The `pulumi up` arguments this substitute understands. */
export interface UpArgs {
  readonly stack: string;
  readonly targets: string[];
  readonly targetDependents: boolean;
  readonly policyPacks: string[];
  readonly policyPackConfigs: string[];
  readonly message?: string;
  readonly diff: boolean;
}

/** Parses `pulumi up` arguments; throws on anything else (or on a missing --yes/--non-interactive). */
export function parseUpArgs(argv: string[]): UpArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      yes: { type: "boolean" },
      "non-interactive": { type: "boolean" },
      diff: { type: "boolean" },
      "policy-pack": { type: "string", multiple: true },
      "policy-pack-config": { type: "string", multiple: true },
      target: { type: "string", multiple: true },
      "target-dependents": { type: "boolean" },
      message: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) {
    throw new Error(`unexpected arguments ${JSON.stringify(positionals)}`);
  }
  if (values.stack === undefined || values.yes !== true || values["non-interactive"] !== true) {
    throw new Error("expected --stack S --yes --non-interactive, as a CI `pulumi up` has");
  }
  return {
    stack: values.stack,
    targets: values.target ?? [],
    targetDependents: values["target-dependents"] ?? false,
    policyPacks: (values["policy-pack"] ?? []).map((p) => path.resolve(p)),
    policyPackConfigs: (values["policy-pack-config"] ?? []).map((p) => path.resolve(p)),
    message: values.message,
    diff: values.diff ?? false,
  };
}

/** The folder of a `file://` backend URL. */
export function fileBackendDir(url: string | undefined): string {
  if (url === undefined || !url.startsWith("file://")) {
    throw new Error(`PULUMI_BACKEND_URL must be a file:// backend here, got ${JSON.stringify(url)}`);
  }
  return fileURLToPath(url);
}

async function main(argv: string[]): Promise<void> {
  const args = parseUpArgs(argv);
  const workDir = process.cwd();
  const ls = await openLocalStack({
    workDir,
    stackName: args.stack,
    backendDir: fileBackendDir(process.env.PULUMI_BACKEND_URL),
    // Exactly what configure.sh set: no commit/version from a git checkout.
    fromGit: false,
  });
  const r = await ls.stack.up({
    configFile: ls.configFile,
    target: args.targets,
    targetDependents: args.targetDependents,
    policyPacks: args.policyPacks,
    policyPackConfigs: args.policyPackConfigs,
    message: args.message,
    diff: args.diff,
    onOutput: (s: string) => process.stdout.write(s),
  });
  console.log(`summary: ${JSON.stringify(r.summary.resourceChanges ?? {})}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    // The CLI's own message (e.g. "the stack is currently locked …") must reach up.sh's output.
    console.error(`local-up: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
