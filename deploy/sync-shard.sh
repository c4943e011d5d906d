#!/bin/sh
# One shard of a sharded sync: `cloudquery sync --shard <index + 1>/<count>` against the
# cq-source-s3 plugin that a sidecar serves on PLUGIN_ADDRESS. tooling/deploy.ts puts this script,
# as it is, into both manifests as the CLI container's `sh -c` program; it runs in the CloudQuery
# CLI image (Alpine: busybox sh, nc, wget). POSIX sh without command substitution or a doubled
# dollar sign: Kubernetes rewrites both in a container's args (arithmetic expansion is safe).
#
# The platform numbers tasks from 0; the CLI counts shards from 1:
#   Kubernetes Indexed Job  JOB_COMPLETION_INDEX; the count is SHARDS, which the manifest also
#                           sets as completions (Kubernetes does not expose it to the pod)
#   Cloud Run job           CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT, which must equal
#                           SHARDS: an execution with another --tasks would change M behind the
#                           state backend's back (plugin/README.md, "Sharding")
# Environment: SHARDS, PLUGIN_ADDRESS, CLOUDQUERY_CONFIG (the configuration's text); on Cloud Run
# also AWS_ID_TOKEN_AUDIENCE and AWS_WEB_IDENTITY_TOKEN_FILE (deploy/README.md, "Cloud Run").
set -eu

fail() {
  echo "sync-shard: $*" >&2
  exit 2
}

# A decimal without leading zeros (sh arithmetic reads 010 as octal).
decimal() {
  case "$1" in
    0) return 0 ;;
    '' | 0* | *[!0-9]*) return 1 ;;
  esac
}

if ! decimal "${SHARDS:-}" || [ "$SHARDS" -lt 1 ]; then
  fail "SHARDS='${SHARDS:-}' is not a shard count (1, 2, ...)"
fi
[ -n "${PLUGIN_ADDRESS:-}" ] || fail "PLUGIN_ADDRESS (host:port of the plugin sidecar) is not set"
[ -n "${CLOUDQUERY_CONFIG:-}" ] || fail "CLOUDQUERY_CONFIG (the CloudQuery configuration) is not set"
if [ -n "${JOB_COMPLETION_INDEX+set}" ]; then
  index=$JOB_COMPLETION_INDEX
  count=$SHARDS
elif [ -n "${CLOUD_RUN_TASK_INDEX+set}" ]; then
  index=$CLOUD_RUN_TASK_INDEX
  count=${CLOUD_RUN_TASK_COUNT:-}
else
  fail "no task index: run as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Cloud Run job (CLOUD_RUN_TASK_INDEX)"
fi
decimal "$index" || fail "task index '$index' is not a number"
decimal "$count" || fail "task count '$count' is not a number"
[ "$count" -eq "$SHARDS" ] ||
  fail "$count tasks but the manifest was rendered for $SHARDS shards: render it again to change M"
[ "$index" -lt "$count" ] || fail "task index $index is not below the task count $count"
shard="$((index + 1))/$count"

# The sidecar starts first, but nothing waits for it to listen: the CLI's first call would fail.
command -v nc >/dev/null || fail "no nc in the CLI image (expected the Alpine-based CloudQuery CLI image)"
tries=0
until nc -z -w 1 "${PLUGIN_ADDRESS%:*}" "${PLUGIN_ADDRESS##*:}" 2>/dev/null; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || fail "the plugin is not listening on $PLUGIN_ADDRESS after 60 s (see its container's log)"
  sleep 1
done

refresher=
if [ -n "${AWS_ID_TOKEN_AUDIENCE:-}" ]; then
  # Cloud Run: the service account's Google-signed ID token, written where the plugin's AWS SDK
  # reads its web identity token (a volume both containers mount). It lives an hour; the SDK reads
  # the file again whenever it renews its credentials, so keep it fresh.
  [ -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] || fail "AWS_ID_TOKEN_AUDIENCE is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"
  token() {
    wget -q -T 10 --header "Metadata-Flavor: Google" -O "$AWS_WEB_IDENTITY_TOKEN_FILE.new" \
      "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=$AWS_ID_TOKEN_AUDIENCE" &&
      mv -f "$AWS_WEB_IDENTITY_TOKEN_FILE.new" "$AWS_WEB_IDENTITY_TOKEN_FILE"
  }
  token || fail "no ID token from the metadata server for audience $AWS_ID_TOKEN_AUDIENCE"
  (while sleep 900; do token || echo "sync-shard: ID token refresh failed; next try in 15 min" >&2; done) &
  refresher=$!
fi

# The configuration, and the destination plugin the CLI downloads, go to writable scratch space.
work=${TMPDIR:-/tmp}/cloudquery
mkdir -p "$work"
printf '%s\n' "$CLOUDQUERY_CONFIG" >"$work/config.yml"
echo "sync-shard: shard $shard" >&2
set -- /app/cloudquery sync "$work/config.yml" --shard "$shard" \
  --cq-dir "$work/cq" --log-console --log-format json --no-log-file --telemetry-level none
[ -n "$refresher" ] || exec "$@"

# With a refresher running, the shell stays: it forwards a stop signal and returns the CLI's status.
"$@" &
cli=$!
trap 'kill -TERM "$cli" 2>/dev/null || true' TERM INT
status=0
wait "$cli" || status=$?
while kill -0 "$cli" 2>/dev/null; do
  status=0
  wait "$cli" || status=$?
done
kill "$refresher" 2>/dev/null || true
exit "$status"
