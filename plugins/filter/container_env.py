"""Container mode: the roles' configuration as each image flavour's environment variables.

Each flavour documents how its entrypoint turns variables into configuration (../shared/UPSTREAM-FACTS.md
section D). The ``*_container_env`` filters invert that mapping for the settings the roles render, and
refuse what a flavour cannot express, instead of letting the container start with a setting silently
dropped. The forward mappings (``*_env_properties``) are what the entrypoints do; the unit tests check
that every rendered variable maps back to exactly the property it came from.

Kafka (ZooKeeper mode):
- bitnami (bitnamilegacy/kafka): ``KAFKA_CFG_<X>``; the entrypoint drops the prefix, turns ``_`` into
  ``.`` and lowercases, then restores ``sasl_ssl``, ``sasl_plaintext`` and
  ``zookeeper.clientCnxnSocket``. A property with ``_``, ``-`` or capitals elsewhere cannot be written.
- confluent (cp-kafka 7.9): ``KAFKA_<X>``, lowercased, ``_`` -> ``.``. Confluent's code and docs
  disagree on how ``_`` and ``-`` are escaped, so properties containing them are refused.
- apache (apache/kafka, KRaft only): ``KAFKA_<X>`` with the documented escapes (``.`` -> ``_``, ``_`` ->
  ``__``, ``-`` -> ``___``), read back lowercased; its launch script formats the log dirs with ``CLUSTER_ID``
  at every start (a formatted dir is left alone). A property with capitals, or whose escapes read back
  as another name (``_`` beside ``.`` or ``-``), cannot be written. There is no ZooKeeper mode.
ZooKeeper:
- official (zookeeper:3.9): ``ZOO_MY_ID``, ``ZOO_SERVERS`` (space-separated server lines), named
  variables for the usual settings and ``ZOO_CFG_EXTRA`` (space-separated key=value) for the rest.
- bitnami (bitnamilegacy/zookeeper): ``ZOO_SERVER_ID``, ``ZOO_SERVERS`` (``host:quorum:election::id``,
  comma-separated) and a fixed list of named variables; other zoo.cfg settings cannot be written.
kafka-ui: Spring Boot's relaxed binding: dotted path upper-cased, ``.`` and list indexes -> ``_``,
``-`` dropped, e.g. ``KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS``.
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import render_value


KAFKA_FLAVOURS = ("bitnami", "confluent", "apache")
ZOOKEEPER_FLAVOURS = ("official", "bitnami")
_PLAIN_KEY = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*$")
# bitnami's libkafka.sh restores these after turning every "_" into "." and lowercasing.
_BITNAMI_RESTORED = (("sasl.ssl", "sasl_ssl"), ("sasl.plaintext", "sasl_plaintext"),
                     ("zookeeper.clientcnxnsocket", "zookeeper.clientCnxnSocket"))


def kafka_env_properties(env, flavor):
    """What the image's entrypoint makes of ``env``: ``{property: value}`` (the forward mapping)."""
    properties = {}
    for name, value in env.items():
        if flavor == "bitnami" and name.startswith("KAFKA_CFG_"):
            key = name[len("KAFKA_CFG_"):].replace("_", ".").lower()
            for plain, restored in _BITNAMI_RESTORED:
                key = key.replace(plain, restored)
            properties[key] = value
        elif flavor in ("confluent", "apache") and name.startswith("KAFKA_") and name not in CONFLUENT_NOT_PROPERTIES:
            properties[_unescape(name)] = value
    return properties


def _unescape(name):
    """cp-kafka's and apache/kafka's reading of a KAFKA_ variable: lowercased, ``___`` -> ``-``, ``__`` ->
    ``_``, ``_`` -> ``.``."""
    key = name[len("KAFKA_"):].lower().replace("___", "-").replace("__", "\0").replace("_", ".")
    return key.replace("\0", "_")


# Variables cp-kafka's entrypoint reads itself instead of turning them into properties.
CONFLUENT_NOT_PROPERTIES = frozenset(("KAFKA_HEAP_OPTS", "KAFKA_OPTS", "KAFKA_JMX_OPTS", "KAFKA_JMX_PORT",
                                      "KAFKA_LOG4J_OPTS", "KAFKA_LOG4J_ROOT_LOGLEVEL", "KAFKA_LOG4J_LOGGERS",
                                      "KAFKA_TOOLS_LOG4J_LOGLEVEL", "KAFKA_JVM_PERFORMANCE_OPTS"))


def _bitnami_name(key):
    """(variable name, refusal): the refusal is (var, message, fix) when the image cannot take the property."""
    plain = key
    for dotted, restored in _BITNAMI_RESTORED:
        plain = plain.replace(restored, dotted)
    if not _PLAIN_KEY.match(plain):
        return None, ("kafka_server_properties_extra",
                      f"kafka_container_flavor bitnami: property {key!r} cannot be written as a KAFKA_CFG_ variable "
                      "(the image turns every '_' into '.' and lowercases the name).",
                      "drop it from kafka_server_properties_extra or set kafka_container_flavor to confluent.")
    return "KAFKA_CFG_" + plain.replace(".", "_").upper(), None


def _confluent_name(key):
    """(variable name, refusal), as for bitnami."""
    if not _PLAIN_KEY.match(key):
        return None, ("kafka_server_properties_extra",
                      f"kafka_container_flavor confluent: property {key!r} cannot be written as a KAFKA_ variable "
                      "(names with '_', '-' or capitals are escaped differently by Confluent's code and docs).",
                      "drop it from kafka_server_properties_extra or set kafka_container_flavor to bitnami.")
    name = "KAFKA_" + key.replace(".", "_").upper()
    if name in CONFLUENT_NOT_PROPERTIES:
        return None, ("kafka_server_properties_extra",
                      f"kafka_container_flavor confluent: property {key!r} would become {name}, which cp-kafka reads "
                      "as a JVM setting.", "drop it from kafka_server_properties_extra (set kafka_opts instead).")
    return name, None


def _apache_name(key):
    """(variable name, refusal), as for bitnami: apache/kafka's documented escapes, checked by reading the name
    back the way the image does."""
    name = "KAFKA_" + key.replace("_", "__").replace("-", "___").replace(".", "_").upper()
    if key != key.lower() or _unescape(name) != key:
        return None, ("kafka_server_properties_extra",
                      f"kafka_container_flavor apache: property {key!r} cannot be written as a KAFKA_ variable "
                      "(the image lowercases the name, and its escapes of '_' and '-' beside '.' read back as "
                      "another name).", "drop it from kafka_server_properties_extra or use kafka_deploy_mode host.")
    if name in CONFLUENT_NOT_PROPERTIES:
        return None, ("kafka_server_properties_extra",
                      f"kafka_container_flavor apache: property {key!r} would become {name}, which the image reads "
                      "as a JVM setting.", "drop it from kafka_server_properties_extra (set kafka_opts instead).")
    return name, None


_KAFKA_NAMING = {"bitnami": _bitnami_name, "confluent": _confluent_name, "apache": _apache_name}


def _refuse(refusals):
    """Raise the refusals (var, message, fix) together; pre-flight reports the same ones per host first."""
    if refusals:
        raise AnsibleFilterError(" ".join(f"{var}: {message} Fix: {fix}" for var, message, fix in refusals))


def kafka_container_env_problems(properties, flavor):
    """Every property a ``flavor`` image cannot take, as (var, message, fix): pre-flight reports them all."""
    if flavor not in KAFKA_FLAVOURS:
        return [("kafka_container_flavor", f"{flavor!r} is not an image flavour the role knows.",
                 f"use one of {', '.join(KAFKA_FLAVOURS)}.")]
    kraft = bool((properties or {}).get("process.roles"))
    if flavor == "apache" and not kraft:
        return [("kafka_container_flavor", "apache: the apache/kafka image runs KRaft only (its launch script "
                 "formats storage for KRaft at every start), so it cannot run this ZooKeeper-mode broker.",
                 "Set kafka_container_flavor to bitnami or confluent, or kafka_metadata_mode to kraft.")]
    if flavor != "apache" and kraft:
        return [("kafka_container_flavor", f"{flavor}: the role runs KRaft containers on the apache/kafka image "
                 "only (its launch script formats the log dirs with CLUSTER_ID).",
                 "Set kafka_container_flavor: apache.")]
    naming = _KAFKA_NAMING[flavor]
    refusals = [naming(str(key))[1] for key, value in sorted((properties or {}).items())
                if value is not None and value != ""]
    return [refusal for refusal in refusals if refusal]


def kafka_container_env(properties, flavor, jvm=None):
    """server.properties (``{key: value}``) as the environment of a ``flavor`` image; ``jvm`` adds
    variables passed through as they are (KAFKA_HEAP_OPTS, KAFKA_OPTS)."""
    _refuse(kafka_container_env_problems(properties, flavor))
    naming = _KAFKA_NAMING[flavor]
    env = {}
    for key, value in sorted((properties or {}).items()):
        if value is None or value == "":
            continue
        env[naming(str(key))[0]] = render_value(value)
    for name, value in (jvm or {}).items():
        if value:
            env[name] = str(value)
    return env


# zoo.cfg key -> variable of each ZooKeeper flavour (None: written another way or not at all).
_ZOOKEEPER_NAMED = {
    "official": {"tickTime": "ZOO_TICK_TIME", "initLimit": "ZOO_INIT_LIMIT", "syncLimit": "ZOO_SYNC_LIMIT",
                 "maxClientCnxns": "ZOO_MAX_CLIENT_CNXNS", "autopurge.snapRetainCount": "ZOO_AUTOPURGE_SNAPRETAINCOUNT",
                 "autopurge.purgeInterval": "ZOO_AUTOPURGE_PURGEINTERVAL",
                 "4lw.commands.whitelist": "ZOO_4LW_COMMANDS_WHITELIST", "admin.enableServer": "ZOO_ADMINSERVER_ENABLED",
                 "standaloneEnabled": "ZOO_STANDALONE_ENABLED"},
    "bitnami": {"tickTime": "ZOO_TICK_TIME", "initLimit": "ZOO_INIT_LIMIT", "syncLimit": "ZOO_SYNC_LIMIT",
                "maxClientCnxns": "ZOO_MAX_CLIENT_CNXNS", "autopurge.snapRetainCount": "ZOO_AUTOPURGE_RETAIN_COUNT",
                "autopurge.purgeInterval": "ZOO_AUTOPURGE_INTERVAL", "clientPort": "ZOO_PORT_NUMBER",
                "4lw.commands.whitelist": "ZOO_4LW_COMMANDS_WHITELIST", "admin.enableServer": "ZOO_ENABLE_ADMIN_SERVER",
                "admin.serverPort": "ZOO_ADMIN_SERVER_PORT_NUMBER", "maxSessionTimeout": "ZOO_MAX_SESSION_TIMEOUT",
                "snapCount": "ZOO_SNAPCOUNT", "preAllocSize": "ZOO_PRE_ALLOC_SIZE",
                "reconfigEnabled": "ZOO_RECONFIG_ENABLED", "quorumListenOnAllIPs": "ZOO_LISTEN_ALLIPS_ENABLED"},
}
# Set by the image itself (paths inside the container, the client port of the server lines).
_ZOOKEEPER_IMAGE_OWNED = {"official": {"dataDir", "dataLogDir", "clientPort"}, "bitnami": {"dataDir", "dataLogDir"}}
_BITNAMI_YES_NO = {"admin.enableServer", "reconfigEnabled", "quorumListenOnAllIPs"}


def zookeeper_container_env_problems(settings, flavor):
    """Every zoo.cfg setting a ``flavor`` image cannot take, as (var, message, fix): pre-flight reports them all."""
    if flavor not in ZOOKEEPER_FLAVOURS:
        return [("zookeeper_container_flavor", f"{flavor!r} is not an image flavour the role knows.",
                 f"use one of {', '.join(ZOOKEEPER_FLAVOURS)}.")]
    named, owned = _ZOOKEEPER_NAMED[flavor], _ZOOKEEPER_IMAGE_OWNED[flavor]
    refusals = []
    for key, raw in sorted((settings or {}).items()):
        if raw is None or raw == "" or key in owned or key in named:
            continue
        if flavor == "official" and " " not in render_value(raw):
            continue  # ZOO_CFG_EXTRA takes it
        detail = " (its value has a space; ZOO_CFG_EXTRA splits on spaces)" if flavor == "official" else ""
        refusals.append(("zookeeper_config_extra",
                         f"zookeeper_container_flavor {flavor}: the image has no variable for {key}{detail}.",
                         "remove the setting (zookeeper_config_extra or the role variable behind it) or choose "
                         "the other zookeeper_container_flavor."))
    return refusals


def zookeeper_container_env(settings, members, my_id, flavor):
    """zoo.cfg settings (``{key: value}``) and the ensemble (``zookeeper_members`` output) as the
    environment of a ``flavor`` ZooKeeper image for the member with id ``my_id``."""
    _refuse(zookeeper_container_env_problems(settings, flavor))
    named, owned = _ZOOKEEPER_NAMED[flavor], _ZOOKEEPER_IMAGE_OWNED[flavor]
    members = sorted(members or [], key=lambda m: int(m["id"]))
    env, extra = {}, []
    for key, raw in sorted((settings or {}).items()):
        if raw is None or raw == "" or key in owned:
            continue
        value = render_value(raw)
        if flavor == "bitnami" and key in _BITNAMI_YES_NO:
            value = "yes" if value == "true" else "no"
        if key in named:
            env[named[key]] = value
        else:
            extra.append(f"{key}={value}")  # official only: the problems above refuse the others
    if flavor == "official":
        env["ZOO_MY_ID"] = str(my_id)
        env["ZOO_SERVERS"] = " ".join(f"server.{m['id']}={m['address']}:{m['quorum_port']}:{m['election_port']};"
                                      f"{m['client_port']}" for m in members)
        if extra:
            env["ZOO_CFG_EXTRA"] = " ".join(extra)
    else:
        env["ZOO_SERVER_ID"] = str(my_id)
        if len(members) > 1:
            env["ZOO_SERVERS"] = ",".join(f"{m['address']}:{m['quorum_port']}:{m['election_port']}::{m['id']}"
                                          for m in members)
        env["ALLOW_ANONYMOUS_LOGIN"] = "yes"   # read by the debian-11 images
        env["ALLOW_EMPTY_PASSWORD"] = "yes"    # read by the debian-12 images
    return env


def _spring_name(path):
    return "_".join(re.sub(r"[^A-Za-z0-9]", "", part) if not part.isdigit() else part
                    for part in path).upper()


def _kafka_ui_env(application):
    """(environment, the names two settings would both become)."""
    env, clashes = {}, []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                parts = str(key).split(".") if path and path[-1] == "properties" else [str(key)]
                walk(value, path + parts)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [str(index)])
        elif node is not None:
            name = _spring_name(path)
            if name in env:
                clashes.append(name)
            env[name] = render_value(node)

    walk(application or {}, [])
    return env, clashes


def kafka_ui_container_env_problems(application):
    """Settings of application.yml that would both become one variable, as (var, message, fix)."""
    return [("kafka_ui_config_extra", f"two kafka-ui settings both become {name}.",
             "keep one of them (kafka_ui_config_extra, kafka_ui_kafka_properties).")
            for name in _kafka_ui_env(application)[1]]


def kafka_ui_container_env(application):
    """kafka-ui's application.yml (a dict) as environment variables by Spring Boot's relaxed binding.

    Keys of the cluster ``properties`` map keep their dots (``security.protocol`` ->
    ``..._PROPERTIES_SECURITY_PROTOCOL``), which Spring binds back to the dotted key.
    """
    _refuse(kafka_ui_container_env_problems(application))
    return _kafka_ui_env(application)[0]


_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def kafka_container_ports(listeners, network_names, publish_address=""):
    """Docker port specs (``address:port:port``) for the listeners clients reach from outside the Docker
    network: those advertising a host that is not one of the container's ``network_names``.

    A listener advertising ``localhost`` (the seed's ``EXTERNAL://localhost:9094``) is published on
    127.0.0.1 only; any other name on every interface, unless ``publish_address`` says otherwise.
    The container port is the bound ``port``; the host port is the advertised one, which is what
    clients connect to.
    """
    names = {str(name) for name in network_names or []}
    ports = []
    for listener in listeners or []:
        host = str(listener.get("advertised_host") or "")
        if not host or host in names:
            continue
        address = publish_address or ("127.0.0.1" if host in _LOOPBACK_NAMES else "0.0.0.0")
        advertised_port = listener.get("advertised_port") or listener["port"]
        ports.append(f"{address}:{advertised_port}:{listener['port']}")
    return ports


def container_network_aliases(names):
    """The distinct, non-empty, non-loopback names a container answers to on its Docker network."""
    aliases = []
    for name in names or []:
        name = str(name or "")
        if name and name not in _LOOPBACK_NAMES and name not in aliases:
            aliases.append(name)
    return aliases


def container_port_claims(ports, service, var, connection, address):
    """The host ports a container publishes, as pre-flight port claims ``[{service, var, port, bind,
    engine}]``. ``engine`` names the Docker engine the inventory host's connection reaches (``connection``
    local: the controller's; else ``address``, its ansible_host), so that containers of different
    inventory hosts on one engine are compared. Specs: ``[ip:]host:container[/proto]``; a spec without a
    host port (Docker picks one) claims nothing."""
    engine = "the controller" if connection == "local" else str(address)
    claims = []
    for spec in ports or []:
        text = str(spec).split("/", 1)[0]
        if text.startswith("["):  # [ipv6]:host:container
            address, _, rest = text[1:].partition("]:")
            parts = [address] + rest.split(":")
        else:
            parts = text.split(":")
        if len(parts) == 3:
            bind, host_port = parts[0], parts[1]
        elif len(parts) == 2:
            bind, host_port = "", parts[0]
        else:
            continue
        if host_port:
            claims.append({"service": service, "var": var, "port": host_port, "bind": bind, "engine": engine})
    return claims


def container_env_strings(env):
    """An environment as Docker takes it: every value a string (booleans as true/false, lists
    comma-joined); variables whose value is None or empty are left out, so the image's default applies."""
    return {str(name): render_value(value) for name, value in (env or {}).items()
            if value is not None and value != ""}


def container_volume_name(prefix, role):
    """The named volume of one state path of an image: ``<prefix>-<role>`` (``kafka-data``, ``zookeeper-datalog``)."""
    if not prefix:
        raise AnsibleFilterError("the container volume prefix is empty: set the role's *_container_volume_prefix")
    return f"{prefix}-{role}"


def container_volumes(paths, prefix):
    """Named volumes for the state paths of an image: ``{role: path}`` -> ``[{name, path, spec}]`` with
    ``name`` = ``<prefix>-<role>`` (container_volume_name), in a stable order, ``spec`` being docker's
    ``name:path``."""
    volumes = []
    for role, path in sorted((paths or {}).items()):
        name = container_volume_name(prefix, role)
        volumes.append({"name": name, "path": path, "spec": f"{name}:{path}"})
    return volumes


def container_foreign_volumes(volumes, layout):
    """The volumes (docker_host_info's verbose entries) labelled ``kafka-stack.layout`` for another layout
    than ``layout``: another image flavour's files. Volumes without the label are taken as this layout's."""
    return [volume for volume in volumes or []
            if (volume.get("Labels") or {}).get("kafka-stack.layout", layout) != layout]


class FilterModule:
    """Container-mode environment filters."""

    def filters(self):
        return {
            "kafka_container_env": kafka_container_env,
            "kafka_env_properties": kafka_env_properties,
            "zookeeper_container_env": zookeeper_container_env,
            "kafka_ui_container_env": kafka_ui_container_env,
            "kafka_container_ports": kafka_container_ports,
            "container_network_aliases": container_network_aliases,
            "container_volumes": container_volumes,
            "container_env_strings": container_env_strings,
            "container_port_claims": container_port_claims,
            "container_foreign_volumes": container_foreign_volumes,
        }
