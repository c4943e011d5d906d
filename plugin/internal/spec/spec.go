// Package spec parses and validates the plugin's user-supplied configuration.
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Defaults and limits. Limits keep a typo (an extra zero) from exhausting memory or sockets.
// Spec's jsonschema tags state them for the schema; a test checks that the two agree.
const (
	DefaultRowsPerRecord = 500
	MaxRowsPerRecord     = 1_000_000
	DefaultConcurrency   = 50
	MaxConcurrency       = 1_000
	// MinBytesInFlight and MaxBytesInFlight bound "max_bytes_in_flight";
	// its default depends on the machine (DefaultMaxBytesInFlight).
	MinBytesInFlight int64 = 1 << 20
	MaxBytesInFlight int64 = 1 << 40
)

// Spec is the configuration of one cq-source-s3 source: the bucket, where to
// find it, how to authenticate and how much to read at once.
//
// The doc comment of each field is its description in the JSON schema, which
// is generated from this struct (see schema.go).
type Spec struct {
	// Bucket holding the Parquet objects: a name, not a URL.
	Bucket string `json:"bucket" jsonschema:"required,minLength=3"`
	// Region of the bucket, e.g. us-east-1 (S3-compatible stores often accept any value, such as auto).
	Region string `json:"region" jsonschema:"required,minLength=1"`
	// Only keys under this directory-like prefix are read; a trailing / is added.
	PathPrefix string `json:"path_prefix" jsonschema:"default="`
	// http(s) URL of an S3-compatible store (MinIO, Ceph, R2, ...); empty means AWS.
	Endpoint string `json:"endpoint" jsonschema:"default="`
	// Address buckets as ENDPOINT/BUCKET (path style) instead of BUCKET.ENDPOINT.
	// Defaults to true when endpoint is set, else false.
	UsePathStyle *bool `json:"use_path_style"`
	// Shared config profile for the standard credential chain; exclusive with static keys.
	Profile string `json:"profile" jsonschema:"default="`
	// Static access key (needs secret_access_key); without it the standard credential chain is used.
	AccessKeyID string `json:"access_key_id" jsonschema:"default="`
	// Static secret key (needs access_key_id).
	SecretAccessKey string `json:"secret_access_key" jsonschema:"default="`
	// Session token for temporary static keys.
	SessionToken string `json:"session_token" jsonschema:"default="`
	// Maximum rows per Arrow record sent to destinations.
	RowsPerRecord int `json:"rows_per_record" jsonschema:"minimum=1,maximum=1000000,default=500"`
	// Maximum number of objects read at once.
	Concurrency int `json:"concurrency" jsonschema:"minimum=1,maximum=1000,default=50"`
	// Bound on the estimated memory of the objects read at once, in bytes (an object estimated above it is read alone).
	// Default when absent: 64 MiB per CPU, at most a quarter of the memory limit.
	MaxBytesInFlight int64 `json:"max_bytes_in_flight" jsonschema:"minimum=1048576,maximum=1099511627776"` // see client.footprint
	// Keep a per-table cursor in the state backend (backend_options) and read only objects modified since the last sync.
	Incremental bool `json:"incremental" jsonschema:"default=false"`
}

// HasStaticCredentials reports whether the spec carries its own keys.
func (s Spec) HasStaticCredentials() bool { return s.AccessKeyID != "" }

var (
	// Covers AWS names (lowercase, dots, hyphens) and legacy/compatible-store names
	// (uppercase, underscores); rejects URLs, paths and whitespace, which are the usual mistakes.
	reBucket = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$`)
	// AWS regions (us-east-1) and the free-form ones S3-compatible stores use (auto, garage).
	reRegion = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// Parse decodes a JSON spec, applies defaults and validates it.
// Errors name the offending key and value.
func Parse(data []byte) (Spec, error) {
	// Decoding over the defaults lets a key that is present replace its
	// default even when it is 0: "concurrency": 0 is an error, not 50.
	s := Spec{
		RowsPerRecord:    DefaultRowsPerRecord,
		Concurrency:      DefaultConcurrency,
		MaxBytesInFlight: DefaultMaxBytesInFlight(),
	}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return Spec{}, fmt.Errorf("spec: invalid JSON: %w", err)
		}
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	// The prefix names a directory, so "data" must not also match "database/...".
	if s.PathPrefix != "" && !strings.HasSuffix(s.PathPrefix, "/") {
		s.PathPrefix += "/"
	}
	return s, nil
}

// SetDefaults fills the defaults that depend on other keys.
func (s *Spec) SetDefaults() {
	// S3-compatible stores rarely support virtual-hosted buckets, so a custom
	// endpoint defaults to path style; an explicit value always wins.
	if s.UsePathStyle == nil {
		s.UsePathStyle = new(s.Endpoint != "")
	}
}

// Validate reports every problem of the spec at once.
func (s Spec) Validate() error {
	var errs []error
	switch {
	case s.Bucket == "":
		errs = append(errs, errors.New(`spec: "bucket" is required`))
	case strings.Contains(s.Bucket, "://"):
		errs = append(errs, fmt.Errorf(`spec: "bucket" must be a bucket name, not a URL: %q (put the key prefix in "path_prefix")`, s.Bucket))
	case !reBucket.MatchString(s.Bucket):
		errs = append(errs, fmt.Errorf(`spec: "bucket" %q is not a valid bucket name (3-255 letters, digits, ".", "-", "_"; no "/")`, s.Bucket))
	}
	switch {
	case s.Region == "":
		errs = append(errs, errors.New(`spec: "region" is required (e.g. "us-east-1")`))
	case !reRegion.MatchString(s.Region):
		errs = append(errs, fmt.Errorf(`spec: "region" %q is not a valid region (lowercase letters, digits and "-", e.g. "us-east-1")`, s.Region))
	}
	if err := validatePrefix(s.PathPrefix); err != nil {
		errs = append(errs, err)
	}
	if s.Endpoint != "" {
		if err := validateEndpoint(s.Endpoint); err != nil {
			errs = append(errs, err)
		}
	}
	if s.AccessKeyID != "" && s.SecretAccessKey == "" {
		errs = append(errs, errors.New(`spec: "secret_access_key" is required when "access_key_id" is set`))
	}
	if s.SecretAccessKey != "" && s.AccessKeyID == "" {
		errs = append(errs, errors.New(`spec: "access_key_id" is required when "secret_access_key" is set`))
	}
	if s.SessionToken != "" && s.AccessKeyID == "" {
		errs = append(errs, errors.New(`spec: "session_token" needs "access_key_id" and "secret_access_key"`))
	}
	if s.Profile != "" && s.AccessKeyID != "" {
		errs = append(errs, fmt.Errorf(`spec: "profile" %q and static keys ("access_key_id") are mutually exclusive`, s.Profile))
	}
	if s.RowsPerRecord < 1 || s.RowsPerRecord > MaxRowsPerRecord {
		errs = append(errs, fmt.Errorf(`spec: "rows_per_record" must be between 1 and %d, got %d`, MaxRowsPerRecord, s.RowsPerRecord))
	}
	if s.Concurrency < 1 || s.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf(`spec: "concurrency" must be between 1 and %d, got %d`, MaxConcurrency, s.Concurrency))
	}
	if s.MaxBytesInFlight < MinBytesInFlight || s.MaxBytesInFlight > MaxBytesInFlight {
		errs = append(errs, fmt.Errorf(`spec: "max_bytes_in_flight" must be between %d (1 MiB) and %d (1 TiB) bytes, got %d`,
			MinBytesInFlight, MaxBytesInFlight, s.MaxBytesInFlight))
	}
	return errors.Join(errs...)
}

// validatePrefix checks a user prefix, which names a key "directory".
func validatePrefix(p string) error {
	switch {
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf(`spec: "path_prefix" must not start with "/": %q (S3 keys have no leading slash)`, p)
	case strings.Contains(p, "//"):
		return fmt.Errorf(`spec: "path_prefix" must not contain empty segments ("//"): %q`, p)
	case strings.ContainsAny(p, "*?["):
		return fmt.Errorf(`spec: "path_prefix" is a literal key prefix, not a glob: %q`, p)
	}
	return nil
}

func validateEndpoint(e string) error {
	u, err := url.Parse(e)
	if err != nil {
		return fmt.Errorf(`spec: "endpoint" %q is not a URL: %w`, e, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf(`spec: "endpoint" %q must start with http:// or https://`, e)
	}
	if u.Host == "" {
		return fmt.Errorf(`spec: "endpoint" %q has no host`, e)
	}
	if u.User != nil {
		return fmt.Errorf(`spec: "endpoint" must not embed credentials; use "access_key_id"/"secret_access_key"`)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf(`spec: "endpoint" %q must not have a query or fragment`, e)
	}
	return nil
}
