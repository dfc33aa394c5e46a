"""Three brokers: each registered with its own endpoints, each serving both of its listeners.

Traffic is checked per broker (bootstrap = that broker), which real Kafka and the stand-in both honour;
the stand-in's brokers do not replicate to each other (see testbed/README.md).
"""

import json
import uuid

import pytest
from kazoo.client import KazooClient

import kafka_client
from testlib import client_container, restart_order_after_change, saved_before_change

testinfra_hosts = ["kc-broker1"]  # cluster-wide tests: run once
BROKERS = {1: ("kc-broker1", 29094), 2: ("kc-broker2", 29095), 3: ("kc-broker3", 29096)}


@pytest.fixture(scope="module")
def registrations():
    zk = KazooClient(hosts="127.0.0.1:22381")
    zk.start(timeout=30)
    try:
        return {int(i): json.loads(zk.get(f"/brokers/ids/{i}")[0]) for i in zk.get_children("/brokers/ids")}
    finally:
        zk.stop()


@pytest.fixture(scope="module")
def in_client():
    return client_container("kc-zk")


def test_every_broker_registered_with_its_own_endpoints(registrations):
    assert sorted(registrations) == [1, 2, 3]
    for broker_id, (name, external_port) in BROKERS.items():
        assert registrations[broker_id]["endpoints"] == [f"PLAINTEXT://{name}:9092",
                                                         f"EXTERNAL://localhost:{external_port}"]


def test_config_change_restarted_every_broker_controller_last():
    """side_effect.yml changed a property on the running cluster (see molecule.yml's test_sequence)."""
    controller = BROKERS[saved_before_change("controller-before-change.json")["brokerid"]][0]
    order = restart_order_after_change([name for name, _ in BROKERS.values()], "kafka",
                                       "/etc/kafka/server.properties", "log.retention.hours=100")
    assert order[-1] == controller, f"restart order {order}, controller before the change: {controller}"


def test_replication_defaults_follow_the_cluster_size(host):
    props = dict(line.split("=", 1) for line in host.file("/etc/kafka/server.properties").content_string.splitlines()
                 if line and not line.startswith("#"))
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["offsets.topic.replication.factor"] == "3"


@pytest.mark.parametrize("broker_id", sorted(BROKERS))
def test_each_broker_serves_external_and_internal(broker_id, in_client):
    name, external_port = BROKERS[broker_id]
    topic, value = f"b{broker_id}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    kafka_client.produce(f"localhost:{external_port}", topic, value)
    code, output = in_client("consume", f"{name}:9092", topic, value)
    assert code == 0, output
