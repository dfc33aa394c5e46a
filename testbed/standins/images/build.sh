#!/usr/bin/env bash
# Builds the STAND-IN images (TEST DOUBLES) the container-mode tests run, because no image can be
# pulled here. Each honours the environment contract of the image it stands in for and runs, inside:
#   kafka-stack-testbed/zookeeper-official-standin:3.8.0   official "zookeeper" image rules, Debian's real ZooKeeper 3.8.0
#   kafka-stack-testbed/kafka-bitnami-standin:<kafka>      bitnamilegacy/kafka rules, real Apache Kafka inside
#   kafka-stack-testbed/kafka-confluent-standin:<kafka>    confluentinc/cp-kafka rules, real Apache Kafka inside
#   kafka-stack-testbed/kafka-apache-standin:<kraft>       apache/kafka rules (KRaft), real Apache Kafka 4.x inside
#   kafka-stack-testbed/kafka-ui-standin:1.4.1             kafka-ui's relaxed binding, the kafka-ui stand-in jar
# Needs the base images (testbed/images/build-base.sh). What goes into the images is built first when it is
# missing or out of date: the repackaged Kafka of the kafka role's default version and of the KRaft release
# (testbed/fixtures/kafka-dist, build-releases.sh) and the kafka-ui stand-in jar (testbed/standins/kafka-ui).
# An image is rebuilt only when its recipe (this directory and its input artifact) changed: the recipe hash is
# a label on the image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=../../fixtures/common.sh
. "$root/testbed/fixtures/common.sh"
artifacts=$(artifact_dir)
"$root/testbed/fixtures/kafka-dist/build.sh"
"$root/testbed/fixtures/build-releases.sh" "$root/molecule/kraft/vars/versions.yml"
"$root/testbed/standins/kafka-ui/build.sh"
kafka_version=$(role_default kafka kafka_version)
kafka_tgz="$artifacts/kafka_$(role_default kafka kafka_scala_version)-$kafka_version.tgz"
# The KRaft release the test bed runs (molecule/kraft/vars/versions.yml, built by build-releases.sh).
kraft_version=$(sed -n 's/^ *kafka_version: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/molecule/kraft/vars/versions.yml")
kraft_tgz="$artifacts/kafka_$(role_default kafka kafka_scala_version)-$kraft_version.tgz"

build() {  # tag, context dir, input artifact (copied into the context as $4), build args...
  local tag=$1 dir=$2 input=$3 as=$4
  shift 4
  local recipe
  recipe=$( (cat "$here/build.sh" "$dir"/* "$input"; echo "$@") | sha256sum | cut -c1-16)
  if [[ "$(docker image inspect -f '{{ index .Config.Labels "kafka-stack.recipe" }}' "$tag" 2>/dev/null)" == "$recipe" ]]; then
    echo "stand-in image $tag is up to date"
    return
  fi
  local context
  context=$(mktemp -d)
  cp -r "$dir"/. "$context"/
  [[ "$input" != /dev/null ]] && cp "$input" "$context/$as"
  printf 'TEST DOUBLE built by the kafka-stack-ansible test bed (%s). See testbed/README.md.\n' "$tag" \
    >"$context/README.test-double"
  local args=()
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  # The legacy builder's deprecation notice goes to stderr: show stderr only when the build fails.
  if ! docker build -q --label "kafka-stack.recipe=$recipe" --label kafka-stack.test-double=true \
      "${args[@]}" -t "$tag" "$context" >/dev/null 2>"$context.err"; then
    cat "$context.err" >&2
    rm -rf "$context" "$context.err"
    exit 1
  fi
  rm -rf "$context" "$context.err"
  echo "built stand-in image $tag"
}

none=/dev/null
build kafka-stack-testbed/zookeeper-official-standin:3.8.0 "$here/zookeeper-official" "$none" unused
build "kafka-stack-testbed/kafka-bitnami-standin:$kafka_version" "$here/kafka" "$kafka_tgz" kafka.tgz \
  FLAVOR=bitnami DATA_DIR=/bitnami/kafka/data UID=1001
build "kafka-stack-testbed/kafka-confluent-standin:$kafka_version" "$here/kafka" "$kafka_tgz" kafka.tgz \
  FLAVOR=confluent DATA_DIR=/var/lib/kafka/data UID=1000
build "kafka-stack-testbed/kafka-apache-standin:$kraft_version" "$here/kafka" "$kraft_tgz" kafka.tgz \
  FLAVOR=apache DATA_DIR=/var/lib/kafka/data UID=1000
build kafka-stack-testbed/kafka-ui-standin:1.4.1 "$here/kafka-ui" "$artifacts/api-v1.4.1.jar" api.jar
# A rebuilt image leaves its predecessor untagged: drop the test bed's untagged images no container uses.
docker image prune -f --filter label=kafka-stack.recipe >/dev/null
