// Package releaseassets turns the Hub package that the SDK's `package` command writes into the
// GitHub Release's assets: cq-source-s3_<os>_<arch>.zip (the binary at the zip root, named
// cq-source-s3, .exe on Windows: what `registry: github` downloads and extracts) and checksums.txt
// (sha256sum format). The binaries are not rebuilt: each zip's compressed bytes are copied as they
// are, so a GitHub zip's binary is the Hub zip's, byte for byte. The output depends only on the
// input: fixed timestamps, modes and order, so two builds of one commit give identical files.
package releaseassets

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BinaryName is the binary's name in the GitHub Release zips.
const BinaryName = "cq-source-s3"

// zipTime is every entry's timestamp: the earliest a zip can say (MS-DOS time starts in 1980),
// and dosDate the same day in MS-DOS form ((year-1980)<<9 | month<<5 | day), which CreateRaw
// takes as given.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

const dosDate = 0<<9 | 1<<5 | 1

// Target is one entry of package.json's supported_targets.
type Target struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Path     string `json:"path"`
	Checksum string `json:"checksum"`
}

// Manifest is the part of the SDK's package.json this package reads.
type Manifest struct {
	Name             string   `json:"name"`
	Version          string   `json:"version"`
	SupportedTargets []Target `json:"supported_targets"`
}

// AssetName is the GitHub Release asset of a target: what the CLI's `registry: github` asks for.
func AssetName(goos, goarch string) string {
	return fmt.Sprintf("%s_%s_%s.zip", BinaryName, goos, goarch)
}

// entryName is the binary's name inside the GitHub zip.
func entryName(goos string) string {
	if goos == "windows" {
		return BinaryName + ".exe"
	}
	return BinaryName
}

// Write reads the package in hubDir and writes one zip per target and checksums.txt to outDir.
// It refuses a package whose zip does not match package.json's checksum or does not hold
// exactly one file, so a damaged package never becomes a release asset.
func Write(hubDir, outDir string) error {
	raw, err := os.ReadFile(filepath.Join(hubDir, "package.json"))
	if err != nil {
		return err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	if len(m.SupportedTargets) == 0 {
		return errors.New("package.json: no supported_targets")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, t := range m.SupportedTargets {
		if t.OS == "" || t.Arch == "" || t.Path == "" || filepath.Base(t.Path) != t.Path {
			return fmt.Errorf("package.json: target %+v: os, arch and a file name in the package are required", t)
		}
		if seen[t.OS+"/"+t.Arch] {
			return fmt.Errorf("package.json: target %s/%s listed twice", t.OS, t.Arch)
		}
		seen[t.OS+"/"+t.Arch] = true
	}
	sums := map[string]string{}
	for _, t := range m.SupportedTargets {
		name := AssetName(t.OS, t.Arch)
		sum, err := repack(filepath.Join(hubDir, t.Path), t.Checksum, entryName(t.OS), filepath.Join(outDir, name))
		if err != nil {
			return fmt.Errorf("%s/%s: %w", t.OS, t.Arch, err)
		}
		sums[name] = sum
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&b, "%s  %s\n", sums[name], name)
	}
	return os.WriteFile(filepath.Join(outDir, "checksums.txt"), []byte(b.String()), 0o644)
}

// repack copies the one file of the zip at src into a new zip at dst under entry, compressed bytes
// as they are, and returns dst's SHA-256.
func repack(src, wantChecksum, entry, dst string) (string, error) {
	if err := checkSum(src, wantChecksum); err != nil {
		return "", err
	}
	r, err := zip.OpenReader(src)
	if err != nil {
		return "", err
	}
	defer r.Close()
	if len(r.File) != 1 {
		return "", fmt.Errorf("%s holds %d files; a package zip holds one binary", filepath.Base(src), len(r.File))
	}
	f := r.File[0]
	body, err := f.OpenRaw()
	if err != nil {
		return "", err
	}
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	defer out.Close()
	h := sha256.New()
	w := zip.NewWriter(io.MultiWriter(out, h))
	hdr := &zip.FileHeader{
		Name:               entry,
		Method:             f.Method,
		CRC32:              f.CRC32,
		CompressedSize64:   f.CompressedSize64,
		UncompressedSize64: f.UncompressedSize64,
		ModifiedDate:       dosDate,
	}
	hdr.SetMode(0o755)
	fw, err := w.CreateRaw(hdr)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(fw, body); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), out.Close()
}

// checkSum: path's SHA-256 is want ("sha256:<hex>", as in package.json).
func checkSum(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: checksum %s, package.json says %q", filepath.Base(path), got, want)
	}
	return nil
}
