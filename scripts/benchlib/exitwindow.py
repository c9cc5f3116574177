"""KVM's own exit counters for a VM that ends with its run (the virtsocket vmm).

KVM's per-VM debugfs folder /sys/kernel/debug/kvm/<pid>-<fd>/ disappears with the VM,
and the top-level files are sums over the VMs alive when read: reading before and after
a run gives nothing.  So the counters are sampled while the vmm lives (every SAMPLE_EVERY_S), and
the exits of a window inside the measured period (console-quiet: see window()) are
scaled by the operations in it:

    exits per operation = (exits in the window / window length) / operations per second

where operations per second is the benchmark's own figure for its measured period
(messages/s for stream, round trips/s for rr, connections/s for crr).  Boot messages
and the RESULT line (hundreds of console exits) stay outside the window.
"""
import time

from . import kvm_debugfs

# Not more often: each sample reads every counter file of the VM, and in the nested
# sandbox that is not free.  At 50 ms the sampler halved virtsocket's own figures
# (stream 64 B batch 6.0 -> 1.2 MB/s, rr 64 B adaptive 3,715 -> 1,582 round trips/s,
# same build, same matrix, 2026-12-06), an observer effect the peers, read only at
# their BEGIN/END markers, did not pay.
SAMPLE_EVERY_S = 0.2
# the part of the measured period the window covers, counted back from the last sample
WINDOW_FROM, WINDOW_TO = 0.85, 0.10
# operations per second, per workload, in a native-bench/guest RESULT
RATE_KEY = {"stream": "msgs_per_s", "stream-nagle": "msgs_per_s", "rr": "rtt_per_s",
            "crr": "conn_per_s"}


def ensure_debugfs():
    """Mount debugfs if KVM's folder is not visible (the sandbox may mount none); a
    sentence saying why the counters cannot be read, or ''."""
    try:
        kvm_debugfs.ensure_mounted()
    except kvm_debugfs.KvmDebugfsError as e:
        return str(e)
    return ""


class Sampler:
    """Callable(pid) for common.run_bounded: snapshots of the pid's VM folder."""

    def __init__(self, root=kvm_debugfs.KVM_ROOT, clock=time.monotonic):
        self.root, self.clock = root, clock
        self.samples = []  # [(time, {counter: value})]
        self.folder = None
        self.next_t = 0.0

    def __call__(self, pid):
        now = self.clock()
        if now < self.next_t:
            return
        self.next_t = now + SAMPLE_EVERY_S
        try:
            if self.folder is None:
                folders = kvm_debugfs.vm_dirs(pid, self.root)
                if len(folders) != 1:
                    return  # not created yet (or ambiguous: then nothing is reported)
                self.folder = folders[0]
            self.samples.append((now, kvm_debugfs.snapshot(self.folder)))
        except kvm_debugfs.KvmDebugfsError:
            pass  # no debugfs, or the VM just ended: the samples so far stand


def quiet_stretch(samples):
    """(first, last) sample indices of the longest stretch in which `io_exits` did not
    move, or None.  The virtsocket guest's console is port I/O: its boot messages come
    before the measured period and its RESULT line after it, while its doorbell is a
    hypercall, so the measured period lies in such a stretch (unless the doorbell is
    port I/O too, as on PVM: then there is no long quiet stretch)."""
    best, start = None, 0
    for i in range(1, len(samples) + 1):
        if i == len(samples) or samples[i][1].get("io_exits") != samples[start][1].get("io_exits"):
            if i - 1 > start and (best is None or samples[i - 1][0] - samples[start][0]
                                  > samples[best[1]][0] - samples[best[0]][0]):
                best = (start, i - 1)
            start = i
    return best


def window(samples, measured_s):
    """(counter deltas, seconds) of a window inside the measured period, or None when
    the samples do not cover enough of it.  The window is the last measured_s of the
    longest console-quiet stretch (quiet_stretch) when it is long enough, else the part
    of the measured period counted back from the last sample (WINDOW_FROM..WINDOW_TO)."""
    if len(samples) < 2 or not measured_s or measured_s <= 0:
        return None
    q = quiet_stretch(samples) if "io_exits" in samples[0][1] else None
    if q and samples[q[1]][0] - samples[q[0]][0] >= 0.5 * measured_s:
        end = samples[q[1]][0]
        inside = [s for s in samples[q[0]:q[1] + 1] if s[0] >= end - measured_s]
    else:
        last = samples[-1][0]
        start, end = last - WINDOW_FROM * measured_s, last - WINDOW_TO * measured_s
        inside = [s for s in samples if start <= s[0] <= end]
    if len(inside) < 2:
        return None
    (t0, c0), (t1, c1) = inside[0], inside[-1]
    if t1 - t0 < 0.2 * measured_s:
        return None
    try:
        return kvm_debugfs.diff(c0, c1), t1 - t0
    except kvm_debugfs.KvmDebugfsError:  # two different VMs: nothing to report
        return None


def per_operation(deltas, seconds, ops_per_s):
    """{counter: per operation} from counter deltas over `seconds` at ops_per_s."""
    if not deltas or not seconds or not ops_per_s:
        return None
    return {k: v / seconds / ops_per_s for k, v in deltas.items()}
