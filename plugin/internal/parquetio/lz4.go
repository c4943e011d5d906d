package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pierrec/lz4/v4"
)

// arrow-go implements LZ4_RAW but not the deprecated LZ4 codec (id 5) that
// parquet-mr (Hadoop's Lz4Codec), Spark, older Arrow C++ and others wrote, so
// such objects used to fail as malformed. The plugin registers a reader for
// it (codecs.go), process-wide, before any file is opened.

// lz4FrameMagic starts an LZ4 frame (little-endian 0x184D2204).
var lz4FrameMagic = []byte{0x04, 0x22, 0x4d, 0x18}

// hadoopLZ4 decodes a page compressed with the Parquet LZ4 codec. Writers
// disagree on what that is; like Arrow C++ it tries, in order:
//
//  1. Hadoop's block framing (parquet-mr, Spark, Arrow C++ 1.0 and later):
//     blocks of [uncompressed size][compressed size][LZ4 block]..., sizes
//     as 4-byte big-endian integers, a block possibly split in several
//     compressed chunks;
//  2. an LZ4 frame (xitongsys/parquet-go);
//  3. one raw LZ4 block (parquet-cpp before Arrow 1.0, fastparquet).
//
// The page must decode to exactly the page header's uncompressed size (the
// length of dst); otherwise Decode panics, as arrow-go's own codecs do, and
// the read fails the object as malformed, naming the codec.
type hadoopLZ4 struct{}

func (hadoopLZ4) Decode(dst, src []byte) []byte {
	if n, err := decodeHadoopLZ4(dst, src); err == nil && n == len(dst) {
		return dst[:n]
	}
	if bytes.HasPrefix(src, lz4FrameMagic) {
		if n, err := io.ReadFull(lz4.NewReader(bytes.NewReader(src)), dst); err == nil && n == len(dst) {
			return dst[:n]
		}
	}
	n, err := lz4.UncompressBlock(src, dst)
	if err == nil && n == len(dst) {
		return dst[:n]
	}
	if err == nil {
		err = fmt.Errorf("%d bytes, the page header says %d", n, len(dst))
	}
	panic(fmt.Errorf("LZ4 (Hadoop) codec: page of %d bytes decodes neither as Hadoop-framed, LZ4 frame nor raw LZ4 block: %w", len(src), err))
}

// decodeHadoopLZ4 decodes Hadoop BlockCompressorStream framing into dst and
// returns the bytes written.
func decodeHadoopLZ4(dst, src []byte) (int, error) {
	out := 0
	for len(src) > 0 {
		if len(src) < 4 {
			return 0, errors.New("truncated block header")
		}
		block := int(binary.BigEndian.Uint32(src))
		src = src[4:]
		if block > len(dst)-out {
			return 0, fmt.Errorf("block of %d bytes overflows the page", block)
		}
		end := out + block
		for out < end {
			if len(src) < 4 {
				return 0, errors.New("truncated chunk header")
			}
			size := int(binary.BigEndian.Uint32(src))
			src = src[4:]
			if size > len(src) || size == 0 {
				return 0, fmt.Errorf("chunk of %d bytes, %d left", size, len(src))
			}
			n, err := lz4.UncompressBlock(src[:size], dst[out:end])
			if err != nil {
				return 0, err
			}
			if n == 0 {
				return 0, errors.New("empty chunk")
			}
			out += n
			src = src[size:]
		}
	}
	return out, nil
}

// Encode writes one Hadoop block (one chunk), as Arrow C++ and parquet-mr do
// for a page. The plugin never writes Parquet; this serves arrow-go's writer
// in tests.
func (hadoopLZ4) Encode(dst, src []byte) []byte {
	bound := lz4.CompressBlockBound(len(src)) + 8
	if cap(dst) < bound {
		dst = make([]byte, bound)
	}
	dst = dst[:bound]
	var c lz4.Compressor
	n, err := c.CompressBlock(src, dst[8:])
	if err != nil {
		panic(err)
	}
	if len(src) == 0 {
		return dst[:0] // an empty page is no block at all
	}
	binary.BigEndian.PutUint32(dst, uint32(len(src)))
	binary.BigEndian.PutUint32(dst[4:], uint32(n))
	return dst[:8+n]
}

func (h hadoopLZ4) EncodeLevel(dst, src []byte, _ int) []byte { return h.Encode(dst, src) }

func (hadoopLZ4) CompressBound(n int64) int64 { return int64(lz4.CompressBlockBound(int(n))) + 8 }
