package releaseassets

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePackage writes a package as the SDK's `package` does (zip.Writer.Create, one entry named
// like the zip) with the given binaries, keyed os/arch; it returns the directory.
func writePackage(t *testing.T, bins map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var targets []Target
	for _, osArch := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"} {
		body, ok := bins[osArch]
		if !ok {
			continue
		}
		goos, goarch, _ := strings.Cut(osArch, "/")
		name := fmt.Sprintf("plugin-s3-v1.2.3-%s-%s", goos, goarch)
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		fw, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(fw, body); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".zip"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		targets = append(targets, Target{OS: goos, Arch: goarch, Path: name + ".zip", Checksum: "sha256:" + hex.EncodeToString(sum[:])})
	}
	writeManifest(t, dir, targets)
	return dir
}

func writeManifest(t *testing.T, dir string, targets []Target) {
	t.Helper()
	raw, err := json.Marshal(Manifest{Name: "s3", Version: "v1.2.3", SupportedTargets: targets})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

var fiveTargets = map[string]string{
	"linux/amd64":   "ELF amd64 binary",
	"linux/arm64":   "ELF arm64 binary",
	"darwin/amd64":  "Mach-O amd64 binary",
	"darwin/arm64":  "Mach-O arm64 binary",
	"windows/amd64": "PE amd64 binary",
}

func TestWriteEveryTarget(t *testing.T) {
	hub, out := writePackage(t, fiveTargets), t.TempDir()
	if err := Write(hub, out); err != nil {
		t.Fatal(err)
	}
	wantSums := ""
	for _, tc := range []struct{ target, asset, entry string }{
		{"darwin/amd64", "cq-source-s3_darwin_amd64.zip", "cq-source-s3"},
		{"darwin/arm64", "cq-source-s3_darwin_arm64.zip", "cq-source-s3"},
		{"linux/amd64", "cq-source-s3_linux_amd64.zip", "cq-source-s3"},
		{"linux/arm64", "cq-source-s3_linux_arm64.zip", "cq-source-s3"},
		{"windows/amd64", "cq-source-s3_windows_amd64.zip", "cq-source-s3.exe"},
	} {
		path := filepath.Join(out, tc.asset)
		r, err := zip.OpenReader(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if len(r.File) != 1 || r.File[0].Name != tc.entry {
			t.Fatalf("%s: entries %v, want one %q", tc.target, r.File, tc.entry)
		}
		f := r.File[0]
		if f.Mode() != 0o755 || !f.Modified.Equal(zipTime) {
			t.Errorf("%s: mode %v, modified %v; want 0755 at %v", tc.target, f.Mode(), f.Modified, zipTime)
		}
		rc, err := f.Open() // checks the CRC against the bytes
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		if err != nil || string(body) != fiveTargets[tc.target] {
			t.Errorf("%s: binary %q, %v; want %q", tc.target, body, err, fiveTargets[tc.target])
		}
		r.Close()
		raw, _ := os.ReadFile(path)
		sum := sha256.Sum256(raw)
		wantSums += hex.EncodeToString(sum[:]) + "  " + tc.asset + "\n"
	}
	if got, _ := os.ReadFile(filepath.Join(out, "checksums.txt")); string(got) != wantSums {
		t.Errorf("checksums.txt =\n%s\nwant (sha256sum format, sorted)\n%s", got, wantSums)
	}
}

// Two runs over one package give byte-identical assets: nothing depends on time or order.
func TestWriteIsReproducible(t *testing.T) {
	hub := writePackage(t, fiveTargets)
	a, b := t.TempDir(), t.TempDir()
	if err := Write(hub, a); err != nil {
		t.Fatal(err)
	}
	// Shuffle package.json's target order; the assets must not change.
	raw, _ := os.ReadFile(filepath.Join(hub, "package.json"))
	var m Manifest
	_ = json.Unmarshal(raw, &m)
	for i, j := 0, len(m.SupportedTargets)-1; i < j; i, j = i+1, j-1 {
		m.SupportedTargets[i], m.SupportedTargets[j] = m.SupportedTargets[j], m.SupportedTargets[i]
	}
	writeManifest(t, hub, m.SupportedTargets)
	if err := Write(hub, b); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(a)
	if len(entries) != 6 {
		t.Fatalf("%d files, want 5 zips and checksums.txt", len(entries))
	}
	for _, e := range entries {
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs (%v)", e.Name(), err)
		}
	}
}

func TestWriteRefusesDamagedPackages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, hub string)
		want   string
	}{
		{"tampered zip", func(t *testing.T, hub string) {
			p := filepath.Join(hub, "plugin-s3-v1.2.3-linux-amd64.zip")
			raw, _ := os.ReadFile(p)
			raw[len(raw)/2] ^= 1
			_ = os.WriteFile(p, raw, 0o644)
		}, "linux/amd64: plugin-s3-v1.2.3-linux-amd64.zip: checksum sha256:"},
		{"two files in a zip", func(t *testing.T, hub string) {
			var buf bytes.Buffer
			w := zip.NewWriter(&buf)
			for _, n := range []string{"a", "b"} {
				fw, _ := w.Create(n)
				_, _ = io.WriteString(fw, n)
			}
			_ = w.Close()
			sum := sha256.Sum256(buf.Bytes())
			_ = os.WriteFile(filepath.Join(hub, "two.zip"), buf.Bytes(), 0o644)
			writeManifest(t, hub, []Target{{OS: "linux", Arch: "amd64", Path: "two.zip", Checksum: "sha256:" + hex.EncodeToString(sum[:])}})
		}, "two.zip holds 2 files"},
		{"a target twice", func(t *testing.T, hub string) {
			tg := Target{OS: "linux", Arch: "amd64", Path: "plugin-s3-v1.2.3-linux-amd64.zip"}
			writeManifest(t, hub, []Target{tg, tg})
		}, "target linux/amd64 listed twice"},
		{"a path outside the package", func(t *testing.T, hub string) {
			writeManifest(t, hub, []Target{{OS: "linux", Arch: "amd64", Path: "../x.zip"}})
		}, "a file name in the package"},
		{"no targets", func(t *testing.T, hub string) { writeManifest(t, hub, nil) }, "no supported_targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := writePackage(t, map[string]string{"linux/amd64": "ELF"})
			tc.damage(t, hub)
			err := Write(hub, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}
