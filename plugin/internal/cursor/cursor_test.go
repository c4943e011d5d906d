package cursor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/infobloxopen/cq-source-s3/internal/discovery"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int, key string) discovery.Object {
	return discovery.Object{Key: key, LastModified: t0.Add(time.Duration(sec) * time.Second)}
}

func names(objs []discovery.Object) string {
	var s []string
	for _, o := range objs {
		s = append(s, o.Key)
	}
	return strings.Join(s, ",")
}

func TestSelect(t *testing.T) {
	objs := []discovery.Object{at(2, "c"), at(1, "b"), at(1, "a"), at(0, "z"), at(3, "d")}
	tests := []struct {
		name string
		cur  Cursor
		want string
	}{
		{"zero cursor selects all, oldest first then by key", Cursor{}, "z,a,b,c,d"},
		{"strictly newer plus unseen keys at the cursor time", Cursor{LastModified: t0.Add(time.Second), Keys: []string{"a"}}, "b,c,d"},
		{"all keys at the cursor time seen", Cursor{LastModified: t0.Add(time.Second), Keys: []string{"a", "b"}}, "c,d"},
		{"cursor past everything", Cursor{LastModified: t0.Add(time.Hour)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(Select(tt.cur, objs)); got != tt.want {
				t.Fatalf("Select = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAdvance(t *testing.T) {
	selected := []discovery.Object{at(1, "a"), at(1, "b"), at(2, "c"), at(3, "d")}
	start := Cursor{LastModified: t0, Keys: []string{"z"}}
	tests := []struct {
		name  string
		retry string
		want  Cursor
	}{
		{"everything handled", "", Cursor{LastModified: t0.Add(3 * time.Second), Keys: []string{"d"}}},
		{"stops before a transient failure", "c", Cursor{LastModified: t0.Add(time.Second), Keys: []string{"a", "b"}}},
		{"failure within a shared timestamp keeps its siblings selectable", "b", Cursor{LastModified: t0.Add(time.Second), Keys: []string{"a"}}},
		{"failure first leaves the cursor", "a", start},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Advance(start, selected, func(k string) bool { return k == tt.retry })
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Advance = %v, want %v", got, tt.want)
			}
			// What was not consumed is exactly what the next Select returns.
			var rest []string
			for i, o := range selected {
				if o.Key == tt.retry {
					rest = []string{}
					for _, r := range selected[i:] {
						rest = append(rest, r.Key)
					}
					break
				}
			}
			if got, want := names(Select(got, selected)), strings.Join(rest, ","); got != want {
				t.Fatalf("next Select = %q, want %q", got, want)
			}
		})
	}
}

func TestAdvanceWithinCursorTimestamp(t *testing.T) {
	start := Cursor{LastModified: t0, Keys: []string{"a"}}
	selected := Select(start, []discovery.Object{at(0, "a"), at(0, "b"), at(0, "c")})
	got := Advance(start, selected, func(k string) bool { return k == "c" })
	if want := (Cursor{LastModified: t0, Keys: []string{"a", "b"}}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Advance = %v, want %v", got, want)
	}
}

func TestParseRoundTrip(t *testing.T) {
	c := Cursor{LastModified: t0, Keys: []string{"x/y.parquet"}}
	got, err := Parse(c.String())
	if err != nil || fmt.Sprint(got) != fmt.Sprint(c) {
		t.Fatalf("Parse(String()) = %v, %v", got, err)
	}
	if z, err := Parse(""); err != nil || !z.LastModified.IsZero() {
		t.Fatalf("Parse(\"\") = %v, %v", z, err)
	}
	if _, err := Parse("{not json"); err == nil || !strings.Contains(err.Error(), "decode cursor") {
		t.Fatalf("Parse(garbage) err = %v", err)
	}
}
