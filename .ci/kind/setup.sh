#!/usr/bin/env bash
# Prepares a cluster for the end-to-end jobs (.github/workflows/e2e.yml) after OBI
# (which the workflow installs itself, where the charts gate checks its pin) and
# before the apps, so that every app starts already instrumented:
#   setup.sh fixtures   .ci/kind/fixtures.yaml (Secrets, external PostgreSQL, Redis,
#                       Kafka, backend names) and waits until they are ready
#   setup.sh backend    otel-lgtm as release obi-examples in namespace obi-examples,
#                       the backend values/obi.yaml sends OTLP to
# Needs kubectl and helm on PATH and a current kube context.
set -euo pipefail
cd "$(dirname "$0")/../.."

namespace=obi-examples

fixtures() {
  kubectl apply -f .ci/kind/fixtures.yaml
  kubectl -n caches rollout status deployment/redis --timeout 5m
  kubectl -n databases rollout status deployment/postgres --timeout 5m
  kubectl -n streaming rollout status statefulset/kafka --timeout 5m
}

backend() {
  helm upgrade --install obi-examples charts/otel-lgtm --namespace "$namespace" \
    --create-namespace --set tests.enabled=false --wait --timeout 10m
}

if [ "$#" -eq 0 ]; then
  echo "usage: setup.sh fixtures|backend..." >&2
  exit 2
fi
for step in "$@"; do
  case $step in
    fixtures) fixtures ;;
    backend) backend ;;
    *) echo "setup.sh: unknown step $step (fixtures, backend)" >&2; exit 2 ;;
  esac
done
