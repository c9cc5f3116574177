"""KVM's own exit counters for a VM that ends with its run (the virtsocket vmm), read
at the run's own start and end marks and never in between.

KVM's per-VM debugfs folder /sys/kernel/debug/kvm/<pid>-<fd>/ disappears with the VM,
and the top-level files are sums over the VMs alive when read: reading before and after
a run gives nothing.  Sampling the folder while the run goes on costs the run itself
(each read walks every counter file; in the nested sandbox at 200 ms it took 10-20 % of
virtsocket's figures, at 50 ms half of them).  So the guest's workloads mark their
measured period on the console (bench/platform.h, plat_window_begin/end):

    BENCH WINDOW BEGIN     then 0.2 s without exits, then the measured period
    BENCH WINDOW END       right after it, then 0.2 s without exits, then RESULT

and Marks, polled while the vmm lives, reads the counters once at each line.  The
deltas cover the measured period (plus the idle rest of the settle, which makes no
exits, and the END line, one exit), as scripts/peer-vm's do for the peers, so

    exits per operation = deltas / operations in the measured period

(metrics.kvm_per_op).  A read that may have landed after the settle ended (the host
was late: from the last poll that did not see the line to the end of the read took
longer than SETTLE_S) gives no count, with the reason, rather than a wrong one.
"""
import os
import time

from . import kvm_debugfs

# the guest's idle after each line (bench/platform.h, PLAT_WINDOW_SETTLE_US)
SETTLE_S = 0.2
BEGIN, END = "BENCH WINDOW BEGIN", "BENCH WINDOW END"
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


class Marks:
    """Callable(pid) for common.run_bounded: follows the vmm's stdout (a file, read
    from where the last call stopped) and snapshots the pid's VM folder when a mark
    line appears.  Cheap between marks: one read of a small local file."""

    def __init__(self, stdout_path, root=kvm_debugfs.KVM_ROOT, clock=time.monotonic):
        self.path, self.root, self.clock = stdout_path, root, clock
        self.pos, self.partial = 0, ""
        self.last_poll = None   # when the last call that saw no new mark started
        self.before = self.after = None
        self.lag_s = []         # per mark: last poll without it .. end of the read
        self.error = None       # why there is no count (first reason wins)

    def __call__(self, pid):
        started = self.clock()
        for line in self._new_lines():
            if line == BEGIN and self.before is None and not self.error:
                self.before = self._read(pid, started)
            elif line == END and self.before is not None and self.after is None:
                self.after = self._read(pid, started)
        self.last_poll = started

    def _new_lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return []
        self.pos += len(data)
        text = self.partial + data.decode(errors="replace")
        lines = text.split("\n")
        self.partial = lines.pop()
        return [x.rstrip("\r") for x in lines]

    def _read(self, pid, started):
        try:
            folders = kvm_debugfs.vm_dirs(pid, self.root)
            if len(folders) != 1:
                raise kvm_debugfs.KvmDebugfsError(
                    f"process {pid} has {len(folders)} VMs in {self.root}")
            counters = kvm_debugfs.snapshot(folders[0])
        except kvm_debugfs.KvmDebugfsError as e:
            self.error = f"KVM counters not read: {e}"
            return None
        since = self.last_poll if self.last_poll is not None else started
        lag = self.clock() - since
        self.lag_s.append(round(lag, 4))
        if lag > SETTLE_S:
            self.error = (f"KVM counters read {lag:.3f} s after the mark, later than the "
                          f"guest's {SETTLE_S} s settle: they may cut into the run")
            return None
        return counters

    def result(self):
        """(counter deltas, None) over the measured period, or (None, why not)."""
        if self.error:
            return None, self.error
        if self.before is None:
            return None, f"the guest printed no '{BEGIN}' line"
        if self.after is None:
            return None, f"the guest printed no '{END}' line"
        try:
            return kvm_debugfs.diff(self.before, self.after), None
        except kvm_debugfs.KvmDebugfsError as e:
            return None, str(e)


def per_operation(deltas, seconds, ops_per_s):
    """{counter: per operation} from counter deltas over `seconds` at ops_per_s."""
    if not deltas or not seconds or not ops_per_s:
        return None
    return {k: v / seconds / ops_per_s for k, v in deltas.items()}
