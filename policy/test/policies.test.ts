// Calls every policy directly with passing and failing resources, as the engine would.
import * as assert from "node:assert/strict";
import {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
  unknownCheckingProxy,
} from "@pulumi/policy";
// The engine's marker for a value unknown during preview (what the policy proxy detects).
import { unknownValue as unknownStringValue } from "@pulumi/pulumi/runtime/rpc";
import {
  attributeConditionProblem,
  imagesPushToAllowedRegistries,
  isAllowedRegistry,
  noServiceAccountKeys,
  policies,
  protectedResourcesStayProtected,
  pushedRepositoriesHaveShaTag,
  registryWritersAreReleaseIdentity,
  repositoryOf,
  serviceAccountKeysAllowed,
  SHA_TAG_RE,
  T,
  tagOf,
  topLevelConjuncts,
  wifProviderPinsRepositoryIds,
} from "../policies";

interface Res {
  type: string;
  name: string;
  props: Record<string, unknown>;
  protect?: boolean;
  deps?: Record<string, string[]>;
}

const urn = (r: { type: string; name: string }) =>
  `urn:pulumi:prod::cq-source-s3-release::${r.type}::${r.name}`;

function opts(protect = false) {
  return {
    protect,
    ignoreChanges: [],
    aliases: [],
    additionalSecretOutputs: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  };
}

function notApplicable(reason?: string): never {
  throw new Error(`not applicable: ${reason}`);
}

async function runResource(policy: ResourceValidationPolicy, r: Res, config: object = {}): Promise<string[]> {
  const violations: string[] = [];
  const args = {
    type: r.type,
    name: r.name,
    urn: urn(r),
    props: r.props,
    opts: opts(r.protect),
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <C>() => config as C,
    notApplicable,
  } as ResourceValidationArgs;
  const validations = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : [policy.validateResource];
  for (const v of validations) await v?.(args, (message) => violations.push(message));
  return violations;
}

async function runStack(policy: StackValidationPolicy, rs: Res[], config: object = {}): Promise<string[]> {
  const resources: PolicyResource[] = rs.map((r) => ({
    type: r.type,
    name: r.name,
    urn: urn(r),
    props: r.props,
    opts: opts(r.protect),
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  rs.forEach((r, i) => {
    for (const [key, names] of Object.entries(r.deps ?? {})) {
      resources[i].propertyDependencies[key] = names.map((n) => resources.find((x) => x.name === n)!);
    }
  });
  const violations: string[] = [];
  const args: StackValidationArgs = {
    resources,
    stackTags: new Map(),
    getConfig: <C>() => config as C,
    notApplicable,
  };
  await policy.validateStack(args, (message) => violations.push(message));
  return violations;
}

const PINNED =
  'assertion.repository_owner_id == "1234567" && assertion.repository_id == "7654321" && ' +
  "assertion.repository == 'acme/cq-source-s3'";

describe("policy pack", () => {
  it("has unique policy names and a mandatory level for every guard but the key advisory", () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of policies) {
      assert.equal(p.enforcementLevel, p === serviceAccountKeysAllowed ? "advisory" : "mandatory", p.name);
    }
  });
});

describe("topLevelConjuncts", () => {
  const cases: [string, string[] | undefined][] = [
    ["a == 1 && b == 2", ["a == 1", "b == 2"]],
    ["(a == 1) && (b == 2 || c == 3)", ["a == 1", "(b == 2 || c == 3)"]],
    ["a == 1 || b == 2", undefined],
    ["a == 1 && b == 2 || c", undefined],
    ["a ? b : c", undefined],
    ['a == "x && y" && b', ['a == "x && y"', "b"]],
    ['a == "x || y"', ['a == "x || y"']],
    ["(a && b", undefined],
    ['a == "unterminated', undefined],
  ];
  for (const [expr, want] of cases) {
    it(`splits ${JSON.stringify(expr)}`, () => assert.deepEqual(topLevelConjuncts(expr), want));
  }
});

describe("wif-provider-pins-repository-ids", () => {
  const provider = (attributeCondition: unknown): Res => ({
    type: T.provider,
    name: "github",
    props: attributeCondition === undefined ? {} : { attributeCondition },
    protect: true,
  });
  const cases: [string, unknown, RegExp | undefined][] = [
    ["passes a condition pinning both numeric IDs", PINNED, undefined],
    [
      "passes single-quoted IDs inside parentheses",
      "(assertion.repository_id == '42') && (assertion.repository_owner_id == '7')",
      undefined,
    ],
    ["fails without a condition", undefined, /has no attributeCondition/],
    ["fails on an empty condition", "  ", /has no attributeCondition/],
    [
      "fails when pinning names only",
      "assertion.repository == 'acme/cq-source-s3'",
      /repository_owner_id.*repository_id/,
    ],
    [
      "fails when the owner id is missing",
      'assertion.repository_id == "7654321"',
      /repository_owner_id == "<numeric id>"$|repository_owner_id/,
    ],
    [
      "fails on a non-numeric id",
      'assertion.repository_owner_id == "acme" && assertion.repository_id == "1"',
      /repository_owner_id/,
    ],
    ["fails when a pin can be bypassed with ||", `${PINNED} || true`, /must be a conjunction/],
    [
      "fails when a pin is only inside a disjunction",
      '(assertion.repository_owner_id == "1" || true) && assertion.repository_id == "2"',
      /repository_owner_id/,
    ],
    [
      "fails when ids are compared with !=",
      'assertion.repository_owner_id != "1" && assertion.repository_id == "2"',
      /repository_owner_id/,
    ],
  ];
  for (const [title, condition, want] of cases) {
    it(title, async () => {
      const v = await runResource(wifProviderPinsRepositoryIds, provider(condition));
      if (want === undefined) assert.deepEqual(v, []);
      else {
        assert.equal(v.length, 1, JSON.stringify(v));
        assert.match(v[0], want);
      }
    });
  }
  it("ignores other resource types", async () => {
    assert.deepEqual(
      await runResource(wifProviderPinsRepositoryIds, { type: T.pool, name: "p", props: {} }),
      [],
    );
  });
  it("agrees with the pure check", () => assert.equal(attributeConditionProblem(PINNED), undefined));
  it("accepts the exact condition lib/wif.ts generates for the program", async () => {
    // Imported lazily from the program so a change of the generated text is checked here too.
    const wif = await import("../../lib/wif");
    const settings = wif.validateWifSettings({
      owner: "acme",
      ownerId: "1234567",
      repository: "cq-source-s3",
      repositoryId: "7654321",
    });
    const condition = wif.attributeCondition(settings);
    assert.equal(attributeConditionProblem(condition), undefined, condition);
    assert.match(attributeConditionProblem(condition.replace("'7654321'", "'x'")) ?? "", /repository_id/);
  });
});

describe("sha-tag pattern: the program's release tags (lib/release.ts)", () => {
  // Imported lazily from the program, like the WIF contract above: a change of the tag scheme
  // that the pack would refuse fails here, not in a release.
  const versions = ["v1.2.3", "v0.0.1", "v2.0.0-rc.1", "v1.2.3-alpha.2+build.5", "v10.20.30+meta"];
  const released = [[], ["v9.0.0"], ["v1.2.4", "v1.3.0-rc.1"]];
  it("accepts the sha tag of every release, bare and per platform, and no other role's tag", async () => {
    const release = await import("../../lib/release");
    for (const version of versions) {
      for (const releasedVersions of released) {
        const tags = release.deriveReleaseTags({ version, commit: "ABCDEF0123456789", releasedVersions });
        const sha = release.tagOfRole(tags, "sha");
        assert.match(sha, SHA_TAG_RE, sha);
        for (const arch of ["amd64", "arm64"]) assert.match(`${sha}-${arch}`, SHA_TAG_RE);
        for (const t of tags.filter((x) => x.role !== "sha")) {
          assert.doesNotMatch(t.tag, SHA_TAG_RE, `${t.role} tag ${t.tag} looks immutable`);
        }
      }
    }
  });
});

describe("service account keys", () => {
  const key: Res = { type: T.serviceAccountKey, name: "ci-key", props: { serviceAccountId: "x" } };
  it("forbids a key by default (mandatory)", async () => {
    const v = await runResource(noServiceAccountKeys, key);
    assert.equal(v.length, 1);
    assert.match(v[0], /ci-key.*forbidden/);
    assert.deepEqual(await runResource(serviceAccountKeysAllowed, key), []);
  });
  it("only warns (advisory) when allowServiceAccountKeys is true", async () => {
    const cfg = { allowServiceAccountKeys: true };
    assert.deepEqual(await runResource(noServiceAccountKeys, key, cfg), []);
    const v = await runResource(serviceAccountKeysAllowed, key, cfg);
    assert.equal(v.length, 1);
    assert.match(v[0], /allowServiceAccountKeys is true/);
  });
  it("ignores other resources", async () => {
    const sa: Res = { type: T.serviceAccount, name: "sa", props: { accountId: "x" } };
    assert.deepEqual(await runResource(noServiceAccountKeys, sa), []);
  });
});

describe("registry-writers-are-release-identity", () => {
  const releaseSa: Res = {
    type: T.serviceAccount,
    name: "identity-release",
    props: { accountId: "cq-s3-release", email: "cq-s3-release@proj.iam.gserviceaccount.com" },
  };
  const previewSa: Res = {
    type: T.serviceAccount,
    name: "identity-preview",
    props: { accountId: "cq-s3-preview", email: "cq-s3-preview@proj.iam.gserviceaccount.com" },
  };
  const member = (
    m: unknown,
    role = "roles/artifactregistry.writer",
    deps?: Record<string, string[]>,
  ): Res => ({
    type: T.registryIamMember,
    name: "registry-writer",
    props: { repository: "gcr.io", location: "us", role, member: m },
    deps,
  });

  it("passes when the release account is the only writer", async () => {
    const v = await runStack(registryWritersAreReleaseIdentity, [
      releaseSa,
      previewSa,
      member("serviceAccount:cq-s3-release@proj.iam.gserviceaccount.com"),
      member("serviceAccount:cq-s3-preview@proj.iam.gserviceaccount.com", "roles/artifactregistry.reader"),
    ]);
    assert.deepEqual(v, []);
  });
  it("fails when the preview account can write", async () => {
    const v = await runStack(registryWritersAreReleaseIdentity, [
      releaseSa,
      previewSa,
      member("serviceAccount:cq-s3-preview@proj.iam.gserviceaccount.com"),
    ]);
    assert.equal(v.length, 1);
    assert.match(v[0], /grants roles\/artifactregistry.writer to serviceAccount:cq-s3-preview@/);
  });
  it("fails for a repoAdmin binding that includes another member", async () => {
    const binding: Res = {
      type: T.registryIamBinding,
      name: "admins",
      props: {
        role: "roles/artifactregistry.repoAdmin",
        members: ["serviceAccount:cq-s3-release@proj.iam.gserviceaccount.com", "user:mallory@example.com"],
      },
    };
    const v = await runStack(registryWritersAreReleaseIdentity, [releaseSa, binding]);
    assert.equal(v.length, 1);
    assert.match(v[0], /user:mallory@example.com/);
  });
  it("fails for a writer in a repository IAM policy document", async () => {
    const pol: Res = {
      type: T.registryIamPolicy,
      name: "policy",
      props: {
        policyData: JSON.stringify({
          bindings: [{ role: "roles/artifactregistry.writer", members: ["allUsers"] }],
        }),
      },
    };
    const v = await runStack(registryWritersAreReleaseIdentity, [releaseSa, pol]);
    assert.equal(v.length, 1);
    assert.match(v[0], /allUsers/);
  });
  it("fails when no release account can be identified", async () => {
    const v = await runStack(registryWritersAreReleaseIdentity, [
      previewSa,
      member("serviceAccount:x@proj.iam.gserviceaccount.com"),
    ]);
    assert.equal(v.length, 1);
    assert.match(v[0], /unidentified release account \(0 Accounts/);
  });
  it("uses releaseServiceAccountEmail from config when given", async () => {
    const cfg = { releaseServiceAccountEmail: "pusher@proj.iam.gserviceaccount.com" };
    assert.deepEqual(
      await runStack(
        registryWritersAreReleaseIdentity,
        [member("serviceAccount:pusher@proj.iam.gserviceaccount.com")],
        cfg,
      ),
      [],
    );
    const v = await runStack(
      registryWritersAreReleaseIdentity,
      [releaseSa, member("serviceAccount:cq-s3-release@proj.iam.gserviceaccount.com")],
      cfg,
    );
    assert.equal(v.length, 1);
  });
  it("accepts an unknown member (preview) only when it derives from the release account", async () => {
    const unknownMember = (deps: Record<string, string[]>): Res => ({
      ...member(undefined, "roles/artifactregistry.writer", deps),
      props: unknownCheckingProxy({
        repository: "gcr.io",
        role: "roles/artifactregistry.writer",
        member: unknownStringValue,
      }),
    });
    assert.deepEqual(
      await runStack(registryWritersAreReleaseIdentity, [
        releaseSa,
        previewSa,
        unknownMember({ member: ["identity-release"] }),
      ]),
      [],
    );
    const v = await runStack(registryWritersAreReleaseIdentity, [
      releaseSa,
      previewSa,
      unknownMember({ member: ["identity-preview"] }),
    ]);
    assert.equal(v.length, 1);
    assert.match(v[0], /<unknown>/);
  });
  it("ignores reader roles and stacks without registries", async () => {
    assert.deepEqual(
      await runStack(registryWritersAreReleaseIdentity, [
        member("allUsers", "roles/artifactregistry.reader"),
      ]),
      [],
    );
    assert.deepEqual(await runStack(registryWritersAreReleaseIdentity, []), []);
  });
});

describe("the public reader of the gcr.io repository (components/registries.ts, gcrPublic)", () => {
  // The stack as the platform team's `pulumi up` of a public prod stack registers it.
  const stack: Res[] = [
    {
      type: T.serviceAccount,
      name: "identity-release-sa",
      props: {
        accountId: "cq-source-s3-release",
        email: "cq-source-s3-release@proj.iam.gserviceaccount.com",
      },
    },
    {
      type: T.registry,
      name: "registries-gcr-io",
      props: { repositoryId: "gcr.io", location: "us", format: "DOCKER" },
      protect: true,
    },
    {
      type: T.registryIamMember,
      name: "registries-release-writer",
      props: {
        repository: "gcr.io",
        location: "us",
        role: "roles/artifactregistry.writer",
        member: "serviceAccount:cq-source-s3-release@proj.iam.gserviceaccount.com",
      },
    },
    {
      type: T.registryIamMember,
      name: "registries-public-reader",
      props: {
        repository: "gcr.io",
        location: "us",
        role: "roles/artifactregistry.reader",
        member: "allUsers",
      },
    },
  ];

  it("violates no policy of the pack", async () => {
    const violations: string[] = [];
    for (const p of policies) {
      if ("validateStack" in p) violations.push(...(await runStack(p, stack)));
      else for (const r of stack) violations.push(...(await runResource(p, r)));
    }
    assert.deepEqual(violations, []);
  });

  it("is refused once it could write (allUsers with the writer role)", async () => {
    const writable = stack.map((r) =>
      r.name === "registries-public-reader"
        ? { ...r, props: { ...r.props, role: "roles/artifactregistry.writer" } }
        : r,
    );
    const v = await runStack(registryWritersAreReleaseIdentity, writable);
    assert.equal(v.length, 1);
    assert.match(v[0], /'registries-public-reader' grants roles\/artifactregistry.writer to allUsers/);
  });
});

describe("image reference helpers", () => {
  const cases: [string, string, string | undefined][] = [
    ["gcr.io/proj/cq-source-s3:v1.2.3", "gcr.io/proj/cq-source-s3", "v1.2.3"],
    ["127.0.0.1:5000/cq-source-s3:v1.2.3-abc1234", "127.0.0.1:5000/cq-source-s3", "v1.2.3-abc1234"],
    ["127.0.0.1:5000/cq-source-s3", "127.0.0.1:5000/cq-source-s3", undefined],
    ["ghcr.io/acme/cq-source-s3@sha256:abc", "ghcr.io/acme/cq-source-s3", undefined],
  ];
  for (const [ref, repo, tag] of cases) {
    it(`parses ${ref}`, () => {
      assert.equal(repositoryOf(ref), repo);
      assert.equal(tagOf(ref), tag);
    });
  }
  it("matches registry prefixes on a path boundary", () => {
    assert.equal(isAllowedRegistry("ghcr.io/acme/x:1", ["ghcr.io/acme"]), true);
    assert.equal(isAllowedRegistry("ghcr.io/acme-evil/x:1", ["ghcr.io/acme"]), false);
    assert.equal(isAllowedRegistry("docker.io/acme/x:1", ["ghcr.io/acme/"]), false);
  });
});

describe("images-push-to-allowed-registries", () => {
  const cfg = { allowedRegistries: ["gcr.io/proj/", "ghcr.io/acme/", "127.0.0.1:5000/"] };
  const image = (props: Record<string, unknown>): Res => ({ type: T.image, name: "image", props });
  const tags = [
    "gcr.io/proj/cq-source-s3:v1.2.3-abc1234",
    "gcr.io/proj/cq-source-s3:v1.2.3",
    "ghcr.io/acme/cq-source-s3:v1.2.3-abc1234",
    "ghcr.io/acme/cq-source-s3:latest",
  ];
  const cases: [string, Res, RegExp[]][] = [
    ["passes a pushed image with sha tags on every registry", image({ push: true, tags }), []],
    [
      "passes an image that is not pushed, wherever it is tagged",
      image({ push: false, tags: ["docker.io/x/y:latest"] }),
      [],
    ],
    [
      "fails a push to a foreign registry",
      image({ push: true, tags: [...tags, "docker.io/evil/cq-source-s3:v1.2.3-abc1234"] }),
      [/pushes docker.io\/evil\/cq-source-s3:v1.2.3-abc1234, outside/],
    ],
    [
      "fails a push to another project of an allowed host",
      image({ push: true, tags: ["gcr.io/other/cq-source-s3:v1.2.3-abc1234"] }),
      [/outside the allowed registries/],
    ],
    [
      "fails a repository without the immutable sha tag",
      image({
        push: true,
        tags: ["gcr.io/proj/cq-source-s3:v1.2.3-abc1234", "ghcr.io/acme/cq-source-s3:v1.2.3"],
      }),
      [/pushes to ghcr.io\/acme\/cq-source-s3 without an immutable/],
    ],
    [
      "fails an upper-case or short sha tag",
      image({ push: true, tags: ["gcr.io/proj/cq-source-s3:v1.2.3-ABC123"] }),
      [/without an immutable/],
    ],
    ["fails a pushed image without tags", image({ push: true }), [/has no tags/]],
    [
      "passes per-platform sha tags with an arch suffix",
      image({ push: true, tags: ["ghcr.io/acme/cq-source-s3:v1.2.3-abc1234-arm64"] }),
      [],
    ],
    [
      "fails a registry cache export to a foreign registry",
      image({
        push: true,
        tags: ["ghcr.io/acme/cq-source-s3:v1.2.3-abc1234-amd64"],
        cacheTo: [
          { registry: { ref: "docker.io/evil/cache:buildcache-amd64" } },
          { gha: { scope: "amd64" } },
        ],
      }),
      [/pushes docker.io\/evil\/cache:buildcache-amd64, outside/],
    ],
    [
      "treats a registry export as a push",
      image({ push: false, exports: [{ registry: { oci: true } }], tags: ["docker.io/x/y:v1-abc1234"] }),
      [/outside/],
    ],
    [
      "treats a raw registry export as a push (the release's reproducible export)",
      image({
        push: false,
        exports: [{ raw: "type=registry,rewrite-timestamp=true" }],
        tags: ["docker.io/x/y:v1-abc1234"],
      }),
      [/outside/],
    ],
    [
      "passes the release's raw registry export to an allowed registry",
      image({
        push: false,
        exports: [{ raw: "type=registry,rewrite-timestamp=true" }],
        tags: ["ghcr.io/acme/cq-source-s3:v1.2.3-abc1234-amd64"],
      }),
      [],
    ],
    [
      "checks the names a raw export pushes besides the tags",
      image({
        push: false,
        exports: [
          { raw: 'type=image,"name=ghcr.io/acme/cq-source-s3:v1-abc1234,quay.io/x/y:v1-abc1234",push=true' },
        ],
        tags: [],
      }),
      [/pushes quay\.io\/x\/y:v1-abc1234, outside/],
    ],
    [
      "ignores a raw image export that does not push",
      image({ push: false, exports: [{ raw: "type=image,name=quay.io/x/y:v1" }], tags: ["quay.io/x/y:v1"] }),
      [],
    ],
    [
      "checks an Index's tag",
      { type: T.index, name: "index", props: { tag: "quay.io/x/y:v1", sources: [] } },
      [/outside/],
    ],
    [
      "passes an Index under an allowed registry",
      { type: T.index, name: "index", props: { tag: "127.0.0.1:5000/cq-source-s3:v1" } },
      [],
    ],
  ];
  for (const [title, res, want] of cases) {
    it(title, async () => {
      const v = await runResource(imagesPushToAllowedRegistries, res, cfg);
      assert.equal(v.length, want.length, JSON.stringify(v));
      want.forEach((re, i) => assert.match(v[i], re));
    });
  }
  it("defaults to gcr.io, ghcr.io and the local registry without config", async () => {
    assert.deepEqual(await runResource(imagesPushToAllowedRegistries, image({ push: true, tags })), []);
    const v = await runResource(
      imagesPushToAllowedRegistries,
      image({ push: true, tags: ["docker.io/x/y:v1-abc1234"] }),
    );
    assert.equal(v.length, 1);
  });
});

describe("pushed-repositories-have-sha-tag", () => {
  it("passes per-platform images joined by indexes when one index carries the sha tag", async () => {
    const v = await runStack(pushedRepositoriesHaveShaTag, [
      {
        type: T.image,
        name: "amd64",
        props: { push: true, tags: ["ghcr.io/acme/cq-source-s3:v1.2.3-abc1234-amd64"] },
      },
      { type: T.index, name: "sha", props: { tag: "ghcr.io/acme/cq-source-s3:v1.2.3-abc1234" } },
      { type: T.index, name: "latest", props: { tag: "ghcr.io/acme/cq-source-s3:latest" } },
    ]);
    assert.deepEqual(v, []);
  });
  it("fails a repository only ever pushed with mutable tags", async () => {
    const v = await runStack(pushedRepositoriesHaveShaTag, [
      { type: T.index, name: "latest", props: { tag: "ghcr.io/acme/cq-source-s3:latest" } },
      { type: T.index, name: "ver", props: { tag: "ghcr.io/acme/cq-source-s3:v1.2.3" } },
      { type: T.index, name: "local", props: { tag: "127.0.0.1:5000/cq-source-s3:v1.2.3-abc1234" } },
    ]);
    assert.equal(v.length, 1);
    assert.match(v[0], /^ghcr.io\/acme\/cq-source-s3 is pushed \(by latest, ver\)/);
  });
  it("ignores indexes that do not push", async () => {
    const v = await runStack(pushedRepositoriesHaveShaTag, [
      { type: T.index, name: "x", props: { push: false, tag: "ghcr.io/acme/cq-source-s3:latest" } },
    ]);
    assert.deepEqual(v, []);
  });
});

describe("protected-resources-stay-protected", () => {
  for (const type of [T.pool, T.provider, T.registry]) {
    it(`requires protect on ${type}`, async () => {
      const v = await runResource(protectedResourcesStayProtected, {
        type,
        name: "x",
        props: {},
        protect: false,
      });
      assert.equal(v.length, 1);
      assert.match(v[0], /must be created with \{ protect: true \}/);
      assert.deepEqual(
        await runResource(protectedResourcesStayProtected, { type, name: "x", props: {}, protect: true }),
        [],
      );
    });
  }
  it("does not require protect elsewhere", async () => {
    assert.deepEqual(
      await runResource(protectedResourcesStayProtected, {
        type: T.image,
        name: "i",
        props: {},
        protect: false,
      }),
      [],
    );
  });
});
