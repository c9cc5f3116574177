# shellcheck shell=bash
# scripts/lib/kernel-cache.sh — Debian's linux-image-amd64, unpacked once into a cache:
# sourced by scripts/kvm-sandbox (the sandbox's kernel and modules) and scripts/peer-vm
# (the peers' guest modules, and the host-side modules the sandbox loads for them).
#
# The caller defines die() (print, exit); these functions call it on errors.
#
# Cache layout (kc_cache_dir):
#   kernel-<version>/   vmlinuz, vmlinux, modules/, load-order: the sandbox (kvm-sandbox)
#   current -> kernel-<version>
#   peer-kit-<version>/ the peers' modules, for the same kernel version:
#     l1/modules/*.ko, l1/load-order  loaded by the sandbox's init beside its own:
#                                      tun, tap, vhost-net, vhost-vsock, vsock_loopback
#     l2/modules/*.ko, l2/load-order  the peer guest's drivers (scripts/peer-vm's initramfs)
#     layout                           KC_PEER_KIT_LAYOUT once complete

# Modules the sandbox needs, by module name; their dependencies are found and loaded
# first.  virtio_pci + 9pnet_virtio + 9p: the shared file systems.  kvm_amd: /dev/kvm.
readonly KC_SANDBOX_MODULES=(virtio_pci 9pnet_virtio 9p kvm_amd)
# Host side of the peers (L1): taps, vhost-net, vhost-vsock; vsock_loopback lets
# AF_VSOCK run inside the sandbox alone (the loopback test of native-bench's vsock mode).
readonly KC_L1_PEER_MODULES=(tun tap vhost_iotlb vhost vhost_net vsock
  vmw_vsock_virtio_transport_common vhost_vsock vsock_loopback)
# The peer guest's drivers (L2): e1000, virtio-net, the virtio vsock transport.
readonly KC_L2_PEER_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
  virtio_pci failover net_failover virtio_net e1000 vsock vmw_vsock_virtio_transport_common
  vmw_vsock_virtio_transport)
# Bumped when the kit's contents change: an older kit is rebuilt.
readonly KC_PEER_KIT_LAYOUT=1

kc_cache_dir() {
  if [[ -n ${VS_SANDBOX_CACHE:-} ]]; then
    echo "$VS_SANDBOX_CACHE"
  elif ((EUID == 0)); then
    echo /var/cache/virtsocket-sandbox
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/virtsocket-sandbox"
  fi
}

kc_decompress_ko() {
  case $1 in
    *.ko)     cat "$1" ;;
    *.ko.xz)  xz -dc "$1" ;;
    *.ko.zst) zstd -qdc "$1" ;;
    *.ko.gz)  gzip -dc "$1" ;;
    *) die "unknown module compression: $1" ;;
  esac
}

# kc_resolve_modules MODDIR "SKIP..." NAME...: print the .ko files needed for the
# modules NAME..., dependencies first, one per line.  MODDIR is the
# lib/modules/<version> directory of an unpacked kernel package; SKIP names modules
# already loaded by other means (not printed, nor their dependencies).
kc_resolve_modules() {
  local moddir=$1 skip=$2 f base m; shift 2
  declare -gA kc_ko_path=() kc_visited=()
  # Module names use '_' where file names may use '-' (kvm-amd.ko is module kvm_amd).
  while IFS= read -r f; do
    base=${f##*/}; base=${base%%.ko*}
    kc_ko_path[${base//-/_}]=$f
  done < <(find "$moddir/kernel" -name '*.ko*')
  for m in $skip; do kc_visited[${m//-/_}]=1; done
  for m in "$@"; do kc_visit_module "$moddir" "$m"; done
}
kc_visit_module() {
  local moddir=$1 name=$2 f deps dep
  [[ -n ${kc_visited[$name]:-} ]] && return 0
  kc_visited[$name]=1
  f=${kc_ko_path[$name]:-}
  if [[ -z $f ]]; then
    # Built into the kernel: nothing to load.
    grep -q "/${name//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null && return 0
    die "kernel module $name not found in the kernel package"
  fi
  # The dependencies are in the module's .modinfo section as "depends=a,b"
  # (NUL-separated strings); no kmod needed.
  deps=$(kc_decompress_ko "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1)
  for dep in ${deps//,/ }; do kc_visit_module "$moddir" "$dep"; done
  echo "$f"
}

# kc_install_modules MODDIR OUT "SKIP..." NAME...: OUT/modules/*.ko (decompressed)
# and OUT/load-order (file names, dependencies first).
kc_install_modules() {
  local moddir=$1 out=$2 skip=$3 f name; shift 3
  mkdir -p "$out/modules"
  kc_resolve_modules "$moddir" "$skip" "$@" > "$out/order.paths"
  : > "$out/load-order"
  while IFS= read -r f; do
    name=${f##*/}; name=${name%%.ko*}.ko
    kc_decompress_ko "$f" > "$out/modules/$name"
    echo "$name" >> "$out/load-order"
  done < "$out/order.paths"
  rm -f "$out/order.paths"
}

# kc_fetch_package TMP [PACKAGE]: download and unpack a kernel package into TMP/pkg
# (default: what linux-image-amd64 points at); prints its lib/modules/<version>.
kc_fetch_package() {
  local tmp=$1 pkg=${2:-} deb moddir
  if [[ -z $pkg ]]; then
    # Resolve the metapackage to the concrete image (linux-image-6.1.0-NN-amd64).
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
          | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
    if [[ -z $pkg ]]; then
      # Package lists never fetched on this machine (fresh container): fetch them once.
      apt-get update -q >&2 || true
      pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
            | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
    fi
    [[ -n $pkg ]] || die "cannot resolve linux-image-amd64 with apt-cache (is this Debian?)"
  fi
  (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) \
    || die "apt-get download $pkg failed"
  deb=$(echo "$tmp"/*.deb)
  dpkg-deb -x "$deb" "$tmp/pkg" || die "cannot unpack $deb"
  moddir=$(echo "$tmp"/pkg/lib/modules/*)
  [[ -d $moddir/kernel ]] || die "no modules in $deb"
  echo "$moddir"
}

# ------------------------------------------------- the sandbox's kernel (kvm-sandbox)
# Layout: $cache/kernel-<version>/{vmlinuz, vmlinux, modules/*.ko, load-order,
# version, layout}, and $cache/current -> kernel-<version> once complete.  Built under
# a lock, renamed into place, so concurrent first runs are safe and a half-built cache
# is never used.  KC_CACHE_LAYOUT changes when the contents change; older caches rebuild.
readonly KC_CACHE_LAYOUT=2

# The bzImage decompresses itself (xz in Debian's) at every boot, which takes ~3 s
# under TCG.  QEMU can boot the uncompressed ELF directly through its PVH entry note
# (CONFIG_PVH), so unpack it once: find the compressed payload by its magic number
# and keep the first candidate that decompresses to an ELF with a PVH note (Xen
# note type 0x12, XEN_ELFNOTE_PHYS32_ENTRY).  Returns non-zero if there is none;
# the compressed kernel is then booted as it is.
kc_extract_vmlinux() {
  local bz=$1 out=$2 magic tool off
  for magic in $'\xfd7zXZ:xz' $'\x28\xb5\x2f\xfd:zstd' $'\x1f\x8b\x08:gzip'; do
    tool=${magic##*:}; magic=${magic%:*}
    command -v "$tool" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUa "$magic" "$bz" | cut -d: -f1 | head -n 5); do
      tail -c +$((off + 1)) "$bz" | "$tool" -dc 2>/dev/null > "$out" || true
      if [[ $(head -c 4 "$out") == $'\x7fELF' ]] \
         && LC_ALL=C readelf -n "$out" 2>/dev/null | grep -Eq '\(0x0+12\)|PHYS32_ENTRY'; then
        return 0
      fi
    done
  done
  rm -f "$out"
  return 1
}

kc_cache_ready() { [[ -f $cache/current/version && $(cat "$cache/current/layout" 2>/dev/null) == "$KC_CACHE_LAYOUT" ]]; }

# kc_prepare_kernel CACHE: the kernel and the sandbox's modules (and the peer kit).
kc_prepare_kernel() {
  local cache=$1
  mkdir -p "$cache" || die "cannot create cache directory $cache (set VS_SANDBOX_CACHE)"
  kc_cache_ready && return 0
  exec 8>"$cache/.lock"
  flock -w 900 8 || die "timed out waiting for the lock on $cache"
  if kc_cache_ready; then exec 8>&-; return 0; fi

  echo "[sandbox] first run: fetching Debian's kernel into $cache (once)" >&2
  local tmp moddir version
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  moddir=$(kc_fetch_package "$tmp") && [[ -n $moddir ]] || die "cannot fetch the kernel package"
  version=${moddir##*/}

  mkdir -p "$tmp/kernel-$version/modules"
  cp "$tmp"/pkg/boot/vmlinuz-* "$tmp/kernel-$version/vmlinuz"
  kc_extract_vmlinux "$tmp/kernel-$version/vmlinuz" "$tmp/kernel-$version/vmlinux" \
    || echo "[sandbox] note: no PVH-bootable vmlinux in the kernel; booting the bzImage (slower)" >&2
  kc_install_modules "$moddir" "$tmp/kernel-$version" "" "${KC_SANDBOX_MODULES[@]}"
  # The peer machines' modules from the same package, so that it is fetched only once.
  kc_build_peer_kit "$moddir" "$tmp/peer-kit-$version" "$tmp/kernel-$version/load-order"
  echo "$version" > "$tmp/kernel-$version/version"
  echo "$KC_CACHE_LAYOUT" > "$tmp/kernel-$version/layout"

  rm -rf "${cache:?}/kernel-$version" "$(kc_peer_kit_dir "$cache" "$version")"
  mv "$tmp/kernel-$version" "$tmp/peer-kit-$version" "$cache/"
  ln -sfn "kernel-$version" "$cache/current"
  rm -rf "$tmp"
  exec 8>&-
  echo "[sandbox] kernel $version cached ($(paste -sd' ' "$cache/current/load-order"))" >&2
}


kc_peer_kit_dir() { echo "$1/peer-kit-$2"; }   # CACHE VERSION
kc_peer_kit_ready() {                           # CACHE VERSION
  [[ $(cat "$(kc_peer_kit_dir "$1" "$2")/layout" 2>/dev/null) == "$KC_PEER_KIT_LAYOUT" ]]
}

# kc_build_peer_kit MODDIR OUT BASE_LOAD_ORDER: the kit (layout above) into OUT from an
# unpacked package; the L1 list skips what BASE_LOAD_ORDER (the sandbox's own modules)
# loads already, since loading a module twice fails.
kc_build_peer_kit() {
  local moddir=$1 out=$2 base=$3 skip
  skip=$(sed 's/\.ko$//' "$base" | tr '\n' ' ')
  kc_install_modules "$moddir" "$out/l1" "$skip" "${KC_L1_PEER_MODULES[@]}"
  kc_install_modules "$moddir" "$out/l2" "" "${KC_L2_PEER_MODULES[@]}"
  echo "$KC_PEER_KIT_LAYOUT" > "$out/layout"
}

# kc_prepare_peer_kit CACHE: make sure the kit exists for the cached kernel
# (CACHE/current), fetching that exact kernel package once if needed.  Under the
# cache's lock; built aside and renamed into place.
kc_prepare_peer_kit() {
  local cache=$1 version tmp moddir kit
  version=$(cat "$cache/current/version" 2>/dev/null) || die "no kernel in $cache yet"
  kc_peer_kit_ready "$cache" "$version" && return 0
  exec 7>"$cache/.lock"
  flock -w 900 7 || die "timed out waiting for the lock on $cache"
  if ! kc_peer_kit_ready "$cache" "$version"; then
    echo "[kernel-cache] fetching linux-image-$version once for the peer machines' modules" >&2
    tmp=$(mktemp -d "$cache/.peer-kit.XXXXXX")
    moddir=$(kc_fetch_package "$tmp" "linux-image-$version") && [[ -n $moddir ]] \
      || die "cannot fetch linux-image-$version (delete $cache to start over with a newer kernel)"
    kit=$(kc_peer_kit_dir "$cache" "$version")
    kc_build_peer_kit "$moddir" "$tmp/kit" "$cache/current/load-order"
    rm -rf "$kit"
    mv "$tmp/kit" "$kit"
    rm -rf "$tmp"
  fi
  exec 7>&-
}
