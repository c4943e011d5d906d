#!/usr/bin/env bash
# Mutation pass over the rules the release depends on (issue 21): StrykerJS mutates lib/release.ts,
# lib/wif.ts, lib/rules.ts, tooling/exactTags.ts and tooling/evidence.ts (stryker.conf.json) and runs
# the unit tests that cover each mutant; prints the score per file and the surviving mutants.
# Not part of .ci/run (several minutes). Stryker is installed into a throwaway copy of the
# repository (npm ci, then `npm install --no-save` of StrykerJS 8, the last release for Node 20),
# so package.json and the lockfile never carry it.
#   npm run test:mutation            (MUTATION_KEEP=1 keeps the copy and its reports/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STRYKER_VERSION=8.7.1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")"
cleanup() { if [[ -z "${MUTATION_KEEP:-}" ]]; then rm -rf "${WORK}"; else echo "mutation: kept ${WORK}" >&2; fi; }
trap cleanup EXIT
log() { printf 'mutation: %s\n' "$*" >&2; }

log "copying the tracked tree to ${WORK}"
(cd "${ROOT}" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "${WORK}"
cd "${WORK}"
log "npm ci, then StrykerJS ${STRYKER_VERSION} (not saved)"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
npm install --no-save --no-audit --no-fund --loglevel=error \
	"@stryker-mutator/core@${STRYKER_VERSION}" "@stryker-mutator/mocha-runner@${STRYKER_VERSION}" >/dev/null
t0=${SECONDS}
node_modules/.bin/stryker run stryker.conf.json "$@"
log "done in $((SECONDS - t0)) s"
