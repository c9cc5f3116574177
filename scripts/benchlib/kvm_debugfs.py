"""KVM's per-VM exit counters from debugfs, for any VM a process runs.

KVM keeps one folder per VM, /sys/kernel/debug/kvm/<pid>-<vm fd>/, with one file
per counter (exits, io_exits, mmio_exits, halt_exits, irq_exits, hypercalls, ...),
summed over the VM's vCPUs.  Exits that KVM handles itself (a virtio kick through
an ioeventfd is an NPF exit counted in `exits` only) appear here and nowhere in the
VMM, so this is the one counter that compares a QEMU peer with the virtsocket vmm.

The folder exists only while the VM does (the top-level files are sums over the
VMs alive when read, so reading them around a run that ends with its VM gives 0):
take snapshot() twice while the VM lives, then diff().

    vm = find_vm_dir(qemu_pid)          # waits for KVM_CREATE_VM
    before = snapshot(vm); ...; after = snapshot(vm)
    exits = diff(before, after)         # {"exits": 1234, "io_exits": ..., ...}
"""

import os
import subprocess
import time

DEBUGFS = "/sys/kernel/debug"
KVM_ROOT = DEBUGFS + "/kvm"

# The counters a report shows first; snapshot() returns every counter there is.
MAIN_COUNTERS = ("exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
                 "irq_window_exits", "insn_emulation", "irq_injections", "hypercalls")


class KvmDebugfsError(Exception):
    """The counters cannot be read; str() says why and what to do."""


def ensure_mounted(root=KVM_ROOT):
    """Mount debugfs if root is not there yet (needs root); raise if that fails."""
    if os.path.isdir(root):
        return
    if root == KVM_ROOT:
        subprocess.run(["mount", "-t", "debugfs", "debugfs", DEBUGFS],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if not os.path.isdir(root):
        raise KvmDebugfsError(f"{root} is missing: mount debugfs (mount -t debugfs debugfs "
                              f"{DEBUGFS}) as root, with the kvm module loaded")


def vm_dirs(pid, root=KVM_ROOT):
    """The VM folders of process pid ("<pid>-<fd>"), lowest fd first."""
    prefix = f"{pid}-"
    try:
        names = os.listdir(root)
    except OSError as e:
        raise KvmDebugfsError(f"cannot list {root}: {e.strerror}") from None
    found = []
    for name in names:
        fd = name[len(prefix):]
        if name.startswith(prefix) and fd.isdigit():
            found.append((int(fd), os.path.join(root, name)))
    return [path for _, path in sorted(found)]


def find_vm_dir(pid, root=KVM_ROOT, wait_s=0.0, poll_s=0.05):
    """The one VM folder of process pid, waiting up to wait_s for it to appear.
    Raises KvmDebugfsError if there is none, or more than one (which VM?)."""
    deadline = time.monotonic() + wait_s
    while True:
        dirs = vm_dirs(pid, root)
        if len(dirs) == 1:
            return dirs[0]
        if len(dirs) > 1:
            raise KvmDebugfsError(f"process {pid} has {len(dirs)} VMs in {root} "
                                  f"({', '.join(os.path.basename(d) for d in dirs)}): "
                                  f"pick one with vm_dirs()")
        if time.monotonic() >= deadline:
            raise KvmDebugfsError(f"no VM of process {pid} in {root} (not running, or "
                                  f"not a KVM process)")
        time.sleep(poll_s)


def exit_counters(vm_dir):
    """The names of MAIN_COUNTERS and of every other *_exits counter in vm_dir: what a
    report shows, for snapshot(vm_dir, names) (each file read costs: ~60 in all)."""
    try:
        names = os.listdir(vm_dir)
    except OSError as e:
        raise KvmDebugfsError(f"cannot read {vm_dir}: {e.strerror} (did the VM end?)") from None
    return sorted(n for n in names if n in MAIN_COUNTERS or n.endswith("_exits"))


def snapshot(vm_dir, names=None):
    """Every counter in vm_dir (or only those named) as {name: int}.  Raises if the
    folder is gone (the VM ended) or holds no counter."""
    counters = {}
    if names is None:
        try:
            names = os.listdir(vm_dir)
        except OSError as e:
            raise KvmDebugfsError(f"cannot read {vm_dir}: {e.strerror} (did the VM end?)") from None
    for name in names:
        path = os.path.join(vm_dir, name)
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except (OSError, UnicodeDecodeError):
            continue  # a folder (vcpu0/) or a file that is not a counter
        if text.isdigit():
            counters[name] = int(text)
    if "exits" not in counters:
        raise KvmDebugfsError(f"{vm_dir} has no 'exits' counter (did the VM end?)")
    return counters


def diff(before, after):
    """after - before for every counter in both.  Raises when one of
    MAIN_COUNTERS went backwards (two different VMs); other files may be gauges
    (pages_4k, mmu_unsync...) whose deltas can be negative."""
    out = {}
    for name in sorted(before.keys() & after.keys()):
        delta = after[name] - before[name]
        if delta < 0 and name in MAIN_COUNTERS:
            raise KvmDebugfsError(f"counter {name} went backwards ({before[name]} -> "
                                  f"{after[name]}): the snapshots are of different VMs")
        out[name] = delta
    return out
