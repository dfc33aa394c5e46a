"""inventories/prod's security settings, deployed unchanged on real Kafka and ZooKeeper: its applications'
SCRAM user produces on EXTERNAL and a consumer group reads on INTERNAL (SASL_SSL, the internal CA), with
Kafka's console tools too; wrong or missing credentials and clear text are refused; ZooKeeper holds the
cluster under the /kafka chroot, authenticated and protected; kafka-ui answers only after its login and
sees the cluster through its own SCRAM user. The secrets are prod's committed CI-only vault values.
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

from testlib import (broker_refused_login, client_container, host_var, kafka_tool_in, scram_client_properties,
                     wait_for)

testinfra_hosts = ["prod-kafka1"]
BROKER, CLIENT = "prod-kafka1", "prod-zk1"       # the broker; another container on the network
EXTERNAL, INTERNAL = f"{BROKER}:9094", f"{BROKER}:9092"   # prod advertises EXTERNAL under the broker's name
ZK, UI = "127.0.0.1:42181", "http://127.0.0.1:48080"
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."), "inventory", ".pki", "kafka")
CA_INSIDE = "/opt/testclient/ca.crt"


def app_user():
    (name, password), = host_var(BROKER, "vault_kafka_app_scram_users").items()
    return name, password


def scram(user, password, protocol="SASL_SSL"):
    return {"security_protocol": protocol, "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": user,
            "sasl_plain_password": password, "ssl_cafile": CA_INSIDE}


def client(security):
    return client_container(CLIENT, files={"ca.crt": os.path.join(PKI, "ca.crt")}, security=security)


def properties(host):
    text = host.file("/etc/kafka/server.properties").content_string
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_broker_runs_prods_security_model(host):
    props = properties(host)
    assert props["listener.security.protocol.map"] == "INTERNAL:SASL_SSL,EXTERNAL:SASL_SSL"
    assert props["advertised.listeners"] == f"INTERNAL://{BROKER}:9092,EXTERNAL://{BROKER}:9094"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["zookeeper.connect"] == "prod-zk1:2181/kafka" and props["zookeeper.set.acl"] == "true"
    assert props["auto.create.topics.enable"] == "false"
    assert host.file("/etc/kafka/server.properties").mode == 0o640


def test_application_user_produces_on_external_and_a_group_reads_internal():
    name, password = app_user()
    in_client = client(scram(name, password))
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    # auto.create.topics.enable is false in prod: the topic is created first, with Kafka's own tool.
    assert broker_tool("kafka-topics.sh", "--bootstrap-server", INTERNAL, "--create", "--topic", topic,
                       "--partitions", "3", "--replication-factor", "1") == [f"Created topic {topic}."]
    code, output = in_client("produce-many", EXTERNAL, topic, "60", topic)
    assert code == 0, output
    produced = json.loads(output.splitlines()[-1])
    assert len(produced) == 60
    code, output = in_client("read-all", INTERNAL, topic, f"{topic}-group", "60")
    assert code == 0, output
    assert sorted(json.loads(output.splitlines()[-1])) == sorted(produced)


def broker_tool(tool, *args, stdin=None):
    """Kafka's ``tool`` in the broker's container, logged in as prod's application user."""
    return kafka_tool_in(BROKER, tool, scram_client_properties(*app_user()), *args, stdin=stdin)


def test_kafkas_console_tools_over_sasl_ssl_with_the_application_user():
    topic = f"console-{uuid.uuid4().hex[:8]}"
    assert broker_tool("kafka-topics.sh", "--bootstrap-server", EXTERNAL, "--create", "--topic", topic,
                       "--partitions", "1", "--replication-factor", "1") == [f"Created topic {topic}."]
    broker_tool("kafka-console-producer.sh", "--bootstrap-server", EXTERNAL, "--topic", topic, stdin=["a", "b", "c"])
    assert broker_tool("kafka-console-consumer.sh", "--bootstrap-server", INTERNAL, "--topic", topic, "--group",
                       f"{topic}-g", "--from-beginning", "--max-messages", "3", "--timeout-ms", "60000") == ["a", "b", "c"]


@pytest.mark.parametrize("security, login_refused", [
    ("wrong-password", True), ("unknown-user", True), ("tls-without-sasl", False), ("clear-text", False)])
def test_clients_without_the_right_credentials_are_refused(security, login_refused):
    name, password = app_user()
    settings = {"wrong-password": scram(name, "not-" + password),
                "unknown-user": scram("mallory", password),
                "tls-without-sasl": {"security_protocol": "SSL", "ssl_cafile": CA_INSIDE},
                "clear-text": {}}[security]
    in_client = client(dict(settings, bootstrap_timeout_ms=8000) if settings else {"bootstrap_timeout_ms": 8000})
    since = time.time() - 1
    code, output = in_client("produce", EXTERNAL, "refused", "x")
    assert code != 0, f"{security}: the broker took a record: {output}"
    if login_refused:
        assert broker_refused_login(BROKER, since)


def test_zookeeper_keeps_the_cluster_under_the_chroot_authenticated():
    anonymous = KazooClient(hosts=ZK)
    anonymous.start(timeout=30)
    try:
        assert anonymous.get_children("/kafka/brokers/ids") == ["1"]
        assert not anonymous.exists("/brokers"), "the cluster is outside the /kafka chroot"
        with pytest.raises(NoAuthError):
            anonymous.get(f"/kafka/config/users/{app_user()[0]}")
        with pytest.raises(NoAuthError):
            anonymous.create("/kafka/brokers/ids/999", b"intruder", ephemeral=True)
    finally:
        anonymous.stop()
    broker = KazooClient(hosts=ZK, sasl_options={"mechanism": "DIGEST-MD5", "username": "kafka",
                                                 "password": host_var(BROKER, "vault_zookeeper_kafka_password")})
    broker.start(timeout=30)
    try:
        users = set(broker.get_children("/kafka/config/users"))
    finally:
        broker.stop()
    assert {app_user()[0], "kafka-ui", "broker"} <= users


def login(password):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    data = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
    try:
        opener.open(UI + "/login", data=data, timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code in (302, 404), error
    return opener


def test_kafka_ui_needs_its_login_and_sees_the_cluster_through_sasl_ssl():
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(UI + "/api/clusters", timeout=10)
    assert refused.value.code == 401
    wrong = login("not-the-password")
    with pytest.raises(urllib.error.HTTPError) as still:
        wrong.open(UI + "/api/clusters", timeout=10)
    assert still.value.code == 401
    opener = login(host_var("prod-ui1", "vault_kafka_ui_auth_password"))

    def online():
        clusters = json.loads(opener.open(UI + "/api/clusters", timeout=10).read())
        return [c for c in clusters if c["name"] == "prod" and c["status"] == "online"]
    (cluster,) = wait_for(online, timeout=90, what="cluster prod online in kafka-ui")
    assert cluster["brokerCount"] == 1
