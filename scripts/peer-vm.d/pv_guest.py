"""The peer machine (L2): its initramfs and its QEMU command line (devices as in
/work/shared/reference/peers.md, the recipe this follows)."""
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
BUSYBOX = "/bin/busybox"
GUEST_CID = 3           # vhost-vsock: the guest's CID; it connects to the host, CID 2
NETDEV = "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost={vhost}"

# config -> (the guest's MODE in /init, QEMU device arguments)
CONFIGS = {
    "e1000": ("net", ["-netdev", NETDEV.format(vhost="off"), "-device", "e1000,netdev=n0,romfile="]),
    "virtio-net": ("net", ["-netdev", NETDEV.format(vhost="off"),
                           "-device", "virtio-net-pci,netdev=n0,romfile="]),
    "vhost-net": ("net", ["-netdev", NETDEV.format(vhost="on"),
                          "-device", "virtio-net-pci,netdev=n0,romfile="]),
    "vhost-vsock": ("vsock", ["-device", f"vhost-vsock-pci,guest-cid={GUEST_CID}"]),
}
# What the host needs loaded (and which device node) for each config.
HOST_MODULES = {"net": ["tun"], "vhost-net": ["tun", "vhost_net"], "vsock": ["vhost_vsock"]}
HOST_DEVICES = {"net": ["/dev/net/tun"], "vhost-net": ["/dev/net/tun", "/dev/vhost-net"],
                "vsock": ["/dev/vhost-vsock"]}


def host_needs(config):
    key = config if config == "vhost-net" else CONFIGS[config][0]
    return HOST_MODULES[key], HOST_DEVICES[key]


def build_initramfs(work, kit, native_bench, conf, runs):
    """work/initrd.gz: busybox, the l2 modules, native-bench, /init, /peervm.conf, /runs."""
    root = os.path.join(work, "initrd")
    for d in ("bin", "dev", "proc", "sys", "modules"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    shutil.copy(native_bench, os.path.join(root, "bin", "native-bench"))
    shutil.copy(os.path.join(HERE, "init"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    l2 = os.path.join(kit, "l2")
    for name in os.listdir(os.path.join(l2, "modules")):
        shutil.copy(os.path.join(l2, "modules", name), os.path.join(root, "modules", name))
    shutil.copy(os.path.join(l2, "load-order"), os.path.join(root, "load-order"))
    with open(os.path.join(root, "peervm.conf"), "w", encoding="ascii") as f:
        f.write("".join(f"{k}={v}\n" for k, v in conf.items()))
    with open(os.path.join(root, "runs"), "w", encoding="ascii") as f:
        f.write("".join(" ".join(words) + "\n" for words in runs))
    out = os.path.join(work, "initrd.gz")
    with open(out, "wb") as f:
        names = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=names,
                              capture_output=True, check=True).stdout
        f.write(subprocess.run(["gzip", "-1"], input=cpio, capture_output=True,
                               check=True).stdout)
    return out


def qemu_command(config, kernel, initrd, mem, serial, cid=GUEST_CID):
    devices = CONFIGS[config][1]
    if config == "vhost-vsock":
        devices = ["-device", f"vhost-vsock-pci,guest-cid={cid}"]
    # quiet + printk 0 in /init: the console carries the protocol; ipv6.disable=1 keeps
    # the link to link-local IPv4; mitigations=off as in the sandbox (nothing untrusted).
    append = "console=ttyS0 panic=-1 ipv6.disable=1 mitigations=off"
    # VS_PEERVM_VERBOSE=1: the guest kernel's boot log on the console (a boot that hangs)
    append += " loglevel=7" if os.environ.get("VS_PEERVM_VERBOSE") == "1" else " quiet loglevel=3"
    cmd = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-smp", "1", "-m", mem,
           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
           "-serial", f"file:{serial}", "-kernel", kernel, "-initrd", initrd,
           "-append", append] + devices
    bios = "/usr/share/qemu/qboot.rom"   # tiny firmware that boots -kernel fast
    if os.path.isfile(bios):
        cmd += ["-bios", bios]
    return cmd
