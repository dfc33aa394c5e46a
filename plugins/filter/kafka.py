"""Kafka listener model -> server.properties, as data.

The public model (roles/kafka/defaults/main.yml) lists listeners once; this module renders the four
listener properties Kafka reads, in the order given, and merges them with the other properties.
"""


from ansible.errors import AnsibleFilterError

from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import (
    LOGIN_MODULES, TLS_PROTOCOLS, inter_broker_mechanism, jaas_config, render_value)
from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import TOOL_ENV
from ansible_collections.kafka_stack.core.plugins.plugin_utils.upgrade import metadata_version_plan, protocol_plan


def _endpoint(host, port):
    host = host or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return f"{host}:{port}"


def kafka_listener_properties(listeners, inter_broker_listener_name, default_host):
    """Render ``listeners``, ``advertised.listeners``, ``listener.security.protocol.map`` and
    ``inter.broker.listener.name`` from the listener model.

    Each listener is ``{name, port, protocol, advertised_host?, advertised_port?, bind_address?}``;
    ``advertised_host`` defaults to ``default_host`` (the broker's inventory name), ``advertised_port``
    to ``port``, ``bind_address`` to all interfaces.
    """
    if not isinstance(listeners, list):
        raise AnsibleFilterError("kafka_listeners must be a list of listener dicts")
    bound, advertised, protocols = [], [], []
    for listener in listeners:
        if not isinstance(listener, dict):
            raise AnsibleFilterError(f"kafka_listeners: {listener!r} is not a dict")
        name = str(listener.get("name", "")).strip()
        port = listener.get("port")
        bound.append(f"{name}://{_endpoint(listener.get('bind_address', ''), port)}")
        advertised_host = listener.get("advertised_host") or default_host
        advertised_port = listener.get("advertised_port") or port
        advertised.append(f"{name}://{_endpoint(advertised_host, advertised_port)}")
        protocols.append(f"{name}:{listener.get('protocol', '')}")
    return {
        "listeners": ",".join(bound),
        "advertised.listeners": ",".join(advertised),
        "listener.security.protocol.map": ",".join(protocols),
        "inter.broker.listener.name": inter_broker_listener_name,
    }


SASL_MECHANISMS = tuple(LOGIN_MODULES)


def kafka_listener_sasl_properties(listeners, inter_broker_listener_name, inter_broker_username="",
                                   inter_broker_password="", plain_users=None):
    """Listener-scoped SASL properties of the SASL_PLAINTEXT and SASL_SSL listeners.

    For each such listener ``sasl.enabled.mechanisms`` and, per mechanism, a ``sasl.jaas.config``: the
    broker's own credentials on the inter-broker listener (its client side), and for PLAIN the users it
    accepts (``user_<name>``). On a SASL inter-broker listener ``sasl.mechanism.inter.broker.protocol``
    is the listener's ``inter_broker_mechanism``, or its first mechanism. A listener without valid
    mechanisms gets nothing here: the pre-flight (plugins/action/kafka_preflight.py) reports it, naming
    the listener, before any host changes.
    """
    props = {}
    for listener in listeners or []:
        protocol = str(listener.get("protocol", ""))
        if not protocol.startswith("SASL_"):
            continue
        name = str(listener.get("name", ""))
        mechanisms = [str(m) for m in listener.get("sasl_mechanisms") or []]
        if not mechanisms or [m for m in mechanisms if m not in SASL_MECHANISMS]:
            continue
        prefix = f"listener.name.{name.lower()}"
        props[f"{prefix}.sasl.enabled.mechanisms"] = ",".join(mechanisms)
        inter = name == inter_broker_listener_name
        for mechanism in mechanisms:
            options = {}
            if inter or mechanism == "PLAIN":
                options = {"username": inter_broker_username, "password": inter_broker_password}
            if mechanism == "PLAIN":
                users = dict(plain_users or {})
                if inter_broker_username:
                    users.setdefault(inter_broker_username, inter_broker_password)
                options.update({f"user_{user}": password for user, password in sorted(users.items())})
            props[f"{prefix}.{mechanism.lower()}.sasl.jaas.config"] = jaas_config(mechanism, options, for_properties=True)
        if inter:
            props["sasl.mechanism.inter.broker.protocol"] = inter_broker_mechanism(listener)
    return props


def kafka_server_properties(base, listener_properties, extra=None):
    """All broker properties as a dict sorted by key, values rendered as Kafka reads them.

    ``extra`` (``kafka_server_properties_extra``) wins over everything, so any property can be set;
    a value of ``None`` removes a property.
    """
    merged = {}
    for source in (base or {}, listener_properties or {}, extra or {}):
        for key, value in source.items():
            merged[str(key)] = value
    return {key: render_value(value) for key, value in sorted(merged.items())
            if value is not None and value != ""}


def kafka_brokers(hosts, hostvars, defaults):
    """Every broker of the group as ``{host, broker_id, advertised, protocols, mechanisms, inter_broker}``
    for the cross-host checks and for the clients of the cluster (kafka-ui). ``protocols`` maps each
    listener name to its security protocol, ``mechanisms`` each SASL listener to its SASL mechanisms;
    ``inter_broker`` is the broker's inter-broker listener name.

    ``hostvars`` gives what the inventory sets per host; ``defaults`` (the calling host's role
    defaults for ``kafka_listeners`` and ``kafka_inter_broker_listener_name``) fills the rest.
    """
    brokers = []
    for host in hosts or []:
        hv = hostvars[host]
        listeners = hv["kafka_listeners"] if "kafka_listeners" in hv else defaults["kafka_listeners"]
        inter = (hv["kafka_inter_broker_listener_name"] if "kafka_inter_broker_listener_name" in hv
                 else defaults["kafka_inter_broker_listener_name"])
        try:
            rendered = kafka_listener_properties(listeners, inter, host)
            advertised = rendered["advertised.listeners"]
            protocols = dict(entry.split(":", 1) for entry in rendered["listener.security.protocol.map"].split(","))
            mechanisms = {str(listener.get("name")): list(listener.get("sasl_mechanisms") or [])
                          for listener in listeners if str(listener.get("protocol", "")).startswith("SASL_")}
        except (AnsibleFilterError, AttributeError, TypeError, ValueError):
            advertised, protocols, mechanisms = "", {}, {}  # that host's own pre-flight reports its malformed listeners
        brokers.append({"host": host, "broker_id": hv["kafka_broker_id"] if "kafka_broker_id" in hv else None,
                        "advertised": advertised, "protocols": protocols, "mechanisms": mechanisms,
                        "inter_broker": inter})
    return brokers


def kafka_port_claims(listeners):
    """The ports the broker binds, as claims for the cross-role port check (plugins/action/stack_preflight.py)."""
    return [{"service": f"Kafka listener {listener.get('name')}", "var": "kafka_listeners",
             "port": listener.get("port"), "bind": listener.get("bind_address", "")}
            for listener in listeners or [] if isinstance(listener, dict)]


def kafka_inter_broker_client_properties(listeners, inter_broker_listener_name, username="", password="", tls=None):
    """Client properties of the broker's own login on the inter-broker listener, for Kafka's tools run by
    the role (the replication gate between two restarts): the listener's protocol, its inter-broker SASL
    mechanism with the brokers' user, and for TLS the CA (and the broker's keystore, for listeners that
    require client certificates)."""
    listener = next((item for item in listeners or [] if item.get("name") == inter_broker_listener_name), None)
    if listener is None:
        raise AnsibleFilterError(f"inter-broker listener {inter_broker_listener_name} is not in kafka_listeners")
    protocol = str(listener.get("protocol", "PLAINTEXT"))
    props = {"security.protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = inter_broker_mechanism(listener)  # pre-flight refuses a SASL listener without mechanisms
        props["sasl.mechanism"] = mechanism
        props["sasl.jaas.config"] = jaas_config(mechanism, {"username": username, "password": password},
                                                for_properties=True)
    if protocol in TLS_PROTOCOLS:
        tls = tls or {}
        props["ssl.truststore.type"] = "PEM"
        props["ssl.truststore.location"] = tls.get("truststore_location", "")
        if listener.get("ssl_client_auth") in ("required", "requested"):
            props["ssl.keystore.type"] = tls.get("keystore_type", "PKCS12")
            props["ssl.keystore.location"] = tls.get("keystore_location", "")
            if tls.get("keystore_type", "PKCS12") != "PEM":
                props["ssl.keystore.password"] = tls.get("keystore_password", "")
    return props


def kafka_listener_endpoint(advertised, name):
    """``host:port`` of listener ``name`` in an ``advertised.listeners`` value (``NAME://host:port,...``)."""
    for entry in str(advertised or "").split(","):
        listener, sep, address = entry.strip().partition("://")
        if sep and listener == name:
            return address
    raise AnsibleFilterError(f"listener {name} is not advertised in '{advertised}'")


def kafka_tool_env(kafka_opts=""):
    """The environment of Kafka's tools run by the role's tasks: the modules' (TOOL_ENV: a small heap, the client
    JVM profile) with ``KAFKA_OPTS`` (e.g. the JAAS file of a ZooKeeper login)."""
    return dict(TOOL_ENV, KAFKA_OPTS=kafka_opts or "")


def _by_host(states):
    """``{host: state}`` from the registered results of kafka_broker_state looped over the nodes (each with its
    ``item``), or such a dict as it is."""
    return {result["item"]: result for result in states} if isinstance(states, list) else states


def kafka_protocol_plan(target_version, requested, states, host):
    """The inter-broker protocol of this run (plugins/plugin_utils/upgrade.py) with its problems rendered
    in the pre-flight's form; a problem of no particular broker names ``host``. ``states``: the registered
    results of kafka_broker_state looped over the brokers (each with its ``item``), or ``{host: state}``."""
    plan = protocol_plan(target_version, requested, _by_host(states))
    plan["problems"] = [problem.render(name or host) for name, problem in plan["problems"]]
    return plan


def kafka_metadata_version_plan(target_version, setting, states):
    """Whether this run raises a KRaft cluster's metadata.version (plugins/plugin_utils/upgrade.py), from the
    registered results of kafka_broker_state looped over every KRaft node (each with its ``item``)."""
    return metadata_version_plan(target_version, setting, _by_host(states))


class FilterModule:
    """Kafka filters."""

    def filters(self):
        return {
            "kafka_listener_properties": kafka_listener_properties,
            "kafka_tool_env": kafka_tool_env,
            "kafka_listener_sasl_properties": kafka_listener_sasl_properties,
            "kafka_server_properties": kafka_server_properties,
            "kafka_brokers": kafka_brokers,
            "kafka_port_claims": kafka_port_claims,
            "kafka_inter_broker_client_properties": kafka_inter_broker_client_properties,
            "kafka_protocol_plan": kafka_protocol_plan,
            "kafka_metadata_version_plan": kafka_metadata_version_plan,
            "kafka_listener_endpoint": kafka_listener_endpoint,
        }
