// Package hubstandin is a stand-in for the CloudQuery Hub API, served on 127.0.0.1 by cmd/hub for
// the release rehearsal and the e2e: exactly the endpoints that `cloudquery plugin publish
// --finalize` and a `registry: cloudquery` sync call (CLI v6.34.2, through cloudquery-api-go
// v1.14.8, whose models it answers with), and the Hub's rules a release meets on the way:
//   - a plugin must exist (on the Hub it is created on the website) before a version is pushed:
//     403, which the CLI turns into "You may need to create the plugin first";
//   - a finalized version is immutable: a second create is refused (400 "already published");
//   - writes need a bearer token (the API key); with Options.APIKey set, exactly that one;
//   - a version is downloadable only once finalized, every asset uploaded first.
//
// What the real Hub does not check but a recorder should: an uploaded zip must hash to the
// checksum declared when the version was created (400 otherwise). Downloads serve the stored file
// as it is on disk, so a test can tamper with it and watch the CLI refuse it. Every request is
// recorded as one JSON line (method, path, status, whether a token came; never the token).
// "No" is always a 4xx: the CLI's client retries 5xx for about 15 s.
package hubstandin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	cqapi "github.com/cloudquery/cloudquery-api-go"
)

// Options configure a Server.
type Options struct {
	// Dir stores the uploaded assets (Dir/assets/<team>/<kind>/<name>/<version>/<os>_<arch>.zip)
	// and the request log (Dir/requests.jsonl).
	Dir string
	// BaseURL is this server's own URL, for the upload and download locations it hands out.
	BaseURL string
	// Plugins exist before any publish: "<team>/<kind>/<name>".
	Plugins []string
	// APIKey, when set, is the only token accepted for writes.
	APIKey string
	// Now stamps created_at/published_at; time.Now when nil.
	Now func() time.Time
}

type version struct {
	req       cqapi.CreatePluginVersionRequest
	draft     bool
	createdAt time.Time
	published *time.Time
	tables    int
	docs      []string
	uploaded  map[string]bool
}

// Server is the stand-in Hub; it is an http.Handler.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	mu      sync.Mutex
	plugins map[string]map[string]*version // "<team>/<kind>/<name>" → version name → version
	logMu   sync.Mutex
	log     *os.File
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// New creates the stand-in; Close releases its request log.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(opts.Dir, "requests.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), plugins: map[string]map[string]*version{}, log: f}
	for _, p := range opts.Plugins {
		if strings.Count(p, "/") != 2 {
			f.Close()
			return nil, fmt.Errorf("plugin %q: want <team>/<kind>/<name>", p)
		}
		s.plugins[p] = map[string]*version{}
	}
	const v = "/plugins/{team}/{kind}/{name}/versions/{version}"
	s.mux.HandleFunc("GET /plugins/{team}/{kind}/{name}", s.getPlugin)
	s.mux.HandleFunc("PUT "+v, s.createVersion)
	s.mux.HandleFunc("GET "+v, s.getVersion)
	s.mux.HandleFunc("PATCH "+v, s.updateVersion)
	s.mux.HandleFunc("PUT "+v+"/tables", s.putTables)
	s.mux.HandleFunc("POST "+v+"/docs", s.putDocs)
	s.mux.HandleFunc("POST "+v+"/assets/{target}", s.uploadURL)
	s.mux.HandleFunc("GET "+v+"/assets/{target}", s.assetLocation)
	s.mux.HandleFunc("GET /teams/{viewer}"+v+"/assets/{target}", s.assetLocation)
	s.mux.HandleFunc("PUT /blobs/{team}/{kind}/{name}/{version}/{target}", s.putBlob)
	s.mux.HandleFunc("GET /blobs/{team}/{kind}/{name}/{version}/{target}", s.getBlob)
	return s, nil
}

// Close closes the request log.
func (s *Server) Close() error { return s.log.Close() }

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// ServeHTTP serves one request and records it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	line, _ := json.Marshal(map[string]any{
		"method": r.Method, "path": r.URL.Path, "status": rec.status,
		"token": strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && len(r.Header.Get("Authorization")) > len("Bearer "),
	})
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = s.log.Write(append(line, '\n'))
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func refuse(w http.ResponseWriter, status int, format string, args ...any) {
	reply(w, status, cqapi.BasicError{Message: fmt.Sprintf(format, args...), Status: status})
}

func key(r *http.Request) string {
	return r.PathValue("team") + "/" + r.PathValue("kind") + "/" + r.PathValue("name")
}

// authorized: writes need a bearer token, exactly Options.APIKey when set.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" || (s.opts.APIKey != "" && token != s.opts.APIKey) {
		refuse(w, http.StatusUnauthorized, "unauthorized: a valid API key is required")
		return false
	}
	return true
}

// writeRequest: a write's token, then its JSON body into body; false (the reply sent) when either is refused.
func (s *Server) writeRequest(w http.ResponseWriter, r *http.Request, body any) bool {
	if !s.authorized(w, r) {
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(body); err != nil {
		refuse(w, http.StatusBadRequest, "invalid body: %v", err)
		return false
	}
	return true
}

// lookup returns the version named in the path; ok false (and the reply sent) when absent.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*version, bool) {
	versions, ok := s.plugins[key(r)]
	if !ok {
		refuse(w, http.StatusNotFound, "plugin %s not found", key(r))
		return nil, false
	}
	v, ok := versions[r.PathValue("version")]
	if !ok {
		refuse(w, http.StatusNotFound, "version %s of %s not found", r.PathValue("version"), key(r))
		return nil, false
	}
	return v, true
}

func (s *Server) getPlugin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	versions, ok := s.plugins[key(r)]
	if !ok {
		refuse(w, http.StatusNotFound, "plugin %s not found", key(r))
		return
	}
	p := cqapi.ListPlugin{
		Name: r.PathValue("name"), TeamName: r.PathValue("team"), Kind: cqapi.PluginKind(r.PathValue("kind")),
		DisplayName: r.PathValue("name"), CreatedAt: s.opts.Now().UTC(), Category: "other", ReleaseStage: "preview",
		Tier: "free",
	}
	var latest *time.Time
	for name, v := range versions {
		if v.published != nil && (latest == nil || v.published.After(*latest)) {
			n := name
			p.LatestVersion, latest = &n, v.published
		}
	}
	reply(w, http.StatusOK, p)
}

func (s *Server) createVersion(w http.ResponseWriter, r *http.Request) {
	var req cqapi.CreatePluginVersionRequest
	if !s.writeRequest(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	versions, ok := s.plugins[key(r)]
	if !ok {
		refuse(w, http.StatusForbidden, "plugin %s does not exist or your team may not publish it", key(r))
		return
	}
	name := r.PathValue("version")
	if old, ok := versions[name]; ok && !old.draft {
		refuse(w, http.StatusBadRequest, "version %s of %s is already published and cannot be changed", name, key(r))
		return
	}
	if msg := invalidVersion(req); msg != "" {
		refuse(w, http.StatusBadRequest, "%s", msg)
		return
	}
	status := http.StatusCreated
	if _, ok := versions[name]; ok {
		status = http.StatusOK // a draft is replaced, as on the Hub
	}
	v := &version{req: req, draft: true, createdAt: s.opts.Now().UTC(), uploaded: map[string]bool{}}
	versions[name] = v
	reply(w, status, s.details(name, v))
}

// invalidVersion: what the Hub would refuse in a create request; "" when valid.
func invalidVersion(req cqapi.CreatePluginVersionRequest) string {
	switch {
	case req.PackageType != cqapi.PluginPackageTypeNative:
		return fmt.Sprintf("package_type %q: only native packages are served here", req.PackageType)
	case !slices.Equal(req.Protocols, []int{3}):
		return fmt.Sprintf("protocols %v: want [3]", req.Protocols)
	case len(req.SupportedTargets) == 0 || len(req.SupportedTargets) != len(req.Checksums):
		return fmt.Sprintf("%d supported_targets for %d checksums", len(req.SupportedTargets), len(req.Checksums))
	}
	for i, c := range req.Checksums {
		if !hexSHA256.MatchString(c) {
			return fmt.Sprintf("checksum %q of %s is not a lowercase hex SHA-256", c, req.SupportedTargets[i])
		}
	}
	return ""
}

func (s *Server) details(name string, v *version) cqapi.PluginVersionDetails {
	return cqapi.PluginVersionDetails{
		Name: name, Checksums: v.req.Checksums, SupportedTargets: v.req.SupportedTargets,
		PackageType: v.req.PackageType, Protocols: v.req.Protocols, Message: v.req.Message,
		SpecJsonSchema: v.req.SpecJsonSchema, Draft: v.draft, CreatedAt: v.createdAt, PublishedAt: v.published,
	}
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.lookup(w, r); ok {
		reply(w, http.StatusOK, s.details(r.PathValue("version"), v))
	}
}

// draftOnly: the lookup of a version that is still a draft (tables, docs, assets, finalize).
func (s *Server) draftOnly(w http.ResponseWriter, r *http.Request) (*version, bool) {
	v, ok := s.lookup(w, r)
	if ok && !v.draft {
		refuse(w, http.StatusBadRequest, "version %s of %s is already published and cannot be changed", r.PathValue("version"), key(r))
		return nil, false
	}
	return v, ok
}

func (s *Server) putTables(w http.ResponseWriter, r *http.Request) {
	var req cqapi.CreatePluginVersionTablesRequest
	if !s.writeRequest(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.draftOnly(w, r); ok {
		v.tables = len(req.Tables)
		reply(w, http.StatusCreated, map[string]any{})
	}
}

func (s *Server) putDocs(w http.ResponseWriter, r *http.Request) {
	var req cqapi.CreatePluginVersionDocsRequest
	if !s.writeRequest(w, r, &req) {
		return
	}
	if len(req.Pages) == 0 {
		refuse(w, http.StatusBadRequest, "invalid body: want at least one page")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.draftOnly(w, r); ok {
		v.docs = v.docs[:0]
		for _, p := range req.Pages {
			v.docs = append(v.docs, p.Name)
		}
		reply(w, http.StatusCreated, map[string]any{})
	}
}

func (s *Server) blobPath(r *http.Request) string {
	return filepath.Join(s.opts.Dir, "assets", r.PathValue("team"), r.PathValue("kind"), r.PathValue("name"),
		r.PathValue("version"), r.PathValue("target")+".zip")
}

func (s *Server) blobURL(r *http.Request) string {
	return fmt.Sprintf("%s/blobs/%s/%s/%s/%s/%s", strings.TrimSuffix(s.opts.BaseURL, "/"), r.PathValue("team"),
		r.PathValue("kind"), r.PathValue("name"), r.PathValue("version"), r.PathValue("target"))
}

func (s *Server) uploadURL(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.draftOnly(w, r)
	if !ok {
		return
	}
	if !slices.Contains(v.req.SupportedTargets, r.PathValue("target")) {
		refuse(w, http.StatusForbidden, "target %s is not among the version's supported_targets %v", r.PathValue("target"), v.req.SupportedTargets)
		return
	}
	reply(w, http.StatusCreated, cqapi.ReleaseURL{Url: s.blobURL(r)})
}

// putBlob is the presigned upload: no token (the CLI sends none), 200 on success.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		refuse(w, http.StatusBadRequest, "read: %v", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.draftOnly(w, r)
	if !ok {
		return
	}
	i := slices.Index(v.req.SupportedTargets, r.PathValue("target"))
	if i < 0 {
		refuse(w, http.StatusForbidden, "target %s was never announced", r.PathValue("target"))
		return
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != v.req.Checksums[i] {
		refuse(w, http.StatusBadRequest, "%s: uploaded bytes hash to %s, the version declared %s", r.PathValue("target"), got, v.req.Checksums[i])
		return
	}
	path := s.blobPath(r)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		err = os.WriteFile(path, body, 0o644)
	}
	if err != nil {
		refuse(w, http.StatusInsufficientStorage, "store: %v", err)
		return
	}
	v.uploaded[r.PathValue("target")] = true
	w.WriteHeader(http.StatusOK)
}

func (s *Server) updateVersion(w http.ResponseWriter, r *http.Request) {
	var req cqapi.PluginVersionUpdate
	if !s.writeRequest(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.draftOnly(w, r)
	if !ok {
		return
	}
	if req.Draft == nil || *req.Draft {
		refuse(w, http.StatusBadRequest, "only {\"draft\": false} (finalize) is served here")
		return
	}
	for _, t := range v.req.SupportedTargets {
		if !v.uploaded[t] {
			refuse(w, http.StatusBadRequest, "cannot finalize: the asset of %s was not uploaded", t)
			return
		}
	}
	if len(v.docs) == 0 {
		refuse(w, http.StatusBadRequest, "cannot finalize: no docs")
		return
	}
	now := s.opts.Now().UTC()
	v.draft, v.published = false, &now
	reply(w, http.StatusOK, s.details(r.PathValue("version"), v))
}

// assetLocation answers both the anonymous and the team-scoped download lookups.
func (s *Server) assetLocation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.lookup(w, r)
	if !ok {
		return
	}
	i := slices.Index(v.req.SupportedTargets, r.PathValue("target"))
	if v.draft || i < 0 {
		refuse(w, http.StatusNotFound, "no published asset %s for %s@%s", r.PathValue("target"), key(r), r.PathValue("version"))
		return
	}
	reply(w, http.StatusOK, cqapi.PluginAsset{Location: s.blobURL(r), Checksum: v.req.Checksums[i]})
}

// getBlob serves the stored file as it is on disk now (a test may have tampered with it).
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request) {
	body, err := os.ReadFile(s.blobPath(r))
	if err != nil {
		refuse(w, http.StatusNotFound, "no such asset")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	_, _ = w.Write(body)
}
