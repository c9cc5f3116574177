"""KVM's per-VM exit counters in debugfs (/sys/kernel/debug/kvm/<pid>-<vm fd>/).

Each counter is one file holding a decimal number (exits, io_exits, mmio_exits,
halt_exits, irq_exits, hypercalls, ...); the folder lives as long as the VM does.
"""
import os
import re

DEFAULT_ROOT = "/sys/kernel/debug/kvm"


def vm_folders(pid, root=None):
    """The per-VM folders of process pid (one per VM it created), sorted."""
    root = root or DEFAULT_ROOT
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(os.path.join(root, n) for n in names
                  if re.fullmatch(rf"{int(pid)}-\d+", n) and os.path.isdir(os.path.join(root, n)))


def snapshot(folder):
    """{counter: value} of the counter files directly in folder ({} if it is gone)."""
    out = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for n in names:
        path = os.path.join(folder, n)
        try:
            with open(path) as f:
                text = f.read(64).strip()
        except OSError:  # a vCPU folder, or the VM went away meanwhile
            continue
        if re.fullmatch(r"\d+", text):
            out[n] = int(text)
    return out


def diff(before, after):
    """after - before, for the counters both have."""
    return {k: after[k] - before[k] for k in after if k in before}
