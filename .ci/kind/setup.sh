#!/usr/bin/env bash
# Prepares a cluster for the end-to-end jobs (.github/workflows/e2e.yml) after OBI
# (which the workflow installs itself, where the charts gate checks its pin) and
# before the apps, so that every app starts already instrumented:
#   setup.sh chart-deps the local (file://) dependencies of every chart packaged,
#                       library and apps before the umbrella (offline; also what
#                       the lint and release jobs run)
#   setup.sh fixtures   .ci/kind/fixtures.yaml (Secrets, external PostgreSQL, Redis,
#                       Kafka, backend names) and waits until they are ready
#   setup.sh backend    otel-lgtm as release obi-examples in namespace obi-examples,
#                       the backend values/obi.yaml sends OTLP to
# Needs helm on PATH, and for fixtures and backend kubectl and a current kube context.
set -euo pipefail
cd "$(dirname "$0")/../.."

namespace=obi-examples

chart_deps() {
  for chart in charts/*/; do
    [ "$chart" = charts/obi-examples/ ] || helm dependency build "$chart"
  done
  helm dependency build charts/obi-examples
}

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
  echo "usage: setup.sh chart-deps|fixtures|backend..." >&2
  exit 2
fi
for step in "$@"; do
  case $step in
    chart-deps) chart_deps ;;
    fixtures) fixtures ;;
    backend) backend ;;
    *) echo "setup.sh: unknown step $step (chart-deps, fixtures, backend)" >&2; exit 2 ;;
  esac
done
