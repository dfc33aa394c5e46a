"""The replication gate of rolling restarts (kafka_replication_gate), what a broker runs
(kafka_broker_state) and the inter-broker protocol plan of upgrades (plugin_utils/upgrade.py)."""

import os

import pytest

from conftest import load_plugin

gate = load_plugin("modules", "kafka_replication_gate")
state = load_plugin("modules", "kafka_broker_state")
kafka = load_plugin("filter", "kafka")
upgrade = load_plugin("plugin_utils", "upgrade")

# kafka-topics.sh --describe of Kafka 3.9 (ZooKeeper mode): a topic line, then one line per partition.
DESCRIBE = (
    "Topic: orders\tTopicId: 8Qv0TnCfQ3u9yLx1nX3eWg\tPartitionCount: 3\tReplicationFactor: 3\t"
    "Configs: min.insync.replicas=2\n"
    "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\tElr: N/A\tLastKnownElr: N/A\n"
    "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,1\tElr: N/A\tLastKnownElr: N/A\n"
    "\tTopic: orders\tPartition: 2\tLeader: none\tReplicas: 3\tIsr: \tElr: N/A\tLastKnownElr: N/A\n"
    "Topic: __consumer_offsets\tTopicId: x\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: \n"
    "\tTopic: __consumer_offsets\tPartition: 0\tLeader: -1\tReplicas: 1,2\tIsr: 1\n"
)


def test_describe_output_parsed_into_partitions():
    parsed = gate.parse_describe(DESCRIBE)
    assert [(p["topic"], p["partition"]) for p in parsed] == [("orders", 0), ("orders", 1), ("orders", 2),
                                                               ("__consumer_offsets", 0)]
    assert parsed[0] == {"topic": "orders", "partition": 0, "leader": 1, "replicas": [1, 2, 3], "isr": [1, 2, 3]}
    assert parsed[2]["leader"] is None and parsed[2]["isr"] == []
    assert parsed[3]["leader"] is None


def test_under_replicated_and_leaderless_partitions_are_named():
    under, missing = gate.replication_state(gate.parse_describe(DESCRIBE))
    assert under == ["orders-1", "orders-2", "__consumer_offsets-0"]
    assert missing == []


def test_a_restarted_broker_must_be_back_in_every_isr_it_belongs_to():
    _, missing = gate.replication_state(gate.parse_describe(DESCRIBE), broker_id=3)
    assert missing == ["orders-1", "orders-2"]
    _, missing = gate.replication_state(gate.parse_describe(DESCRIBE), broker_id=1)
    assert missing == []


def test_the_broker_about_to_restart_may_miss_its_own_replicas_only():
    under, _ = gate.replication_state(gate.parse_describe(DESCRIBE), tolerate=3)
    # orders-1 lacks only broker 3; orders-2 lives on broker 3 only; __consumer_offsets-0 lacks broker 2
    assert under == ["__consumer_offsets-0"]


def test_a_fully_replicated_cluster_passes():
    healthy = "\tTopic: t\tPartition: 0\tLeader: 2\tReplicas: 2,1\tIsr: 1,2\n"
    assert gate.replication_state(gate.parse_describe(healthy), broker_id=1) == ([], [])
    assert gate.parse_describe("") == []


def test_failure_message_names_partitions_and_counts_the_rest():
    message = gate.failure_message([f"t-{n}" for n in range(25)], ["t-0"], 2, 30, 301.2, 3)
    assert message == ("after 301s of 30 partitions; broker 2 is not back in the ISR of 1: t-0; "
                       "25 under-replicated or without a leader: t-0, t-1, t-2 and 22 more")


def test_release_and_jar_versions():
    assert state.release_version("/opt/kafka_2.13-3.8.1") == "3.8.1"
    assert state.release_version("/opt/kafka_2.13-3.9.2/") == "3.9.2"
    assert state.release_version("/opt/kafka") == ""
    fds = ["/dev/null", "socket:[123]", "/opt/kafka_2.13-3.9.2/libs/kafka-clients-3.9.2.jar",
           "/opt/kafka_2.13-3.9.2/libs/kafka_2.13-3.9.2-test.jar", "/opt/kafka_2.13-3.9.2/libs/kafka_2.13-3.9.2.jar"]
    assert state.jar_version(fds) == "3.9.2"
    assert state.jar_version(fds[:4]) == ""


def test_properties_reader_skips_comments():
    """The reader kafka_broker_state and service_files share (module_utils/properties.py)."""
    text = "# inter.broker.protocol.version=3.7\nbroker.id=1\n\ninter.broker.protocol.version=3.8\n"
    assert load_plugin("module_utils", "properties").parse_properties(text) == {
        "broker.id": "1", "inter.broker.protocol.version": "3.8"}


def states(**brokers):
    """{host: state} from host=(running, installed, protocol)."""
    return {host: {"running_version": r, "installed_version": i, "protocol": p}
            for host, (r, i, p) in brokers.items()}


def test_a_new_cluster_speaks_its_binaries_line():
    plan = upgrade.protocol_plan("3.9.2", "auto", states(b1=("", "", ""), b2=("", "", "")))
    assert (plan["protocol"], plan["pinned"], plan["problems"]) == ("3.9", False, [])


def test_first_roll_of_an_upgrade_keeps_the_old_protocol():
    plan = upgrade.protocol_plan("3.9.2", "auto", states(b1=("3.8.1", "3.8.1", "3.8"), b2=("3.8.1", "3.8.1", "3.8")))
    assert (plan["protocol"], plan["pinned"]) == ("3.8", True)
    assert "b1, b2 still run older binaries than 3.9.2" in plan["reason"]


def test_a_broker_restarted_on_the_new_binaries_does_not_bump_while_another_runs_the_old_ones():
    # b1 already runs 3.9.2 (first roll half done); b2 still runs 3.8.1 although its link points to 3.9.2
    plan = upgrade.protocol_plan("3.9.2", "auto", states(b1=("3.9.2", "3.9.2", "3.8"), b2=("3.8.1", "3.9.2", "3.8")))
    assert (plan["protocol"], plan["pinned"]) == ("3.8", True)
    assert "b2 still runs" in plan["reason"]


def test_second_roll_bumps_once_every_broker_runs_the_new_binaries():
    plan = upgrade.protocol_plan("3.9.2", "auto", states(b1=("3.9.2", "3.9.2", "3.8"), b2=("3.9.2", "3.9.2", "3.8")))
    assert (plan["protocol"], plan["pinned"], plan["problems"]) == ("3.9", False, [])


def test_a_cluster_without_a_pinned_protocol_is_pinned_to_its_oldest_binaries():
    plan = upgrade.protocol_plan("3.9.2", "auto", states(b1=("3.8.1", "3.8.1", ""), b2=("", "3.7.2", "")))
    assert plan["protocol"] == "3.7"


def rendered(plan, host="b1"):
    return [problem.render(name or host) for name, problem in plan["problems"]]


def test_an_explicit_bump_is_refused_while_a_broker_runs_older_binaries():
    plan = upgrade.protocol_plan("3.9.2", "3.9", states(b1=("3.9.2", "3.9.2", "3.8"), b2=("3.8.1", "3.8.1", "3.8")))
    assert rendered(plan) == [
        "host b2: kafka_inter_broker_protocol_version: 3.9 cannot be spoken yet: this broker still runs Kafka 3.8 "
        "binaries. Fix: first roll every broker onto 3.9.2 with the protocol pinned (leave "
        "kafka_inter_broker_protocol_version at auto, or set it to 3.8), then bump it."]


def test_an_explicit_pin_is_kept_and_may_not_be_lowered_nor_exceed_the_release():
    plan = upgrade.protocol_plan("3.9.2", "3.8", states(b1=("3.9.2", "3.9.2", "3.8")))
    assert (plan["protocol"], plan["pinned"], plan["problems"]) == ("3.8", True, [])
    lowered = upgrade.protocol_plan("3.9.2", "3.8", states(b1=("3.9.2", "3.9.2", "3.9")))
    assert "is older than the protocol 3.9 this broker already speaks" in rendered(lowered)[0]
    ahead = upgrade.protocol_plan("3.8.1", "3.9", states(b1=("", "", "")))
    assert rendered(ahead) == ["host b1: kafka_inter_broker_protocol_version: 3.9 is newer than kafka_version 3.8.1. "
                               "Fix: set kafka_inter_broker_protocol_version to 3.8 or older, or to auto."]
    garbage = upgrade.protocol_plan("3.9.2", "latest", {})
    assert "'latest' is not a protocol version" in rendered(garbage)[0]


def test_binaries_older_than_the_spoken_protocol_are_refused():
    plan = upgrade.protocol_plan("3.8.1", "auto", states(b1=("3.9.2", "3.9.2", "3.9")))
    assert rendered(plan) == ["host b1: kafka_version: 3.8.1 is older than the protocol 3.9 the cluster already "
                              "speaks; Kafka cannot go back to older binaries once the protocol was bumped. "
                              "Fix: set kafka_version to a 3.9.x release or newer."]


def test_protocol_lines_accept_internal_versions():
    assert upgrade.line("3.8-IV0") == (3, 8)
    assert upgrade.line("3.9.2") == (3, 9)
    assert upgrade.line("") is None


def test_filter_takes_the_registered_loop_results():
    results = [{"item": "b1", "running_version": "3.8.1", "installed_version": "3.8.1", "protocol": "3.8"},
               {"item": "b2", "running_version": "3.9.2", "installed_version": "3.9.2", "protocol": "3.8"}]
    plan = kafka.kafka_protocol_plan("3.9.2", "3.9", results, "b2")
    assert plan["protocol"] == "3.9" and plan["problems"][0].startswith("host b1: kafka_inter_broker_protocol_version")


@pytest.mark.parametrize("listener, expected", [
    ({"name": "INTERNAL", "port": 9092, "protocol": "PLAINTEXT"}, {"security.protocol": "PLAINTEXT"}),
    ({"name": "INTERNAL", "port": 9092, "protocol": "SASL_SSL", "sasl_mechanisms": ["PLAIN", "SCRAM-SHA-512"],
      "inter_broker_mechanism": "SCRAM-SHA-512"},
     {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
      "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" '
                          'password="p\\\\\\\\w";',  # JAAS escapes the backslash, Properties again
      "ssl.truststore.type": "PEM", "ssl.truststore.location": "/etc/kafka/tls/truststore.pem"}),
    ({"name": "INTERNAL", "port": 9092, "protocol": "SSL", "ssl_client_auth": "required"},
     {"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": "/etc/kafka/tls/truststore.pem",
      "ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/etc/kafka/tls/keystore.p12",
      "ssl.keystore.password": "ks"}),
])
def test_inter_broker_client_properties_carry_the_brokers_own_login(listener, expected):
    tls = {"keystore_type": "PKCS12", "keystore_location": "/etc/kafka/tls/keystore.p12", "keystore_password": "ks",
           "truststore_location": "/etc/kafka/tls/truststore.pem"}
    other = {"name": "EXTERNAL", "port": 9094, "protocol": "PLAINTEXT"}
    assert kafka.kafka_inter_broker_client_properties([other, listener], "INTERNAL", "broker", "p\\w", tls) == expected


def test_listener_endpoint_from_advertised_listeners():
    advertised = "PLAINTEXT://kc-broker1:9092,EXTERNAL://localhost:29094"
    assert kafka.kafka_listener_endpoint(advertised, "PLAINTEXT") == "kc-broker1:9092"
    assert kafka.kafka_listener_endpoint(advertised, "EXTERNAL") == "localhost:29094"
    with pytest.raises(Exception, match="INTERNAL is not advertised"):
        kafka.kafka_listener_endpoint(advertised, "INTERNAL")


logdirs = load_plugin("modules", "kafka_log_dirs")


class Stat:
    def __init__(self, mode=0o40750, uid=990, gid=990):
        self.st_mode, self.st_uid, self.st_gid = mode, uid, gid


class Vfs:
    def __init__(self, flag=0, avail_mb=5000):
        self.f_flag, self.f_bavail, self.f_frsize = flag, avail_mb * 256, 4096  # 256 blocks of 4 KiB = 1 MiB


@pytest.mark.parametrize("st, vfs, expected", [
    (Stat(), Vfs(), None),
    (None, None, "/data: does not exist"),
    (Stat(mode=0o100640), Vfs(), "/data: is not a directory"),
    (Stat(), Vfs(flag=os.ST_RDONLY), "/data: read-only file system (Kafka takes the directory offline at its first write)"),
    (Stat(uid=0, gid=0, mode=0o40755), Vfs(), "/data: not writable by kafka (owner uid 0, gid 0, mode 0755)"),
    (Stat(uid=0, gid=990, mode=0o40770), Vfs(), None),
    (Stat(), Vfs(avail_mb=42), "/data: file system full (42 MiB available, below 100 MiB)"),
])
def test_log_dir_problems_name_the_reason(st, vfs, expected):
    assert logdirs.dir_problem("/data", st, vfs, 990, {990}, 100, "kafka") == expected


def test_descriptor_targets_read_from_ls_output():
    listing = ("total 0\nlr-x------ 1 kafka kafka 64 Dec  3 23:41 0 -> /dev/null\n"
               "lr-x------ 1 kafka kafka 64 Dec  3 23:41 87 -> /opt/kafka_2.13-3.8.1/libs/kafka_2.13-3.8.1.jar\n")
    assert state.listed_targets(listing) == ["/dev/null", "/opt/kafka_2.13-3.8.1/libs/kafka_2.13-3.8.1.jar"]
    assert state.jar_version(state.listed_targets(listing)) == "3.8.1"


def test_a_refused_login_or_handshake_is_told_at_once():
    output = ("[2026-12-04 01:06:10,111] ERROR [AdminClient clientId=adminclient-1] Connection to node -1 failed\n"
              "Error while executing topic command : org.apache.kafka.common.errors.SslAuthenticationException: "
              "SSL handshake failed\n")
    assert gate.refusal(output).startswith("Error while executing topic command : org.apache.kafka.common.errors."
                                           "SslAuthenticationException")
    assert gate.refusal("Error while executing topic command : Timed out waiting for a node assignment.") == ""
