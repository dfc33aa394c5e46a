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


# --- SASL listeners (listener-scoped JAAS, no JAAS file) -----------------------------------------------

SECURE = [
    {"name": "INTERNAL", "port": 9092, "protocol": "SASL_PLAINTEXT", "sasl_mechanisms": ["SCRAM-SHA-512"]},
    {"name": "EXTERNAL", "port": 9094, "protocol": "SASL_PLAINTEXT", "sasl_mechanisms": ["SCRAM-SHA-512", "PLAIN"],
     "advertised_host": "localhost"},
]
CREDENTIALS = {"kafka_sasl_inter_broker_username": "broker", "kafka_sasl_inter_broker_password": "s3cret",
               "kafka_sasl_plain_users": {"alice": "alice-pw"}}


def secure_properties(listeners=SECURE, credentials=CREDENTIALS, extra=None):
    listener_props = kafka.kafka_listener_properties(listeners, "INTERNAL", "kafka")
    listener_props.update(kafka.kafka_listener_sasl_properties(
        listeners, "INTERNAL", credentials.get("kafka_sasl_inter_broker_username", ""),
        credentials.get("kafka_sasl_inter_broker_password", ""), credentials.get("kafka_sasl_plain_users")))
    return kafka.kafka_server_properties({"broker.id": 1, "zookeeper.connect": "zookeeper:2181",
                                          "log.dirs": ["/var/lib/kafka/data"]}, listener_props, extra)


def secure_check(listeners=SECURE, credentials=CREDENTIALS, extra=None, jvm_options=""):
    props = secure_properties(listeners, credentials, extra)
    advertised = props["advertised.listeners"]
    return pre.check("kafka", listeners, props, [{"host": "kafka", "broker_id": 1, "advertised": advertised}],
                     ["zookeeper"], credentials, jvm_options)


def test_sasl_listeners_render_listener_scoped_jaas_and_pass():
    props = secure_properties()
    assert props["listener.name.internal.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.internal.scram-sha-512.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="s3cret";')
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["listener.name.external.sasl.enabled.mechanisms"] == "SCRAM-SHA-512,PLAIN"
    # Not the inter-broker listener: SCRAM needs no credentials of the broker's own there.
    assert props["listener.name.external.scram-sha-512.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required;")
    assert props["listener.name.external.plain.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="s3cret" '
        'user_alice="alice-pw" user_broker="s3cret";')
    assert secure_check() == []


def test_jaas_values_are_escaped_for_jaas_and_for_properties():
    # JAAS: \ -> \\ and " -> \"; then java.util.Properties reads every \ as an escape, so each is doubled.
    props = secure_properties(credentials=dict(CREDENTIALS, kafka_sasl_inter_broker_password='p"w\\x'))
    assert props["listener.name.internal.scram-sha-512.sasl.jaas.config"].endswith('password="p\\\\"w\\\\\\\\x";')


@pytest.mark.parametrize("listeners, credentials, var, fragment", [
    ([dict(SECURE[0], sasl_mechanisms=[])] + SECURE[1:], CREDENTIALS, "kafka_listeners",
     "listener INTERNAL (SASL_PLAINTEXT) has no sasl_mechanisms."),
    (SECURE[:1] + [dict(SECURE[1], sasl_mechanisms=["GSSAPI"])], CREDENTIALS, "kafka_listeners",
     "listener EXTERNAL: sasl_mechanisms GSSAPI cannot be configured by this role."),
    ([dict(SECURE[0], protocol="PLAINTEXT")] + SECURE[1:], CREDENTIALS, "kafka_listeners",
     "listener INTERNAL has sasl_mechanisms but protocol PLAINTEXT"),
    ([dict(SECURE[0], inter_broker_mechanism="PLAIN")] + SECURE[1:], CREDENTIALS, "kafka_listeners",
     "listener INTERNAL: inter_broker_mechanism PLAIN is not one of its sasl_mechanisms."),
    (SECURE, dict(CREDENTIALS, kafka_sasl_inter_broker_password=""), "kafka_sasl_inter_broker_password",
     "is empty while the inter-broker listener INTERNAL uses SASL_PLAINTEXT"),
    ([dict(SECURE[0], protocol="SASL_SSL")] + SECURE[1:], CREDENTIALS, "kafka_listeners",
     "listener INTERNAL (SASL_SSL) has no key material: neither listener.name.internal.ssl.keystore.location nor "
     "ssl.keystore.location is set."),
])
def test_incomplete_security_is_refused_naming_listener_and_setting(listeners, credentials, var, fragment):
    problems = [p for p in secure_check(listeners, credentials) if p.fatal]
    assert [p.var for p in problems] == [var]
    assert fragment in problems[0].render("kafka")


def test_plain_listener_without_client_users_warns():
    problems = secure_check(credentials=dict(CREDENTIALS, kafka_sasl_plain_users={}))
    assert [(p.var, p.fatal) for p in problems] == [("kafka_sasl_plain_users", False)]


def test_missing_jaas_entry_is_reported_with_kafkas_message():
    problems = secure_check(extra={"listener.name.external.plain.sasl.jaas.config": None})
    assert [p.render("kafka") for p in problems] == [
        "host kafka: kafka_listeners: Kafka would refuse to start: Could not find a 'KafkaServer' or "
        "'external.KafkaServer' entry in the JAAS configuration. System property 'java.security.auth.login.config' "
        "is not set Fix: give listener EXTERNAL sasl_mechanisms (the role then renders "
        "listener.name.external.<mechanism>.sasl.jaas.config for each), and do not remove those properties in "
        "kafka_server_properties_extra."]
    # A static JAAS file given to the JVM is Kafka's other way: then nothing is missing.
    assert secure_check(extra={"listener.name.external.plain.sasl.jaas.config": None},
                        jvm_options="-Djava.security.auth.login.config=/etc/kafka/jaas.conf") == []


# --- Kafka -> ZooKeeper authentication --------------------------------------------------------------

def zk_auth(**overrides):
    auth = {"kafka_zookeeper_sasl_username": "kafka", "kafka_zookeeper_sasl_password": "pw",
            "kafka_zookeeper_set_acl": True, "deploy_mode": "host", "zookeeper_host": "zk1",
            "zookeeper_sasl_users": {"kafka": "pw", "ops": "x"}}
    auth.update(overrides)
    return pre.check("kafka", SEED_LISTENERS, seed_properties(), [{"host": "kafka", "broker_id": 1,
                     "advertised": "PLAINTEXT://kafka:9092,EXTERNAL://localhost:9094"}], ["zk1"], {}, "", auth)


@pytest.mark.parametrize("overrides, expected", [
    ({}, []),
    ({"kafka_zookeeper_sasl_username": "", "kafka_zookeeper_sasl_password": ""},
     ["host kafka: kafka_zookeeper_set_acl: is true but kafka_zookeeper_sasl_username is empty: ACLs need an "
      "authenticated user to grant the znodes to. Fix: set kafka_zookeeper_sasl_username and _password (one of "
      "zookeeper_sasl_users)."]),
    ({"kafka_zookeeper_sasl_password": ""},
     ["host kafka: kafka_zookeeper_sasl_password: is empty while kafka_zookeeper_sasl_username is kafka. Fix: set it "
      "in the inventory's vault."]),
    ({"kafka_zookeeper_sasl_username": "broker"},
     ["host kafka: kafka_zookeeper_sasl_username: broker is not one of zookeeper_sasl_users of zk1, so ZooKeeper "
      "would refuse the brokers' login. Fix: add broker to zookeeper_sasl_users, or use one of its users."]),
    ({"kafka_zookeeper_sasl_password": "other"},
     ["host kafka: kafka_zookeeper_sasl_password: differs from the password of kafka in zookeeper_sasl_users of zk1. "
      "Fix: give both the same vault value."]),
])
def test_zookeeper_login_against_the_ensembles_users(overrides, expected):
    assert [p.render("kafka") for p in zk_auth(**overrides) if p.fatal] == expected


def test_bitnami_image_refuses_sasl_listeners_naming_the_flavour():
    props = secure_properties()
    brokers_ = [{"host": "kafka", "broker_id": 1, "advertised": props["advertised.listeners"]}]
    found = [p.render("kafka") for p in pre.check("kafka", SECURE, props, brokers_, ["zookeeper"], CREDENTIALS,
                                                   container={"deploy_mode": "container", "flavor": "bitnami"})
             if p.fatal]
    assert found == [
        "host kafka: kafka_container_flavor: bitnami's Kafka image validates SASL listeners (INTERNAL, EXTERNAL) "
        "itself: it wants the global KAFKA_CFG_SASL_ENABLED_MECHANISMS, KAFKA_CLIENT_USERS/PASSWORDS and the "
        "inter-broker user settings, and rewrites the JAAS configuration, so the role's listener-scoped SASL "
        "settings would not survive. Fix: use kafka_container_flavor confluent (or kafka_deploy_mode host) for "
        "SASL listeners, or PLAINTEXT listeners with the bitnami image."]
    for container in ({"deploy_mode": "container", "flavor": "confluent"}, {"deploy_mode": "host", "flavor": "bitnami"}):
        assert not [p for p in pre.check("kafka", SECURE, props, brokers_, ["zookeeper"], CREDENTIALS,
                                         container=container) if p.fatal and p.var == "kafka_container_flavor"], container


def test_a_node_that_needs_zookeeper_is_refused_once_the_ensemble_is_decommissioned():
    node = brokers(("k1", 1, "PLAINTEXT://k1:9092"))
    (problem,) = pre.check("k1", SEED_LISTENERS, seed_properties(), node, ["zk1", "zk2"],
                           zookeeper_decommissioned=["zk1", "zk2"])
    text = problem.render("k1")
    assert problem.var == "kafka_metadata_mode" and "zk1, zk2 of the ZooKeeper group are decommissioned" in text
    assert "finish the migration first" in text and "zookeeper_state: present" in text
    # ZooKeeper present: the same node passes; a node without zookeeper.connect (KRaft) passes beside a retired one.
    assert pre.check("k1", SEED_LISTENERS, seed_properties(), node, ["zk1"], zookeeper_decommissioned=[]) == []
    assert pre._decommissioned_zookeeper_problems({"process.roles": "broker"}, ["zk1"]) == []
