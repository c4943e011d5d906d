#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzXxx(f *testing.F)) of the plugin for a
# bounded time each, one worker at a time, and fails on the first crash. A
# crashing input is written by Go under <package>/testdata/fuzz/<Target>/ and
# named in the output; commit it to keep it as a regression seed.
#
# Env: FUZZ_TIME          time per target (default 20s; Go duration or Nx count)
#      TYPES_CASES        files the every-type property test generates (default 400)
#      TYPES_SEED         its seed (default: the clock; printed)
#      FUZZ_MINIMIZE_TIME time spent minimising a new input (default 0: none;
#                         minimising can take a whole short run and look hung)
# Usage: plugin/scripts/fuzz.sh [package pattern, default ./...]
set -euo pipefail

plugin_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${plugin_dir}"
fuzz_time="${FUZZ_TIME:-20s}"
minimize_time="${FUZZ_MINIMIZE_TIME:-0}"
pattern="${1:-./...}"

# The property test over every type (internal/parquetio/types_test.go): npm test
# runs its default number of cases; here many more, with the seed printed.
types_cases="${TYPES_CASES:-400}"
echo "fuzz: TestEveryTypeThroughTheWholePath, ${types_cases} generated files"
if ! TYPES_CASES="${types_cases}" go test ./internal/parquetio -run '^TestEveryTypeThroughTheWholePath$' -count=1 -v |
  grep -E '^(---|ok|FAIL)|TYPES_SEED|types_test.go'; then
  echo "fuzz: the property test failed; rerun with the TYPES_SEED above" >&2
  exit 1
fi

found=0
while IFS= read -r pkg_dir; do
  # Targets are declared at the start of a line in a _test.go file.
  targets="$(grep -h -o '^func Fuzz[A-Za-z0-9_]*(' "${pkg_dir}"/*_test.go 2>/dev/null | sed 's/^func //; s/($//' | sort -u || true)"
  for target in ${targets}; do
    found=$((found + 1))
    echo "fuzz: ${pkg_dir#"${plugin_dir}"/} ${target} for ${fuzz_time}"
    if ! go test "${pkg_dir}" -run '^$' -fuzz "^${target}\$" -fuzztime "${fuzz_time}" \
      -fuzzminimizetime "${minimize_time}" -parallel 1; then
      echo "fuzz: ${target} failed; the crashing input is under ${pkg_dir#"${plugin_dir}"/}/testdata/fuzz/${target}/" >&2
      exit 1
    fi
  done
done < <(go list -f '{{.Dir}}' "${pattern}")

if [ "${found}" -eq 0 ]; then
  echo "fuzz: no Fuzz targets found under ${pattern}" >&2
  exit 1
fi
echo "fuzz: ${found} target(s) ran without a crash"
