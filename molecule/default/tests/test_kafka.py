"""The seed's broker (local inventory): listeners, registration, traffic both ways between the listeners.

These tests use only Kafka's contracts (properties, ZooKeeper registration, the Kafka protocol): they run
unchanged on Apache's tarball (ARTIFACTS=upstream) and on the test bed's repackaging of the same release's
Maven Central jars.
"""

import hashlib
import json
import socket

import pytest
from kazoo.client import KazooClient

from testlib import client_container, external_to_internal, internal_to_external, playbook

testinfra_hosts = ["local-kafka"]
BROKER, CLIENT = "kafka", "local-zookeeper"   # the broker's name on the network; a container to run clients
EXTERNAL = "localhost:9094"
INTERNAL = f"{BROKER}:9092"
ZK_PORT = 2181


def properties(host):
    text = host.file("/etc/kafka/server.properties").content_string
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def in_client():
    return client_container(CLIENT)


def test_rendered_listeners(host):
    props = properties(host)
    assert props["listeners"] == "PLAINTEXT://:9092,EXTERNAL://:9094"
    assert props["advertised.listeners"] == f"PLAINTEXT://{BROKER}:9092,EXTERNAL://localhost:9094"
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["zookeeper.connect"] == "zookeeper:2181"
    assert props["broker.id"] == "1"


def test_service_runs_as_kafka_and_is_enabled(host):
    assert host.service("kafka").is_enabled and host.service("kafka").is_running
    assert host.check_output("systemctl show -P User kafka") == "kafka"
    assert int(host.check_output("systemctl show -P LimitNOFILE kafka")) >= 100000


def test_ports(host):
    assert host.socket("tcp://0.0.0.0:9092").is_listening
    assert host.socket("tcp://0.0.0.0:9094").is_listening
    socket.create_connection(("127.0.0.1", 9094), timeout=5).close()  # published on the Molecule host


def test_meta_properties_in_every_log_dir(host):
    meta = host.file("/var/lib/kafka/data/meta.properties")
    assert meta.exists and meta.user == "kafka"
    zk = KazooClient(hosts=f"127.0.0.1:{ZK_PORT}")
    zk.start(timeout=30)
    try:
        cluster = json.loads(zk.get("/cluster/id")[0])["id"]
    finally:
        zk.stop()
    assert f"cluster.id={cluster}" in meta.content_string


def test_zookeeper_registration_equals_advertised_listeners(host):
    zk = KazooClient(hosts=f"127.0.0.1:{ZK_PORT}")
    zk.start(timeout=30)
    try:
        data, stat = zk.get("/brokers/ids/1")
    finally:
        zk.stop()
    registration = json.loads(data)
    assert stat.ephemeralOwner != 0
    assert registration["version"] == 5
    assert registration["endpoints"] == properties(host)["advertised.listeners"].split(",")
    assert registration["listener_security_protocol_map"] == {"PLAINTEXT": "PLAINTEXT", "EXTERNAL": "PLAINTEXT"}
    assert (registration["host"], registration["port"]) == (BROKER, 9092)


def test_external_to_internal(in_client):
    external_to_internal(in_client, EXTERNAL, INTERNAL, "ext-to-int")


def test_internal_to_external(in_client):
    internal_to_external(in_client, EXTERNAL, INTERNAL, "int-to-ext")


def test_bad_listeners_fail_in_preflight_and_leave_the_broker_untouched(host):
    before = (hashlib.sha256(host.file("/etc/kafka/server.properties").content).hexdigest(),
              host.check_output("systemctl show -P ActiveEnterTimestampMonotonic kafka"))
    bad = {"kafka_listeners": [{"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT"},
                               {"name": "EXTERNAL", "port": 9092, "protocol": "PLAINTEXT",
                                "advertised_host": "localhost"}]}
    result = playbook("site.yml", "-e", json.dumps(bad), timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("host local-kafka: kafka_listeners: Kafka would refuse to start: requirement failed: Each listener must "
            "have a different port, listeners: PLAINTEXT://:9092,EXTERNAL://:9092") in out
    assert "Fix: give every listener its own port." in out
    after = (hashlib.sha256(host.file("/etc/kafka/server.properties").content).hexdigest(),
             host.check_output("systemctl show -P ActiveEnterTimestampMonotonic kafka"))
    assert after == before
