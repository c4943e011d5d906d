// Package cursor holds the incremental-sync position of one table: the newest
// object modification time fully handled, plus the keys handled at exactly
// that time (S3 times have coarse precision, so several objects can share one).
package cursor

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/infobloxopen/cq-source-s3/internal/discovery"
)

// Cursor is the stored position. The zero Cursor selects everything.
type Cursor struct {
	LastModified time.Time `json:"last_modified"`
	Keys         []string  `json:"keys,omitempty"`
}

// Parse decodes a stored value; "" is the zero Cursor.
func Parse(s string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return Cursor{}, fmt.Errorf("decode cursor %q: %w", s, err)
	}
	return c, nil
}

// String encodes the cursor for the state backend.
func (c Cursor) String() string {
	b, _ := json.Marshal(c) // cannot fail: time and strings only
	return string(b)
}

// Key is the state-backend key of a table's cursor. Bucket and prefix are part
// of it so that pointing a source elsewhere starts afresh.
func Key(bucket, prefix, table string) string {
	return fmt.Sprintf("s3://%s/%s#%s", bucket, prefix, table)
}

// Select returns the objects not yet handled according to c, oldest first
// (then by key), the order in which Advance consumes them.
func Select(c Cursor, objs []discovery.Object) []discovery.Object {
	out := make([]discovery.Object, 0, len(objs))
	for _, o := range objs {
		if !c.Handled(o) {
			out = append(out, o)
		}
	}
	byTime(out)
	return out
}

// Handled reports whether o is behind c: older, or at c's time and recorded.
func (c Cursor) Handled(o discovery.Object) bool {
	return o.LastModified.Before(c.LastModified) ||
		(o.LastModified.Equal(c.LastModified) && slices.Contains(c.Keys, o.Key))
}

// Advance moves c over selected (as returned by Select) up to, not including,
// the first object retry reports true for: such an object (a transient read
// failure) and everything newer is read again next time. Rows of newer objects
// already sent may then arrive twice: delivery is at least once, never lost.
func Advance(c Cursor, selected []discovery.Object, retry func(key string) bool) Cursor {
	next := Cursor{LastModified: c.LastModified, Keys: slices.Clone(c.Keys)}
	for _, o := range selected {
		if retry(o.Key) {
			// Keys are recorded one by one, so objects sharing this
			// timestamp that were not reached stay selectable.
			return next
		}
		if o.LastModified.After(next.LastModified) {
			next = Cursor{LastModified: o.LastModified}
		}
		next.Keys = append(next.Keys, o.Key)
	}
	return next
}
