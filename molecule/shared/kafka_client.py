"""Produce or consume records with kafka-python; a script inside containers, a module on the host.

    python3 kafka_client.py produce BOOTSTRAP TOPIC VALUE
    python3 kafka_client.py consume BOOTSTRAP TOPIC VALUE [GROUP]   (exit 0 once VALUE is read, in a group)
    python3 kafka_client.py produce-many BOOTSTRAP TOPIC COUNT PREFIX   (prints the acknowledged values, JSON)
    python3 kafka_client.py read-all BOOTSTRAP TOPIC GROUP COUNT    (prints the values read, JSON)

The environment variable KAFKA_CLIENT_SECURITY (JSON) adds kafka-python security settings, e.g.
{"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": ...,
"sasl_plain_password": ..., "ssl_cafile": ...}; the functions take them as keyword arguments.
"""

import json
import logging
import os
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer


def produce(bootstrap, topic, value, **security):
    producer = KafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=20000, max_block_ms=30000, **security)
    try:
        metadata = producer.send(topic, value.encode()).get(timeout=30)
    finally:
        producer.close()
    return metadata.partition, metadata.offset


def consume(bootstrap, topic, value, group=None, timeout=60, **security):
    """Read ``topic`` as a member of consumer ``group`` (a new one when not given) until ``value`` appears."""
    consumer = KafkaConsumer(topic, group_id=group or f"verify-{uuid.uuid4().hex[:8]}", bootstrap_servers=bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000, **security)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                if record.value == value.encode():
                    return True
        return False
    finally:
        consumer.close()


def produce_many(bootstrap, topic, count, prefix, **security):
    """Send ``count`` records ``<prefix>-<n>`` with acks=all and an idempotent producer; return the values
    the brokers acknowledged, in order."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             request_timeout_ms=20000, max_block_ms=30000, **security)
    try:
        futures = [(f"{prefix}-{n}", producer.send(topic, f"{prefix}-{n}".encode())) for n in range(int(count))]
        producer.flush(timeout=60)
        return [value for value, future in futures if future.succeeded()]
    finally:
        producer.close()


def read_all(bootstrap, topic, group, count, timeout=90, **security):
    """Read ``topic`` as a member of consumer ``group`` (committing offsets) until ``count`` records came or
    ``timeout`` passed; return the values read, in the order read."""
    consumer = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=2000, **security)
    values, deadline = [], time.monotonic() + timeout
    try:
        while len(values) < int(count) and time.monotonic() < deadline:
            for record in consumer:
                values.append(record.value.decode())
                if len(values) >= int(count):
                    break
        consumer.commit()  # the position after the last record returned
        return values
    finally:
        consumer.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)  # the client's errors (e.g. a refused login)
    action, bootstrap, topic, value = sys.argv[1:5]
    settings = json.loads(os.environ.get("KAFKA_CLIENT_SECURITY") or "{}")
    if action == "produce-many":
        print(json.dumps(produce_many(bootstrap, topic, value, sys.argv[5], **settings)))
        sys.exit(0)
    if action == "read-all":
        print(json.dumps(read_all(bootstrap, topic, value, sys.argv[5], **settings)))
        sys.exit(0)
    if action == "produce":
        print(produce(bootstrap, topic, value, **settings))
        sys.exit(0)
    group = sys.argv[5] if len(sys.argv) > 5 else None
    found = consume(bootstrap, topic, value, group, **settings)
    print("found" if found else f"not found within 60s ({uuid.uuid4().hex[:4]})")
    sys.exit(0 if found else 1)
