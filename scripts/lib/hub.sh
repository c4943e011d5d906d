# The stand-in CloudQuery Hub API (test/e2e/sync/cmd/hub) for the shell scripts that rehearse the
# Hub door (scripts/rehearse-release.sh, test/e2e/sync/run.sh):
#   hub_start DIR [ARGS...]   builds and starts it on 127.0.0.1 (a free port), its store and
#                             request log in DIR (DIR/requests.jsonl); ARGS are its flags
#                             (-plugin team/kind/name, -api-key KEY); sets HUB_URL and HUB_PID
#   hub_stop                  stops the one hub_start started (by PID)
#   hub_writes                the write requests recorded so far, `METHOD PATH STATUS` per line
# shellcheck shell=bash
# shellcheck disable=SC2034 # HUB_URL and HUB_DIR are for the scripts that source this

HUB_URL="" HUB_PID="" HUB_DIR=""

hub_start() {
	local dir="$1" root i
	shift
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
	mkdir -p "${dir}"
	if [[ ! -x "${dir}/hub" ]]; then
		(cd "${root}/test/e2e/sync" && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "${dir}/hub" ./cmd/hub) || return 1
	fi
	rm -f "${dir}/addr"
	"${dir}/hub" -dir "${dir}" -addr-file "${dir}/addr" "$@" >>"${dir}/hub.log" 2>&1 &
	HUB_PID=$!
	for i in $(seq 1 100); do
		[[ -s "${dir}/addr" ]] && break
		kill -0 "${HUB_PID}" 2>/dev/null || break
		sleep 0.05
	done
	[[ -s "${dir}/addr" ]] || { echo "the stand-in Hub did not start (${dir}/hub.log after ${i} tries)" >&2; return 1; }
	HUB_URL="$(cat "${dir}/addr")"
	HUB_DIR="${dir}"
}

hub_stop() {
	if [[ -n "${HUB_PID}" ]] && kill -0 "${HUB_PID}" 2>/dev/null; then
		kill "${HUB_PID}" 2>/dev/null || true
		wait "${HUB_PID}" 2>/dev/null || true
	fi
	HUB_PID=""
}

hub_writes() {
	jq -r 'select(.method != "GET") | "\(.method) \(.path) \(.status)"' "${HUB_DIR:?}/requests.jsonl"
}
