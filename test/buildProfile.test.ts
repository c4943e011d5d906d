// The bench's breakdown parsers (scripts/lib/buildProfile.ts), by tables of real-shaped input:
// BuildKit plain progress, `go build -debug-actiongraph` actions, GODEBUG=inittrace=1 lines.
import * as assert from "node:assert/strict";

import {
  compileProfile,
  type GoAction,
  median,
  moduleOf,
  parseInitTrace,
  requireCompiled,
  stepDurations,
} from "../scripts/lib/buildProfile";

describe("bench breakdown: BuildKit step durations", () => {
  const digest = `sha256:${"c".repeat(64)}`;
  const rows: [string, string[], { step: string; seconds: number }[]][] = [
    [
      "a step that ran, one cached, one unfinished",
      [
        "#5 [build 2/7] COPY go.mod go.sum ./",
        "#5 CACHED",
        "#6 [build 3/7] RUN --mount=type=cache,target=/go/pkg/mod go mod download",
        "#6 12.01 go: downloading github.com/x/y v1.0.0",
        "#6 DONE 14.2s",
        "#7 [build 7/7] RUN go build -o /out/cq-source-s3 .",
      ],
      [{ step: "[build 3/7] RUN --mount=type=cache,target=/go/pkg/mod go mod download", seconds: 14.2 }],
    ],
    [
      "the export's sub-steps, a digest dropped from the name",
      [
        "#12 exporting to image",
        "#12 exporting layers 0.4s done",
        "#12 rewriting layers with source-date-epoch 1 0.3s done",
        `#12 exporting manifest ${digest} 0.0s done`,
        "#12 pushing layers 1.25s done",
        "#12 DONE 2.1s",
      ],
      [
        { step: "exporting to image › exporting layers", seconds: 0.4 },
        { step: "exporting to image › rewriting layers with source-date-epoch 1", seconds: 0.3 },
        { step: "exporting to image › exporting manifest", seconds: 0 },
        { step: "exporting to image › pushing layers", seconds: 1.3 },
        { step: "exporting to image", seconds: 2.1 },
      ],
    ],
    [
      "the same step twice is summed; unrelated lines and an unknown DONE are ignored",
      ["noise", "#3 [internal] load metadata", "#3 DONE 0.5s", "#3 DONE 0.25s", "#9 DONE 4.0s", "#3 ERROR x"],
      [{ step: "[internal] load metadata", seconds: 0.8 }],
    ],
  ];
  for (const [what, lines, want] of rows) {
    it(what, () => assert.deepEqual(stepDurations(lines), want));
  }
});

describe("bench breakdown: where the Go compile spends its CPU", () => {
  it("names a package's module: std, host/owner/repo or host/name, a major version kept", () => {
    const table: [string, string][] = [
      ["fmt", "std"],
      ["internal/abi", "std"],
      ["github.com/apache/arrow-go/v18/arrow/compute", "github.com/apache/arrow-go/v18"],
      ["github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws-sdk-go-v2"],
      ["google.golang.org/grpc/internal/transport", "google.golang.org/grpc"],
      ["gopkg.in/yaml.v3", "gopkg.in/yaml.v3"],
      ["github.com/goccy/go-json", "github.com/goccy/go-json"],
      ["golang.org/x/net/http2", "golang.org/x/net"],
    ];
    for (const [pkg, want] of table) assert.equal(moduleOf(pkg), want, pkg);
  });

  it("sums compiles by package and module, times the link and the whole graph", () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const actions: GoAction[] = [
      { Mode: "build check cache", Package: "fmt", TimeStart: t(0), TimeDone: t(0) },
      {
        Mode: "build",
        Package: "fmt",
        CmdReal: 2e9,
        CmdUser: 1.5e9,
        CmdSys: 0.5e9,
        TimeStart: t(0),
        TimeDone: t(2),
      },
      {
        Mode: "build",
        Package: "github.com/apache/arrow-go/v18/arrow/compute",
        CmdReal: 9e9,
        CmdUser: 8e9,
        CmdSys: 1e9,
        TimeStart: t(1),
        TimeDone: t(10),
      },
      {
        Mode: "build",
        Package: "github.com/apache/arrow-go/v18/arrow",
        CmdReal: 3e9,
        CmdUser: 3e9,
        CmdSys: 0,
      },
      { Mode: "build", Package: "cached/not/compiled" },
      { Mode: "link", Package: "main", CmdReal: 4.04e9, TimeStart: t(10), TimeDone: t(14) },
    ];
    assert.deepEqual(compileProfile(actions, 2), {
      packages: 3,
      wallSeconds: 14,
      compileCpuSeconds: 14,
      linkSeconds: 4,
      topPackages: [
        { name: "github.com/apache/arrow-go/v18/arrow/compute", cpuSeconds: 9 },
        { name: "github.com/apache/arrow-go/v18/arrow", cpuSeconds: 3 },
      ],
      topModules: [
        { name: "github.com/apache/arrow-go/v18", cpuSeconds: 12, packages: 2 },
        { name: "std", cpuSeconds: 2, packages: 1 },
      ],
    });
  });

  it("an empty graph (everything cached) is zeros, not a crash", () => {
    assert.deepEqual(compileProfile([]), {
      packages: 0,
      wallSeconds: 0,
      compileCpuSeconds: 0,
      linkSeconds: 0,
      topPackages: [],
      topModules: [],
    });
  });
});

describe("bench breakdown: Go's package inits before main (GODEBUG=inittrace=1)", () => {
  it("sums init clock, finds when the last init ended, names the slowest", () => {
    const text = [
      "init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs",
      "init github.com/santhosh-tekuri/jsonschema/v6 @6.5 ms, 2.3 ms clock, 1700704 bytes, 21279 allocs",
      "init github.com/apache/arrow-go/v18/arrow/compute @9.2 ms, 1.8 ms clock, 568496 bytes, 6577 allocs",
      "init google.golang.org/grpc @13 ms, 0.10 ms clock, 28600 bytes, 476 allocs",
      "Usage: cq-source-s3 [command]",
    ].join("\n");
    assert.deepEqual(parseInitTrace(text, 2), {
      packages: 4,
      clockMs: 4.2,
      doneAtMs: 13.1,
      top: [
        { name: "github.com/santhosh-tekuri/jsonschema/v6", ms: 2.3 },
        { name: "github.com/apache/arrow-go/v18/arrow/compute", ms: 1.8 },
      ],
    });
  });

  it("no trace lines (GODEBUG not honoured) gives zeros", () => {
    assert.deepEqual(parseInitTrace("serve: listening\n"), { packages: 0, clockMs: 0, doneAtMs: 0, top: [] });
  });
});

describe("bench breakdown: median", () => {
  const rows: [number[], number][] = [
    [[5], 5],
    [[300, 10, 20], 20],
    [[4, 1, 3, 2], 2.5],
  ];
  for (const [xs, want] of rows)
    it(`of ${JSON.stringify(xs)} is ${want}`, () => assert.equal(median(xs), want));
});

describe("requireCompiled: a cold compile profile must have compiled something", () => {
  it("accepts hundreds of packages", () =>
    assert.doesNotThrow(() => requireCompiled({ packages: 773, compileCpuSeconds: 158 })));
  for (const p of [
    { packages: 0, compileCpuSeconds: 0 },
    { packages: 0, compileCpuSeconds: 3 },
    { packages: 12, compileCpuSeconds: 0 },
  ]) {
    it(`refuses ${JSON.stringify(p)}`, () =>
      assert.throws(
        () => requireCompiled(p),
        new RegExp(`^Error: the cold compile profile counted ${p.packages} packages compiled: refused$`),
      ));
  }
});
