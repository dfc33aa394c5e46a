"""KRaft filters of the kafka role: a node's part, its listener and quorum properties, and the cluster plan
(cluster id, first voters) from what the nodes hold. The rules live in plugins/plugin_utils/kraft.py."""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.kafka_stack.core.plugins.filter.kafka import kafka_listener_properties
from ansible_collections.kafka_stack.core.plugins.plugin_utils import kraft, migration, model

ACL_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
_SCRAM_LINE = re.compile(r"^SCRAM credential configs for user-principal '(.*)' are (.*)$")


def kafka_bootstrap_deferral(node_states, host, wanted):
    """{deferrable, reason, running, wanted}: whether ``host`` (its kafka_broker_state among the registered loop
    results ``node_states``) takes a changed controller.quorum.bootstrap.servers ``wanted`` at its next start;
    ``running`` is the list its server.properties holds now."""
    state = next((result for result in node_states or [] if result.get("item") == host), None)
    if state is None:
        return {"deferrable": False, "reason": "its state was not read", "running": "", "wanted": wanted}
    deferrable, reason = kraft.bootstrap_deferral(state, wanted)
    return {"deferrable": deferrable, "reason": reason, "running": state.get("bootstrap_servers", ""),
            "wanted": wanted}


def kafka_node_roles(host, controllers, brokers):
    """``process.roles`` of ``host`` from the controller and broker groups ('' when it is in neither)."""
    return kraft.node_roles(host, controllers or [], brokers or [])


def kafka_controller_endpoint(controller):
    """``host:port`` of a controller of the model, where Kafka's tools reach it (--bootstrap-controller)."""
    return kraft.controller_endpoint(controller)


def kafka_kraft_nodes(controllers, brokers):
    """Every node of a KRaft cluster once, ``[{host, node_id}]``: the model's controllers, then its brokers
    not already listed (combined nodes)."""
    nodes = [{"host": c["host"], "node_id": c.get("node_id")} for c in controllers or []]
    seen = {node["host"] for node in nodes}
    return nodes + [{"host": b["host"], "node_id": b.get("broker_id")} for b in brokers or [] if b["host"] not in seen]


def kafka_kraft_listeners(broker_listeners, controller_listener, roles, bound=False):
    """The listeners of a KRaft node: those of its protocol map (default), or with ``bound`` those it binds
    and advertises. A broker maps the controller listener without binding it."""
    bound_set, mapped = kraft.listener_sets(broker_listeners, controller_listener, roles)
    return bound_set if bound else mapped


def kafka_kraft_listener_properties(broker_listeners, inter_broker_listener_name, host, controller_listener, roles):
    """``listeners``, ``advertised.listeners``, ``controller.listener.names`` and, on a broker,
    ``inter.broker.listener.name`` of a KRaft node. ``listener.security.protocol.map`` is not among them: the
    role renders it in both modes from every listener the node knows (kafka_protocol_map of
    kafka_kraft_listeners), which in a migration includes more than the KRaft sets."""
    if not isinstance(controller_listener, dict) or not controller_listener.get("name"):
        raise AnsibleFilterError("kafka_controller_listener must be a listener dict with a name")
    bound, _mapped = kraft.listener_sets(broker_listeners, controller_listener, roles)
    rendered = kafka_listener_properties(bound, inter_broker_listener_name, host)
    props = {
        "listeners": rendered["listeners"],
        "advertised.listeners": rendered["advertised.listeners"],
        "controller.listener.names": str(controller_listener["name"]),
    }
    if "broker" in str(roles).split(","):
        props["inter.broker.listener.name"] = inter_broker_listener_name
    return props


def kafka_kraft_properties(roles, node_id, controllers, quorum="dynamic"):
    """``process.roles``, ``node.id`` and ``controller.quorum.bootstrap.servers`` (a dynamic quorum, KIP-853)
    of a node; ``controllers``: the model's controllers ([{host, node_id, listener}]). The ZooKeeper-mode
    properties (plugin_utils/kraft.py ZOOKEEPER_ONLY) are None: kafka_server_properties drops them."""
    props = {key: None for key in kraft.ZOOKEEPER_ONLY}  # dropped from the rendered properties
    props.update({"process.roles": roles, "node.id": node_id})
    if quorum == "static":  # a migrated cluster (Kafka 3.9 migrates to static quorums only)
        props["controller.quorum.voters"] = kraft.quorum_voters(controllers or [])
    else:
        props["controller.quorum.bootstrap.servers"] = kraft.quorum_bootstrap_servers(controllers or [])
    return props


def kafka_migration_overlay(phase, kraft_mode, roles, inter_broker_listener_name, zookeeper_connect, controllers):
    """What the migration phase adds to a node's properties (plugin_utils/kraft.py migration_overlay)."""
    return kraft.migration_overlay(phase, kraft_mode, roles, inter_broker_listener_name, zookeeper_connect,
                                   kraft.quorum_voters(controllers or []))


def kafka_protocol_map(listeners):
    """``listener.security.protocol.map`` of every listener given (bound or only mapped)."""
    return ",".join(f"{item.get('name')}:{item.get('protocol', '')}" for item in listeners or [])


def kafka_kraft_authorizer(properties, kraft_mode):
    """Rendered properties with ZooKeeper's AclAuthorizer replaced by KRaft's StandardAuthorizer on a KRaft
    node (the ACLs live in the metadata log there; a migration copies them)."""
    if kraft_mode and properties.get("authorizer.class.name") == ACL_AUTHORIZER:
        return dict(properties, **{"authorizer.class.name": STANDARD_AUTHORIZER})
    return properties


def kafka_storage_targets(hosts, hostvars):
    """Where each KRaft node keeps its log dirs (plugin_utils/model.py kafka_storage_targets)."""
    return model.kafka_storage_targets(hosts, hostvars)


def kafka_storage_dirs(host, targets, volumes=None):
    """The log dirs of ``host`` to read on its machine (plugin_utils/model.py storage_dirs)."""
    return model.storage_dirs(host, targets, volumes)


def kafka_kraft_cluster_plan(storage_results, requested_cluster_id, controllers, host):
    """The cluster id and the formatting of this run (plugin_utils/kraft.py cluster_plan) from the registered
    results of kafka_storage (state: read) looped over the nodes; problems rendered in the pre-flight's form,
    a problem of no particular node naming ``host``."""
    states = {result["item"]: result for result in storage_results or []}
    plan = kraft.cluster_plan(states, requested_cluster_id or "", controllers or [])
    plan["problems"] = [f"host {name or host}: {p.var}: {p.message} Fix: {p.fix}" for name, p in plan["problems"]]
    return plan


def kafka_kraft_format_mode(host, plan, roles, quorum="dynamic"):
    """How ``host`` is formatted: ``initial`` (a first controller of a new cluster), ``join`` (a controller
    added to a running quorum) or ``plain`` (no quorum flag: a broker, or any node of a static quorum)."""
    if "controller" not in str(roles).split(",") or quorum == "static":
        return "plain"
    return "join" if host in (plan or {}).get("joining", []) else "initial"


def kafka_kraft_scram_arguments(credentials):
    """``--add-scram`` arguments of ``kafka-storage.sh format`` for the SCRAM credentials the cluster needs
    (``[{name, mechanism, iterations, password}]``): the users exist before the first broker starts."""
    return [f"{c['mechanism']}=[name={c['name']},iterations={c['iterations']},password={c['password']}]"
            for c in credentials or []]


def kafka_kraft_scram_held(described):
    """``{user: {mechanism: iterations}}`` from ``kafka-configs.sh --bootstrap-server --describe --entity-type
    users`` (its lines ``SCRAM credential configs for user-principal 'NAME' are SCRAM-SHA-512=iterations=4096,
    ...``). KRaft hands out no salted keys, so a changed password of a held credential cannot be seen."""
    held = {}
    for line in str(described or "").splitlines():
        match = _SCRAM_LINE.match(line.strip())
        if match:
            for entry in match.group(2).split(","):
                mechanism, _, iterations = entry.strip().partition("=iterations=")
                held.setdefault(match.group(1), {})[mechanism] = iterations
    return held


def kafka_kraft_scram_missing(credentials, held):
    """The credentials (``[{name, mechanism, iterations, password}]``) the cluster lacks or holds with
    another iteration count (``held``: kafka_kraft_scram_held)."""
    return [c for c in credentials or [] if (held or {}).get(c["name"], {}).get(c["mechanism"]) != str(c["iterations"])]


def kafka_kraft_scram_deletions(absent, held):
    """``[{name, mechanisms}]`` of the users declared absent that still hold credentials."""
    return [{"name": name, "mechanisms": sorted(held[name])} for name in absent or [] if (held or {}).get(name)]


def _states(results):
    return {result["item"]: result for result in results or []}


def kafka_migration_progress(state_results, controllers, brokers, znode=None):
    """Where a ZooKeeper to KRaft migration stands (plugin_utils/migration.py progress), from the registered
    results of kafka_broker_state looped over every node and the /migration znode."""
    return migration.progress(_states(state_results), controllers or [], brokers or [], znode)


def kafka_migration_znode(znode):
    """The registered result of zookeeper_znode on /migration as a dict ({} when absent)."""
    return migration.znode_json(znode)


def kafka_migration_guard(phase, state, confirm_finalize=False):
    """Why ``phase`` may not run now (plugin_utils/migration.py guard)."""
    return migration.guard(phase, state, confirm_finalize)


def kafka_migration_rollback(state_results, controllers, brokers, controller_znode=None, migration_znode=None):
    """What going back to ZooKeeper mode takes, or why it may not (plugin_utils/migration.py rollback_plan)."""
    return migration.rollback_plan(_states(state_results), controllers or [], brokers or [],
                                   {"/controller": controller_znode, "/migration": migration_znode})


def kafka_migration_stale_znodes(znode_results):
    """The znodes a rollback removes, from zookeeper_znode looped over their paths (plugin_utils/migration.py
    stale_znodes): /controller while a KRaft controller claims it, /migration while it exists."""
    return migration.stale_znodes({result["item"]: result for result in znode_results or []})


def kafka_migration_prechecks(state_results, brokers, quorum, cluster_znode=None, model_brokers=None):
    """Phase 1's checks of the ZooKeeper-mode brokers (plugin_utils/migration.py prechecks); ``cluster_znode``:
    zookeeper_znode's result for /cluster/id; ``model_brokers``: the stack model's brokers (their ids)."""
    broker_ids = {broker["host"]: broker.get("broker_id") for broker in model_brokers or []}
    return migration.prechecks(_states(state_results), brokers or [], quorum, cluster_znode, broker_ids)


class FilterModule:
    """KRaft filters."""

    def filters(self):
        return {
            "kafka_node_roles": kafka_node_roles,
            "kafka_bootstrap_deferral": kafka_bootstrap_deferral,
            "kafka_kraft_nodes": kafka_kraft_nodes,
            "kafka_controller_endpoint": kafka_controller_endpoint,
            "kafka_kraft_listeners": kafka_kraft_listeners,
            "kafka_kraft_listener_properties": kafka_kraft_listener_properties,
            "kafka_kraft_properties": kafka_kraft_properties,
            "kafka_migration_overlay": kafka_migration_overlay,
            "kafka_protocol_map": kafka_protocol_map,
            "kafka_kraft_authorizer": kafka_kraft_authorizer,
            "kafka_migration_progress": kafka_migration_progress,
            "kafka_migration_guard": kafka_migration_guard,
            "kafka_migration_znode": kafka_migration_znode,
            "kafka_migration_prechecks": kafka_migration_prechecks,
            "kafka_migration_rollback": kafka_migration_rollback,
            "kafka_storage_targets": kafka_storage_targets,
            "kafka_storage_dirs": kafka_storage_dirs,
            "kafka_migration_stale_znodes": kafka_migration_stale_znodes,
            "kafka_kraft_cluster_plan": kafka_kraft_cluster_plan,
            "kafka_kraft_format_mode": kafka_kraft_format_mode,
            "kafka_kraft_scram_arguments": kafka_kraft_scram_arguments,
            "kafka_kraft_scram_held": kafka_kraft_scram_held,
            "kafka_kraft_scram_missing": kafka_kraft_scram_missing,
            "kafka_kraft_scram_deletions": kafka_kraft_scram_deletions,
        }
