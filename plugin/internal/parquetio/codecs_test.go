package parquetio

import (
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// An empty compressed body (an all-null DataPage V2 from some writers)
// decodes to no bytes under every codec; before, snappy panicked with
// "snappy: corrupt input" and the object was skipped as malformed.
func TestEmptyPageBodyDecodesUnderEveryCodec(t *testing.T) {
	for _, c := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Gzip, compress.Codecs.Brotli,
		compress.Codecs.Zstd, compress.Codecs.Lz4Raw, compress.Codecs.Lz4} {
		codec, err := compress.GetCodec(c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: empty body panicked: %v", c, r)
				}
			}()
			if out := codec.Decode(make([]byte, 0), nil); len(out) != 0 {
				t.Errorf("%s: empty body decoded to %d bytes", c, len(out))
			}
		}()
		// A real body still round-trips through the wrapper.
		src := []byte("values values values values")
		if c == compress.Codecs.Lz4 {
			continue // decode-only (hadoopLZ4; lz4_test.go)
		}
		enc := codec.Encode(make([]byte, codec.CompressBound(int64(len(src)))), src)
		if got := codec.Decode(make([]byte, len(src)), enc); string(got) != string(src) {
			t.Errorf("%s: round trip gave %q", c, got)
		}
	}
}
