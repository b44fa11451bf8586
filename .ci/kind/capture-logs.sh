#!/usr/bin/env bash
# Follows the logs of every k6 load pod and telemetry-check test pod that appears in
# namespace $1, each into $2/<pod>.log, until killed. Both kinds of pod are Helm
# hooks that Helm deletes once they succeeded, so their output (k6's end-of-test
# summary, telemetry-check's report) is kept only if it is read while they run.
# Usage: capture-logs.sh NAMESPACE DIR &   (then kill it when the tests are done)
set -euo pipefail

namespace=$1
dir=$2
mkdir -p "$dir"
declare -A following=()

# Each follower is a subshell running kubectl: stop the kubectl, then the subshell.
stop() {
  for follower in $(jobs -p); do
    pkill -P "$follower" 2> /dev/null || true
    kill "$follower" 2> /dev/null || true
  done
}
trap 'stop; exit 0' TERM INT
trap stop EXIT

while true; do
  pods=$(kubectl -n "$namespace" get pods \
    -l 'app.kubernetes.io/component in (load,test)' \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' 2> /dev/null || true)
  for pod in $pods; do
    if [ -z "${following[$pod]:-}" ]; then
      following[$pod]=1
      echo "capture-logs: following $namespace/$pod"
      # Waits for the container to start, then follows it to its end.
      (
        until kubectl -n "$namespace" logs --follow "$pod" > "$dir/$pod.log" 2>&1; do
          kubectl -n "$namespace" get pod "$pod" > /dev/null 2>&1 || exit 0
          sleep 2
        done
      ) &
    fi
  done
  sleep 2
done
