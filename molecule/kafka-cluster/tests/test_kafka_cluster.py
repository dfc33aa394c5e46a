"""Three brokers: each registered with its own endpoints, serving both listeners for the whole cluster;
records replicated (RF 3, min.insync.replicas 2) and kept across a rolling restart and a stopped broker.
"""

import json
import threading
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.security import ACL, CREATOR_ALL_ACL, Id, Permissions

import kafka_client
from testlib import client_container, restart_order_after_change, runner, saved_before_change, wait_for

testinfra_hosts = ["kc-broker1"]  # cluster-wide tests: run once
BROKERS = {1: ("kc-broker1", 29094), 2: ("kc-broker2", 29095), 3: ("kc-broker3", 29096)}
BOOTSTRAP = ",".join(f"localhost:{port}" for _, port in BROKERS.values())


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
def test_each_broker_serves_external_and_the_next_serves_internal(broker_id, in_client):
    """Produced through one broker's EXTERNAL listener, read by a group through another broker's INTERNAL one."""
    _, external_port = BROKERS[broker_id]
    other = BROKERS[broker_id % len(BROKERS) + 1][0]
    topic, value = f"b{broker_id}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    kafka_client.produce(f"localhost:{external_port}", topic, value)
    code, output = in_client("consume", f"{other}:9092", topic, value, f"g-{topic}")
    assert code == 0, output


def test_records_produced_before_the_rolling_restart_are_all_there(in_client):
    """side_effect.yml produced them (acks=all) before the configuration change restarted every broker."""
    saved = saved_before_change("records-before-change.json")
    assert len(saved["values"]) == saved["count"] > 0
    code, output = in_client("read-all", "kc-broker2:9092", saved["topic"], f"after-{uuid.uuid4().hex[:6]}",
                             str(saved["count"]))
    assert code == 0, output
    assert json.loads(output.splitlines()[-1]) == saved["values"]


def under_replicated():
    """Kafka's own answer: kafka-topics.sh --under-replicated-partitions on the inter-broker listener."""
    result = runner().get_host("kc-broker1").run(
        "KAFKA_HEAP_OPTS=-Xmx256m /opt/kafka/bin/kafka-topics.sh --bootstrap-server kc-broker1:9092 --describe "
        "--under-replicated-partitions")
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def test_acks_all_producer_loses_nothing_while_a_broker_is_stopped():
    topic = f"rf3-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    try:
        admin.create_topics([NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True,
                             request_timeout_ms=15000, delivery_timeout_ms=120000, max_block_ms=60000)
    acked, failed, lock = [], [], threading.Lock()

    def send(n):
        value = f"{topic}-{n}"
        future = producer.send(topic, value.encode())
        future.add_callback(lambda _, v=value: acked.append(v))
        future.add_errback(lambda error, v=value: failed.append((v, repr(error))))

    def produce(numbers):
        for n in numbers:
            with lock:
                send(n)
            time.sleep(0.01)
        producer.flush(timeout=120)

    stopped = runner().get_host("kc-broker2")
    try:
        produce(range(0, 300))
        assert stopped.run("systemctl stop kafka").rc == 0
        produce(range(300, 600))
        during = [v for v in acked if int(v.rsplit("-", 1)[1]) >= 300]
        assert len(during) == 300, f"{len(during)} of 300 records acknowledged with broker 2 stopped; failed: {failed[:3]}"
    finally:
        assert stopped.run("systemctl start kafka").rc == 0
    produce(range(600, 900))
    producer.close()
    assert not failed, failed[:5]
    wait_for(lambda: under_replicated() == "", timeout=180, interval=5,
             what="no under-replicated partition after broker 2 is back")
    read = kafka_client.read_all(BOOTSTRAP, topic, f"{topic}-check", len(acked), timeout=120)
    assert sorted(read) == sorted(acked) and len(acked) == 900
    assert len(set(read)) == len(read), "duplicates despite the idempotent producer"


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
