"""Produce or consume one record with kafka-python; a script inside containers, a module on the host.

    python3 kafka_client.py produce BOOTSTRAP TOPIC VALUE
    python3 kafka_client.py consume BOOTSTRAP TOPIC VALUE [GROUP]   (exit 0 once VALUE is read)

The environment variable KAFKA_CLIENT_SECURITY (JSON) adds kafka-python security settings, e.g.
{"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": ...,
"sasl_plain_password": ..., "ssl_cafile": ...}; the functions take them as keyword arguments.
"""

import json
import os
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def produce(bootstrap, topic, value, **security):
    producer = KafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=20000, max_block_ms=30000, **security)
    try:
        metadata = producer.send(topic, value.encode()).get(timeout=30)
    finally:
        producer.close()
    return metadata.partition, metadata.offset


def consume(bootstrap, topic, value, group=None, timeout=60, **security):
    """Read ``topic`` until ``value`` appears; with ``group``, as a member of that consumer group."""
    options = {"bootstrap_servers": bootstrap, "auto_offset_reset": "earliest", "consumer_timeout_ms": 2000,
               **security}
    if group:
        consumer = KafkaConsumer(topic, group_id=group, **options)
    else:
        consumer = KafkaConsumer(**options)
        partitions = None
        deadline = time.monotonic() + timeout
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            time.sleep(0 if partitions else 1)
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions or [0])])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                if record.value == value.encode():
                    return True
        return False
    finally:
        consumer.close()


if __name__ == "__main__":
    action, bootstrap, topic, value = sys.argv[1:5]
    settings = json.loads(os.environ.get("KAFKA_CLIENT_SECURITY") or "{}")
    if action == "produce":
        print(produce(bootstrap, topic, value, **settings))
        sys.exit(0)
    group = sys.argv[5] if len(sys.argv) > 5 else None
    found = consume(bootstrap, topic, value, group, **settings)
    print("found" if found else f"not found within 60s ({uuid.uuid4().hex[:4]})")
    sys.exit(0 if found else 1)
