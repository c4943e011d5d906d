// The bootstrap preflight: the pure decisions (tooling/preflight/) by tables, their agreement with
// the program under mocks, and the CLI end to end against a fake gcloud answering recorded JSON
// (test/fixtures/gcloud/: path/gcloud, path/pulumi → gcloud, scenarios/<name>/).
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { REQUIRED_APIS } from "../components/registries";
import { CONFIG_KEYS } from "../lib/config";
import { IDENTITY_APIS } from "../lib/gcpApis";
import { adoptables, COMPONENTS, urn } from "../tooling/preflight/adopt";
import { classify, type CommandAnswer, type Finding } from "../tooling/preflight/answers";
import { GCR_REPOSITORY, gcloudQueries, PREREQUISITE_APIS } from "../tooling/preflight/commands";
import { exitCode, type PreflightInput, preflight, PROGRAM_APIS } from "../tooling/preflight/preflight";
import { resolveTarget } from "../tooling/preflight/target";
import { PROD, registrations, settle, setupMocks } from "./mocks";

const FIXTURES = path.join(__dirname, "fixtures", "gcloud");
const PROJECT_ID = "acme-release-prod";

function target(flags: Parameters<typeof resolveTarget>[0] = {}) {
  const { target: t, problems } = resolveTarget({ project: PROJECT_ID, ...flags });
  assert.ok(t, problems.join("\n"));
  return t;
}
const T = target();

const found = (value: unknown): CommandAnswer => ({ exitCode: 0, stdout: JSON.stringify(value), stderr: "" });
const failed = (stderr: string): CommandAnswer => ({ exitCode: 1, stdout: "", stderr });
const NOT_FOUND = failed("ERROR: (gcloud.x.describe) NOT_FOUND: Requested entity was not found.\n");
/** A recorded stderr from the fixtures, so unit tables and the fake gcloud share the same text. */
const recorded = (scenario: string, key: string): CommandAnswer =>
  failed(readFileSync(path.join(FIXTURES, "scenarios", scenario, `${key}.stderr`), "utf8"));
const IAM_DISABLED = recorded("fresh", "gcloud_iam_workload-identity-pools_describe_github-actions");
const AR_DISABLED = recorded("fresh", "gcloud_artifacts_repositories_describe_gcr.io");
const SA_DENIED = recorded(
  "permission-denied",
  `gcloud_iam_service-accounts_describe_cq-source-s3-release@${PROJECT_ID}.iam.gserviceaccount.com`,
);

const services = (names: readonly string[]): CommandAnswer =>
  found(names.map((n) => ({ config: { name: n }, name: `projects/1/services/${n}`, state: "ENABLED" })));
const READY: PreflightInput["answers"] = {
  services: services([...PREREQUISITE_APIS, ...PROGRAM_APIS]),
  redirection: found({ legacyRedirectionState: "REDIRECTION_FROM_GCR_IO_ENABLED" }),
  repository: NOT_FOUND,
  pool: NOT_FOUND,
  provider: NOT_FOUND,
  releaseAccount: NOT_FOUND,
  previewAccount: NOT_FOUND,
};
const NO_STACK = failed("error: no stack named 'prod' found\n");
/** `pulumi stack export` of a stack holding these URNs. */
const stackWith = (...urns: string[]): CommandAnswer =>
  found({ version: 3, deployment: { resources: urns.map((u) => ({ urn: u })) } });

/** Runs the preflight over READY with overrides; `stackExport` null: no pulumi CLI. */
function check(
  answers: PreflightInput["answers"],
  stackExport: CommandAnswer | null = NO_STACK,
  t = T,
): Finding[] {
  return preflight({ target: t, answers: { ...READY, ...answers }, stackExport: stackExport ?? undefined });
}
function finding(findings: readonly Finding[], id: string): Finding {
  const f = findings.find((x) => x.check === id);
  assert.ok(f, `no finding ${id} in ${findings.map((x) => x.check).join(", ")}`);
  return f;
}
/** The import file inside the heredoc of the import-file finding. */
function importDoc(f: Finding): unknown {
  const heredoc = f.fix.find((l) => l.startsWith("cat > "));
  assert.ok(heredoc, f.fix.join("\n"));
  const lines = heredoc.split("\n");
  assert.equal(lines.at(-1), "EOF");
  return JSON.parse(lines.slice(1, -1).join("\n"));
}

const REPO_ID = `projects/${PROJECT_ID}/locations/us/repositories/gcr.io`;
const POOL_ID = `projects/${PROJECT_ID}/locations/global/workloadIdentityPools/github-actions`;
const REGISTRIES_URN = "urn:pulumi:prod::cq-source-s3-release::cq-release:registries:Registries::registries";
const IDENTITY_URN = "urn:pulumi:prod::cq-source-s3-release::cq-release:identity:GitHubIdentity::identity";

describe("preflight: gcloud answers", () => {
  const table: [string, CommandAnswer | undefined, string, Record<string, unknown>?][] = [
    ["JSON on stdout, exit 0", found({ a: 1 }), "found", { value: { a: 1 } }],
    ["exit 0 without JSON", { exitCode: 0, stdout: "Listed 0 items.", stderr: "" }, "error"],
    ["NOT_FOUND", NOT_FOUND, "absent"],
    [
      "a missing service account",
      failed("ERROR: (gcloud.iam.service-accounts.describe) NOT_FOUND: Unknown service account"),
      "absent",
    ],
    [
      "a project that may not exist",
      failed("ERROR: (gcloud.services.list) Project 'acme' not found or permission denied."),
      "denied",
    ],
    ["PERMISSION_DENIED", SA_DENIED, "denied", { permission: "iam.serviceAccounts.get" }],
    ["SERVICE_DISABLED (a 403 too)", AR_DISABLED, "disabled", { api: "artifactregistry.googleapis.com" }],
    [
      "no active account",
      failed("ERROR: (gcloud.services.list) You do not currently have an active account selected."),
      "unauthenticated",
    ],
    ["a killed call", { exitCode: null, stdout: "", stderr: "" }, "error"],
    ["no answer at all", undefined, "error"],
  ];
  for (const [name, answer, kind, fields] of table) {
    it(`reads ${name} as ${kind}`, () => {
      const c = classify(answer);
      assert.equal(c.kind, kind);
      for (const [k, v] of Object.entries(fields ?? {})) {
        assert.deepEqual((c as Record<string, unknown>)[k], v, k);
      }
    });
  }
});

describe("preflight: APIs", () => {
  it("takes the program's APIs from the components, not from a copy", () => {
    assert.deepEqual(PROGRAM_APIS, [...new Set<string>([...REQUIRED_APIS, ...IDENTITY_APIS])].sort());
    assert.ok(PROGRAM_APIS.length > 0);
  });

  it("requires Service Usage and Cloud Resource Manager, which the provider cannot enable", () => {
    const f = finding(check({ services: services(PROGRAM_APIS) }), "apis");
    assert.equal(f.ok, false);
    assert.deepEqual(f.fix, [
      `gcloud services enable cloudresourcemanager.googleapis.com serviceusage.googleapis.com --project=${PROJECT_ID}`,
    ]);
    const one = finding(
      check({ services: services(["serviceusage.googleapis.com", ...PROGRAM_APIS]) }),
      "apis",
    );
    assert.deepEqual(one.fix, [
      `gcloud services enable cloudresourcemanager.googleapis.com --project=${PROJECT_ID}`,
    ]);
  });

  it("ignores listed services that are not ENABLED", () => {
    const list = found([
      { config: { name: "serviceusage.googleapis.com" }, state: "ENABLED" },
      { config: { name: "cloudresourcemanager.googleapis.com" }, state: "DISABLED" },
    ]);
    assert.equal(finding(check({ services: list }), "apis").ok, false);
  });

  it("reports the APIs the program enables itself as info, with the enable command", () => {
    const f = finding(check({ services: services(PREREQUISITE_APIS) }), "program-apis");
    assert.equal(f.ok, true);
    assert.deepEqual(f.fix, [`gcloud services enable ${PROGRAM_APIS.join(" ")} --project=${PROJECT_ID}`]);
  });

  it("asks to enable them when a check could not look without them, once", () => {
    const findings = check({
      services: services(PREREQUISITE_APIS),
      pool: IAM_DISABLED,
      repository: AR_DISABLED,
    });
    assert.equal(finding(findings, "program-apis").ok, false);
    for (const id of ["wif-pool", "gcr-repository"]) {
      const f = finding(findings, id);
      assert.equal(f.ok, false);
      assert.match(f.message, /^not checked: .* is not enabled .*\(program-apis\)/);
      assert.deepEqual(f.fix, [], "the command is printed once, under program-apis");
    }
  });

  it("gives a blocked check its own enable command when the API list did not answer", () => {
    const findings = check({ services: SA_DENIED, repository: AR_DISABLED });
    assert.equal(finding(findings, "apis").ok, false);
    assert.deepEqual(finding(findings, "gcr-repository").fix, [
      `gcloud services enable artifactregistry.googleapis.com --project=${PROJECT_ID}`,
    ]);
  });

  it("is ready when everything is enabled and nothing exists", () => {
    const findings = check({});
    assert.deepEqual(
      findings.filter((f) => !f.ok || f.fix.length > 0),
      [],
    );
    assert.equal(exitCode(findings), 0);
  });
});

describe("preflight: gcr.io redirection", () => {
  const enable = `gcloud artifacts settings enable-upgrade-redirection --project=${PROJECT_ID}`;
  const table: [string | undefined, boolean, boolean][] = [
    // state, ok, prints the enable command
    ["REDIRECTION_FROM_GCR_IO_ENABLED", true, false],
    ["REDIRECTION_FROM_GCR_IO_FINALIZED", true, false],
    ["REDIRECTION_FROM_GCR_IO_ENABLED_AND_COPYING", true, false],
    ["REDIRECTION_FROM_GCR_IO_DISABLED", false, true],
    ["REDIRECTION_FROM_GCR_IO_PARTIAL", false, true],
    ["REDIRECTION_FROM_GCR_IO_PARTIAL_AND_COPYING", false, true],
    ["REDIRECTION_STATE_UNSPECIFIED", true, true],
    [undefined, true, true],
    ["REDIRECTION_SOMETHING_NEW", false, true],
  ];
  for (const [state, ok, prints] of table) {
    it(`${String(state)} → ${ok ? "ok" : "fix"}${ok && prints ? " (info)" : ""}`, () => {
      const value =
        state === undefined
          ? { name: `projects/${PROJECT_ID}/projectSettings` }
          : { legacyRedirectionState: state };
      const f = finding(check({ redirection: found(value) }), "gcr-redirection");
      assert.equal(f.ok, ok);
      assert.equal(f.fix.includes(enable), prints, f.fix.join("\n"));
    });
  }

  it("cannot check while Artifact Registry is disabled", () => {
    const f = finding(check({ redirection: AR_DISABLED }), "gcr-redirection");
    assert.equal(f.ok, false);
    assert.match(f.message, /artifactregistry\.googleapis\.com is not enabled/);
  });
});

describe("preflight: resources that already exist (409)", () => {
  const repo = found({ format: "DOCKER", mode: "STANDARD_REPOSITORY", name: REPO_ID });
  const pool = (state: string) => found({ name: POOL_ID, state, expireTime: "2026-12-11T08:30:12.118Z" });
  const account = (id: string) => found({ email: `${id}@${PROJECT_ID}.iam.gserviceaccount.com` });

  it("imports an existing gcr.io repository with an import file when the stack is new", () => {
    const findings = check({ repository: repo });
    assert.equal(finding(findings, "gcr-repository").ok, false);
    const file = finding(findings, "import-file");
    assert.equal(file.ok, false);
    assert.equal(file.fix[0], "pulumi stack select --create prod");
    assert.equal(
      file.fix.at(-1),
      'pulumi import --file "${TMPDIR:-/tmp}/cq-release-import.json" --stack prod --generate-code=false',
    );
    assert.deepEqual(importDoc(file), {
      resources: [
        { type: "cq-release:registries:Registries", name: "registries", component: true },
        {
          type: "gcp:artifactregistry/repository:Repository",
          name: "registries-gcr-io",
          id: REPO_ID,
          parent: "registries",
        },
      ],
    });
    assert.equal(exitCode(findings), 1);
  });

  it("imports with `pulumi import … --parent name=urn` when the stack has the parent", () => {
    const findings = check({ repository: repo }, stackWith(REGISTRIES_URN));
    assert.deepEqual(finding(findings, "gcr-repository").fix, [
      `pulumi import gcp:artifactregistry/repository:Repository registries-gcr-io ${REPO_ID} ` +
        `--parent registries=${REGISTRIES_URN} --stack prod --generate-code=false`,
    ]);
    assert.equal(
      findings.find((f) => f.check === "import-file"),
      undefined,
    );
  });

  it("is fine when the stack already manages it", () => {
    const managed = urn(
      "prod",
      "gcp:artifactregistry/repository:Repository",
      "registries-gcr-io",
      COMPONENTS.registries.type,
    );
    const findings = check({ repository: repo }, stackWith(REGISTRIES_URN, managed));
    assert.equal(finding(findings, "gcr-repository").ok, true);
    assert.equal(exitCode(findings), 0);
  });

  it("assumes a new stack, and says so, when the stack cannot be read", () => {
    const findings = check({ repository: repo }, null);
    assert.match(
      finding(findings, "stack-state").message,
      /could not read stack prod \(the pulumi CLI is not on PATH\)/,
    );
    assert.equal(finding(findings, "import-file").fix[0], "pulumi stack select --create prod");
  });

  it("imports pool, provider and both accounts under one identity component", () => {
    const findings = check({
      pool: pool("ACTIVE"),
      provider: found({ name: `${POOL_ID}/providers/github`, state: "ACTIVE" }),
      releaseAccount: account("cq-source-s3-release"),
      previewAccount: account("cq-source-s3-preview"),
    });
    for (const id of ["wif-pool", "wif-provider", "release-service-account", "preview-service-account"]) {
      assert.equal(finding(findings, id).ok, false, id);
    }
    assert.deepEqual(importDoc(finding(findings, "import-file")), {
      resources: [
        { type: "cq-release:identity:GitHubIdentity", name: "identity", component: true },
        {
          type: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
          name: "identity-pool",
          id: POOL_ID,
          parent: "identity",
        },
        {
          type: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
          name: "identity-provider",
          id: `${POOL_ID}/providers/github`,
          parent: "identity",
        },
        {
          type: "gcp:serviceaccount/account:Account",
          name: "identity-release-sa",
          id: `projects/${PROJECT_ID}/serviceAccounts/cq-source-s3-release@${PROJECT_ID}.iam.gserviceaccount.com`,
          parent: "identity",
        },
        {
          type: "gcp:serviceaccount/account:Account",
          name: "identity-preview-sa",
          id: `projects/${PROJECT_ID}/serviceAccounts/cq-source-s3-preview@${PROJECT_ID}.iam.gserviceaccount.com`,
          parent: "identity",
        },
      ],
    });
  });

  it("names parents the stack has in the file's nameTable instead of creating them", () => {
    const findings = check({ repository: repo, pool: pool("ACTIVE") }, stackWith(IDENTITY_URN));
    const doc = importDoc(finding(findings, "import-file")) as {
      nameTable: unknown;
      resources: { name: string }[];
    };
    assert.deepEqual(doc.nameTable, { identity: IDENTITY_URN });
    assert.deepEqual(
      doc.resources.map((r) => r.name),
      ["registries", "registries-gcr-io", "identity-pool"],
    );
    assert.equal(finding(findings, "import-file").fix[0].startsWith("cat > "), true, "the stack exists");
  });

  it("warns that a repository of another format cannot be adopted as is", () => {
    const f = finding(check({ repository: found({ format: "MAVEN", name: REPO_ID }) }), "gcr-repository");
    assert.match(f.message, /format is MAVEN, not DOCKER/);
  });

  it("offers undelete-then-import or another id for a soft-deleted pool, and leaves it out of the import file", () => {
    const findings = check({ pool: pool("DELETED"), repository: repo });
    const f = finding(findings, "wif-pool");
    assert.equal(f.ok, false);
    assert.match(f.message, /kept until 2026-12-11T08:30:12.118Z/);
    assert.deepEqual(
      f.fix.filter((l) => !l.startsWith("#")),
      [
        `gcloud iam workload-identity-pools undelete github-actions --location=global --project=${PROJECT_ID}`,
        `npm run preflight -- --project ${PROJECT_ID}`,
        "pulumi config set wifPoolId <new-id> --stack prod",
        `npm run preflight -- --project ${PROJECT_ID} --pool-id <new-id>`,
      ],
    );
    const doc = importDoc(finding(findings, "import-file")) as { resources: { name: string }[] };
    assert.deepEqual(
      doc.resources.map((r) => r.name),
      ["registries", "registries-gcr-io"],
    );
  });

  it("offers the same for a soft-deleted provider, with the provider's id key", () => {
    const f = finding(
      check({ provider: found({ name: `${POOL_ID}/providers/github`, state: "DELETED" }) }),
      "wif-provider",
    );
    assert.match(f.message, /kept for 30 days/);
    assert.ok(
      f.fix.includes(
        "gcloud iam workload-identity-pools providers undelete github --workload-identity-pool=github-actions " +
          `--location=global --project=${PROJECT_ID}`,
      ),
      f.fix.join("\n"),
    );
    assert.ok(f.fix.includes("pulumi config set wifProviderId <new-id> --stack prod"));
  });

  it("treats a denied look-up as its own finding, naming the missing permission", () => {
    const f = finding(check({ releaseAccount: SA_DENIED }), "release-service-account");
    assert.equal(f.ok, false);
    assert.match(
      f.message,
      /^cannot tell whether release service account .* exists: permission denied \(missing iam\.serviceAccounts\.get\)/,
    );
    assert.deepEqual(f.fix, []);
  });

  it("stops at one login finding when gcloud has no credentials", () => {
    const noAccount = failed(
      "ERROR: (gcloud.services.list) You do not currently have an active account selected.",
    );
    const findings = check({ services: noAccount, pool: noAccount });
    assert.deepEqual(
      findings.map((f) => f.check),
      ["gcloud-auth"],
    );
    assert.equal(findings[0].fix[0], "gcloud auth login");
  });
});

describe("preflight: flags", () => {
  it("defaults to the program's ids and lets flags override them", () => {
    assert.equal(T.poolId, CONFIG_KEYS.wifPoolId.default);
    assert.equal(T.providerId, CONFIG_KEYS.wifProviderId.default);
    assert.equal(T.stack, "prod");
    const t = target({ poolId: "gha-2", providerId: "gh-oidc", stack: "acme/cq-source-s3-release/prod" });
    assert.deepEqual(
      [t.poolId, t.providerId, t.stack],
      ["gha-2", "gh-oidc", "acme/cq-source-s3-release/prod"],
    );
    assert.equal(urn(t.stack, "a:b:C", "n"), "urn:pulumi:prod::cq-source-s3-release::a:b:C::n");
  });

  const bad: [Parameters<typeof resolveTarget>[0], RegExp][] = [
    [{}, /^--project: missing/],
    [
      { project: "Acme_Prod" },
      /^--project \(config gcpProject\): invalid value "Acme_Prod": expected a GCP project ID/,
    ],
    [{ project: "acme" }, /^--project \(config gcpProject\): invalid value "acme"/],
    [
      { project: PROJECT_ID, poolId: "gcp-pool" },
      /^--pool-id \(config wifPoolId\): invalid value "gcp-pool"/,
    ],
    [
      { project: PROJECT_ID, providerId: "-gh-" },
      /^--provider-id \(config wifProviderId\): invalid value "-gh-"/,
    ],
    [
      { project: PROJECT_ID, releaseAccountId: "r" },
      /^--release-account-id: identity: invalid releaseServiceAccountId/,
    ],
    [{ project: PROJECT_ID, stack: "prod stack" }, /^--stack: invalid value "prod stack"/],
  ];
  for (const [flags, expected] of bad) {
    it(`refuses ${JSON.stringify(flags)}`, () => {
      const { target: t, problems } = resolveTarget(flags);
      assert.equal(t, undefined);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], expected);
    });
  }

  it("asks every gcloud question about the project, in JSON", () => {
    const queries = gcloudQueries(T);
    assert.equal(queries.length, 7);
    for (const q of queries) {
      assert.ok(q.args.includes(`--project=${PROJECT_ID}`), q.args.join(" "));
      assert.ok(q.args.includes("--format=json"), q.args.join(" "));
    }
  });
});

describe("preflight: agrees with the program (index.ts under mocks)", () => {
  const t = target({ project: PROD.gcpProject });
  before(async () => {
    await setupMocks({ ...PROD, enableImage: "false", enableRepoSettings: "false" });
    delete require.cache[require.resolve("../index")];
    await import("../index");
    await settle();
  });

  it("registers the components under the names and types the imports use", () => {
    for (const c of Object.values(COMPONENTS)) {
      assert.equal(registrations.filter((r) => r.type === c.type && r.name === c.name).length, 1, c.name);
    }
  });

  for (const a of adoptables(target())) {
    it(`creates ${a.name} as ${a.type} under ${a.parent.name}, with the id the import names`, () => {
      const mine = adoptables(t).find((x) => x.check === a.check);
      assert.ok(mine);
      const r = registrations.find((x) => x.type === mine.type && x.name === mine.name);
      assert.ok(r, `no ${mine.type} ${mine.name} among ${registrations.map((x) => x.name).join(", ")}`);
      assert.equal(r.parent, urn("test", mine.parent.type, mine.parent.name));
      const inputs = r.inputs;
      const expectedId = {
        repository: `projects/${String(inputs.project)}/locations/${String(inputs.location)}/repositories/${String(inputs.repositoryId)}`,
        pool: `projects/${String(inputs.project)}/locations/global/workloadIdentityPools/${String(inputs.workloadIdentityPoolId)}`,
        provider: `projects/${t.project}/locations/global/workloadIdentityPools/${t.poolId}/providers/${String(inputs.workloadIdentityPoolProviderId)}`,
        releaseAccount: `projects/${String(inputs.project)}/serviceAccounts/${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com`,
        previewAccount: `projects/${String(inputs.project)}/serviceAccounts/${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com`,
      }[mine.query as string];
      assert.equal(mine.importId, expectedId);
    });
  }

  it("looks for the gcr.io repository where the program creates it", () => {
    const r = registrations.find((x) => x.name === "registries-gcr-io");
    assert.deepEqual(
      [r?.inputs.repositoryId, r?.inputs.location],
      [GCR_REPOSITORY.id, GCR_REPOSITORY.location],
    );
  });
});

describe("scripts/preflight.ts (fake gcloud on PATH)", function () {
  this.timeout(180000);
  const script = path.join(__dirname, "..", "scripts", "preflight.ts");
  const bin = path.join(FIXTURES, "path");
  let empty: string;

  interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
  }
  function run(args: string[], scenario: string | undefined): Promise<Run> {
    return new Promise((resolve) => {
      const env = {
        ...process.env,
        PATH: scenario === undefined ? empty : `${bin}${path.delimiter}${path.dirname(process.execPath)}`,
        FAKE_GCLOUD_SCENARIO: scenario === undefined ? "" : path.join(FIXTURES, "scenarios", scenario),
      };
      const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", script, ...args], {
        cwd: path.join(__dirname, ".."),
        env,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  }

  const project = ["--project", PROJECT_ID];
  const cases: Record<string, [string[], string | undefined]> = {
    fresh: [project, "fresh"],
    ready: [project, "ready"],
    "pre-2024": [project, "pre-2024"],
    "existing-repo": [project, "existing-repo"],
    "soft-deleted-pool": [project, "soft-deleted-pool"],
    "soft-deleted-pool, new id": [[...project, "--pool-id", "gha-2"], "soft-deleted-pool"],
    "permission-denied": [project, "permission-denied"],
    bootstrapped: [project, "bootstrapped"],
    "no gcloud": [project, undefined],
    "bad project": [["--project", "Acme_Prod"], "ready"],
  };
  const results: Record<string, Run> = {};

  before(async () => {
    empty = mkdtempSync(path.join(tmpdir(), "preflight-path-"));
    // git keeps the mode, but a checkout without it must not turn into confusing EACCES failures.
    chmodSync(path.join(bin, "gcloud"), 0o755);
    // All at once: each is mostly ts-node start-up.
    const runs = await Promise.all(Object.values(cases).map(([args, scenario]) => run(args, scenario)));
    Object.keys(cases).forEach((name, i) => (results[name] = runs[i]));
  });
  after(() => rmSync(empty, { recursive: true, force: true }));

  function expect(name: string, status: number, ...lines: string[]) {
    const r = results[name];
    assert.equal(r.status, status, `${name}: exit ${String(r.status)}\n${r.stdout}\n${r.stderr}`);
    for (const line of lines) {
      assert.ok(r.stdout.split("\n").includes(line), `${name}: no line\n${line}\nin\n${r.stdout}${r.stderr}`);
    }
  }

  it("fresh project: exit 1, enable the prerequisite APIs, then the program's", () => {
    expect(
      "fresh",
      1,
      `    $ gcloud services enable cloudresourcemanager.googleapis.com serviceusage.googleapis.com --project=${PROJECT_ID}`,
      `    $ gcloud services enable ${PROGRAM_APIS.join(" ")} --project=${PROJECT_ID}`,
    );
    assert.match(results.fresh.stdout, /\[FIX \] wif-pool: not checked: iam\.googleapis\.com is not enabled/);
  });

  it("ready project: exit 0", () => {
    expect("ready", 0);
    assert.match(results.ready.stdout, /^Ready: nothing blocks the bootstrap `pulumi up`/m);
    assert.doesNotMatch(results.ready.stdout, /\[FIX \]/);
  });

  it("pre-2024 project: exit 1 with the redirection command", () => {
    expect(
      "pre-2024",
      1,
      `    $ gcloud artifacts settings enable-upgrade-redirection --project=${PROJECT_ID}`,
    );
  });

  it("existing gcr.io repository: exit 1 with an import file that pastes as is", () => {
    expect(
      "existing-repo",
      1,
      "    $ pulumi stack select --create prod",
      `    $ cat > "\${TMPDIR:-/tmp}/cq-release-import.json" <<'EOF'`,
      "EOF",
      '    $ pulumi import --file "${TMPDIR:-/tmp}/cq-release-import.json" --stack prod --generate-code=false',
    );
    const out = results["existing-repo"].stdout;
    const body = out.slice(out.indexOf("<<'EOF'\n") + 8, out.indexOf("\nEOF\n"));
    assert.deepEqual(JSON.parse(body).resources[1], {
      type: "gcp:artifactregistry/repository:Repository",
      name: "registries-gcr-io",
      id: REPO_ID,
      parent: "registries",
    });
  });

  it("soft-deleted pool: exit 1 with undelete and rename options", () => {
    expect(
      "soft-deleted-pool",
      1,
      `    $ gcloud iam workload-identity-pools undelete github-actions --location=global --project=${PROJECT_ID}`,
      "    $ pulumi config set wifPoolId <new-id> --stack prod",
    );
  });

  it("soft-deleted pool and --pool-id of a free id: exit 0", () => {
    expect("soft-deleted-pool, new id", 0);
    assert.match(results["soft-deleted-pool, new id"].stdout, /\(pool gha-2,/);
  });

  it("permission denied: exit 1 naming the missing permission", () => {
    expect("permission-denied", 1);
    assert.match(
      results["permission-denied"].stdout,
      /\[FIX \] release-service-account: cannot tell whether .* exists: permission denied \(missing iam\.serviceAccounts\.get\)/,
    );
  });

  it("after the bootstrap: exit 0, the stack manages what exists", () => {
    expect("bootstrapped", 0);
    assert.match(
      results.bootstrapped.stdout,
      /\[ok {2}\] wif-pool: workload identity pool "github-actions" exists and stack prod manages it/,
    );
  });

  it("no gcloud on PATH: exit 1, says so, and prints the commands to run by hand", () => {
    expect(
      "no gcloud",
      1,
      "gcloud is not on PATH, so nothing was checked. Install the Google Cloud CLI",
      `  gcloud services list --enabled --project=${PROJECT_ID} --format=json`,
      `  gcloud artifacts settings describe --project=${PROJECT_ID} --format=json`,
    );
  });

  it("an invalid project id: exit 2 with the config loader's rule", () => {
    expect("bad project", 2);
    assert.match(results["bad project"].stderr, /--project \(config gcpProject\): invalid value "Acme_Prod"/);
  });
});
