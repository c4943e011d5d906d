// The release `pulumi up --target` values select exactly the image component and its children,
// checked against the URNs the whole program registers under mocks (prod: every component on).
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import {
  PLUGIN_IMAGE_NAME,
  PLUGIN_IMAGE_TYPE,
  pluginImageUrn,
  releaseTargets,
  targetMatches,
} from "../lib/imageTarget";
import { PROD, registrations, runProgram, settle, unwrap } from "./mocks";

describe("imageTarget: Pulumi's --target matching", () => {
  const urn = "urn:pulumi:prod::p::cq-release:image:PluginImage$docker-build:index:Image::plugin-linux-amd64";
  const cases: [string, string, string, boolean][] = [
    ["a literal matches itself", urn, urn, true],
    ["a literal matches nothing else", urn.replace("amd64", "arm64"), urn, false],
    ["`**` crosses `:` and `$`", "urn:pulumi:prod::p::cq-release:image:PluginImage$**", urn, true],
    [
      "`*` does not cross `:`",
      "urn:pulumi:prod::p::cq-release:image:PluginImage$*::plugin-linux-amd64",
      urn,
      false,
    ],
    [
      "`*` matches within a segment",
      "urn:pulumi:prod::p::cq-release:image:PluginImage$docker-build:index:*::plugin-*",
      urn,
      true,
    ],
    [
      "regex characters are literal",
      "urn:pulumi:prod::p::cq-release:image:PluginImage$**::plugin.linux-amd64*",
      urn,
      false,
    ],
  ];
  for (const [what, target, u, want] of cases) {
    it(`${what}`, () => assert.equal(targetMatches(target, u), want));
  }

  it("builds the component URN and refuses a stack name that would widen the glob", () => {
    assert.equal(
      pluginImageUrn("prod"),
      "urn:pulumi:prod::cq-source-s3-release::cq-release:image:PluginImage::plugin",
    );
    assert.throws(() => pluginImageUrn("*"), /not a plain stack name/);
    assert.throws(() => pluginImageUrn(""), /not a plain stack name/);
  });
});

describe("imageTarget: the release targets on the prod program", () => {
  let urns: { type: string; name: string; urn: string; parent: string }[];

  before(async () => {
    const program = await runProgram(PROD);
    await unwrap(program.pullCommands as pulumi.Output<string[]>);
    await settle();
    urns = registrations.map((r) => ({ type: r.type, name: r.name, urn: r.urn, parent: r.parent }));
  });

  const targeted = (urn: string) => releaseTargets("test").some((t) => targetMatches(t, urn));

  it("index.ts creates the image component under the name and type the targets use", () => {
    const found = urns.filter((r) => r.type === PLUGIN_IMAGE_TYPE);
    assert.deepEqual(
      found.map((r) => r.name),
      [PLUGIN_IMAGE_NAME],
    );
    assert.equal(found[0].urn, pluginImageUrn("test"));
  });

  it("selects the component and every resource below it", () => {
    const component = pluginImageUrn("test");
    const below = new Set([component]);
    for (let grew = true; grew;) {
      grew = false;
      for (const r of urns) {
        if (below.has(r.parent) && !below.has(r.urn)) {
          below.add(r.urn);
          grew = true;
        }
      }
    }
    assert.ok(below.size > 2, "the component has children");
    for (const urn of below) assert.ok(targeted(urn), `not targeted: ${urn}`);
    assert.ok(urns.some((r) => r.type === "docker-build:index:Index" && targeted(r.urn)));
  });

  it("selects nothing else: no identity, registry, repository setting or other resource", () => {
    const component = pluginImageUrn("test");
    const others = urns.filter((r) => r.urn !== component && !r.urn.includes(`::${PLUGIN_IMAGE_TYPE}$`));
    assert.ok(
      others.some((r) => r.type.startsWith("gcp:")),
      "prod registers GCP resources",
    );
    assert.ok(
      others.some((r) => r.type.startsWith("github:")),
      "prod registers GitHub resources",
    );
    assert.deepEqual(
      others.filter((r) => targeted(r.urn)).map((r) => r.urn),
      [],
    );
  });
});
