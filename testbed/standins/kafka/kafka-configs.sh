#!/bin/bash
# TEST DOUBLE (kafka-stack-ansible test bed): Apache Kafka's bin/kafka-configs.sh, SCRAM users in
# ZooKeeper only (--zookeeper ... --entity-type users). KAFKA_OPTS' JAAS file gives the ZooKeeper login.
exec python3 "$(dirname "$0")/../libs/kafka-standin/kafka_configs.py" "$@"
