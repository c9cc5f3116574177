"""scripts/benchlib/common.why: the reason a failed run gets in the summary, on the
output of real failed runs (the nested sandbox's every/zero failures, 2026-12-06)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from benchlib.common import why  # noqa: E402

HINT = ("vmm: this host's KVM runs on an emulated AMD SVM (kvm_amd nrips=0, e.g. "
        "scripts/kvm-sandbox's QEMU TCG), which now and then gives a guest the hypervisor's "
        "own registers after a VM exit: a sandbox fault, not the guest's "
        "(docs/nested-sandbox.md). Run it again; a failure that repeats, or one on real "
        "hardware, is a bug to report.\n")

TRIPLE_FAULT = (
    "vmm: vCPU 0 at RIP 0xfff0: the guest stopped with a triple fault (KVM_EXIT_SHUTDOWN) "
    "after 5154 hypercalls, 0 port doorbells and 19 console bytes: it took an exception it "
    "could not handle (no IDT yet, or a fault in its handler); KVM reset this vCPU when it "
    "shut down (AMD), so RIP and the registers below are the reset state, not the faulting "
    "one\n"
    "vmm:   rax 0000000000000000 rbx 0000000000000000 rcx 0000000000000000 rdx 0000000000060fb1\n"
    "vmm:   rsi 0000000000000000 rdi 0000000000000000 rsp 0000000000000000 rbp 0000000000000000\n"
    "vmm:   r8  0000000000000000 r9  0000000000000000 r10 0000000000000000 r11 0000000000000000\n"
    "vmm:   r12 0000000000000000 r13 0000000000000000 r14 0000000000000000 r15 0000000000000000\n"
    "vmm:   rflags 0000000000000002\n"
    "vmm:   cr0 0000000000000010 cr2 0000000000000000 cr3 0000000000000000 cr4 0000000000000000 efer 0\n"
    "vmm:   cs f000 ss 0000 idt base 0 limit 0xffff\n")

STUCK = ("vmm: --timeout 60 s expired before the guest finished; vCPUs were stopped here:\n"
         "vmm:   vCPU 0 at RIP 0xffffffffc041120c, which the guest's page tables do not map "
         "to guest memory: not guest code, the vCPU lost the guest's state\n")


def record(stdout="", stderr=""):
    return {"stdout_tail": stdout, "stderr_tail": stderr}


class Why(unittest.TestCase):
    def test_triple_fault_is_named_not_the_guests_last_line(self):
        # The summary used to say "BENCH WINDOW BEGIN": the guest's last console line.
        text = why(record("BENCH WINDOW BEGIN\n", TRIPLE_FAULT))
        self.assertIn("triple fault", text[:100])
        self.assertNotIn("BENCH WINDOW", text)
        self.assertNotIn("rax 0000", text)  # no register dump in a one-line reason

    def test_sandbox_fault_is_marked_up_front(self):
        text = why(record("BENCH WINDOW BEGIN\n", TRIPLE_FAULT + HINT))
        self.assertTrue(text.startswith("sandbox fault (docs/nested-sandbox.md): "), text)
        self.assertIn("triple fault", text[:100])  # the runner's progress line keeps 100

    def test_stuck_guest_says_where_and_that_it_is_not_guest_code(self):
        text = why(record("", STUCK + HINT))
        self.assertTrue(text.startswith("sandbox fault"), text)
        self.assertIn("--timeout 60 s expired", text)
        self.assertIn("0xffffffffc041120c", text)
        self.assertIn("not guest code", text)

    def test_timeout_on_real_hardware_is_not_blamed_on_the_sandbox(self):
        text = why(record("stream: sending\n", STUCK))
        self.assertFalse(text.startswith("sandbox fault"), text)
        self.assertIn("--timeout 60 s expired", text)

    def test_a_guest_failure_keeps_its_own_last_line(self):
        text = why(record("stream: connect 127.0.0.1:4000: ECONNREFUSED\n", ""))
        self.assertEqual(text, "stream: connect 127.0.0.1:4000: ECONNREFUSED")

    def test_nothing_said(self):
        self.assertEqual(why(record()), "")


if __name__ == "__main__":
    unittest.main()
