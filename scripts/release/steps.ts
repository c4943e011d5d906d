// The release steps' decisions, for the bash steps in scripts/release/ (logic in
// tooling/releaseSteps.ts and lib/imageTarget.ts, tested there). Reads the runner's variables
// (GITHUB_*), prints `$GITHUB_OUTPUT` lines or plain lines; exit status 1 with a message on any
// refused input.
//
//   git tag --list | steps.ts metadata --commit-time <RFC 3339>   (GITHUB_REF, GITHUB_REF_NAME, GITHUB_SHA)
//   steps.ts targets --stack <stack>                              one --target value per line
//   steps.ts outputs --file outputs.json                          (GITHUB_REF_NAME, GITHUB_SHA,
//                                                                  GITHUB_SERVER_URL, GITHUB_REPOSITORY)
//   steps.ts policy-config --file config.json                     the policy pack's config, from the
//                                                                  stack's `pulumi config --json`
//   steps.ts push-credentials                                     per registry pushing with config
//       credentials: `<username key> <username variable> <password key> <password variable>`
//   steps.ts oidc-issuer                                          GitHub's OIDC issuer (lib/release.ts)
//   steps.ts exact-tags --file config.json                        the exact-tag guard
//       (tooling/exactTagGuard.ts) over the stack's `pulumi config --json`:
//       `exact-tags=build|reuse`, and for reuse `reuse-platform-digests=<JSON>` and
//       `index-digest=sha256:…`; exit 1 with the refusal.
//       Reads ALLOW_EXACT_TAG_MOVE, CQ_REGISTRY_CA and the registries' login variables
//       (GCR_TOKEN, GHCR_USERNAME/GHCR_TOKEN)
//   steps.ts provenance --file outputs.json --dockerfile Dockerfile [--tool name=version]...
//       the SLSA v1 provenance predicate (tooling/evidence.ts) as JSON; also reads GITHUB_REF,
//       GITHUB_REPOSITORY_ID, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and, when set,
//       GITHUB_REPOSITORY_OWNER_ID, GITHUB_EVENT_NAME, RUNNER_ENVIRONMENT
//   steps.ts visibility --file outputs.json                       the anonymous-pull check
//       (tooling/anonymousPull.ts, tooling/visibility.ts): every published ref's manifest by digest,
//       without credentials, against the stack output registryVisibility; the findings as JSON.
//       Reads PULUMI_STACK (prod), GITHUB_EVENT_PATH (the owner's type, for GHCR's settings URL),
//       CQ_REGISTRY_CA
//   steps.ts visibility-report --file visibility.json --format annotations|summary|failures
//       the findings as workflow annotations, as the job summary's Markdown, or (failures) the
//       `fail` findings' lines with exit status 1 when there is one
//   steps.ts state-locks --file up.log --max-age <seconds>
//       the locks a "stack is currently locked" failure lists, one `stale|live<TAB>url<TAB>why`
//       line each (tooling/stateLock.ts decides)
//   steps.ts remove-lock --url <lock url>      deletes exactly that lock file (scripts/lib/stateLocks.ts)
//   steps.ts reap --attempt <id>               ends the processes of attempt <id> (PULUMI_UP_ATTEMPT)
//   steps.ts hub-guard --file dist/hub/package.json
//       what the Hub holds for the package's exact version (tooling/hub.ts): `hub=publish` or
//       `hub=published` (identical: nothing to do), the reason on stderr; exit 1 when it holds
//       other contents. Reads CLOUDQUERY_API_URL (default the Hub's) and CLOUDQUERY_API_KEY
//   steps.ts blob-statement --file provenance.json <dist dir>
//       the in-toto statement about every file under <dist dir> (github/…, hub/…; subjects by
//       SHA-256, tooling/blobEvidence.ts) with the provenance predicate of --file
//   steps.ts hub-error --file dist/hub/package.json < publish.log
//       the one action for a failed `cloudquery plugin publish`, or nothing when its output
//       names no known cause
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { hostname } from "node:os";
import { parseArgs } from "node:util";

import { blobStatement } from "../../tooling/blobEvidence";
import { baseImages, provenancePredicate } from "../../tooling/evidence";
import { exactTagGuard } from "../../tooling/exactTagGuard";
import { configCredentials } from "../../lib/imageRegistries";
import { releaseTargets } from "../../lib/imageTarget";
import { GITHUB_OIDC_ISSUER } from "../../lib/release";
import { judgeLocks, pidAlive } from "../../tooling/stateLock";
import { reapAttempt, removeLock } from "../lib/stateLocks";
import { anonymousReaders, checkAnonymousPulls } from "../../tooling/anonymousPull";
import {
  fetchHubVersion,
  HUB_API_URL,
  hubErrorAction,
  hubPublishDecision,
  parseHubPackage,
} from "../../tooling/hub";
import {
  eventOwnerType,
  findingLine,
  parseFindings,
  visibilityAnnotations,
  visibilitySummary,
} from "../../tooling/visibility";
import {
  checkReleaseOutputs,
  metadataOutputs,
  outputLines,
  policyConfig,
  releaseMetadata,
  ReleaseStepError,
  stackConfigFromJson,
} from "../../tooling/releaseSteps";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new ReleaseStepError(`${name} is not set`);
  }
  return value;
}

/** An optional runner variable: unset and empty are the same. */
function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

function readOutputs(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ReleaseStepError(`${file}: ${(err as Error).message}`);
  }
}

/** The exact-tag guard: notes to stderr, the decision as output lines; a refusal throws. */
async function exactTags(file: string): Promise<string> {
  const decision = await exactTagGuard(stackConfigFromJson(readOutputs(file)), process.env);
  for (const note of decision.notes) process.stderr.write(`[exact-tags] ${note}\n`);
  switch (decision.action) {
    case "refuse":
      throw new ReleaseStepError(decision.message);
    case "build":
      return outputLines({ "exact-tags": "build" });
    case "reuse":
      return outputLines({
        "exact-tags": "reuse",
        "reuse-platform-digests": JSON.stringify(decision.platformDigests),
        "index-digest": decision.indexDigest,
      });
  }
}

/** The anonymous-pull check over the stack outputs in `file`: the findings as one JSON line. */
async function visibility(file: string): Promise<string> {
  const eventPath = optionalEnv("GITHUB_EVENT_PATH");
  const findings = await checkAnonymousPulls(
    readOutputs(file),
    {
      stack: optionalEnv("PULUMI_STACK") ?? "prod",
      ownerType: eventPath === undefined ? undefined : eventOwnerType(readOutputs(eventPath)),
    },
    anonymousReaders(process.env),
  );
  return JSON.stringify(findings) + "\n";
}

/** The findings of `file` as annotations, the job summary, or the failures (exit status 1 if any). */
function visibilityReport(file: string, format: string | undefined): string {
  const findings = parseFindings(readOutputs(file));
  switch (format) {
    case "annotations":
      return visibilityAnnotations(findings);
    case "summary":
      return visibilitySummary(findings);
    case "failures": {
      const failed = findings.filter((f) => f.severity === "fail");
      if (failed.length > 0) throw new ReleaseStepError(failed.map(findingLine).join("\n"));
      return "";
    }
    default:
      throw new ReleaseStepError(
        `--format must be annotations, summary or failures, got ${JSON.stringify(format)}`,
      );
  }
}

function readHubPackage(file: string) {
  try {
    return parseHubPackage(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ReleaseStepError(`${file}: ${(err as Error).message}`);
  }
}

/** The Hub's exact-version guard: `hub=publish|published`, the reason on stderr; refusal throws. */
async function hubGuard(file: string): Promise<string> {
  const pkg = readHubPackage(file);
  const held = await fetchHubVersion(pkg, {
    apiUrl: optionalEnv("CLOUDQUERY_API_URL") ?? HUB_API_URL,
    apiKey: optionalEnv("CLOUDQUERY_API_KEY"),
  });
  const decision = hubPublishDecision(pkg, held);
  if (decision.action === "refuse") throw new ReleaseStepError(decision.why);
  process.stderr.write(`[hub] ${decision.why}\n`);
  return outputLines({ hub: decision.action });
}

/** Every regular file under `dir`, as paths relative to it with `/`, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

/** The statement about every file under `dir` with the predicate of `predicateFile`. */
function statementOf(dir: string | undefined, predicateFile: string): string {
  if (dir === undefined) throw new ReleaseStepError("blob-statement needs the dist directory");
  const subjects = filesUnder(dir).map((name) => ({
    name,
    sha256: createHash("sha256")
      .update(readFileSync(path.join(dir, name)))
      .digest("hex"),
  }));
  return JSON.stringify(blobStatement(subjects, readOutputs(predicateFile)), null, 2) + "\n";
}

function main(argv: string[]): string | Promise<string> {
  const [cmd, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: cmd === "blob-statement",
    options: {
      "commit-time": { type: "string" },
      stack: { type: "string" },
      file: { type: "string" },
      dockerfile: { type: "string" },
      tool: { type: "string", multiple: true },
      "max-age": { type: "string" },
      url: { type: "string" },
      attempt: { type: "string" },
      format: { type: "string" },
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
      const outputs = readOutputs(values.file ?? "");
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
    case "push-credentials":
      return configCredentials()
        .map((c) => `${c.usernameKey} ${c.usernameEnv} ${c.passwordKey} ${c.passwordEnv}\n`)
        .join("");
    case "oidc-issuer":
      return GITHUB_OIDC_ISSUER + "\n";
    case "exact-tags":
      return exactTags(values.file ?? "");
    case "policy-config":
      return JSON.stringify(policyConfig(readOutputs(values.file ?? ""))) + "\n";
    case "provenance": {
      const outputs = readOutputs(values.file ?? "");
      // Refused unless they are this release's (version, commit, one digest everywhere).
      checkReleaseOutputs(outputs, {
        version: env("GITHUB_REF_NAME"),
        commit: env("GITHUB_SHA"),
        serverUrl: env("GITHUB_SERVER_URL"),
        repository: env("GITHUB_REPOSITORY"),
      });
      const o = outputs as { platforms: string[]; platformDigests?: unknown; imageBuildArgs?: unknown };
      const record = (key: string, v: unknown): Record<string, string> => {
        if (typeof v !== "object" || v === null || Object.values(v).some((x) => typeof x !== "string")) {
          throw new ReleaseStepError(
            `stack output '${key}' must be an object of strings, got ${JSON.stringify(v)}`,
          );
        }
        return v as Record<string, string>;
      };
      const buildArgs = record("imageBuildArgs", o.imageBuildArgs);
      const toolchain = Object.fromEntries(
        (values.tool ?? []).map((t) => {
          const eq = t.indexOf("=");
          if (eq <= 0) throw new ReleaseStepError(`--tool must be name=version, got ${JSON.stringify(t)}`);
          return [t.slice(0, eq), t.slice(eq + 1)];
        }),
      );
      const predicate = provenancePredicate({
        serverUrl: env("GITHUB_SERVER_URL"),
        repository: env("GITHUB_REPOSITORY"),
        repositoryId: env("GITHUB_REPOSITORY_ID"),
        repositoryOwnerId: optionalEnv("GITHUB_REPOSITORY_OWNER_ID"),
        ref: env("GITHUB_REF"),
        commit: env("GITHUB_SHA"),
        runId: env("GITHUB_RUN_ID"),
        runAttempt: env("GITHUB_RUN_ATTEMPT"),
        eventName: optionalEnv("GITHUB_EVENT_NAME"),
        runnerEnvironment: optionalEnv("RUNNER_ENVIRONMENT"),
        version: env("GITHUB_REF_NAME"),
        platforms: o.platforms,
        platformDigests: record("platformDigests", o.platformDigests),
        buildArgs,
        baseImages: baseImages(readFileSync(values.dockerfile ?? "Dockerfile", "utf8"), buildArgs),
        toolchain,
      });
      return JSON.stringify(predicate, null, 2) + "\n";
    }
    case "visibility":
      return visibility(values.file ?? "");
    case "visibility-report":
      return visibilityReport(values.file ?? "", values.format);
    case "state-locks": {
      const maxAgeSeconds = Number(values["max-age"]);
      if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds <= 0) {
        throw new ReleaseStepError(
          `--max-age must be a positive integer, got ${JSON.stringify(values["max-age"])}`,
        );
      }
      const ctx = { hostname: hostname(), now: new Date(), pidAlive, maxAgeSeconds };
      const { stale, live } = judgeLocks(readFileSync(values.file ?? "", "utf8"), ctx);
      return [
        ...stale.map((l) => `stale\t${l.lock.url}\t${l.why}\n`),
        ...live.map((l) => `live\t${l.lock.url}\t${l.why}\n`),
      ].join("");
    }
    case "remove-lock": {
      if (values.url === undefined) throw new ReleaseStepError("remove-lock needs --url <lock url>");
      removeLock(values.url);
      return "";
    }
    case "reap": {
      if (values.attempt === undefined || values.attempt === "")
        throw new ReleaseStepError("reap needs --attempt <id>");
      const left = reapAttempt(values.attempt);
      return left.length > 0 ? `${left.join(" ")}\n` : "";
    }
    case "hub-guard":
      return hubGuard(values.file ?? "");
    case "blob-statement":
      return statementOf(positionals[0], values.file ?? "");
    case "hub-error": {
      const action = hubErrorAction(readFileSync(0, "utf8"), readHubPackage(values.file ?? ""));
      return action === undefined ? "" : `${action}\n`;
    }
    default:
      throw new ReleaseStepError(
        `usage: steps.ts <metadata|targets|outputs|push-credentials|oidc-issuer|policy-config|exact-tags|provenance|visibility|visibility-report|state-locks|remove-lock|reap|hub-guard|hub-error|blob-statement> [...] (got ${JSON.stringify(cmd)})`,
      );
  }
}

Promise.resolve()
  .then(() => main(process.argv.slice(2)))
  .then(
    (out) => {
      process.stdout.write(out);
    },
    (err: unknown) => {
      process.stderr.write(`release step: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
