// The Hub door's decisions (tooling/hub.ts) by tables: the package the SDK writes, the exact-version
// guard against what the Hub holds, the one action per publish error (texts as CLI v6.34.2 prints
// them), and the GET of a version against a fetch that records what it was asked.
import * as assert from "node:assert/strict";

import {
  checksumDifferences,
  fetchHubVersion,
  type HubPackage,
  hubErrorAction,
  hubPublishDecision,
  type HubVersion,
  parseHubPackage,
} from "../tooling/hub";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

/** package.json as the SDK's `package` command writes it (fields in its order). */
function packageJson(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema_version: 1,
    team: "infobloxopen",
    kind: "source",
    name: "s3",
    message: "cq-source-s3 v1.2.3",
    version: "v1.2.3",
    protocols: [3],
    supported_targets: [
      { os: "linux", arch: "amd64", path: "plugin-s3-v1.2.3-linux-amd64.zip", checksum: `sha256:${A}` },
      { os: "darwin", arch: "arm64", path: "plugin-s3-v1.2.3-darwin-arm64.zip", checksum: `sha256:${B}` },
    ],
    package_type: "native",
    ...over,
  });
}

const PKG: HubPackage = parseHubPackage(packageJson());
const held = (over: Partial<HubVersion> = {}): HubVersion => ({
  draft: false,
  supportedTargets: ["linux_amd64", "darwin_arm64"],
  checksums: [A, B],
  ...over,
});

describe("hub: parseHubPackage", () => {
  it("reads the team, kind, name, version and bare checksums per <os>_<arch>", () => {
    assert.equal(PKG.team, "infobloxopen");
    assert.equal(PKG.kind, "source");
    assert.equal(PKG.name, "s3");
    assert.equal(PKG.version, "v1.2.3");
    assert.deepEqual(
      [...PKG.checksums],
      [
        ["linux_amd64", A],
        ["darwin_arm64", B],
      ],
    );
  });
  const refused: [string, string, RegExp][] = [
    ["not JSON", "{", /package.json: not JSON/],
    ["schema 2", packageJson({ schema_version: 2 }), /schema_version 2, expected 1/],
    ["docker package", packageJson({ package_type: "docker" }), /package_type "docker", expected "native"/],
    ["team with a slash", packageJson({ team: "a/b" }), /team "a\/b" is not a Hub name/],
    ["no name", packageJson({ name: undefined }), /name undefined is not a Hub name/],
    ["version without v", packageJson({ version: "1.2.3" }), /version "1.2.3", expected v<semver>/],
    ["no targets", packageJson({ supported_targets: [] }), /supported_targets is empty/],
    [
      "bare checksum",
      packageJson({ supported_targets: [{ os: "linux", arch: "amd64", path: "x", checksum: A }] }),
      /checksum of linux_amd64 "a{64}", expected sha256:<64 hex>/,
    ],
    [
      "upper-case checksum",
      packageJson({
        supported_targets: [{ os: "linux", arch: "amd64", path: "x", checksum: `sha256:${A.toUpperCase()}` }],
      }),
      /checksum of linux_amd64/,
    ],
    [
      "a target twice",
      packageJson({
        supported_targets: [
          { os: "linux", arch: "amd64", path: "x", checksum: `sha256:${A}` },
          { os: "linux", arch: "amd64", path: "y", checksum: `sha256:${B}` },
        ],
      }),
      /linux_amd64 appears twice/,
    ],
  ];
  for (const [name, text, message] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => parseHubPackage(text), message));
  }
});

describe("hub: hubPublishDecision (an exact version is immutable)", () => {
  const table: [string, HubVersion | undefined, string, RegExp][] = [
    ["not on the Hub", undefined, "publish", /infobloxopen\/source\/s3@v1.2.3 is not on the Hub yet/],
    [
      "a draft with other checksums",
      held({ draft: true, checksums: [C, C] }),
      "publish",
      /is a draft.*replaced/,
    ],
    ["finalized, identical", held(), "published", /already published on the Hub with these exact checksums/],
    [
      "finalized, identical, targets in another order",
      held({ supportedTargets: ["darwin_arm64", "linux_amd64"], checksums: [B, A] }),
      "published",
      /nothing to do/,
    ],
    [
      "finalized, one checksum differs",
      held({ checksums: [A, C] }),
      "refuse",
      /other contents: darwin_arm64 \(Hub cccccccccccc…, this build bbbbbbbbbbbb…\)\. A published version is immutable; release a new version/,
    ],
    [
      "finalized, a target fewer",
      held({ supportedTargets: ["linux_amd64"], checksums: [A] }),
      "refuse",
      /darwin_arm64 \(Hub none, this build bbbbbbbbbbbb…\)/,
    ],
    [
      "finalized, a target more",
      held({ supportedTargets: ["linux_amd64", "darwin_arm64", "windows_amd64"], checksums: [A, B, C] }),
      "refuse",
      /windows_amd64 \(Hub cccccccccccc…, this build none\)/,
    ],
  ];
  for (const [name, hub, action, why] of table) {
    it(`${name}: ${action}`, () => {
      const d = hubPublishDecision(PKG, hub);
      assert.equal(d.action, action);
      assert.match(d.why, why);
    });
  }
  it("lists every differing target, sorted", () => {
    assert.deepEqual(
      checksumDifferences(PKG, held({ checksums: [C, C] })).map((d) => d.split(" ")[0]),
      ["darwin_arm64", "linux_amd64"],
    );
  });
});

describe("hub: hubErrorAction (the CLI's publish errors)", () => {
  const pkg = { team: "infobloxopen", kind: "source", name: "s3" };
  const table: [string, string, RegExp | undefined][] = [
    [
      "no key",
      "Error: failed to get auth token: failed to read token. Hint: You may need to run `cloudquery login` or set CLOUDQUERY_API_KEY",
      /no Hub API key in this job: set the stack's cloudqueryApiKey/,
    ],
    [
      "key refused",
      "Error: failed to create new draft version: 401: unauthorized",
      /the Hub refused the API key \(401\): create a new API key of team infobloxopen/,
    ],
    [
      "plugin not created",
      "Error: failed to create new draft version: 403: forbidden. Hint: You may need to create the plugin first",
      /no plugin infobloxopen\/source\/s3 this key may publish \(403\): create it once at https:\/\/cloud\.cloudquery\.io \(team infobloxopen, kind source, name s3\)/,
    ],
    [
      "already finalized",
      "Error: failed to create new draft version: 400: version v1.2.3 of infobloxopen/source/s3 is already published and cannot be changed",
      /already published on the Hub and a published version is immutable: release a new version/,
    ],
    [
      "an upload refused midway",
      "Error: failed to upload binaries: failed to upload binary: failed to upload file: status 403 Forbidden: expired",
      /the version stays a draft, which a re-run replaces/,
    ],
    ["something else", "Error: failed to upload docs: 422: bad page", undefined],
  ];
  for (const [name, output, action] of table) {
    it(name, () => {
      const got = hubErrorAction(output, pkg);
      if (action === undefined) assert.equal(got, undefined);
      else assert.match(got ?? "", action);
    });
  }
});

describe("hub: fetchHubVersion", () => {
  type Asked = { url: string; headers: Record<string, string> };
  const answering = (status: number, body: string, asked: Asked[] = []) => ({
    asked,
    fetch: (url: string, init: { headers: Record<string, string> }) => {
      asked.push({ url, headers: init.headers });
      return Promise.resolve({ status, text: () => Promise.resolve(body) });
    },
  });

  it("GETs the version with the key and reads what the Hub holds", async () => {
    const f = answering(
      200,
      JSON.stringify({ name: "v1.2.3", draft: false, supported_targets: ["linux_amd64"], checksums: [A] }),
    );
    const v = await fetchHubVersion(PKG, { apiUrl: "http://127.0.0.1:9/", apiKey: "k", fetch: f.fetch });
    assert.deepEqual(v, { draft: false, supportedTargets: ["linux_amd64"], checksums: [A] });
    assert.deepEqual(f.asked, [
      {
        url: "http://127.0.0.1:9/plugins/infobloxopen/source/s3/versions/v1.2.3",
        headers: { Accept: "application/json", Authorization: "Bearer k" },
      },
    ]);
  });
  it("sends no Authorization header without a key", async () => {
    const f = answering(404, "{}");
    assert.equal(await fetchHubVersion(PKG, { apiUrl: "http://h", fetch: f.fetch }), undefined);
    assert.deepEqual(f.asked[0].headers, { Accept: "application/json" });
  });
  const failures: [string, number, string, RegExp][] = [
    [
      "401",
      401,
      '{"message":"unauthorized"}',
      /401 \{"message":"unauthorized"\}; the Hub refused the API key/,
    ],
    ["500", 500, "oops", /: 500 oops$/],
    ["200 not JSON", 200, "<html>", /200 with a body that is not JSON/],
    [
      "200 without checksums",
      200,
      '{"draft":false,"supported_targets":[]}',
      /without draft, supported_targets and checksums/,
    ],
  ];
  for (const [name, status, body, message] of failures) {
    it(`throws on ${name}`, async () => {
      await assert.rejects(
        fetchHubVersion(PKG, { apiUrl: "http://h", apiKey: "k", fetch: answering(status, body).fetch }),
        message,
      );
    });
  }
});
