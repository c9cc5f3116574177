"""Where the CPU went during a run (scripts/bench --vcpus): each thread's CPU time and
each CPU's busy time over the middle of the measured period, from /proc.

N flows in parallel need the CPUs to run them: a guest flow keeps its vCPU thread, its
host worker and its share of the host end busy, a native flow its thread and its share
of the host end.  Whether they all ran at once shows in these figures: the threads'
shares of a CPU and how busy each CPU was, side by side.

The window: natively from the process's start (native-bench connects and starts at
once), in the guest from its BEGIN mark (exitwindow.Marks) plus the settle; the two
reads fall LEAD and 1 - LEAD of the planned period into it, so that neither start-up
nor the final drain is counted.  Two reads of a few small /proc files each: the run is
otherwise left alone, as Marks leaves it.
"""
import os
import time

from .exitwindow import SETTLE_S

LEAD = 0.2  # share of the planned period before the first read and after the second


def read_threads(pids, proc="/proc"):
    """{tid: (pid, comm, CPU seconds, CPU it last ran on, seconds in guest mode or None)}
    of every thread of pids."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            tids = os.listdir(f"{proc}/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"{proc}/{pid}/task/{tid}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            comm = s[s.index("(") + 1:s.rindex(")")]
            f = s[s.rindex(")") + 2:].split()
            # fields 14, 15 (utime, stime), 39 (processor) and 43 (guest_time: a vCPU
            # thread's time running its guest, part of utime), counted from 3 here
            guest = int(f[40]) / hz if len(f) > 40 else None
            out[int(tid)] = (pid, comm, (int(f[11]) + int(f[12])) / hz, int(f[36]), guest)
    return out


def read_cpus(proc="/proc"):
    """[(busy, total)] jiffies per CPU (idle and iowait are not busy)."""
    out = []
    with open(f"{proc}/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out.append((sum(v) - v[3] - v[4], sum(v)))
    return out


def children(pid, proc="/proc"):
    """Direct children of pid (the vmm's worker process)."""
    out = []
    for d in os.listdir(proc):
        if d.isdigit():
            try:
                with open(f"{proc}/{d}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            if int(s[s.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(d))
    return out


class ThreadWindow:
    """Callable(pid, marks) for runner.run_one(observe=...): passes each call on to
    marks (the guest's; None natively) and reads the threads of the run's process, its
    children and the extra pids (the host end) twice inside the measured period."""

    def __init__(self, seconds, extra_pids=(), proc="/proc", clock=time.monotonic):
        self.seconds, self.extra, self.proc, self.clock = seconds, list(extra_pids), proc, clock
        self.t_first = self.t_second = None
        self.pids = None
        self.first = self.second = None

    def __call__(self, pid, marks):
        pause = marks(pid) if marks is not None else None
        now = self.clock()
        if self.t_first is None:
            if marks is not None and marks.before is None:
                return pause  # the guest has not begun its measured period yet
            begin = now + (SETTLE_S if marks is not None else 0)
            self.t_first = begin + LEAD * self.seconds
            self.t_second = begin + (1 - LEAD) * self.seconds
        if self.first is None:
            if now < self.t_first:
                return self.t_first - now
            self.pids = [pid] + children(pid, self.proc) + self.extra
            self.first = (self.clock(), read_threads(self.pids, self.proc), read_cpus(self.proc))
            return max(0.001, self.t_second - self.clock())
        if self.second is None:
            if now < self.t_second:
                return self.t_second - now
            self.second = (self.clock(), read_threads(self.pids, self.proc),
                           read_cpus(self.proc))
        return pause

    def result(self):
        """{"window_s", "cpus_busy": [share per CPU], "threads": [{name, tid, share,
        cpu}] busiest first}, or None (the run ended before the second read)."""
        if self.first is None or self.second is None:
            return None
        return shares(self.first, self.second)


def shares(first, second):
    """The figures of ThreadWindow.result from two reads (clock, threads, cpus)."""
    (t0, th0, c0), (t1, th1, c1) = first, second
    window = t1 - t0
    threads = []
    for tid, (pid, comm, secs, cpu, guest) in th1.items():
        if tid in th0 and window > 0:
            t = {"name": comm, "pid": pid, "tid": tid,
                 "share": round((secs - th0[tid][2]) / window, 3), "cpu": cpu}
            if guest is not None and th0[tid][4] is not None:
                t["guest_share"] = round((guest - th0[tid][4]) / window, 3)
            threads.append(t)
    threads.sort(key=lambda t: -t["share"])
    busy = [round((b1 - b0) / (n1 - n0), 3) if n1 > n0 else 0.0
            for (b0, n0), (b1, n1) in zip(c0, c1)]
    return {"window_s": round(window, 3), "cpus_busy": busy, "threads": threads}


# The roles a thread plays in a run, by its name: the guest's vCPU threads are the
# vmm's own (its main thread sleeps), the workers name themselves (hostnet/worker.c).
def role(name):
    if name.startswith("hostnet-w"):
        return "workers"
    if name == "vmm":
        return "vCPUs"
    if name == "bench-peer":
        return "host end"
    if name == "native-bench":
        return "native threads"
    if name == "native-httpd":
        return "native httpd"
    if name == "wrk":
        return "wrk"
    return "other"


def role_totals(cpu):
    """{role: CPUs its threads took together} of one run (every thread, however idle)."""
    out = {}
    for t in cpu["threads"]:
        r = role(t["name"])
        out[r] = round(out.get(r, 0.0) + t["share"], 3)
    return out


def guest_totals(cpu):
    """{role: CPUs its threads spent in guest mode} of one run: the part of a vCPU
    thread's time that ran the guest (spinning in it included); the rest went to KVM's
    exits and the vmm's own code.  Only roles with such time."""
    out = {}
    for t in cpu["threads"]:
        if t.get("guest_share"):
            r = role(t["name"])
            out[r] = round(out.get(r, 0.0) + t["guest_share"], 3)
    return out


def by_role(cpu):
    """{role: [shares of its threads that ran (>= 1 %), busiest first]} of one run."""
    out = {}
    for t in cpu["threads"]:
        if t["share"] >= 0.01:
            out.setdefault(role(t["name"]), []).append(t["share"])
    return out
