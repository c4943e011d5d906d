package client_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	pluginv3 "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// admissions records what the byte budget admits, and checks that column
// data is only ever fetched for an admitted object and that the admitted
// weights never exceed the limit.
type admissions struct {
	limit      int64
	regionEnds map[string]int64 // where each object's footer starts

	mu         sync.Mutex
	admitted   map[string]int64
	weights    map[string]int64
	inFlight   int64
	peakCount  int
	countWith  map[string]int // most objects admitted while key was
	violations []string
}

func newAdmissions(t *testing.T, objects map[string][]byte, limit int64) *admissions {
	a := &admissions{limit: limit, regionEnds: map[string]int64{}, admitted: map[string]int64{}, weights: map[string]int64{}, countWith: map[string]int{}}
	for k, v := range objects {
		region, _ := parquettest.Split(t, v)
		a.regionEnds[k] = int64(len(region))
	}
	return a
}

func (a *admissions) hook(key string, weight int64, admitted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !admitted {
		delete(a.admitted, key)
		a.inFlight -= weight
		return
	}
	a.admitted[key] = weight
	a.weights[key] = weight
	a.inFlight += weight
	if a.inFlight > a.limit {
		a.violations = append(a.violations, fmt.Sprintf("%d bytes admitted (%v), limit %d", a.inFlight, a.admitted, a.limit))
	}
	a.peakCount = max(a.peakCount, len(a.admitted))
	for k := range a.admitted {
		a.countWith[k] = max(a.countWith[k], len(a.admitted))
	}
}

// onGet fails any read of column data (before the footer) outside admission,
// and slows it down so that admitted objects overlap.
func (a *admissions) onGet(key string, from int64) {
	if from >= a.regionEnds[key] {
		return // the footer
	}
	a.mu.Lock()
	if _, ok := a.admitted[key]; !ok {
		a.violations = append(a.violations, fmt.Sprintf("%s: column data read at byte %d while not admitted", key, from))
	}
	a.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
}

// syncWithBudget syncs objects under a byte budget of limit (set directly:
// the spec's 1 MiB minimum would dwarf these files) and returns the
// admissions, the rows per table and the log.
func syncWithBudget(t *testing.T, objects map[string][]byte, limit int64, concurrency int) (*admissions, map[string]*tableRows, string) {
	t.Helper()
	a := newAdmissions(t, objects, limit)
	api := &memAPI{objects: objects, onGet: a.onGet}
	s := mustSpec(t, "http://127.0.0.1:1", 100, concurrency)
	s.MaxBytesInFlight = limit
	logs := &syncWriter{}
	c, err := client.New(context.Background(), zerolog.New(logs), s, api, false, client.WithAdmissionHook(a.hook))
	if err != nil {
		t.Fatal(err)
	}
	_, rows := collect(t, runSync(t, c, []string{"*"}))
	if len(a.violations) > 0 {
		t.Fatalf("budget of %d bytes not kept:\n%s", limit, strings.Join(a.violations, "\n"))
	}
	if a.inFlight != 0 || len(a.admitted) != 0 {
		t.Fatalf("after the sync %d bytes are still admitted: %v", a.inFlight, a.admitted)
	}
	return a, rows, logs.String()
}

// weights measures the weight of every object (a budget nothing exceeds).
func weights(t *testing.T, objects map[string][]byte) map[string]int64 {
	a, _, _ := syncWithBudget(t, objects, math.MaxInt64/2, 1)
	return a.weights
}

func TestByteBudgetBoundsBytesInFlight(t *testing.T) {
	objects := map[string][]byte{}
	for i := range 8 {
		objects[fmt.Sprintf("data/t/part-%d.parquet", i)] = parquetFile(t, userSchema, i*1000, 1000, 1000)
	}
	var w int64
	for _, v := range weights(t, objects) {
		w = max(w, v)
	}
	// Room for two objects at a time although concurrency allows all eight.
	a, rows, _ := syncWithBudget(t, objects, 2*w+w/2, 8)
	if a.peakCount != 2 {
		t.Errorf("at most %d objects were admitted at once; want 2 (the budget holds two)", a.peakCount)
	}
	if got := rows["t"]; got == nil || !sameMultiset(got.ids, seq(0, 8000)) {
		t.Fatalf("rows of t: want ids 0..7999 once each")
	}

	// Concurrency stays an upper bound under a large budget.
	a, _, _ = syncWithBudget(t, objects, 100*w, 3)
	if a.peakCount > 3 {
		t.Errorf("%d objects admitted at once with concurrency 3", a.peakCount)
	}
}

func TestObjectOverBudgetSyncsAlone(t *testing.T) {
	objects := map[string][]byte{"data/t/big.parquet": parquetFile(t, userSchema, 0, 20_000, 20_000)}
	for i := range 4 {
		objects[fmt.Sprintf("data/t/small-%d.parquet", i)] = parquetFile(t, userSchema, 100_000+i*10, 10, 10)
	}
	ws := weights(t, objects)
	var small int64
	for k, v := range ws {
		if k != "data/t/big.parquet" {
			small = max(small, v)
		}
	}
	limit := 3 * small
	if ws["data/t/big.parquet"] <= limit {
		t.Fatalf("big object weighs %d, not over the %d-byte budget; make it bigger", ws["data/t/big.parquet"], limit)
	}
	a, rows, logs := syncWithBudget(t, objects, limit, 5)
	if got := a.weights["data/t/big.parquet"]; got != limit {
		t.Errorf("big object admitted with weight %d, want the whole budget %d", got, limit)
	}
	if n := a.countWith["data/t/big.parquet"]; n != 1 {
		t.Errorf("big object shared the budget with %d other objects; want it alone", n-1)
	}
	if a.peakCount < 2 {
		t.Errorf("small objects never read together (peak %d); the budget holds three", a.peakCount)
	}
	want := append(seq(0, 20_000), seq(100_000, 40)...)
	if got := rows["t"]; got == nil || !sameMultiset(got.ids, want) {
		t.Fatalf("rows of t: want every row of the big and the small objects")
	}
	if !strings.Contains(logs, "reading it alone") || !strings.Contains(logs, "data/t/big.parquet") {
		t.Errorf("log does not say the big object is read alone:\n%s", logs)
	}
}

// Records are decoded in batches larger than rows_per_record and sent as
// slices of them; each must encode to Arrow IPC as exactly its own rows.
func TestSlicedRecordsEncode(t *testing.T) {
	objects := map[string][]byte{"data/t/part-0.parquet": parquetFile(t, userSchema, 0, 1000, 400)}
	s := mustSpec(t, "http://127.0.0.1:1", 7, 1)
	c, err := client.New(context.Background(), zerolog.Nop(), s, &memAPI{objects: objects}, false)
	if err != nil {
		t.Fatal(err)
	}
	next := int64(0)
	for _, m := range runSync(t, c, []string{"*"}) {
		ins, ok := m.(*message.SyncInsert)
		if !ok {
			continue
		}
		if ins.Record.NumRows() > 7 {
			t.Fatalf("record of %d rows, rows_per_record is 7", ins.Record.NumRows())
		}
		b, err := pluginv3.RecordToBytes(ins.Record)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := pluginv3.NewRecordFromBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		ids := rec.Column(0).(*array.Int64)
		names := rec.Column(1).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			if ids.Value(i) != next || names.Value(i) != fmt.Sprintf("name-%d", next) {
				t.Fatalf("row %d decodes as (%d, %q)", next, ids.Value(i), names.Value(i))
			}
			next++
		}
		rec.Release()
	}
	if next != 1000 {
		t.Fatalf("%d rows decoded, want 1000", next)
	}
}
