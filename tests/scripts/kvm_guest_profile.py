#!/usr/bin/python3
"""kvm test: scripts/guest-profile samples a real guest and names its code.  The guest
runs `spin` (guest-kernel/programs/spin.c: a pause loop in spin_main, nothing else), so
every guest sample must land in spin_main, and there must be about as many as the
recording's length and rate allow: the vCPU runs the guest all the time.

    kvm_guest_profile.py BUILD_DIR

Runs where the kvm label runs (full KVM, or inside scripts/kvm-sandbox)."""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECONDS, FREQ = 2, 1000


def main(build):
    out = tempfile.mkdtemp(prefix="vs-kvm-guest-profile-")
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "guest-profile"),
           "--seconds", str(SECONDS), "--freq", str(FREQ), "--delay", "1",
           "--image", os.path.join(build, "guest.img"), "--out", out, "--",
           os.path.join(build, "vmm"), "--timeout", "8", os.path.join(build, "guest.img"),
           "--", "spin"]
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    print(p.stdout + p.stderr, flush=True)
    if p.returncode != 0:
        print(f"FAIL: guest-profile exited with {p.returncode}")
        return 1
    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    m = re.search(r"^- guest mode: (\d+) samples", report, re.M)
    rows = re.findall(r"^\| ([\d.]+)% \| (\d+) \| (\S+) \|$", report, re.M)
    if not m or not rows:
        print("FAIL: report.md has no guest-mode line or no function table")
        return 1
    samples = int(m.group(1))
    least = SECONDS * FREQ // 2  # the sandbox's TCG may lose ticks, not half of them
    if samples < least:
        print(f"FAIL: {samples} guest samples, expected at least {least} "
              f"({SECONDS} s at {FREQ} Hz of a vCPU that only runs the guest)")
        return 1
    share, _, func = rows[0]
    if func != "spin_main" or float(share) < 95.0:
        print(f"FAIL: the top guest function is {func} with {share}%, expected spin_main "
              f"with nearly all of it")
        return 1
    print(f"PASS: {samples} guest samples, {share}% in spin_main")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
