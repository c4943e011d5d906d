#!/usr/bin/env bash
# Benchmark of the plugin binary (figures only, never a pass/fail gate): `npm run bench:plugin`.
# Builds the plugin and a gRPC driver (scripts/bench-plugin/), generates Parquet data with pyarrow
# in a throwaway virtualenv, serves it from its own in-memory gofakes3 on a free 127.0.0.1 port, and
# prints rows/s, MB/s (Arrow IPC sent) and the plugin's peak RSS (VmHWM) per run, beside pyarrow
# reading the same file (iter_batches + one IPC stream per batch, as the plugin sends them).
#   (a) throughput: BENCH_ROWS rows x 6 columns, snappy, 500k-row groups; defaults and
#       rows_per_record=BENCH_TUNED_ROWS against pyarrow doing the same work its fastest way
#       (65536-row decoding, one IPC stream per record-sized slice); BENCH_REPEAT interleaved runs
#       each, median with min and max, every run checked to deliver every row.
#   (b) memory: 8 objects of one row group of BENCH_SCALE MB (uncompressed) each, at concurrency 1
#       and the default, with the old behaviour (no byte budget) and the new default.
#   (c) one object with a single row group of BENCH_BIG_MB MB (uncompressed), at the defaults.
#   (d) scale: BENCH_OBJECTS objects of BENCH_OBJECT_ROWS rows (>= 2 GB in all at the defaults),
#       one unsharded sync, then 2 shards (--shard 1/2, 2/2) at once, each its own plugin process.
# Every plugin run also prints its GETs and the MB their bodies delivered (the plugin's
# "objects read" log line; "-" for a baseline that does not log it).
# Environment:
#   BENCH_ROWS=5000000 BENCH_TUNED_ROWS=10000 BENCH_REPEAT=3 BENCH_SCALE=64 BENCH_BIG_MB=1100
#   BENCH_SCENARIOS="a b"          add c for the one-big-row-group run (~2 GB of memory for the data)
#   BENCH_KEEP=1                   keep the temporary directory (data, binaries) for reruns
#   BENCH_BASELINE_REF=<git ref>   also build and run the plugin at that ref (before/after figures)
# Profile of the plugin's own work (in-process, no gRPC):
#   cd plugin && BENCH_PARQUET=<file> go test ./internal/client -run '^$' -bench Sync -cpuprofile cpu.out
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

ROWS="${BENCH_ROWS:-5000000}"
TUNED="${BENCH_TUNED_ROWS:-10000}"
REPEAT="${BENCH_REPEAT:-3}"
SCENARIOS="${BENCH_SCENARIOS:-a b}"
SCALE="${BENCH_SCALE:-64}"
BIG_MB="${BENCH_BIG_MB:-1100}"
OBJECTS="${BENCH_OBJECTS:-1024}"
OBJECT_ROWS="${BENCH_OBJECT_ROWS:-100000}"
BASELINE="${BENCH_BASELINE_REF:-}"
PYARROW_VERSION="26.0.1"
NUMPY_VERSION="2.4.6"
# No byte budget: what the plugin did before max_bytes_in_flight (objects bounded by count only).
UNBOUNDED=1099511627776

log() { printf 'bench-plugin: %s\n' "$*" >&2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-plugin.XXXXXX")"
S3_PID=""
cleanup() {
	if [[ -n "${S3_PID}" ]]; then
		kill "${S3_PID}" 2>/dev/null || true
		wait "${S3_PID}" 2>/dev/null || true
	fi
	if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "${WORK}"; fi
}
trap cleanup EXIT

log "building the plugin, the driver and the S3 emulator"
(cd plugin && go build -o "${WORK}/cq-source-s3" . && go test -c -o "${WORK}/client.test" ./internal/client)
(cd scripts/bench-plugin && go build -o "${WORK}/driver" .)
GOFAKES3="${CQ_TOOLCHAIN_DIR:-${HOME}/.cache/cq-release-toolchain}/bin/gofakes3"
if [[ ! -x "${GOFAKES3}" ]]; then
	GOFAKES3="${WORK}/gofakes3"
	(cd toolchain/s3 && go build -o "${GOFAKES3}" github.com/johannesboyne/gofakes3/cmd/gofakes3)
fi
if [[ -n "${BASELINE}" ]]; then
	log "building the plugin at ${BASELINE}"
	mkdir -p "${WORK}/baseline"
	git archive "${BASELINE}" plugin | tar -x -C "${WORK}/baseline"
	(cd "${WORK}/baseline/plugin" && go build -o "${WORK}/cq-source-s3-baseline" .)
fi

log "installing pyarrow ${PYARROW_VERSION} into a throwaway virtualenv"
python3 -m venv "${WORK}/venv"
"${WORK}/venv/bin/pip" install -q --disable-pip-version-check "pyarrow==${PYARROW_VERSION}" "numpy==${NUMPY_VERSION}"
PY=("${WORK}/venv/bin/python" scripts/bench-plugin/gen.py)

log "generating data"
mkdir -p "${WORK}/data"
up=()
if [[ " ${SCENARIOS} " == *" a "* ]]; then
	"${PY[@]}" throughput "${WORK}/data/throughput.parquet" "${ROWS}" 500000
	up+=("throughput/part-0.parquet=${WORK}/data/throughput.parquet")
fi
if [[ " ${SCENARIOS} " == *" b "* ]]; then
	"${PY[@]}" memory "${WORK}/data/memory.parquet" "${SCALE}"
	for i in 0 1 2 3 4 5 6 7; do up+=("memory/part-${i}.parquet=${WORK}/data/memory.parquet"); done
fi
if [[ " ${SCENARIOS} " == *" c "* ]]; then
	"${PY[@]}" memory "${WORK}/data/big.parquet" "${BIG_MB}"
	up+=("big/part-0.parquet=${WORK}/data/big.parquet")
fi
if [[ " ${SCENARIOS} " == *" d "* ]]; then
	# Four different files, each under a quarter of the keys.
	for v in 0 1 2 3; do "${PY[@]}" throughput "${WORK}/data/scale-${v}.parquet" "${OBJECT_ROWS}" "${OBJECT_ROWS}"; done
	for i in $(seq 0 $((OBJECTS - 1))); do up+=("scale/part-${i}.parquet=${WORK}/data/scale-$((i % 4)).parquet"); done
	scale_mb="$(du -cm "${WORK}"/data/scale-*.parquet | tail -1 | cut -f1)"
	log "(d) ${OBJECTS} objects, $((scale_mb * OBJECTS / 4)) MB"
fi

PORT="$("${WORK}/driver" freeport)"
ENDPOINT="http://127.0.0.1:${PORT}"
"${GOFAKES3}" -backend memory -host "127.0.0.1:${PORT}" -initialbucket warehouse -quiet >"${WORK}/gofakes3.log" 2>&1 &
S3_PID=$!
for _ in $(seq 100); do
	curl -s -o /dev/null --max-time 1 "${ENDPOINT}/" && break
	sleep 0.1
done
"${WORK}/driver" upload -endpoint "${ENDPOINT}" -bucket warehouse "${up[@]}"

printf '%s\n' "label	rows	ipc_bytes	seconds	rows/s	MB/s	peak_rss_MB	cpu_s	rows/cpu_s	gets	MB_fetched" >"${WORK}/results.tsv"
: >"${WORK}/commands.txt"
# plugin LABEL BINARY PREFIX SPEC: one run, its line appended to the results.
plugin() {
	local label="$1" bin="$2" prefix="$3" spec="$4"
	printf '%s: %s run -bin %s -endpoint %s -prefix %s -spec %q\n' "${label}" "${WORK}/driver" \
		"${bin}" "${ENDPOINT}" "${prefix}" "${spec}" >>"${WORK}/commands.txt"
	"${WORK}/driver" run -bin "${bin}" -endpoint "${ENDPOINT}" -prefix "${prefix}" -spec "${spec}" -label "${label}" |
		tee -a "${WORK}/results.tsv" >&2
}

bins=("new=${WORK}/cq-source-s3")
if [[ -n "${BASELINE}" ]]; then bins+=("old=${WORK}/cq-source-s3-baseline"); fi
# pyarrow doing the plugin's work the fastest way it can: decode 65536-row batches (as the plugin
# does) and send each record-sized slice as one IPC stream; iter_batches(500) is the old, unfair
# reference (per-batch decoding costs dominate at 500 rows), kept for comparison.
PYFAIR=65536
labels=("a/pyarrow:default" "a/pyarrow:rows_per_record=${TUNED}" "a/pyarrow:iter_batches(500)")
for b in "${bins[@]}"; do labels+=("a/${b%%=*}:default" "a/${b%%=*}:rows_per_record=${TUNED}"); done
labels+=("a/new:in-process:default" "a/new:in-process:rows_per_record=${TUNED}")
# inprocess LABEL SPEC_EXTRA: the plugin's own work like pyarrow's (decode, slice, IPC-encode each
# record in memory; no gRPC, no receiving process): BenchmarkSync on the same file, one run.
inprocess() {
	local out
	out="$(BENCH_PARQUET="${WORK}/data/throughput.parquet" BENCH_SPEC_EXTRA="$2" "${WORK}/client.test" \
		-test.run '^$' -test.bench '^BenchmarkSync$' -test.benchtime 1x)"
	awk -v l="$1" '$1 ~ /^BenchmarkSync/ { for (i = 1; i < NF; i++) { if ($(i + 1) == "rows/s") r = $i; if ($(i + 1) == "rows/op") n = $i }
		printf "%s\t%d\t-\t%.3f\t%.0f\t-\t-\t-\t-\t-\t-\n", l, n, n / r, r }' <<<"${out}" | tee -a "${WORK}/results.tsv" >&2
}
# reference LABEL RECORD DECODE: one pyarrow run, its line relabelled and appended.
reference() {
	"${PY[@]}" pyarrow "${WORK}/data/throughput.parquet" "$2" 1 "$3" | sed "s|^pyarrow|$1|" | tee -a "${WORK}/results.tsv" >&2
}

if [[ " ${SCENARIOS} " == *" a "* ]]; then
log "(a) throughput: ${ROWS} rows, ${REPEAT} interleaved rounds"
for _ in $(seq "${REPEAT}"); do
	reference "a/pyarrow:default" 500 "${PYFAIR}"
	reference "a/pyarrow:rows_per_record=${TUNED}" "${TUNED}" "${PYFAIR}"
	reference "a/pyarrow:iter_batches(500)" 500 500
	for b in "${bins[@]}"; do
		plugin "a/${b%%=*}:default" "${b#*=}" throughput '{}'
		plugin "a/${b%%=*}:rows_per_record=${TUNED}" "${b#*=}" throughput "{\"rows_per_record\":${TUNED}}"
	done
	inprocess "a/new:in-process:default" ""
	inprocess "a/new:in-process:rows_per_record=${TUNED}" "{\"rows_per_record\":${TUNED}}"
done
fi

if [[ " ${SCENARIOS} " == *" b "* ]]; then
log "(b) memory: 8 objects x one ${SCALE} MB row group"
for b in "${bins[@]}"; do
	name="${b%%=*}" bin="${b#*=}"
	if [[ "${name}" == new ]]; then
		plugin "b/new:no_budget:concurrency=1" "${bin}" memory "{\"concurrency\":1,\"max_bytes_in_flight\":${UNBOUNDED}}"
		plugin "b/new:no_budget:default" "${bin}" memory "{\"max_bytes_in_flight\":${UNBOUNDED}}"
	fi
	plugin "b/${name}:concurrency=1" "${bin}" memory '{"concurrency":1}'
	plugin "b/${name}:default" "${bin}" memory '{}'
done
fi

if [[ " ${SCENARIOS} " == *" d "* ]]; then
log "(d) scale: ${OBJECTS} objects, unsharded, then 2 shards at once"
plugin "d/new:unsharded" "${WORK}/cq-source-s3" scale '{}'
for n in 1 2; do
	"${WORK}/driver" run -bin "${WORK}/cq-source-s3" -endpoint "${ENDPOINT}" -prefix scale -spec '{}' \
		-shard "${n}/2" -label "d/new:shard_${n}/2" >"${WORK}/shard-${n}.tsv" &
	eval "shard_pid_${n}=\$!"
done
# shellcheck disable=SC2154 # set by the eval above
wait "${shard_pid_1}" && wait "${shard_pid_2}"
cat "${WORK}/shard-1.tsv" "${WORK}/shard-2.tsv" | tee -a "${WORK}/results.tsv" >&2
fi

if [[ " ${SCENARIOS} " == *" c "* ]]; then
log "(c) memory: one object, one ${BIG_MB} MB row group"
for b in "${bins[@]}"; do
	plugin "c/${b%%=*}:default" "${b#*=}" big '{}'
done
fi

# stats LABEL COLUMN: "median min max" of a column over the runs labelled LABEL.
stats() {
	awk -F'\t' -v l="$1" -v c="$2" '$1 == l { print $c }' "${WORK}/results.tsv" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0 0"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}
if [[ " ${SCENARIOS} " == *" a "* ]]; then
# Every run must have delivered every row.
bad="$(awk -F'\t' -v n="${ROWS}" 'NR > 1 && $1 ~ /^a\// && $2 != n { print $1 ": " $2 " rows" }' "${WORK}/results.tsv")"
[[ -z "${bad}" ]] || { echo "bench-plugin: runs that did not deliver ${ROWS} rows:" >&2; echo "${bad}" >&2; exit 1; }
echo
echo "== (a) throughput: ${ROWS} rows x 6 columns, snappy, 500k-row groups; ${REPEAT} interleaved runs each ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)) =="
echo "   x_fair: the median against pyarrow's median for the same record size (decoding ${PYFAIR} rows at once);"
echo "   in-process: the plugin's own work like pyarrow's (no gRPC, no receiving process on the same CPUs)"
printf '%-36s %10s %10s %10s %12s %8s\n' run median_r/s min_r/s max_r/s peak_RSS_MB x_fair
for l in "${labels[@]}"; do
	read -r med lo hi <<<"$(stats "${l}" 5)"
	rss="$(stats "${l}" 7 | cut -d' ' -f3)"
	case "${l}" in
	*:rows_per_record=*) ref="a/pyarrow:rows_per_record=${TUNED}" ;;
	*) ref="a/pyarrow:default" ;;
	esac
	refmed="$(stats "${ref}" 5 | cut -d' ' -f1)"
	awk -v l="${l}" -v m="${med}" -v lo="${lo}" -v hi="${hi}" -v rss="${rss}" -v r="${refmed}" \
		'BEGIN { printf "%-36s %10d %10d %10d %12s %8.2f\n", l, m, lo, hi, (rss == 0 ? "-" : rss), (r > 0 ? m / r : 0) }'
done
fi
if [[ " ${SCENARIOS} " == *" b "* ]]; then
	echo
	echo "== (b) memory: 8 objects x one ${SCALE} MB (uncompressed) row group; no_budget = max_bytes_in_flight ${UNBOUNDED} =="
	printf '%-36s %10s %8s %12s %8s %11s\n' run rows/s MB/s peak_RSS_MB GETs MB_fetched
	awk -F'\t' '$1 ~ /^b\// { printf "%-36s %10d %8.1f %12s %8s %11s\n", $1, $5, $6, $7, $10, $11 }' "${WORK}/results.tsv"
fi
if [[ " ${SCENARIOS} " == *" c "* ]]; then
	echo
	echo "== (c) memory: one object, one ${BIG_MB} MB (uncompressed) row group, defaults =="
	printf '%-36s %10s %8s %12s %8s %11s\n' run rows/s MB/s peak_RSS_MB GETs MB_fetched
	awk -F'\t' '$1 ~ /^c\// { printf "%-36s %10d %8.1f %12s %8s %11s\n", $1, $5, $6, $7, $10, $11 }' "${WORK}/results.tsv"
fi
if [[ " ${SCENARIOS} " == *" d "* ]]; then
	echo
	echo "== (d) scale: ${OBJECTS} objects x ${OBJECT_ROWS} rows ($((scale_mb * OBJECTS / 4)) MB), defaults; 2 shards = two plugin processes at once =="
	printf '%-36s %12s %10s %10s %12s %8s\n' run rows seconds rows/s peak_RSS_MB GETs
	awk -F'\t' '$1 ~ /^d\// { printf "%-36s %12d %10.2f %10d %12s %8s\n", $1, $2, $4, $5, $7, $10 }' "${WORK}/results.tsv"
	awk -F'\t' -v want="$((OBJECTS * OBJECT_ROWS))" '
		$1 == "d/new:unsharded" { u = $4; ur = $2 }
		$1 ~ /^d\/new:shard_/ { r += $2; if ($4 > s) s = $4 }
		END {
			printf "2 shards together: %d rows in %.2f s = %d rows/s; x unsharded: %.2f (rows: unsharded %d, shards %d, want %d)\n", r, s, r / s, u / s, ur, r, want
			if (ur != want || r != want) { print "bench-plugin: (d) rows delivered differ from the objects'\'' rows" > "/dev/stderr"; exit 1 }
		}' "${WORK}/results.tsv"
fi
echo
echo "== reproduce =="
echo "everything: BENCH_ROWS=${ROWS} BENCH_TUNED_ROWS=${TUNED} BENCH_REPEAT=${REPEAT} BENCH_SCALE=${SCALE} BENCH_BIG_MB=${BIG_MB} BENCH_SCENARIOS=\"${SCENARIOS}\"${BASELINE:+ BENCH_BASELINE_REF=${BASELINE}} npm run bench:plugin"
echo "one figure (BENCH_KEEP=1 keeps ${WORK}): start the emulator and upload, then the run's line:"
echo "  ${GOFAKES3} -backend memory -host 127.0.0.1:${PORT} -initialbucket warehouse -quiet &"
echo "  ${WORK}/driver upload -endpoint ${ENDPOINT} -bucket warehouse ${up[*]}"
if [[ " ${SCENARIOS} " == *" a "* ]]; then echo "  a/pyarrow:default: ${PY[*]} pyarrow ${WORK}/data/throughput.parquet 500 1 ${PYFAIR}"; fi
awk '!seen[$0]++ { print "  " $0 }' "${WORK}/commands.txt"
