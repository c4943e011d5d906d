// Prints the release plan (Markdown) from a Pulumi preview: tooling/plan/releasePlan.ts,
// docs/release.md ("preview.yml"). The preview workflow runs it through
// scripts/release/plan-comment.sh.
//
//   PULUMI_DEBUG_COMMANDS=true pulumi preview --stack prod --event-log events.json ... > preview.txt
//   npm run -s release-plan -- --preview events.json [--tags tags.txt] [--comment --diff preview.txt]
//
//   --preview FILE|-        the preview (default `-`, stdin): engine events (`--event-log`, one JSON
//                           object per line, or a JSON array of them: scripts/capture-preview.ts) or
//                           the `pulumi preview --json` digest (which has no policy results)
//   --outputs FILE          `pulumi stack output --json`; default: the outputs recorded in the preview
//   --tags FILE             `git tag --list`; its release tags are the released versions
//   --released-versions J   the same as a JSON array; default: the preview's config `releasedVersions`
//   --version vX.Y.Z        plan the floating tags for this version (default: the preview's version
//                           when it is a stable release, else the next patch)
//   --comment               print the PR comment: marker, plan and, with --diff, the raw output
//   --diff FILE             `pulumi preview` text output, appended collapsed (with --comment)
//   --not-previewed ACTOR   instead of a plan, the comment of a run by ACTOR (`github.actor`) that
//                           did not get the preview's secret (Dependabot's runs); no other option
//
// Exit status 1 with a message naming the input on anything unparseable, 2 on bad usage.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { parsePreviewText, PreviewJsonError } from "../tooling/plan/previewJson";
import { ReleasePlanError } from "../tooling/plan/markdown";
import { notPreviewedComment, planComment, renderReleasePlan } from "../tooling/plan/releasePlan";
import { releasedVersions } from "../tooling/releaseSteps";

const USAGE =
  "usage: release-plan [--preview FILE|-] [--outputs FILE] [--tags FILE | --released-versions JSON] " +
  "[--version vX.Y.Z] [--comment [--diff FILE]] | --not-previewed ACTOR";

/** Bad usage (exit status 2). */
export class UsageError extends Error {}

function read(what: string, file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new ReleasePlanError(`${what} ${file}: ${(err as Error).message}`);
  }
}

function json(what: string, textValue: string): unknown {
  try {
    return JSON.parse(textValue);
  } catch (err) {
    throw new ReleasePlanError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Runs the command; returns what to print. Throws UsageError, ReleasePlanError or PreviewJsonError. */
export function main(argv: string[]): string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        preview: { type: "string", default: "-" },
        outputs: { type: "string" },
        tags: { type: "string" },
        "released-versions": { type: "string" },
        version: { type: "string" },
        comment: { type: "boolean", default: false },
        diff: { type: "string" },
        "not-previewed": { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const notPreviewed = values["not-previewed"];
  if (notPreviewed !== undefined) {
    const others = argv.filter((a) => a.startsWith("--") && !a.startsWith("--not-previewed"));
    if (others.length > 0 || notPreviewed === "") {
      throw new UsageError(`--not-previewed takes an actor and no other option\n${USAGE}`);
    }
    return notPreviewedComment(notPreviewed);
  }
  if (values.tags !== undefined && values["released-versions"] !== undefined) {
    throw new UsageError(`--tags and --released-versions are exclusive\n${USAGE}`);
  }
  if (values.diff !== undefined && !values.comment) {
    throw new UsageError(`--diff goes with --comment\n${USAGE}`);
  }

  const preview = parsePreviewText(read("preview", values.preview), `preview ${values.preview}`);

  let outputs: Record<string, unknown> | undefined;
  if (values.outputs !== undefined) {
    const parsed = json(`stack outputs ${values.outputs}`, read("stack outputs", values.outputs));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ReleasePlanError(`stack outputs ${values.outputs} must be a JSON object`);
    }
    outputs = parsed as Record<string, unknown>;
  }

  let released: string[] | undefined;
  if (values.tags !== undefined) {
    released = releasedVersions("", read("tags", values.tags).split("\n"));
  } else if (values["released-versions"] !== undefined) {
    const parsed = json("--released-versions", values["released-versions"]);
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === "string")) {
      throw new ReleasePlanError(`--released-versions must be a JSON array of tags`);
    }
    released = parsed as string[];
  }

  const plan = renderReleasePlan({ preview, outputs, releasedVersions: released, version: values.version });
  if (!values.comment) return plan;
  return planComment(plan, values.diff === undefined ? undefined : read("raw output", values.diff));
}

/** Exit status for an error: 2 bad usage, 1 bad input, undefined for a bug (rethrown). */
export function exitStatus(err: unknown): number | undefined {
  if (err instanceof UsageError) return 2;
  if (err instanceof ReleasePlanError || err instanceof PreviewJsonError) return 1;
  return undefined;
}

if (require.main === module) {
  try {
    process.stdout.write(main(process.argv.slice(2)));
  } catch (err) {
    const status = exitStatus(err);
    if (status === undefined) throw err;
    console.error(`release-plan: ${(err as Error).message}`);
    process.exit(status);
  }
}
