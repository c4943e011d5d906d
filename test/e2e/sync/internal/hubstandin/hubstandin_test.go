package hubstandin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cqapi "github.com/cloudquery/cloudquery-api-go"
)

const (
	team, kind, name, ver = "infobloxopen", "source", "s3", "v1.2.3"
	apiKey                = "test-key"
)

// hub starts a stand-in with the plugin created and returns it with the CLI's own API client.
func hub(t *testing.T, plugins ...string) (*httptest.Server, *cqapi.ClientWithResponses, string) {
	t.Helper()
	dir := t.TempDir()
	var s *Server
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	var err error
	if s, err = New(Options{Dir: dir, BaseURL: ts.URL, Plugins: plugins, APIKey: apiKey}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := cqapi.NewClientWithResponses(ts.URL, cqapi.WithRequestEditorFn(bearer(apiKey)))
	if err != nil {
		t.Fatal(err)
	}
	return ts, c, dir
}

func bearer(token string) cqapi.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

var zips = map[string][]byte{"linux_amd64": []byte("zip of linux/amd64"), "darwin_arm64": []byte("zip of darwin/arm64")}

func create(t *testing.T, c *cqapi.ClientWithResponses) *cqapi.CreatePluginVersionResponse {
	t.Helper()
	r, err := c.CreatePluginVersionWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, ver,
		cqapi.CreatePluginVersionRequest{
			Message: "release", PackageType: cqapi.PluginPackageTypeNative, Protocols: []int{3},
			SupportedTargets: []string{"linux_amd64", "darwin_arm64"},
			Checksums:        []string{sum(zips["linux_amd64"]), sum(zips["darwin_arm64"])},
		})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func upload(t *testing.T, c *cqapi.ClientWithResponses, target string, body []byte) int {
	t.Helper()
	r, err := c.UploadPluginAssetWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, ver, target)
	if err != nil || r.JSON201 == nil {
		t.Fatalf("upload URL of %s: %v %d %s", target, err, r.StatusCode(), r.Body)
	}
	req, _ := http.NewRequest(http.MethodPut, r.JSON201.Url, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req) // as the CLI: no token on the presigned upload
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func finalize(t *testing.T, c *cqapi.ClientWithResponses) *cqapi.UpdatePluginVersionResponse {
	t.Helper()
	f := false
	r, err := c.UpdatePluginVersionWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, ver, cqapi.PluginVersionUpdate{Draft: &f})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func docs(t *testing.T, c *cqapi.ClientWithResponses) int {
	t.Helper()
	r, err := c.ReplacePluginVersionDocsWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, ver,
		cqapi.ReplacePluginVersionDocsJSONRequestBody{Pages: []cqapi.PluginDocsPageCreate{{Name: "overview", Content: "# s3"}}})
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode()
}

func TestPublishThenDownload(t *testing.T) {
	_, c, dir := hub(t, team+"/"+kind+"/"+name)
	ctx := context.Background()
	if r := create(t, c); r.StatusCode() != http.StatusCreated || r.JSON201 == nil || !r.JSON201.Draft {
		t.Fatalf("create: %d %s", r.StatusCode(), r.Body)
	}
	tables, err := c.CreatePluginVersionTablesWithResponse(ctx, team, cqapi.PluginKind(kind), name, ver, cqapi.CreatePluginVersionTablesRequest{Tables: []cqapi.PluginTableCreate{}})
	if err != nil || tables.StatusCode() != http.StatusCreated {
		t.Fatalf("tables: %v %d", err, tables.StatusCode())
	}
	if got := docs(t, c); got != http.StatusCreated {
		t.Fatalf("docs: %d", got)
	}
	// A draft cannot be downloaded, nor finalized before its assets are uploaded.
	anon, _ := cqapi.NewClientWithResponses(c.ClientInterface.(*cqapi.Client).Server)
	if r, _ := anon.DownloadPluginAssetWithResponse(ctx, team, cqapi.PluginKind(kind), name, ver, "linux_amd64", &cqapi.DownloadPluginAssetParams{}); r.StatusCode() != http.StatusNotFound {
		t.Fatalf("draft download: %d, want 404", r.StatusCode())
	}
	if r := finalize(t, c); r.StatusCode() != http.StatusBadRequest || !strings.Contains(string(r.Body), "was not uploaded") {
		t.Fatalf("finalize before upload: %d %s", r.StatusCode(), r.Body)
	}
	// Bytes that do not hash to the declared checksum are refused.
	if got := upload(t, c, "linux_amd64", []byte("something else")); got != http.StatusBadRequest {
		t.Fatalf("wrong bytes: %d, want 400", got)
	}
	for target, body := range zips {
		if got := upload(t, c, target, body); got != http.StatusOK {
			t.Fatalf("upload %s: %d", target, got)
		}
	}
	if r := finalize(t, c); r.StatusCode() != http.StatusOK || r.JSON200 == nil || r.JSON200.Draft {
		t.Fatalf("finalize: %d %s", r.StatusCode(), r.Body)
	}

	// The sync side, anonymous as a CLI with no login: package type, then the asset.
	v, err := anon.GetPluginVersionWithResponse(ctx, team, cqapi.PluginKind(kind), name, ver)
	if err != nil || v.JSON200 == nil || v.JSON200.PackageType != cqapi.PluginPackageTypeNative || v.JSON200.Draft {
		t.Fatalf("version: %v %d %s", err, v.StatusCode(), v.Body)
	}
	p, err := anon.GetPluginWithResponse(ctx, team, cqapi.PluginKind(kind), name)
	if err != nil || p.JSON200 == nil || p.JSON200.LatestVersion == nil || *p.JSON200.LatestVersion != ver {
		t.Fatalf("plugin: %v %d %s", err, p.StatusCode(), p.Body)
	}
	for _, byTeam := range []bool{false, true} {
		var asset *cqapi.PluginAsset
		if byTeam {
			r, err := anon.DownloadPluginAssetByTeamWithResponse(ctx, "viewer-team", team, cqapi.PluginKind(kind), name, ver, "linux_amd64", &cqapi.DownloadPluginAssetByTeamParams{})
			if err != nil || r.JSON200 == nil {
				t.Fatalf("asset by team: %v %d %s", err, r.StatusCode(), r.Body)
			}
			asset = r.JSON200
		} else {
			r, err := anon.DownloadPluginAssetWithResponse(ctx, team, cqapi.PluginKind(kind), name, ver, "linux_amd64", &cqapi.DownloadPluginAssetParams{})
			if err != nil || r.JSON200 == nil {
				t.Fatalf("asset: %v %d %s", err, r.StatusCode(), r.Body)
			}
			asset = r.JSON200
		}
		if asset.Checksum != sum(zips["linux_amd64"]) {
			t.Fatalf("checksum %s", asset.Checksum)
		}
		resp, err := http.Get(asset.Location)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("download: %v", err)
		}
		resp.Body.Close()
	}

	// A finalized version is immutable: create, docs and uploads are refused.
	if r := create(t, c); r.StatusCode() != http.StatusBadRequest || !strings.Contains(string(r.Body), "already published") {
		t.Fatalf("re-create: %d %s", r.StatusCode(), r.Body)
	}
	if got := docs(t, c); got != http.StatusBadRequest {
		t.Fatalf("docs after finalize: %d", got)
	}

	// Downloads serve what is on disk: a tampered file no longer matches the checksum.
	stored := filepath.Join(dir, "assets", team, kind, name, ver, "linux_amd64.zip")
	if err := os.WriteFile(stored, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := anon.DownloadPluginAssetWithResponse(ctx, team, cqapi.PluginKind(kind), name, ver, "linux_amd64", &cqapi.DownloadPluginAssetParams{})
	resp, err := http.Get(r.JSON200.Location)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	_, _ = got.ReadFrom(resp.Body)
	if sum(got.Bytes()) == r.JSON200.Checksum {
		t.Fatal("the tampered file still matches its checksum")
	}

	log, _ := os.ReadFile(filepath.Join(dir, "requests.jsonl"))
	if strings.Contains(string(log), apiKey) {
		t.Fatal("the request log holds the API key")
	}
	if !strings.Contains(string(log), `"method":"PATCH","path":"/plugins/infobloxopen/source/s3/versions/v1.2.3","status":200,"token":true`) {
		t.Fatalf("finalize not recorded:\n%s", log)
	}
}

func TestRefusals(t *testing.T) {
	_, c, _ := hub(t) // no plugin created
	if r := create(t, c); r.StatusCode() != http.StatusForbidden || r.JSON403 == nil {
		t.Fatalf("unknown plugin: %d %s, want 403", r.StatusCode(), r.Body)
	}
	_, c, _ = hub(t, team+"/"+kind+"/"+name)
	for _, token := range []string{"", "another-key"} {
		other, _ := cqapi.NewClientWithResponses(c.ClientInterface.(*cqapi.Client).Server, cqapi.WithRequestEditorFn(bearer(token)))
		if r := create(t, other); r.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("token %q: %d, want 401", token, r.StatusCode())
		}
	}
	bad, _ := c.CreatePluginVersionWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, ver,
		cqapi.CreatePluginVersionRequest{PackageType: cqapi.PluginPackageTypeNative, Protocols: []int{3},
			SupportedTargets: []string{"linux_amd64"}, Checksums: []string{"sha256:" + sum(nil)}})
	if bad.StatusCode() != http.StatusBadRequest || !strings.Contains(string(bad.Body), "lowercase hex") {
		t.Fatalf("prefixed checksum: %d %s", bad.StatusCode(), bad.Body)
	}
	if r, _ := c.GetPluginVersionWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, "v9.9.9"); r.StatusCode() != http.StatusNotFound {
		t.Fatalf("missing version: %d", r.StatusCode())
	}
	if r := create(t, c); r.StatusCode() != http.StatusCreated {
		t.Fatalf("create: %d", r.StatusCode())
	}
	if r := create(t, c); r.StatusCode() != http.StatusOK {
		t.Fatalf("a draft is replaced: %d, want 200", r.StatusCode())
	}
	r, _ := c.UploadPluginAssetWithResponse(context.Background(), team, cqapi.PluginKind(kind), name, ver, "windows_arm64")
	if r.StatusCode() != http.StatusForbidden {
		t.Fatalf("unannounced target: %d", r.StatusCode())
	}
}
