package discovery

import (
	"reflect"
	"testing"
)

func keys(objs []Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Key
	}
	return out
}

func TestGroup(t *testing.T) {
	tests := []struct {
		name        string
		prefix      string
		keys        []string
		want        map[string][]string
		wantSkipped []string
	}{
		{
			name:   "directories and root files",
			prefix: "data/",
			keys:   []string{"data/users.parquet", "data/sales/b.parquet", "data/sales/a.parquet", "data/sales/eu/a.parquet"},
			want: map[string][]string{
				"users":    {"data/users.parquet"},
				"sales":    {"data/sales/a.parquet", "data/sales/b.parquet"},
				"sales_eu": {"data/sales/eu/a.parquet"},
			},
		},
		{
			name:   "names that sanitize alike merge",
			prefix: "",
			keys:   []string{"a-b/1.parquet", "a_b/2.parquet", "A.B/3.parquet"},
			want:   map[string][]string{"a_b": {"A.B/3.parquet", "a-b/1.parquet", "a_b/2.parquet"}},
		},
		{
			name:        "unnameable keys are skipped",
			prefix:      "",
			keys:        []string{"@@/x.parquet", "ok.parquet"},
			want:        map[string][]string{"ok": {"ok.parquet"}},
			wantSkipped: []string{"@@/x.parquet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []Object
			for _, k := range tt.keys {
				objs = append(objs, Object{Key: k})
			}
			got, skipped := Group(tt.prefix, objs)
			gotKeys := map[string][]string{}
			for n, o := range got {
				gotKeys[n] = keys(o)
			}
			if !reflect.DeepEqual(gotKeys, tt.want) {
				t.Errorf("tables = %v, want %v", gotKeys, tt.want)
			}
			if !reflect.DeepEqual(skipped, tt.wantSkipped) {
				t.Errorf("skipped = %v, want %v", skipped, tt.wantSkipped)
			}
		})
	}
}
