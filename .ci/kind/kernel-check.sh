#!/usr/bin/env bash
# Does this host's kernel have what OBI needs? Run before creating the kind cluster:
# kind nodes share the host's kernel, so a runner without BTF or kprobes would only
# show up much later as an OBI pod that attaches nothing and a telemetry test that
# times out. Checks (docs/install.md, "What the cluster needs"):
#   - kernel >= 5.8 (OBI's minimum with BTF; 5.17 for incoming header parsing)
#   - BTF at /sys/kernel/btf/vmlinux (OBI's CO-RE programs need the kernel's types)
#   - kprobes (CONFIG_KPROBES; OBI attaches kprobes to the kernel's network calls)
# Prints one line per check and, on GitHub, an error annotation naming what is
# missing. Exit 0 when all hold, 1 otherwise.
# Overridable for tests: KERNEL_RELEASE, BTF_FILE, KCONFIG_FILE, KPROBE_EVENTS.
set -euo pipefail

release=${KERNEL_RELEASE:-$(uname -r)}
btf=${BTF_FILE:-/sys/kernel/btf/vmlinux}
kconfig=${KCONFIG_FILE:-/boot/config-$release}
failed=0

fail() {
  echo "FAIL  $1"
  if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::error title=OBI kernel requirements::$1"; fi
  failed=1
}

# 5.8 or later: compare major.minor numerically.
version=${release%%-*}
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [ "$major" -gt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -ge 8 ]; }; then
  echo "ok    kernel $release (>= 5.8)"
else
  fail "kernel $release is older than 5.8: OBI cannot run on this host (kind nodes use the host's kernel)"
fi

if [ -r "$btf" ] && [ -s "$btf" ]; then
  echo "ok    BTF at $btf"
else
  fail "no BTF at $btf: OBI needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
fi

# kprobes: the kernel config says so when it is shipped; otherwise the tracing
# filesystem's kprobe_events file exists only on a kernel with kprobe events.
if [ -z "${KCONFIG_FILE:-}" ] && [ ! -r "$kconfig" ] && [ -r /proc/config.gz ]; then
  kconfig=$(mktemp)
  trap 'rm -f "$kconfig"' EXIT
  gzip -dc /proc/config.gz > "$kconfig"
fi
if [ -r "$kconfig" ]; then
  if grep -q '^CONFIG_KPROBES=y' "$kconfig"; then
    echo "ok    kprobes (CONFIG_KPROBES=y in $kconfig)"
  else
    fail "no kprobes: $kconfig lacks CONFIG_KPROBES=y, and OBI attaches kprobes"
  fi
else
  events=${KPROBE_EVENTS:-}
  if [ -z "$events" ]; then
    for candidate in /sys/kernel/tracing/kprobe_events /sys/kernel/debug/tracing/kprobe_events; do
      if [ -e "$candidate" ]; then events=$candidate; break; fi
    done
  fi
  if [ -n "$events" ] && [ -e "$events" ]; then
    echo "ok    kprobes ($events exists)"
  else
    fail "cannot find kprobes: no $kconfig and no kprobe_events in the tracing filesystem (mount tracefs, or run on a kernel with CONFIG_KPROBES=y)"
  fi
fi

if [ "$failed" -ne 0 ]; then
  echo "This host cannot run OBI; the end-to-end job stops here rather than time out later."
fi
exit "$failed"
