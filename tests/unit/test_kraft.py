"""KRaft mode: node roles, listener and quorum properties, the cluster plan (cluster id, first voters), Kafka's
KRaft startup rules, the quorum readers and the storage module's guard against reformatting."""

import json
import os
import re

import pytest
import yaml

from conftest import SEED_LISTENERS, load_plugin

kraft = load_plugin("plugin_utils", "kraft")
filters = load_plugin("filter", "kraft")
tools = load_plugin("module_utils", "kafka_tools")
storage = load_plugin("modules", "kafka_storage")
preflight = load_plugin("action", "kafka_preflight")
broker_state = load_plugin("modules", "kafka_broker_state")
kafka_filters = load_plugin("filter", "kafka")
rolling = load_plugin("filter", "rolling")

CONTROLLER = {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}
CONTROLLERS = [{"host": f"c{i}", "node_id": i, "listener": CONTROLLER} for i in (1, 2, 3)]

# kafka-metadata-quorum.sh of Kafka 4.4.0 (measured on the test bed's real release).
STATUS = """ClusterId:              9ptiUtdPSISv3BavsilzEQ
LeaderId:               2
LeaderEpoch:            3
HighWatermark:          640
MaxFollowerLag:         0
MaxFollowerLagTimeMs:   0
CurrentVoters:          [{"id": 1, "directoryId": "joWSja2NTVSXFg5kUlaQaw", "endpoints": ["CONTROLLER://c1:9093"]}, \
{"id": 2, "directoryId": "UlYW70FHQLKoqMFhGHpFeg", "endpoints": ["CONTROLLER://c2:9093"]}, \
{"id": 3, "directoryId": "paSkbCgdSaKG8QvAZuF1hA", "endpoints": ["CONTROLLER://c3:9093"]}]
CurrentObservers:       [{"id": 4, "directoryId": "x4ZQm0VfQ0WvHnYbD5dA2g"}]
"""
REPLICATION = ("NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus\t\n"
               "2     \tUlYW70FHQLKoqMFhGHpFeg\t640         \t0  \t1796353964820     \t1796353964820        \tLeader\t\n"
               "1     \tjoWSja2NTVSXFg5kUlaQaw\t640         \t0  \t1796353964820     \t1796353964820        \tFollower\t\n"
               "3     \tpaSkbCgdSaKG8QvAZuF1hA\t500         \t140\t1796353964820     \t1796353964820        \tFollower\t\n"
               "4     \tx4ZQm0VfQ0WvHnYbD5dA2g\t638         \t2  \t1796353964820     \t1796353964820        \tObserver\t\n")


def test_node_roles_follow_the_groups():
    assert kraft.node_roles("b1", ["c1"], ["b1"]) == "broker"
    assert kraft.node_roles("c1", ["c1"], ["b1"]) == "controller"
    assert kraft.node_roles("n1", ["n1"], ["n1"]) == "broker,controller"


def test_broker_maps_but_does_not_bind_the_controller_listener():
    props = filters.kafka_kraft_listener_properties(SEED_LISTENERS, "PLAINTEXT", "b1", CONTROLLER, "broker")
    assert "CONTROLLER" not in props["listeners"] and "listener.security.protocol.map" not in props
    mapped = filters.kafka_kraft_listeners(SEED_LISTENERS, CONTROLLER, "broker")
    assert "CONTROLLER:PLAINTEXT" in filters.kafka_protocol_map(mapped).split(",")
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"


def test_dedicated_controller_binds_only_its_listener():
    props = filters.kafka_kraft_listener_properties(SEED_LISTENERS, "PLAINTEXT", "c1", CONTROLLER, "controller")
    assert props["listeners"] == "CONTROLLER://:9093"
    assert props["advertised.listeners"] == "CONTROLLER://c1:9093"
    assert filters.kafka_protocol_map(filters.kafka_kraft_listeners(SEED_LISTENERS, CONTROLLER, "controller")) == (
        "CONTROLLER:PLAINTEXT")
    assert "inter.broker.listener.name" not in props


def test_combined_node_binds_both():
    props = filters.kafka_kraft_listener_properties(SEED_LISTENERS, "PLAINTEXT", "n1", CONTROLLER, "broker,controller")
    assert props["listeners"].split(",") == ["PLAINTEXT://:9092", "EXTERNAL://:9094", "CONTROLLER://:9093"]


def test_quorum_bootstrap_and_initial_controllers():
    props = filters.kafka_kraft_properties("broker", 4, CONTROLLERS)
    assert props["controller.quorum.bootstrap.servers"] == "c1:9093,c2:9093,c3:9093"
    initial = kraft.initial_controllers(CONTROLLERS, "9ptiUtdPSISv3BavsilzEQ")
    entries = initial.split(",")
    assert [entry.split("@")[0] for entry in entries] == ["1", "2", "3"]
    directory_ids = [entry.rsplit(":", 1)[1] for entry in entries]
    assert all(kraft.is_uuid(d) for d in directory_ids) and len(set(directory_ids)) == 3
    # The same on every run (a re-run after a failed first format writes the same voter set) ...
    assert kraft.initial_controllers(CONTROLLERS, "9ptiUtdPSISv3BavsilzEQ") == initial
    # ... and another cluster gets other directory ids.
    assert kraft.initial_controllers(CONTROLLERS, "AAAAAAAAAAAAAAAAAAAAAQ") != initial


def test_new_cluster_id_is_random_and_valid():
    ids = {kraft.new_cluster_id() for _ in range(50)}
    assert len(ids) == 50 and all(kraft.is_uuid(i) and len(i) == 22 for i in ids)
    assert not kraft.is_uuid("AAAAAAAAAAAAAAAAAAAAAA")  # Uuid.ZERO_UUID
    assert not kraft.is_uuid("my-cluster")


def _read(formatted, cluster_id=None):
    return {"formatted": formatted, "cluster_id": cluster_id or ""}


def test_plan_of_a_new_cluster_generates_one_id_and_initial_voters():
    states = {h: _read(False) for h in ("c1", "c2", "c3", "b1")}
    plan = kraft.cluster_plan(states, "", CONTROLLERS)
    assert plan["new_cluster"] and plan["generated"] and kraft.is_uuid(plan["cluster_id"])
    assert plan["initial_controllers"].startswith("1@c1:9093:") and plan["joining"] == []
    assert plan["problems"] == []


def test_plan_keeps_the_id_the_nodes_hold_and_lets_a_new_controller_join():
    states = {"c1": _read(True, "9ptiUtdPSISv3BavsilzEQ"), "c2": _read(True, "9ptiUtdPSISv3BavsilzEQ"),
              "c3": _read(False), "b1": _read(True, "9ptiUtdPSISv3BavsilzEQ")}
    plan = kraft.cluster_plan(states, "", CONTROLLERS)
    assert plan["cluster_id"] == "9ptiUtdPSISv3BavsilzEQ" and not plan["generated"]
    assert not plan["new_cluster"] and plan["joining"] == ["c3"] and plan["initial_controllers"] == ""
    assert filters.kafka_kraft_format_mode("c3", plan, "controller") == "join"
    assert filters.kafka_kraft_format_mode("b1", plan, "broker") == "plain"
    assert filters.kafka_kraft_format_mode("c3", plan, "controller", "static") == "plain"


def test_plan_refuses_nodes_of_two_clusters_and_a_pinned_id_they_do_not_hold():
    states = {"c1": _read(True, "9ptiUtdPSISv3BavsilzEQ"), "c2": _read(True, "UlYW70FHQLKoqMFhGHpFeg")}
    results = [dict(state, item=host) for host, state in states.items()]
    plan = filters.kafka_kraft_cluster_plan(results, "paSkbCgdSaKG8QvAZuF1hA", CONTROLLERS, "c1")
    text = "\n".join(plan["problems"])
    assert "different cluster ids" in text and "c2" in text and "kafka_cluster_id" in text
    assert "is paSkbCgdSaKG8QvAZuF1hA but the nodes hold" in text


def _props(**extra):
    props = {"process.roles": "broker", "node.id": "4", "controller.listener.names": "CONTROLLER",
             "controller.quorum.bootstrap.servers": "c1:9093", "listeners": "PLAINTEXT://:9092",
             "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
             "inter.broker.listener.name": "PLAINTEXT"}
    props.update(extra)
    return props


def test_startup_rules_accept_a_rendered_broker():
    assert kraft.kraft_startup_problems(_props()) == []


@pytest.mark.parametrize("change, var, words", [
    ({"listeners": "PLAINTEXT://:9092,CONTROLLER://:9093"}, "kafka_controller_listener", "must not contain"),
    ({"node.id": "-1"}, "kafka_broker_id", "node.id"),
    ({"controller.quorum.bootstrap.servers": ""}, "groups", "quorum"),
    ({"zookeeper.connect": "zk:2181"}, "kafka_server_properties_extra", "zookeeper.connect"),
    ({"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer"}, "kafka_server_properties",
     "StandardAuthorizer"),
    ({"inter.broker.protocol.version": "3.9"}, "kafka_inter_broker_protocol_version", "metadata.version"),
    ({"process.roles": "broker,zookeeper"}, "groups", "process.roles"),
])
def test_startup_rules_refuse(change, var, words):
    problems = kraft.kraft_startup_problems(_props(**change))
    assert [p.var for p in problems] == [var] and words in problems[0].message + problems[0].fix


def test_controller_must_bind_its_listener():
    problems = kraft.kraft_startup_problems(_props(**{"process.roles": "controller", "listeners": "PLAINTEXT://:9092"}))
    assert [p.var for p in problems] == ["kafka_controller_listener"]


def test_cluster_rules_name_the_clashing_node_ids_and_the_missing_controllers():
    nodes = [{"host": "c1", "node_id": 1}, {"host": "b1", "node_id": 1}]
    problems = kraft.cluster_problems(nodes, [], {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_SSL"},
                                      "not-an-id")
    text = " ".join(p.message for p in problems)
    assert "c1, b1" in text and "no host is in the controller group" in text
    assert {p.var for p in problems} == {"kafka_broker_id", "groups", "kafka_controller_listener", "kafka_cluster_id"}


def test_preflight_refuses_zookeeper_mode_on_kafka_4_and_kraft_containers_off_the_apache_image():
    zk = preflight._metadata_mode_problems({"mode": "zookeeper", "version": "4.4.0"})
    assert [p.var for p in zk] == ["kafka_metadata_mode"] and "no ZooKeeper mode" in zk[0].message
    container = {"mode": "kraft", "version": "4.4.0", "deploy_mode": "container"}
    kr = preflight._metadata_mode_problems(dict(container, quorum="dynamic"))
    assert [p.var for p in kr] == ["kafka_kraft_quorum"] and "set kafka_kraft_quorum: static" in kr[0].fix
    assert preflight._metadata_mode_problems(dict(container, quorum="static")) == []


def test_preflight_of_a_kraft_container_wants_the_apache_image():
    props = {"process.roles": "broker,controller", "node.id": "1", "controller.listener.names": "CONTROLLER",
             "controller.quorum.voters": "1@kafka:9093", "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
             "advertised.listeners": "PLAINTEXT://kafka:9092", "inter.broker.listener.name": "PLAINTEXT",
             "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
             "log.dirs": "/var/lib/kafka/data"}
    listeners = [{"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT", "advertised_host": "kafka"}]
    metadata = {"mode": "kraft", "version": "4.4.0", "deploy_mode": "container", "quorum": "static",
                "controllers": ["local-kafka"], "nodes": [{"host": "local-kafka", "node_id": 1}],
                "controller_listener": CONTROLLER, "cluster_id": "", "listeners": listeners}
    brokers = [{"host": "local-kafka", "broker_id": 1, "advertised": "PLAINTEXT://kafka:9092"}]
    refused = preflight.check("local-kafka", listeners, props, brokers, [], metadata=metadata,
                              container={"deploy_mode": "container", "flavor": "bitnami"})
    assert [(p.var, p.fix) for p in refused] == [("kafka_container_flavor", "Set kafka_container_flavor: apache.")]
    assert preflight.check("local-kafka", listeners, props, brokers, [], metadata=metadata,
                           container={"deploy_mode": "container", "flavor": "apache"}) == []
    assert preflight._metadata_mode_problems({"mode": "kraft", "version": "3.8.1"})[0].var == "kafka_version"
    assert preflight._metadata_mode_problems({"mode": "kraft", "version": "4.4.0", "deploy_mode": "host"}) == []


def test_preflight_of_a_dedicated_controller_ignores_broker_listeners_rules():
    props = {"process.roles": "controller", "node.id": "1", "controller.listener.names": "CONTROLLER",
             "controller.quorum.bootstrap.servers": "c1:9093", "listeners": "CONTROLLER://:9093",
             "listener.security.protocol.map": "CONTROLLER:PLAINTEXT", "log.dirs": "/var/lib/kafka"}
    metadata = {"mode": "kraft", "version": "4.4.0", "deploy_mode": "host", "controllers": ["c1"],
                "nodes": [{"host": "c1", "node_id": 1}, {"host": "b1", "node_id": 4}],
                "controller_listener": CONTROLLER, "cluster_id": "", "listeners": SEED_LISTENERS}
    assert preflight.check("c1", SEED_LISTENERS, props, [], [], metadata=metadata) == []


def test_the_replication_table_says_what_describe_status_says():
    # Both print one DescribeQuorum answer (Kafka's MetadataQuorumCommand): the modules ask --replication only.
    rows = tools.parse_quorum_replication(REPLICATION)
    assert [(r["node_id"], r["lag"], r["status"]) for r in rows] == [
        (2, 0, "Leader"), (1, 0, "Follower"), (3, 140, "Follower"), (4, 2, "Observer")]
    assert rows[1]["directory_id"] == "joWSja2NTVSXFg5kUlaQaw"
    fields = dict(line.split(":", 1) for line in STATUS.splitlines())
    said = {"leader_id": int(fields["LeaderId"]),
            "voters": [{"id": node["id"]} for node in json.loads(fields["CurrentVoters"])],
            "observers": [{"id": node["id"]} for node in json.loads(fields["CurrentObservers"])]}
    status = tools.status_from_replication(rows)
    assert (status["leader_id"], sorted(v["id"] for v in status["voters"]), status["observers"]) == (
        said["leader_id"], sorted(v["id"] for v in said["voters"]), said["observers"])


def test_quorum_problems_name_the_lagging_voter_unless_tolerated():
    rows = tools.parse_quorum_replication(REPLICATION)
    status = tools.status_from_replication(rows)
    assert tools.quorum_problems(status, rows, max_lag=10) == ["voter 3 is not caught up (lag 140)"]
    assert tools.quorum_problems(status, rows, max_lag=10, tolerate=3) == []
    assert tools.quorum_problems(status, rows, node_id=4, part="observer", max_lag=10, tolerate=3) == []
    assert tools.quorum_problems(status, rows, node_id=5, part="voter", max_lag=10, tolerate=3) == [
        "node 5 is not a voter of the quorum"]
    assert "the quorum has no leader" in tools.quorum_problems(dict(status, leader_id=-1), rows, tolerate=3)
    # A controller about to join: an observer that has caught up (or already a voter) passes.
    assert tools.quorum_problems(status, rows, node_id=4, part="either", max_lag=10, tolerate=3) == []
    assert tools.quorum_problems(status, rows, node_id=2, part="either", max_lag=10, tolerate=3) == []
    assert tools.quorum_problems(status, rows, node_id=9, part="either", tolerate=3) == ["node 9 is not in the quorum"]


def test_api_versions_nodes_fenced_or_not():
    out = ("b1:9092 (id: 4 rack: null isFenced: false) -> (\n\tProduce(0): 3 to 12 [usable: 12],\n)\n"
           "b2:9092 (id: 5 rack: null isFenced: true) -> (\n)\nb3:9092 (id: 6 rack: null) -> (\n)\n")
    assert tools.parse_api_versions_nodes(out) == {4: False, 5: True, 6: None}


def test_storage_never_formats_a_formatted_dir(tmp_path):
    done, empty = tmp_path / "a", tmp_path / "b"
    done.mkdir()
    empty.mkdir()
    (done / "meta.properties").write_text("#\nnode.id=1\ndirectory.id=joWSja2NTVSXFg5kUlaQaw\nversion=1\n"
                                          "cluster.id=9ptiUtdPSISv3BavsilzEQ\n")
    directories, ids = storage.inspect([str(done), str(empty)])
    assert list(directories) == [str(done)] and ids == ["9ptiUtdPSISv3BavsilzEQ"]
    params = {"kafka_home": "/opt/kafka", "config": "/etc/kafka/server.properties", "cluster_id": "9ptiUtdPSISv3BavsilzEQ",
              "format_mode": "join", "initial_controllers": "", "scram": ["SCRAM-SHA-512=[name=a,password=b]"]}
    argv = storage.format_argv(params, partial=True)
    assert "--ignore-formatted" in argv and "--no-initial-controllers" in argv
    assert argv[argv.index("--add-scram") + 1] == "SCRAM-SHA-512=[name=a,password=b]"


def test_scram_credentials_missing_from_a_running_cluster():
    described = ("SCRAM credential configs for user-principal 'broker' are SCRAM-SHA-512=iterations=4096\n"
                 "SCRAM credential configs for user-principal 'app' are SCRAM-SHA-256=iterations=8192, "
                 "SCRAM-SHA-512=iterations=4096\n")
    held = filters.kafka_kraft_scram_held(described)
    assert held == {"broker": {"SCRAM-SHA-512": "4096"}, "app": {"SCRAM-SHA-256": "8192", "SCRAM-SHA-512": "4096"}}
    wanted = [{"name": "broker", "mechanism": "SCRAM-SHA-512", "iterations": 4096, "password": "x"},
              {"name": "app", "mechanism": "SCRAM-SHA-256", "iterations": 4096, "password": "y"},
              {"name": "new", "mechanism": "SCRAM-SHA-512", "iterations": 4096, "password": "z"}]
    assert [c["name"] for c in filters.kafka_kraft_scram_missing(wanted, held)] == ["app", "new"]
    assert filters.kafka_kraft_scram_deletions(["app", "gone"], held) == [
        {"name": "app", "mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"]}]
    assert filters.kafka_kraft_scram_arguments(wanted[:1]) == ["SCRAM-SHA-512=[name=broker,iterations=4096,password=x]"]


def test_rolling_order_controllers_then_the_active_one_then_brokers():
    hostvars = {h: {"systemd_service__state": {"kafka": {"restart": True, "mode": mode}}}
                for h, mode in [("b1", "broker"), ("c1", "active_controller"), ("c2", "controller"), ("b2", "broker")]}
    order = rolling.rolling_restart_order(["b1", "c1", "c2", "b2"], hostvars, "kafka",
                                          ["controller", "active_controller", "broker"])
    assert order == ["c2", "c1", "b1", "b2"]
    # The single-mode form is unchanged: the last_mode host last, the others in play order.
    assert rolling.rolling_restart_order(["b1", "c1", "c2"], hostvars, "kafka", "active_controller") == ["b1", "c2", "c1"]


def test_zookeeper_only_properties_are_dropped_in_kraft_mode():
    kafka = load_plugin("filter", "kafka")
    base = {"zookeeper.connection.timeout.ms": 18000, "num.partitions": 3}
    props = dict(base, **filters.kafka_kraft_properties("broker", 4, CONTROLLERS))
    rendered = kafka.kafka_server_properties(props, {})
    assert "zookeeper.connection.timeout.ms" not in rendered and rendered["num.partitions"] == "3"
    assert rendered["process.roles"] == "broker" and rendered["node.id"] == "4"


migration = load_plugin("plugin_utils", "migration")


def _node(roles="", migrating=False, zookeeper=True, running="3.9.2", protocol="3.9"):
    return {"running_version": running, "process_roles": roles, "migration": migrating, "zookeeper": zookeeper,
            "protocol": protocol, "cluster_id": "RCYZ1bCsTlKbOnmHksFeeQ"}


def _progress(controllers, brokers, offset=None):
    states = dict({f"c{i}": c for i, c in enumerate(controllers)}, **{f"b{i}": b for i, b in enumerate(brokers)})
    znode = None if offset is None else {"exists": True, "data": json.dumps({"kraft_metadata_offset": offset})}
    return migration.progress(states, [f"c{i}" for i in range(len(controllers))],
                              [f"b{i}" for i in range(len(brokers))], znode)


def test_migration_progress_counts_a_phase_only_when_every_node_holds_it():
    zk_brokers = [_node(), _node()]
    assert _progress([_node(running=""), _node(running="")], zk_brokers)["done"] == 0
    ctl = [_node("controller", True), _node("controller", True)]
    assert _progress(ctl, zk_brokers)["done"] == 1
    # One broker rolled into migration mode: phase 2 is not complete yet.
    assert _progress(ctl, [_node(migrating=True), _node()], offset=-1)["done"] == 1
    assert _progress(ctl, [_node(migrating=True)] * 2, offset=-1)["done"] == 1  # not copied yet
    assert _progress(ctl, [_node(migrating=True)] * 2, offset=328)["done"] == 2
    kraft_brokers = [_node("broker", zookeeper=False)] * 2
    assert _progress(ctl, kraft_brokers, offset=400)["done"] == 3
    assert _progress([_node("controller", zookeeper=False)] * 2, kraft_brokers)["done"] == 4


@pytest.mark.parametrize("phase, done, words", [
    ("migrate", 0, "needs phase controllers (1) complete"),
    ("kraft_brokers", 1, "needs phase migrate (2) complete"),
    ("migrate", 3, "would undo a later phase"),
    ("controllers", 4, "the migration is finalized"),
    ("finalize", 3, "point of no return"),
    ("switch", 1, "is not a phase"),
])
def test_migration_guard_refuses_out_of_order(phase, done, words):
    problems = migration.guard(phase, {"done": done, "stage": migration.DONE_NAMES[min(done, 4)]})
    assert problems and words in " ".join(problems)


def test_migration_guard_lets_each_phase_run_again_and_in_order():
    for phase, done in [("controllers", 0), ("controllers", 1), ("migrate", 1), ("migrate", 2),
                        ("kraft_brokers", 2), ("kraft_brokers", 3)]:
        assert migration.guard(phase, {"done": done, "stage": ""}) == []
    assert migration.guard("finalize", {"done": 3, "stage": ""}, confirm_finalize=True) == []


def test_migration_prechecks_name_the_broker_and_the_fix():
    states = {"b1": _node(running="3.8.1"), "b2": _node(protocol="3.8"), "b3": _node()}
    problems = migration.prechecks(states, ["b1", "b2", "b3"], "dynamic")
    text = "\n".join(problems)
    assert "host b1: kafka_version: the broker runs Kafka 3.8.1" in text
    assert "host b2: kafka_inter_broker_protocol_version: the broker speaks 3.8" in text
    assert "kafka_kraft_quorum: is dynamic" in text
    assert not [problem for problem in problems if problem.startswith("host b3")]


def test_migration_prechecks_want_zookeepers_cluster_id_in_every_broker():
    states = {"b1": _node(), "b2": _node(), "b3": dict(_node(), cluster_id="UlYW70FHQLKoqMFhGHpFeg")}
    held = {"exists": True, "data": json.dumps({"version": "1", "id": "RCYZ1bCsTlKbOnmHksFeeQ"})}
    problems = migration.prechecks(states, ["b1", "b2", "b3"], "static", held)
    assert [p for p in problems if p.startswith("host b3: kafka_cluster_id: the broker's meta.properties holds "
                                                "cluster id UlYW70FHQLKoqMFhGHpFeg, but ZooKeeper's /cluster/id is "
                                                "RCYZ1bCsTlKbOnmHksFeeQ")]
    states["b3"] = _node()
    assert migration.prechecks(states, ["b1", "b2", "b3"], "static", held) == []
    (missing,) = migration.prechecks(states, ["b1", "b2", "b3"], "static", {"exists": False})
    assert missing.startswith("host b1: groups: ZooKeeper holds no cluster id") and "kafka_zookeeper_chroot" in missing
    assert migration.zookeeper_cluster_id({"exists": True, "data": "not json"}) == ""


def test_migration_prechecks_want_the_id_each_brokers_data_is_registered_under():
    states = {"b1": dict(_node(), stored_id="1"), "b2": dict(_node(), stored_id="1002"), "b3": _node()}
    (problem,) = migration.prechecks(states, ["b1", "b2", "b3"], "static", None, {"b1": 1, "b2": 2, "b3": 3})
    assert problem.startswith("host b2: kafka_broker_id: is 2, but the broker's data is registered under broker id "
                              "1002") and problem.endswith("Fix: set kafka_broker_id: 1002 for b2.")
    results = [dict(state, item=host) for host, state in states.items()]
    model = [{"host": "b1", "broker_id": 1}, {"host": "b2", "broker_id": 1002}, {"host": "b3", "broker_id": 3}]
    assert filters.kafka_migration_prechecks(results, ["b1", "b2", "b3"], "static", None, model) == []


def test_the_broker_state_reads_the_id_the_data_is_registered_under(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "meta.properties").write_text("version=0\nbroker.id=1001\ncluster.id=RCYZ1bCsTlKbOnmHksFeeQ\n")
    assert broker_state.stored_identity([str(tmp_path / "a"), str(tmp_path / "b")]) == ("RCYZ1bCsTlKbOnmHksFeeQ", "1001")
    (tmp_path / "a" / "meta.properties").write_text("version=1\nnode.id=4\ncluster.id=x\ndirectory.id=y\n")
    assert broker_state.stored_identity([str(tmp_path / "a")]) == ("x", "4")
    assert broker_state.stored_identity([]) == ("", "")


def test_migration_overlay_per_phase_and_part():
    assert kraft.migration_overlay("controllers", True, "controller", "INTERNAL", "zk:2181", "1@c1:9093") == {
        "zookeeper.metadata.migration.enable": True, "zookeeper.connect": "zk:2181",
        "inter.broker.listener.name": "INTERNAL"}
    assert kraft.migration_overlay("migrate", False, "broker", "INTERNAL", "zk:2181", "1@c1:9093") == {
        "zookeeper.metadata.migration.enable": True, "controller.quorum.voters": "1@c1:9093"}
    assert kraft.migration_overlay("kraft_brokers", True, "broker", "INTERNAL", "zk:2181", "v") == {}
    assert kraft.migration_overlay("none", True, "controller", "INTERNAL", "zk:2181", "v") == {}
    assert filters.kafka_kraft_properties("controller", 101, CONTROLLERS, "static")["controller.quorum.voters"] == \
        "1@c1:9093,2@c2:9093,3@c3:9093"
    authorized = filters.kafka_kraft_authorizer({"authorizer.class.name": filters.ACL_AUTHORIZER}, True)
    assert authorized["authorizer.class.name"] == filters.STANDARD_AUTHORIZER
    assert filters.kafka_kraft_authorizer({"authorizer.class.name": filters.ACL_AUTHORIZER}, False)[
        "authorizer.class.name"] == filters.ACL_AUTHORIZER


def test_storage_counts_a_zookeeper_mode_meta_properties_as_formatted(tmp_path):
    (tmp_path / "meta.properties").write_text("version=0\nbroker.id=1\ncluster.id=RCYZ1bCsTlKbOnmHksFeeQ\n")
    directories, ids = storage.inspect([str(tmp_path)])
    assert directories[str(tmp_path)]["broker.id"] == "1" and ids == ["RCYZ1bCsTlKbOnmHksFeeQ"]


def _claim(epoch=True, broker=101):
    """/controller as a KRaft controller claims it, or as a ZooKeeper-mode 3.9 broker writes it (epoch -1)."""
    data = {"version": 2, "brokerid": broker, "timestamp": "1764800000000", "kraftControllerEpoch": 1 if epoch else -1}
    return {"exists": True, "data": json.dumps(data)}


def _rollback(controllers, brokers, controller=None, migrated=None):
    states = dict({f"c{i}": c for i, c in enumerate(controllers)}, **{f"b{i}": b for i, b in enumerate(brokers)})
    znode = None if migrated is None else {"exists": True, "data": json.dumps({"kraft_metadata_offset": migrated})}
    return migration.rollback_plan(states, [f"c{i}" for i in range(len(controllers))],
                                   [f"b{i}" for i in range(len(brokers))],
                                   {"/controller": controller, "/migration": znode})


def test_rollback_from_kraft_brokers_goes_through_migration_mode_then_zookeeper():
    ctl = [_node("controller", True)] * 3
    plan = _rollback(ctl, [_node("broker", zookeeper=False)] * 2, _claim(), 400)
    assert plan["refusals"] == [] and plan["kraft_brokers"] == ["b0", "b1"]
    assert plan["steps"] == [
        "roll the brokers in KRaft mode (b0, b1) back to migration mode",
        "stop the controllers (c0, c1, c2) and move their log dirs aside",
        "remove /controller and /migration from ZooKeeper",
        "roll the brokers (b0, b1) without the migration settings"]


def test_rollback_from_migrate_and_from_controllers():
    ctl = [_node("controller", True)] * 3
    plan = _rollback(ctl, [_node(migrating=True)] * 2, _claim(), 328)
    assert plan["refusals"] == [] and plan["kraft_brokers"] == [] and len(plan["steps"]) == 3
    # Phase 1 only: a ZooKeeper-mode broker's claim on /controller stays, the brokers are not rolled.
    plan = _rollback(ctl, [_node(), _node()], _claim(epoch=False, broker=1))
    assert plan["steps"] == ["stop the controllers (c0, c1, c2) and move their log dirs aside"]


def test_rollback_after_a_completed_rollback_has_nothing_to_do():
    stopped = [dict(_node("controller", True, running=""), cluster_id="")] * 3
    assert _rollback(stopped, [_node(), _node()], _claim(epoch=False, broker=2)) == {
        "refusals": [], "steps": [], "kraft_brokers": [], "migrating_brokers": []}
    # A rollback stopped after the znodes went: only the brokers' second roll is left.
    plan = _rollback(stopped, [_node(migrating=True), _node()], _claim(epoch=False, broker=2))
    assert plan["refusals"] == [] and plan["steps"] == ["roll the brokers (b0, b1) without the migration settings"]


def test_rollback_refused_after_finalize_or_with_kraft_brokers_and_a_controller_down():
    final = [_node("controller", zookeeper=False)] * 3
    plan = _rollback(final, [_node("broker", zookeeper=False)] * 2)
    assert plan["refusals"] and "host c0: kafka_migration_phase" in plan["refusals"][0]
    assert "the point of no return" in plan["refusals"][0]
    ctl = [_node("controller", True), _node("controller", True, running=""), _node("controller", True)]
    plan = _rollback(ctl, [_node("broker", zookeeper=False), _node(migrating=True)], _claim(), 400)
    assert plan["refusals"] == [
        "host c1: the brokers b0 run in KRaft mode and can go back to ZooKeeper mode only through migration mode, "
        "with every controller running in migration mode; c1 is not. Fix: start it (the Kafka service on that "
        "host), then run the rollback again."]


def test_stale_znodes_keep_a_zookeeper_brokers_claim():
    assert migration.stale_znodes({"/controller": _claim(), "/migration": {"exists": True}}) == [
        "/controller", "/migration"]
    assert migration.stale_znodes({"/controller": _claim(epoch=False), "/migration": {"exists": False}}) == []
    assert migration.stale_znodes({"/controller": {"exists": True, "data": "not json"}}) == []
    assert migration.controller_claim({"exists": True, "data": '{"version":1,"brokerid":2}'}) is False
    assert migration.controller_claim(None) is False


def test_the_phase_guard_points_to_the_rollback_playbook():
    problems = migration.guard("migrate", {"done": 3, "stage": "brokers in KRaft mode"})
    assert "playbooks/zookeeper_to_kraft_rollback.yml" in problems[0]
    # The rollback is a playbook of its own, not a phase.
    refused = migration.guard("rollback", {"done": 1, "stage": ""})[0]
    assert "'rollback' is not a phase" in refused and "playbooks/zookeeper_to_kraft_rollback.yml" in refused


def test_a_failed_tool_is_told_by_its_exception_lines_not_its_stack_frames():
    trace = ("[2026-12-04 12:03:01,000] ERROR Failed (org.apache.kafka.tools.BrokerApiVersionsCommand)\n"
             "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed: invalid credentials\n"
             + "".join(f"\tat org.apache.kafka.tools.Frame{n}.run(Frame.java:{n})\n" for n in range(40))
             + "\t... 12 more\n")
    said = tools.tool_error(trace)
    assert "SaslAuthenticationException: Authentication failed: invalid credentials" in said
    assert "\tat " not in said and "more" not in said
    assert tools.tool_error("x" * 900, 300) == "x" * 300


def test_the_tasks_run_kafka_tools_with_the_environment_the_modules_use():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "roles", "kafka", "vars", "main.yml")) as handle:
        role_env = yaml.safe_load(handle)["kafka__tool_env"]
    assert "kafka_stack.core.kafka_tool_env" in role_env
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) for name in tools.TOOL_ENV)
    assert "-XX:TieredStopAtLevel=1" in tools.TOOL_ENV["KAFKA_JVM_PERFORMANCE_OPTS"]
    login = "-Djava.security.auth.login.config=/etc/kafka/jaas.conf"
    assert kafka_filters.kafka_tool_env(login) == dict(tools.TOOL_ENV, KAFKA_OPTS=login)
    assert kafka_filters.kafka_tool_env("")["KAFKA_OPTS"] == "" and "KAFKA_OPTS" not in tools.TOOL_ENV


def test_the_registration_check_gives_kafka_broker_api_versions_a_30_s_request_timeout(tmp_path):
    quorum = load_plugin("modules", "kafka_quorum")
    config = tmp_path / "inter-broker-client.properties"
    config.write_text("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n")

    class Module:
        params = {"client_config": str(config)}
        tmpdir = str(tmp_path)

    copy = quorum._api_versions_config(Module())
    with open(copy) as handle:
        assert handle.read() == "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nrequest.timeout.ms=30000\n"
    config.write_text("request.timeout.ms = 9000\n")  # a timeout the operator set is kept
    with open(quorum._api_versions_config(Module())) as handle:
        assert handle.read() == "request.timeout.ms = 9000\n"
    Module.params = {"client_config": ""}
    with open(quorum._api_versions_config(Module())) as handle:
        assert handle.read() == "\nrequest.timeout.ms=30000\n"


NO_ANSWER = {"answered": False, "exists": False, "data": None, "children": [],
             "msg": "no ZooKeeper server answered: mg-zk:2181: [Errno 111] Connection refused"}


def test_a_finalized_migration_is_told_so_when_zookeeper_is_gone():
    """After phase 4 the ensemble may be decommissioned: the nodes alone show the migration finalized."""
    final = [_node("controller", zookeeper=False)] * 3
    kraft_brokers = [_node("broker", zookeeper=False)] * 2
    states = dict({f"c{i}": c for i, c in enumerate(final)}, **{f"b{i}": b for i, b in enumerate(kraft_brokers)})
    state = migration.progress(states, ["c0", "c1", "c2"], ["b0", "b1"], NO_ANSWER)
    assert state["done"] == 4 and "Connection refused" in state["zookeeper_error"]
    (refused,) = migration.guard("controllers", state)
    assert "the migration is finalized" in refused and "ZooKeeper did not answer" not in refused
    assert migration.guard("finalize", state) == []  # a re-run of phase 4 needs no ZooKeeper
    plan = migration.rollback_plan(states, ["c0", "c1", "c2"], ["b0", "b1"],
                                   {"/controller": NO_ANSWER, "/migration": NO_ANSWER})
    assert len(plan["refusals"]) == 1 and "the point of no return" in plan["refusals"][0]


def test_before_finalize_a_silent_zookeeper_refuses_the_phase_and_the_rollback_with_the_reason():
    ctl = [_node("controller", True)] * 3
    migrating = [_node(migrating=True)] * 2
    states = dict({f"c{i}": c for i, c in enumerate(ctl)}, **{f"b{i}": b for i, b in enumerate(migrating)})
    state = migration.progress(states, ["c0", "c1", "c2"], ["b0", "b1"], NO_ANSWER)
    (refused,) = migration.guard("kraft_brokers", state)
    assert refused.startswith("zookeeper_to_kraft_phase: kraft_brokers: ZooKeeper did not answer (no ZooKeeper server "
                              "answered: mg-zk:2181: [Errno 111] Connection refused)")
    assert "Fix: start the ensemble (playbooks/zookeeper.yml, zookeeper_state: present" in refused
    plan = migration.rollback_plan(states, ["c0", "c1", "c2"], ["b0", "b1"],
                                   {"/controller": NO_ANSWER, "/migration": NO_ANSWER})
    (refused,) = plan["refusals"]
    assert refused.startswith("host c0: ZooKeeper did not answer") and "run the rollback again" in refused
    # Phase 1's pre-checks leave the silent ensemble to the guard instead of claiming it holds no cluster id.
    assert migration.prechecks({"b0": _node(), "b1": _node()}, ["b0", "b1"], "static", NO_ANSWER) == []
    assert migration.unanswered(None, {"exists": False}) == ""


def test_the_quorum_module_asks_the_controllers_with_their_client_properties():
    quorum = load_plugin("modules", "kafka_quorum")
    calls = []

    class Module:
        params = {"kafka_home": "/opt/kafka", "bootstrap_controller": "c1:9093,c2:9093",
                  "command_config": "/etc/kafka/controller-client.properties"}

        def run_command(self, argv, environ_update=None):
            calls.append((argv, environ_update))
            return 0, "", ""

    quorum._quorum(Module(), "--status")
    assert calls == [(["/opt/kafka/bin/kafka-metadata-quorum.sh", "--bootstrap-controller", "c1:9093,c2:9093",
                       "--command-config", "/etc/kafka/controller-client.properties", "describe", "--status"],
                      calls[0][1])]
    # the tools' environment, with the class-data sharing options (tests/unit/test_tool_cds.py)
    assert calls[0][1]["KAFKA_HEAP_OPTS"] == tools.TOOL_ENV["KAFKA_HEAP_OPTS"]
    assert calls[0][1]["KAFKA_JVM_PERFORMANCE_OPTS"].startswith(tools.TOOL_ENV["KAFKA_JVM_PERFORMANCE_OPTS"] + " ")
    assert "-XX:ArchiveClassesAtExit=" in calls[0][1]["KAFKA_JVM_PERFORMANCE_OPTS"]
    Module.params = dict(Module.params, command_config="")
    quorum._quorum(Module(), "--replication")
    assert calls[1][0] == ["/opt/kafka/bin/kafka-metadata-quorum.sh", "--bootstrap-controller", "c1:9093,c2:9093",
                           "describe", "--replication"]


RUNNING = {"running_version": "4.4.0", "config_changed_since_start": False,
           "bootstrap_servers": "c1:9093,c2:9093,c3:9093"}


@pytest.mark.parametrize("state, wanted, deferrable, words", [
    (RUNNING, "c1:9093,c2:9093,c3:9093,c4:9093", True, "knows 3 of the 4 controllers"),
    (RUNNING, "c1:9093,c2:9093,c3:9093,c4:9093,c5:9093", True, "knows 3 of the 5"),
    # 3 of 7: the 4 it does not know hold a majority without any it knows
    (RUNNING, ",".join(f"c{i}:9093" for i in range(1, 8)), False, "the others could hold a majority"),
    (dict(RUNNING, bootstrap_servers="c1:9093"), "c1:9093,c2:9093,c3:9093", False, "knows 1 of the 3"),
    (dict(RUNNING, bootstrap_servers="c1:9093"), "c1:9093,c2:9093", True, "knows 1 of the 2"),
    (RUNNING, "c1:9093,c2:9093,c4:9093", False, "taken off the list: c3:9093"),
    (dict(RUNNING, config_changed_since_start=True), "c1:9093,c2:9093,c3:9093,c4:9093", False, "not known"),
    ({k: v for k, v in RUNNING.items() if k != "config_changed_since_start"}, "c1:9093,c2:9093,c3:9093,c4:9093",
     False, "not known"),
    (dict(RUNNING, running_version=""), "c1:9093,c2:9093,c3:9093,c4:9093", False, "does not run"),
    (dict(RUNNING, bootstrap_servers=""), "c1:9093,c2:9093,c3:9093,c4:9093", False, "runs without"),
])
def test_a_running_node_takes_added_controllers_at_its_next_start_only_when_it_still_finds_the_leader(
        state, wanted, deferrable, words):
    """Kafka's observers ask any endpoint of the controller.quorum.bootstrap.servers they started with for the
    leader: deferring the new list is safe only while the controllers a node knows cannot all be gone with the
    quorum still working."""
    found, reason = kraft.bootstrap_deferral(state, wanted)
    assert found is deferrable and words in reason, reason


def test_the_deferral_filter_reads_the_hosts_own_state():
    states = [dict(RUNNING, item="c1"), dict(RUNNING, item="b1", config_changed_since_start=True)]
    wanted = "c1:9093,c2:9093,c3:9093,c4:9093"
    assert filters.kafka_bootstrap_deferral(states, "c1", wanted)["deferrable"] is True
    assert filters.kafka_bootstrap_deferral(states, "b1", wanted)["deferrable"] is False
    missing = filters.kafka_bootstrap_deferral(states, "c9", wanted)
    assert missing["deferrable"] is False and "not read" in missing["reason"]


def test_the_broker_state_tells_a_config_written_after_the_process_started(tmp_path):
    config = tmp_path / "server.properties"
    config.write_text("controller.quorum.bootstrap.servers=c1:9093\n")
    started = broker_state.started_at(os.getpid())
    assert started is not None and abs(started - os.stat(f"/proc/{os.getpid()}").st_mtime) < 600
    assert broker_state.changed_since(str(config), started) is True  # written after this process started
    assert broker_state.changed_since(str(config), config.stat().st_mtime + 60) is False
    assert broker_state.changed_since(str(config), None) is True
    assert broker_state.changed_since(str(tmp_path / "missing"), started) is True
    assert broker_state.started_at(2 ** 30) is None
