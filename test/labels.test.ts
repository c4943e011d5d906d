import * as assert from "node:assert/strict";

import { DEFAULT_DESCRIPTION, ociLabels } from "../lib/labels";

const BASE = {
  owner: "example-org",
  repository: "cq-source-s3",
  version: "v1.2.3",
  commit: "abc1234def5678901234567890abcdef12345678",
  commitTime: "2025-03-04T05:06:07Z",
};
const O = "org.opencontainers.image";

describe("labels: OCI labels", () => {
  it("fills every standard label, created = commit time", () => {
    assert.deepEqual(ociLabels(BASE), {
      [`${O}.created`]: "2025-03-04T05:06:07Z",
      [`${O}.description`]: DEFAULT_DESCRIPTION,
      [`${O}.licenses`]: "Apache-2.0",
      [`${O}.revision`]: BASE.commit,
      [`${O}.source`]: "https://github.com/example-org/cq-source-s3",
      [`${O}.title`]: "cq-source-s3",
      [`${O}.url`]: "https://github.com/example-org/cq-source-s3",
      [`${O}.version`]: "v1.2.3",
    });
  });

  const overrides: [string, Record<string, string>, string, string | undefined][] = [
    ["title", { title: "cq-s3" }, `${O}.title`, "cq-s3"],
    ["description", { description: "d" }, `${O}.description`, "d"],
    ["licenses", { licenses: "MIT" }, `${O}.licenses`, "MIT"],
    ["vendor when set", { vendor: "Example Inc." }, `${O}.vendor`, "Example Inc."],
    ["no vendor when empty", { vendor: "" }, `${O}.vendor`, undefined],
    ["no vendor by default", {}, `${O}.vendor`, undefined],
    ["pre-release version as given", { version: "v1.2.3-rc.1" }, `${O}.version`, "v1.2.3-rc.1"],
    [
      "time with offset as given",
      { commitTime: "2025-03-04T07:06:07+02:00" },
      `${O}.created`,
      "2025-03-04T07:06:07+02:00",
    ],
  ];
  for (const [what, override, key, want] of overrides) {
    it(`sets ${what}`, () => {
      assert.equal(ociLabels({ ...BASE, ...override })[key], want);
    });
  }

  it("is deterministic: same commit, same labels (sorted keys)", () => {
    const a = ociLabels(BASE);
    assert.deepEqual(ociLabels({ ...BASE }), a);
    assert.deepEqual(Object.keys(a), [...Object.keys(a)].sort());
  });

  for (const key of ["owner", "repository", "version", "commit", "commitTime"] as const) {
    it(`rejects an empty ${key}`, () => {
      assert.throws(() => ociLabels({ ...BASE, [key]: " " }), { message: `OCI label input ${key} is empty` });
    });
  }
});
