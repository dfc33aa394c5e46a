"""Container mode (inventories/local-containers): the seed's promises, kept by containers the roles made;
then the same stack on Kafka 4.x in KRaft mode (inventories/local-kraft-containers, the apache/kafka image).

Only upstream contracts are used: each image flavour's environment variables, Docker's container state,
ZooKeeper's wire protocol, Kafka's registration and protocol, kafka-ui's REST API. So the same tests
pass against the real images (ARTIFACTS=upstream) and the test bed's stand-in images (their entrypoints
reproduced, real Apache Kafka inside).
"""

import json
import os
import urllib.request
import uuid

import docker
import jinja2
import pytest
import yaml
from kazoo.client import KazooClient

import kafka_client
from testlib import (LOOPBACK, TOOL_ENV, client_container, external_to_internal, four_letter, in_container,
                     internal_to_external, playbook, recap, wait_for)

SCENARIO = "molecule/containers/converge.yml"
NETWORK = "kafka-stack-local"
ZOOKEEPER, KAFKA, KAFKA_UI = "zookeeper", "kafka", "kafka-ui"
EXTERNAL, INTERNAL = "localhost:9094", "kafka:9092"
CLIENT = "ksa-containers-client"
PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]


def engine():
    return docker.from_env()


def container(name):
    return engine().containers.get(name)


def env_of(name):
    return dict(item.split("=", 1) for item in container(name).attrs["Config"]["Env"])


def ids():
    return {name: container(name).id for name in (ZOOKEEPER, KAFKA, KAFKA_UI)}


def expected_images():
    """The images the converge used: the test bed's stand-ins, or the role defaults (ARTIFACTS=upstream)."""
    source = os.environ.get("ARTIFACTS", "testbed")
    with open(os.path.join(PROJECT, f"testbed/vars/images-{source}.yml")) as handle:
        chosen = yaml.safe_load(handle) or {}
    images = {}
    for role, var, flavor in (("zookeeper", "zookeeper_container_images", "official"),
                              ("kafka", "kafka_container_images", "bitnami"),
                              ("kafka_ui", "kafka_ui_container_images", "kafbat")):
        with open(os.path.join(PROJECT, f"roles/{role}/defaults/main.yml")) as handle:
            defaults = yaml.safe_load(handle)
        # The stand-in image tags follow the role's release ({{ kafka_version }}), as Ansible renders them.
        images[role] = jinja2.Template(chosen.get(var, defaults[var])[flavor]).render(defaults)
    return {ZOOKEEPER: images["zookeeper"], KAFKA: images["kafka"], KAFKA_UI: images["kafka_ui"]}


def converge(*extra):
    result = playbook(SCENARIO, *extra, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


def zookeeper():
    client = KazooClient(hosts=f"{LOOPBACK}:2181")
    client.start(timeout=30)
    return client


def cluster_id():
    client = zookeeper()
    try:
        return json.loads(client.get("/cluster/id")[0])["id"]
    finally:
        client.stop()


def registered_endpoints():
    client = zookeeper()
    try:
        if not client.exists("/brokers/ids/1"):
            return None
        return json.loads(client.get("/brokers/ids/1")[0])["endpoints"]
    finally:
        client.stop()


def meta_properties():
    """meta.properties in the broker's log dir (log.dirs as the container's environment sets it)."""
    env = env_of(KAFKA)
    log_dir = env.get("KAFKA_CFG_LOG_DIRS") or env.get("KAFKA_LOG_DIRS")
    code, out, err = in_container(KAFKA, ["cat", f"{log_dir}/meta.properties"])
    assert code == 0, err
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and line[0] != "#")


def named_volumes(name):
    """The named volumes mounted in a container (anonymous ones, from the image's VOLUME lines, have
    64-hex names and are not the role's)."""
    return sorted(m["Name"] for m in container(name).attrs["Mounts"] if m["Type"] == "volume" and len(m["Name"]) != 64)


def clusters():
    with urllib.request.urlopen(f"http://{LOOPBACK}:8080/api/clusters", timeout=10) as response:
        return json.load(response)


def healthy(name):
    return container(name).attrs["State"].get("Health", {}).get("Status") == "healthy"


def published(name):
    """{container port: [host bindings]} of a container."""
    ports = container(name).attrs["NetworkSettings"]["Ports"] or {}
    return {port: [f"{b['HostIp']}:{b['HostPort']}" for b in bindings or []] for port, bindings in ports.items()}


@pytest.fixture(scope="module")
def in_client():
    """Another container on the stack's Docker network, with kafka-python (the seed's "other service")."""
    try:
        engine().containers.get(CLIENT).remove(force=True)
    except docker.errors.NotFound:
        pass
    engine().containers.run("kafka-stack-testbed/debian-systemd:bookworm", ["sleep", "infinity"], name=CLIENT,
                            network=NETWORK, detach=True, labels={"kafka-stack.test-client": "true"})
    try:
        yield client_container(CLIENT)
    finally:
        engine().containers.get(CLIENT).remove(force=True)


@pytest.fixture
def marker():
    """A persistent znode written before a restart or re-creation, to be found after it."""
    path, value = f"/ksa-survival/{uuid.uuid4().hex[:8]}", uuid.uuid4().hex.encode()
    client = zookeeper()
    try:
        client.create(path, value, makepath=True)
    finally:
        client.stop()
    return path, value


@pytest.fixture
def records():
    """Records acknowledged (acks=all) before a restart or re-creation; all must be read back after it."""
    topic = f"survival-{uuid.uuid4().hex[:8]}"
    values = kafka_client.produce_many(EXTERNAL, topic, 100, topic)
    assert len(values) == 100
    return topic, values


def read_back(records):
    topic, values = records
    return kafka_client.read_all(EXTERNAL, topic, f"check-{uuid.uuid4().hex[:6]}", len(values))


def marker_value(path):
    client = zookeeper()
    try:
        return client.get(path)[0] if client.exists(path) else None
    finally:
        client.stop()


def test_containers_run_the_pinned_images_healthy_with_a_restart_policy():
    for name, image in expected_images().items():
        attrs = container(name).attrs
        assert not image.endswith(":latest") and ":" in image.rsplit("/", 1)[-1]
        assert attrs["Config"]["Image"] == image
        assert attrs["State"]["Running"] and healthy(name), f"{name}: {attrs['State']}"
        assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert NETWORK in attrs["NetworkSettings"]["Networks"]


def test_ports_published_as_in_the_seed():
    assert published(ZOOKEEPER)["2181/tcp"] == ["127.0.0.1:2181"]
    kafka = published(KAFKA)
    assert kafka["9094/tcp"] == ["127.0.0.1:9094"]
    assert not kafka.get("9092/tcp"), "9092 is for the Docker network only"
    assert published(KAFKA_UI)["8080/tcp"] == ["127.0.0.1:8080"]


def test_zookeeper_answers_imok_on_2181():
    assert four_letter(2181, "ruok") == "imok"


def test_zookeeper_environment_in_the_official_convention():
    env = env_of(ZOOKEEPER)
    assert env["ZOO_MY_ID"] == "1"
    assert env["ZOO_SERVERS"] == "server.1=zookeeper:2888:3888;2181"
    assert {"ruok", "srvr"} <= set(env["ZOO_4LW_COMMANDS_WHITELIST"].split(","))
    assert env["ZOO_ADMINSERVER_ENABLED"] == "false"  # the image's default (true) would take 8080
    assert env["ZK_SERVER_HEAP"] == "256"


def test_kafka_environment_in_the_bitnami_convention():
    env = env_of(KAFKA)
    assert env["KAFKA_CFG_LISTENERS"] == "PLAINTEXT://:9092,EXTERNAL://:9094"
    assert env["KAFKA_CFG_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092,EXTERNAL://localhost:9094"
    assert env["KAFKA_CFG_LISTENER_SECURITY_PROTOCOL_MAP"] == "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"
    assert env["KAFKA_CFG_ZOOKEEPER_CONNECT"] == "zookeeper:2181"
    assert env["KAFKA_CFG_BROKER_ID"] == "1"
    assert env["KAFKA_HEAP_OPTS"] == "-Xms512m -Xmx512m"


def test_broker_registered_its_advertised_listeners():
    assert registered_endpoints() == ["PLAINTEXT://kafka:9092", "EXTERNAL://localhost:9094"]


def test_kafka_ui_environment_and_cluster_online():
    env = env_of(KAFKA_UI)
    assert env["KAFKA_CLUSTERS_0_NAME"] == "local"
    assert env["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == INTERNAL
    assert env["AUTH_TYPE"] == "DISABLED"
    cluster = wait_for(lambda: next((c for c in clusters() if c["status"] == "online"), None), 90,
                       what="kafka-ui to report cluster local online")
    assert cluster["name"] == "local" and cluster["brokerCount"] == 1


def test_produce_on_localhost_9094_consume_on_kafka_9092_from_the_network(in_client):
    external_to_internal(in_client, EXTERNAL, INTERNAL, "seed")


def test_produce_on_kafka_9092_consume_on_localhost_9094(in_client):
    internal_to_external(in_client, EXTERNAL, INTERNAL, "seed-back")


def test_a_rerun_recreates_nothing():
    before = ids()
    output = converge()
    assert ids() == before
    # Molecule's idempotence step is left out of this scenario: this re-run is it (every host changed=0)
    changed = recap(output)
    assert set(changed) == {"local-zookeeper", "local-kafka", "local-kafka-ui"} and set(changed.values()) == {0}, changed


def test_data_survives_docker_restart(marker, records):
    path, value = marker
    before_cluster, before_meta = cluster_id(), meta_properties()
    for name in (ZOOKEEPER, KAFKA):
        container(name).restart(timeout=60)
    wait_for(lambda: healthy(ZOOKEEPER) and healthy(KAFKA), 120, what="zookeeper and kafka healthy again")
    assert marker_value(path) == value
    assert cluster_id() == before_cluster
    assert meta_properties() == before_meta
    wait_for(registered_endpoints, 120, what="the broker to register again")
    assert read_back(records) == records[1]


def test_changed_heap_recreates_the_containers_and_keeps_the_volumes(marker, records):
    path, value = marker
    before_ids, before_cluster, before_meta = ids(), cluster_id(), meta_properties()
    mounts = {name: named_volumes(name) for name in (ZOOKEEPER, KAFKA)}
    anonymous = [m["Name"] for name in (ZOOKEEPER, KAFKA) for m in container(name).attrs["Mounts"]
                 if m["Type"] == "volume" and m["Name"] not in mounts[name]]
    try:
        converge("-e", json.dumps({"kafka_heap_opts": "-Xms384m -Xmx384m", "zookeeper_heap_mb": 200}))
        after = ids()
        assert after[ZOOKEEPER] != before_ids[ZOOKEEPER] and after[KAFKA] != before_ids[KAFKA]
        assert after[KAFKA_UI] == before_ids[KAFKA_UI]
        assert env_of(KAFKA)["KAFKA_HEAP_OPTS"] == "-Xms384m -Xmx384m"
        assert env_of(ZOOKEEPER)["ZK_SERVER_HEAP"] == "200"
        for name, volumes in mounts.items():
            assert named_volumes(name) == volumes
        # The image's anonymous volumes (e.g. the official ZooKeeper image's /logs) went with the old container.
        left = [volume for volume in anonymous if volume in {v.name for v in engine().volumes.list()}]
        assert not left, f"anonymous volumes left behind by re-creation: {left}"
        assert marker_value(path) == value
        assert cluster_id() == before_cluster
        assert meta_properties() == before_meta
        assert read_back(records) == records[1]
    finally:
        converge()
    assert env_of(KAFKA)["KAFKA_HEAP_OPTS"] == "-Xms512m -Xmx512m"
    assert read_back(records) == records[1]


def test_confluent_flavour_keeps_the_seed_promises(in_client):
    """cp-kafka's KAFKA_* convention, on a volume of its own (its layout and user differ from bitnami's)."""
    before_cluster = cluster_id()
    try:
        converge("-e", json.dumps({"kafka_container_flavor": "confluent", "kafka_container_volume_prefix": "kafka-cp"}))
        env = env_of(KAFKA)
        assert not [name for name in env if name.startswith("KAFKA_CFG_")]
        assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092,EXTERNAL://localhost:9094"
        assert env["KAFKA_ZOOKEEPER_CONNECT"] == "zookeeper:2181"
        assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
        assert named_volumes(KAFKA) == ["kafka-cp-data"]
        assert meta_properties()["cluster.id"] == before_cluster
        external_to_internal(in_client, EXTERNAL, INTERNAL, "cp")
    finally:
        converge()
    assert "KAFKA_CFG_BROKER_ID" in env_of(KAFKA)


def test_switching_flavour_on_the_same_volume_stops_before_the_container_changes():
    before = container(KAFKA).id
    result = playbook(SCENARIO, "-e", json.dumps({"kafka_container_flavor": "confluent"}), timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "host local-kafka: volume kafka-data holds data laid out for kafka bitnami, not kafka confluent" in out
    assert container(KAFKA).id == before and healthy(KAFKA)


def test_apache_image_is_refused_in_preflight_with_the_reason():
    before = ids()
    result = playbook(SCENARIO, "-e", json.dumps({"kafka_container_flavor": "apache"}), timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "host local-kafka: kafka_container_flavor: apache: the apache/kafka image runs KRaft only" in out
    assert "Set kafka_container_flavor to bitnami or confluent" in out
    assert ids() == before


# --- KRaft in containers (inventories/local-kraft-containers): run last, the ZooKeeper stack makes room ---
KRAFT_INVENTORY = "inventories/local-kraft-containers"
APACHE_DEFAULT_CLUSTER_ID = "5L6g3nShT-eMCtK--X86sw"  # what the apache/kafka image formats with without CLUSTER_ID


def kraft_converge(*extra):
    result = playbook(SCENARIO, *extra, inventory=KRAFT_INVENTORY, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


def quorum_status():
    """kafka-metadata-quorum.sh describe --status in the kafka container, as {field: value}."""
    code, out, err = in_container(KAFKA, ["/opt/kafka/bin/kafka-metadata-quorum.sh", "--bootstrap-server", INTERNAL,
                                          "describe", "--status"], environment=TOOL_ENV)
    assert code == 0, (out + err)[-2000:]
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


@pytest.fixture(scope="module")
def kraft_stack():
    """The ZooKeeper-mode stack's containers go (its volumes and the network stay, for the scenario's destroy);
    the KRaft inventory then runs the same names and ports: kafka (broker and controller) and kafka-ui."""
    for name in (KAFKA_UI, KAFKA, ZOOKEEPER):
        container(name).remove(force=True)
    return kraft_converge()


def test_kraft_container_in_the_apache_convention_with_the_cluster_id_of_its_volume(kraft_stack):
    env = env_of(KAFKA)
    assert container(KAFKA).attrs["Config"]["Image"].split(":")[-1] == "4.4.0"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller" and env["KAFKA_NODE_ID"] == "1"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_LISTENERS"] == "PLAINTEXT://:9092,EXTERNAL://:9094,CONTROLLER://:9093"
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env and not [name for name in env if name.startswith("KAFKA_CFG_")]
    # The cluster id the run made (never the image's default), the one the image formatted the volume with.
    assert env["CLUSTER_ID"] == meta_properties()["cluster.id"] != APACHE_DEFAULT_CLUSTER_ID
    assert named_volumes(KAFKA) == ["kafka-kraft-data"] and healthy(KAFKA)
    assert published(KAFKA)["9094/tcp"] == ["127.0.0.1:9094"] and not published(KAFKA).get("9093/tcp")
    status = quorum_status()
    assert status["ClusterId"].strip() == env["CLUSTER_ID"] and status["LeaderId"].strip() == "1"


def test_kraft_containers_keep_the_seed_promises(kraft_stack, in_client):
    external_to_internal(in_client, EXTERNAL, INTERNAL, "kraft")
    internal_to_external(in_client, EXTERNAL, INTERNAL, "kraft-back")
    cluster = wait_for(lambda: next((c for c in clusters() if c["status"] == "online"), None), 90,
                       what="kafka-ui to report the KRaft cluster online")
    assert cluster["name"] == "local" and cluster["brokerCount"] == 1


def test_kraft_rerun_changes_nothing_and_recreation_keeps_the_records(kraft_stack, records):
    before = {name: container(name).id for name in (KAFKA, KAFKA_UI)}
    output = kraft_converge()
    assert {name: container(name).id for name in (KAFKA, KAFKA_UI)} == before
    changed = recap(output)
    assert set(changed) == {"local-kafka", "local-kafka-ui"} and set(changed.values()) == {0}, changed
    cluster = meta_properties()["cluster.id"]
    try:
        kraft_converge("-e", json.dumps({"kafka_heap_opts": "-Xms384m -Xmx384m"}))
        assert container(KAFKA).id != before[KAFKA] and env_of(KAFKA)["KAFKA_HEAP_OPTS"] == "-Xms384m -Xmx384m"
        assert meta_properties()["cluster.id"] == env_of(KAFKA)["CLUSTER_ID"] == cluster
        assert read_back(records) == records[1]
    finally:
        kraft_converge()
    assert read_back(records) == records[1]
