"""scripts/benchlib: KVM's debugfs counters (read, diff, read at the guest's window
marks) on a fake /sys/kernel/debug/kvm tree, and exits per operation for each kind of record."""
import os
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib import exitwindow, kvm_debugfs  # noqa: E402
from benchlib.metrics import kvm_per_op  # noqa: E402


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class FakeKvm(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.vm = os.path.join(self.root, "1234-11")
        write(os.path.join(self.vm, "exits"), "120\n")
        write(os.path.join(self.vm, "hypercalls"), "5\n")
        write(os.path.join(self.vm, "halt_exits"), "7\n")
        write(os.path.join(self.vm, "vcpu0", "exits"), "99\n")  # a vCPU folder: not a counter
        write(os.path.join(self.vm, "mode"), "running\n")       # not a number
        write(os.path.join(self.root, "12345-3", "exits"), "1\n")  # another pid, same prefix
        write(os.path.join(self.root, "exits"), "500\n")         # the VM-wide sum

    def tearDown(self):
        self.tmp.cleanup()

    def test_folders_of_one_pid_only(self):
        self.assertEqual(kvm_debugfs.vm_dirs(1234, self.root), [self.vm])
        self.assertEqual(kvm_debugfs.vm_dirs(4321, self.root), [])
        with self.assertRaises(kvm_debugfs.KvmDebugfsError):
            kvm_debugfs.vm_dirs(1234, os.path.join(self.root, "none"))

    def test_snapshot_reads_the_numbers_in_the_folder(self):
        self.assertEqual(kvm_debugfs.snapshot(self.vm),
                         {"exits": 120, "hypercalls": 5, "halt_exits": 7})
        with self.assertRaises(kvm_debugfs.KvmDebugfsError):
            kvm_debugfs.snapshot(os.path.join(self.root, "gone"))

    def test_diff_of_counters_both_have(self):
        self.assertEqual(kvm_debugfs.diff({"exits": 120, "hypercalls": 5, "old": 1},
                                          {"exits": 170, "hypercalls": 9, "new": 3}),
                         {"exits": 50, "hypercalls": 4})
        with self.assertRaises(kvm_debugfs.KvmDebugfsError):  # two different VMs
            kvm_debugfs.diff({"exits": 170}, {"exits": 120})

    def marks_run(self, clock_step=0.025):
        """A fake vmm run: its stdout file grows as the guest prints, the VM makes 1000
        exits between two polls (the run goes on) and its END line its console exits,
        and Marks is called once per poll, clock_step apart.  Returns (marks, exits
        when BEGIN was read, exits when END was read)."""
        out = os.path.join(self.root, "vmm.stdout")
        write(os.path.join(self.vm, "io_exits"), "0\n")
        now = [10.0]
        m = exitwindow.Marks(out, root=self.root, clock=lambda: now[0])
        end = exitwindow.END
        script = ["boot line\n", "", exitwindow.BEGIN + "\n", "", "", "",
                  end[:7], end[7:] + "\n", "", 'RESULT {"x":1}\n', ""]
        exits, io, seen = 120, 0, {}
        with open(out, "w") as f:
            for text in script:
                f.write(text)
                f.flush()
                exits += 1000
                if text.endswith(end[7:] + "\n"):
                    io += exitwindow.marker_exits(end)
                    exits += exitwindow.marker_exits(end)
                write(os.path.join(self.vm, "exits"), f"{exits}\n")
                write(os.path.join(self.vm, "io_exits"), f"{io}\n")
                before = len(m.lag_s)
                m(1234)
                if len(m.lag_s) > before:
                    seen[len(m.lag_s)] = exits
                now[0] += clock_step
        return m, seen.get(1), seen.get(2)

    def test_marks_read_the_counters_only_at_the_marks(self):
        real = kvm_debugfs.snapshot
        reads = []
        with mock.patch.object(kvm_debugfs, "snapshot",
                               side_effect=lambda d, names=None: reads.append((d, names))
                               or real(d, names)):
            m, at_begin, at_end = self.marks_run()
        # once while the guest boots (before BEGIN: the first read is the slowest),
        # once at BEGIN, once at END (a line split over two polls counts once it is
        # whole), never during the run nor after it; only the exit counters
        self.assertEqual(reads, [(self.vm, ["exits", "halt_exits", "hypercalls",
                                            "io_exits"])] * 3)
        deltas, why = m.result()
        self.assertIsNone(why)
        # the END line's own console exits are not the run's
        self.assertEqual(deltas["exits"],
                         at_end - at_begin - exitwindow.marker_exits(exitwindow.END))
        self.assertEqual(deltas, {"exits": 5000, "io_exits": 0, "hypercalls": 0,
                                  "halt_exits": 0})
        self.assertEqual(m.lag_s, [0.025, 0.025])

    def test_marks_leave_the_measured_period_alone(self):
        # after BEGIN is read, the next call may wait 90 % of the planned period;
        # before it and after END, the caller's own pace (None)
        out = os.path.join(self.root, "vmm.stdout")
        write(os.path.join(self.vm, "io_exits"), "0\n")
        m = exitwindow.Marks(out, quiet_s=2.0, root=self.root)
        write(out, "boot\n")
        self.assertIsNone(m(1234))
        write(out, "boot\n" + exitwindow.BEGIN + "\n")
        self.assertAlmostEqual(m(1234), 1.8)
        self.assertIsNone(m(1234))
        m = exitwindow.Marks(out, root=self.root)  # no planned period: no pause
        self.assertIsNone(m(1234))

    def test_marker_exits_are_the_consoles(self):
        # "BENCH WINDOW END\n" is 17 bytes: 18 port-I/O exits (one `rep outsb`)
        self.assertEqual(exitwindow.marker_exits(exitwindow.END), 18)

    def test_a_late_read_gives_no_count(self):
        # the host polled every 0.3 s: longer than the guest's settle
        m, _, _ = self.marks_run(clock_step=exitwindow.SETTLE_S * 1.5)
        deltas, why = m.result()
        self.assertIsNone(deltas)
        self.assertIn("later than the guest's", why)

    def test_no_marks_no_count(self):
        out = os.path.join(self.root, "vmm.stdout")
        write(out, 'RESULT {"x":1}\n')
        m = exitwindow.Marks(out, root=self.root)
        m(1234)
        self.assertEqual(m.result(), (None, f"the guest printed no '{exitwindow.BEGIN}' line"))
        write(out, exitwindow.BEGIN + "\n")
        m = exitwindow.Marks(out, root=self.root)
        m(1234)
        self.assertEqual(m.result(), (None, f"the guest printed no '{exitwindow.END}' line"))
        # marks without the END line's console exits: not the guest's console
        write(out, exitwindow.BEGIN + "\n" + exitwindow.END + "\n")
        m = exitwindow.Marks(out, root=self.root)
        m(1234)
        deltas, why = m.result()
        self.assertIsNone(deltas)
        self.assertIn("fewer than the END line itself makes", why)

    def test_marks_without_the_vm_give_the_reason(self):
        out = os.path.join(self.root, "vmm.stdout")
        write(out, exitwindow.BEGIN + "\n" + exitwindow.END + "\n")
        m = exitwindow.Marks(out, root=self.root)
        m(777)  # no VM folder of pid 777
        deltas, why = m.result()
        self.assertIsNone(deltas)
        self.assertIn("no VM of process 777", why)
        m = exitwindow.Marks(os.path.join(self.root, "no-such-file"), root=self.root)
        m(1234)
        self.assertEqual(m.lag_s, [])


class ExitsPerOperation(unittest.TestCase):
    def test_vmm_marked_record(self):
        rec = {"config": "adaptive/zero", "bench": "rr",
               "result": {"rtt_per_s": 200.0, "seconds": 2.0},
               "kvm_exits": {"exits": 40, "hypercalls": 4}}
        per = kvm_per_op(rec, rec["result"])  # 400 round trips
        self.assertAlmostEqual(per["exits"], 0.1)
        self.assertAlmostEqual(per["hypercalls"], 0.01)

    def test_vmm_sampled_window_record(self):  # result folders from before the marks
        rec = {"config": "adaptive/zero", "bench": "rr", "result": {"rtt_per_s": 200.0},
               "kvm_exits": {"exits": 40, "hypercalls": 4}, "kvm_window_s": 0.5}
        per = kvm_per_op(rec, rec["result"])
        self.assertAlmostEqual(per["exits"], 0.4)
        self.assertAlmostEqual(per["hypercalls"], 0.04)

    def test_peer_whole_run_record(self):
        rec = {"config": "vhost-net", "bench": "stream-nagle",
               "result": {"msgs_per_s": 1000.0, "seconds": 2.0}, "kvm_exits": {"exits": 8000}}
        self.assertAlmostEqual(kvm_per_op(rec, rec["result"])["exits"], 4.0)

    def test_host_has_no_vm_and_a_failed_run_nothing(self):
        self.assertEqual(kvm_per_op({"config": "native", "bench": "rr", "result": {"x": 1}},
                                    {"x": 1})["exits"], 0.0)
        rec = {"config": "e1000", "bench": "rr", "result": None, "kvm_exits": None}
        self.assertIsNone(kvm_per_op(rec, {}))


if __name__ == "__main__":
    unittest.main()
