// Runs the pack inside the real Pulumi engine (`pulumi preview --policy-pack`), with an inline
// automation-API program, to prove that it loads, that its config schema and a policy config file
// are accepted, and that violations reach the engine at the right enforcement level.
// The program registers components carrying the guarded type tokens (components need no provider
// plugin, and the engine analyzes them too; their props are empty, so only type/name/protect
// based policies are meaningful here — the rest is covered by policies.test.ts).
//
// Needs a `pulumi` CLI (PATH or $CQ_TOOLCHAIN_DIR/bin, built by scripts/toolchain.sh); skipped
// otherwise. Without a Node.js language host (as on the offline rehearsal machines) the engine
// falls back to a `pulumi-analyzer-policy-nodejs` launcher, which test/engine/ provides.
import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { EngineEvent, LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";

const PACK = path.join(__dirname, "..");
const LAUNCHER_DIR = path.join(__dirname, "engine");

function findPulumi(): string | undefined {
  const toolchain = path.join(
    process.env.CQ_TOOLCHAIN_DIR ?? path.join(homedir(), ".cache/cq-release-toolchain"),
    "bin",
  );
  const candidates = [...(process.env.PATH ?? "").split(path.delimiter), toolchain].map((d) =>
    path.join(d, "pulumi"),
  );
  return candidates.find((p) => existsSync(p));
}

interface Violation {
  policy: string;
  level: string;
  resource: string;
}

describe("policy pack in the Pulumi engine", function () {
  this.timeout(180000);
  const cli = findPulumi();
  let dir: string;

  before(function () {
    if (cli === undefined) {
      // In CI the toolchain is installed first, so a missing CLI is a broken setup, not a skip.
      if (process.env.CI === "true")
        throw new Error("no pulumi CLI found in CI: scripts/toolchain.sh must run first");
      console.log("    (no pulumi CLI found: run scripts/toolchain.sh; skipping the engine test)");
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), "policy-engine-"));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function preview(config?: object): Promise<{ ok: boolean; violations: Violation[] }> {
    const program = async () => {
      class Guarded extends pulumi.ComponentResource {
        constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
          super(type, name, {}, opts);
          this.registerOutputs({});
        }
      }
      new Guarded("gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "pool", { protect: true });
      new Guarded("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "provider");
      new Guarded("gcp:serviceaccount/key:Key", "ci-key");
    };
    const binDir = path.dirname(cli as string);
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "engine", projectName: "policy-engine-test", program },
      {
        // `<root>/bin/pulumi`: the CLI found above, not whatever is first on the test's PATH.
        pulumiCommand: await PulumiCommand.get({ root: path.dirname(binDir) }),
        workDir: dir,
        envVars: {
          PULUMI_BACKEND_URL: `file://${dir}`,
          PULUMI_CONFIG_PASSPHRASE: "test-only",
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
          PATH: [binDir, LAUNCHER_DIR, process.env.PATH ?? ""].join(path.delimiter),
        },
      },
    );
    const policyPackConfigs: string[] = [];
    if (config !== undefined) {
      const file = path.join(dir, "policy-config.json");
      writeFileSync(file, JSON.stringify(config));
      policyPackConfigs.push(file);
    }
    const violations: Violation[] = [];
    const onEvent = (e: EngineEvent) => {
      const p = e.policyEvent;
      if (p)
        violations.push({
          policy: p.policyName,
          level: p.enforcementLevel,
          resource: (p.resourceUrn ?? "").split("::").pop() ?? "",
        });
    };
    try {
      await stack.preview({ policyPacks: [PACK], policyPackConfigs, onEvent });
      return { ok: true, violations };
    } catch {
      return { ok: false, violations };
    }
  }

  const key = (v: Violation) => `${v.level} ${v.policy} ${v.resource}`;

  it("blocks a preview with mandatory violations (unpinned provider, unprotected provider, SA key)", async () => {
    const { ok, violations } = await preview();
    assert.equal(ok, false, "a mandatory violation must fail the preview");
    assert.deepEqual([...new Set(violations.map(key))].sort(), [
      "mandatory no-service-account-keys ci-key",
      "mandatory protected-resources-stay-protected provider",
      "mandatory wif-provider-pins-repository-ids provider",
    ]);
  });

  it("downgrades SA keys to advisory when the policy config allows them", async () => {
    const allow = { allowServiceAccountKeys: true };
    const { violations } = await preview({
      "no-service-account-keys": allow,
      "service-account-keys-allowed": allow,
      "images-push-to-allowed-registries": { allowedRegistries: ["gcr.io/p/", "ghcr.io/o/"] },
    });
    const got = new Set(violations.map(key));
    assert.ok(got.has("advisory service-account-keys-allowed ci-key"), [...got].join("\n"));
    assert.ok(!got.has("mandatory no-service-account-keys ci-key"), [...got].join("\n"));
  });
});
