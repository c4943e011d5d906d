// What the workflows install, restore and pull, checked against the one place each fact is
// written (docs/release.md, "Release-day decisions"):
//   - tools: every action that installs a tool the rehearsal builds or pins (cosign, the Pulumi
//     CLI, BuildKit, QEMU's binfmt, syft) is given the value of toolchain/versions.env, as a
//     literal equal to it or, as the workflows do, through scripts/release/tool-versions.sh's
//     outputs; an action left to its own default is refused (cosign-installer's default is not the
//     cosign the rehearsal runs). A `go install <tool module>@<version>` in a `run:` block likewise;
//   - caches: no GitHub Actions cache anywhere: every cache switch of the setup actions is off,
//     and nothing restores a cache or exposes the cache service (actions/cache,
//     ghaction-github-runtime, a `type=gha` BuildKit cache);
//   - Docker Hub: a job that pulls images (QEMU's installer, a buildx builder) first routes Docker
//     Hub through the mirror (scripts/release/docker-hub-mirror.sh) and gives BuildKit that
//     script's buildkitd.toml; every image is pinned by digest; no job container or service
//     (pulled before any step runs).
// Pure: test/toolVersions.test.ts reads the files and feeds them here, with wrong inputs too.
import * as yaml from "js-yaml";

/** toolchain/versions.env: KEY → value (quotes removed, as bash reads it). */
export type VersionsEnv = Readonly<Record<string, string>>;

/** Parses versions.env (`KEY=value` lines, `#` comments); throws on any other line. */
export function parseVersionsEnv(text: string): VersionsEnv {
  const out: Record<string, string> = {};
  for (const [i, line] of text.split("\n").entries()) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(t);
    if (m === null) throw new Error(`versions.env line ${i + 1} is not KEY=value: ${JSON.stringify(line)}`);
    const quoted = /^"([^"$`\\]*)"$/.exec(m[2]) ?? /^'([^']*)'$/.exec(m[2]);
    if (quoted === null && /[\s"'$`\\;&|<>()]/.test(m[2])) {
      throw new Error(`versions.env line ${i + 1}: quote ${m[1]}'s value (bash would read it otherwise)`);
    }
    out[m[1]] = quoted === null ? m[2] : quoted[1];
  }
  return out;
}

const DIGEST_PINNED = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** versions.env keys that are images: written nowhere else in a workflow. */
export const PINNED_IMAGES = ["BUILDKIT_IMAGE", "BINFMT_IMAGE"] as const;

function isPinnedImage(key: string): boolean {
  return (PINNED_IMAGES as readonly string[]).includes(key);
}

/** Checks of versions.env on its own: the images digest-pinned, BuildKit's image of BUILDKIT_VERSION. */
export function checkVersions(versions: VersionsEnv): string[] {
  const problems: string[] = [];
  for (const key of PINNED_IMAGES) {
    const v = versions[key];
    if (v === undefined) problems.push(`toolchain/versions.env has no ${key}`);
    else if (!DIGEST_PINNED.test(v))
      problems.push(`toolchain/versions.env: ${key} ${v} is not pinned by digest`);
  }
  const image = versions.BUILDKIT_IMAGE ?? "";
  const tag = /:([^:/@]+)@/.exec(image)?.[1];
  if (image !== "" && tag !== versions.BUILDKIT_VERSION) {
    problems.push(
      `toolchain/versions.env: BUILDKIT_IMAGE is tag ${tag ?? "(none)"}, but the rehearsal builds ` +
        `BUILDKIT_VERSION=${versions.BUILDKIT_VERSION ?? "(unset)"}`,
    );
  }
  if (!/^[a-z0-9.-]+$/.test(versions.DOCKER_HUB_MIRROR ?? "")) {
    problems.push(`toolchain/versions.env: DOCKER_HUB_MIRROR is not a host name`);
  }
  return problems;
}

/** An action input that chooses the version of a tool, and the versions.env key it must equal. */
export interface ToolInput {
  /** `owner/repo` of the action. */
  readonly action: string;
  readonly input: string;
  readonly key: string;
  /** For a list input (`driver-opts`): the option (`image`) whose value names the tool. */
  readonly option?: string;
}

/** Every installer the workflows use, or might: a new one belongs here. */
export const TOOL_INPUTS: readonly ToolInput[] = [
  { action: "sigstore/cosign-installer", input: "cosign-release", key: "COSIGN_VERSION" },
  { action: "pulumi/actions", input: "pulumi-version", key: "PULUMI_VERSION" },
  { action: "docker/setup-buildx-action", input: "driver-opts", key: "BUILDKIT_IMAGE", option: "image" },
  { action: "docker/setup-qemu-action", input: "image", key: "BINFMT_IMAGE" },
  { action: "anchore/sbom-action", input: "syft-version", key: "SYFT_VERSION" },
];

/** Go modules of the pinned tools (`go install <module>@<version>` in a `run:` block). */
export const TOOL_MODULES: readonly {
  readonly prefix: string;
  readonly key: string;
  readonly v?: boolean;
}[] = [
  { prefix: "github.com/sigstore/cosign/", key: "COSIGN_VERSION" },
  { prefix: "github.com/anchore/syft/", key: "SYFT_VERSION" },
  { prefix: "github.com/pulumi/pulumi/", key: "PULUMI_VERSION", v: true },
  { prefix: "github.com/pulumi/pulumi-docker-build/", key: "DOCKER_BUILD_VERSION", v: true },
  { prefix: "github.com/moby/buildkit/", key: "BUILDKIT_VERSION" },
  { prefix: "github.com/cloudquery/cloudquery/cli/", key: "CLOUDQUERY_CLI_VERSION" },
  { prefix: "github.com/rhysd/actionlint/", key: "ACTIONLINT_VERSION" },
];

/** Cache switches, and the value that turns each off (`absent`: the input must not be set). */
export const CACHE_INPUTS: readonly {
  readonly action: string;
  readonly input: string;
  readonly off: string;
}[] = [
  { action: "actions/setup-node", input: "package-manager-cache", off: "false" },
  { action: "actions/setup-node", input: "cache", off: "absent" },
  { action: "actions/setup-go", input: "cache", off: "false" },
  { action: "docker/setup-qemu-action", input: "cache-image", off: "false" },
  { action: "docker/setup-buildx-action", input: "cache-binary", off: "false" },
];

/** Actions that restore caches or expose the cache service to later steps (BuildKit's gha cache). */
export const CACHE_ACTIONS: readonly string[] = ["actions/cache", "crazy-max/ghaction-github-runtime"];

/** Actions that pull images with the runner's Docker daemon (and, for buildx, BuildKit's FROM). */
export const IMAGE_PULLING_ACTIONS: readonly string[] = [
  "docker/setup-qemu-action",
  "docker/setup-buildx-action",
];

/** The scripts a job runs to read the pins and to route Docker Hub through the mirror. */
export const VERSIONS_SCRIPT = "scripts/release/tool-versions.sh";
export const MIRROR_SCRIPT = "scripts/release/docker-hub-mirror.sh";

/** `docker.io/moby/buildkit:v1@sha256:…` → `moby/buildkit`. */
function repositoryOf(image: string): string {
  const name = image.split("@")[0].replace(/:[^:/]+$/, "");
  const parts = name.split("/");
  return parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.slice(1).join("/") : name;
}

/** Docker Hub's implicit host dropped: `docker.io/moby/buildkit:…` and `moby/buildkit:…` are one image. */
function withoutDockerIo(image: string): string {
  return image.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, "");
}

/** Every string value of a parsed YAML document (keys excluded). */
function strings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (typeof node === "object" && node !== null) return Object.values(node).flatMap(strings);
  return [];
}

/** One install the checker found: where, which tool, and the value it resolved to. */
export interface Install {
  readonly job: string;
  readonly action: string;
  readonly key: string;
  readonly value: string;
}

export interface WorkflowCheck {
  readonly problems: string[];
  readonly installs: Install[];
}

interface Step {
  readonly id?: string;
  readonly uses?: string;
  readonly run?: unknown;
  readonly with?: Record<string, unknown>;
}

interface Job {
  readonly steps?: Step[];
  readonly container?: unknown;
  readonly services?: unknown;
}

/** `owner/repo[/path]` of a `uses:`; undefined for local (`./`) and `docker://` uses. */
function actionOf(uses: string | undefined): string | undefined {
  if (uses === undefined || uses.startsWith("./") || uses.startsWith("docker://")) return undefined;
  return uses.split("@")[0];
}

/** Whether `action` (possibly `owner/repo/sub`) is `name` or one of its sub-actions. */
function isAction(action: string | undefined, name: string): boolean {
  return action !== undefined && (action === name || action.startsWith(`${name}/`));
}

function inputOf(step: Step, input: string): string | undefined {
  const v = step.with?.[input];
  return v === undefined || v === null ? undefined : String(v);
}

/** The ids of earlier steps (before index `before`) whose `run:` calls `script`. */
function stepsRunning(steps: readonly Step[], before: number, script: string): string[] {
  const re = new RegExp(`(^|[\\s/])${script.replaceAll(".", "\\.").replaceAll("/", "\\/")}\\b`);
  return steps
    .slice(0, before)
    .filter((s) => s.id !== undefined && re.test(String(s.run ?? "")))
    .map((s) => s.id as string);
}

/**
 * Resolves `${{ steps.<id>.outputs.<KEY> }}` of the versions step(s) `ids` to versions.env
 * values; returns the keys read too. Any other expression is a problem.
 */
function resolve(
  value: string,
  ids: readonly string[],
  versions: VersionsEnv,
): { value: string; keys: string[]; errors: string[] } {
  const keys: string[] = [];
  const errors: string[] = [];
  const out = value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (whole, expr: string) => {
    const m = /^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$/.exec(expr);
    if (m === null || !ids.includes(m[1])) {
      errors.push(`${whole} is not an output of an earlier \`bash ${VERSIONS_SCRIPT}\` step of the job`);
      return whole;
    }
    if (versions[m[2]] === undefined) {
      errors.push(`${whole}: toolchain/versions.env has no ${m[2]}`);
      return whole;
    }
    keys.push(m[2]);
    return versions[m[2]];
  });
  return { value: out, keys, errors };
}

/** `option=value` of a newline- or comma-separated list input (driver-opts). */
function pickOption(value: string, option: string): string | undefined {
  for (const part of value.split(/[\n,]/)) {
    const t = part.trim();
    if (t.startsWith(`${option}=`)) return t.slice(option.length + 1);
  }
  return undefined;
}

/** Checks one workflow (its YAML text) against versions.env; `file` names it in the messages. */
export function checkWorkflow(file: string, text: string, versions: VersionsEnv): WorkflowCheck {
  const problems: string[] = [];
  const installs: Install[] = [];
  /** Installer inputs checked above: the scan for images written out elsewhere skips them. */
  const checked = new Set<unknown>();
  const doc = yaml.load(text) as { jobs?: Record<string, Job> } | null;
  for (const [jobName, job] of Object.entries(doc?.jobs ?? {})) {
    const where = `${file}: job ${jobName}`;
    const steps = job.steps ?? [];
    if (job.container !== undefined || job.services !== undefined) {
      problems.push(
        `${where}: a job container or service is pulled before any step could route Docker Hub through ` +
          `the mirror; run it as a step instead`,
      );
    }
    steps.forEach((step, i) => {
      const action = actionOf(step.uses);
      const name = `${where}, step ${i + 1}${step.id === undefined ? "" : ` (${step.id})`}`;
      const versionSteps = stepsRunning(steps, i, VERSIONS_SCRIPT);

      // Tools installed by actions.
      for (const tool of TOOL_INPUTS.filter((t) => isAction(action, t.action))) {
        const want = versions[tool.key];
        const raw = inputOf(step, tool.input);
        const picked = raw === undefined || tool.option === undefined ? raw : pickOption(raw, tool.option);
        if (picked === undefined) {
          problems.push(
            `${name}: ${tool.action} without ${tool.input}${tool.option === undefined ? "" : ` ${tool.option}=`}: ` +
              `it installs its own default, not ${tool.key}=${want} of toolchain/versions.env`,
          );
          continue;
        }
        const r = resolve(picked, versionSteps, versions);
        problems.push(...r.errors.map((e) => `${name}: ${tool.action} ${tool.input}: ${e}`));
        for (const k of r.keys.filter((k) => k !== tool.key)) {
          problems.push(`${name}: ${tool.action} ${tool.input} reads ${k}, not ${tool.key}`);
        }
        const same = isPinnedImage(tool.key)
          ? withoutDockerIo(r.value) === withoutDockerIo(want)
          : r.value === want;
        if (r.errors.length === 0 && !same) {
          problems.push(
            `${name}: ${tool.action} ${tool.input} is ${r.value}, but toolchain/versions.env has ${tool.key}=${want}`,
          );
        }
        installs.push({ job: jobName, action: tool.action, key: tool.key, value: r.value });
        checked.add(step.with?.[tool.input]);
      }

      // Tools installed from Go modules in a run: block.
      for (const m of String(step.run ?? "").matchAll(
        /\bgo\s+(?:install|run|get)\s+(?:-\S+\s+)*([^\s@]+)@(\S+)/g,
      )) {
        const tool = TOOL_MODULES.find((t) => `${m[1]}/`.startsWith(t.prefix));
        if (tool === undefined) continue;
        const want = `${tool.v === true ? "v" : ""}${versions[tool.key]}`;
        const variable = /^\$\{?([A-Z][A-Z0-9_]*)\}?$/.exec(m[2].replace(/^"|"$/g, ""));
        if (variable !== null ? variable[1] !== tool.key : m[2] !== want) {
          problems.push(
            `${name}: go install ${m[1]}@${m[2]}, but toolchain/versions.env has ${tool.key} (${want})`,
          );
        }
        installs.push({ job: jobName, action: `go install ${m[1]}`, key: tool.key, value: m[2] });
      }

      // Caches.
      if (CACHE_ACTIONS.some((c) => isAction(action, c))) {
        problems.push(
          `${name}: ${action} restores a cache or exposes the cache service; no job uses a cache`,
        );
      }
      for (const c of CACHE_INPUTS.filter((c) => isAction(action, c.action))) {
        const v = inputOf(step, c.input);
        if (c.off === "absent" ? v !== undefined && v !== "" : v !== c.off) {
          problems.push(
            `${name}: ${c.action} ${c.input} is ${v ?? "unset (its default caches)"}; ` +
              (c.off === "absent" ? "leave it unset" : `set it to ${c.off}`),
          );
        }
      }
      for (const [input, v] of Object.entries(step.with ?? {})) {
        if (/\btype=gha\b/.test(String(v))) problems.push(`${name}: ${input} uses BuildKit's gha cache`);
      }

      // Docker Hub through the mirror.
      if (IMAGE_PULLING_ACTIONS.some((a) => isAction(action, a))) {
        const mirrorSteps = stepsRunning(steps, i, MIRROR_SCRIPT);
        if (mirrorSteps.length === 0) {
          problems.push(
            `${name}: ${action} pulls images, but no earlier step runs \`bash ${MIRROR_SCRIPT}\``,
          );
        } else if (isAction(action, "docker/setup-buildx-action")) {
          const cfg = inputOf(step, "buildkitd-config") ?? "";
          if (
            !mirrorSteps.some((id) => cfg.replace(/\s/g, "") === `\${{steps.${id}.outputs.buildkitd-config}}`)
          ) {
            problems.push(
              `${name}: setup-buildx-action's buildkitd-config is not the buildkitd-config output of the ` +
                `\`bash ${MIRROR_SCRIPT}\` step (BuildKit would pull the Dockerfile's base image from Docker Hub)`,
            );
          }
        }
      }
    });
  }
  // An image of versions.env written out anywhere else (an env value, an input of another action).
  for (const key of PINNED_IMAGES) {
    const want = versions[key] ?? "";
    const repository = repositoryOf(want);
    if (repository === "") continue;
    const re = new RegExp(`(?:[a-z0-9.-]+/)?${repository.replaceAll(".", "\\.")}[:@][^\\s,"']*`, "g");
    const elsewhere = strings(doc).filter((v) => !checked.has(v));
    for (const ref of elsewhere.flatMap((v) => [...v.matchAll(re)].map((m) => m[0]))) {
      if (withoutDockerIo(ref) !== withoutDockerIo(want)) {
        problems.push(`${file}: ${ref} is not ${key}=${want} of toolchain/versions.env (${VERSIONS_SCRIPT})`);
      }
    }
  }
  for (const i of installs.filter((i) => isPinnedImage(i.key))) {
    if (!DIGEST_PINNED.test(i.value))
      problems.push(`${file}: job ${i.job}: ${i.action} image ${i.value} is not pinned by digest`);
  }
  return { problems, installs };
}
