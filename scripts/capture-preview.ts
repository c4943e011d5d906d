// Records a preview of the local stack as engine events: the real-format fixture that
// test/releasePlan.test.ts renders (test/fixtures/preview/local.json). The events are the ones
// `pulumi preview --event-log` writes (the Automation API reads that log), so the workflow's
// input and this fixture have one format.
//
// Needs what `npm run local:preview` needs (the docker-build provider builds during a preview):
// the toolchain, the services and the substitute base images. After `npm run local:up`:
//
//   bash -c 'source scripts/env.sh && node_modules/.bin/ts-node --transpile-only \
//     scripts/capture-preview.ts --out test/fixtures/preview/local.json'
//
//   [--stack local] [--dir <repo>] [--set key=value]...   as scripts/local-stack.ts
//   [--policy-pack <dir>]                                   run a policy pack too (needs its analyzer)
//
// Ephemeral diagnostics (BuildKit's build log) and progress events are left out: the plan never
// reads them, and they would make the fixture large and different on every run.
import * as fs from "fs";
import * as path from "path";

import { openLocalStack, parseSetting, type EngineEvent, type LocalStack } from "./local-stack";

/** Whether an event belongs in a fixture: everything but ephemeral output. */
export function keepEvent(e: EngineEvent): boolean {
  // Not in the SDK's EngineEvent type, but in the engine's event log (apitype.ProgressEvent).
  if ("progressEvent" in e) return false;
  if (e.diagnosticEvent?.ephemeral === true) return false;
  return true;
}

/** Runs a preview of `ls` and returns its engine events (fixture-worthy ones only). */
export async function capturePreviewEvents(
  ls: LocalStack,
  opts: { policyPacks?: string[] } = {},
): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  await ls.stack.preview({
    configFile: ls.configFile,
    policyPacks: opts.policyPacks,
    onEvent: (e) => {
      if (keepEvent(e)) events.push(e);
    },
  });
  return events;
}

/** A JSON array with one event per line: valid JSON, and diffs of the fixture stay readable. */
export function fixtureText(events: readonly EngineEvent[]): string {
  return `[\n${events.map((e) => JSON.stringify(e)).join(",\n")}\n]\n`;
}

async function main(argv: string[]): Promise<void> {
  let out = "test/fixtures/preview/local.json";
  let stackName = "local";
  let workDir = path.resolve(__dirname, "..");
  const overrides: Record<string, string> = {};
  const policyPacks: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--out") out = next();
    else if (a === "--stack") stackName = next();
    else if (a === "--dir") workDir = path.resolve(next());
    else if (a === "--policy-pack") policyPacks.push(path.resolve(next()));
    else if (a === "--set") {
      const [k, v] = parseSetting(next());
      overrides[k] = v;
    } else throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  const ls = await openLocalStack({ workDir, stackName, overrides });
  const events = await capturePreviewEvents(ls, { policyPacks });
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, fixtureText(events));
  console.error(`capture-preview: ${events.length} events of stack ${stackName} → ${out}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`capture-preview: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
