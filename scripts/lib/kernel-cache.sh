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
