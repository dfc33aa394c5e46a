#!/usr/bin/env bash
# Builds the kafka-ui STAND-IN jar api-v1.4.1.jar (TEST DOUBLE, not kafka-ui) under kafbat's asset name,
# plus api-v1.4.1.jar.sha256 in sha256sum's layout. Compiled for Java 17 bytecode, but the jar refuses
# to start on a Java older than 21, as kafbat 1.4 does. Needs a JDK (javac, jar); testbed/bin/ensure-host
# installs one. Output: $OUT (default testbed/.cache/artifacts). Rebuilt only when this directory changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${OUT:-$root/testbed/.cache/artifacts}
version=1.4.1
java_needed=21
name=api-v$version.jar
recipe=$(cat "$here"/build.sh "$here"/src/* | sha256sum | cut -c1-16)
if [[ -f "$out/$name" && "$(cat "$out/$name.recipe" 2>/dev/null)" == "$recipe" ]]; then
  echo "stand-in $name is up to date"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/classes" "$out"
javac --release 17 -nowarn -d "$work/classes" "$here"/src/*.java
cat >"$work/manifest" <<MF
Main-Class: KafkaUiStandin
Implementation-Title: kafka-ui STAND-IN (test double, not kafka-ui)
Implementation-Version: $version
Standin-Required-Java: $java_needed
MF
printf 'TEST DOUBLE of kafka-ui %s built by kafka-stack-ansible'"'"'s test bed. Not kafka-ui. See testbed/README.md.\n' \
  "$version" >"$work/classes/README.test-double"
jar --create --file "$out/$name" --manifest "$work/manifest" --date 2025-11-10T00:00:00Z -C "$work/classes" .
(cd "$out" && sha256sum "$name" >"$name.sha256")
echo "$recipe" >"$out/$name.recipe"
echo "built stand-in $out/$name ($(du -h "$out/$name" | cut -f1))"
