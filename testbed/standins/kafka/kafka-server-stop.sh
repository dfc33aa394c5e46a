#!/bin/bash
# TEST DOUBLE (kafka-stack-ansible test bed): stops the stand-in like Kafka's script stops kafka.Kafka.
PIDS=$(pgrep -f 'kafka-standin/kafka_standin.py')
if [ -z "$PIDS" ]; then
  echo "No kafka server to stop"
  exit 1
fi
kill -s TERM $PIDS
