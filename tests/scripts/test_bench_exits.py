"""scripts/benchlib: KVM's debugfs counters (read, diff, sampling window) on a fake
/sys/kernel/debug/kvm tree, and exits per operation for each kind of record."""
import os
import sys
import tempfile
import unittest

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

    def test_sampler_windows_the_measured_period(self):
        now = [100.0]
        s = exitwindow.Sampler(root=self.root, clock=lambda: now[0])
        # 4 s measured period, one sample per SAMPLE_EVERY_S; the VM makes 1000 exits
        # and 10 hypercalls per second
        n = round(4.0 / exitwindow.SAMPLE_EVERY_S)
        for i in range(n + 1):
            t = i * exitwindow.SAMPLE_EVERY_S
            write(os.path.join(self.vm, "exits"), f"{1000 + round(1000 * t)}\n")
            write(os.path.join(self.vm, "hypercalls"), f"{round(10 * t)}\n")
            s(1234)
            now[0] += exitwindow.SAMPLE_EVERY_S
        self.assertEqual(len(s.samples), n + 1)
        deltas, secs = exitwindow.window(s.samples, 4.0)
        self.assertAlmostEqual(deltas["exits"] / secs, 1000, delta=60)
        per = exitwindow.per_operation(deltas, secs, 500.0)  # 500 round trips/s
        self.assertAlmostEqual(per["exits"], 2.0, delta=0.15)
        # a window longer than the samples cover says nothing
        self.assertIsNone(exitwindow.window(s.samples[:2], 4.0))
        self.assertIsNone(exitwindow.window(s.samples, None))

    def test_window_skips_the_console(self):
        # boot prints (io_exits 0 -> 300), 1 s quiet at 1000 exits/s, RESULT printed
        # (io_exits +700 in 0.1 s) while the VM lives on
        samples, t, exits, io = [], 0.0, 0, 0
        for i in range(40):
            if i < 4:
                io += 75
                exits += 75
            elif i < 24:
                exits += 50
            elif i < 26:
                io += 350
                exits += 350
            samples.append((t, {"exits": exits, "io_exits": io}))
            t += 0.05
        deltas, secs = exitwindow.window(samples, 1.0)
        self.assertEqual(deltas["io_exits"], 0)
        self.assertAlmostEqual(deltas["exits"] / secs, 1000, delta=1)

    def test_sampler_without_the_vm_records_nothing(self):
        s = exitwindow.Sampler(root=self.root)
        s(777)
        self.assertEqual(s.samples, [])
        s = exitwindow.Sampler(root=os.path.join(self.root, "no-debugfs"))
        s(1234)
        self.assertEqual(s.samples, [])

    def test_sampler_keeps_its_samples_when_the_vm_ends(self):
        now = [0.0]
        s = exitwindow.Sampler(root=self.root, clock=lambda: now[0])
        s(1234)
        now[0] += 1
        for name in os.listdir(self.vm):
            p = os.path.join(self.vm, name)
            if os.path.isfile(p):
                os.unlink(p)
        s(1234)
        self.assertEqual(len(s.samples), 1)


class ExitsPerOperation(unittest.TestCase):
    def test_vmm_window_record(self):
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
