"""The stack model: another role's facts resolved from the inventory and that role's own defaults."""

import pathlib

import yaml

from conftest import load_plugin

stack = load_plugin("filter", "stack")
ROOT = pathlib.Path(__file__).resolve().parents[2]


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())


def test_zookeeper_members_take_the_zookeeper_roles_defaults_unless_the_inventory_sets_them():
    zk = defaults("zookeeper")
    hostvars = {"zk1": {"zookeeper_id": 1}, "zk2": {"zookeeper_id": 2, "zookeeper_client_port": 2182,
                                                    "zookeeper_address": "10.0.0.2"}}
    model = stack.stack_model({"zookeeper": ["zk1", "zk2"]}, hostvars)
    first, second = model["zookeeper"]["members"]
    assert first == {"host": "zk1", "id": 1, "address": "zk1", "client_port": zk["zookeeper_client_port"],
                     "quorum_port": zk["zookeeper_quorum_port"], "election_port": zk["zookeeper_election_port"],
                     "state": "present"}
    assert (second["address"], second["client_port"]) == ("10.0.0.2", 2182)
    assert model["kafka"]["brokers"] == []


def test_a_lone_zookeeper_server_is_standalone_with_id_1():
    model = stack.stack_model({"zookeeper": ["zk"]}, {"zk": {}})
    assert model["zookeeper"]["members"][0]["id"] == 1


def test_brokers_resolve_listeners_and_their_ca_as_the_kafka_role_would_on_that_host():
    kafka = defaults("kafka")
    secure = [{"name": "SECURE", "port": 9093, "protocol": "SASL_SSL", "sasl_mechanisms": ["SCRAM-SHA-512"]},
              {"name": "LOCAL", "port": 9092, "protocol": "PLAINTEXT"}]
    hostvars = {"b1": {"kafka_broker_id": 1, "inventory_dir": "/srv/inv"},
                "b2": {"kafka_broker_id": 2, "inventory_dir": "/srv/inv", "kafka_group_name": "brokers",
                       "kafka_listeners": secure, "kafka_inter_broker_listener_name": "SECURE"},
                "b3": {"kafka_broker_id": 3, "kafka_tls_source": "provided", "kafka_tls_ca_cert_src": "/pem/ca.pem"}}
    brokers = stack.stack_model({"kafka": ["b1", "b2", "b3"]}, hostvars)["kafka"]["brokers"]
    assert [b["host"] for b in brokers] == ["b1", "b2", "b3"]
    assert brokers[0]["listeners"] == kafka["kafka_listeners"]
    assert brokers[0]["inter_broker"] == kafka["kafka_inter_broker_listener_name"]
    assert brokers[0]["ca_cert"] == f"/srv/inv/.pki/{kafka['kafka_group_name']}/ca.crt"  # the role's default, templated
    assert brokers[1]["ca_cert"] == "/srv/inv/.pki/brokers/ca.crt"  # that host's own kafka_group_name
    assert brokers[1]["advertised"] == "SECURE://b2:9093,LOCAL://b2:9092"
    assert brokers[1]["protocols"] == {"SECURE": "SASL_SSL", "LOCAL": "PLAINTEXT"}
    assert brokers[1]["mechanisms"] == {"SECURE": ["SCRAM-SHA-512"]}
    assert brokers[1]["tls_listeners"] == ["SECURE"]
    assert brokers[2]["ca_cert"] == "/pem/ca.pem"
    assert [b["broker_id"] for b in brokers] == [1, 2, 3]


def test_group_names_default_to_the_roles_and_can_be_chosen():
    hostvars = {"a": {"zookeeper_id": 1}, "k": {"kafka_broker_id": 7}}
    groups = {"coordination": ["a"], "brokers": ["k"], "quorum": ["q"], "zookeeper": [], "kafka": []}
    hostvars["q"] = {"kafka_broker_id": 9}
    assert stack.stack_model(groups, hostvars)["groups"] == {
        "zookeeper": defaults("zookeeper")["zookeeper_group_name"], "kafka": defaults("kafka")["kafka_group_name"],
        "kafka_controller": defaults("kafka")["kafka_controller_group_name"]}
    model = stack.stack_model(groups, hostvars, "coordination", "brokers", "quorum")
    assert model["groups"] == {"zookeeper": "coordination", "kafka": "brokers", "kafka_controller": "quorum"}
    assert model["kafka"]["controllers"] == [{"host": "q", "node_id": 9, "listener": defaults("kafka")[
        "kafka_controller_listener"]}]
    assert [m["host"] for m in model["zookeeper"]["members"]] == ["a"]
    assert [b["broker_id"] for b in model["kafka"]["brokers"]] == [7]


def test_zookeeper_port_claims_follow_the_ensemble_and_the_admin_server():
    members = stack.stack_model({"zookeeper": ["z1", "z2"]}, {"z1": {"zookeeper_id": 1},
                                                               "z2": {"zookeeper_id": 2}})["zookeeper"]["members"]
    ensemble = stack.zookeeper_port_claims(members, "z1", True, 8080)
    assert [c["var"] for c in ensemble] == ["zookeeper_client_port", "zookeeper_quorum_port",
                                            "zookeeper_election_port", "zookeeper_admin_server_port"]
    assert ensemble[-1]["port"] == 8080
    alone = stack.zookeeper_port_claims(members[:1], "z1", False, 8080)
    assert [c["var"] for c in alone] == ["zookeeper_client_port"]
    assert stack.zookeeper_port_claims(members, "not-a-member", True, 8080) == []


def test_tls_listeners_are_the_ssl_and_sasl_ssl_ones():
    listeners = [{"name": "A", "protocol": "SSL"}, {"name": "B", "protocol": "SASL_PLAINTEXT"},
                 {"name": "C", "protocol": "SASL_SSL"}, {"name": "D", "protocol": "PLAINTEXT"}]
    assert [item["name"] for item in stack.tls_listeners(listeners)] == ["A", "C"]
