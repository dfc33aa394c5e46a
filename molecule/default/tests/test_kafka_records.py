"""What only a real broker shows: consumer groups on both seed listeners, records and committed offsets
kept across a restart, a no-op re-run and a configuration change, and clients written independently of
the tests (Debian's kcat on librdkafka, Kafka's own console tools) on both listeners.
"""

import json
import os
import uuid

import pytest
from kazoo.client import KazooClient

import kafka_client
from testlib import (TOOL_ENV, client_container, console_consume, console_produce, in_container, install_kcat,
                     kafka_tools_from, kcat, playbook, put_files, wait_for)

testinfra_hosts = ["local-kafka"]
EXTERNAL, INTERNAL = "localhost:9094", "kafka:9092"
CLIENT, BROKER = "local-zookeeper", "local-kafka"   # another container on the network; the broker's container
CONVERGE = "molecule/default/converge.yml"


@pytest.fixture(scope="module")
def in_client():
    return client_container(CLIENT)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def read_inside(in_client, topic, group, count):
    code, output = in_client("read-all", INTERNAL, topic, group, str(count))
    assert code == 0, output
    return json.loads(output.splitlines()[-1])


def test_consumer_groups_on_both_listeners(in_client):
    topic = unique("groups")
    values = kafka_client.produce_many(EXTERNAL, topic, 20, topic)
    assert len(values) == 20
    assert kafka_client.read_all(EXTERNAL, topic, f"{topic}-ext", 20) == values
    assert read_inside(in_client, topic, f"{topic}-int", 20) == values
    for group in (f"{topic}-ext", f"{topic}-int"):
        assert committed_offsets(group) == {(topic, 0): 20}


def committed_offsets(group):
    """{(topic, partition): committed offset} of ``group``, as Kafka's kafka-consumer-groups.sh reports it."""
    code, out, err = in_container(BROKER, ["/opt/kafka/bin/kafka-consumer-groups.sh", "--bootstrap-server", INTERNAL,
                                           "--describe", "--group", group], environment=TOOL_ENV)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith(group + " ")]
    return {(row[1], int(row[2])): int(row[3]) for row in rows}


def broker_started_at(host):
    return host.check_output("systemctl show -P ActiveEnterTimestampMonotonic kafka")


def wait_registered():
    def registered():
        zk = KazooClient(hosts="127.0.0.1:2181")
        zk.start(timeout=30)
        try:
            return zk.exists("/brokers/ids/1")
        finally:
            zk.stop()
    wait_for(registered, timeout=120, what="broker 1 registered in ZooKeeper again")


def test_records_and_offsets_survive_restart_rerun_and_config_change(host, in_client):
    topic = unique("durable")
    values = kafka_client.produce_many(EXTERNAL, topic, 300, topic)
    assert len(values) == 300
    # A group reads the first 100 and commits; it must resume after them at the end.
    assert kafka_client.read_all(EXTERNAL, topic, f"{topic}-resume", 100) == values[:100]

    def read_back(step):
        got = read_inside(in_client, topic, unique("check"), 300)
        assert got == values, f"after {step}: {len(got)} records read, {len(set(values) - set(got))} missing"

    assert host.run("systemctl restart kafka").rc == 0
    wait_registered()
    read_back("systemctl restart kafka")

    before = broker_started_at(host)
    rerun = playbook(CONVERGE)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    recap = [line for line in rerun.stdout.splitlines() if " : ok=" in line]
    assert recap and all("changed=0" in line for line in recap), recap
    assert broker_started_at(host) == before, "a no-op re-run restarted the broker"
    read_back("a no-op site.yml re-run")

    try:
        change = playbook(CONVERGE, "--limit", BROKER, "--tags", "kafka",
                          "-e", json.dumps({"kafka_server_properties_extra": {"log.retention.hours": 100}}))
        assert change.returncode == 0, change.stdout[-3000:]
        assert "log.retention.hours=100" in host.file("/etc/kafka/server.properties").content_string
        assert broker_started_at(host) != before, "the configuration change did not restart the broker"
        read_back("a configuration change and its restart")
    finally:
        back = playbook(CONVERGE, "--limit", BROKER, "--tags", "kafka")
        assert back.returncode == 0, back.stdout[-3000:]
    read_back("the configuration changed back")
    assert kafka_client.read_all(EXTERNAL, topic, f"{topic}-resume", 200) == values[100:]


KAFKA_INSIDE = "/opt/kafka-release"  # the broker's Kafka release, copied into the other container


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    """Kafka's console tools on this machine and in the other container, and kcat in both places."""
    bin_dir = kafka_tools_from(BROKER, str(tmp_path_factory.mktemp("kafka")))
    put_files(CLIENT, "/opt", {os.path.basename(KAFKA_INSIDE): os.path.dirname(bin_dir)})
    install_kcat(CLIENT)
    return bin_dir


def inside_console(tool, *args, stdin=None):
    """Kafka's console tool in the other container, on the network listener; its standard output's lines."""
    code, out, err = in_container(CLIENT, [f"{KAFKA_INSIDE}/bin/{tool}", "--bootstrap-server", INTERNAL, *args],
                                  stdin=stdin, environment=TOOL_ENV)
    assert code == 0, err[-2000:]
    return out.splitlines()


def test_kcat_from_this_machine_to_kafkas_console_consumer_inside(tools):
    topic = unique("kcat-ext")
    values = [f"{topic}-{n}" for n in range(5)]
    code, _, err = kcat("-b", EXTERNAL, "-t", topic, "-P", "-X", "acks=all", stdin="\n".join(values) + "\n")
    assert code == 0, err
    got = inside_console("kafka-console-consumer.sh", "--topic", topic, "--group", f"{topic}-g",
                         "--from-beginning", "--max-messages", "5", "--timeout-ms", "60000")
    assert got == values


def test_kafka_console_producer_here_to_kcat_group_inside(tools):
    topic = unique("console-ext")
    values = [f"{topic}-{n}" for n in range(5)]
    console_produce(tools, EXTERNAL, topic, values)
    code, out, err = in_container(CLIENT, ["kcat", "-b", INTERNAL, "-G", f"{topic}-g", "-X",
                                           "auto.offset.reset=earliest", "-c", "5", "-q", "-f", "%s\\n", topic])
    assert code == 0, err
    assert out.splitlines() == values


def test_kcat_inside_to_kafkas_console_consumer_here(tools):
    topic = unique("kcat-int")
    values = [f"{topic}-{n}" for n in range(5)]
    code, _, err = in_container(CLIENT, ["kcat", "-b", INTERNAL, "-t", topic, "-P", "-X", "acks=all"],
                                stdin="\n".join(values) + "\n")
    assert code == 0, err
    assert console_consume(tools, EXTERNAL, topic, f"{topic}-g", 5) == values


def test_kafka_console_producer_inside_to_kcat_group_here(tools):
    topic = unique("console-int")
    values = [f"{topic}-{n}" for n in range(5)]
    inside_console("kafka-console-producer.sh", "--topic", topic, "--producer-property", "acks=all",
                   stdin="\n".join(values) + "\n")
    code, out, err = kcat("-b", EXTERNAL, "-G", f"{topic}-g", "-X", "auto.offset.reset=earliest", "-c", "5", "-q",
                          "-f", "%s\\n", topic)
    assert code == 0, err
    assert out.splitlines() == values


def test_kcat_lists_the_broker_with_its_id_and_advertised_address():
    code, out, err = kcat("-b", EXTERNAL, "-L", "-J")
    assert code == 0, err
    metadata = json.loads(out)
    assert [(b["id"], b["name"]) for b in metadata["brokers"]] == [(1, "localhost:9094")]
