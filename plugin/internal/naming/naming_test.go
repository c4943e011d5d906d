package naming

import "testing"

func TestTableName(t *testing.T) {
	tests := []struct {
		name, prefix, key string
		want              string
		wantOK            bool
	}{
		{"root file uses base name", "", "users.parquet", "users", true},
		{"root file under prefix", "data/", "data/users.parquet", "users", true},
		{"one directory", "", "sales/part-0.parquet", "sales", true},
		{"nested directories joined by underscore", "data/", "data/sales/eu/2024/part-0.parquet", "sales_eu_2024", true},
		{"hive partition characters replaced", "", "events/year=2024/month=01/f.parquet", "events_year_2024_month_01", true},
		{"invalid characters become underscore and collapse", "", "My Data--Set/x.parquet", "my_data_set", true},
		{"uppercase extension accepted", "", "Logs/A.PARQUET", "logs", true},
		{"leading and trailing junk trimmed", "", "__weird__/x.parquet", "weird", true},
		{"root file with dots", "", "web.access.log.parquet", "web_access_log", true},
		{"unicode replaced", "", "données/x.parquet", "donn_es", true},
		{"not parquet", "", "sales/part-0.csv", "", false},
		{"parquet substring is not extension", "", "sales/x.parquet.crc", "", false},
		{"directory marker", "", "sales.parquet/", "", false},
		{"outside prefix", "data/", "other/x.parquet", "", false},
		{"nothing usable left", "", "___.parquet", "", false},
		{"only invalid directory", "", "@@/x.parquet", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TableName(tt.prefix, tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("TableName(%q, %q) = %q, %v; want %q, %v", tt.prefix, tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"a/b/c", "a_b_c"},
		{"a__b", "a_b"},
		{"_a_", "a"},
		{"A-B.C", "a_b_c"},
		{"2024", "2024"},
	}
	for _, tt := range tests {
		if got := Sanitize(tt.in); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
