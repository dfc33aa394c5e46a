#!/usr/bin/env bash
# Builds the systemd base images the Molecule scenarios boot (Debian 12 "bookworm", Debian 13 "trixie").
# No registry is reachable here, so the images come from debootstrap + `docker import`.
# An image is rebuilt only when this recipe changes: its hash is stored in the image label
# `kafka-stack.recipe` and compared on every run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
repo=${TESTBED_IMAGE_REPO:-kafka-stack-testbed/debian-systemd}
# Packages a freshly installed Debian server has, plus what Ansible needs to manage it.
include=systemd,systemd-sysv,dbus,python3,python3-apt,ca-certificates,iproute2,procps,gpg,sudo

recipe_hash=$(cat "$0" | sha256sum | cut -c1-16)

build() {
  local suite=$1 image="$repo:$1" current root
  current=$(docker image inspect -f '{{ index .Config.Labels "kafka-stack.recipe" }}' "$image" 2>/dev/null || true)
  if [[ "$current" == "$recipe_hash" ]]; then
    echo "base image $image is up to date (recipe $recipe_hash)"
    return 0
  fi
  echo "building $image with debootstrap $suite (recipe $recipe_hash)"
  root=$(mktemp -d "/var/tmp/testbed-$suite.XXXXXX")
  trap 'rm -rf "$root"' RETURN
  debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 30 "$root.log"; echo "debootstrap $suite failed" >&2; return 1; }
  rm -f "$root.log"
  # Containers are not VMs: units that need hardware or a real console only fail noisily.
  for unit in systemd-firstboot.service systemd-udevd.service systemd-udev-trigger.service \
              getty@tty1.service console-getty.service systemd-remount-fs.service \
              systemd-modules-load.service sys-kernel-debug.mount dev-hugepages.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  # Keep the image small and apt quiet; the roles refresh the cache themselves.
  echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/90-no-recommends"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  # An empty list directory with a fresh mtime looks "recently updated" to apt's cache_valid_time.
  touch -d @0 "$root/var/lib/apt/lists"
  : >"$root/etc/machine-id"
  tar -C "$root" -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' \
    --change "LABEL kafka-stack.recipe=$recipe_hash" \
    - "$image" >/dev/null
  echo "built $image"
}

suites=("$@")
[[ ${#suites[@]} -gt 0 ]] || suites=(bookworm trixie)
for suite in "${suites[@]}"; do build "$suite"; done
