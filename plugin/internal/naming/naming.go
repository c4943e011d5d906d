// Package naming maps S3 object keys to CloudQuery table names.
package naming

import (
	"path"
	"strings"
)

// ParquetExt is the (case-insensitive) suffix of objects the plugin reads.
const ParquetExt = ".parquet"

// IsParquet reports whether key names a Parquet object (not a "directory" marker).
func IsParquet(key string) bool {
	return !strings.HasSuffix(key, "/") && strings.HasSuffix(strings.ToLower(key), ParquetExt)
}

// TableName derives the table for key, which must start with prefix ("" or "dir/").
//
// Rules: the directory segments below prefix, joined by "_", name the table
// (so all files of one directory form one table); a file directly under prefix
// forms a table named after its base name without the extension. Names are
// lowercased, every character outside [a-z0-9_] becomes "_", runs of "_"
// collapse to one and leading/trailing "_" are trimmed. ok is false when the
// key is not a Parquet object under prefix or nothing usable remains.
func TableName(prefix, key string) (name string, ok bool) {
	if !strings.HasPrefix(key, prefix) || !IsParquet(key) {
		return "", false
	}
	rel := strings.TrimPrefix(key, prefix)
	dir, file := path.Split(rel)
	raw := strings.TrimSuffix(dir, "/")
	if raw == "" {
		raw = file[:len(file)-len(ParquetExt)]
	}
	name = Sanitize(raw)
	return name, name != ""
}

// Sanitize applies the character rules of TableName to s ("/" counts as invalid, so becomes "_").
func Sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	lastUnderscore := true // suppresses a leading "_"
	for _, r := range strings.ToLower(s) {
		valid := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !valid {
			if !lastUnderscore {
				b.WriteByte('_')
			}
			lastUnderscore = true
			continue
		}
		b.WriteRune(r)
		lastUnderscore = false
	}
	return strings.TrimSuffix(b.String(), "_")
}
