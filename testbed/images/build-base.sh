#!/usr/bin/env bash
# Builds the systemd base images the Molecule scenarios boot (Debian 12 "bookworm", Debian 13 "trixie").
# No registry is reachable here, so the images come from debootstrap + `docker import`.
# Beside each, a "<suite>-jre" image: the same server with Debian's Java runtime already installed
# (openjdk-17 on bookworm, openjdk-21 on trixie), as a golden image of a site would have it. The scenarios
# about installing (default, zookeeper) boot the bare images, so the roles' Java install stays tested; the
# multi-node ones boot the -jre images and skip ~20 installs of the same runtime per `make test`.
# An image is rebuilt only when this recipe changes (for a -jre image: or its base image): the hash is
# stored in the image label `kafka-stack.recipe` and compared on every run.
# Test bed only: python-bytecode-cache/ goes into the images' /usr/lib/python3/dist-packages, a cache of the code
# Ansible's modules import from their AnsiballZ zip, compiled once instead of at every task (see its docstring).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
repo=${TESTBED_IMAGE_REPO:-kafka-stack-testbed/debian-systemd}
# Packages a freshly installed Debian server has, plus what Ansible needs to manage it.
include=systemd,systemd-sysv,dbus,python3,python3-apt,ca-certificates,iproute2,procps,gpg,sudo

cache_files=("$here/python-bytecode-cache/ksa_bytecode_cache.py" "$here/python-bytecode-cache/ksa_bytecode_cache.pth")
recipe_hash=$(cat "$0" "${cache_files[@]}" | sha256sum | cut -c1-16)

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
  cp "${cache_files[@]}" "$root/usr/lib/python3/dist-packages/"
  tar -C "$root" -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' \
    --change "LABEL kafka-stack.recipe=$recipe_hash" \
    - "$image" >/dev/null
  echo "built $image"
}

# The JRE the kafka role installs on that Debian release (roles/kafka/vars/Debian-<major>.yml), so the image
# follows the role.
jre_package() {
  local major
  case $1 in bookworm) major=12 ;; trixie) major=13 ;; *) return 0 ;; esac
  sed -n 's/^kafka__java_package: *\([^ ]*\)$/\1/p' "$here/../../roles/kafka/vars/Debian-$major.yml"
}

build_jre() {
  local suite=$1 image="$repo:$1-jre" base="$repo:$1" package current recipe context
  package=$(jre_package "$suite")
  [[ -n "$package" ]] || { echo "no kafka__java_package for $suite in roles/kafka/vars" >&2; return 1; }
  recipe=$( (cat "$0" "${cache_files[@]}"; echo "$package"; docker image inspect -f '{{ .Id }}' "$base") | sha256sum | cut -c1-16)
  current=$(docker image inspect -f '{{ index .Config.Labels "kafka-stack.recipe" }}' "$image" 2>/dev/null || true)
  if [[ "$current" == "$recipe" ]]; then
    echo "base image $image is up to date (recipe $recipe)"
    return 0
  fi
  echo "building $image: $base with $package"
  context=$(mktemp -d)
  trap 'rm -rf "$context"' RETURN
  # The lists go again and their directory gets the epoch mtime, as in the base image: a role that finds a
  # package missing refreshes the cache itself.
  cat >"$context/Dockerfile" <<DOCKERFILE
FROM $base
RUN apt-get update -qq && apt-get install -y -qq $package >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb && touch -d @0 /var/lib/apt/lists
LABEL kafka-stack.recipe=$recipe
DOCKERFILE
  docker build -q -t "$image" "$context" >/dev/null 2>"$context/err" || { cat "$context/err" >&2; return 1; }
  echo "built $image"
}

suites=("$@")
[[ ${#suites[@]} -gt 0 ]] || suites=(bookworm trixie)
for suite in "${suites[@]}"; do
  build "$suite"
  build_jre "$suite"
done
# A rebuilt image leaves its predecessor untagged: drop the test bed's untagged images no container uses.
docker image prune -f --filter label=kafka-stack.recipe >/dev/null
