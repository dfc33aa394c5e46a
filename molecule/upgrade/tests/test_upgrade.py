"""An in-place upgrade under load: playbooks/upgrade.yml takes the stack from the releases vars/versions.yml
starts from to the ones it upgrades to while an acks=all idempotent producer and a consumer group work.
No acknowledged record is lost or duplicated, offsets, topics, SCRAM users and the cluster id are kept,
every broker ends on the new release and protocol (pinned during the first roll, bumped in the second),
ZooKeeper and kafka-ui on theirs, and a second run changes nothing.
"""

import json
import os
import re
import time
import uuid

import pytest
import yaml
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kazoo.client import KazooClient

import kafka_client
from testlib import TOOL_ENV, LiveLoad, in_container, playbook, recap, record_figures, wait_for

testinfra_hosts = ["up-1"]  # cluster-wide tests: run once
HOSTS = ["up-1", "up-2", "up-3"]
BOOTSTRAP = "localhost:29191,localhost:29192,localhost:29193"
APP = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "app",
       "sasl_plain_password": "up-test-only-app-pw"}  # the scenario's test-only user
AUDIT = dict(APP, sasl_plain_username="audit", sasl_plain_password="up-test-only-audit-pw")
RUN = uuid.uuid4().hex[:6]  # names of this run's topic and groups: a re-run of the tests starts afresh
TOPIC, IDLE, LIVE, BEFORE = f"upgrade-load-{RUN}", f"idle-{RUN}", f"live-{RUN}", 200
# records; the producer sends one each 100 ms (ten a second, acks=all, in flight at every restart) while the upgrade
# runs, never more than this
LOAD_PAUSE, LOAD_MAX = 0.1, 30000
with open(os.path.join(os.path.dirname(__file__), "..", "vars", "versions.yml")) as _versions:
    VERSIONS = yaml.safe_load(_versions)
OLD, NEW = VERSIONS["upgrade_from"], VERSIONS["upgrade_to"]


def line(version):
    return ".".join(version.split(".")[:2])


def running_kafka_version(name):
    """The version of the broker jar the running kafka process has open."""
    # as the broker's own account: root in a container may not read another user's descriptors
    code, out, err = in_container(name, ["bash", "-c", "ls -l /proc/$(systemctl show -P MainPID kafka)/fd"],
                                  user="kafka")
    assert code == 0, err
    found = re.findall(r"/kafka_2\.13-(\d+\.\d+\.\d+)\.jar$", out, re.M)
    return sorted(set(found))


def zookeeper_srvr(name):
    code, out, err = in_container(name, ["python3", "-c", (
        "import socket; s = socket.create_connection(('127.0.0.1', 2181), 5); s.sendall(b'srvr'); "
        "print(b''.join(iter(lambda: s.recv(4096), b'')).decode())")])
    assert code == 0, err
    return dict(item.split(": ", 1) for item in out.splitlines() if ": " in item)


def scram_users():
    code, out, err = in_container("up-1", ["/opt/kafka/bin/kafka-configs.sh", "--bootstrap-server", "up-1:9092",
                                           "--describe", "--entity-type", "users"],
                                  environment=TOOL_ENV)
    assert code == 0, err[-2000:]
    return sorted(re.findall(r"user-principal '([^']+)' are (SCRAM-SHA-512)", out))


def snapshot():
    """What must survive the upgrade: topics and partition counts, the idle group's offsets, the cluster id
    (ZooKeeper's and every broker's meta.properties), the SCRAM users."""
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, **APP)
    try:
        topics = {item.get("name") or item["topic"]: len(item["partitions"]) for item in admin.describe_topics()}
        offsets = {f"{tp.topic}-{tp.partition}": meta.offset
                   for tp, meta in admin.list_group_offsets(IDLE)[IDLE].items()}
    finally:
        admin.close()
    zk = KazooClient(hosts="127.0.0.1:22481")
    zk.start(timeout=30)
    try:
        cluster_id = json.loads(zk.get("/cluster/id")[0])["id"]
    finally:
        zk.stop()
    meta = {}
    for name in HOSTS:
        code, out, _ = in_container(name, ["cat", "/var/lib/kafka/data/meta.properties"])
        lines = [item for item in out.splitlines() if "=" in item and not item.startswith("#")]
        meta[name] = dict(item.split("=", 1) for item in lines)["cluster.id"]
    return {"topics": topics, "offsets": offsets, "cluster_id": cluster_id, "meta": meta, "users": scram_users()}


def test_bumping_the_protocol_before_the_binaries_is_refused_before_any_host_changes():
    """Runs first (before the upgrade fixture): the new release with the protocol bumped at once."""
    links = {name: in_container(name, ["readlink", "/opt/kafka"])[1].strip() for name in HOSTS}
    bump = f"kafka_inter_broker_protocol_version={line(NEW['kafka_version'])}"
    refused = playbook("molecule/upgrade/upgrade.yml", "-e", bump)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    for name in HOSTS:
        assert (f"host {name}: kafka_inter_broker_protocol_version: {line(NEW['kafka_version'])} cannot be spoken yet: "
                f"this broker still runs Kafka {line(OLD['kafka_version'])} binaries.") in output, output[-3000:]
        assert running_kafka_version(name) == [OLD["kafka_version"]]
    assert {name: in_container(name, ["readlink", "/opt/kafka"])[1].strip() for name in HOSTS} == links
    assert "PLAY [Deploy ZooKeeper" not in output, "the run went past the pre-flight"


@pytest.fixture(scope="module")
def upgraded():
    """The upgrade under load, once for the module's tests."""
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, **APP)
    try:
        admin.create_topics([NewTopic(TOPIC, 3, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        admin.close()
    before_values = kafka_client.produce_many(BOOTSTRAP, TOPIC, BEFORE, "before", **APP)
    assert len(before_values) == BEFORE
    idle_read = kafka_client.read_all(BOOTSTRAP, TOPIC, IDLE, 120, **APP)
    assert len(idle_read) == 120
    before = snapshot()
    brokers_before = {name: running_kafka_version(name) for name in HOSTS}

    load = LiveLoad(BOOTSTRAP, TOPIC, LIVE, LOAD_MAX, pause=LOAD_PAUSE, **APP)
    load.start()
    started = time.monotonic()
    first = playbook("molecule/upgrade/upgrade.yml", timeout=2400)
    upgrade_seconds = time.monotonic() - started
    load.mark("upgrade")
    time.sleep(5)  # traffic on the upgraded cluster too
    load.stop()
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]

    started = time.monotonic()
    second = playbook("molecule/upgrade/upgrade.yml", timeout=1200)
    rerun_seconds = time.monotonic() - started
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-2000:]
    result = {"before": before, "after": snapshot(), "brokers_before": brokers_before, "load": load,
              "before_values": before_values, "first": first.stdout, "second": second.stdout,
              "upgrade_seconds": round(upgrade_seconds), "rerun_seconds": round(rerun_seconds)}
    record_figures("upgrade", dict(load.figures(), upgrade_seconds=result["upgrade_seconds"],
                                   rerun_seconds=result["rerun_seconds"], records_before=BEFORE))
    return result


def test_the_cluster_started_on_the_old_releases(upgraded):
    assert upgraded["brokers_before"] == {name: [OLD["kafka_version"]] for name in HOSTS}


def test_no_acknowledged_record_lost_or_duplicated(upgraded):
    load = upgraded["load"]
    assert not load.failed, load.failed[:5]
    assert len(load.acked) > 100, f"only {len(load.acked)} records acknowledged during the upgrade"
    expected = upgraded["before_values"] + load.acked
    read = kafka_client.read_all(BOOTSTRAP, TOPIC, f"check-{uuid.uuid4().hex[:6]}", len(expected), timeout=180, **APP)
    assert sorted(read) == sorted(expected), (len(read), len(expected), sorted(set(expected) - set(read))[:5])
    assert len(set(read)) == len(read), "a record was written twice despite the idempotent producer"


def test_the_live_consumer_group_read_everything_and_kept_its_position(upgraded):
    load = upgraded["load"]
    assert set(load.acked) | set(upgraded["before_values"]) == set(load.read), load.diagnosis()
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, **APP)
    try:
        committed = sum(meta.offset for meta in admin.list_group_offsets(LIVE)[LIVE].values())
    finally:
        admin.close()
    assert committed == BEFORE + len(load.acked)


def test_offsets_topics_users_and_cluster_id_kept(upgraded):
    before, after = upgraded["before"], upgraded["after"]
    assert before["offsets"] and after["offsets"] == before["offsets"]
    assert sum(before["offsets"].values()) == 120
    for topic, partitions in before["topics"].items():
        assert after["topics"].get(topic) == partitions, topic
    assert after["cluster_id"] == before["cluster_id"]
    assert set(after["meta"].values()) == {before["cluster_id"]}
    assert after["users"] == before["users"] == [("app", "SCRAM-SHA-512"), ("audit", "SCRAM-SHA-512")]
    kafka_client.produce(BOOTSTRAP, f"audit-{uuid.uuid4().hex[:6]}", "still logs in", **AUDIT)


@pytest.mark.parametrize("name", HOSTS)
def test_every_broker_runs_the_new_release_and_protocol(upgraded, name):
    assert running_kafka_version(name) == [NEW["kafka_version"]]
    code, out, _ = in_container(name, ["cat", "/etc/kafka/server.properties"])
    assert f"inter.broker.protocol.version={line(NEW['kafka_version'])}\n" in out
    code, journal, _ = in_container(name, ["journalctl", "--unit", "kafka", "--no-pager", "--output", "cat"])
    spoken = re.findall(r"inter\.broker\.protocol\.version = (\S+)", journal)  # the last start's KafkaConfig
    assert spoken and spoken[-1] == line(NEW["kafka_version"]), spoken[-3:]


def broker_starts(name):
    """Each start of the broker in its journal: (the protocol line it spoke, the release it ran), from its
    KafkaConfig dump and AppInfoParser's version line."""
    code, journal, err = in_container(name, ["journalctl", "--unit", "kafka", "--no-pager", "--output", "cat"])
    assert code == 0, err
    starts = []
    for block in journal.split("KafkaConfig values:")[1:]:
        protocol = re.search(r"inter\.broker\.protocol\.version = (\d+\.\d+)", block)
        version = re.search(r"Kafka version: (\S+)", block)
        if protocol and version:
            starts.append((protocol.group(1), version.group(1)))
    return starts


@pytest.mark.parametrize("name", HOSTS)
def test_the_protocol_was_pinned_during_the_first_roll_and_bumped_in_the_second(upgraded, name):
    """The broker started on the new binaries still speaking the old protocol, then again speaking the new."""
    old, new = line(OLD["kafka_version"]), line(NEW["kafka_version"])
    assert f"inter.broker.protocol.version pinned to {old}" in upgraded["first"]
    starts = broker_starts(name)
    assert starts[0] == (old, OLD["kafka_version"]), starts
    assert starts[-2:] == [(old, NEW["kafka_version"]), (new, NEW["kafka_version"])], starts


def test_zookeeper_members_run_the_new_release_with_one_leader(upgraded):
    members = {name: zookeeper_srvr(name) for name in HOSTS}
    for name, srvr in members.items():
        assert srvr["Zookeeper version"].startswith(NEW["zookeeper_version"] + "-"), (name, srvr)
    assert sorted(srvr["Mode"] for srvr in members.values()) == ["follower", "follower", "leader"]


def test_kafka_ui_runs_the_new_release_with_its_java(upgraded):
    code, unit, _ = in_container("up-ui", ["systemctl", "show", "--property", "ExecStart", "kafka-ui"])
    assert f"v{NEW['kafka_ui_version']}" in unit and "java-21" in unit, unit
    code, out, err = in_container("up-ui", ["python3", "-c", (
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/api/clusters', timeout=10)"
        ".read().decode())")])
    assert code == 0, err
    assert [cluster["status"] for cluster in json.loads(out)] == ["online"]


def test_a_second_run_changes_nothing(upgraded):
    changed = recap(upgraded["second"])
    assert set(changed) >= set(HOSTS) | {"up-ui"}
    assert not {host: count for host, count in changed.items() if count}, changed


# ---- the declared cluster state (kafka_topics, kafka_acls, SCRAM users declared absent) ---------------------

def converge(tags, settings):
    """The scenario's converge with only ``tags`` and ``settings`` as extra vars; the completed process."""
    return playbook("molecule/upgrade/converge.yml", "--tags", tags, "-e", json.dumps(settings))


def topic_state(name):
    """(partitions, replication factor, dynamic configs) of topic ``name``, or None when it does not exist."""
    code, out, err = in_container("up-1", ["bash", "-c",
                                           "/opt/kafka/bin/kafka-topics.sh --bootstrap-server up-1:9092 --describe && "
                                           "/opt/kafka/bin/kafka-configs.sh --bootstrap-server up-1:9092 --describe "
                                           "--entity-type topics"], environment=TOOL_ENV)
    assert code == 0, err[-2000:]
    replicas = re.findall(rf"^\s+Topic: {re.escape(name)}\tPartition: \d+\tLeader: \S+\tReplicas: ([\d,]+)", out, re.M)
    if not replicas:
        return None
    block = re.search(rf"^Dynamic configs for topic {re.escape(name)} are:\n((?:  .*\n?)*)", out, re.M)
    configs = dict(re.findall(r"^  ([\w.]+)=(\S*) sensitive", block.group(1), re.M)) if block else {}
    return len(replicas), len(replicas[0].split(",")), configs


def test_the_declared_topic_and_acls_survived_the_upgrade(upgraded):
    assert topic_state("orders") == (3, 3, {"retention.ms": "86400000"})
    kafka_client.produce(BOOTSTRAP, f"audit-{RUN}", "allowed by its prefixed ACL", **AUDIT)
    with pytest.raises(Exception, match="TopicAuthorization"):
        kafka_client.produce(BOOTSTRAP, TOPIC, "not allowed", **AUDIT)


def test_kafka_ui_shows_the_declared_topic(upgraded):
    code, out, err = in_container("up-ui", ["python3", "-c", (
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/api/clusters/kafka/topics', "
        "timeout=10).read().decode())")])
    assert code == 0, err
    topics = {topic["name"]: topic for topic in json.loads(out)["topics"]}
    assert topics["orders"]["partitionCount"] == 3 and topics["orders"]["replicationFactor"] == 3


def test_declared_topics_are_created_grown_configured_and_deleted_only_when_absent(upgraded):
    name = f"declared-{RUN}"
    created = converge("kafka_declared", {"kafka_topics": [
        {"name": name, "partitions": 2, "replication_factor": 3, "configs": {"retention.ms": 3600000}}]})
    assert created.returncode == 0, created.stdout[-3000:]
    assert topic_state(name) == (2, 3, {"retention.ms": "3600000"})

    grown = converge("kafka_declared", {"kafka_topics": [
        {"name": name, "partitions": 4, "replication_factor": 3, "configs": {"retention.ms": 7200000}}]})
    assert grown.returncode == 0 and recap(grown.stdout)["up-1"] > 0, grown.stdout[-3000:]
    assert topic_state(name) == (4, 3, {"retention.ms": "7200000"})

    again = converge("kafka_declared", {"kafka_topics": [
        {"name": name, "partitions": 4, "replication_factor": 3, "configs": {"retention.ms": 7200000}}]})
    assert again.returncode == 0 and recap(again.stdout)["up-1"] == 0, again.stdout[-3000:]

    fewer = {"kafka_topics": [{"name": name, "partitions": 2, "replication_factor": 3}]}
    refused_at_run = converge("kafka_declared", fewer)  # the role's own reconcile step refuses it too
    assert refused_at_run.returncode != 0
    refused = playbook("molecule/upgrade/upgrade.yml", "-e", json.dumps(fewer))  # with the whole pre-flight
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"kafka_topics[0] ({name}): partitions 2 is fewer than the 4 the topic has" in output, output[-3000:]
    assert "PLAY [Deploy ZooKeeper" not in output, "the run went past the pre-flight"
    assert f"kafka_topics[0] ({name}): partitions 2 is fewer" in refused_at_run.stdout + refused_at_run.stderr
    assert topic_state(name) == (4, 3, {"retention.ms": "7200000"})

    deleted = converge("kafka_declared", {"kafka_topics": [{"name": name, "state": "absent"}]})
    assert deleted.returncode == 0, deleted.stdout[-3000:]
    wait_for(lambda: topic_state(name) is None, timeout=60, interval=3, what=f"topic {name} deleted")
    assert topic_state("orders") == (3, 3, {"retention.ms": "86400000"}), "a topic nobody declared absent changed"


def test_preflight_refuses_a_replication_factor_above_the_broker_count(upgraded):
    refused = converge("kafka_preflight,kafka_declared", {"kafka_topics": [
        {"name": f"wide-{RUN}", "partitions": 1, "replication_factor": 4}]})
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "replication_factor 4 of topic wide-" in output and "more than the 3 brokers" in output, output[-3000:]
    assert topic_state(f"wide-{RUN}") is None


def test_an_acl_declared_absent_is_removed_and_the_inventory_brings_it_back(upgraded):
    audit_acl = {"principal": "User:audit", "resource_type": "topic", "resource_name": "audit-",
                 "pattern_type": "prefixed", "operations": ["Create", "Write", "Describe"]}
    removed = converge("kafka_declared", {"kafka_acls": [dict(audit_acl, state="absent")]})
    assert removed.returncode == 0, removed.stdout[-3000:]
    with pytest.raises(Exception, match="TopicAuthorization"):
        kafka_client.produce(BOOTSTRAP, f"audit-{RUN}", "no longer allowed", **AUDIT)
    restored = converge("kafka_declared", {})
    assert restored.returncode == 0 and recap(restored.stdout)["up-1"] > 0, restored.stdout[-3000:]
    kafka_client.produce(BOOTSTRAP, f"audit-{RUN}", "allowed again", **AUDIT)


def test_scram_users_are_deleted_only_when_declared_absent(upgraded):
    users = {"app": APP["sasl_plain_password"], "audit": AUDIT["sasl_plain_password"]}
    temporary = {"sasl_plain_username": "temp", "sasl_plain_password": "up-test-only-temp-pw"}
    added = converge("kafka_scram", {"kafka_scram_users": dict(users, temp=temporary["sasl_plain_password"])})
    assert added.returncode == 0, added.stdout[-3000:]
    assert ("temp", "SCRAM-SHA-512") in scram_users()
    left_out = converge("kafka_scram", {"kafka_scram_users": {"app": users["app"]}})
    assert left_out.returncode == 0, left_out.stdout[-3000:]
    assert {("audit", "SCRAM-SHA-512"), ("temp", "SCRAM-SHA-512")} <= set(scram_users()), "a user left out was deleted"
    absent = converge("kafka_scram", {"kafka_scram_users": dict(users, temp={"state": "absent"})})
    assert absent.returncode == 0, absent.stdout[-3000:]
    assert scram_users() == [("app", "SCRAM-SHA-512"), ("audit", "SCRAM-SHA-512")]
