#!/bin/bash
# TEST DOUBLE (kafka-stack-ansible test bed): same usage as Apache Kafka's bin/kafka-server-start.sh.
# KAFKA_HEAP_OPTS, KAFKA_OPTS and other JVM settings are accepted and ignored (there is no JVM);
# LOG_DIR is honoured (server.log).
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi
base_dir=$(dirname "$0")
if [ "$1" = "-daemon" ]; then
  shift
  nohup python3 "$base_dir/../libs/kafka-standin/kafka_standin.py" "$@" >"${LOG_DIR:-$base_dir/../logs}/kafkaServer.out" 2>&1 &
  exit 0
fi
exec python3 "$base_dir/../libs/kafka-standin/kafka_standin.py" "$@"
