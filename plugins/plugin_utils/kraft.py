"""KRaft mode (Kafka 4.x, and 3.9 without ZooKeeper): which part each node plays, the properties that say
so, the cluster id and the first voters of the quorum, and Kafka's KRaft startup rules.

Controller-side (plugin_utils): used by the ``kraft`` filters and the kafka pre-flight action as
``ansible_collections.kafka_stack.core.plugins.plugin_utils.kraft``.

Rules checked here are KafkaConfig.validateValues' KRaft branch (Kafka 3.9/4.x), with Kafka's wording where
Kafka has one, so a message can be searched for in Kafka's documentation and logs.
"""

import base64
import hashlib
import re
import uuid

# Kafka's Uuid.toString(): 16 bytes, URL-safe base64 without padding (22 characters).
_UUID = re.compile(r"^[A-Za-z0-9_-]{22}$")
# Uuids Kafka reserves (Uuid.ZERO_UUID, Uuid.ONE_UUID, Uuid.METADATA_TOPIC_ID): never a cluster or directory id.
_RESERVED = {bytes(16), bytes(15) + b"\x01"}
CONTROLLER_PROTOCOLS = ("PLAINTEXT", "SSL")
# Properties of ZooKeeper mode a KRaft node does not take (the role's defaults set some of them).
ZOOKEEPER_ONLY = ("broker.id", "zookeeper.connect", "zookeeper.connection.timeout.ms", "zookeeper.session.timeout.ms",
                  "zookeeper.set.acl", "inter.broker.protocol.version")


def uuid_string(raw):
    """Kafka's text form of a 16-byte Uuid."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def is_uuid(text):
    """Whether ``text`` is a Kafka Uuid in its text form (what ``kafka-storage.sh random-uuid`` prints)."""
    if not isinstance(text, str) or not _UUID.match(text):
        return False
    raw = base64.urlsafe_b64decode(text + "==")
    return raw not in _RESERVED


def new_cluster_id():
    """A fresh random cluster id, as ``kafka-storage.sh random-uuid`` makes one."""
    while True:
        raw = uuid.uuid4().bytes
        if raw not in _RESERVED and not uuid_string(raw).startswith("-"):
            return uuid_string(raw)


def directory_id(cluster_id, node_id):
    """The directory id of an initial controller's metadata log dir, derived from the cluster id and its
    node id: the same on every run, so a re-run after a failed first format writes the same voter set."""
    digest = hashlib.sha256(f"kafka-stack-ansible/{cluster_id}/{node_id}".encode()).digest()[:16]
    text = uuid_string(digest)
    return text if not text.startswith("-") and digest not in _RESERVED else "A" + text[1:]


def node_roles(host, controllers, brokers):
    """``process.roles`` of ``host``: ``broker``, ``controller`` or ``broker,controller`` (combined)."""
    roles = []
    if host in brokers:
        roles.append("broker")
    if host in controllers:
        roles.append("controller")
    return ",".join(roles)


def controller_endpoint(controller):
    """``host:port`` of a controller of the model (``{host, listener}``): its advertised name and port."""
    listener = controller.get("listener") or {}
    host = listener.get("advertised_host") or controller["host"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{listener.get('advertised_port') or listener.get('port')}"


def quorum_voters(controllers):
    """``controller.quorum.voters`` of a static quorum: ``id@host:port`` of every controller."""
    return ",".join(f"{controller['node_id']}@{controller_endpoint(controller)}" for controller in controllers)


def quorum_bootstrap_servers(controllers):
    """``controller.quorum.bootstrap.servers``: every controller's endpoint, in inventory order."""
    return ",".join(controller_endpoint(controller) for controller in controllers)


def _endpoints(value):
    """The endpoints of a comma-separated ``controller.quorum.bootstrap.servers``."""
    return {item.strip() for item in (value or "").split(",") if item.strip()}


def bootstrap_deferral(state, wanted):
    """Whether a running KRaft node may take a new ``controller.quorum.bootstrap.servers`` (``wanted``) at its next
    start instead of a restart now, as (deferrable, why). ``state`` is the node's kafka_broker_state result.

    Kafka reads the list once, at start: the node asks any endpoint on it which controller leads the quorum
    when it does not know (KafkaRaftClient sends an observer's Fetch to "any bootstrap server"); a voter learns
    the other voters from the metadata log. So a node that keeps running on the list it started with finds the
    leader as long as one controller of that list answers. Deferred only when that stays true whenever the quorum
    itself can work: the list only grows (no controller the node knows was taken away), and the node knows so
    many of the wanted controllers that those it does not know can never form a majority without one it knows.
    Never when the file already differs from what the process started with (an earlier deferral: what it runs
    is not known), or the node does not run (it starts with the new list anyway)."""
    if not state.get("running_version"):
        return False, "the node does not run"
    if state.get("config_changed_since_start", True):
        return False, "server.properties changed after the node started: the list it runs with is not known"
    running, wanted = _endpoints(state.get("bootstrap_servers", "")), _endpoints(wanted)
    if not running:
        return False, "the node runs without controller.quorum.bootstrap.servers"
    if not running <= wanted:
        return False, "controllers it knows were taken off the list: " + ", ".join(sorted(running - wanted))
    if len(running) < (len(wanted) + 1) // 2:
        return False, (f"it knows {len(running)} of the {len(wanted)} controllers: the others could hold a majority "
                       "without one it can ask")
    return True, (f"it knows {len(running)} of the {len(wanted)} controllers, enough to find the quorum's leader; it "
                  "reads the new list at its next start")


def initial_controllers(controllers, cluster_id):
    """``--initial-controllers`` of the first format: ``id@host:port:directory-id`` for every controller."""
    return ",".join(f"{controller['node_id']}@{controller_endpoint(controller)}:"
                    f"{directory_id(cluster_id, controller['node_id'])}" for controller in controllers)


MIGRATION_PHASES = ("none", "controllers", "migrate", "kraft_brokers")


def migration_overlay(phase, kraft_mode, roles, inter_broker_listener_name, zookeeper_connect, voters):
    """The properties a ZooKeeper to KRaft migration adds to a node in ``phase`` (playbooks/zookeeper_to_kraft.yml):
    the controllers keep ZooKeeper (zookeeper.connect, the migration flag, the brokers' inter-broker listener
    to send them RPCs) until the migration is finalized; the brokers in phase ``migrate`` are ZooKeeper-mode
    brokers that also know the quorum (the flag, controller.quorum.voters)."""
    roles = roles.split(",") if isinstance(roles, str) else list(roles)
    if kraft_mode and roles == ["controller"] and phase in ("controllers", "migrate", "kraft_brokers"):
        return {"zookeeper.metadata.migration.enable": True, "zookeeper.connect": zookeeper_connect,
                "inter.broker.listener.name": inter_broker_listener_name}
    if not kraft_mode and phase == "migrate":
        return {"zookeeper.metadata.migration.enable": True, "controller.quorum.voters": voters}
    return {}


def listener_sets(broker_listeners, controller_listener, roles):
    """The listeners a node binds (and advertises), and those of its protocol map: a broker binds its
    broker listeners, a controller the controller listener; every node maps the controller listener."""
    roles = roles.split(",") if isinstance(roles, str) else list(roles)
    bound = list(broker_listeners or []) if "broker" in roles else []
    if "controller" in roles:
        bound.append(controller_listener)
    mapped = bound + ([] if "controller" in roles else [controller_listener])
    return bound, mapped


class Problem:
    """A finding of the KRaft rules: the variable to change, what is wrong, and the fix."""

    def __init__(self, var, message, fix):
        self.var, self.message, self.fix = var, message, fix

    def __repr__(self):
        return f"Problem({self.var!r}, {self.message!r})"


def kraft_startup_problems(props):
    """Kafka's KRaft startup rules applied to a node's rendered properties (KafkaConfig.validateValues)."""
    problems = []
    roles = [r.strip() for r in (props.get("process.roles") or "").split(",") if r.strip()]
    if not roles or [r for r in roles if r not in ("broker", "controller")] or len(set(roles)) != len(roles):
        return [Problem("groups", f"process.roles '{props.get('process.roles', '')}' is not broker, controller "
                        "or both.", "put the host in the broker group, the controller group, or both.")]
    if props.get("zookeeper.connect") and props.get("zookeeper.metadata.migration.enable") != "true":
        problems.append(Problem("kafka_server_properties_extra", "zookeeper.connect is set in KRaft mode (Kafka 4.x "
                                "has no ZooKeeper mode; a 3.9 node would start a migration).",
                                "remove zookeeper.connect: kafka_metadata_mode kraft needs no ZooKeeper."))
    try:
        node_id = int(props.get("node.id", "-1"))
    except ValueError:
        node_id = -1
    if node_id < 0:
        problems.append(Problem("kafka_broker_id", "requirement failed: Missing configuration `node.id` which is "
                                "required when `process.roles` is defined (i.e. when running in KRaft mode).",
                                "set kafka_broker_id (the node.id) of this host to 0 or more."))
    names = [n.strip() for n in (props.get("controller.listener.names") or "").split(",") if n.strip()]
    if not names:
        problems.append(Problem("kafka_controller_listener", "requirement failed: controller.listener.names must "
                                "contain at least one value when running KRaft with just the broker role",
                                "give kafka_controller_listener a name."))
        return problems
    if not props.get("controller.quorum.bootstrap.servers") and not props.get("controller.quorum.voters"):
        problems.append(Problem("groups", "neither controller.quorum.bootstrap.servers nor controller.quorum.voters "
                                "is set: the node would not find the quorum.",
                                "put the controllers in the controller group (kafka_controller_group_name)."))
    protocols = dict(entry.split(":", 1) for entry in (props.get("listener.security.protocol.map") or "").split(",")
                     if ":" in entry)
    listeners = [e.split("://", 1)[0] for e in (props.get("listeners") or "").split(",") if "://" in e]
    first = names[0]
    if first not in protocols:
        problems.append(Problem("kafka_controller_listener", f"controller listener {first} has no security protocol "
                                "in listener.security.protocol.map.", "give kafka_controller_listener a protocol."))
    if "controller" in roles:
        if first not in listeners:
            problems.append(Problem("kafka_controller_listener", "requirement failed: The listeners config must only "
                                    "contain KRaft controller listeners from controller.listener.names when "
                                    f"process.roles=controller; {first} is not in listeners.",
                                    "keep kafka_controller_listener on every controller."))
    elif [n for n in names if n in listeners]:
        problems.append(Problem("kafka_controller_listener", "requirement failed: The listeners config must not "
                                f"contain KRaft controller listeners from controller.listener.names when "
                                f"process.roles contains the broker role because Kafka nodes that are not "
                                f"controllers do not listen on the controller listener: {first}",
                                "give the brokers' kafka_listeners no listener named like kafka_controller_listener."))
    if "broker" in roles:
        inter = props.get("inter.broker.listener.name")
        if inter in names:
            problems.append(Problem("kafka_inter_broker_listener_name", "requirement failed: inter.broker.listener.name "
                                    "must not be a controller listener.", "name one of the broker listeners."))
        if props.get("authorizer.class.name") == "kafka.security.authorizer.AclAuthorizer":
            problems.append(Problem("kafka_server_properties", "authorizer.class.name is kafka.security.authorizer."
                                    "AclAuthorizer, which keeps ACLs in ZooKeeper: a KRaft node cannot load it.",
                                    "use org.apache.kafka.metadata.authorizer.StandardAuthorizer (the ACLs then "
                                    "live in the metadata log)."))
    if props.get("zookeeper.metadata.migration.enable") == "true" and roles != ["controller"]:
        problems.append(Problem("kafka_server_properties_extra", "zookeeper.metadata.migration.enable is true on a "
                                "KRaft broker: during a migration only the controllers (and the brokers still in "
                                "ZooKeeper mode) take it.", "remove zookeeper.metadata.migration.enable."))
    if props.get("inter.broker.protocol.version"):
        problems.append(Problem("kafka_inter_broker_protocol_version", "inter.broker.protocol.version is set in KRaft "
                                "mode, where the metadata.version feature replaces it.",
                                "leave kafka_inter_broker_protocol_version at auto."))
    return problems


def cluster_problems(nodes, controllers, controller_listener, requested_cluster_id=""):
    """Cross-node rules of a KRaft cluster. ``nodes``: [{host, node_id, roles}] of every broker and controller;
    ``controllers``: the controller hosts; ``controller_listener``: this node's controller listener model."""
    problems = []
    if not controllers:
        problems.append(Problem("groups", "no host is in the controller group, so the brokers have no quorum.",
                                "put three (or one, for a lab) hosts in group kafka_controller (dedicated "
                                "controllers), or put brokers in it too (combined nodes)."))
    ids = {}
    for node in nodes:
        ids.setdefault(str(node.get("node_id")), []).append(node["host"])
    for node_id, hosts in ids.items():
        if len(hosts) > 1:
            problems.append(Problem("kafka_broker_id", f"node id {node_id} is shared by {', '.join(hosts)}: node ids "
                                    "must be unique across brokers and controllers.",
                                    "give each broker and controller its own kafka_broker_id."))
    listener = controller_listener or {}
    if not isinstance(listener, dict) or not listener.get("name") or not listener.get("port"):
        problems.append(Problem("kafka_controller_listener", f"{listener!r} is not a listener.",
                                "write it as {name: CONTROLLER, port: 9093, protocol: PLAINTEXT}."))
    elif listener.get("protocol", "PLAINTEXT") not in CONTROLLER_PROTOCOLS:
        problems.append(Problem("kafka_controller_listener", f"protocol {listener.get('protocol')} is not one the role "
                                "renders for the controller listener.",
                                f"use one of {', '.join(CONTROLLER_PROTOCOLS)} (SSL with the brokers' TLS material)."))
    if requested_cluster_id and not is_uuid(requested_cluster_id):
        problems.append(Problem("kafka_cluster_id", f"{requested_cluster_id!r} is not a Kafka cluster id (22 "
                                "characters of URL-safe base64, as `kafka-storage.sh random-uuid` prints).",
                                "leave kafka_cluster_id empty (the role makes one once), or paste the id of the "
                                "cluster these nodes belong to."))
    return problems


def cluster_plan(states, requested_cluster_id, controllers):
    """The cluster id of a run and how each node is formatted, from what the nodes hold.

    ``states``: {host: {formatted: bool, cluster_id: str|None, node_id}} read from each node's meta.properties;
    ``controllers``: the controller group as [{host, node_id, listener}]. Returns ``{cluster_id, generated,
    new_cluster, initial_controllers, joining, problems}``: the id the nodes hold (all the same), else the one
    asked for, else a new one; a cluster is new while no controller is formatted, and its controllers are then
    formatted with ``--initial-controllers``; a controller formatted after that ``joins`` the quorum."""
    problems = []
    held = {}
    for host, state in sorted((states or {}).items()):
        cluster_id = (state or {}).get("cluster_id")
        if cluster_id:
            held.setdefault(cluster_id, []).append(host)
    if len(held) > 1:
        listed = "; ".join(f"{cid} on {', '.join(hosts)}" for cid, hosts in sorted(held.items()))
        problems.append(("", Problem("kafka_cluster_id", f"the nodes hold different cluster ids ({listed}): they "
                                     "belong to different clusters.",
                                     "remove the hosts of the other cluster from this inventory; the role never "
                                     "reformats a node that holds data.")))
    if requested_cluster_id and held and requested_cluster_id not in held:
        problems.append(("", Problem("kafka_cluster_id", f"is {requested_cluster_id} but the nodes hold "
                                     f"{', '.join(sorted(held))}.",
                                     "set kafka_cluster_id to the id the nodes hold, or leave it empty.")))
    generated = False
    if held:
        cluster_id = sorted(held, key=lambda cid: -len(held[cid]))[0]
    elif requested_cluster_id:
        cluster_id = requested_cluster_id
    else:
        cluster_id, generated = new_cluster_id(), True
    new_cluster = not [c for c in controllers if (states.get(c["host"]) or {}).get("formatted")]
    joining = [] if new_cluster else [c["host"] for c in controllers if not (states.get(c["host"]) or {}).get("formatted")]
    return {"cluster_id": cluster_id, "generated": generated, "new_cluster": new_cluster,
            "initial_controllers": initial_controllers(controllers, cluster_id) if new_cluster else "",
            "joining": joining, "problems": problems}
