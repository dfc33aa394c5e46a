"""The ZooKeeper to KRaft migration on real Kafka (playbooks/zookeeper_to_kraft.yml), then the upgrade to 4.4.0.

A ZooKeeper-mode Kafka 3.9.2 cluster with a declared topic, records, an idle consumer group's offsets, a SCRAM
user and ACLs goes through phases 1-3 and back to ZooKeeper mode (playbooks/zookeeper_to_kraft_rollback.yml),
then through the four phases, while an acks=all producer and a live consumer group run throughout; the
rollback and each phase of the second pass run twice (the second run must change nothing) and what must
survive is compared after each. After phase 4 ZooKeeper is decommissioned (refused before); then a phase and the
rollback are refused as finalized, and the cluster is upgraded to 4.4.0 with playbooks/upgrade.yml (its second
pass raises metadata.version).
Every check talks to 127.0.0.1 or the scenario's own containers."""

import json
import os
import re
import time
import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

import kafka_client
from testlib import TOOL_ENV, LiveLoad, host_var, in_container, playbook, recap, record_figures

BROKERS = ["mg-b1", "mg-b2", "mg-b3"]
CONTROLLERS = ["mg-c1", "mg-c2", "mg-c3"]
BOOTSTRAP = "localhost:29291,localhost:29292,localhost:29293"
PHASES = ["controllers", "migrate", "kraft_brokers", "finalize"]
RUN = uuid.uuid4().hex[:6]
TOPIC, IDLE, LIVE, BEFORE = f"migration-load-{RUN}", f"idle-{RUN}", f"live-{RUN}", 200
# One record each 200 ms, at most 120,000 (400 min): the load outlasts the whole run, and every restart of a broker
# or controller meets records in flight (5 a second, acks=all). It was one each 50 ms until December 2026; a
# quarter of that traffic proves the same and costs the brokers and the test's client a quarter of the CPU.
LOAD_PAUSE, LOAD_MAX = 0.2, 120000


def app():
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "app",
            "sasl_plain_password": host_var("mg-b1", "kafka_scram_users")["app"]}


def migrate(phase, *extra, timeout=1800):
    return playbook("molecule/migration/migrate.yml", "-e", f"zookeeper_to_kraft_phase={phase}", *extra,
                    timeout=timeout)


def rollback(*extra, timeout=1800):
    return playbook("molecule/migration/rollback.yml", *extra, timeout=timeout)


def decommission(*extra, timeout=900):
    """ZooKeeper retired: playbooks/zookeeper.yml with zookeeper_state: decommissioned."""
    return playbook("molecule/migration/zookeeper.yml", "-e", "zookeeper_state=decommissioned", *extra,
                    timeout=timeout)


def confirm(phase):
    return ("-e", "zookeeper_to_kraft_confirm_finalize=true") if phase == "finalize" else ()


def tool(*argv):
    code, out, err = in_container("mg-b1", list(argv), environment=TOOL_ENV)
    assert code == 0, err[-2000:]
    return out


def properties(name, path="/etc/kafka/server.properties"):
    code, out, _ = in_container(name, ["cat", path])
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and not line.startswith("#"))


def snapshot():
    """What must survive every phase: the declared topic and the load's topic with their partitions, the idle
    group's offsets, the SCRAM users, the ACL bindings and the cluster id of every broker's meta.properties."""
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, **app())
    try:
        topics = {item.get("name") or item["topic"]: len(item["partitions"])
                  for item in admin.describe_topics(["events", TOPIC])}
        offsets = {f"{tp.topic}-{tp.partition}": meta.offset
                   for tp, meta in admin.list_group_offsets(IDLE)[IDLE].items()}
    finally:
        admin.close()
    users = sorted(re.findall(r"user-principal '([^']+)' are (SCRAM-SHA-512)", tool(
        "/opt/kafka/bin/kafka-configs.sh", "--bootstrap-server", "mg-b1:9092", "--describe", "--entity-type", "users")))
    acls = sorted(line.strip() for line in tool("/opt/kafka/bin/kafka-acls.sh", "--bootstrap-server", "mg-b1:9092",
                                                "--list").splitlines() if "principal=" in line)
    cluster_ids = {properties(name, "/var/lib/kafka/data/meta.properties")["cluster.id"] for name in BROKERS}
    return {"topics": topics, "offsets": offsets, "users": users, "acls": acls, "cluster_ids": sorted(cluster_ids)}


def features(*argv):
    return tool("/opt/kafka/bin/kafka-features.sh", "--bootstrap-controller", "mg-c1:9093", *argv)


def metadata_version():
    """The cluster's finalized metadata.version, as kafka-features.sh describe names it."""
    return re.search(r"Feature: metadata\.version\s.*FinalizedVersionLevel: (\S+)", features("describe")).group(1)


def znode(path="/migration"):
    """A znode's JSON data ({} when absent), read with Kafka 3.9's zookeeper-shell.sh on a broker."""
    code, out, _ = in_container("mg-b1", ["bash", "-c", f"/opt/kafka/bin/zookeeper-shell.sh mg-zk:2181 get {path} "
                                          "2>/dev/null | grep '^{' || true"], environment=TOOL_ENV)
    return json.loads(out.strip().splitlines()[-1]) if code == 0 and out.strip() else {}


def zookeeper_mode():
    """What the rollback must leave: the brokers' configuration, the controllers' service and log dirs, and
    who holds ZooKeeper's /controller."""
    controllers = {}
    for name in CONTROLLERS:
        active = in_container(name, ["systemctl", "is-active", "kafka"])[1].strip()
        enabled = in_container(name, ["systemctl", "is-enabled", "kafka"])[1].strip()
        kept = in_container(name, ["bash", "-c", "ls -d /var/lib/kafka/data.rolled-back-*/meta.properties "
                                                 "/var/lib/kafka/data/meta.properties 2>/dev/null || true"])[1]
        controllers[name] = {"active": active, "enabled": enabled, "files": kept.split()}
    return {"brokers": {name: properties(name) for name in BROKERS}, "controllers": controllers,
            "controller_znode": znode("/controller"), "migration_znode": znode("/migration")}


def zookeeper_server():
    """The ZooKeeper host's service and what its data dir holds (myid, version-2/ snapshots and logs)."""
    active = in_container("mg-zk", ["systemctl", "is-active", "zookeeper"])[1].strip()
    enabled = in_container("mg-zk", ["systemctl", "is-enabled", "zookeeper"])[1].strip()
    files = in_container("mg-zk", ["bash", "-c", "cd /var/lib/zookeeper/data && ls myid version-2/*"])[1].split()
    return {"active": active, "enabled": enabled, "files": sorted(files)}


@pytest.fixture(scope="module")
def migration():
    """The four phases under load, each run twice, then the upgrade to Kafka 4.4.0; once for the module."""
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, **app())
    try:
        admin.create_topics([NewTopic(TOPIC, 3, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        admin.close()
    before_values = kafka_client.produce_many(BOOTSTRAP, TOPIC, BEFORE, "before", **app())
    assert len(before_values) == BEFORE
    assert len(kafka_client.read_all(BOOTSTRAP, TOPIC, IDLE, 120, **app())) == 120
    result = {"before": snapshot(), "snapshots": {}, "seconds": {}, "reruns": {}, "refused": {}, "znode": {}}
    result["refused"]["migrate before controllers"] = migrate("migrate")
    result["zookeeper_before"] = zookeeper_server()

    load = LiveLoad(BOOTSTRAP, TOPIC, LIVE, LOAD_MAX, pause=LOAD_PAUSE, **app())
    load.start()
    started = time.monotonic()
    try:
        # First pass: phases 1-3, then back to ZooKeeper mode from phase 3 (brokers in KRaft mode).
        for phase in PHASES[:3]:
            begun = time.monotonic()
            first = migrate(phase)
            assert first.returncode == 0, phase + ":\n" + first.stdout[-6000:] + first.stderr[-2000:]
            result["seconds"]["first " + phase] = round(time.monotonic() - begun)
            load.mark("first " + phase)
        result["znode"]["first kraft_brokers"] = znode()
        begun = time.monotonic()
        back = rollback()
        assert back.returncode == 0, "rollback:\n" + back.stdout[-6000:] + back.stderr[-2000:]
        result["seconds"]["rollback"] = round(time.monotonic() - begun)
        load.mark("rollback")
        result["rollback_output"] = back.stdout
        result["snapshots"]["rollback"] = snapshot()
        result["zookeeper_mode"] = zookeeper_mode()
        again = rollback()
        assert again.returncode == 0, "rollback again:\n" + again.stdout[-6000:] + again.stderr[-2000:]
        result["reruns"]["rollback"] = recap(again.stdout)
        # Second pass: the four phases, each run twice.
        for phase in PHASES:
            begun = time.monotonic()
            first = migrate(phase, *confirm(phase))
            assert first.returncode == 0, phase + ":\n" + first.stdout[-6000:] + first.stderr[-2000:]
            result["seconds"][phase] = round(time.monotonic() - begun)
            load.mark(phase)
            result["snapshots"][phase] = snapshot()
            result["znode"][phase] = znode()
            again = migrate(phase, *confirm(phase))
            assert again.returncode == 0, phase + " again:\n" + again.stdout[-6000:] + again.stderr[-2000:]
            result["reruns"][phase] = recap(again.stdout)
            if phase == "kraft_brokers":
                result["refused"]["migrate after kraft_brokers"] = migrate("migrate")
                result["refused"]["finalize unconfirmed"] = migrate("finalize")
                result["refused"]["decommission before finalize"] = decommission()
                # The inventory switched to KRaft too early: the controllers still migrate, with ZooKeeper sessions.
                result["refused"]["decommission while controllers migrate"] = decommission(
                    "-e", "kafka_metadata_mode=kraft")
        # ZooKeeper retired, as the README's guide says after phase 4; a second run changes nothing.
        begun = time.monotonic()
        retired = decommission("-e", "kafka_metadata_mode=kraft")
        assert retired.returncode == 0, "decommission:\n" + retired.stdout[-6000:] + retired.stderr[-2000:]
        result["seconds"]["decommission zookeeper"] = round(time.monotonic() - begun)
        load.mark("decommission zookeeper")
        result["decommission_output"] = retired.stdout
        result["zookeeper"] = {"before": result.pop("zookeeper_before"), "decommissioned": zookeeper_server()}
        result["snapshots"]["decommission"] = snapshot()
        again = decommission("-e", "kafka_metadata_mode=kraft")
        assert again.returncode == 0, "decommission again:\n" + again.stdout[-6000:] + again.stderr[-2000:]
        result["reruns"]["decommission"] = recap(again.stdout)
        # ZooKeeper gone, the inventory in KRaft mode (the README's guide): the nodes alone show the migration
        # finalized, so no phase and no rollback may run, and the refusal says so instead of ZooKeeper's silence.
        result["refused"]["controllers after finalize"] = migrate("controllers", "-e", "kafka_metadata_mode=kraft")
        result["refused"]["rollback after finalize"] = rollback("-e", "kafka_metadata_mode=kraft")
        begun = time.monotonic()
        result["metadata_version"] = {"before": metadata_version()}
        upgrade = playbook("molecule/migration/upgrade.yml", "-e", "kafka_metadata_mode=kraft", "-e",
                           "kafka_version=4.4.0", "-e", "zookeeper_state=decommissioned", timeout=2400)
        assert upgrade.returncode == 0, upgrade.stdout[-6000:] + upgrade.stderr[-2000:]
        result["upgrade_output"] = upgrade.stdout
        result["metadata_version"]["after"] = metadata_version()
        result["seconds"]["upgrade to 4.4.0"] = round(time.monotonic() - begun)
        load.mark("upgrade to 4.4.0")
        result["snapshots"]["upgrade"] = snapshot()
        result["zookeeper"]["upgraded"] = zookeeper_server()
        time.sleep(5)  # traffic on the upgraded cluster too
    finally:
        load.stop()
    result["seconds"]["total"] = round(time.monotonic() - started)
    result["load"] = load
    result["before_values"] = before_values
    record_figures("migration", dict(load.figures(), phase_seconds=result["seconds"],
                                     records_before=BEFORE))
    return result


@pytest.mark.parametrize("case, words", [
    ("migrate before controllers", "migrate needs phase controllers (1) complete, but the cluster is at: not started"),
    ("migrate after kraft_brokers", "migrate would undo a later phase"),
    ("finalize unconfirmed", "finalize is the point of no return"),
    ("controllers after finalize", "the migration is finalized"),
    ("rollback after finalize", "the migration was finalized (phase 4): the point of no return"),
    ("decommission before finalize", "of the ZooKeeper group is decommissioned (zookeeper_state: decommissioned): "
                                     "it could not start"),
    ("decommission while controllers migrate", "client session(s)"),
])
def test_a_phase_out_of_order_is_refused_before_any_host_changes(migration, case, words):
    refused = migration["refused"][case]
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0 and words in output, output[-3000:]
    assert "no host was changed" in output and set(recap(refused.stdout).values()) == {0}


@pytest.mark.parametrize("phase", PHASES + ["rollback", "decommission"])
def test_a_second_run_of_each_phase_changes_nothing(migration, phase):
    assert migration["reruns"][phase] and set(migration["reruns"][phase].values()) == {0}, migration["reruns"][phase]


@pytest.mark.parametrize("step", ["rollback"] + PHASES + ["decommission", "upgrade"])
def test_topics_offsets_users_acls_and_cluster_id_kept(migration, step):
    before, after = migration["before"], migration["snapshots"][step]
    assert after["topics"] == before["topics"]
    assert after["offsets"] == before["offsets"] and sum(before["offsets"].values()) == 120
    assert after["users"] == before["users"] == [("app", "SCRAM-SHA-512")]
    assert after["acls"] == before["acls"] and len(before["acls"]) >= 2
    assert after["cluster_ids"] == before["cluster_ids"] and len(before["cluster_ids"]) == 1


def test_no_acknowledged_record_lost_and_the_live_group_read_everything(migration):
    load = migration["load"]
    assert not load.failed and len(load.acked) > 1000
    assert len(load.acked) < LOAD_MAX, "the producer's bound ran out: part of the run had no load"
    assert set(load.acked) <= set(load.read), load.diagnosis()
    fresh = kafka_client.read_all(BOOTSTRAP, TOPIC, f"fresh-{RUN}", BEFORE + len(load.acked), **app())
    assert sorted(fresh) == sorted(migration["before_values"] + load.acked)


def test_the_rollback_from_phase_3_left_a_zookeeper_mode_cluster(migration):
    """Kafka's documented rollback: brokers back through migration mode to ZooKeeper mode with their broker.id and
    AclAuthorizer, the controllers stopped with their metadata kept aside, /controller a broker's, /migration gone."""
    assert migration["znode"]["first kraft_brokers"]["kraft_metadata_offset"] >= 0  # it was migrated
    output = migration["rollback_output"]
    assert "roll the brokers in KRaft mode (mg-b1, mg-b2, mg-b3) back to migration mode" in output
    state = migration["zookeeper_mode"]
    for name, props in state["brokers"].items():
        assert props["broker.id"] == str(host_var(name, "kafka_broker_id")) and props["zookeeper.connect"]
        assert not {"process.roles", "node.id", "controller.quorum.voters", "controller.listener.names",
                    "zookeeper.metadata.migration.enable"} & set(props), props
        assert props["authorizer.class.name"] == "kafka.security.authorizer.AclAuthorizer"
    for name, controller in state["controllers"].items():
        assert controller["active"] != "active" and controller["enabled"] == "disabled", (name, controller)
        assert len(controller["files"]) == 1 and "/var/lib/kafka/data.rolled-back-" in controller["files"][0]
    assert state["controller_znode"]["brokerid"] in (1, 2, 3), state["controller_znode"]
    assert state["controller_znode"].get("kraftControllerEpoch", -1) == -1 and state["migration_znode"] == {}


def test_the_controllers_copied_the_metadata_and_wrote_to_both(migration):
    assert migration["znode"]["controllers"].get("kraft_metadata_offset", -1) == -1
    copied = migration["znode"]["migrate"]
    assert copied["kraft_metadata_offset"] >= 0 and copied["kraft_controller_id"] in (101, 102, 103)
    # Dual-write: the controllers kept writing to ZooKeeper while the brokers moved to KRaft.
    assert migration["znode"]["kraft_brokers"]["kraft_metadata_offset"] >= copied["kraft_metadata_offset"]


def test_the_cluster_ends_in_kraft_mode_on_kafka_4_without_zookeeper(migration):
    for name in BROKERS:
        props = properties(name)
        assert props["process.roles"] == "broker" and props["node.id"] == str(host_var(name, "kafka_broker_id"))
        assert "zookeeper.connect" not in props and "broker.id" not in props
        assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    for name in CONTROLLERS:
        props = properties(name)
        assert props["process.roles"] == "controller"
        assert "zookeeper.connect" not in props and "zookeeper.metadata.migration.enable" not in props
        assert props["controller.quorum.voters"] == "101@mg-c1:9093,102@mg-c2:9093,103@mg-c3:9093"
    for name in BROKERS + CONTROLLERS:
        assert in_container(name, ["readlink", "-f", "/opt/kafka"])[1].strip() == "/opt/kafka_2.13-4.4.0"
    status = tool("/opt/kafka/bin/kafka-metadata-quorum.sh", "--bootstrap-controller", "mg-c1:9093", "describe",
                  "--status")
    voters = json.loads(re.search(r"CurrentVoters:\s+(\[.*\])", status).group(1))
    assert sorted(voter["id"] for voter in voters) == [101, 102, 103]


def test_the_upgrade_raised_metadata_version_once_every_node_ran_kafka_4(migration):
    """playbooks/upgrade.yml: its first pass rolls the binaries and leaves metadata.version (the migration's 3.9-IV0),
    its second raises it to the newest level Kafka 4.4.0 supports (version-mapping of the release's own tool)."""
    levels = migration["metadata_version"]
    newest = re.search(r"^metadata\.version=\d+ \((\S+)\)$", features("version-mapping"), re.M).group(1)
    assert levels["before"] == "3.9-IV0" and levels["after"] == newest, (levels, newest)
    output = migration["upgrade_output"]
    assert "metadata.version stays where it is: " in output and "run no Kafka 4.4.0 yet; the next run raises" in output
    assert f"metadata.version 3.9-IV0 → {newest}, the newest level Kafka 4.4.0 supports" in output


def test_zookeeper_decommissioned_after_finalize_is_stopped_with_its_data_kept(migration):
    """After phase 4 the zookeeper role retires the ensemble: stopped and disabled, its data dir as it was; the
    upgrade's site run leaves it so. Kafka kept serving meanwhile (the snapshot and record tests above)."""
    states = migration["zookeeper"]
    assert states["before"]["active"] == "active" and "myid" in states["before"]["files"]
    for step in ("decommissioned", "upgraded"):
        assert states[step]["active"] != "active" and states[step]["enabled"] == "disabled", (step, states[step])
        assert states[step]["files"] == states["decommissioned"]["files"], step
    assert [name for name in states["decommissioned"]["files"] if name.startswith("version-2/snapshot.")]
    assert "ZooKeeper on mg-zk is decommissioned" in migration["decommission_output"]
