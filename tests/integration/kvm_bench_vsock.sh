#!/usr/bin/env bash
# kvm_bench_vsock: native-bench's AF_VSOCK mode against bench-peer --vsock, over
# vsock_loopback (CID 1): the transport scripts/peer-vm's vhost-vsock guest uses.
# Labelled kvm because it runs where the kvm label runs: inside scripts/kvm-sandbox,
# whose kernel loads vsock_loopback (natively: modprobe it, as root).
#
#   kvm_bench_vsock.sh BENCH_PEER NATIVE_BENCH
set -euo pipefail
peer_exe=$1 bench=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

if [[ ! -d /sys/module/vsock_loopback ]]; then
  modprobe vsock_loopback 2>/dev/null || fail "vsock_loopback is not loaded (and modprobe failed)"
fi
out=$(mktemp)
"$peer_exe" --vsock --sink 0 --echo 0 > "$out" &
peer=$!
trap 'kill "$peer" 2>/dev/null; wait "$peer" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do [[ -s $out ]] && break; sleep 0.1; done
read -r ready sink echo < "$out" || fail "bench-peer --vsock printed nothing"
[[ $ready == READY ]] || fail "bench-peer --vsock said '$ready $sink $echo'"
sink=${sink#sink=} echo=${echo#echo=}

# field RESULT-LINE NAME: the numeric value of "NAME":... in a RESULT line.
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
check() {  # WORKLOAD PORT COUNTER
  local line
  line=$("$bench" "$1" --size=64 --ms=500 vsock:1 "$2") || fail "$1 over vsock failed: $line"
  [[ $line == RESULT* ]] || fail "$1: no RESULT line: $line"
  local n; n=$(field "$line" "$3")
  [[ -n $n && $n != 0 ]] || fail "$1: $3 is '${n:-missing}' in $line"
  echo "ok: $1 over AF_VSOCK loopback: $3=$n"
}
check stream "$sink" bytes
check rr "$echo" round_trips
check crr "$echo" connections
# 64 KiB echoed messages: the replies are compared with the requests (--verify).
line=$("$bench" rr --size=64K --count=50 vsock:1 "$echo") || fail "rr 64 KiB over vsock: $line"
[[ $(field "$line" verified) == 1 ]] || fail "rr 64 KiB: not verified: $line"
echo "ok: rr 64 KiB over AF_VSOCK, replies verified"

# A port nobody listens on must fail the run, not report zeros.
if line=$("$bench" rr --ms=200 vsock:1 1); then fail "rr to an unused vsock port succeeded: $line"; fi
echo "ok: an unused vsock port fails the run ($line)"
