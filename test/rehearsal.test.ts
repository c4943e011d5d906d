// Pure helpers of the rehearsal (local stack, e2e, bench), tested by tables. The e2e suite
// itself (test/e2e/*.e2e.ts) needs the services and runs with `npm run test:e2e`.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

import { requireCold, stepState } from "../scripts/lib/buildlog";
import { decodeVersions, requireProtocol3 } from "../scripts/lib/discovery";
import { rehearsalEnv } from "../scripts/lib/env";
import { deriveReleaseTags } from "../lib/release";
import { describePush, effectiveConfig, gitConfig, parseSetting } from "../scripts/local-stack";

describe("rehearsal helpers", () => {
  describe("parseSetting", () => {
    const ok: [string, [string, string]][] = [
      ["version=v1.2.3", ["version", "v1.2.3"]],
      ["cq-source-s3-release:commit=abc1234", ["commit", "abc1234"]],
      ['platforms=["linux/amd64"]', ["platforms", '["linux/amd64"]']],
      ["commitTime=", ["commitTime", ""]],
      ["a=b=c", ["a", "b=c"]],
    ];
    for (const [arg, want] of ok) it(`parses ${arg}`, () => assert.deepStrictEqual(parseSetting(arg), want));
    for (const bad of ["version", "=v1", "1x=2", "bad-key=1", ""]) {
      it(`rejects ${JSON.stringify(bad)} naming it`, () =>
        assert.throws(
          () => parseSetting(bad),
          new RegExp(`--set ${JSON.stringify(bad).replace(/[[\]]/g, "\\$&")}`),
        ));
    }
  });

  describe("gitConfig: a changed tree never takes a release's tags", () => {
    // One repository, HEAD tagged v1.3.0; each case changes the tree and is undone after it.
    let dir = "";
    const g = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitconfig-"));
      g("init", "-q", "-b", "main");
      fs.writeFileSync(path.join(dir, ".gitignore"), ".pulumi-local/\n");
      fs.writeFileSync(path.join(dir, "main.go"), "package main\n");
      g("add", ".");
      g("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "release");
      g("tag", "v1.3.0");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    afterEach(() => {
      g("reset", "-q", "--hard");
      g("clean", "-q", "-fdx");
    });
    const tagsOf = (c: Record<string, string>) =>
      deriveReleaseTags({ version: c.version, commit: c.commit, releasedVersions: ["v1.3.0"] }).map(
        (t) => t.tag,
      );
    const cases: [string, () => void, string][] = [
      ["a clean tree is the release", () => {}, "v1.3.0"],
      ["an ignored file changes nothing", () => fs.mkdirSync(path.join(dir, ".pulumi-local")), "v1.3.0"],
      ["a changed file", () => fs.appendFileSync(path.join(dir, "main.go"), "var x = 1\n"), "v1.3.0-dirty"],
      [
        "a new untracked file",
        () => fs.writeFileSync(path.join(dir, "new.go"), "package main\n"),
        "v1.3.0-dirty",
      ],
      ["a staged deletion", () => g("rm", "-q", "main.go"), "v1.3.0-dirty"],
    ];
    for (const [name, change, version] of cases) {
      it(`${name}: version ${version}`, () => {
        change();
        const c = gitConfig(dir);
        assert.strictEqual(c.version, version);
        assert.match(c.commit, /^[0-9a-f]{40}$/);
        const sha = c.commit.slice(0, 7);
        // The dirty build's tags are its own: neither the release's exact tags nor a floating one.
        assert.deepStrictEqual(
          tagsOf(c),
          version === "v1.3.0"
            ? [`v1.3.0-${sha}`, "v1.3.0", "v1.3", "latest"]
            : [`v1.3.0-dirty-${sha}`, "v1.3.0-dirty"],
        );
      });
    }
    it("an untagged HEAD supplies no version (the stack's own stays)", () => {
      g(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "next",
      );
      try {
        assert.deepStrictEqual(Object.keys(gitConfig(dir)).sort(), ["commit", "commitTime"]);
      } finally {
        g("reset", "-q", "--hard", "v1.3.0");
      }
    });
  });

  describe("effectiveConfig: a local run builds its tree", () => {
    const P = "cq-source-s3-release:";
    const reuse = '{"linux/amd64":"sha256:aa","linux/arm64":"sha256:bb"}';
    const base = { [`${P}version`]: "v0.1.0", [`${P}reusePlatformDigests`]: reuse };
    const cases: [string, Record<string, string>, boolean, Record<string, unknown>, string[]][] = [
      ["the release tools keep the guard's decision", {}, false, base, []],
      ["local:* drops it", {}, true, { [`${P}version`]: "v0.1.0" }, ["reusePlatformDigests"]],
      [
        "an override wins over the file, and is kept",
        { reusePlatformDigests: "{}", version: "v1.3.0-dirty" },
        true,
        { [`${P}version`]: "v1.3.0-dirty", [`${P}reusePlatformDigests`]: "{}" },
        [],
      ],
      ["nothing to drop", { commit: "abc1234" }, true, { [`${P}commit`]: "abc1234" }, []],
    ];
    for (const [name, overrides, buildTree, want, dropped] of cases) {
      it(name, () => {
        const b = name === "nothing to drop" ? {} : base;
        assert.deepStrictEqual(effectiveConfig(b, overrides, buildTree), { config: want, dropped });
      });
    }
    it("leaves the base object alone", () => {
      const b = { ...base };
      effectiveConfig(b, { version: "v9.9.9" }, true);
      assert.deepStrictEqual(b, base);
    });
  });

  describe("decodeVersions (GetVersions.Response)", () => {
    const cases: [string, number[], number[]][] = [
      ["empty", [], []],
      ["packed 0..3", [0x0a, 0x04, 0, 1, 2, 3], [0, 1, 2, 3]],
      ["unpacked", [0x08, 0x03, 0x08, 0x02], [3, 2]],
      ["multi-byte varint", [0x0a, 0x02, 0xac, 0x02], [300]],
      ["unknown fields skipped", [0x10, 0x05, 0x1a, 0x01, 0x41, 0x08, 0x03], [3]],
    ];
    for (const [name, bytes, want] of cases) {
      it(name, () => assert.deepStrictEqual(decodeVersions(Buffer.from(bytes)), want));
    }
    it("rejects a truncated varint", () =>
      assert.throws(() => decodeVersions(Buffer.from([0x08, 0x80])), /truncated/));
    it("rejects an unsupported wire type", () =>
      assert.throws(() => decodeVersions(Buffer.from([0x0d, 0, 0, 0, 0])), /wire type 5/));
  });

  describe("stepState (BuildKit plain progress)", () => {
    const log = [
      "#7 [build 3/6] RUN --mount=type=cache,target=/go/pkg/mod     go mod download",
      "#7 CACHED",
      "#9 [build 6/6] RUN --mount=type=cache,target=/go/pkg/mod     go build -trimpath -o /out/x .",
      "#9 0.512 compiling",
      "#9 DONE 12.3s",
      "#10 [stage-1 2/2] COPY --from=build /out/cq-source-s3 /cq-source-s3",
    ];
    const cases: [RegExp, string][] = [
      [/go mod download/, "cached"],
      [/go build/, "ran"],
      [/COPY --from=build/, "unfinished"],
      [/apt-get/, "absent"],
    ];
    for (const [re, want] of cases) it(`${re} → ${want}`, () => assert.strictEqual(stepState(log, re), want));
    it("needs every matching step cached", () =>
      assert.strictEqual(
        stepState([...log, "#11 [build 3/6] RUN go mod download", "#11 DONE 3.0s"], /go mod download/),
        "ran",
      ));
  });

  describe("the bench's refusals: a figure that did less work than it claims", () => {
    const ran = ["#9 [build 6/6] RUN go build -o /out/x .", "#9 DONE 12.3s"];
    const cached = ["#9 [build 6/6] RUN go build -o /out/x .", "#9 CACHED"];
    it("requireCold accepts a build whose every Image ran go build", () =>
      assert.doesNotThrow(() =>
        requireCold("cold", { "plugin-linux-amd64": ran, "plugin-linux-arm64": ran }),
      ));
    it("requireCold refuses one Image's cache hit, naming it", () =>
      assert.throws(
        () => requireCold("cold build, 2 arch", { "plugin-linux-amd64": ran, "plugin-linux-arm64": cached }),
        /^Error: cold build, 2 arch: not a cold build \(go build did not run in plugin-linux-arm64\); the figure is refused$/,
      ));
    it("requireCold refuses a build with no log at all", () =>
      assert.throws(() => requireCold("cold", {}), /go build did not run in any Image: no build log/));
    it("requireCold refuses a go build that never finished", () =>
      assert.throws(() => requireCold("cold", { x: [ran[0]] }), /did not run in x\)/));
    it("requireProtocol3 passes the time of a plugin's answer", () =>
      assert.strictEqual(requireProtocol3({ versions: [0, 1, 2, 3], ms: 17 }), 17));
    it("requireProtocol3 refuses an answer without protocol 3", () =>
      assert.throws(
        () => requireProtocol3({ versions: [1, 2], ms: 17 }),
        /^Error: GetVersions answered \[1,2\], no protocol 3: the start figure is refused$/,
      ));
  });

  describe("rehearsalEnv", () => {
    it("reads a variable of scripts/env.sh", () =>
      assert.strictEqual(rehearsalEnv("CQ_REGISTRY", { CQ_REGISTRY: "127.0.0.1:5000" }), "127.0.0.1:5000"));
    const missing: [string, NodeJS.ProcessEnv][] = [
      ["unset", {}],
      ["empty", { CQ_DOCKER: "" }],
    ];
    for (const [how, env] of missing) {
      it(`throws naming the variable when it is ${how}`, () =>
        assert.throws(
          () => rehearsalEnv("CQ_DOCKER", env),
          /^Error: CQ_DOCKER is not set \(source scripts\/env\.sh\)$/,
        ));
    }
  });

  describe("describePush", () => {
    it("lists every repository:tag and a docker run line with the local ref", () => {
      const lines = describePush({
        imageRepositories: ["127.0.0.1:5000/cq-source-s3"],
        imageTags: ["v1.0.0-abc1234", "v1.0.0"],
        imageRefs: { local: "127.0.0.1:5000/cq-source-s3@sha256:" + "a".repeat(64) },
      });
      assert.ok(lines.includes("  127.0.0.1:5000/cq-source-s3:v1.0.0-abc1234"));
      assert.ok(lines.includes("  127.0.0.1:5000/cq-source-s3:v1.0.0"));
      assert.match(
        lines[lines.length - 1],
        /run --rm --read-only --cap-drop ALL -p 127\.0\.0\.1:7777:7777 127\.0\.0\.1:5000\/cq-source-s3@sha256:a{64}$/,
      );
    });
    it("prints no run line without refs", () => assert.deepStrictEqual(describePush({}), ["Pushed:"]));
  });

  describe("scripts/env.sh: which Docker daemon and run directory", () => {
    // env.sh as a fresh shell sees it: only HOME, PATH and the variables of the case.
    const envOf = (vars: Record<string, string>): Record<string, string> => {
      const out = execFileSync("bash", ["scripts/env.sh"], {
        encoding: "utf8",
        env: { HOME: os.tmpdir(), PATH: process.env.PATH ?? "/usr/bin:/bin", ...vars },
      });
      return Object.fromEntries(
        out
          .trim()
          .split("\n")
          .map((line) => /^export ([A-Z_]+)=(.*)$/.exec(line))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1], m[2]]),
      );
    };
    let dir = "";
    let sock = "";
    let server: net.Server | undefined;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "cq-env-"));
      sock = path.join(dir, "docker.sock");
      server = net.createServer();
      await new Promise<void>((resolve) => server?.listen(sock, resolve));
    });
    after(async () => {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reuses a Docker daemon socket that exists and is usable", () =>
      assert.strictEqual(envOf({ CQ_SYSTEM_DOCKER_SOCK: sock }).DOCKER_HOST, `unix://${sock}`));
    it("starts its own daemon on a socket in the run directory when there is none", () =>
      assert.strictEqual(
        envOf({ CQ_SYSTEM_DOCKER_SOCK: path.join(dir, "absent.sock"), CQ_RUN_DIR: "/x/run" }).DOCKER_HOST,
        "unix:///x/run/docker.sock",
      ));
    it("does not take a plain file for a socket", () => {
      const file = path.join(dir, "file.sock");
      fs.writeFileSync(file, "");
      assert.strictEqual(
        envOf({ CQ_SYSTEM_DOCKER_SOCK: file, CQ_RUN_DIR: "/x/run" }).DOCKER_HOST,
        "unix:///x/run/docker.sock",
      );
    });
    it("keeps an explicit DOCKER_HOST", () =>
      assert.strictEqual(
        envOf({ CQ_SYSTEM_DOCKER_SOCK: sock, DOCKER_HOST: "unix:///elsewhere.sock" }).DOCKER_HOST,
        "unix:///elsewhere.sock",
      ));
    const uid = os.userInfo().uid;
    it(
      uid === 0
        ? "gives root /run/cq-rehearsal"
        : "gives a non-root user a run directory of its own, never /run",
      () => {
        const runDir = envOf({ CQ_SYSTEM_DOCKER_SOCK: "none" }).CQ_RUN_DIR;
        if (uid === 0) assert.strictEqual(runDir, "/run/cq-rehearsal");
        else assert.strictEqual(runDir, `/tmp/cq-rehearsal-${uid}`);
      },
    );
    it("puts a non-root user's run directory under XDG_RUNTIME_DIR when it is writable", function () {
      if (uid === 0) this.skip(); // root always uses /run; .ci/as-runner.sh runs this suite unprivileged
      assert.strictEqual(
        envOf({ XDG_RUNTIME_DIR: dir, CQ_SYSTEM_DOCKER_SOCK: "none" }).CQ_RUN_DIR,
        `${dir}/cq-rehearsal`,
      );
    });
  });
});

describe("scripts/compare-dist-records.sh: .ci/run's reproducibility check of the dist build", () => {
  const line = (c: string, file: string) => `${c.repeat(64)}  ${file}\n`;
  const IMAGE = line("1", "image:index") + line("2", "image:linux/amd64") + line("3", "image:linux/arm64");
  const FILES = line("a", "github/cq-source-s3_linux_amd64.zip") + line("b", "hub/package.json");
  const RECORD = IMAGE + FILES;
  let dir = "";
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cq-records-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the script on two records (undefined: the file does not exist): exit status and output. */
  function compare(first: string | undefined, second: string | undefined): { status: number; out: string } {
    const files = [first, second].map((text, i) => {
      const f = path.join(dir, `record-${i}-${Math.random().toString(16).slice(2)}`);
      if (text !== undefined) fs.writeFileSync(f, text);
      return f;
    });
    try {
      const out = execFileSync("bash", ["scripts/compare-dist-records.sh", ...files], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      return { status: 0, out };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { status: err.status, out: err.stdout + err.stderr };
    }
  }

  it("passes two identical records, counting the image's digests and the files", () => {
    assert.deepStrictEqual(compare(RECORD, RECORD), {
      status: 0,
      out: "dist records: the image index, 2 platform images and 2 files identical in two independent builds\n",
    });
  });
  const refused: [string, string | undefined, string | undefined, RegExp][] = [
    [
      "a file with other bytes",
      RECORD,
      IMAGE + line("a", "github/cq-source-s3_linux_amd64.zip") + line("c", "hub/package.json"),
      /two builds of one commit gave other dist files/,
    ],
    [
      "an image of other bytes",
      RECORD,
      line("1", "image:index") + line("2", "image:linux/amd64") + line("4", "image:linux/arm64") + FILES,
      /two builds of one commit gave other dist files/,
    ],
    ["records without the image", FILES, FILES, /record-0-\w+ has no 'image:index' line/],
    ["a file more", RECORD, RECORD + line("d", "hub/docs/extra.md"), /gave other dist files/],
    ["a missing record", RECORD, undefined, /record-1-\w+ is missing or empty/],
    ["two empty records (nothing recorded proves nothing)", "", "", /record-0-\w+ is missing or empty/],
    [
      "a line that is no checksum",
      RECORD,
      "not a checksum\n",
      /has a line that is not '<sha256> {2}<file>': not a checksum/,
    ],
  ];
  for (const [name, first, second, message] of refused) {
    it(`fails on ${name}`, () => {
      const r = compare(first, second);
      assert.strictEqual(r.status, 1, r.out);
      assert.match(r.out, message);
    });
  }
});
