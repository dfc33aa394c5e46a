#!/usr/bin/env bash
# Builds the kafka-ui STAND-IN jars (TEST DOUBLES, not kafka-ui) under upstream's asset names, each with a
# `<jar>.sha256` in sha256sum's layout:
#   api-v1.4.1.jar           as kafbat 1.4.1: refuses to start on a Java older than 21
#   kafka-ui-api-v0.7.2.jar  as provectus 0.7.2: needs Java 17
# One source (src/), compiled for Java 17 bytecode; the manifest carries the version and the Java it
# demands. It talks to Kafka through the real kafka-clients AdminClient (the kafka role's default
# version, from Maven Central, bundled into the jar with its dependencies; pom.xml.in).
# Needs a JDK (javac, jar) and mvn; testbed/bin/ensure-host installs them.
# Output: $OUT (default testbed/.cache/artifacts, kept per machine: common.sh). Rebuilt only when this directory changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../fixtures/common.sh
. "$here/../../fixtures/common.sh"
out=${OUT:-$(artifact_dir)}
jars=("api-v1.4.1.jar 1.4.1 21" "kafka-ui-api-v0.7.2.jar 0.7.2 17")
clients_version=$(role_default kafka kafka_version)
recipe=$(recipe_of "$here" "$clients_version")
if [[ "$(cat "$out/kafka-ui-standin.recipe" 2>/dev/null)" == "$recipe" ]]; then
  echo "kafka-ui stand-in jars are up to date"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/classes" "$work/libs" "$out"
maven_jars "$here/pom.xml.in" "$work/libs" "$clients_version"
javac --release 17 -nowarn -cp "$work/libs/*" -d "$work/classes" "$here"/src/*.java
# One self-contained jar (`java -jar`, as the role runs kafka-ui): the libraries' classes beside ours.
for lib in "$work"/libs/*.jar; do
  (cd "$work/classes" && jar -xf "$lib")
done
rm -rf "$work/classes/META-INF/MANIFEST.MF" "$work/classes/META-INF/"*.SF "$work/classes/META-INF/"*.RSA \
  "$work/classes/META-INF/"*.DSA "$work/classes/META-INF/versions/9/module-info.class" "$work/classes/module-info.class"
for entry in "${jars[@]}"; do
  read -r name version java_needed <<<"$entry"
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
  echo "built stand-in $out/$name ($(du -h "$out/$name" | cut -f1), demands Java $java_needed)"
done
echo "$recipe" >"$out/kafka-ui-standin.recipe"
