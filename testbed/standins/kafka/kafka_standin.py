"""TEST DOUBLE of an Apache Kafka 3.9 broker in ZooKeeper mode (kafka-stack-ansible test bed).

Honours the contracts the roles and the verify tests rely on, so the same tests pass against real
Kafka: `kafka-server-start.sh <server.properties> [--override k=v]...`; Kafka's own startup checks
with Kafka's messages and exit code 1; `zookeeper.connect` reachable or exit 1; `/cluster/id`
created when absent; `meta.properties` in every log dir (a mismatching cluster id refuses to start);
the ephemeral `/brokers/ids/<broker.id>` with Kafka's v5 JSON; the ephemeral `/controller` election;
ZooKeeper SASL (DIGEST-MD5) login from the `Client` section of the JAAS file named by
`-Djava.security.auth.login.config` in KAFKA_OPTS, failing like Kafka when the login is refused, and
`zookeeper.set.acl=true` creating the znodes with Kafka's ACLs (creator all, world read);
every listener bound and serving the
Kafka protocol over one shared log, each advertising its own endpoint (tansu broker on the
inter-broker listener, tansu proxies on the others); on SSL and SASL listeners, TLS with the
listener's keystore and Kafka's SASL exchange (PLAIN from the listener's JAAS users, SCRAM against
the credentials in ZooKeeper), see security_front.py; deregistration on SIGTERM.

Not Kafka: records live in memory (tansu's memory storage) and are gone after a restart; one broker
process does not replicate to others. The checks below are written independently of the roles'
pre-flight plugin on purpose, so that a bug in one is caught by the other.
"""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kazoo.client import KazooClient  # noqa: E402  (vendored beside this file, with pure-sasl)
from kazoo.exceptions import AuthFailedError, NodeExistsError  # noqa: E402
from kazoo.security import CREATOR_ALL_ACL, READ_ACL_UNSAFE  # noqa: E402

import security_front  # noqa: E402  (SASL and TLS of the listeners; beside this file)

TANSU = os.path.join(HERE, "tansu")
KNOWN_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
LOG_FILE = None


def log(level, text, logger="kafka.server.KafkaServer"):
    line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')},{int(time.time() * 1000) % 1000:03d}] {level} {text} ({logger})"
    print(line, flush=True)
    if LOG_FILE:
        with open(LOG_FILE, "a") as out:
            out.write(line + "\n")


def fatal(exception, message):
    log("ERROR", "Exiting Kafka due to fatal exception", "kafka.Kafka$")
    print(f"{exception}: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def require(ok, message):
    if not ok:
        fatal("java.lang.IllegalArgumentException", f"requirement failed: {message}")


def load_properties(path, overrides):
    props = {}
    with open(path) as source:
        for raw in source:
            line = raw.strip()
            if not line or line[0] in "#!":
                continue
            match = re.match(r"^([^=:\s]+)\s*[=:\s]?\s*(.*)$", line)
            props[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))  # java.util.Properties escapes
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            fatal("java.lang.IllegalArgumentException", f"Invalid override: {item}")
        props[key] = value
    return props


def parse_endpoints(value, protocol_map):
    endpoints = []
    for entry in [e.strip() for e in value.split(",") if e.strip()]:
        match = re.match(r"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$", entry)
        if match is None:
            fatal("org.apache.kafka.common.KafkaException", f"Unable to parse {entry} to a broker endpoint")
        name = match.group(1).upper()
        if name not in protocol_map:
            fatal("java.lang.IllegalArgumentException",
                  f"Error creating broker listeners from '{value}': No security protocol defined for listener {name}")
        endpoints.append({"name": name, "host": match.group(2), "port": int(match.group(3))})
    return endpoints


def validate(props):
    """Kafka 3.9 KafkaConfig checks for ZooKeeper mode; returns the parsed configuration."""
    if props.get("process.roles"):
        fatal("org.apache.kafka.common.config.ConfigException", "this stand-in runs ZooKeeper mode only")
    if not props.get("zookeeper.connect"):
        fatal("org.apache.kafka.common.config.ConfigException",
              "Missing required configuration `zookeeper.connect` which has no default value.")
    broker_id = int(props.get("broker.id", -1))
    if props.get("broker.id.generation.enable", "true") == "true":
        require(-1 <= broker_id <= int(props.get("reserved.broker.max.id", 1000)),
                "broker.id must be greater than or equal to -1 and not greater than reserved.broker.max.id")
    else:
        require(broker_id >= 0, "broker.id must be greater than or equal to 0")
    if props.get("node.id") and int(props["node.id"]) != broker_id:
        fatal("org.apache.kafka.common.config.ConfigException", "You must set `node.id` to the same value as `broker.id`.")
    log_dirs = [d.strip() for d in props.get("log.dirs", props.get("log.dir", "/tmp/kafka-logs")).split(",") if d.strip()]
    require(log_dirs, "At least one log directory must be defined via log.dirs or log.dir.")
    protocol_map = {p: p for p in KNOWN_PROTOCOLS}
    if "listener.security.protocol.map" in props:
        protocol_map = {}
        for pair in [p for p in props["listener.security.protocol.map"].split(",") if p.strip()]:
            name, _, protocol = (s.strip() for s in pair.partition(":"))
            if protocol not in KNOWN_PROTOCOLS:
                fatal("org.apache.kafka.common.config.ConfigException",
                      f"Invalid security protocol `{protocol}` defined in listener.security.protocol.map")
            protocol_map[name.upper()] = protocol
    inter = props.get("inter.broker.listener.name")
    if inter and "security.inter.broker.protocol" in props:
        fatal("org.apache.kafka.common.config.ConfigException",
              "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.")
    if inter:
        inter = inter.upper()
        if inter not in protocol_map:
            fatal("org.apache.kafka.common.config.ConfigException",
                  f"Listener with name {inter} defined in inter.broker.listener.name not found in "
                  "listener.security.protocol.map.")
    else:
        inter = props.get("security.inter.broker.protocol", "PLAINTEXT")
    listeners_value = props.get("listeners", "PLAINTEXT://:9092")
    listeners = parse_endpoints(listeners_value, protocol_map)
    require(len({e["name"] for e in listeners}) == len(listeners),
            f"Each listener must have a different name, listeners: {listeners_value}")
    require(len({e["port"] for e in listeners}) == len(listeners),
            f"Each listener must have a different port, listeners: {listeners_value}")
    advertised = parse_endpoints(props.get("advertised.listeners") or listeners_value, protocol_map)
    names = [e["name"] for e in advertised]
    controllers = [c for c in props.get("controller.listener.names", "").split(",") if c.strip()]
    require(not controllers, f"controller.listener.names must be empty when not running in KRaft mode: "
            f"[{', '.join(controllers)}]")
    require(advertised, "There must be at least one broker advertised listener.")
    require(inter in names, "inter.broker.listener.name must be a listener name defined in advertised.listeners. "
            f"The valid options based on currently configured listeners are {','.join(names)}")
    require(set(names) <= {e["name"] for e in listeners},
            "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. "
            f"Found {','.join(names)}. The valid options based on the current configuration are "
            f"{','.join(e['name'] for e in listeners)}")
    require(all(e["host"] != "0.0.0.0" for e in advertised),
            "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.")
    for endpoint in advertised:
        endpoint["host"] = endpoint["host"] or socket.getfqdn()
    return {"broker_id": broker_id, "log_dirs": log_dirs, "protocol_map": protocol_map, "inter": inter,
            "listeners": listeners, "advertised": advertised}


def jaas_client_login():
    """username/password of the ``Client`` section of the JAAS file KAFKA_OPTS names, or None."""
    match = re.search(r"-Djava\.security\.auth\.login\.config=(\S+)", os.environ.get("KAFKA_OPTS", ""))
    if not match:
        return None
    with open(match.group(1)) as handle:
        text = handle.read()
    section = re.search(r"(?ms)^\s*Client\s*\{(.*?)\};", text)
    if not section:
        return None
    options = {key: re.sub(r"\\(.)", r"\1", value)
               for key, value in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', section.group(1))}
    return {"username": options.get("username", ""), "password": options.get("password", "")}


def connect_zookeeper(props):
    timeout = int(props.get("zookeeper.connection.timeout.ms", props.get("zookeeper.session.timeout.ms", 18000)))
    login = jaas_client_login()
    options = {}
    if login:
        options["sasl_options"] = {"mechanism": "DIGEST-MD5", **login}
        log("INFO", f"Client will use DIGEST-MD5 as SASL mechanism (user {login['username']}).",
            "org.apache.zookeeper.client.ZooKeeperSaslClient")
    if props.get("zookeeper.set.acl", "false").lower() == "true":
        if not login:
            fatal("java.lang.SecurityException", "zkEnableSecureAcls is true, but ZooKeeper SASL is not configured.")
        options["default_acl"] = CREATOR_ALL_ACL + READ_ACL_UNSAFE
    client = KazooClient(hosts=props["zookeeper.connect"], timeout=timeout / 1000.0, **options)
    try:
        client.start(timeout=timeout / 1000.0)
    except AuthFailedError:
        fatal("kafka.zookeeper.ZooKeeperClientAuthFailedException", "Auth failed, initialized=false")
    except Exception:  # kazoo raises a timeout of its own type
        fatal("kafka.zookeeper.ZooKeeperClientTimeoutException",
              "Timed out waiting for connection while in state: CONNECTING")
    return client


def cluster_id(client):
    try:
        client.create("/cluster/id", json.dumps({"version": "1", "id": new_cluster_id()}).encode(), makepath=True)
    except NodeExistsError:
        pass
    return json.loads(client.get("/cluster/id")[0])["id"]


def new_cluster_id():
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def write_meta_properties(config, cluster):
    for directory in config["log_dirs"]:
        os.makedirs(directory, exist_ok=True)
        meta = os.path.join(directory, "meta.properties")
        if os.path.exists(meta):
            stored = dict(line.strip().split("=", 1) for line in open(meta) if "=" in line and not line.startswith("#"))
            if stored.get("cluster.id") and stored["cluster.id"] != cluster:
                fatal("org.apache.kafka.common.errors.InconsistentClusterIdException",
                      f"Invalid cluster.id in: {meta}. Expected {cluster}, but read {stored['cluster.id']}")
            if stored.get("broker.id") and int(stored["broker.id"]) != config["broker_id"]:
                fatal("org.apache.kafka.common.errors.InconsistentBrokerIdException",
                      f"Configured broker.id {config['broker_id']} doesn't match stored broker.id "
                      f"Some({stored['broker.id']}) in meta.properties.")
            continue
        with open(meta, "w") as out:
            out.write(f"#\n#{time.strftime('%a %b %d %H:%M:%S UTC %Y')}\n"
                      f"broker.id={config['broker_id']}\nversion=0\ncluster.id={cluster}\n")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_listeners(config, cluster, props, client):
    """tansu broker on the inter-broker listener, tansu proxy on each other listener. An SSL or SASL
    listener is served by a security front (security_front.py) and its tansu process listens on a
    private 127.0.0.1 port behind it, still advertising the listener's endpoint."""
    advertised = {e["name"]: e for e in config["advertised"]}
    children, fronts = [], []
    broker = next(e for e in config["listeners"] if e["name"] == config["inter"])
    ordered = [broker] + [e for e in config["listeners"] if e is not broker]
    lookup = security_front.scram_lookup(client)
    origin = None
    for endpoint in ordered:
        protocol = config["protocol_map"][endpoint["name"]]
        host = endpoint["host"] or "0.0.0.0"
        behind = free_port() if protocol != "PLAINTEXT" else None
        bind = f"tcp://127.0.0.1:{behind}" if behind else f"tcp://{host}:{endpoint['port']}"
        adv = advertised.get(endpoint["name"], endpoint)
        public = f"tcp://{adv['host']}:{adv['port']}"
        if endpoint is broker:
            origin = f"tcp://127.0.0.1:{behind or endpoint['port']}"
            cmd = [TANSU, "broker", "--cluster-id", cluster, "--listener-url", bind,
                   "--advertised-listener-url", public, "--storage-engine", "memory://tansu/"]
        else:
            cmd = [TANSU, "proxy", "--listener-url", bind, "--advertised-listener-url", public, "--origin-url", origin]
        children.append(subprocess.Popen(cmd, stdout=sys.stdout, stderr=sys.stderr))
        if behind:
            wait_for_port("127.0.0.1", behind, children[-1])
            fronts.append(security_front.Front(endpoint["name"], protocol, host, endpoint["port"], behind, props,
                                               lookup, log, fatal))
        wait_for_port("127.0.0.1" if host == "0.0.0.0" else endpoint["host"], endpoint["port"], children[-1])
        log("INFO", f"[SocketServer listenerType=ZK_BROKER, nodeId={config['broker_id']}] "
            f"Created data-plane acceptor and processors for endpoint : ListenerName({endpoint['name']})",
            "kafka.network.SocketServer")
    return children, fronts


def wait_for_port(host, port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fatal("org.apache.kafka.common.KafkaException", f"Socket server failed to bind to {host}:{port}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    fatal("org.apache.kafka.common.KafkaException", f"Socket server failed to bind to {host}:{port}")


def registration(config, props):
    plaintext = next((e for e in config["advertised"] if config["protocol_map"][e["name"]] == "PLAINTEXT"), None)
    data = {
        "features": {},
        "listener_security_protocol_map": {e["name"]: config["protocol_map"][e["name"]] for e in config["advertised"]},
        "endpoints": [f"{e['name']}://{e['host']}:{e['port']}" for e in config["advertised"]],
        "jmx_port": int(props.get("com.sun.management.jmxremote.port", os.environ.get("JMX_PORT", -1)) or -1),
        "port": plaintext["port"] if plaintext else -1,
        "host": plaintext["host"] if plaintext else None,
        "version": 5,
        "timestamp": str(int(time.time() * 1000)),
    }
    if props.get("broker.rack"):
        data["rack"] = props["broker.rack"]
    return json.dumps(data).encode()


def elect_controller(client, broker_id):
    """Kafka's ZooKeeper-mode controller election: the first broker to create the ephemeral /controller wins."""
    data = json.dumps({"version": 2, "brokerid": broker_id, "timestamp": str(int(time.time() * 1000)),
                       "kraftControllerEpoch": -1}).encode()
    try:
        client.create("/controller", data, ephemeral=True)
    except NodeExistsError:
        return
    log("INFO", f"[Controller id={broker_id}] {broker_id} successfully elected as the controller", "kafka.controller")


def main(argv):
    global LOG_FILE
    if not argv or argv[0].startswith("-"):
        print("USAGE: kafka-server-start.sh [-daemon] server.properties [--override property=value]*", file=sys.stderr)
        sys.exit(1)
    overrides, rest = [], argv[1:]
    while rest:
        if rest[0] == "--override" and len(rest) > 1:
            overrides.append(rest[1])
            rest = rest[2:]
        else:
            fatal("java.lang.IllegalArgumentException", f"Unrecognized option: {rest[0]}")
    log_dir = os.environ.get("LOG_DIR")
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
        LOG_FILE = os.path.join(log_dir, "server.log")
    log("INFO", "TEST DOUBLE: kafka-stack-ansible's Kafka stand-in (tansu), not Apache Kafka", "kafka.Kafka$")
    props = load_properties(argv[0], overrides)
    config = validate(props)
    client = connect_zookeeper(props)
    cluster = cluster_id(client)
    log("INFO", f"Cluster ID = {cluster}")
    write_meta_properties(config, cluster)
    children, _fronts = start_listeners(config, cluster, props, client)
    path = f"/brokers/ids/{config['broker_id']}"
    payload = registration(config, props)
    client.ensure_path("/brokers/ids")
    try:
        client.create(path, payload, ephemeral=True)
    except NodeExistsError:
        owner = client.exists(path).ephemeralOwner
        fatal("java.lang.RuntimeException", f"Error while creating ephemeral at {path}, node already exists and "
              f"owner '0x{owner:x}' does not match current session '0x{client.client_id[0]:x}'")
    log("INFO", f"Registered broker {config['broker_id']} at path {path} with addresses: "
        f"{','.join(json.loads(payload)['endpoints'])}", "kafka.zk.KafkaZkClient")
    elect_controller(client, config["broker_id"])
    log("INFO", f"[KafkaServer id={config['broker_id']}] started")

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    while not stopping:
        if any(child.poll() is not None for child in children):
            log("ERROR", "a listener process died; shutting down")
            break
        if client.connected and not client.exists(path):  # session expired and came back: register again
            client.create(path, payload, ephemeral=True)
        if client.connected:
            elect_controller(client, config["broker_id"])
        time.sleep(1)
    log("INFO", f"[KafkaServer id={config['broker_id']}] shutting down")
    client.stop()  # closes the session: the ephemeral registration disappears at once
    client.close()
    for child in children:
        child.terminate()
    for child in children:
        child.wait(timeout=10)
    log("INFO", f"[KafkaServer id={config['broker_id']}] shut down completed")
    sys.exit(0 if stopping else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
