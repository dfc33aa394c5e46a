"""Kafka 3.9 ZooKeeper-mode startup rules and the cross-host rules, each failing and passing."""

import pytest

from conftest import load_plugin

pre = load_plugin("action", "kafka_preflight")
kafka = load_plugin("filter", "kafka")

# The seed's broker, as the role renders it.
SEED_LISTENERS = [
    {"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT"},
    {"name": "EXTERNAL", "port": 9094, "protocol": "PLAINTEXT", "advertised_host": "localhost"},
]


def seed_properties(**overrides):
    props = kafka.kafka_server_properties(
        {"broker.id": 1, "zookeeper.connect": "zookeeper:2181", "log.dirs": ["/var/lib/kafka/data"]},
        kafka.kafka_listener_properties(SEED_LISTENERS, "PLAINTEXT", "kafka"))
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def refusal(props):
    with pytest.raises(pre.KafkaRefusal) as caught:
        pre.kafka_startup_check(props)
    return caught.value


def test_seed_renders_as_expected_and_passes():
    props = seed_properties()
    assert props["listeners"] == "PLAINTEXT://:9092,EXTERNAL://:9094"
    assert props["advertised.listeners"] == "PLAINTEXT://kafka:9092,EXTERNAL://localhost:9094"
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert list(props) == sorted(props)
    advertised = pre.kafka_startup_check(props)
    assert [(name, host, port) for name, host, port, _ in advertised] == [
        ("PLAINTEXT", "kafka", 9092), ("EXTERNAL", "localhost", 9094)]


# (property overrides that break one rule, Kafka's message, variable named to the user)
FAILING = [
    ({"zookeeper.connect": None}, "Missing required configuration `zookeeper.connect` which has no default value.",
     "groups"),
    ({"broker.id": "1001"},
     "requirement failed: broker.id must be greater than or equal to -1 and not greater than reserved.broker.max.id",
     "kafka_broker_id"),
    ({"broker.id": "-1", "broker.id.generation.enable": "false"},
     "requirement failed: broker.id must be greater than or equal to 0", "kafka_broker_id"),
    ({"node.id": "2"}, "You must set `node.id` to the same value as `broker.id`.", "kafka_server_properties_extra"),
    ({"log.dirs": ""}, "requirement failed: At least one log directory must be defined via log.dirs or log.dir.",
     "kafka_log_dirs"),
    ({"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT"},
     "Error creating broker listeners from 'PLAINTEXT://:9092,EXTERNAL://:9094': No security protocol defined for "
     "listener EXTERNAL", "kafka_listeners"),
    ({"listeners": "PLAINTEXT://:9092,EXTERNAL:9094"}, "Unable to parse EXTERNAL:9094 to a broker endpoint",
     "kafka_listeners"),
    ({"listeners": "PLAINTEXT://:9092,PLAINTEXT://:9094", "advertised.listeners": "PLAINTEXT://kafka:9092"},
     "requirement failed: Each listener must have a different name, listeners: PLAINTEXT://:9092,PLAINTEXT://:9094",
     "kafka_listeners"),
    ({"listeners": "PLAINTEXT://:9092,EXTERNAL://:9092"},
     "requirement failed: Each listener must have a different port, listeners: PLAINTEXT://:9092,EXTERNAL://:9092",
     "kafka_listeners"),
    ({"security.inter.broker.protocol": "PLAINTEXT"},
     "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.",
     "kafka_server_properties_extra"),
    ({"inter.broker.listener.name": "INTERNAL"},
     "Listener with name INTERNAL defined in inter.broker.listener.name not found in listener.security.protocol.map.",
     "kafka_inter_broker_listener_name"),
    ({"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:TLS"},
     "Invalid security protocol `TLS` defined in listener.security.protocol.map", "kafka_listeners"),
    ({"listeners": "", "advertised.listeners": ""},
     "requirement failed: There must be at least one broker advertised listener.", "kafka_listeners"),
    ({"advertised.listeners": "EXTERNAL://localhost:9094"},
     "requirement failed: inter.broker.listener.name must be a listener name defined in advertised.listeners. "
     "The valid options based on currently configured listeners are EXTERNAL", "kafka_inter_broker_listener_name"),
    ({"advertised.listeners": "PLAINTEXT://kafka:9092,OTHER://localhost:9095",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,OTHER:PLAINTEXT"},
     "requirement failed: advertised.listeners listener names must be equal to or a subset of the ones defined in "
     "listeners. Found PLAINTEXT,OTHER. The valid options based on the current configuration are PLAINTEXT,EXTERNAL",
     "kafka_listeners"),
    ({"advertised.listeners": "PLAINTEXT://0.0.0.0:9092,EXTERNAL://localhost:9094"},
     "requirement failed: advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. "
     "Use a routable IP address.", "kafka_listeners"),
    ({"controller.listener.names": "CONTROLLER"},
     "requirement failed: controller.listener.names must be empty when not running in KRaft mode: [CONTROLLER]",
     "kafka_server_properties_extra"),
    ({"control.plane.listener.name": "OTHER"},
     "requirement failed: control.plane.listener.name must be a listener name defined in advertised.listeners",
     "kafka_server_properties_extra"),
    ({"control.plane.listener.name": "PLAINTEXT"},
     "requirement failed: control.plane.listener.name, if set, should not conflict with inter.broker.listener.name",
     "kafka_server_properties_extra"),
    ({"process.roles": "broker"}, "process.roles is set, so Kafka would start in KRaft mode",
     "kafka_server_properties_extra"),
]


@pytest.mark.parametrize("overrides,message,var", FAILING, ids=[f[1][:50] for f in FAILING])
def test_rule_fails_with_kafkas_message(overrides, message, var):
    caught = refusal(seed_properties(**overrides))
    assert caught.message == message
    assert caught.var == var and caught.fix


# The nearest valid configuration for each rule: must pass.
PASSING = [
    {"zookeeper.connect": "zk1:2181,zk2:2181/kafka"},
    {"broker.id": "1000"},
    {"broker.id": "0", "broker.id.generation.enable": "false"},
    {"node.id": "1"},
    {"log.dirs": None, "log.dir": "/data/kafka"},
    {"listener.security.protocol.map": None, "listeners": "PLAINTEXT://:9092,SSL://:9093",
     "advertised.listeners": "PLAINTEXT://kafka:9092"},
    {"listeners": "PLAINTEXT://[::1]:9092,EXTERNAL://10.0.0.1:9094"},
    {"inter.broker.listener.name": None, "security.inter.broker.protocol": "PLAINTEXT"},
    {"inter.broker.listener.name": "external"},
    {"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:SASL_SSL"},
    {"advertised.listeners": None},
    {"advertised.listeners": "PLAINTEXT://kafka:9092"},
    {"controller.listener.names": "CONTROLLER", "zookeeper.metadata.migration.enable": "true"},
    {"control.plane.listener.name": "EXTERNAL"},
    {"listeners": "PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9094",
     "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT,PLAINTEXT:PLAINTEXT"},
]


@pytest.mark.parametrize("overrides", PASSING)
def test_nearest_valid_configuration_passes(overrides):
    pre.kafka_startup_check(seed_properties(**overrides))


def brokers(*entries):
    return [{"host": h, "broker_id": i, "advertised": a} for h, i, a in entries]


def test_cross_host_duplicate_broker_id():
    props = seed_properties()
    found = pre.check("k1", SEED_LISTENERS, props,
                      brokers(("k1", 1, "PLAINTEXT://k1:9092"), ("k2", 1, "PLAINTEXT://k2:9092")), ["zk"])
    (problem,) = found
    assert problem.var == "kafka_broker_id" and "also the broker id of k2" in problem.message
    assert pre.check("k1", SEED_LISTENERS, props,
                     brokers(("k1", 1, "PLAINTEXT://k1:9092"), ("k2", 2, "PLAINTEXT://k2:9092")), ["zk"]) == []


def test_cross_host_same_advertised_endpoint():
    props = seed_properties()
    found = pre.check("k1", SEED_LISTENERS, props, brokers(
        ("k1", 1, "PLAINTEXT://k1:9092,EXTERNAL://localhost:9094"),
        ("k2", 2, "PLAINTEXT://k2:9092,EXTERNAL://localhost:9094")), ["zk"])
    (problem,) = found
    assert problem.var == "kafka_listeners" and "localhost:9094, which k2 advertises too" in problem.message
    assert pre.check("k1", SEED_LISTENERS, props, brokers(
        ("k1", 1, "PLAINTEXT://k1:9092,EXTERNAL://localhost:9094"),
        ("k2", 2, "PLAINTEXT://k2:9092,EXTERNAL://localhost:9095")), ["zk"]) == []


def test_empty_zookeeper_group():
    (problem,) = pre.check("k1", SEED_LISTENERS, seed_properties(), brokers(("k1", 1, "PLAINTEXT://k1:9092")), [])
    assert problem.var == "groups" and "'zookeeper' is empty" in problem.message


@pytest.mark.parametrize("listener,fragment", [
    ({"name": "PLAIN TEXT", "port": 9092, "protocol": "PLAINTEXT"}, "is not a listener name"),
    ({"name": "PLAINTEXT", "port": 0, "protocol": "PLAINTEXT"}, "port 0 is not a TCP port"),
    ({"name": "PLAINTEXT", "port": 9092, "protocol": "TLS"}, "'TLS' is not a Kafka security protocol"),
    ({"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT", "advertise": "x"}, "unknown keys advertise"),
])
def test_listener_model_errors_name_the_entry(listener, fragment):
    (problem,) = pre.check("k1", [listener], seed_properties(), brokers(("k1", 1, "PLAINTEXT://k1:9092")), ["zk"])
    assert problem.var == "kafka_listeners[0]" and fragment in problem.message


def test_refusal_is_reported_with_host_variable_and_fix():
    (problem,) = pre.check("k1", SEED_LISTENERS, seed_properties(**{"listeners": "PLAINTEXT://:9092,EXTERNAL://:9092"}),
                           brokers(("k1", 1, "PLAINTEXT://k1:9092")), ["zk"])
    text = problem.render("k1")
    assert text.startswith("host k1: kafka_listeners: Kafka would refuse to start: requirement failed: Each listener")
    assert "Fix: give every listener its own port." in text


def test_ipv6_bind_address_is_bracketed():
    props = kafka.kafka_listener_properties([{"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT",
                                              "bind_address": "::", "advertised_host": "fe80::1"}], "PLAINTEXT", "k")
    assert props["listeners"] == "PLAINTEXT://[::]:9092"
    assert props["advertised.listeners"] == "PLAINTEXT://[fe80::1]:9092"


def test_extra_properties_win_and_none_removes():
    props = kafka.kafka_server_properties({"a": 1, "b": True}, {"c": "x"}, {"a": 2, "c": None})
    assert props == {"a": "2", "b": "true"}
