// Renders deploy/: M shards of a sync on an engine users already run, a Kubernetes Indexed Job or a
// Cloud Run job. Each task runs the CloudQuery CLI with `--shard <index + 1>/M` (deploy/sync-shard.sh)
// against the released plugin image, a sidecar served over gRPC on loopback (deploy/README.md).
//
// The templates are YAML with placeholders `{{NAME}}`: not `${NAME}`, which is the CLI's own
// environment expansion in its configuration and the shell's in the script. Rendering fills every
// placeholder and refuses one it does not know, a value the template never uses, and anything
// left that still looks like one. A value of several lines (the configuration, the script) must
// stand alone on its line and takes that line's indentation, so it lands in a YAML block scalar
// as it is. Every input is checked first; an error names the key, its flag and the value.
//
// Pure except readTemplates() and the command line at the bottom:
//   npm run deploy:render -- kubernetes|cloud-run --plugin-image <repo>@sha256:<hex> … > out.yaml
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

import { RULES } from "../lib/rules";

/**
 * Most shards a sync may be split into; the plugin refuses more (plugin/internal/shard, MaxTotal,
 * which test/deploy.test.ts checks this against).
 */
export const MAX_SHARDS = 4096;

/** Where the sidecar serves the plugin: loopback, so nothing outside the pod or task can call it. */
export const PLUGIN_ADDRESS = "127.0.0.1:7777";

/** Audience of the web identity token both platforms hand to AWS STS. */
export const AWS_TOKEN_AUDIENCE = "sts.amazonaws.com";

/** The inputs of both manifests. */
export interface ShardsInput {
  /** The plugin image, pinned by digest: `<repository>@sha256:<64 hex>` (a release's `imageRefs`). */
  readonly pluginImage: string;
  /** The CloudQuery CLI image, pinned the same way, e.g. `ghcr.io/cloudquery/cloudquery@sha256:…`. */
  readonly cliImage: string;
  /** The number of shards M, 1 to {@link MAX_SHARDS}. */
  readonly shards: number;
  /** The S3 bucket: a name, not a URL. */
  readonly bucket: string;
  /** The bucket's region, e.g. `us-east-1`. */
  readonly region: string;
  /** Only keys under this directory-like prefix are read. Defaults to `""` (the whole bucket). */
  readonly pathPrefix?: string;
  /** The AWS role the shards assume with their web identity, `arn:aws:iam::<account>:role/<name>`. */
  readonly awsRoleArn: string;
  /** Version of the `cloudquery/postgresql` destination (and state backend), e.g. `v8.0.0`. */
  readonly postgresqlVersion: string;
}

/** The inputs of the Cloud Run job. */
export interface CloudRunInput extends ShardsInput {
  /** The job's service account, `<name>@<project>.iam.gserviceaccount.com`. */
  readonly serviceAccount: string;
}

/** The template texts, by role. */
export interface Templates {
  /** deploy/cloudquery.yml: the CloudQuery configuration. */
  readonly config: string;
  /** deploy/sync-shard.sh: the CLI container's program. */
  readonly script: string;
  readonly kubernetes: string;
  readonly cloudRun: string;
}

/** Where each template lives, from the repository root. */
export const TEMPLATE_FILES: Readonly<Record<keyof Templates, string>> = {
  config: "deploy/cloudquery.yml",
  script: "deploy/sync-shard.sh",
  kubernetes: "deploy/kubernetes/indexed-job.yaml",
  cloudRun: "deploy/cloud-run/job.yaml",
};

/** A bad input or template; the message names the key (or the template) and the value. */
export class DeployInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployInputError";
  }
}

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v));
const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function refuse(key: string, expected: string, value: unknown): never {
  throw new DeployInputError(`${key} (${flag(key)}) must be ${expected}, got ${show(value)}`);
}

const PINNED_EXPECTED = "pinned by digest, <repository>@sha256:<64 hex>, without a tag";

/** `<repository>@sha256:<64 hex>`: the lib/rules.ts image reference, with a digest and no tag. */
function pinnedImage(key: string, value: unknown): string {
  if (typeof value !== "string" || !RULES.imageRef.test(value)) refuse(key, PINNED_EXPECTED, value);
  const at = value.indexOf("@");
  const repository = value.slice(0, at);
  const tagged = repository.slice(repository.lastIndexOf("/") + 1).includes(":");
  if (at < 0 || tagged) refuse(key, PINNED_EXPECTED, value);
  return value;
}

/** M: an integer from 1 to MAX_SHARDS. */
function shardCount(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_SHARDS) {
    refuse("shards", `an integer from 1 to ${MAX_SHARDS}`, value);
  }
  return value;
}

// The plugin's own rules (plugin/internal/spec/spec.go, reBucket and reRegion; the test compares).
export const S3_BUCKET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;
export const S3_REGION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
// The plugin's prefix rules (no leading "/", no "//", no glob), in characters that need no quoting
// in YAML or a shell ("=" for Hive-style partitions).
const PATH_PREFIX_RE = /^(?!\/)(?!.*\/\/)[A-Za-z0-9._=+/-]*$/;
const ROLE_ARN_RE = /^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;
const VERSION_RE = /^v(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$/;
const SA_DOMAIN = ".iam.gserviceaccount.com";

function matching(key: string, value: unknown, re: RegExp, expected: string): string {
  if (typeof value !== "string" || !re.test(value)) refuse(key, expected, value);
  return value;
}

function serviceAccountEmail(value: unknown): string {
  const expected = `a service account email, <name>@<project>${SA_DOMAIN}`;
  if (typeof value !== "string" || !value.endsWith(SA_DOMAIN)) refuse("serviceAccount", expected, value);
  const [name, project, ...rest] = value.slice(0, -SA_DOMAIN.length).split("@");
  if (rest.length > 0 || !RULES.serviceAccountId.test(name) || !RULES.gcpProject.test(project ?? "")) {
    refuse("serviceAccount", expected, value);
  }
  return value;
}

/** The values every template shares, from checked inputs. */
function sharedValues(input: ShardsInput): Record<string, string> {
  return {
    PLUGIN_IMAGE: pinnedImage("pluginImage", input.pluginImage),
    CLI_IMAGE: pinnedImage("cliImage", input.cliImage),
    SHARDS: String(shardCount(input.shards)),
    PLUGIN_ADDRESS,
    AWS_TOKEN_AUDIENCE,
    AWS_ROLE_ARN: matching(
      "awsRoleArn",
      input.awsRoleArn,
      ROLE_ARN_RE,
      "an IAM role ARN, arn:aws:iam::<12 digits>:role/<name>",
    ),
  };
}

function configValues(input: ShardsInput): Record<string, string> {
  return {
    PLUGIN_ADDRESS,
    BUCKET: matching("bucket", input.bucket, S3_BUCKET_RE, "an S3 bucket name (not a URL)"),
    REGION: matching("region", input.region, S3_REGION_RE, "a region such as us-east-1"),
    PATH_PREFIX: matching(
      "pathPrefix",
      input.pathPrefix ?? "",
      PATH_PREFIX_RE,
      'a key prefix such as exports/daily: letters, digits, ". _ = + - /", not starting with "/", no "//"',
    ),
    POSTGRESQL_VERSION: matching(
      "postgresqlVersion",
      input.postgresqlVersion,
      VERSION_RE,
      "a release of cloudquery/postgresql such as v8.0.0",
    ),
  };
}

const PLACEHOLDER = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;

/**
 * Fills the `{{NAME}}` placeholders of `template` (named `name` in errors) from `values`. Throws on
 * an unknown placeholder, a value the template never uses, a value of several lines that does not
 * stand alone on its line, and braces left over after filling.
 */
export function render(template: string, values: Readonly<Record<string, string>>, name: string): string {
  const used = new Set<string>();
  const lines = template.split("\n").flatMap((line, i) => {
    const where = `${name} line ${i + 1}`;
    const alone = /^(\s*)\{\{([A-Z][A-Z0-9_]*)\}\}\s*$/.exec(line);
    if (alone !== null && values[alone[2]]?.includes("\n")) {
      used.add(alone[2]);
      const indent = alone[1];
      return values[alone[2]]
        .replace(/\n$/, "")
        .split("\n")
        .map((l) => (l === "" ? "" : indent + l));
    }
    return [
      line.replace(PLACEHOLDER, (_, key: string) => {
        const value = values[key];
        if (value === undefined) {
          throw new DeployInputError(
            `${where}: unknown placeholder {{${key}}} (known: ${Object.keys(values).join(", ")})`,
          );
        }
        if (value.includes("\n")) {
          throw new DeployInputError(
            `${where}: {{${key}}} has several lines, so it must stand alone on its line`,
          );
        }
        used.add(key);
        return value;
      }),
    ];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw new DeployInputError(
      `${name} never uses ${unused.map((k) => `{{${k}}}`).join(", ")}: it and tooling/deploy.ts disagree`,
    );
  }
  const leftover = lines.findIndex((l) => l.includes("{{") || l.includes("}}"));
  if (leftover >= 0) {
    throw new DeployInputError(
      `${name}: a placeholder is left after rendering: ${JSON.stringify(lines[leftover].trim())}`,
    );
  }
  return lines.join("\n");
}

function header(file: string, shards: number): string {
  return `# Rendered by tooling/deploy.ts from ${file} (M = ${shards}); edit the template, not this file.\n`;
}

function manifestValues(input: ShardsInput, templates: Templates): Record<string, string> {
  return {
    ...sharedValues(input),
    CLOUDQUERY_CONFIG: render(templates.config, configValues(input), TEMPLATE_FILES.config),
    SYNC_SHARD_SH: templates.script,
  };
}

/** The Kubernetes manifests (ServiceAccount, ConfigMap, Indexed Job) for `input`. */
export function renderKubernetes(input: ShardsInput, templates: Templates): string {
  const values = manifestValues(input, templates);
  return (
    header(TEMPLATE_FILES.kubernetes, input.shards) +
    render(templates.kubernetes, values, TEMPLATE_FILES.kubernetes)
  );
}

/** The Cloud Run job (for `gcloud run jobs replace`) for `input`. */
export function renderCloudRun(input: CloudRunInput, templates: Templates): string {
  const values = {
    ...manifestValues(input, templates),
    SERVICE_ACCOUNT: serviceAccountEmail(input.serviceAccount),
  };
  return (
    header(TEMPLATE_FILES.cloudRun, input.shards) +
    render(templates.cloudRun, values, TEMPLATE_FILES.cloudRun)
  );
}

/** Reads the templates from the repository at `root`. */
export function readTemplates(root: string = path.join(__dirname, "..")): Templates {
  const read = (file: string) => readFileSync(path.join(root, file), "utf8");
  return {
    config: read(TEMPLATE_FILES.config),
    script: read(TEMPLATE_FILES.script),
    kubernetes: read(TEMPLATE_FILES.kubernetes),
    cloudRun: read(TEMPLATE_FILES.cloudRun),
  };
}

const USAGE =
  "usage: npm run deploy:render -- kubernetes|cloud-run --plugin-image <repo>@sha256:<hex>\n" +
  "         --cli-image <repo>@sha256:<hex> --shards M --bucket NAME --region REGION [--path-prefix P]\n" +
  "         --aws-role-arn ARN --postgresql-version vX.Y.Z [--service-account EMAIL (cloud-run)]";

/** The command line: the platform, then one flag per input. Returns the manifest text. */
export function renderCommand(argv: readonly string[], templates: Templates): string {
  const options = {
    "plugin-image": { type: "string" },
    "cli-image": { type: "string" },
    shards: { type: "string" },
    bucket: { type: "string" },
    region: { type: "string" },
    "path-prefix": { type: "string" },
    "aws-role-arn": { type: "string" },
    "postgresql-version": { type: "string" },
    "service-account": { type: "string" },
  } as const;
  const parse = () => {
    try {
      return parseArgs({ args: [...argv], options, allowPositionals: true });
    } catch (err) {
      throw new DeployInputError(`${(err as Error).message}\n${USAGE}`);
    }
  };
  const { values: v, positionals } = parse();
  // A decimal string becomes a number; anything else stays a string for the check to show.
  const shards = /^-?[0-9]+(?:\.[0-9]+)?$/.test(v.shards ?? "") ? Number(v.shards) : v.shards;
  const input = {
    pluginImage: v["plugin-image"],
    cliImage: v["cli-image"],
    shards,
    bucket: v.bucket,
    region: v.region,
    pathPrefix: v["path-prefix"],
    awsRoleArn: v["aws-role-arn"],
    postgresqlVersion: v["postgresql-version"],
    serviceAccount: v["service-account"],
  } as CloudRunInput; // every field is checked by the renderer
  const [platform, ...extra] = positionals;
  if (extra.length > 0) throw new DeployInputError(`unexpected arguments ${show(extra.join(" "))}\n${USAGE}`);
  if (platform === "kubernetes") {
    if (input.serviceAccount !== undefined) {
      throw new DeployInputError(
        "--service-account is for cloud-run; Kubernetes uses the ServiceAccount it creates",
      );
    }
    return renderKubernetes(input, templates);
  }
  if (platform === "cloud-run") return renderCloudRun(input, templates);
  throw new DeployInputError(`the platform must be kubernetes or cloud-run, got ${show(platform)}\n${USAGE}`);
}

if (require.main === module) {
  try {
    process.stdout.write(renderCommand(process.argv.slice(2), readTemplates()));
  } catch (err) {
    process.stderr.write(`deploy:render: ${(err as Error).message}\n`);
    process.exitCode = err instanceof DeployInputError ? 2 : 1;
  }
}
