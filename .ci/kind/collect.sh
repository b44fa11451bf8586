#!/usr/bin/env bash
# What to look at after a failed end-to-end run, into $1: every object and event of
# the cluster, each pod's description, and the logs of OBI and of every pod in the
# demo namespace (current and previous container). Never fails: it runs after a
# failure and must keep what it can.
# Usage: collect.sh DIR [NAMESPACE...]   (default namespaces: obi-examples obi)
set -uo pipefail

dir=$1
shift
namespaces=("$@")
if [ "${#namespaces[@]}" -eq 0 ]; then namespaces=(obi-examples obi); fi
mkdir -p "$dir"

kubectl get nodes -o wide > "$dir/nodes.txt" 2>&1
kubectl get all,pvc,configmaps,secrets,events -A -o wide > "$dir/objects.txt" 2>&1
kubectl get events -A --sort-by=.lastTimestamp > "$dir/events.txt" 2>&1
kubectl describe pods -A > "$dir/pods-described.txt" 2>&1
helm list -A > "$dir/helm-releases.txt" 2>&1

for namespace in "${namespaces[@]}"; do
  mkdir -p "$dir/logs/$namespace"
  for pod in $(kubectl -n "$namespace" get pods -o 'jsonpath={.items[*].metadata.name}' 2> /dev/null); do
    kubectl -n "$namespace" logs "$pod" --all-containers --timestamps \
      > "$dir/logs/$namespace/$pod.log" 2>&1
    kubectl -n "$namespace" logs "$pod" --all-containers --timestamps --previous \
      > "$dir/logs/$namespace/$pod.previous.log" 2> /dev/null \
      || rm -f "$dir/logs/$namespace/$pod.previous.log"
  done
done
echo "collect: cluster state in $dir"
exit 0
