"""Three brokers: each registered with its own endpoints, serving both listeners for the whole cluster;
records replicated (RF 3, min.insync.replicas 2) and kept across a rolling restart and a stopped broker.
"""

import json
import re
import threading
import time
import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.security import ACL, CREATOR_ALL_ACL, Id, Permissions

import kafka_client
from testlib import (TOOL_ENV_SHELL, AckedProducer, client_container, playbook, record_figures,
                     restart_order_after_change, runner, saved_before_change, wait_for)

testinfra_hosts = ["kc-broker1"]  # cluster-wide tests: run once
BROKERS = {1: ("kc-broker1", 29094), 2: ("kc-broker2", 29095), 3: ("kc-broker3", 29096)}
BOOTSTRAP = ",".join(f"localhost:{port}" for _, port in BROKERS.values())
ZK = "127.0.0.1:22381"


@pytest.fixture(scope="module")
def registrations():
    zk = KazooClient(hosts=ZK)
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
        f"{TOOL_ENV_SHELL} /opt/kafka/bin/kafka-topics.sh --bootstrap-server kc-broker1:9092 --describe "
        "--under-replicated-partitions")
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def rf3_topic(prefix):
    topic = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    try:
        admin.create_topics([NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        admin.close()
    return topic


def assert_every_acknowledged_record_read_once(producer, expected, figure):
    assert not producer.failed, producer.failed[:5]
    assert len(producer.acked) == expected, f"{len(producer.acked)} of {expected} acknowledged"
    wait_for(lambda: under_replicated() == "", timeout=180, interval=5,
             what="no under-replicated partition once every broker is back")
    read = kafka_client.read_all(BOOTSTRAP, producer.topic, f"{producer.topic}-check", expected, timeout=120)
    assert sorted(read) == sorted(producer.acked)
    assert len(set(read)) == len(read), "duplicates despite the idempotent producer"
    record_figures("kafka-cluster", {figure: {"acknowledged": len(producer.acked), "read": len(read),
                                              "failed": len(producer.failed)}})


def test_acks_all_producer_loses_nothing_while_a_broker_is_stopped():
    producer = AckedProducer(BOOTSTRAP, rf3_topic("rf3"))
    stopped = runner().get_host("kc-broker2")
    try:
        producer.send(f"{producer.topic}-{n}" for n in range(0, 300))
        assert stopped.run("systemctl stop kafka").rc == 0
        producer.send(f"{producer.topic}-{n}" for n in range(300, 600))
        during = [v for v in producer.acked if int(v.rsplit("-", 1)[1]) >= 300]
        assert len(during) == 300, f"{len(during)} of 300 records acknowledged with broker 2 stopped"
    finally:
        assert stopped.run("systemctl start kafka").rc == 0
    producer.send(f"{producer.topic}-{n}" for n in range(600, 900))
    producer.close()
    assert_every_acknowledged_record_read_once(producer, 900, "stopped_broker_records")


def test_kill_9_of_a_broker_under_acks_all_load_loses_nothing():
    """SIGKILL (no clean shutdown, no leadership hand-over) while records flow; systemd starts it again
    (Restart=on-failure)."""
    producer = AckedProducer(BOOTSTRAP, rf3_topic("kill9"))
    killed = runner().get_host("kc-broker3")
    before = killed.check_output("systemctl show -P NRestarts kafka")
    sender = threading.Thread(target=producer.send, args=([f"{producer.topic}-{n}" for n in range(900)], 0.02))
    sender.start()
    time.sleep(6)  # about 300 records in
    assert killed.run("systemctl kill --signal=KILL kafka").rc == 0
    sender.join(timeout=300)
    producer.close()
    wait_for(lambda: killed.check_output("systemctl show -P NRestarts kafka") != before, timeout=60,
             what="systemd to start the killed broker again")
    # Its first start may stop again while ZooKeeper still holds the killed process's registration (until
    # that session expires); systemd starts it again. Back in every ISR is what counts.
    assert_every_acknowledged_record_read_once(producer, 900, "kill_9_records")
    assert killed.service("kafka").is_running


def controller_id():
    zk = KazooClient(hosts=ZK)
    zk.start(timeout=30)
    try:
        return json.loads(zk.get("/controller")[0])["brokerid"] if zk.exists("/controller") else None
    finally:
        zk.stop()


def test_losing_the_controllers_host_elects_another_and_traffic_goes_on():
    """The active controller's container is frozen (docker pause: the host stops answering, nothing is closed);
    its ZooKeeper session expires, another broker becomes controller, and acks=all records keep flowing."""
    import docker

    lost = controller_id()
    container = docker.from_env().containers.get(BROKERS[lost][0])
    producer = AckedProducer(",".join(f"localhost:{port}" for bid, (_, port) in BROKERS.items() if bid != lost),
                             rf3_topic("ctl"))
    producer.send(f"{producer.topic}-{n}" for n in range(0, 200))
    container.pause()
    try:
        elected = wait_for(lambda: controller_id() not in (None, lost) and controller_id(), timeout=90, interval=2,
                           what=f"a controller other than broker {lost}")
        assert elected != lost
        producer.send(f"{producer.topic}-{n}" for n in range(200, 500))
        during = [v for v in producer.acked if int(v.rsplit("-", 1)[1]) >= 200]
        assert len(during) == 300, f"{len(during)} of 300 acknowledged without broker {lost}; {producer.failed[:3]}"
    finally:
        container.unpause()
    producer.send(f"{producer.topic}-{n}" for n in range(500, 600))
    producer.close()
    assert_every_acknowledged_record_read_once(producer, 600, "controller_lost_records")


def started_at(name):
    return int(runner().get_host(name).check_output("systemctl show -P ActiveEnterTimestampMonotonic kafka"))


def test_rolling_restart_playbook_restarts_every_broker_with_the_gates_controller_last():
    """Nothing changed, yet playbooks/rolling_restart.yml restarts each broker once, the controller last, each
    gated on full replication before it goes down and on its ISRs after it is back."""
    controller = BROKERS[controller_id()][0]
    before = {name: started_at(name) for name, _ in BROKERS.values()}
    began = time.monotonic()
    result = playbook("playbooks/rolling_restart.yml", "-e", "rolling_restart_component=kafka")
    took = time.monotonic() - began
    assert result.returncode == 0, result.stdout[-4000:]
    after = {name: started_at(name) for name in before}
    assert all(after[name] > before[name] for name in before), (before, after)
    assert max(after, key=after.get) == controller
    for broker_id in BROKERS:
        assert f"Wait until broker {broker_id} is back in every ISR and nothing is under-replicated" in result.stdout
        assert f"Wait until every partition is fully replicated before broker {broker_id} goes down" in result.stdout
    record_figures("kafka-cluster", {"rolling_restart_3_brokers_seconds": round(took, 1)})
    assert under_replicated() == ""


def test_rolling_restart_stops_before_a_broker_when_replication_is_short():
    """Broker 3 is down, so its partitions lack a replica: the restart of brokers 1 and 2 must not start.
    The play fails within the gate's timeout naming the partitions, prints the journal and restarts nobody."""
    down = runner().get_host("kc-broker3")
    before = {name: started_at(name) for name in ("kc-broker1", "kc-broker2")}
    assert down.run("systemctl stop kafka").rc == 0
    try:
        wait_for(lambda: under_replicated() != "", timeout=60, interval=3, what="partitions short of broker 3")
        result = playbook("playbooks/rolling_restart.yml", "--limit", "kc-broker1,kc-broker2,kc-zk",
                          "-e", "rolling_restart_component=kafka", "-e", "kafka_restart_gate_timeout=20")
    finally:
        assert down.run("systemctl start kafka").rc == 0
    output = result.stdout + result.stderr  # ansible-core 2.19 prints a task's error on stderr
    assert result.returncode != 0, output[-3000:]
    assert "under-replicated or without a leader" in output, output[-3000:]
    assert re.search(r"under-replicated or without a leader: (\S+-\d+)", output), output[-3000:]
    assert "the rolling restart stopped here: the hosts after it were left untouched" in output
    assert "Last 60 lines of `journalctl -u kafka`" in output
    assert "systemd's last lines about kafka:" in output and "systemd[1]: " in output, output[-3000:]
    assert {name: started_at(name) for name in before} == before, "a broker was restarted despite the gate"
    wait_for(lambda: under_replicated() == "", timeout=180, interval=5, what="broker 3 back in every ISR")


def test_health_check_names_a_read_only_log_dir_instead_of_timing_out():
    """Broker 3's log dir becomes read-only (a bind mount remounted ro, as a failing disk does): the health
    check (converge --tags kafka_verify) fails at once with the directory and the reason."""
    node = runner().get_host("kc-broker3")
    data = "/var/lib/kafka/data"
    assert node.run(f"mount --bind {data} {data} && mount -o remount,bind,ro {data}").rc == 0
    try:
        began = time.monotonic()
        result = playbook("molecule/kafka-cluster/converge.yml", "--limit", "kc-broker3", "--tags", "kafka_verify")
        took = time.monotonic() - began
    finally:
        assert node.run(f"umount {data}").rc == 0
        node.run("systemctl reset-failed kafka; systemctl start kafka")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"{data}: read-only file system" in output, output[-3000:]
    assert took < 120, f"the health check took {took:.0f}s: it waited instead of naming the log dir"
    record_figures("kafka-cluster", {"read_only_log_dir_verdict_seconds": round(took, 1)})
    wait_for(lambda: under_replicated() == "", timeout=180, interval=5, what="broker 3 back in every ISR")


# ZooKeeper authentication: real ZooKeeper enforces it; the brokers log in as "kafka" (SASL DIGEST-MD5).
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
