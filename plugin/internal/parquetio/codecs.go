package parquetio

import "github.com/apache/arrow-go/v18/parquet/compress"

// The codecs the reader decodes pages with, registered process-wide before
// any file is opened, in this order: the Hadoop LZ4 reader (lz4.go) first,
// then every codec wrapped so that an empty page body decodes to nothing.
func init() {
	compress.RegisterCodec(compress.Codecs.Lz4, hadoopLZ4{})
	for _, c := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Gzip, compress.Codecs.Brotli,
		compress.Codecs.Zstd, compress.Codecs.Lz4Raw, compress.Codecs.Lz4} {
		if codec, err := compress.GetCodec(c); err == nil {
			compress.RegisterCodec(c, emptyPageTolerant{codec})
		}
	}
}

// emptyPageTolerant decodes a zero-length compressed body as no bytes. A
// DataPage V2 whose values are all null has only levels; some writers then
// write no compressed bytes at all, where snappy, for one, needs a header
// even for nothing ("snappy: corrupt input"). Arrow C++ (pyarrow) reads such
// pages; so does this reader now. Every other body decodes as before.
type emptyPageTolerant struct{ compress.Codec }

func (c emptyPageTolerant) Decode(dst, src []byte) []byte {
	if len(src) == 0 {
		return dst[:0]
	}
	return c.Codec.Decode(dst, src)
}
