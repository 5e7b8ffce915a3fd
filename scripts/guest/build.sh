#!/usr/bin/env bash
# Builds nubo-guest.qcow2: a small CirrOS-like whole-disk test image (syslinux on FAT, Debian cloud
# kernel, busybox + dropbear initramfs) from Debian packages only, without loop devices or mounts.
# Prints the image path as the last line of stdout; everything else goes to stderr.
#
# Host packages (for the README apt line):
#   busybox-static dropbear-bin syslinux syslinux-common mtools dosfstools cpio kmod qemu-utils genisoimage
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${NUBO_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nubo/guest}
image=$out_dir/nubo-guest.qcow2
inputs=("$here/build.sh" "$here/init" "$here/udhcpc.script")

log() { echo "build.sh: $*" >&2; }

# Cache: the image depends only on these files and the kernel, so a newer image is still good.
fresh=1
for f in "${inputs[@]}"; do [[ -f $image && $image -nt $f ]] || fresh=0; done
if ((fresh)); then
  echo "$image"
  exit 0
fi

# Install only what is missing, without recommends (they would pull in far more than these tools).
need=(busybox-static dropbear-bin syslinux syslinux-common mtools dosfstools cpio kmod qemu-utils genisoimage)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
sudo=()
((EUID == 0)) || sudo=(sudo)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  # Other apt runs on the machine hold the dpkg lock for a while: wait for it rather than fail.
  install=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}")
  # A fresh machine may have no package lists yet; an install then fails until an update.
  "${install[@]}" >&2 || { "${sudo[@]}" apt-get update >&2 && "${install[@]}" >&2; }
fi

# The cloud kernel boots faster under TCG (LZ4) and is never installed on the host: installing a
# linux-image makes every later apt run rebuild the host's initramfs.
kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[[ -n $kpkg ]] || { log "cannot resolve linux-image-cloud-amd64 (run apt-get update)"; exit 1; }
krel=${kpkg#linux-image-}
kroot=$out_dir/kernel/$krel
if [[ ! -f $kroot/lib/modules/$krel/modules.dep ]]; then
  log "fetching $kpkg"
  debs=$out_dir/debs
  mkdir -p "$debs" "$out_dir/kernel"
  # As root, apt downloads as _apt, who cannot write here: download as root instead of warning.
  sandbox=()
  ((EUID == 0)) && sandbox=(-o APT::Sandbox::User=root)
  (cd "$debs" && apt-get "${sandbox[@]}" download "$kpkg" >&2)
  rm -rf "$kroot.tmp"
  dpkg-deb -x "$debs/${kpkg}"_*.deb "$kroot.tmp"
  # The .deb ships no modules.dep, and the module load order below is read from it.
  depmod -b "$kroot.tmp" "$krel"
  rm -rf "$kroot" && mv "$kroot.tmp" "$kroot"
  rm -f "$debs/${kpkg}"_*.deb
  # An extracted kernel is ~110 MB; only the current one is worth keeping.
  find "$out_dir/kernel" -mindepth 1 -maxdepth 1 ! -name "$krel" -exec rm -rf {} +
fi
mods=$kroot/lib/modules/$krel

work=$(mktemp -d "$out_dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,etc,proc,sys,run,tmp,mnt,lib/x86_64-linux-gnu,lib64}
chmod 755 "$root"
mkdir -m 700 "$root/root"
ln -s bin "$root/sbin"
mkdir -p "$root/usr" && ln -s ../bin "$root/usr/bin" && ln -s ../bin "$root/usr/sbin"
mkdir -p "$root/var/log" && ln -s ../run "$root/var/run"

# busybox-static needs no libraries; one link per applet makes it the whole userland.
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done

# dropbear is dynamic: carry exactly the libraries ldd names, at the same paths.
cp /usr/sbin/dropbear "$root/bin/"
for lib in $(ldd /usr/sbin/dropbear | grep -o '/[^ ]*'); do
  cp -L "$lib" "$root$lib"
done

# Names are module file names. ata_piix and sr_mod read a config drive attached as an IDE CD-ROM;
# virtio-rng fills the random pool at once when the hypervisor offers it; button and evdev feed acpid.
wanted=(virtio_pci virtio_net virtio_blk isofs ata_piix sr_mod virtio-rng button evdev)
# Dependencies first: a depth-first walk over modules.dep.
declare -A seen=()
order=()
add_module() {
  [[ -n ${seen[$1]:-} ]] && return
  seen[$1]=1
  local dep
  for dep in $(sed -n "s|^$1: *||p" "$mods/modules.dep"); do add_module "$dep"; done
  order+=("$1")
}
for m in "${wanted[@]}"; do
  path=$(grep -m1 -E "/${m}\.ko:" "$mods/modules.dep" | cut -d: -f1 || true)
  if [[ -n $path ]]; then
    add_module "$path"
  elif ! grep -qE "/${m}\.ko$" "$mods/modules.builtin"; then
    log "module $m is neither a module nor built in to $krel"
    exit 1
  fi
done
: >"$root/etc/modules"
for path in "${order[@]}"; do
  mkdir -p "$root/lib/modules/$krel/$(dirname "$path")"
  cp "$mods/$path" "$root/lib/modules/$krel/$path"
  echo "/lib/modules/$krel/$path" >>"$root/etc/modules"
done

install -m 755 "$here/init" "$root/init"
install -m 755 "$here/udhcpc.script" "$root/etc/udhcpc.script"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -n >"$work/initrd.gz"

# console=ttyS0 must come last: the last console= gets /dev/console, and tests read the serial log.
cat >"$work/syslinux.cfg" <<EOF
DEFAULT nubo
PROMPT 0
TIMEOUT 0
LABEL nubo
  LINUX vmlinuz
  INITRD initrd.gz
  APPEND console=tty0 console=ttyS0
EOF

# A superfloppy FAT disk that SeaBIOS boots: syslinux writes its boot sector into the file itself.
kernel=$kroot/boot/vmlinuz-$krel
size_mib=$(( ($(stat -c %s "$kernel") + $(stat -c %s "$work/initrd.gz")) / 1048576 + 8 ))
truncate -s "${size_mib}M" "$work/disk.raw"
mkfs.vfat -n NUBOGUEST "$work/disk.raw" >&2
syslinux --install "$work/disk.raw"
export MTOOLS_SKIP_CHECK=1
mcopy -i "$work/disk.raw" "$kernel" ::vmlinuz
mcopy -i "$work/disk.raw" "$work/initrd.gz" ::initrd.gz
mcopy -i "$work/disk.raw" "$work/syslinux.cfg" ::syslinux.cfg
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/nubo-guest.qcow2"

# Rename last, so a reader never sees a half-written image.
mv "$work/nubo-guest.qcow2" "$image"
log "built $image ($krel, $(du -h "$image" | cut -f1))"
echo "$image"
