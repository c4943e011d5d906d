// The release steps' decisions, for the bash steps in scripts/release/ (logic in lib/releaseSteps.ts
// and lib/imageTarget.ts, tested there). Reads the runner's variables (GITHUB_*), prints
// `$GITHUB_OUTPUT` lines or plain lines; exit status 1 with a message on any refused input.
//
//   git tag --list | steps.ts metadata --commit-time <RFC 3339>   (GITHUB_REF, GITHUB_REF_NAME, GITHUB_SHA)
//   steps.ts targets --stack <stack>                              one --target value per line
//   steps.ts outputs --file outputs.json                          (GITHUB_REF_NAME, GITHUB_SHA,
//                                                                  GITHUB_SERVER_URL, GITHUB_REPOSITORY)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { releaseTargets } from "../../lib/imageTarget";
import {
  checkReleaseOutputs,
  metadataOutputs,
  outputLines,
  releaseMetadata,
  ReleaseStepError,
} from "../../lib/releaseSteps";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new ReleaseStepError(`${name} is not set`);
  }
  return value;
}

function main(argv: string[]): string {
  const [cmd, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      "commit-time": { type: "string" },
      stack: { type: "string" },
      file: { type: "string" },
    },
    strict: true,
  });
  switch (cmd) {
    case "metadata": {
      const meta = releaseMetadata({
        ref: env("GITHUB_REF"),
        refName: env("GITHUB_REF_NAME"),
        commit: env("GITHUB_SHA"),
        commitTime: values["commit-time"] ?? "",
        tags: readFileSync(0, "utf8").split("\n"),
      });
      return outputLines(metadataOutputs(meta));
    }
    case "targets":
      return releaseTargets(values.stack ?? "").join("\n") + "\n";
    case "outputs": {
      const file = values.file ?? "";
      let outputs: unknown;
      try {
        outputs = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        throw new ReleaseStepError(`stack outputs ${file}: ${(err as Error).message}`);
      }
      const checked = checkReleaseOutputs(outputs, {
        version: env("GITHUB_REF_NAME"),
        commit: env("GITHUB_SHA"),
        serverUrl: env("GITHUB_SERVER_URL"),
        repository: env("GITHUB_REPOSITORY"),
      });
      return outputLines({
        digest: checked.imageDigest,
        refs: checked.refs.join(" "),
        "signing-identity": checked.signingIdentity,
      });
    }
    default:
      throw new ReleaseStepError(
        `usage: steps.ts <metadata|targets|outputs> [...] (got ${JSON.stringify(cmd)})`,
      );
  }
}

try {
  process.stdout.write(main(process.argv.slice(2)));
} catch (err) {
  process.stderr.write(`release step: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
