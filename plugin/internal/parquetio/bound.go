package parquetio

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A page header states its uncompressed size, and arrow-go allocates a buffer
// of that size before decoding the page; for an uncompressed page it then
// copies the page into it and accepts the result whatever the claim. So a
// 1 KB object whose page header claims 2 GiB made the reader allocate 2 GiB
// (found by fuzzing), per page and per object read at once.
//
// Every buffer of the Parquet layer (pages, decompression, column chunks) is
// therefore allocated through boundedAllocator, which refuses one larger than
// pageBound(object size): a real page never decodes to more than about a
// thousand times the bytes of its whole object (gzip's maximum ratio is about
// 1032:1), and any buffer up to minPageBound is allowed. A refused buffer
// fails the object as malformed, before the allocation.
const (
	minPageBound = 32 << 20
	maxExpansion = 1024
)

func pageBound(objectSize int64) int64 {
	if objectSize > (1<<62)/maxExpansion {
		return 1 << 62
	}
	return max(minPageBound, objectSize*maxExpansion)
}

// boundedAllocator is memory.DefaultAllocator with a cap on each buffer.
type boundedAllocator struct {
	memory.Allocator
	limit int64
}

// bufferTooLarge is the panic a refused allocation raises (the Allocator
// interface has no error); recoverTo turns it into ErrMalformed.
type bufferTooLarge struct{ size, limit int64 }

func (e *bufferTooLarge) Error() string {
	return fmt.Sprintf("a page or column chunk claims %d bytes, over the %d bytes allowed for this object (%d times its size, at least %d)",
		e.size, e.limit, maxExpansion, minPageBound)
}

func (a boundedAllocator) check(n int) {
	if int64(n) > a.limit {
		panic(&bufferTooLarge{size: int64(n), limit: a.limit})
	}
}

func (a boundedAllocator) Allocate(n int) []byte {
	a.check(n)
	return a.Allocator.Allocate(n)
}

func (a boundedAllocator) Reallocate(n int, b []byte) []byte {
	a.check(n)
	return a.Allocator.Reallocate(n, b)
}
