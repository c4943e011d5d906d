import * as assert from "node:assert/strict";

import { imageRepositories } from "../lib/imageRegistries";

describe("imageRegistries: repositories", () => {
  it("lists enabled registries, gcr first, ghcr owner lowercased", () => {
    assert.deepEqual(
      imageRepositories({
        gcr: true,
        ghcr: true,
        gcpProject: "p-123456",
        githubOwner: "Example-Org",
        imageName: "cq-source-s3",
        localRegistry: "127.0.0.1:5000",
      }),
      [
        { key: "gcr", address: "gcr.io", repository: "gcr.io/p-123456/cq-source-s3" },
        { key: "ghcr", address: "ghcr.io", repository: "ghcr.io/example-org/cq-source-s3" },
        { key: "local", address: "127.0.0.1:5000", repository: "127.0.0.1:5000/cq-source-s3" },
      ],
    );
  });
  it("lists only the local registry for the local stack", () => {
    assert.deepEqual(
      imageRepositories({
        gcr: false,
        ghcr: false,
        githubOwner: "o",
        imageName: "x",
        localRegistry: "127.0.0.1:5000",
      }).map((r) => r.key),
      ["local"],
    );
  });
  it("refuses gcr without a project", () => {
    assert.throws(() => imageRepositories({ gcr: true, ghcr: false, githubOwner: "o", imageName: "x" }), {
      message: "gcr is enabled but gcpProject is not set",
    });
  });
});
