"""Container-mode environment filters (plugins/filter/container_env.py): each flavour's mapping rule and
escape, checked both ways (what the role writes is what the image's entrypoint turns back into the
property), and the refusals for what a flavour cannot express."""

import pytest
from ansible.errors import AnsibleFilterError

from conftest import SEED_LISTENERS, load_plugin

env = load_plugin("filter", "container_env")
kafka = load_plugin("filter", "kafka")
zookeeper = load_plugin("filter", "zookeeper")
kafka_ui = load_plugin("filter", "kafka_ui")

SEED = SEED_LISTENERS


def seed_properties():
    listeners = kafka.kafka_listener_properties(SEED, "PLAINTEXT", "kafka")
    return kafka.kafka_server_properties({"broker.id": 1, "zookeeper.connect": "zookeeper:2181",
                                          "log.dirs": ["/var/lib/kafka/data"], "num.partitions": 1,
                                          "unclean.leader.election.enable": False}, listeners)


@pytest.mark.parametrize("flavor", ["bitnami", "confluent"])
def test_seed_properties_round_trip_through_the_entrypoint(flavor):
    props = seed_properties()
    rendered = env.kafka_container_env(props, flavor)
    assert env.kafka_env_properties(rendered, flavor) == props


def test_bitnami_names_as_in_the_seed():
    rendered = env.kafka_container_env(seed_properties(), "bitnami", {"KAFKA_HEAP_OPTS": "-Xmx512m", "KAFKA_OPTS": ""})
    assert rendered["KAFKA_CFG_LISTENERS"] == "PLAINTEXT://:9092,EXTERNAL://:9094"
    assert rendered["KAFKA_CFG_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092,EXTERNAL://localhost:9094"
    assert rendered["KAFKA_CFG_LISTENER_SECURITY_PROTOCOL_MAP"] == "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"
    assert rendered["KAFKA_CFG_ZOOKEEPER_CONNECT"] == "zookeeper:2181"
    assert rendered["KAFKA_CFG_BROKER_ID"] == "1"
    assert rendered["KAFKA_CFG_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    assert rendered["KAFKA_HEAP_OPTS"] == "-Xmx512m" and "KAFKA_OPTS" not in rendered


@pytest.mark.parametrize("key, name", [
    ("listener.name.sasl_ssl.plain.sasl.jaas.config", "KAFKA_CFG_LISTENER_NAME_SASL_SSL_PLAIN_SASL_JAAS_CONFIG"),
    ("listener.name.sasl_plaintext.sasl.enabled.mechanisms",
     "KAFKA_CFG_LISTENER_NAME_SASL_PLAINTEXT_SASL_ENABLED_MECHANISMS"),
    ("zookeeper.clientCnxnSocket", "KAFKA_CFG_ZOOKEEPER_CLIENTCNXNSOCKET"),
])
def test_bitnami_restored_names(key, name):
    rendered = env.kafka_container_env({key: "x"}, "bitnami")
    assert rendered == {name: "x"}
    assert env.kafka_env_properties(rendered, "bitnami") == {key: "x"}


@pytest.mark.parametrize("flavor, key", [
    ("bitnami", "listener.name.external.scram-sha-512.sasl.jaas.config"),
    ("bitnami", "my_custom.setting"),
    ("bitnami", "Upper.case"),
    ("confluent", "listener.name.sasl_ssl.plain.sasl.jaas.config"),
    ("confluent", "a-b.c"),
])
def test_inexpressible_properties_are_refused(flavor, key):
    with pytest.raises(AnsibleFilterError, match="cannot be written"):
        env.kafka_container_env({key: "x"}, flavor)


def test_confluent_refuses_a_property_that_collides_with_a_jvm_variable():
    with pytest.raises(AnsibleFilterError, match="JVM setting"):
        env.kafka_container_env({"heap.opts": "x"}, "confluent")
    assert env.kafka_env_properties({"KAFKA_HEAP_OPTS": "-Xmx1g", "KAFKA_BROKER_ID": "1"}, "confluent") == {
        "broker.id": "1"}


def test_confluent_entrypoint_escapes():
    # cp-kafka's dub.py: "___" -> "-", "__" -> "_", "_" -> "."
    assert env.kafka_env_properties({"KAFKA_A___B__C_D": "x"}, "confluent") == {"a-b_c.d": "x"}


def test_apache_image_is_kraft_only():
    with pytest.raises(AnsibleFilterError, match="KRaft only"):
        env.kafka_container_env(seed_properties(), "apache")


def kraft_properties():
    props = {k: v for k, v in seed_properties().items() if k not in ("broker.id", "zookeeper.connect")}
    return dict(props, **{"process.roles": "broker,controller", "node.id": "1",
                          "controller.quorum.voters": "1@kafka:9093", "controller.listener.names": "CONTROLLER",
                          "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": "x",
                          "transaction.state.log.min.isr": "1"})


def test_apache_names_round_trip_through_the_image_for_kraft():
    props = kraft_properties()
    rendered = env.kafka_container_env(props, "apache", {"KAFKA_HEAP_OPTS": "-Xmx512m", "CLUSTER_ID": "abc"})
    assert rendered["KAFKA_PROCESS_ROLES"] == "broker,controller" and rendered["KAFKA_NODE_ID"] == "1"
    assert rendered["KAFKA_LISTENER_NAME_SASL__SSL_SCRAM___SHA___512_SASL_JAAS_CONFIG"] == "x"
    assert rendered["CLUSTER_ID"] == "abc" and rendered["KAFKA_HEAP_OPTS"] == "-Xmx512m"
    assert env.kafka_env_properties(rendered, "apache") == props


@pytest.mark.parametrize("key", ["a_.b", "a__b.c", "Upper.case"])
def test_apache_refuses_names_its_escapes_cannot_carry(key):
    with pytest.raises(AnsibleFilterError, match="cannot be written"):
        env.kafka_container_env(dict(kraft_properties(), **{key: "x"}), "apache")


@pytest.mark.parametrize("flavor", ["bitnami", "confluent"])
def test_kraft_containers_need_the_apache_image(flavor):
    problems = env.kafka_container_env_problems(kraft_properties(), flavor)
    assert problems == [("kafka_container_flavor", f"{flavor}: the role runs KRaft containers on the apache/kafka "
                         "image only (its launch script formats the log dirs with CLUSTER_ID).",
                         "Set kafka_container_flavor: apache.")]


def members(n):
    hosts = [f"zk{i}" for i in range(1, n + 1)]
    hostvars = {h: {"zookeeper_id": i} for i, h in enumerate(hosts, 1)}
    return zookeeper.zookeeper_members(hosts, hostvars, {"zookeeper_id": None, "zookeeper_address": "",
                                                          "zookeeper_client_port": 2181, "zookeeper_quorum_port": 2888,
                                                          "zookeeper_election_port": 3888})


SETTINGS = {"tickTime": 2000, "initLimit": 10, "syncLimit": 5, "dataDir": "/var/lib/zookeeper/data",
            "dataLogDir": "/var/lib/zookeeper/data", "clientPort": 2181, "maxClientCnxns": 60,
            "autopurge.snapRetainCount": 3, "autopurge.purgeInterval": 24,
            "4lw.commands.whitelist": ["ruok", "srvr", "mntr"], "admin.enableServer": False,
            "admin.serverPort": 8081}


def test_official_zookeeper_image():
    rendered = env.zookeeper_container_env(SETTINGS, members(3), 2, "official")
    assert rendered == {
        "ZOO_MY_ID": "2",
        "ZOO_SERVERS": "server.1=zk1:2888:3888;2181 server.2=zk2:2888:3888;2181 server.3=zk3:2888:3888;2181",
        "ZOO_TICK_TIME": "2000", "ZOO_INIT_LIMIT": "10", "ZOO_SYNC_LIMIT": "5", "ZOO_MAX_CLIENT_CNXNS": "60",
        "ZOO_AUTOPURGE_SNAPRETAINCOUNT": "3", "ZOO_AUTOPURGE_PURGEINTERVAL": "24",
        "ZOO_4LW_COMMANDS_WHITELIST": "ruok,srvr,mntr", "ZOO_ADMINSERVER_ENABLED": "false",
        "ZOO_CFG_EXTRA": "admin.serverPort=8081"}


def test_official_image_refuses_a_value_with_spaces_in_cfg_extra():
    with pytest.raises(AnsibleFilterError, match="space"):
        env.zookeeper_container_env({"ssl.ciphersuites": "A B"}, members(1), 1, "official")


def test_bitnami_zookeeper_image():
    rendered = env.zookeeper_container_env(SETTINGS, members(3), 3, "bitnami")
    assert rendered["ZOO_SERVER_ID"] == "3"
    assert rendered["ZOO_SERVERS"] == "zk1:2888:3888::1,zk2:2888:3888::2,zk3:2888:3888::3"
    assert rendered["ZOO_PORT_NUMBER"] == "2181"
    assert rendered["ZOO_ENABLE_ADMIN_SERVER"] == "no" and rendered["ZOO_ADMIN_SERVER_PORT_NUMBER"] == "8081"
    assert rendered["ZOO_AUTOPURGE_INTERVAL"] == "24" and rendered["ZOO_AUTOPURGE_RETAIN_COUNT"] == "3"
    assert rendered["ALLOW_ANONYMOUS_LOGIN"] == "yes" and rendered["ALLOW_EMPTY_PASSWORD"] == "yes"
    assert "ZOO_SERVERS" not in env.zookeeper_container_env(SETTINGS, members(1), 1, "bitnami")


def test_bitnami_zookeeper_refuses_settings_it_has_no_variable_for():
    with pytest.raises(AnsibleFilterError, match="no variable for globalOutstandingLimit"):
        env.zookeeper_container_env({"globalOutstandingLimit": 1000}, members(1), 1, "bitnami")


def test_kafka_ui_relaxed_binding_as_in_the_seed():
    application = kafka_ui.kafka_ui_application("local", "kafka:9092", "SASL_PLAINTEXT", 8080, "", "LOGIN_FORM",
                                                "admin", "pw", False, False, "",
                                                {"sasl.mechanism": "PLAIN"}, {"kafka": {"update-metrics-rate-millis": 5000}})
    assert env.kafka_ui_container_env(application) == {
        "SERVER_PORT": "8080", "AUTH_TYPE": "LOGIN_FORM",
        "KAFKA_CLUSTERS_0_NAME": "local", "KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS": "kafka:9092",
        "KAFKA_CLUSTERS_0_READONLY": "false",
        "KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_CLUSTERS_0_PROPERTIES_SASL_MECHANISM": "PLAIN",
        "KAFKA_UPDATEMETRICSRATEMILLIS": "5000",
        "DYNAMIC_CONFIG_ENABLED": "false",
        "SPRING_SECURITY_USER_NAME": "admin", "SPRING_SECURITY_USER_PASSWORD": "pw"}


def test_kafka_ports_publish_what_is_advertised_outside_the_network():
    listeners = SEED + [{"name": "PUBLIC", "port": 9095, "protocol": "PLAINTEXT", "advertised_host": "kafka.example.com",
                         "advertised_port": 19095}]
    assert env.kafka_container_ports(listeners, ["kafka"]) == [
        "127.0.0.1:9094:9094",            # EXTERNAL://localhost:9094: loopback only, as the seed means it
        "0.0.0.0:19095:9095"]             # another name: every interface, on the advertised port
    assert env.kafka_container_ports(listeners, ["kafka"], "10.0.0.5") == ["10.0.0.5:9094:9094", "10.0.0.5:19095:9095"]
    # A listener without advertised_host advertises the container's own name: network only.
    assert env.kafka_container_ports([{"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT"}], ["kafka"]) == []


def test_network_aliases_skip_loopback_empty_and_repeated_names():
    assert env.container_network_aliases(["kafka", "kafka", "", None, "localhost", "broker1"]) == ["kafka", "broker1"]


def test_volumes_are_named_after_the_prefix_and_role():
    assert env.container_volumes({"datalog": "/datalog", "data": "/data"}, "zookeeper") == [
        {"name": "zookeeper-data", "path": "/data", "spec": "zookeeper-data:/data"},
        {"name": "zookeeper-datalog", "path": "/datalog", "spec": "zookeeper-datalog:/datalog"}]
    with pytest.raises(AnsibleFilterError, match="volume prefix is empty"):
        env.container_volumes({"data": "/data"}, "")


def test_env_strings_for_docker():
    assert env.container_env_strings({"A": 256, "B": True, "C": ["x", "y"], "D": "", "E": None}) == {
        "A": "256", "B": "true", "C": "x,y"}


# The stand-in images' entrypoints are separate implementations of the images' rules, written from the
# images' documentation (testbed/standins/images). The role's filters must agree with them.

def load_standin(path, name):
    import importlib.util
    import pathlib
    spec = importlib.util.spec_from_file_location(name, pathlib.Path(__file__).parents[2] / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("flavor", ["bitnami", "confluent"])
def test_stand_in_kafka_entrypoint_reads_back_what_the_filter_writes(flavor):
    entrypoint = load_standin("testbed/standins/images/kafka/entrypoint.py", "kafka_standin_entrypoint")
    props = seed_properties()
    rendered = env.kafka_container_env(props, flavor, {"KAFKA_HEAP_OPTS": "-Xmx512m"})
    read, _ = getattr(entrypoint, flavor)(dict(rendered, PATH="/usr/bin"))
    assert read == props


def test_stand_in_kafka_ui_entrypoint_binds_back_what_the_filter_writes():
    entrypoint = load_standin("testbed/standins/images/kafka-ui/entrypoint.py", "kafka_ui_standin_entrypoint")
    application = kafka_ui.kafka_ui_application("local", "kafka:9092", "SASL_SSL", 8080, "", "LOGIN_FORM",
                                                "admin", "pw", True, False, "", {"sasl.mechanism": "PLAIN"}, None)
    bound = {}
    for name, value in env.kafka_ui_container_env(application).items():
        assert entrypoint.bind(name.split("_"), entrypoint.SCHEMA, bound, value), name
    assert bound == stringify(application)


def stringify(node):
    """Every scalar as an environment variable carries it (Spring converts them back when binding)."""
    if isinstance(node, dict):
        return {key: stringify(value) for key, value in node.items()}
    if isinstance(node, list):
        return [stringify(value) for value in node]
    return str(node).lower() if isinstance(node, bool) else str(node)


def test_port_claims_from_docker_port_specs():
    claims = env.container_port_claims(["127.0.0.1:2181:2181", "9094:9094/tcp", "[::1]:8080:8080", "9092",
                                        "127.0.0.1::9999"], "ZooKeeper container", "v", "local", "ignored")
    assert [(c["bind"], c["port"], c["engine"]) for c in claims] == [
        ("127.0.0.1", "2181", "the controller"), ("", "9094", "the controller"), ("::1", "8080", "the controller")]
    assert env.container_port_claims(["1:1"], "s", "v", "ssh", "docker1")[0]["engine"] == "docker1"


stack = load_plugin("action", "stack_preflight")


def test_containers_of_two_hosts_publishing_one_port_on_one_engine_clash():
    zk1 = env.container_port_claims(["127.0.0.1:2181:2181"], "ZooKeeper container", "zookeeper_container_published_ports",
                                    "local", "zk1")
    zk2 = env.container_port_claims(["2181:2181"], "ZooKeeper container", "zookeeper_container_published_ports",
                                    "local", "zk2")
    zk3 = env.container_port_claims(["2181:2181"], "ZooKeeper container", "zookeeper_container_published_ports",
                                    "ssh", "other-docker-host")
    problems = stack.check("zk1", zk1, {"zk1": zk1, "zk2": zk2, "zk3": zk3})
    assert [p.render("zk1") for p in problems] == [
        "host zk1: zookeeper_container_published_ports: port 2181 published by the ZooKeeper container is also "
        "published by the ZooKeeper container of zk2 (zookeeper_container_published_ports) on the Docker engine of "
        "the controller; the second container would fail to start. Fix: give each container on one Docker engine "
        "its own host port in zookeeper_container_published_ports."]
    other_address = env.container_port_claims(["127.0.0.2:2181:2181"], "s", "v", "local", "zk4")
    assert stack.check("zk1", zk1, {"zk4": other_address}) == []


def test_preflight_reports_every_setting_the_image_cannot_take_at_once(plugin):
    """Container-flavour refusals are pre-flight problems like the others: all of them, host + variable + fix."""
    zk = plugin("action", "zookeeper_preflight")
    container = {"deploy_mode": "container", "flavor": "bitnami",
                 "config": {"tickTime": 2000, "globalOutstandingLimit": 1000, "fsync.warningthresholdms": 50}}
    found = [p.render("zk1") for p in zk.check("zk1", {}, [{"host": "zk1", "id": 1, "address": "zk1",
                                                              "client_port": 2181, "quorum_port": 2888,
                                                              "election_port": 3888}], container=container)
             if p.fatal and p.var == "zookeeper_config_extra"]
    assert found == [
        "host zk1: zookeeper_config_extra: zookeeper_container_flavor bitnami: the image has no variable for "
        f"{key}. Fix: remove the setting (zookeeper_config_extra or the role variable behind it) or choose the "
        "other zookeeper_container_flavor." for key in ("fsync.warningthresholdms", "globalOutstandingLimit")]
    assert not [p for p in zk.check("zk1", {}, [], container=dict(container, deploy_mode="host")) if p.fatal
                and p.var == "zookeeper_config_extra"]


def test_confluent_refuses_each_property_name_it_cannot_spell(plugin):
    env = plugin("filter", "container_env")
    refusals = env.kafka_container_env_problems({"broker.id": 1, "my_custom.setting": 1, "other-name.x": 2,
                                                 "heap.opts": "x"}, "confluent")
    assert [var for var, _, _ in refusals] == ["kafka_server_properties_extra"] * 3
    assert ["KAFKA_HEAP_OPTS" in m for _, m, _ in refusals] == [True, False, False]
    assert env.kafka_container_env_problems({"broker.id": 1}, "confluent") == []


def test_volumes_of_another_image_layout_are_told_apart(plugin):
    env = plugin("filter", "container_env")
    volumes = [{"Name": "kafka-data", "Labels": {"kafka-stack.layout": "kafka bitnami"}},
               {"Name": "zk-data", "Labels": {"kafka-stack.layout": "kafka confluent"}},
               {"Name": "old", "Labels": None}, {"Name": "bare"}]
    assert [v["Name"] for v in env.container_foreign_volumes(volumes, "kafka confluent")] == ["kafka-data"]
    assert env.container_foreign_volumes(volumes, "kafka bitnami") == [volumes[1]]
