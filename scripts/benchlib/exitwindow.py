"""KVM's own exit counters for a VM that ends with its run (the virtsocket vmm), read
at the run's own start and end marks and never in between.

KVM's per-VM debugfs folder /sys/kernel/debug/kvm/<pid>-<fd>/ disappears with the VM,
and the top-level files are sums over the VMs alive when read: reading before and after
a run gives nothing.  Sampling the folder while the run goes on costs the run itself
(a read takes ~50 ms in the nested sandbox; every 200 ms it took 10-20 % of
virtsocket's figures there, every 50 ms half of them).  So the guest's workloads mark
their measured period on the console (bench/platform.h, plat_window_begin/end):

    BENCH WINDOW BEGIN     then 0.2 s without exits, then the measured period
    BENCH WINDOW END       right after it, then 0.2 s without exits, then RESULT

and Marks, polled while the vmm lives, reads the counters once at each line (only the
exit counters, from a folder and file list found while the guest boots), and between
BEGIN and the planned end of the measured period the harness does not even wake up
(A/B in the sandbox, adaptive rr 64 B, interleaved 1 s runs, medians: 3,744 round
trips/s unobserved, 3,371 with the marks polled every 25 ms throughout, 3,092 with the
old 200 ms sampler; with this pause, 7-8 runs each: 3,599 unobserved, 3,576 with the
marks, 3,268 with the old sampler.  stream-nagle 64 B varied by +-15 % from run to
run with or without an observer).  The END
line's own console exits (one port-I/O exit per byte, plus one per write: see
guest-kernel/kernel/console.c) are taken off, so the deltas cover the measured period
and the idle rest of the settle (no exits), as scripts/peer-vm's do for the peers:

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
# after BEGIN, the harness sleeps through this share of the planned measured period
QUIET_SHARE = 0.9
# one `rep outsb` per console write exits once per byte and once more (console.c)
CONSOLE_EXITS_PER_WRITE = 1
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
    line appears.  Cheap between marks: one read of a small local file (and, until
    the VM exists, one listing of KVM's debugfs folder)."""

    def __init__(self, stdout_path, quiet_s=0.0, root=kvm_debugfs.KVM_ROOT,
                 clock=time.monotonic):
        """quiet_s: the run's planned measured period (its --ms): after BEGIN, Marks
        asks not to be called again for QUIET_SHARE of it, so that the run goes on
        without the harness waking up at all (END comes after the settle and at least
        that long)."""
        self.path, self.root, self.clock = stdout_path, root, clock
        self.quiet_s = quiet_s
        self.pos, self.partial = 0, ""
        self.last_poll = None   # when the last call that saw no new mark started
        self.folder = self.names = None
        self.before = self.after = None
        self.end_line = ""
        self.lag_s = []         # per mark: last poll without it .. end of the read
        self.error = None       # why there is no count (first reason wins)

    def __call__(self, pid):
        started = self.clock()
        if self.folder is None and self.before is None:
            self._find(pid)
        pause = None
        for line in self._new_lines():
            if line == BEGIN and self.before is None and not self.error:
                self.before = self._read(pid, started)
                if self.before is not None:
                    pause = QUIET_SHARE * self.quiet_s or None
            elif line == END and self.before is not None and self.after is None:
                self.after = self._read(pid, started)
                self.end_line = line
                pause = None
        self.last_poll = started
        return pause

    def _find(self, pid):
        """The VM's folder and its exit counters' names, once the VM exists."""
        try:
            folders = kvm_debugfs.vm_dirs(pid, self.root)
            if len(folders) == 1:
                self.names = kvm_debugfs.exit_counters(folders[0])
                # one read while the guest boots: the first one is the slowest (it
                # took 0.18 s in the sandbox at BEGIN, the next ones 0.03 s)
                kvm_debugfs.snapshot(folders[0], self.names)
                self.folder = folders[0]
            elif folders:
                self.error = f"KVM counters not read: process {pid} has {len(folders)} VMs"
        except kvm_debugfs.KvmDebugfsError:
            pass  # not there yet (or no debugfs: _read says so)

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
            if self.folder is None:
                self._find(pid)
            if self.folder is None:
                raise kvm_debugfs.KvmDebugfsError(f"no VM of process {pid} in {self.root}")
            counters = kvm_debugfs.snapshot(self.folder, self.names)
        except kvm_debugfs.KvmDebugfsError as e:
            self.error = self.error or f"KVM counters not read: {e}"
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
            deltas = kvm_debugfs.diff(self.before, self.after)
        except kvm_debugfs.KvmDebugfsError as e:
            return None, str(e)
        marker = marker_exits(self.end_line)
        if deltas.get("io_exits", 0) < marker or deltas.get("exits", 0) < marker:
            return None, (f"{deltas.get('io_exits')} port-I/O exits between the marks, fewer "
                          f"than the END line itself makes ({marker}): not the guest's "
                          f"console?")
        for k in ("exits", "io_exits"):
            deltas[k] -= marker
        return deltas, None


def marker_exits(line):
    """The port-I/O exits the guest's console write of line (and its newline) makes."""
    return len(line.encode()) + 1 + CONSOLE_EXITS_PER_WRITE


def per_operation(deltas, seconds, ops_per_s):
    """{counter: per operation} from counter deltas over `seconds` at ops_per_s."""
    if not deltas or not seconds or not ops_per_s:
        return None
    return {k: v / seconds / ops_per_s for k, v in deltas.items()}
