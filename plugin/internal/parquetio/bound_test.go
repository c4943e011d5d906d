package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// hugePageClaim rewrites the first page header of a valid uncompressed file
// to claim 2 GiB uncompressed (the varint grows, so every later offset in the
// footer moves with it).
func hugePageClaim(t testing.TB) []byte {
	t.Helper()
	region, md := parquettest.Split(t, ints(t, 250))
	cc := md.RowGroups[0].Columns[0].MetaData
	start := cc.DataPageOffset
	if cc.DictionaryPageOffset != nil && *cc.DictionaryPageOffset > 0 {
		start = *cc.DictionaryPageOffset
	}
	// Compact Thrift PageHeader: 0x15 <type>, 0x15 <uncompressed_page_size>, ...
	h := region[start:]
	if h[0] != 0x15 || h[2] != 0x15 {
		t.Fatalf("unexpected page header % x", h[:8])
	}
	end := 3
	for h[end]&0x80 != 0 {
		end++
	}
	end++
	huge := binary.AppendUvarint(nil, uint64(1<<31-1)<<1) // zigzag of 2^31-1
	var out bytes.Buffer
	out.Write(region[:start+3])
	out.Write(huge)
	out.Write(region[start+int64(end):])
	shift := int64(len(huge) - (end - 3))
	for _, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			m := c.MetaData
			if m.DataPageOffset > start {
				m.DataPageOffset += shift
			}
			if m.DictionaryPageOffset != nil && *m.DictionaryPageOffset > start {
				*m.DictionaryPageOffset += shift
			}
		}
	}
	cc.TotalCompressedSize += shift
	cc.TotalUncompressedSize += shift
	return parquettest.Join(t, out.Bytes(), md)
}

// Found by fuzzing: a page header's uncompressed size is allocated before
// the page is decoded, and an uncompressed page is accepted whatever it
// claims. This 1.3 KB file made the reader allocate 2 GiB (and read all 250
// rows). Now the buffer is refused before it is allocated.
func TestPageSizeClaimIsBounded(t *testing.T) {
	data := hugePageClaim(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := read(t, data, ReadOptions{BatchRows: 64})
	runtime.ReadMemStats(&after)
	// Ours, or arrow-go's own limit (≥ 18.6), whichever refuses first.
	if r.rows != 0 || !errors.Is(r.err, ErrMalformed) ||
		(!strings.Contains(r.err.Error(), "a page or column chunk claims 2147483648 bytes, over the 33554432 bytes allowed for this object") &&
			!strings.Contains(r.err.Error(), "uncompressed page size 2147483647 exceeds configured limit")) {
		t.Fatalf("rows %d, err %v", r.rows, r.err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 16<<20 {
		t.Errorf("allocated %d MiB reading a %d-byte file", d>>20, len(data))
	}
}

func TestPageBound(t *testing.T) {
	for _, tt := range []struct{ size, want int64 }{
		{0, minPageBound},
		{1 << 10, minPageBound},
		{1 << 20, 1 << 30},
		{1 << 60, 1 << 62},
	} {
		if got := pageBound(tt.size); got != tt.want {
			t.Errorf("pageBound(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
