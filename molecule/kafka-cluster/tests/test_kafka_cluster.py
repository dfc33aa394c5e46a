"""Three brokers: each registered with its own endpoints, each serving both of its listeners.

Traffic is checked per broker (bootstrap = that broker), which real Kafka and the stand-in both honour;
the stand-in's brokers do not replicate to each other (see testbed/README.md).
"""

import json
import uuid

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.security import ACL, CREATOR_ALL_ACL, Id, Permissions

import kafka_client
from testlib import client_container, restart_order_after_change, runner, saved_before_change

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


# ZooKeeper authentication: real ZooKeeper enforces it; the brokers log in as "kafka" (SASL DIGEST-MD5).
ZK = "127.0.0.1:22381"
OPS = {"mechanism": "DIGEST-MD5", "username": "ops", "password": "kc-test-only-ops-pw"}  # the scenario's test user


def zookeeper(sasl=None):
    client = KazooClient(hosts=ZK, sasl_options=sasl) if sasl else KazooClient(hosts=ZK)
    client.start(timeout=30)
    return client


def test_brokers_logged_in_to_zookeeper_and_own_their_znodes():
    client = zookeeper()
    try:
        for path in ["/brokers", "/brokers/ids"] + [f"/brokers/ids/{i}" for i in BROKERS]:
            acls = client.get_acls(path)[0]
            assert ACL(Permissions.ALL, Id("sasl", "kafka")) in acls, (path, acls)
            assert ACL(Permissions.READ, Id("world", "anyone")) in acls, (path, acls)
            assert len(acls) == 2, (path, acls)
    finally:
        client.stop()


def test_a_client_without_login_can_read_but_not_change_kafka_znodes():
    client = zookeeper()
    try:
        assert sorted(client.get_children("/brokers/ids")) == ["1", "2", "3"]
        with pytest.raises(NoAuthError):
            client.create("/brokers/ids/999", b"intruder", ephemeral=True)
        with pytest.raises(NoAuthError):
            client.set("/cluster/id", b"{}")
    finally:
        client.stop()


def test_login_with_the_right_password_works_and_a_wrong_one_is_refused():
    path = f"/ksa-auth-{uuid.uuid4().hex[:8]}"
    ops = zookeeper(OPS)
    try:
        ops.create(path, b"only ops", acl=CREATOR_ALL_ACL)
        assert ops.get(path)[0] == b"only ops"
        anonymous = zookeeper()
        try:
            with pytest.raises(NoAuthError):
                anonymous.get(path)
        finally:
            anonymous.stop()
        wrong = KazooClient(hosts=ZK, sasl_options=dict(OPS, password="not-the-password"))
        try:
            with pytest.raises(AuthFailedError):
                wrong.start(timeout=30)
                wrong.get(path)
        finally:
            wrong.stop()
    finally:
        ops.delete(path)
        ops.stop()


def test_jaas_files_hold_the_secrets_readable_by_the_services_only():
    for name, path, group in [("kc-zk", "/etc/zookeeper/jaas.conf", "zookeeper"),
                              ("kc-broker1", "/etc/kafka/jaas.conf", "kafka")]:
        jaas = runner().get_host(name).file(path)
        assert (jaas.user, jaas.group, jaas.mode) == ("root", group, 0o640), name
