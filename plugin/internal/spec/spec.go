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

// Spec is the validated configuration of one source.
type Spec struct {
	// Bucket holds the Parquet objects.
	Bucket string `json:"bucket"`
	// Region of the bucket (or the region a S3-compatible store expects in signatures).
	Region string `json:"region"`
	// PathPrefix restricts discovery to keys under this "directory"; always empty or ending in "/".
	PathPrefix string `json:"path_prefix,omitempty"`
	// Endpoint overrides the S3 endpoint, for S3-compatible stores (MinIO, Ceph, R2, gofakes3, ...).
	Endpoint string `json:"endpoint,omitempty"`
	// UsePathStyle addresses buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint>.
	UsePathStyle bool `json:"use_path_style"`
	// Profile selects a shared config profile; empty means the standard chain's default.
	Profile string `json:"profile,omitempty"`
	// AccessKeyID, SecretAccessKey and SessionToken are optional static credentials.
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	// RowsPerRecord is the maximum number of rows in one Arrow record sent to destinations.
	RowsPerRecord int `json:"rows_per_record"`
	// Concurrency is the maximum number of objects read at once.
	Concurrency int `json:"concurrency"`
	// MaxBytesInFlight bounds the estimated memory of the objects read at once
	// (see client.footprint); an object estimated above it is read alone.
	MaxBytesInFlight int64 `json:"max_bytes_in_flight"`
	// Incremental keeps a per-table cursor in the CloudQuery state backend so
	// a sync reads only objects modified since the previous one.
	Incremental bool `json:"incremental"`
}

// HasStaticCredentials reports whether the spec carries its own keys.
func (s Spec) HasStaticCredentials() bool { return s.AccessKeyID != "" }

// raw mirrors Spec with pointers so "absent" and "zero" can be told apart.
type raw struct {
	Bucket           *string `json:"bucket"`
	Region           *string `json:"region"`
	PathPrefix       *string `json:"path_prefix"`
	Endpoint         *string `json:"endpoint"`
	UsePathStyle     *bool   `json:"use_path_style"`
	Profile          *string `json:"profile"`
	AccessKeyID      *string `json:"access_key_id"`
	SecretAccessKey  *string `json:"secret_access_key"`
	SessionToken     *string `json:"session_token"`
	RowsPerRecord    *int    `json:"rows_per_record"`
	Concurrency      *int    `json:"concurrency"`
	MaxBytesInFlight *int64  `json:"max_bytes_in_flight"`
	Incremental      *bool   `json:"incremental"`
}

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
	var r raw
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Spec{}, fmt.Errorf("spec: invalid JSON: %w", err)
	}
	return fromRaw(r)
}

func fromRaw(r raw) (Spec, error) {
	s := Spec{
		Bucket:          deref(r.Bucket),
		Region:          deref(r.Region),
		PathPrefix:      deref(r.PathPrefix),
		Endpoint:        deref(r.Endpoint),
		Profile:         deref(r.Profile),
		AccessKeyID:     deref(r.AccessKeyID),
		SecretAccessKey: deref(r.SecretAccessKey),
		SessionToken:    deref(r.SessionToken),
		RowsPerRecord:   DefaultRowsPerRecord,
		Concurrency:     DefaultConcurrency,
		Incremental:     deref(r.Incremental),
	}
	if r.MaxBytesInFlight != nil {
		s.MaxBytesInFlight = *r.MaxBytesInFlight
	} else {
		s.MaxBytesInFlight = DefaultMaxBytesInFlight()
	}
	if r.RowsPerRecord != nil {
		s.RowsPerRecord = *r.RowsPerRecord
	}
	if r.Concurrency != nil {
		s.Concurrency = *r.Concurrency
	}
	// S3-compatible stores rarely support virtual-hosted buckets, so a custom
	// endpoint defaults to path style; an explicit value always wins.
	s.UsePathStyle = s.Endpoint != ""
	if r.UsePathStyle != nil {
		s.UsePathStyle = *r.UsePathStyle
	}
	if err := s.normalizeAndValidate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (s *Spec) normalizeAndValidate() error {
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
	prefix, err := NormalizePrefix(s.PathPrefix)
	if err != nil {
		errs = append(errs, err)
	}
	s.PathPrefix = prefix
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

// NormalizePrefix turns a user prefix into "" or "dir/sub/": the prefix names a
// directory, so "data" must not also match "database/...".
func NormalizePrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf(`spec: "path_prefix" must not start with "/": %q (S3 keys have no leading slash)`, p)
	}
	if strings.Contains(p, "//") {
		return "", fmt.Errorf(`spec: "path_prefix" must not contain empty segments ("//"): %q`, p)
	}
	if strings.ContainsAny(p, "*?[") {
		return "", fmt.Errorf(`spec: "path_prefix" is a literal key prefix, not a glob: %q`, p)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
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

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
