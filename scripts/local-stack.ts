// Runs a local stack (`local` by default) of this Pulumi program through the Automation API.
//
// Why not plain `pulumi up -s local`: this machine cannot build the Node.js language host
// (docs/rehearsal.md, "Known limits"), so the CLI cannot start a `runtime: nodejs` program.
// An inline Automation API program is served by this Node process itself, while the real
// engine and the real docker-build provider do the work; the program is still `index.ts`,
// with the stack's `Pulumi.<stack>.yaml` config.
//
// Usage: ts-node --transpile-only scripts/local-stack.ts <up|preview|destroy|outputs>
//          [--stack local] [--dir <repo>] [--set key=value]...
// State: file backend in `<repo>/.pulumi-local/` (git-ignored). Passphrase: PULUMI_CONFIG_PASSPHRASE,
// default LOCAL_PASSPHRASE below — local-only, it protects nothing and must never be used for prod.
// Config: Pulumi.<stack>.yaml, plus `--set` overrides, plus `commit`/`commitTime` (and `version`
// when HEAD has a `v*` tag) from the git checkout unless set with `--set`. The overrides go into a
// generated config file in the backend folder, so the tracked Pulumi.<stack>.yaml is never rewritten.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { LocalWorkspace, Stack, type EngineEvent } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";

import { PROJECT } from "../lib/config";
import { withStateLock } from "./lib/stateLocks";

/** Documented local-only passphrase of the file backend (docs/rehearsal.md). Not a secret. */
export const LOCAL_PASSPHRASE = "local-only";

/** Options of {@link openLocalStack}. */
export interface LocalStackOptions {
  /** Repository (or copy of it) holding Pulumi.yaml, index.ts, Dockerfile, plugin/. */
  readonly workDir: string;
  /** Stack name. Defaults to `local`. */
  readonly stackName?: string;
  /** Config file the stack starts from. Defaults to `<workDir>/Pulumi.<stack>.yaml`. */
  readonly baseConfigFile?: string;
  /** Config overrides, keys without the project prefix. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Derive commit/commitTime (and version from a `v*` tag on HEAD) from git when not overridden. Default true. */
  readonly fromGit?: boolean;
  /** File backend folder. Defaults to `<workDir>/.pulumi-local`. */
  readonly backendDir?: string;
  /** Extra environment for the CLI and the providers it starts. */
  readonly env?: Readonly<Record<string, string>>;
  /** Build the tree whatever the stack file says (`npm run local:*`): see {@link effectiveConfig}. */
  readonly buildTree?: boolean;
}

/**
 * The stack's config: the base file's, then the overrides (keys without the project prefix). With
 * `buildTree`, a `reusePlatformDigests` from the base file is dropped (and named in `dropped`): it
 * is the release's exact-tag guard's decision for the commit it checked (scripts/release/
 * exact-tags.sh), and a stack file a release run left it in would make a local run join that
 * release's digests instead of building its own tree. An override keeps it.
 */
export function effectiveConfig(
  base: Readonly<Record<string, unknown>>,
  overrides: Readonly<Record<string, string>>,
  buildTree = false,
): { config: Record<string, unknown>; dropped: string[] } {
  const config: Record<string, unknown> = { ...base };
  const dropped: string[] = [];
  const reuse = `${PROJECT}:reusePlatformDigests`;
  if (buildTree && reuse in config && !("reusePlatformDigests" in overrides)) {
    delete config[reuse];
    dropped.push("reusePlatformDigests");
  }
  for (const [k, v] of Object.entries(overrides)) config[`${PROJECT}:${k}`] = v;
  return { config, dropped };
}

/** An opened local stack and the generated config file every operation must pass. */
export interface LocalStack {
  readonly stack: Stack;
  readonly configFile: string;
  readonly config: Record<string, string>;
  /** The command that releases every lock of this stack (its file backend), for error messages. */
  readonly cancelCommand: string;
}

function git(workDir: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", ["-C", workDir, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Config values the git checkout supplies: commit, commit time, and a release tag on HEAD. A tree
 * that differs from HEAD (changed, staged or untracked files; `git describe --dirty`'s rule) is not
 * that release: its version gets the prerelease `-dirty`, so its tags (`v1.2.3-dirty`,
 * `v1.2.3-dirty-<sha>`, no `vX.Y`/`latest`) never move the release's own.
 */
export function gitConfig(workDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const commit = git(workDir, ["rev-parse", "HEAD"]);
  const commitTime = git(workDir, ["log", "-1", "--format=%cI"]);
  const tag = git(workDir, ["describe", "--tags", "--exact-match", "--match", "v*", "HEAD"]);
  const status = git(workDir, ["status", "--porcelain"]);
  if (commit) out.commit = commit;
  if (commitTime) out.commitTime = commitTime;
  if (tag) out.version = status === "" ? tag : `${tag}-dirty`;
  return out;
}

/** Parses `key=value` (key without the project prefix); throws naming the bad argument. */
export function parseSetting(arg: string): [string, string] {
  const eq = arg.indexOf("=");
  const key = eq < 0 ? "" : arg.slice(0, eq).replace(`${PROJECT}:`, "");
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) {
    throw new Error(`--set ${JSON.stringify(arg)}: expected key=value with a config key name`);
  }
  return [key, arg.slice(eq + 1)];
}

/**
 * Writes the effective config file (base file + overrides, encryption salt kept) into the backend
 * folder and opens the stack with an inline program that loads `<workDir>/index.ts` afresh.
 */
export async function openLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const workDir = path.resolve(opts.workDir);
  const stackName = opts.stackName ?? "local";
  const backendDir = path.resolve(opts.backendDir ?? path.join(workDir, ".pulumi-local"));
  const baseFile = opts.baseConfigFile ?? path.join(workDir, `Pulumi.${stackName}.yaml`);
  fs.mkdirSync(backendDir, { recursive: true });

  const base = (yaml.load(fs.readFileSync(baseFile, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
    encryptionsalt?: string;
  };
  const overrides = { ...(opts.fromGit === false ? {} : gitConfig(workDir)), ...opts.overrides };
  const { config, dropped } = effectiveConfig(base.config ?? {}, overrides, opts.buildTree);
  for (const key of dropped) {
    console.error(
      `stack ${stackName}: ${key} in ${path.relative(workDir, baseFile)} ignored: a local run builds its tree`,
    );
  }

  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? LOCAL_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ...opts.env,
  };

  const program = async () => {
    // A fresh require per run: one process may run several operations on a changed tree.
    for (const k of Object.keys(require.cache)) {
      if (k.startsWith(workDir + path.sep) && !k.includes(`${path.sep}node_modules${path.sep}`)) {
        delete require.cache[k];
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(workDir, "index.ts"));
  };
  const ws = await LocalWorkspace.create({ workDir, program, envVars: env });
  // `stack init` writes a new encryption salt into <workDir>/Pulumi.<stack>.yaml unless that file
  // already has one (Pulumi.local.yaml commits the salt of LOCAL_PASSPHRASE, so it is reused).
  const stack = await Stack.createOrSelect(stackName, ws);
  const stackFile = path.join(workDir, `Pulumi.${stackName}.yaml`);
  const salt =
    base.encryptionsalt ??
    (fs.existsSync(stackFile)
      ? (yaml.load(fs.readFileSync(stackFile, "utf8")) as { encryptionsalt?: string } | undefined)
          ?.encryptionsalt
      : undefined);

  const configFile = path.join(backendDir, `Pulumi.${stackName}.effective.yaml`);
  const doc: Record<string, unknown> = { config };
  if (salt !== undefined) doc.encryptionsalt = salt;
  fs.writeFileSync(
    configFile,
    `# Generated by scripts/local-stack.ts from ${path.relative(workDir, baseFile)} + overrides; do not edit.\n` +
      yaml.dump(doc, { lineWidth: -1, sortKeys: true }),
  );
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) flat[k.replace(`${PROJECT}:`, "")] = String(v);
  const cancelCommand =
    `PULUMI_BACKEND_URL=file://${backendDir} PULUMI_CONFIG_PASSPHRASE=${env.PULUMI_CONFIG_PASSPHRASE} ` +
    `pulumi cancel --yes --stack ${stackName}`;
  return { stack, configFile, config: flat, cancelCommand };
}

/**
 * A stack of a repository copy that starts from the `local` stack's config (Pulumi.local.yaml),
 * with the release metadata given in `overrides` rather than taken from git: what the e2e and the
 * benchmark run their builds on.
 */
export function openRehearsalStack(
  workDir: string,
  stackName: string,
  overrides: Readonly<Record<string, string>>,
): Promise<LocalStack> {
  return openLocalStack({
    workDir,
    stackName,
    baseConfigFile: path.join(workDir, "Pulumi.local.yaml"),
    fromGit: false,
    overrides,
  });
}

/** Plain values of the stack outputs. */
export async function plainOutputs(ls: LocalStack): Promise<Record<string, unknown>> {
  const outs = await ls.stack.outputs();
  return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.value]));
}

/** The pushed refs and a `docker run` line, from the stack outputs. */
export function describePush(outputs: Record<string, unknown>): string[] {
  const repos = (outputs.imageRepositories as string[] | undefined) ?? [];
  const tags = (outputs.imageTags as string[] | undefined) ?? [];
  const refs = (outputs.imageRefs as Record<string, string> | undefined) ?? {};
  const lines = ["Pushed:"];
  for (const repo of repos) for (const tag of tags) lines.push(`  ${repo}:${tag}`);
  for (const [key, ref] of Object.entries(refs)) lines.push(`  ${key}: ${ref}`);
  const ref = refs.local ?? Object.values(refs)[0];
  if (ref !== undefined) {
    lines.push(
      "Run it (source scripts/env.sh first, for DOCKER_HOST):",
      `  "$CQ_DOCKER" run --rm --read-only --cap-drop ALL -p 127.0.0.1:7777:7777 ${ref}`,
    );
  }
  return lines;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  let stackName = "local";
  let workDir = path.resolve(__dirname, "..");
  const overrides: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const next = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stack") stackName = next();
    else if (a === "--dir") workDir = path.resolve(next());
    else if (a === "--set") {
      const [k, v] = parseSetting(next());
      overrides[k] = v;
    } else throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  if (!["up", "preview", "destroy", "outputs"].includes(cmd ?? "")) {
    throw new Error(
      `usage: local-stack.ts <up|preview|destroy|outputs> [--stack s] [--dir d] [--set k=v]... (got ${JSON.stringify(cmd)})`,
    );
  }
  const ls = await openLocalStack({ workDir, stackName, overrides, buildTree: true });
  const c = ls.config;
  console.error(
    `stack ${stackName}: version=${c.version} commit=${c.commit} commitTime=${c.commitTime} (config ${ls.configFile})`,
  );
  const common = { configFile: ls.configFile, onOutput: (s: string) => process.stdout.write(s) };
  // A stale lock (an update killed, Ctrl-C) is deleted and the update runs again; a live one is
  // waited for, then the one command is named (scripts/lib/stateLocks.ts, as the release does).
  const locked = { cancelCommand: ls.cancelCommand, attempts: 10, waitSeconds: 10 };
  switch (cmd) {
    case "up": {
      const r = await withStateLock(() => ls.stack.up({ ...common }), locked);
      console.log(JSON.stringify(r.summary.resourceChanges ?? {}));
      console.log(describePush(await plainOutputs(ls)).join("\n"));
      break;
    }
    case "preview":
      await ls.stack.preview({ ...common });
      break;
    case "destroy":
      // Images and indexes are retainOnDelete: destroy forgets them, the registry keeps them.
      await withStateLock(() => ls.stack.destroy({ ...common }), locked);
      break;
    case "outputs":
      console.log(JSON.stringify(await plainOutputs(ls), null, 2));
      break;
  }
}

/** Engine events of one operation, for callers that assert on them (test/e2e). */
export type { EngineEvent };

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`local-stack: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
