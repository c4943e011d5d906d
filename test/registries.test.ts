import * as assert from "node:assert/strict";

import { byName, customResources, registrations, settle, setupMocks, unwrap } from "./mocks";

describe("registries component", () => {
  type Mod = typeof import("../components/registries");
  let mod: Mod;

  before(async () => {
    await setupMocks();
    mod = await import("../components/registries");
  });

  describe("with release and preview members", () => {
    let registries: InstanceType<Mod["Registries"]>;
    before(async () => {
      await setupMocks();
      registries = new mod.Registries("registries", {
        project: "example-cq-release",
        writerMember: "serviceAccount:rel@example-cq-release.iam.gserviceaccount.com",
        readerMember: "serviceAccount:pre@example-cq-release.iam.gserviceaccount.com",
      });
      await unwrap(registries.repositoryName);
      await settle();
    });

    it("registers the component with its token", () => {
      assert.equal(byName("registries").type, "cq-release:registries:Registries");
    });

    it("enables the four APIs and never disables them on destroy", () => {
      const apis = customResources().filter((r) => r.type === "gcp:projects/service:Service");
      assert.deepEqual(apis.map((r) => r.inputs.service).sort(), [
        "artifactregistry.googleapis.com",
        "iam.googleapis.com",
        "iamcredentials.googleapis.com",
        "sts.googleapis.com",
      ]);
      for (const api of apis) {
        assert.equal(api.inputs.disableOnDestroy, false);
        assert.equal(api.inputs.project, "example-cq-release");
        assert.ok(api.name.startsWith("registries-"), api.name);
      }
    });

    it("creates the protected Artifact Registry repository gcr.io in us (DOCKER)", () => {
      const repo = byName("registries-gcr-io");
      assert.equal(repo.type, "gcp:artifactregistry/repository:Repository");
      assert.equal(repo.inputs.repositoryId, "gcr.io");
      assert.equal(repo.inputs.location, "us");
      assert.equal(repo.inputs.format, "DOCKER");
      assert.equal(repo.protect, true);
    });

    it("keeps release tags, latest and the build cache, and deletes nothing (evidence is untagged)", () => {
      const repo = byName("registries-gcr-io");
      assert.equal(repo.inputs.cleanupPolicyDryRun, false);
      assert.deepEqual(repo.inputs.cleanupPolicies, [
        {
          id: "keep-releases-and-cache",
          action: "KEEP",
          condition: { tagState: "TAGGED", tagPrefixes: ["v", "latest", "buildcache-"] },
        },
      ]);
    });

    it("grants writer on the repository to the release member only, reader to preview", () => {
      const bindings = customResources().filter(
        (r) => r.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
      );
      assert.deepEqual(
        bindings.map((b) => [b.name, b.inputs.role, b.inputs.member, b.inputs.repository, b.inputs.location]),
        [
          [
            "registries-release-writer",
            "roles/artifactregistry.writer",
            "serviceAccount:rel@example-cq-release.iam.gserviceaccount.com",
            "gcr.io",
            "us",
          ],
          [
            "registries-preview-reader",
            "roles/artifactregistry.reader",
            "serviceAccount:pre@example-cq-release.iam.gserviceaccount.com",
            "gcr.io",
            "us",
          ],
        ],
      );
      // No project-level IAM: the release identity can write to this repository and nothing else.
      assert.equal(
        registrations.filter((r) => r.type.includes("IAMMember") || r.type.includes("IAMBinding")).length,
        0,
      );
    });

    it("parents every child to the component", () => {
      const component = registrations.find((r) => r.name === "registries");
      assert.ok(component);
      for (const child of customResources()) {
        assert.match(child.parent, /Registries::registries$/, child.name);
      }
    });
  });

  it("skips APIs another component enables and binds nobody without members", async () => {
    await setupMocks();
    const r = new mod.Registries("reg2", {
      project: "example-cq-release",
      skipApis: ["iam.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com"],
    });
    await unwrap(r.repositoryName);
    await settle();
    assert.deepEqual(
      customResources().map((x) => x.type),
      [
        "gcp:projects/service:Service",
        "time:index/sleep:Sleep",
        "gcp:artifactregistry/repository:Repository",
      ],
    );
  });

  describe("public read (gcrPublic)", () => {
    const iamMembers = () =>
      customResources().filter(
        (r) => r.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
      );
    const make = async (publicRead: boolean | undefined) => {
      await setupMocks();
      const r = new mod.Registries("registries", {
        project: "example-cq-release",
        writerMember: "serviceAccount:rel@example-cq-release.iam.gserviceaccount.com",
        ...(publicRead === undefined ? {} : { publicRead }),
      });
      await unwrap(r.repositoryName);
      await settle();
    };

    it("grants allUsers roles/artifactregistry.reader on the gcr.io repository when public", async () => {
      await make(true);
      const pub = byName("registries-public-reader");
      assert.equal(pub.type, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember");
      assert.deepEqual(
        [pub.inputs.role, pub.inputs.member, pub.inputs.repository, pub.inputs.location, pub.inputs.project],
        ["roles/artifactregistry.reader", mod.PUBLIC_MEMBER, "gcr.io", "us", "example-cq-release"],
      );
      assert.equal(mod.PUBLIC_MEMBER, "allUsers");
      assert.match(pub.parent, /Registries::registries$/);
      // Read only: the public member never gets a role that can push.
      assert.deepEqual(
        iamMembers()
          .filter((b) => b.inputs.member === "allUsers")
          .map((b) => b.inputs.role),
        ["roles/artifactregistry.reader"],
      );
    });

    for (const publicRead of [false, undefined]) {
      it(`grants nothing to allUsers when private (publicRead ${String(publicRead)})`, async () => {
        await make(publicRead);
        assert.deepEqual(
          iamMembers().map((b) => b.name),
          ["registries-release-writer"],
        );
        assert.ok(!iamMembers().some((b) => b.inputs.member === "allUsers"));
      });
    }
  });
});
