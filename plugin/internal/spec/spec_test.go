package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	def := DefaultMaxBytesInFlight()
	tests := []struct {
		name string
		json string
		want Spec
	}{
		{
			name: "minimal gets defaults",
			json: `{"bucket":"my-bucket","region":"us-east-1"}`,
			want: Spec{Bucket: "my-bucket", Region: "us-east-1", UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: def},
		},
		{
			name: "prefix gains trailing slash",
			json: `{"bucket":"b12","region":"eu-west-1","path_prefix":"data/raw"}`,
			want: Spec{Bucket: "b12", Region: "eu-west-1", PathPrefix: "data/raw/", UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: def},
		},
		{
			name: "endpoint defaults to path style",
			json: `{"bucket":"b12","region":"us-east-1","endpoint":"http://127.0.0.1:9000"}`,
			want: Spec{Bucket: "b12", Region: "us-east-1", Endpoint: "http://127.0.0.1:9000", UsePathStyle: new(true), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: def},
		},
		{
			name: "explicit path style wins",
			json: `{"bucket":"b12","region":"auto","endpoint":"https://x.example.com","use_path_style":false}`,
			want: Spec{Bucket: "b12", Region: "auto", Endpoint: "https://x.example.com", UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: def},
		},
		{
			name: "static keys and tuning",
			json: `{"bucket":"b12","region":"us-east-1","access_key_id":"AK","secret_access_key":"SK","session_token":"ST","rows_per_record":1,"concurrency":1000}`,
			want: Spec{Bucket: "b12", Region: "us-east-1", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST", UsePathStyle: new(false), RowsPerRecord: 1, Concurrency: 1000, MaxBytesInFlight: def},
		},
		{
			name: "explicit byte budget",
			json: `{"bucket":"b12","region":"us-east-1","max_bytes_in_flight":1048576}`,
			want: Spec{Bucket: "b12", Region: "us-east-1", UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: 1 << 20},
		},
		{
			name: "largest byte budget",
			json: `{"bucket":"b12","region":"us-east-1","max_bytes_in_flight":1099511627776}`,
			want: Spec{Bucket: "b12", Region: "us-east-1", UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: 1 << 40},
		},
		{
			name: "incremental",
			json: `{"bucket":"b12","region":"us-east-1","incremental":true}`,
			want: Spec{Bucket: "b12", Region: "us-east-1", Incremental: true, UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: def},
		},
		{
			name: "profile",
			json: `{"bucket":"b12","region":"us-east-1","profile":"analytics"}`,
			want: Spec{Bucket: "b12", Region: "us-east-1", Profile: "analytics", UsePathStyle: new(false), RowsPerRecord: 500, Concurrency: 50, MaxBytesInFlight: def},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.json))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v (use_path_style %v)\nwant %+v (use_path_style %v)", got, *got.UsePathStyle, tt.want, *tt.want.UsePathStyle)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // every fragment must appear in the error
	}{
		{"empty spec", ``, []string{`"bucket" is required`, `"region" is required`}},
		{"not json", `{bucket:`, []string{"invalid JSON"}},
		{"unknown key (typo)", `{"bucket":"abc","region":"us-east-1","bukcet":"x"}`, []string{`unknown field "bukcet"`}},
		{"wrong type", `{"bucket":"abc","region":"us-east-1","concurrency":"ten"}`, []string{"invalid JSON", "concurrency"}},
		{"incremental not bool", `{"bucket":"abc","region":"us-east-1","incremental":"yes"}`, []string{"invalid JSON", "incremental"}},
		{"bucket url", `{"bucket":"s3://abc/data","region":"us-east-1"}`, []string{`"bucket" must be a bucket name, not a URL: "s3://abc/data"`}},
		{"bucket with slash", `{"bucket":"abc/data","region":"us-east-1"}`, []string{`"bucket" "abc/data" is not a valid bucket name`}},
		{"bucket too short", `{"bucket":"ab","region":"us-east-1"}`, []string{`"bucket" "ab"`}},
		{"bad region", `{"bucket":"abc","region":"US East"}`, []string{`"region" "US East" is not a valid region`}},
		{"prefix leading slash", `{"bucket":"abc","region":"us-east-1","path_prefix":"/data"}`, []string{`"path_prefix" must not start with "/": "/data"`}},
		{"prefix glob", `{"bucket":"abc","region":"us-east-1","path_prefix":"data/*"}`, []string{`"path_prefix" is a literal key prefix, not a glob`}},
		{"prefix empty segment", `{"bucket":"abc","region":"us-east-1","path_prefix":"a//b"}`, []string{`"path_prefix" must not contain empty segments`}},
		{"endpoint without scheme", `{"bucket":"abc","region":"us-east-1","endpoint":"127.0.0.1:9000"}`, []string{`"endpoint"`, "127.0.0.1:9000"}},
		{"endpoint ftp", `{"bucket":"abc","region":"us-east-1","endpoint":"ftp://host"}`, []string{`"endpoint" "ftp://host" must start with http:// or https://`}},
		{"endpoint with credentials", `{"bucket":"abc","region":"us-east-1","endpoint":"http://u:p@host"}`, []string{`"endpoint" must not embed credentials`}},
		{"endpoint with query", `{"bucket":"abc","region":"us-east-1","endpoint":"http://host/?a=b"}`, []string{`must not have a query`}},
		{"access key without secret", `{"bucket":"abc","region":"us-east-1","access_key_id":"AK"}`, []string{`"secret_access_key" is required when "access_key_id" is set`}},
		{"secret without access key", `{"bucket":"abc","region":"us-east-1","secret_access_key":"SK"}`, []string{`"access_key_id" is required when "secret_access_key" is set`}},
		{"token alone", `{"bucket":"abc","region":"us-east-1","session_token":"T"}`, []string{`"session_token" needs`}},
		{"profile and keys", `{"bucket":"abc","region":"us-east-1","profile":"p","access_key_id":"A","secret_access_key":"S"}`, []string{`"profile" "p" and static keys`}},
		{"rows_per_record zero", `{"bucket":"abc","region":"us-east-1","rows_per_record":0}`, []string{`"rows_per_record" must be between 1 and 1000000, got 0`}},
		{"rows_per_record huge", `{"bucket":"abc","region":"us-east-1","rows_per_record":1000001}`, []string{`got 1000001`}},
		{"concurrency negative", `{"bucket":"abc","region":"us-east-1","concurrency":-1}`, []string{`"concurrency" must be between 1 and 1000, got -1`}},
		{"max_bytes_in_flight zero", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":0}`, []string{`"max_bytes_in_flight" must be between 1048576 (1 MiB) and 1099511627776 (1 TiB) bytes, got 0`}},
		{"max_bytes_in_flight below 1 MiB", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":1048575}`, []string{`"max_bytes_in_flight"`, `got 1048575`}},
		{"max_bytes_in_flight above 1 TiB", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":1099511627777}`, []string{`"max_bytes_in_flight"`, `got 1099511627777`}},
		{"max_bytes_in_flight negative", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":-1}`, []string{`"max_bytes_in_flight"`, `got -1`}},
		{"max_bytes_in_flight with unit", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":"1GiB"}`, []string{"invalid JSON", "max_bytes_in_flight"}},
		{"max_bytes_in_flight fractional", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":1.5e9}`, []string{"invalid JSON", "max_bytes_in_flight"}},
		{"several errors at once", `{"bucket":"","region":"us-east-1","concurrency":0,"rows_per_record":0}`, []string{`"bucket" is required`, `"concurrency"`, `"rows_per_record"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil {
				t.Fatalf("Parse(%s) succeeded, want error", tt.json)
			}
			for _, frag := range tt.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
		})
	}
}

func TestErrorsNeverEchoSecrets(t *testing.T) {
	_, err := Parse([]byte(`{"bucket":"abc","region":"us-east-1","endpoint":"http://user:hunter2@host","profile":"p","access_key_id":"AKIDSECRET","secret_access_key":"hunter3"}`))
	if err == nil {
		t.Fatal("want error")
	}
	for _, secret := range []string{"hunter2", "hunter3", "AKIDSECRET"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q leaks %q", err, secret)
		}
	}
}
