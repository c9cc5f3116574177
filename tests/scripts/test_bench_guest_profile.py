"""scripts/guest-profile's parsing and naming, against perf's and addr2line's real output
formats and a real ELF with an inlined call (built here with cc -g -O2).  Its kvm test
(kvm_guest_profile.py) profiles a guest for real."""
import importlib.machinery
import importlib.util
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_loader = importlib.machinery.SourceFileLoader("guest_profile",
                                               os.path.join(ROOT, "scripts", "guest-profile"))
_spec = importlib.util.spec_from_loader("guest_profile", _loader)
gp = importlib.util.module_from_spec(_spec)
_loader.exec_module(gp)

GUEST_REPORT = """\
# Samples: 15K of event 'cpu-clock'
#
# Overhead       Samples  Symbol
# ........  ............  ......................
#
     1.19%           179  [g] 0x000000000011968a
     0.59%            89  [g] 0x0000000000118c11
    39.15%          5874  [k] 0xffffffff817dc8df
     0.04%             6  [g] 0x0000000000118c11
"""

COMM_REPORT = """\
# Overhead       Samples  Command
# ........  ............  .......
#
    44.43%          6819  wrk
     6.49%           996  :150
     4.70%           721  vmm
"""

# A leaf inlined into its caller: the chain must name both, the leaf first.
SOURCE = r"""
static inline __attribute__((always_inline)) int leaf(volatile int *p)
{
	return *p + 1;
}
__attribute__((noinline)) int outer(volatile int *p)
{
	return leaf(p) * 3;
}
int main(void)
{
	volatile int x = 1;
	return outer(&x) == 6 ? 0 : 1;
}
"""


class Parsing(unittest.TestCase):
    def test_guest_lines_only_and_summed_per_address(self):
        self.assertEqual(gp.parse_guest_samples(GUEST_REPORT), {0x11968a: 179, 0x118c11: 95})

    def test_comm_lines(self):
        self.assertEqual(gp.parse_comm_samples(COMM_REPORT), {"wrk": 6819, ":150": 996, "vmm": 721})

    def test_addr2line_chains_innermost_first(self):
        text = ("0x000000000011968a\nspin\n/r/guest-lib/src/sched.c:156\n"
                "vs_sched_wait\n/r/guest-lib/src/sched.c:248\n"
                "0x0000000000118c11\nvs_x86_doorbell_vmmcall\n/r/guest-lib/x86/transport.c:40\n")
        self.assertEqual(gp.parse_addr2line(text), {
            0x11968a: [("spin", "/r/guest-lib/src/sched.c:156"),
                       ("vs_sched_wait", "/r/guest-lib/src/sched.c:248")],
            0x118c11: [("vs_x86_doorbell_vmmcall", "/r/guest-lib/x86/transport.c:40")]})

    def test_summary_groups_by_the_function_that_holds_the_code(self):
        chains = {1: [("spin", "a.c:1"), ("vs_sched_wait", "a.c:9")],
                  2: [("vs_sched_wait", "a.c:10")],
                  3: [("memcpy", "s.c:3")]}
        table, by_func = gp.summarize({1: 60, 2: 20, 3: 20}, chains)
        self.assertEqual(by_func, {"vs_sched_wait": 80, "memcpy": 20})
        self.assertIn("| 80.0% | 80 | vs_sched_wait |", table)
        self.assertIn("spin (a.c:1) in vs_sched_wait", table)


class Naming(unittest.TestCase):
    def test_an_inlined_leaf_is_named_inside_its_caller(self):
        with tempfile.TemporaryDirectory() as d:
            src, exe = os.path.join(d, "t.c"), os.path.join(d, "t")
            with open(src, "w") as f:
                f.write(SOURCE)
            subprocess.run(["cc", "-g", "-O2", "-o", exe, src], check=True)
            syms = subprocess.run(["nm", exe], capture_output=True, text=True, check=True).stdout
            outer = next(int(l.split()[0], 16) for l in syms.splitlines() if l.endswith(" outer"))
            # Among outer's first bytes is the inlined leaf's load: named leaf
            # (t.c:4) inside outer.
            chains = gp.symbolize(exe, range(outer, outer + 4))
            self.assertTrue(all(c[-1][0] == "outer" for c in chains.values()), chains)
            self.assertIn([("leaf", "t.c:4"), "outer"],
                          [[(c[0][0], os.path.basename(c[0][1])), c[-1][0]]
                           for c in chains.values()], chains)


if __name__ == "__main__":
    unittest.main()
