"""scripts/bench's command line: the matrix (configs x workloads x sizes) it asks for."""
import argparse
import os

from .common import parse_size

# virtsocket's transport modes (--notify/--copy of the vmm)
VS_CONFIGS = ["every/zero", "batch/zero", "adaptive/zero",
              "every/bounce", "batch/bounce", "adaptive/bounce"]
# the ways a guest usually reaches the network: a Linux guest in QEMU (scripts/peer-vm)
PEER_CONFIGS = ["e1000", "virtio-net", "vhost-net", "vhost-vsock"]
# the host itself: native-bench over loopback, and iperf3 (a tool nobody here wrote)
HOST_CONFIGS = ["native", "iperf3"]
ALL_CONFIGS = HOST_CONFIGS + VS_CONFIGS + PEER_CONFIGS
QUICK_CONFIGS = (HOST_CONFIGS + ["every/zero", "batch/zero", "adaptive/zero", "adaptive/bounce"]
                 + ["e1000", "vhost-net", "vhost-vsock"])
# "stream" sends with TCP_NODELAY (as before); "stream-nagle" with the default socket,
# Nagle on: what a streaming application gets, and the host limit a reader compares with.
# rr and crr always use TCP_NODELAY.
WORKLOADS = ["stream-nagle", "stream", "rr", "crr"]
# Not in the default matrix: wrk against an HTTP server, by connections (benchlib/http.py).
EXTRA_WORKLOADS = ["http"]
FULL_SIZES = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576]
QUICK_SIZES = [64, 4096, 65536]
# crr is about connections, not payload: the small sizes only.
CRR_MAX_SIZE = 4096


def parser():
    """scripts/bench's argument parser (every option with a one-line help)."""
    p = argparse.ArgumentParser(prog="scripts/bench", add_help=True,
                                description="The paper's comparison: virtsocket against the host's "
                                            "own sockets, iperf3 and the peers (e1000, virtio-net, "
                                            "vhost-net, vhost-vsock). More in the header of "
                                            "scripts/bench.")
    p.add_argument("--quick", action="store_true",
                   help="sizes 64 B, 4 KiB, 64 KiB; fewer modes; peers e1000, vhost-net, "
                        "vhost-vsock; 0.5 s runs")
    p.add_argument("--out", metavar="DIR", help="result directory (default results/<timestamp>)")
    p.add_argument("--build", metavar="DIR", default=os.environ.get("VS_BUILD_DIR", "build"),
                   help="build directory (default $VS_BUILD_DIR or build)")
    p.add_argument("--no-build", action="store_true",
                   help="use the build directory as it is")
    p.add_argument("--host-native", action="store_true",
                   help="on a PVM host: run natively (port-I/O doorbell) instead of in "
                        "the sandbox")
    p.add_argument("--peer", choices=["bench-peer", "socat"], default="bench-peer",
                   help="the host end of every run (default bench-peer)")
    p.add_argument("--seconds", type=float, metavar="S",
                   help="length of each run (default 1.0; --quick 0.5)")
    p.add_argument("--repeats", type=int, default=3, metavar="N",
                   help="runs per point, the median is reported (default and minimum 3)")
    p.add_argument("--sizes", metavar="LIST",
                   help="message sizes, e.g. 64,4K,64K (overrides the default list)")
    p.add_argument("--workloads", metavar="LIST",
                   help="subset of " + ",".join(WORKLOADS) + ", or " + ",".join(EXTRA_WORKLOADS)
                        + " (wrk against the guest's and the native httpd)")
    p.add_argument("--configs", metavar="LIST",
                   help="subset of " + ",".join(ALL_CONFIGS) + " (default: all; --quick: "
                        + ",".join(QUICK_CONFIGS) + ")")
    p.add_argument("--peers", action="store_true",
                   help="add every peer configuration (" + ",".join(PEER_CONFIGS) + ")")
    p.add_argument("--no-peers", action="store_true",
                   help="drop the peer configurations (virtsocket and the host only)")
    p.add_argument("--batch", type=int, default=32, metavar="N",
                   help="the vmm's --batch (default 32)")
    p.add_argument("--poll-us", type=int, metavar="N",
                   help="the vmm's --poll-us for every guest run (default: the vmm's)")
    p.add_argument("--spin-us", type=int, metavar="N",
                   help="the vmm's --spin-us, the guest's adaptive spin cap (default: "
                        "the vmm's)")
    p.add_argument("--mem", metavar="SIZE",
                   help="guest RAM, virtsocket's and the peers' alike (default 256M with "
                        "peers, else 64M)")
    p.add_argument("--report", metavar="DIR",
                   help="run nothing: rewrite DIR's CSVs, summary.md and plots from its "
                        "results.json")
    p.add_argument("--vcpus", metavar="LIST",
                   help="scale mode: -c N with one flow per vCPU against native with N "
                        "threads, e.g. 1,2,4 (writes scale.md; see scripts/bench's header)")
    p.add_argument("--http-conns", help="http workload: connection counts (default "
                   "1,100,1000,10000)")
    p.add_argument("--http-threads", type=int, help="http workload: wrk's threads "
                   "(default: one per CPU)")
    p.add_argument("--inside-sandbox", action="store_true", help=argparse.SUPPRESS)
    return p


def parse_args(argv):
    p = parser()
    a = p.parse_args(argv)
    vcpus_mode(p, a)
    if a.repeats < 3:
        p.error("--repeats must be at least 3 (medians of fewer mean little)")
    a.seconds = a.seconds if a.seconds else (0.5 if a.quick else 1.0)
    if not 0.05 <= a.seconds <= 600:
        p.error("--seconds must be within 0.05..600")
    a.sizes = ([parse_size(s) for s in a.sizes.split(",")] if a.sizes
               else (QUICK_SIZES if a.quick else FULL_SIZES))
    if any(not 1 <= s <= 16 << 20 for s in a.sizes):
        p.error("sizes must be within 1 B..16 MiB")
    a.workloads = a.workloads.split(",") if a.workloads else list(WORKLOADS)
    if any(w not in WORKLOADS + EXTRA_WORKLOADS for w in a.workloads):
        p.error("--workloads: " + ",".join(WORKLOADS + EXTRA_WORKLOADS))
    try:
        from .http import parse_conns
        a.http_conns = parse_conns(a.http_conns)
    except ValueError as e:
        p.error(str(e))
    a.configs = a.configs.split(",") if a.configs else (QUICK_CONFIGS if a.quick else ALL_CONFIGS)
    allowed = SCALE_CONFIGS if a.vcpus else ALL_CONFIGS
    if any(c not in allowed for c in a.configs):
        p.error("--configs: " + ",".join(allowed))
    if a.peers:  # shorthand: every peer configuration too
        a.configs += [c for c in PEER_CONFIGS if c not in a.configs]
    if a.no_peers:
        a.configs = [c for c in a.configs if c not in PEER_CONFIGS]
    if not a.configs:
        p.error("no configuration left to run")
    # The peers' Linux guests (Debian's kernel and an initramfs) do not boot in 64 MiB;
    # virtsocket's guest gets the same RAM as they do.
    if not a.mem:
        a.mem = "256M" if any(c in PEER_CONFIGS for c in a.configs) else "64M"
    if not 1 <= a.batch <= 1024:  # abi.h's VS_SQ_ENTRIES
        p.error("--batch must be within 1..1024")
    return a


# --vcpus: the workloads that can run one flow per vCPU (--flows), and their default
SCALE_WORKLOADS = ["stream", "stream-nagle", "rr"]
SCALE_SIZES = [64, 65536]
# --vcpus: N native threads; N vCPUs with a worker each (the vmm's default); N vCPUs
# sharing one worker (--workers 1: one polling thread fewer per extra vCPU)
SCALE_CONFIGS = ["native", "adaptive/zero", "adaptive/zero/1worker"]


def vcpus_mode(p, a):
    """--vcpus LIST (e.g. 1,2,4): a mode of its own (benchlib/scale.py), stream at 64 B
    and 64 KiB unless --workloads/--sizes say otherwise."""
    if not a.vcpus:
        return
    try:
        a.vcpus = [int(x) for x in a.vcpus.split(",")]
    except ValueError:
        p.error("--vcpus wants a list of counts, e.g. 1,2,4")
    if any(not 1 <= n <= 16 for n in a.vcpus):
        p.error("--vcpus: each count within 1..16 (the workloads' --flows)")
    if not a.workloads:
        a.workloads = "stream"
    if any(w not in SCALE_WORKLOADS for w in a.workloads.split(",")):
        p.error("--vcpus runs " + ",".join(SCALE_WORKLOADS) + " only")
    if not a.sizes:
        a.sizes = ",".join(str(s) for s in SCALE_SIZES)
    if not a.configs:
        a.configs = "native,adaptive/zero"  # + adaptive/zero/1worker when asked
    if not a.mem:
        a.mem = "256M"


def points(a):
    """(workload, size) pairs in the order they run."""
    out = []
    for w in (w for w in a.workloads if w not in EXTRA_WORKLOADS):
        for s in a.sizes:
            if w == "crr" and s > CRR_MAX_SIZE and len([x for x in a.sizes if x <= CRR_MAX_SIZE]):
                continue
            out.append((w, s))
    return out




def workload_args(workload, size, seconds):
    """native-bench's / the guest's arguments for one run, before HOST PORT."""
    args = ["stream" if workload == "stream-nagle" else workload, f"--size={size}",
            f"--ms={max(1, int(seconds * 1000))}"]
    if workload == "stream-nagle":
        args.append("--no-nodelay")
    return args


def sink_or_echo(workload):
    """Which service of the host end a workload talks to."""
    return "sink" if workload in ("stream", "stream-nagle") else "echo"
