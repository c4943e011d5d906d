// deploy/: M shards of a sync as a Kubernetes Indexed Job and as a Cloud Run job, rendered by
// tooling/deploy.ts. Each manifest is rendered and parsed, then checked for what a wrong one would
// break: the shard each task runs (the CLI container's own script is run, with stub binaries, for
// every index), M wherever it appears, the digest pin, no key material, the plugin's address, the
// identity wiring, the configuration; bad inputs are refused naming the key.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import * as yaml from "js-yaml";

import {
  AWS_TOKEN_AUDIENCE,
  type CloudRunInput,
  DeployInputError,
  MAX_SHARDS,
  PLUGIN_ADDRESS,
  readTemplates,
  render,
  renderCloudRun,
  renderCommand,
  renderKubernetes,
  S3_BUCKET_RE,
  S3_REGION_RE,
} from "../tooling/deploy";

const ROOT = path.join(__dirname, "..");
const TEMPLATES = readTemplates();
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const PLUGIN_IMAGE = `ghcr.io/infobloxopen/cq-source-s3@${DIGEST}`;
const CLI_IMAGE = `ghcr.io/cloudquery/cloudquery@sha256:${"f".repeat(64)}`;

const INPUT: CloudRunInput = {
  pluginImage: PLUGIN_IMAGE,
  cliImage: CLI_IMAGE,
  shards: 3,
  bucket: "my-data-lake",
  region: "eu-west-1",
  pathPrefix: "exports/daily",
  awsRoleArn: "arn:aws:iam::123456789012:role/cq-source-s3-reader",
  postgresqlVersion: "v8.0.0",
  serviceAccount: "cq-source-s3@acme-data.iam.gserviceaccount.com",
};

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), `${what} is an object`);
  return v as Obj;
}

function list(v: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(v), `${what} is a list`);
  return v;
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly configMapKeyRef?: { readonly name: string; readonly key: string };
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
  };
}

interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly restartPolicy?: string;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
}

/** What the checks read from one rendered manifest. */
interface Parsed {
  readonly text: string;
  readonly docs: Obj[];
  /** The pod's (task's) spec. */
  readonly pod: Obj;
  readonly containers: readonly Container[];
  readonly cli: Container;
  readonly plugin: Container;
  /** Every field that must be M, by name. */
  readonly counts: Readonly<Record<string, unknown>>;
  /** The CloudQuery configuration the CLI container gets (CLOUDQUERY_CONFIG). */
  readonly config: string;
}

function byName(containers: readonly Container[], name: string): Container {
  const c = containers.find((x) => x.name === name);
  assert.ok(c !== undefined, `a container named ${name}`);
  return c;
}

function env(c: Container, name: string): EnvVar {
  const e = c.env?.find((x) => x.name === name);
  assert.ok(e !== undefined, `${c.name} has ${name}`);
  return e;
}

interface Platform {
  readonly name: string;
  readonly render: (input: CloudRunInput) => string;
  readonly parse: (text: string) => Parsed;
  /** The environment the platform gives task `index` of `count`. */
  readonly taskEnv: (index: string, count: number) => Record<string, string>;
}

const PLATFORMS: readonly Platform[] = [
  {
    name: "Kubernetes Indexed Job",
    render: (input) => renderKubernetes(input, TEMPLATES),
    parse(text) {
      const docs = yaml.loadAll(text).map((d, i) => obj(d, `document ${i}`));
      const job = docs.find((d) => d.kind === "Job");
      assert.ok(job !== undefined, "a Job");
      const spec = obj(job.spec, "Job.spec");
      const pod = obj(obj(spec.template, "Job.spec.template").spec, "pod spec");
      const containers = [
        ...list(pod.initContainers, "initContainers"),
        ...list(pod.containers, "containers"),
      ] as Container[];
      const cli = byName(containers, "cloudquery");
      const ref = env(cli, "CLOUDQUERY_CONFIG").valueFrom?.configMapKeyRef;
      assert.ok(ref !== undefined, "CLOUDQUERY_CONFIG comes from a ConfigMap");
      const cm = docs.find((d) => d.kind === "ConfigMap" && obj(d.metadata, "metadata").name === ref.name);
      assert.ok(cm !== undefined, `the ConfigMap ${ref.name} is in the manifest`);
      const config = obj(cm.data, "ConfigMap.data")[ref.key];
      assert.equal(typeof config, "string", `ConfigMap ${ref.name} has ${ref.key}`);
      return {
        text,
        docs,
        pod,
        containers,
        cli,
        plugin: byName(containers, "plugin"),
        counts: { completions: spec.completions, parallelism: spec.parallelism },
        config: config as string,
      };
    },
    taskEnv: (index) => ({ JOB_COMPLETION_INDEX: index }),
  },
  {
    name: "Cloud Run job",
    render: (input) => renderCloudRun(input, TEMPLATES),
    parse(text) {
      const docs = yaml.loadAll(text).map((d, i) => obj(d, `document ${i}`));
      assert.equal(docs.length, 1, "one document");
      const job = docs[0];
      assert.equal(job.apiVersion, "run.googleapis.com/v1");
      assert.equal(job.kind, "Job");
      const execution = obj(obj(obj(job.spec, "Job.spec").template, "execution template").spec, "execution");
      const pod = obj(obj(execution.template, "task template").spec, "task spec");
      const containers = list(pod.containers, "containers") as Container[];
      const cli = byName(containers, "cloudquery");
      const config = env(cli, "CLOUDQUERY_CONFIG").value;
      assert.equal(typeof config, "string", "CLOUDQUERY_CONFIG is set in the job");
      return {
        text,
        docs,
        pod,
        containers,
        cli,
        plugin: byName(containers, "plugin"),
        counts: { taskCount: execution.taskCount, parallelism: execution.parallelism },
        config: config as string,
      };
    },
    taskEnv: (index, count) => ({ CLOUD_RUN_TASK_INDEX: index, CLOUD_RUN_TASK_COUNT: String(count) }),
  },
];

/** The `--address` the plugin container serves on. */
function servedAddress(plugin: Container): string {
  const args = plugin.args ?? [];
  assert.equal(args[0], "serve", "the plugin runs `serve`");
  const i = args.indexOf("--address");
  assert.ok(i > 0 && i + 1 < args.length, "the plugin is given --address");
  return args[i + 1];
}

function configDocs(config: string): Obj[] {
  return yaml.loadAll(config).map((d, i) => obj(d, `config document ${i}`));
}

function sourceSpec(config: string): Obj {
  const source = configDocs(config).find((d) => d.kind === "source");
  assert.ok(source !== undefined, "a source in the configuration");
  return obj(source.spec, "source.spec");
}

// Stand-ins for what the CLI image and the platform provide, driven by environment variables.
const STUBS: Readonly<Record<string, string>> = {
  // Refuses the first NC_FAILURES connections, then accepts.
  nc: `n=$(cat "$STUB_DIR/nc.count" 2>/dev/null || echo 0)
echo $((n + 1)) >"$STUB_DIR/nc.count"
echo "$*" >"$STUB_DIR/nc.args"
[ "$n" -ge "\${NC_FAILURES:-0}" ]`,
  // The wait loop's pause returns at once; the token refresher's ends its loop.
  sleep: `[ "$1" = 1 ]`,
  // The metadata server: a token naming the URL it was asked for.
  wget: `out=
url=
while [ $# -gt 0 ]; do
  case "$1" in
    -O) out=$2; shift 2 ;;
    -T) shift 2 ;;
    --header) echo "$2" >>"$STUB_DIR/wget.headers"; shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
printf 'token-for %s' "$url" >"$out"`,
  // The CLI: records its arguments and the configuration file, exits with CQ_EXIT.
  cloudquery: `printf '%s\\n' "$@" >"$STUB_DIR/cq.args"
cat "$2" >"$STUB_DIR/cq.config"
exit "\${CQ_EXIT:-0}"`,
};

interface ShardRun {
  readonly status: number | null;
  readonly stderr: string;
  /** The CLI's arguments; undefined when it was not started. */
  readonly cliArgs?: readonly string[];
  readonly cliConfig?: string;
  readonly ncCalls: number;
  readonly ncArgs?: string;
  readonly token?: string;
  readonly tokenHeaders?: string;
}

/** Runs the CLI container's program as the container would, with the platform's `taskEnv`. */
function runShard(p: Parsed, taskEnv: Record<string, string>, extra: Record<string, string> = {}): ShardRun {
  const dir = mkdtempSync(path.join(tmpdir(), "deploy-test-"));
  try {
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    assert.deepEqual(p.cli.command, ["/bin/sh", "-c"], "the CLI container runs its program with sh -c");
    const program = p.cli.args?.[0] ?? "";
    assert.ok(program.includes("/app/cloudquery"), "the program starts the CLI image's binary");
    const containerEnv: Record<string, string> = {};
    for (const e of p.cli.env ?? []) {
      if (e.value !== undefined) containerEnv[e.name] = e.value;
      else if (e.valueFrom?.configMapKeyRef !== undefined) containerEnv[e.name] = p.config;
      else containerEnv[e.name] = `secret ${e.valueFrom?.secretKeyRef?.name ?? "?"}`;
    }
    const tokenFile = path.join(dir, "token");
    if (containerEnv.AWS_WEB_IDENTITY_TOKEN_FILE !== undefined)
      containerEnv.AWS_WEB_IDENTITY_TOKEN_FILE = tokenFile;
    const r = spawnSync(
      "/bin/sh",
      ["-c", program.replaceAll("/app/cloudquery", path.join(bin, "cloudquery"))],
      {
        env: {
          ...containerEnv,
          ...taskEnv,
          ...extra,
          PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
          TMPDIR: dir,
          STUB_DIR: dir,
        },
        encoding: "utf8",
        timeout: 15_000,
      },
    );
    const read = (f: string) =>
      existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), "utf8") : undefined;
    return {
      status: r.status,
      stderr: r.stderr,
      cliArgs: read("cq.args")?.trimEnd().split("\n"),
      cliConfig: read("cq.config"),
      ncCalls: Number(read("nc.count") ?? 0),
      ncArgs: read("nc.args")?.trim(),
      token: read("token"),
      tokenHeaders: read("wget.headers"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The value after `--shard` in the CLI's arguments. */
function shardArg(run: ShardRun): string | undefined {
  const i = run.cliArgs?.indexOf("--shard") ?? -1;
  return i < 0 ? undefined : run.cliArgs?.[i + 1];
}

for (const platform of PLATFORMS) {
  describe(`deploy/ as a ${platform.name} (tooling/deploy.ts)`, () => {
    const parsed = platform.parse(platform.render(INPUT));

    for (const m of [1, 2, 5, MAX_SHARDS]) {
      it(`sets every count to M = ${m}`, () => {
        const p = platform.parse(platform.render({ ...INPUT, shards: m }));
        for (const [field, value] of Object.entries(p.counts)) assert.equal(value, m, field);
        assert.equal(env(p.cli, "SHARDS").value, String(m), "the CLI's SHARDS");
      });
    }

    for (const m of [1, 3]) {
      it(`runs shard index + 1 of ${m} in task index 0..${m - 1}, each once`, () => {
        const p = platform.parse(platform.render({ ...INPUT, shards: m }));
        const shards = Array.from({ length: m }, (_, i) => {
          const run = runShard(p, platform.taskEnv(String(i), m));
          assert.equal(run.status, 0, run.stderr);
          assert.equal(run.cliArgs?.[0], "sync");
          return shardArg(run);
        });
        assert.deepEqual(
          shards,
          Array.from({ length: m }, (_, i) => `${i + 1}/${m}`),
        );
      });
    }

    it("gives the CLI the rendered configuration and starts it only once the plugin listens", () => {
      const run = runShard(parsed, platform.taskEnv("0", 3), { NC_FAILURES: "3" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.ncCalls, 4, "three refused connections, then the sync");
      const [host, port] = PLUGIN_ADDRESS.split(":");
      assert.match(run.ncArgs ?? "", new RegExp(` ${host} ${port}$`));
      assert.equal(run.cliConfig?.trimEnd(), parsed.config.trimEnd());
    });

    it("returns the CLI's exit status", () => {
      const run = runShard(parsed, platform.taskEnv("1", 3), { CQ_EXIT: "3" });
      assert.equal(run.status, 3, run.stderr);
    });

    const refusals: [string, Record<string, string>, RegExp][] = [
      [
        "an index past the last shard",
        platform.taskEnv("3", 3),
        /task index 3 is not below the task count 3/,
      ],
      ["a negative index", platform.taskEnv("-1", 3), /task index '-1' is not a number/],
      ["an index with a leading zero", platform.taskEnv("01", 3), /task index '01' is not a number/],
      ["no index at all", {}, /no task index/],
    ];
    for (const [what, taskEnv, message] of refusals) {
      it(`refuses ${what} without starting the CLI`, () => {
        const run = runShard(parsed, taskEnv);
        assert.equal(run.status, 2, run.stderr);
        assert.match(run.stderr, message);
        assert.equal(run.cliArgs, undefined);
      });
    }

    it("gives up when the plugin never listens", () => {
      const run = runShard(parsed, platform.taskEnv("0", 3), { NC_FAILURES: "1000" });
      assert.equal(run.status, 2);
      assert.match(
        run.stderr,
        new RegExp(`not listening on ${PLUGIN_ADDRESS.replaceAll(".", "\\.")} after 60 s`),
      );
      assert.equal(run.ncCalls, 60);
      assert.equal(run.cliArgs, undefined);
    });

    it("carries deploy/sync-shard.sh as it is, free of what Kubernetes would rewrite in args", () => {
      assert.equal(parsed.cli.args?.[0], TEMPLATES.script);
      // Kubernetes turns a doubled dollar into one and $(NAME) into NAME's value.
      assert.doesNotMatch(TEMPLATES.script, /\$\$|\$\([^(]/);
    });

    it("pins every image by digest, the plugin to the given one", () => {
      const images = JSON.stringify(parsed.docs).match(/"image":"[^"]*"/g) ?? [];
      assert.equal(images.length, parsed.containers.length, "every image is a container's");
      for (const c of parsed.containers) {
        assert.match(
          c.image,
          /^[^:@]+(?::[0-9]+)?(?:\/[^:@]+)+@sha256:[0-9a-f]{64}$/,
          `${c.name}: digest, no tag`,
        );
      }
      assert.equal(parsed.plugin.image, PLUGIN_IMAGE);
      assert.equal(parsed.cli.image, CLI_IMAGE);
      assert.deepEqual(
        parsed.containers.filter((c) => c.image.includes("cq-source-s3")).map((c) => c.name),
        ["plugin"],
      );
    });

    it("carries no key material: no keys in the spec, no Secret, secrets only by reference", () => {
      const lower = parsed.text.toLowerCase();
      for (const word of [
        "aws_secret_access_key",
        "aws_access_key_id",
        "secret_access_key",
        "access_key_id",
        "session_token",
        "private key",
        "-----begin",
      ]) {
        assert.ok(!lower.includes(word), `no ${word}`);
      }
      assert.deepEqual(
        parsed.docs.filter((d) => d.kind === "Secret"),
        [],
      );
      assert.deepEqual(Object.keys(sourceSpec(parsed.config).spec as Obj).sort(), [
        "bucket",
        "incremental",
        "path_prefix",
        "region",
      ]);
      for (const c of parsed.containers) {
        for (const e of c.env ?? []) {
          if (/KEY|SECRET|PASSWORD|CONNECTION/.test(e.name)) {
            assert.equal(e.value, undefined, `${c.name} ${e.name} has no literal value`);
            assert.ok(e.valueFrom?.secretKeyRef !== undefined, `${c.name} ${e.name} comes from a secret`);
          }
        }
      }
    });

    it("serves the plugin on loopback at the address the CLI's configuration dials", () => {
      const address = servedAddress(parsed.plugin);
      const source = sourceSpec(parsed.config);
      assert.equal(source.registry, "grpc");
      assert.equal(source.path, address, "the configuration's grpc path");
      assert.equal(env(parsed.cli, "PLUGIN_ADDRESS").value, address, "the address the CLI waits for");
      assert.match(address, /^127\.0\.0\.1:[0-9]+$/, "loopback only");
    });

    it("configures the given bucket, an incremental source and one shared state backend", () => {
      const docs = configDocs(parsed.config);
      const source = sourceSpec(parsed.config);
      assert.deepEqual(source.spec, {
        bucket: INPUT.bucket,
        region: INPUT.region,
        path_prefix: INPUT.pathPrefix,
        incremental: true,
      });
      const destination = docs.find((d) => d.kind === "destination");
      assert.ok(destination !== undefined, "a destination");
      const dest = obj(destination.spec, "destination.spec");
      assert.equal(dest.version, INPUT.postgresqlVersion);
      assert.deepEqual(source.destinations, [dest.name]);
      assert.equal(
        obj(source.backend_options, "backend_options").connection,
        `@@plugins.${String(dest.name)}.connection`,
      );
    });

    it("gives the plugin the role and a web identity token file it shares with nothing else", () => {
      assert.equal(env(parsed.plugin, "AWS_ROLE_ARN").value, INPUT.awsRoleArn);
      const tokenFile = env(parsed.plugin, "AWS_WEB_IDENTITY_TOKEN_FILE").value ?? "";
      const mount = parsed.plugin.volumeMounts?.find((m) => tokenFile.startsWith(`${m.mountPath}/`));
      assert.ok(mount !== undefined, "the token file is on a volume the plugin mounts");
      const volume = list(parsed.pod.volumes, "volumes")
        .map((v) => obj(v, "volume"))
        .find((v) => v.name === mount.name);
      assert.ok(volume !== undefined, `the volume ${mount.name}`);
      if (platform.name.startsWith("Kubernetes")) {
        const sources = list(obj(volume.projected, "projected volume").sources, "sources");
        assert.deepEqual(sources, [
          {
            serviceAccountToken: {
              audience: AWS_TOKEN_AUDIENCE,
              expirationSeconds: 3600,
              path: path.posix.relative(mount.mountPath, tokenFile),
            },
          },
        ]);
      } else {
        assert.equal(parsed.pod.serviceAccountName, INPUT.serviceAccount);
        // The CLI container writes the token there, for the audience the role trusts.
        assert.equal(env(parsed.cli, "AWS_WEB_IDENTITY_TOKEN_FILE").value, tokenFile);
        assert.equal(env(parsed.cli, "AWS_ID_TOKEN_AUDIENCE").value, AWS_TOKEN_AUDIENCE);
        assert.ok(
          parsed.cli.volumeMounts?.some((m) => m.name === mount.name && m.mountPath === mount.mountPath),
        );
        const run = runShard(parsed, platform.taskEnv("0", 3));
        assert.equal(run.status, 0, run.stderr);
        assert.match(
          run.token ?? "",
          /^token-for http:\/\/metadata\.google\.internal\/.*\/identity\?audience=/,
        );
        assert.ok(run.token?.endsWith(`audience=${AWS_TOKEN_AUDIENCE}`), run.token);
        assert.equal(run.tokenHeaders?.trim(), "Metadata-Flavor: Google");
      }
    });

    if (platform.name.startsWith("Kubernetes")) {
      it("is an Indexed Job whose plugin is a native sidecar, run as its own ServiceAccount", () => {
        const job = parsed.docs.find((d) => d.kind === "Job");
        assert.equal(obj(job?.spec, "Job.spec").completionMode, "Indexed");
        assert.equal(parsed.pod.restartPolicy, "Never");
        assert.ok(list(parsed.pod.initContainers, "initContainers").includes(parsed.plugin));
        assert.equal(parsed.plugin.restartPolicy, "Always");
        const sa = parsed.docs.find((d) => d.kind === "ServiceAccount");
        assert.ok(sa !== undefined, "a ServiceAccount");
        assert.equal(parsed.pod.serviceAccountName, obj(sa.metadata, "metadata").name);
        assert.equal(parsed.pod.automountServiceAccountToken, false);
      });
    } else {
      it("refuses an execution with another task count than the rendered M", () => {
        const run = runShard(parsed, { CLOUD_RUN_TASK_INDEX: "0", CLOUD_RUN_TASK_COUNT: "4" });
        assert.equal(run.status, 2);
        assert.match(run.stderr, /4 tasks but the manifest was rendered for 3 shards/);
        assert.equal(run.cliArgs, undefined);
      });
    }
  });
}

describe("tooling/deploy.ts refuses bad inputs, naming the key", () => {
  const cases: [keyof CloudRunInput, unknown][] = [
    ["pluginImage", "ghcr.io/infobloxopen/cq-source-s3:v1.2.3"],
    ["pluginImage", `ghcr.io/infobloxopen/cq-source-s3:v1.2.3@${DIGEST}`],
    ["pluginImage", "ghcr.io/infobloxopen/cq-source-s3@sha256:0123"],
    ["pluginImage", "ghcr.io/infobloxopen/cq-source-s3"],
    ["pluginImage", undefined],
    ["cliImage", "ghcr.io/cloudquery/cloudquery:6.34.2"],
    ["shards", 0],
    ["shards", -2],
    ["shards", 2.5],
    ["shards", Number.NaN],
    ["shards", MAX_SHARDS + 1],
    ["shards", "3"],
    ["bucket", "s3://my-data-lake"],
    ["region", "EU West"],
    ["pathPrefix", "/exports"],
    ["pathPrefix", "exports//daily"],
    ["pathPrefix", "exports/*"],
    ["pathPrefix", 'exports"'],
    ["awsRoleArn", "arn:aws:iam::1234:role/reader"],
    ["postgresqlVersion", "latest"],
  ];
  for (const [key, value] of cases) {
    for (const [platform, renderer] of [
      ["Kubernetes", renderKubernetes],
      ["Cloud Run", renderCloudRun],
    ] as const) {
      it(`${platform}: ${key} = ${typeof value === "string" ? JSON.stringify(value) : String(value)}`, () => {
        const input = { ...INPUT, [key]: value } as CloudRunInput;
        assert.throws(
          () => renderer(input, TEMPLATES),
          (err: unknown) =>
            err instanceof DeployInputError &&
            err.message.startsWith(`${key} (--`) &&
            err.message.includes(typeof value === "string" ? JSON.stringify(value) : String(value)),
        );
      });
    }
  }
  for (const value of [
    "cq-source-s3",
    "cq-source-s3@acme-data.iam.gserviceaccount.com.example.org",
    "CQ@acme-data.iam.gserviceaccount.com",
  ]) {
    it(`Cloud Run: serviceAccount = ${JSON.stringify(value)}`, () => {
      assert.throws(() => renderCloudRun({ ...INPUT, serviceAccount: value }, TEMPLATES), {
        name: "DeployInputError",
        message: new RegExp(
          `^serviceAccount \\(--service-account\\) .*got ${JSON.stringify(value).replaceAll(".", "\\.")}$`,
        ),
      });
    });
  }
});

describe("tooling/deploy.ts render(): placeholders", () => {
  it("fills placeholders, and a value of several lines with its line's indentation", () => {
    assert.equal(
      render("a: {{ONE}}\nb: |\n  {{MANY}}\nc: 1", { ONE: "x", MANY: "l1\n  l2\n\nl3\n" }, "t"),
      "a: x\nb: |\n  l1\n    l2\n\n  l3\nc: 1",
    );
  });
  const refusals: [string, string, Record<string, string>, RegExp][] = [
    ["an unknown placeholder", "a: {{NOPE}}", {}, /^t line 1: unknown placeholder \{\{NOPE\}\}/],
    ["a value the template never uses", "a: 1", { ONE: "x" }, /^t never uses \{\{ONE\}\}/],
    [
      "a placeholder that is not one",
      "a: {{ one }}",
      {},
      /^t: a placeholder is left after rendering: "a: \{\{ one \}\}"/,
    ],
    ["braces left by a value", "a: {{ONE}}", { ONE: "{{" }, /left after rendering/],
    [
      "several lines inside a line",
      "a: {{ONE}}",
      { ONE: "x\ny" },
      /^t line 1: \{\{ONE\}\} has several lines/,
    ],
  ];
  for (const [what, template, values, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(() => render(template, values, "t"), { name: "DeployInputError", message });
    });
  }
});

describe("tooling/deploy.ts agrees with the plugin", () => {
  const goConst = (file: string, re: RegExp): string => {
    const m = re.exec(readFileSync(path.join(ROOT, "plugin", file), "utf8"));
    assert.ok(m !== null, `${file} matches ${String(re)}`);
    return m[1];
  };
  it("caps M where the plugin does (shard.MaxTotal)", () => {
    assert.equal(
      Number(goConst("internal/shard/shard.go", /\bMaxTotal\s*=\s*([0-9_]+)/).replaceAll("_", "")),
      MAX_SHARDS,
    );
  });
  it("checks bucket and region with the spec's own patterns", () => {
    assert.equal(
      goConst("internal/spec/spec.go", /reBucket\s*=\s*regexp\.MustCompile\(`([^`]+)`\)/),
      S3_BUCKET_RE.source,
    );
    assert.equal(
      goConst("internal/spec/spec.go", /reRegion\s*=\s*regexp\.MustCompile\(`([^`]+)`\)/),
      S3_REGION_RE.source,
    );
  });
});

describe("npm run deploy:render (renderCommand)", () => {
  const flags = [
    ...["--plugin-image", PLUGIN_IMAGE, "--cli-image", CLI_IMAGE, "--shards", "3", "--bucket", INPUT.bucket],
    ...["--region", INPUT.region, "--path-prefix", "exports/daily", "--aws-role-arn", INPUT.awsRoleArn],
    ...["--postgresql-version", INPUT.postgresqlVersion],
  ];
  it("renders what the functions render, from flags", () => {
    assert.equal(renderCommand(["kubernetes", ...flags], TEMPLATES), renderKubernetes(INPUT, TEMPLATES));
    assert.equal(
      renderCommand(["cloud-run", ...flags, "--service-account", INPUT.serviceAccount], TEMPLATES),
      renderCloudRun(INPUT, TEMPLATES),
    );
  });
  const refusals: [string, string[], RegExp][] = [
    [
      "an unknown platform",
      ["nomad", ...flags],
      /^the platform must be kubernetes or cloud-run, got "nomad"/,
    ],
    [
      "shards that are not a number",
      ["kubernetes", ...flags, "--shards", "three"],
      /^shards \(--shards\) .*got "three"$/,
    ],
    ["a fractional M", ["kubernetes", ...flags, "--shards", "2.5"], /^shards \(--shards\) .*got 2\.5$/],
    [
      "a service account on Kubernetes",
      ["kubernetes", ...flags, "--service-account", INPUT.serviceAccount],
      /for cloud-run/,
    ],
    ["an unknown flag", ["kubernetes", ...flags, "--tag", "v1"], /--tag/],
  ];
  for (const [what, argv, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(() => renderCommand(argv, TEMPLATES), { name: "DeployInputError", message });
    });
  }
});
