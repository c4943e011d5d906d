// Prints the GitHub Release body for a release from `pulumi stack output --json`.
//
//   pulumi stack output --json --stack prod > outputs.json
//   npx ts-node scripts/release-notes.ts --version v1.2.3 --repository owner/name \
//     --outputs outputs.json [--released-versions '["v1.2.2"]'] [--notes-file generated.md] \
//     [--visibility visibility.json]   (the anonymous-pull check's findings: visibility.sh check)
//
// `--print-meta` instead prints {"previousTag","prerelease","latest"} as JSON for the workflow
// (needs only --version and --released-versions; `--rollback-to vX.Y.Z` when a rollback is set).
// `--outputs -` (the default) reads the JSON from stdin. Exit status 1 with a message naming the
// bad key on any invalid input, so the workflow never publishes a half-filled Release.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { previousRelease, releaseMeta, ReleaseNotesError, renderReleaseNotes } from "../tooling/releaseNotes";
import { parseFindings } from "../tooling/visibility";

const USAGE =
  "usage: release-notes --version vX.Y.Z --repository owner/name [--outputs FILE|-] " +
  "[--previous-tag TAG | --released-versions JSON] [--notes-file FILE] [--server-url URL] [--repository-id N] " +
  "[--visibility FILE]\n" +
  "       release-notes --print-meta --version vX.Y.Z --released-versions JSON [--rollback-to vX.Y.Z]";

function readJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ReleaseNotesError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function main(argv: string[]): string {
  const { values } = parseArgs({
    args: argv,
    options: {
      version: { type: "string" },
      repository: { type: "string" },
      outputs: { type: "string", default: "-" },
      "previous-tag": { type: "string" },
      "released-versions": { type: "string" },
      "notes-file": { type: "string" },
      "server-url": { type: "string" },
      "repository-id": { type: "string" },
      "print-meta": { type: "boolean", default: false },
      "rollback-to": { type: "string" },
      visibility: { type: "string" },
    },
    strict: true,
  });
  let released: string[] | undefined;
  if (values["released-versions"] !== undefined) {
    const parsed = readJson("--released-versions", values["released-versions"]);
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === "string")) {
      throw new ReleaseNotesError(
        `--released-versions must be a JSON array of tags, got ${values["released-versions"]}`,
      );
    }
    released = parsed as string[];
  }
  if (values["print-meta"]) {
    if (values.version === undefined) throw new ReleaseNotesError(`--version is required\n${USAGE}`);
    const rollbackTo = values["rollback-to"] === "" ? undefined : values["rollback-to"];
    return JSON.stringify(releaseMeta(values.version, released ?? [], rollbackTo)) + "\n";
  }
  if (values.version === undefined || values.repository === undefined) {
    throw new ReleaseNotesError(`--version and --repository are required\n${USAGE}`);
  }
  const source = values.outputs === "-" ? 0 : values.outputs;
  const outputs = readJson(`stack outputs (${values.outputs})`, readFileSync(source ?? 0, "utf8"));

  let previousTag = values["previous-tag"];
  if (previousTag === undefined && released !== undefined) {
    previousTag = previousRelease(values.version, released);
  }
  const generatedNotes =
    values["notes-file"] === undefined ? undefined : readFileSync(values["notes-file"], "utf8");

  let visibility;
  if (values.visibility !== undefined) {
    try {
      visibility = parseFindings(
        readJson(`--visibility ${values.visibility}`, readFileSync(values.visibility, "utf8")),
      );
    } catch (err) {
      if (err instanceof ReleaseNotesError) throw err;
      throw new ReleaseNotesError(`--visibility ${values.visibility}: ${(err as Error).message}`);
    }
  }

  return renderReleaseNotes({
    outputs,
    version: values.version,
    repository: values.repository,
    previousTag,
    generatedNotes,
    serverUrl: values["server-url"],
    repositoryId: values["repository-id"],
    visibility,
  });
}

try {
  process.stdout.write(main(process.argv.slice(2)));
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`release-notes: ${message}\n`);
  process.exitCode = 1;
}
