// The two wings of the house, kept apart (README, "Layout"): what runs inside `pulumi up` (index.ts
// → components/ → lib/) and what runs around a release (tooling/, called by scripts/ and the
// workflows). Imports only go down: the program never imports the tooling, scripts or tests; no rule
// module (lib/) imports a component; the tooling reads the program's rules (lib/) and nothing else
// of the repository. Neither lib/ nor tooling/ loads a resource provider's SDK: registering
// resources is the components' job. Every import form counts (import, import type, export … from,
// require, dynamic import), as TypeScript's own pre-processor finds them.
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");

/** The rooms: where a module lives, by its path from the repository root. */
type Room = "index" | "components" | "lib" | "tooling" | "scripts" | "test" | "elsewhere";

function roomOf(relative: string): Room {
  if (relative === "index.ts") return "index";
  const top = relative.split(path.sep)[0];
  return (["components", "lib", "tooling", "scripts", "test"] as const).find((r) => r === top) ?? "elsewhere";
}

/** Where each room may import from in this repository (besides packages). */
const ALLOWED: Readonly<Record<"index" | "components" | "lib" | "tooling", readonly Room[]>> = {
  index: ["components", "lib"],
  components: ["components", "lib"],
  lib: ["lib"],
  tooling: ["tooling", "lib"],
};

/** Packages that register resources (provider SDKs): only the components and index.ts load them. */
const PROVIDER_SDKS = ["@pulumi/gcp", "@pulumi/docker-build", "@pulumi/github", "@pulumiverse/time"];

/** Every .ts file under `dir` (relative to the root), recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(rel);
    return e.isFile() && e.name.endsWith(".ts") ? [rel] : [];
  });
}

interface Import {
  readonly from: string;
  readonly specifier: string;
  /** The room of a relative import's target; undefined for a package. */
  readonly room?: Room;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith(".")) return { from: file, specifier };
    const target = path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), specifier));
    return { from: file, specifier, room: target.startsWith("..") ? "elsewhere" : roomOf(target) };
  });
}

const WINGS = ["index.ts", ...tsFiles("components"), ...tsFiles("lib"), ...tsFiles("tooling")];
const IMPORTS = WINGS.flatMap(importsOf);

describe("the house: the program and the tooling around it, imports only going down", () => {
  it("sees every module of both wings and their imports (the checks below are not vacuous)", () => {
    for (const room of ["components", "lib", "tooling"] as const) {
      assert.ok(WINGS.filter((f) => roomOf(f) === room).length >= 5, `${room}/ has at least 5 modules`);
    }
    const seen = (from: string, room: Room) => IMPORTS.some((i) => i.from === from && i.room === room);
    assert.ok(seen("index.ts", "components"), "index.ts → components/");
    assert.ok(seen(path.join("components", "image.ts"), "lib"), "components/image.ts → lib/");
    assert.ok(seen(path.join("tooling", "releaseSteps.ts"), "lib"), "tooling/releaseSteps.ts → lib/");
    assert.ok(
      IMPORTS.some((i) => i.specifier === "@pulumi/gcp" && roomOf(i.from) === "components"),
      "components/ load @pulumi/gcp",
    );
  });

  for (const room of Object.keys(ALLOWED) as (keyof typeof ALLOWED)[]) {
    const name = room === "index" ? "index.ts" : `${room}/`;
    it(`${name} imports only from ${ALLOWED[room].map((r) => `${r}/`).join(" and ")}`, () => {
      const wrong = IMPORTS.filter(
        (i) => roomOf(i.from) === room && i.room !== undefined && !ALLOWED[room].includes(i.room),
      ).map((i) => `${i.from}: "${i.specifier}" (${i.room})`);
      assert.deepEqual(wrong, []);
    });
  }

  it("lib/ and tooling/ load no resource provider SDK", () => {
    const wrong = IMPORTS.filter(
      (i) =>
        (roomOf(i.from) === "lib" || roomOf(i.from) === "tooling") &&
        PROVIDER_SDKS.some((p) => i.specifier === p || i.specifier.startsWith(`${p}/`)),
    ).map((i) => `${i.from}: "${i.specifier}"`);
    assert.deepEqual(wrong, []);
  });
});
