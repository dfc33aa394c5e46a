"""Pre-flight checks of the kafka role: Kafka 3.9's own ZooKeeper-mode startup rules applied to each
broker's rendered server.properties, plus the cross-host rules no single broker can check.

Runs on the controller only. Kafka's wording is kept for Kafka's own rules (``requirement failed: ``
for Scala ``require``), so a message found here can be searched for in Kafka's documentation and logs.
"""

import os
import re

from ansible_collections.kafka_stack.core.plugins.filter.container_env import kafka_container_env_problems
from ansible_collections.kafka_stack.core.plugins.plugin_utils import kraft
from ansible_collections.kafka_stack.core.plugins.plugin_utils import preflight as _shared
from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import (
    CLIENT_AUTH, LOGIN_MODULES, SCRAM_MIN_ITERATIONS, TLS_PROTOCOLS, scram_mechanisms)

ROLE = "kafka"
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
# kafka.cluster.EndPoint.uriParseExp
_ENDPOINT = re.compile(r"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
LISTENER_KEYS = {"name", "port", "protocol", "advertised_host", "advertised_port", "bind_address", "sasl_mechanisms",
                 "inter_broker_mechanism", "ssl_client_auth"}


SASL_MECHANISMS = tuple(LOGIN_MODULES)  # the mechanisms the role renders a login module for

Problem = _shared.Problem


class KafkaRefusal(Exception):
    """Kafka would refuse to start; ``message`` is Kafka's text, ``var`` the variable to change."""

    def __init__(self, message, var, fix):
        super().__init__(message)
        self.message, self.var, self.fix = message, var, fix


def _require(condition, message, var, fix):
    if not condition:
        raise KafkaRefusal(f"requirement failed: {message}", var, fix)


def _protocol_map(props):
    raw = props.get("listener.security.protocol.map")
    if raw is None:
        return {p: p for p in PROTOCOLS}
    result = {}
    for entry in filter(None, (item.strip() for item in raw.split(","))):
        name, _, protocol = entry.partition(":")
        if protocol.strip() not in PROTOCOLS:
            raise KafkaRefusal(f"Invalid security protocol `{protocol.strip()}` defined in "
                               "listener.security.protocol.map", "kafka_listeners",
                               f"set the protocol of listener {name.strip()} to one of {', '.join(PROTOCOLS)}.")
        result[name.strip().upper()] = protocol.strip()
    return result


def _endpoints(value, protocols, prop):
    endpoints = []
    for entry in filter(None, (item.strip() for item in value.split(","))):
        match = _ENDPOINT.match(entry)
        if not match:
            raise KafkaRefusal(f"Unable to parse {entry} to a broker endpoint", "kafka_listeners",
                               "write each listener as NAME://host:port (empty host = all interfaces).")
        name = match.group(1).upper()
        if name not in protocols:
            raise KafkaRefusal(f"Error creating broker listeners from '{value}': No security protocol defined "
                               f"for listener {name}", "kafka_listeners",
                               f"give listener {name} a protocol ({', '.join(PROTOCOLS)}).")
        endpoints.append((name, match.group(2), int(match.group(3)), entry))
    return endpoints


def kafka_startup_check(props):
    """Raise KafkaRefusal for the first rule Kafka 3.9 (ZooKeeper mode) would stop on."""
    if props.get("process.roles"):
        raise KafkaRefusal("process.roles is set, so Kafka would start in KRaft mode",
                           "kafka_server_properties_extra",
                           "remove process.roles: this role runs Kafka in ZooKeeper mode.")
    if not props.get("zookeeper.connect"):
        raise KafkaRefusal("Missing required configuration `zookeeper.connect` which has no default value.",
                           "groups", "put the ZooKeeper hosts in inventory group 'zookeeper'.")
    generation = props.get("broker.id.generation.enable", "true").lower() == "true"
    broker_id = int(props.get("broker.id", "-1"))
    max_reserved = int(props.get("reserved.broker.max.id", "1000"))
    if generation:
        _require(-1 <= broker_id <= max_reserved,
                 "broker.id must be greater than or equal to -1 and not greater than reserved.broker.max.id",
                 "kafka_broker_id", f"set kafka_broker_id to a number from 0 to {max_reserved}.")
    else:
        _require(broker_id >= 0, "broker.id must be greater than or equal to 0", "kafka_broker_id",
                 "set kafka_broker_id to 0 or more.")
    if props.get("node.id") not in (None, "") and int(props["node.id"]) != broker_id:
        raise KafkaRefusal("You must set `node.id` to the same value as `broker.id`.",
                           "kafka_server_properties_extra", "remove node.id (ZooKeeper mode uses broker.id).")
    log_dirs = props.get("log.dirs") if props.get("log.dirs") is not None else props.get("log.dir", "/tmp/kafka-logs")
    _require(bool([d for d in log_dirs.split(",") if d.strip()]),
             "At least one log directory must be defined via log.dirs or log.dir.", "kafka_log_dirs",
             "list at least one directory in kafka_log_dirs.")
    inter_name = props.get("inter.broker.listener.name")
    if inter_name and props.get("security.inter.broker.protocol"):
        raise KafkaRefusal("Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.",
                           "kafka_server_properties_extra",
                           "remove security.inter.broker.protocol; kafka_inter_broker_listener_name names the listener.")
    protocols = _protocol_map(props)
    if inter_name:
        inter_name = inter_name.upper()
        if inter_name not in protocols:
            raise KafkaRefusal(f"Listener with name {inter_name} defined in inter.broker.listener.name not found in "
                               "listener.security.protocol.map.", "kafka_inter_broker_listener_name",
                               "name one of the listeners in kafka_listeners.")
    else:
        protocol = props.get("security.inter.broker.protocol", "PLAINTEXT")
        if protocol not in PROTOCOLS:
            raise KafkaRefusal(f"Invalid security protocol `{protocol}` defined in security.inter.broker.protocol",
                               "kafka_server_properties_extra", f"use one of {', '.join(PROTOCOLS)}.")
        inter_name = protocol
    listeners_value = props.get("listeners", "PLAINTEXT://:9092")
    listeners = _endpoints(listeners_value, protocols, "listeners")
    names = [e[0] for e in listeners]
    _require(len(set(names)) == len(names), f"Each listener must have a different name, listeners: {listeners_value}",
             "kafka_listeners", "give every listener its own name.")
    ports = [e[2] for e in listeners]
    _require(len(set(ports)) == len(ports), f"Each listener must have a different port, listeners: {listeners_value}",
             "kafka_listeners", "give every listener its own port.")
    advertised_value = props.get("advertised.listeners") or listeners_value
    advertised = _endpoints(advertised_value, protocols, "advertised.listeners")
    advertised_names = [e[0] for e in advertised]
    controller_names = [n for n in (props.get("controller.listener.names") or "").split(",") if n.strip()]
    _require(not controller_names or props.get("zookeeper.metadata.migration.enable") == "true",
             f"controller.listener.names must be empty when not running in KRaft mode: [{', '.join(controller_names)}]",
             "kafka_server_properties_extra",
             "remove controller.listener.names; a listener named CONTROLLER is an ordinary listener in ZooKeeper mode.")
    _require(bool(advertised), "There must be at least one broker advertised listener.", "kafka_listeners",
             "define at least one listener.")
    _require(inter_name in advertised_names,
             f"inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options "
             f"based on currently configured listeners are {','.join(advertised_names)}",
             "kafka_inter_broker_listener_name", "name a listener of kafka_listeners.")
    _require(set(advertised_names) <= set(names),
             f"advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. "
             f"Found {','.join(advertised_names)}. The valid options based on the current configuration are "
             f"{','.join(names)}", "kafka_listeners", "advertise only listeners that are defined.")
    _require(not [e for e in advertised if e[1] == "0.0.0.0"],
             "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.",
             "kafka_listeners", "set advertised_host of the listener to a name or address clients can reach.")
    control_plane = props.get("control.plane.listener.name")
    if control_plane:
        control_plane = control_plane.upper()
        _require(control_plane in advertised_names,
                 "control.plane.listener.name must be a listener name defined in advertised.listeners",
                 "kafka_server_properties_extra", "name an advertised listener in control.plane.listener.name.")
        _require(control_plane != inter_name,
                 "control.plane.listener.name, if set, should not conflict with inter.broker.listener.name",
                 "kafka_server_properties_extra", "use a listener other than the inter-broker one.")
    return advertised


def _jaas_check(props, jvm_options):
    """Kafka's JaasContext rule: every mechanism enabled on a SASL listener needs a login context, either
    the listener-scoped ``sasl.jaas.config`` of that mechanism or a static JAAS file."""
    if "java.security.auth.login.config" in (jvm_options or ""):
        return
    for name, protocol in _protocol_map(props).items():
        if not protocol.startswith("SASL_"):
            continue
        prefix = f"listener.name.{name.lower()}"
        enabled = props.get(f"{prefix}.sasl.enabled.mechanisms") or props.get("sasl.enabled.mechanisms") or "GSSAPI"
        for mechanism in filter(None, (m.strip() for m in enabled.split(","))):
            if not props.get(f"{prefix}.{mechanism.lower()}.sasl.jaas.config"):
                raise KafkaRefusal(
                    f"Could not find a 'KafkaServer' or '{name.lower()}.KafkaServer' entry in the JAAS configuration. "
                    "System property 'java.security.auth.login.config' is not set", "kafka_listeners",
                    f"give listener {name} sasl_mechanisms (the role then renders {prefix}.<mechanism>.sasl.jaas.config "
                    "for each), and do not remove those properties in kafka_server_properties_extra.")


def _security_problems(listeners, inter_name, properties, sasl):
    """The listener model's SASL and TLS settings; ``sasl`` holds the broker's credentials and PLAIN users."""
    problems = []
    for listener in listeners:
        name, protocol = listener.get("name"), str(listener.get("protocol", ""))
        mechanisms = listener.get("sasl_mechanisms")
        if not protocol.startswith("SASL_"):
            if mechanisms:
                problems.append(Problem("kafka_listeners", f"listener {name} has sasl_mechanisms but protocol {protocol}, "
                                        "so they would be ignored.",
                                        f"set the protocol of {name} to SASL_SSL or SASL_PLAINTEXT, or remove "
                                        "sasl_mechanisms."))
        elif not isinstance(mechanisms, list) or not mechanisms:
            problems.append(Problem("kafka_listeners", f"listener {name} ({protocol}) has no sasl_mechanisms.",
                                    f"add sasl_mechanisms to listener {name}, e.g. [SCRAM-SHA-512] "
                                    f"(one or more of {', '.join(SASL_MECHANISMS)})."))
        else:
            unknown = [m for m in mechanisms if m not in SASL_MECHANISMS]
            if unknown:
                problems.append(Problem("kafka_listeners", f"listener {name}: sasl_mechanisms {', '.join(map(str, unknown))} "
                                        "cannot be configured by this role.",
                                        f"use {', '.join(SASL_MECHANISMS)}."))
            chosen = listener.get("inter_broker_mechanism")
            if chosen and chosen not in mechanisms:
                problems.append(Problem("kafka_listeners", f"listener {name}: inter_broker_mechanism {chosen} is not "
                                        "one of its sasl_mechanisms.", f"choose one of {', '.join(mechanisms)}."))
            if name == inter_name:
                for var in ("kafka_sasl_inter_broker_username", "kafka_sasl_inter_broker_password"):
                    if not sasl.get(var):
                        problems.append(Problem(var, f"is empty while the inter-broker listener {name} uses {protocol}: "
                                                "the brokers could not log in to each other.",
                                                f"set {var} (the password in the inventory's vault: "
                                                "ansible-vault encrypt_string)."))
            elif "PLAIN" in mechanisms and not sasl.get("kafka_sasl_plain_users"):
                problems.append(Problem("kafka_sasl_plain_users", f"is empty while listener {name} accepts PLAIN: only "
                                        "the broker's own user could log in there.",
                                        "list the client users and their passwords (vault) in kafka_sasl_plain_users.",
                                        fatal=False))
        if protocol in TLS_PROTOCOLS:
            scoped = f"listener.name.{str(name).lower()}.ssl.keystore.location"
            if not properties.get(scoped) and not properties.get("ssl.keystore.location"):
                problems.append(Problem("kafka_listeners", f"listener {name} ({protocol}) has no key material: neither "
                                        f"{scoped} nor ssl.keystore.location is set.",
                                        "do not remove the role's ssl.* properties in kafka_server_properties_extra."))
            if listener.get("ssl_client_auth") not in (None,) + CLIENT_AUTH:
                problems.append(Problem("kafka_listeners", f"listener {name}: ssl_client_auth "
                                        f"{listener.get('ssl_client_auth')!r} is not one of {', '.join(CLIENT_AUTH)}.",
                                        f"use one of {', '.join(CLIENT_AUTH)}."))
        elif listener.get("ssl_client_auth"):
            problems.append(Problem("kafka_listeners", f"listener {name} has ssl_client_auth but protocol {protocol}, "
                                    "so it would be ignored.", f"set the protocol of {name} to SSL or SASL_SSL, or "
                                    "remove ssl_client_auth."))
    return problems


def _certificate_problems(host, listeners, tls):
    """A provided certificate: readable, not expired, matching the key, and valid for every advertised
    host of a TLS listener (clients verify the name). Needs the ``cryptography`` library of ansible-core."""
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - ansible-core depends on it
        return []
    cert_path, key_path = tls.get("kafka_tls_cert_src") or "", tls.get("kafka_tls_key_src") or ""
    if not (os.path.isabs(cert_path) and os.path.isfile(cert_path)):
        return []
    try:
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError) as error:
        return [Problem("kafka_tls_cert_src", f"{cert_path} cannot be read as a PEM certificate "
                        f"({type(error).__name__}).",
                        "point it at the broker's certificate in PEM.")]
    problems = []
    if cert.not_valid_after_utc <= datetime.datetime.now(datetime.timezone.utc):
        problems.append(Problem("kafka_tls_cert_src", f"{cert_path} expired on {cert.not_valid_after_utc:%Y-%m-%d}.",
                                "give the broker a current certificate."))
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = set(sans.get_values_for_type(x509.DNSName)) | {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    except x509.ExtensionNotFound:
        names = set()
    for listener in listeners:
        if listener.get("protocol") not in TLS_PROTOCOLS:
            continue
        wanted = str(listener.get("advertised_host") or host)
        wildcards = {n[2:] for n in names if n.startswith("*.")}
        if wanted not in names and wanted.partition(".")[2] not in wildcards:
            problems.append(Problem("kafka_tls_cert_src", f"{cert_path} is not valid for {wanted}, the host listener "
                                    f"{listener.get('name')} advertises (its names: {', '.join(sorted(names)) or 'none'}); "
                                    "clients verify it and would refuse the broker.",
                                    f"issue a certificate with subjectAltName DNS:{wanted}, or advertise a name it has."))
    if os.path.isabs(key_path) and os.path.isfile(key_path):
        try:
            with open(key_path, "rb") as handle:
                key = serialization.load_pem_private_key(handle.read(), password=None)
            mine = key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
            theirs = cert.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
            if mine != theirs:
                problems.append(Problem("kafka_tls_key_src", f"{key_path} is not the key of {cert_path}.",
                                        "give the private key that belongs to the certificate."))
        except (OSError, ValueError, TypeError) as error:
            problems.append(Problem("kafka_tls_key_src", f"{key_path} is not an unencrypted PEM private key "
                                    f"({type(error).__name__}).", "give the key unencrypted, in PEM (PKCS#8)."))
    return problems


def _tls_problems(listeners, tls, host="the broker"):
    """The key material of the SSL and SASL_SSL listeners: where it comes from, and the keystore password."""
    tls_listeners = [str(item.get("name")) for item in listeners if item.get("protocol") in TLS_PROTOCOLS]
    if not tls_listeners or not tls:
        return []
    where = (f"listener {tls_listeners[0]} uses TLS" if len(tls_listeners) == 1
             else f"listeners {', '.join(tls_listeners)} use TLS")
    problems = []
    if tls.get("deploy_mode") == "container":
        return [Problem("kafka_listeners", f"{where}, but the role installs key material on hosts only, not into "
                        "containers yet.", "use kafka_deploy_mode host for TLS listeners, or SASL_PLAINTEXT/PLAINTEXT.")]
    if tls.get("kafka_tls_source") == "provided":
        for var in ("kafka_tls_cert_src", "kafka_tls_key_src", "kafka_tls_ca_cert_src"):
            path = tls.get(var) or ""
            if not path:
                problems.append(Problem(var, f"is empty while kafka_tls_source is provided and {where}.",
                                        f"set {var} to a PEM file on the controller (host_vars), or use "
                                        "kafka_tls_source internal_ca."))
            elif os.path.isabs(path) and not os.path.isfile(path):
                problems.append(Problem(var, f"{path} is not a file on the controller ({where}).",
                                        "point it at the PEM file (per host in host_vars)."))
        problems += _certificate_problems(host, listeners, tls)
    if tls.get("kafka_tls_keystore_type", "PKCS12") == "PKCS12" and not tls.get("kafka_tls_keystore_password"):
        problems.append(Problem("kafka_tls_keystore_password", f"is empty while {where} with a PKCS12 keystore.",
                                "set it in the inventory's vault (ansible-vault encrypt_string), or use "
                                "kafka_tls_keystore_type PEM."))
    try:
        renew, days = int(tls.get("kafka_tls_renew_days", 30)), int(tls.get("kafka_tls_cert_days", 365))
    except (TypeError, ValueError):
        renew, days = 0, 1
    if tls.get("kafka_tls_source", "internal_ca") == "internal_ca" and renew >= days:
        problems.append(Problem("kafka_tls_renew_days", f"{renew} is not below kafka_tls_cert_days {days}: every run "
                                "would issue a new certificate and restart the brokers.",
                                "keep kafka_tls_renew_days below kafka_tls_cert_days (default 30 and 365).",
                                fatal=False))
    return problems


def _scram_problems(listeners, scram):
    """SCRAM users: passwords present and passable to kafka-configs.sh, iterations, container mode."""
    if not scram:
        return []
    users = scram.get("kafka_scram_users") or {}
    mechanisms = sorted(scram_mechanisms(listeners))
    problems = []
    if users and not mechanisms:
        problems.append(Problem("kafka_scram_users", "is set, but no listener enables a SCRAM mechanism, so nobody "
                                "could log in with them.", "add SCRAM-SHA-512 (or -256) to a SASL listener's "
                                "sasl_mechanisms, or remove kafka_scram_users.", fatal=False))
    if mechanisms and not users:
        problems.append(Problem("kafka_scram_users", f"is empty while a listener accepts {', '.join(mechanisms)}: only "
                                "the brokers' own user could log in there.",
                                "list the client users and their passwords (vault) in kafka_scram_users.", fatal=False))
    if mechanisms and scram.get("deploy_mode") == "container":
        problems.append(Problem("kafka_listeners", f"{', '.join(mechanisms)} on a listener needs SCRAM users in "
                                "ZooKeeper, which the role creates on hosts only, not for containers yet.",
                                "use kafka_deploy_mode host, or PLAIN on SASL listeners in container mode."))
    try:
        iterations = int(scram.get("kafka_scram_iterations", SCRAM_MIN_ITERATIONS))
    except (TypeError, ValueError):
        iterations = 0
    if iterations < SCRAM_MIN_ITERATIONS:
        problems.append(Problem("kafka_scram_iterations", f"{scram.get('kafka_scram_iterations')} is below Kafka's "
                                f"minimum {SCRAM_MIN_ITERATIONS}; kafka-configs.sh would refuse it.",
                                f"use {SCRAM_MIN_ITERATIONS} or more."))
    for name, value in users.items() if isinstance(users, dict) else []:
        state = value.get("state", "present") if isinstance(value, dict) else "present"
        if state not in ("present", "absent"):
            problems.append(Problem("kafka_scram_users", f"user {name} has state {state!r}.",
                                    "use state present (the default) or absent (its credentials are deleted)."))
        if state != "present":
            continue
        password = value.get("password") if isinstance(value, dict) else value
        password = "" if password is None else str(password)
        if not password:
            problems.append(Problem("kafka_scram_users", f"user {name} has no password.",
                                    f"give {name} a password in the inventory's vault."))
        elif set(password) & set("[]") or password != password.strip():
            problems.append(Problem("kafka_scram_users", f"the password of user {name} has '[', ']' or surrounding "
                                    "blanks, which kafka-configs.sh removes: the stored credential would not match.",
                                    f"choose another password for {name}."))
    return problems


def _zookeeper_auth_problems(auth):
    """The brokers' ZooKeeper login against the ensemble's users (names compared, passwords never shown)."""
    if not auth:
        return []
    username, password = auth.get("kafka_zookeeper_sasl_username") or "", auth.get("kafka_zookeeper_sasl_password") or ""
    users, zk_host = auth.get("zookeeper_sasl_users") or {}, auth.get("zookeeper_host") or "the ZooKeeper hosts"
    problems = []
    if str(auth.get("kafka_zookeeper_set_acl")).lower() == "true" and not username:
        problems.append(Problem("kafka_zookeeper_set_acl", "is true but kafka_zookeeper_sasl_username is empty: "
                                "ACLs need an authenticated user to grant the znodes to.",
                                "set kafka_zookeeper_sasl_username and _password (one of zookeeper_sasl_users)."))
    if not username:
        return problems
    if not password:
        problems.append(Problem("kafka_zookeeper_sasl_password", f"is empty while kafka_zookeeper_sasl_username is "
                                f"{username}.", "set it in the inventory's vault."))
    if auth.get("deploy_mode") == "container":
        problems.append(Problem("kafka_zookeeper_sasl_username", "is set, but ZooKeeper authentication is not "
                                "available in container mode yet (the JAAS file is not given to the container).",
                                "use kafka_deploy_mode host, or leave it empty."))
    if username not in users:
        problems.append(Problem("kafka_zookeeper_sasl_username", f"{username} is not one of zookeeper_sasl_users of "
                                f"{zk_host}, so ZooKeeper would refuse the brokers' login.",
                                f"add {username} to zookeeper_sasl_users, or use one of its users."))
    elif password and str(users[username]) != str(password):
        problems.append(Problem("kafka_zookeeper_sasl_password", f"differs from the password of {username} in "
                                f"zookeeper_sasl_users of {zk_host}.", "give both the same vault value."))
    return problems


def _container_flavor_problems(listeners, properties, container):
    """What the image flavour cannot take (container mode): what it does with SASL listeners on its own, else
    the properties it has no variable for."""
    if (container or {}).get("deploy_mode") != "container":
        return []
    sasl = [str(item.get("name")) for item in listeners if str(item.get("protocol", "")).startswith("SASL_")]
    if container.get("flavor") == "bitnami" and sasl:
        # The listener-scoped SASL properties it could not name either follow from this one refusal.
        return [Problem("kafka_container_flavor", f"bitnami's Kafka image validates SASL listeners ({', '.join(sasl)}) "
                        "itself: it wants the global KAFKA_CFG_SASL_ENABLED_MECHANISMS, KAFKA_CLIENT_USERS/PASSWORDS "
                        "and the inter-broker user settings, and rewrites the JAAS configuration, so the role's "
                        "listener-scoped SASL settings would not survive.",
                        "use kafka_container_flavor confluent (or kafka_deploy_mode host) for SASL listeners, or "
                        "PLAINTEXT listeners with the bitnami image.")]
    return [Problem(*refusal) for refusal in kafka_container_env_problems(properties, container.get("flavor"))]


def _model_problems(listeners):
    problems = []
    if not isinstance(listeners, list) or not listeners:
        return [Problem("kafka_listeners", "is empty or not a list.", "define at least one listener.")]
    for index, listener in enumerate(listeners):
        where = f"kafka_listeners[{index}]"
        if not isinstance(listener, dict):
            problems.append(Problem(where, f"{listener!r} is not a dict.", "write {name, port, protocol}."))
            continue
        unknown = set(listener) - LISTENER_KEYS
        if unknown:
            problems.append(Problem(where, f"unknown keys {', '.join(sorted(unknown))}.",
                                    f"use {', '.join(sorted(LISTENER_KEYS))}."))
        if not _NAME.match(str(listener.get("name", ""))):
            problems.append(Problem(where, f"name {listener.get('name')!r} is not a listener name.",
                                    "use letters, digits and _ (e.g. PLAINTEXT, EXTERNAL)."))
        for key in ("port", "advertised_port"):
            value = listener.get(key)
            if key == "advertised_port" and value in (None, ""):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                problems.append(Problem(where, f"{key} {value!r} is not a TCP port.", f"set {key} from 1 to 65535."))
        if listener.get("protocol") not in PROTOCOLS:
            problems.append(Problem(where, f"protocol {listener.get('protocol')!r} is not a Kafka security protocol.",
                                    f"use one of {', '.join(PROTOCOLS)}."))
    return problems


_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def _declared_problems(declared, properties, broker_count):
    """kafka_topics and kafka_acls: what Kafka could never accept, before any host changes (the run itself
    refuses what depends on the cluster's state, such as fewer partitions than a topic has)."""
    topics, acls = declared.get("kafka_topics") or [], declared.get("kafka_acls") or []
    problems = []
    if (topics or acls) and declared.get("deploy_mode") == "container":
        problems.append(Problem("kafka_topics" if topics else "kafka_acls", "is reconciled by the role on hosts only, "
                                "not in container mode yet.", "create them with Kafka's tools in the container, or "
                                "use kafka_deploy_mode host."))
        return problems
    seen = set()
    for index, topic in enumerate(topics):
        name, where = str(topic.get("name", "")), f"kafka_topics[{index}]"
        if not _TOPIC_NAME.match(name) or name in (".", ".."):
            problems.append(Problem(where, f"{name!r} is not a valid topic name.",
                                    "use up to 249 letters, digits, '.', '_' or '-'."))
        if name in seen:
            problems.append(Problem(where, f"topic {name} is declared twice.", "keep one entry per topic."))
        seen.add(name)
        replication = topic.get("replication_factor") or properties.get("default.replication.factor") or 1
        if topic.get("state", "present") == "present" and int(replication) > broker_count:
            problems.append(Problem(where, f"replication_factor {replication} of topic {name} is more than the "
                                    f"{broker_count} brokers of the cluster.", f"set it to {broker_count} or fewer, "
                                    "or add brokers."))
        if topic.get("partitions") is not None and int(topic["partitions"]) < 1:
            problems.append(Problem(where, f"partitions {topic['partitions']} of topic {name} is below 1.",
                                    "set 1 or more."))
    if acls and not properties.get("authorizer.class.name"):
        problems.append(Problem("kafka_acls", "is set, but the brokers have no authorizer: Kafka would refuse every "
                                "ACL (SecurityDisabledException).",
                                "set authorizer.class.name (kafka.security.authorizer.AclAuthorizer) and super.users "
                                "(the brokers' own principal) in kafka_server_properties_extra."))
    for index, acl in enumerate(acls):
        where = f"kafka_acls[{index}]"
        if acl.get("resource_type", "topic") != "cluster" and not acl.get("resource_name"):
            problems.append(Problem(where, f"{acl.get('resource_type', 'topic')} ACL of {acl.get('principal')} names no "
                                    "resource.", "set resource_name (a name, or a prefix with pattern_type prefixed)."))
        if not str(acl.get("principal", "")).count(":"):
            problems.append(Problem(where, f"principal {acl.get('principal')!r} has no type.",
                                    "write it as Kafka does, e.g. User:app."))
    return problems


def _version(text):
    return tuple(int(part) for part in re.findall(r"\d+", str(text or ""))[:2]) or (0, 0)


def _metadata_mode_problems(metadata):
    """Which metadata mode the release has, and what the role's KRaft mode supports."""
    mode, version = metadata.get("mode", "zookeeper"), metadata.get("version", "")
    problems = []
    if mode == "zookeeper" and _version(version) >= (4, 0):
        problems.append(Problem("kafka_metadata_mode", f"is zookeeper but kafka_version {version} has no ZooKeeper "
                                "mode (Kafka 4.0 removed it).",
                                "keep kafka_version at 3.9.x, or set kafka_metadata_mode: kraft for a new cluster "
                                "(a running ZooKeeper-mode cluster must be migrated, not switched)."))
    if mode == "kraft" and _version(version) < (3, 9):
        problems.append(Problem("kafka_version", f"{version} has no dynamic KRaft quorum (KIP-853, 3.9+), which "
                                "kafka_metadata_mode kraft uses.", "use Kafka 4.x (or 3.9.x)."))
    if mode == "kraft" and metadata.get("deploy_mode") == "container":
        # The image flavour: _container_flavor_problems (only apache runs KRaft).
        if metadata.get("quorum", "static") != "static":
            problems.append(Problem("kafka_kraft_quorum", f"is {metadata.get('quorum')}, but the apache/kafka image "
                                    "formats a controller's log dir itself, without --initial-controllers, which a "
                                    "dynamic quorum needs.", "set kafka_kraft_quorum: static in container mode."))
    return problems


def _kraft_problems(properties, metadata):
    """KRaft's startup rules on this node's properties and the cluster-wide rules."""
    problems = [Problem(p.var, p.message, p.fix) for p in kraft.kraft_startup_problems(properties)]
    problems += [Problem(p.var, p.message, p.fix) for p in kraft.cluster_problems(
        metadata.get("nodes") or [], metadata.get("controllers") or [], metadata.get("controller_listener"),
        metadata.get("cluster_id") or "")]
    listener = metadata.get("controller_listener") or {}
    if "broker" in str(properties.get("process.roles", "")).split(","):
        clash = [item.get("name") for item in metadata.get("listeners") or []
                 if isinstance(item, dict) and item.get("name") == listener.get("name")]
        if clash:
            problems.append(Problem("kafka_listeners", f"listener {clash[0]} has the name of the controller listener.",
                                    "rename it, or rename kafka_controller_listener."))
    return problems


def _decommissioned_zookeeper_problems(properties, decommissioned):
    """A node that would still connect to ZooKeeper (ZooKeeper mode, or a migration phase) while the ensemble is
    retired (``zookeeper_state: decommissioned`` on ``decommissioned``)."""
    if not decommissioned or not properties.get("zookeeper.connect"):
        return []
    return [Problem("kafka_metadata_mode", f"this node would connect to ZooKeeper (zookeeper.connect), but "
                    f"{', '.join(decommissioned)} of the ZooKeeper group {'is' if len(decommissioned) == 1 else 'are'} "
                    "decommissioned (zookeeper_state: decommissioned): it could not start.",
                    "finish the migration first (playbooks/zookeeper_to_kraft.yml up to finalize), then set "
                    "kafka_metadata_mode: kraft; or set zookeeper_state: present to bring ZooKeeper back.")]


def check(host, listeners, properties, brokers, zookeeper_hosts, sasl=None, jvm_options="", zookeeper_auth=None,
          tls=None, scram=None, container=None, declared=None, metadata=None, zookeeper_decommissioned=None):
    """Every Problem of one broker (or KRaft controller). ``brokers``: [{host, broker_id, advertised:
    "NAME://h:p,..."}]; ``sasl``: {kafka_sasl_inter_broker_username, kafka_sasl_inter_broker_password,
    kafka_sasl_plain_users}; ``container``: {deploy_mode, flavor}; ``metadata``: {mode, version, deploy_mode,
    nodes, controllers, controller_listener, cluster_id, listeners} (KRaft); ``zookeeper_decommissioned``: the
    hosts of the ZooKeeper group with zookeeper_state: decommissioned."""
    metadata = metadata or {}
    retired = _decommissioned_zookeeper_problems(properties, zookeeper_decommissioned)
    if retired:
        return retired
    if metadata.get("mode") == "kraft":
        return _check_kraft(host, listeners, properties, brokers, sasl, jvm_options, tls, scram, declared, metadata,
                            container)
    problems = _model_problems(listeners) + _metadata_mode_problems(metadata)
    if not problems:
        problems = _security_problems(listeners, properties.get("inter.broker.listener.name"), properties, sasl or {})
        problems += _zookeeper_auth_problems(zookeeper_auth)
        problems += _tls_problems(listeners, tls or {}, host)
        problems += _scram_problems(listeners, scram or {})
        problems += _container_flavor_problems(listeners, properties, container)
        problems += _declared_problems(declared or {}, properties, len(brokers))
    if not zookeeper_hosts:
        problems.append(Problem("groups", "inventory group 'zookeeper' is empty, so zookeeper.connect cannot be "
                                "built.", "put the ZooKeeper hosts in group 'zookeeper'."))
    if [p for p in problems if p.fatal]:
        return problems
    try:
        kafka_startup_check(properties)
        _jaas_check(properties, jvm_options)
    except KafkaRefusal as refusal:
        return problems + [Problem(refusal.var, f"Kafka would refuse to start: {refusal.message}", refusal.fix)]
    me = next((b for b in brokers if b["host"] == host), None)
    if me is None:
        return [Problem("groups", "the host runs the kafka role but is not in group 'kafka'.",
                        "add it to group 'kafka'.")]
    twins = [b["host"] for b in brokers if b["host"] != host and str(b["broker_id"]) == str(me["broker_id"])]
    if twins:
        problems.append(Problem("kafka_broker_id", f"{me['broker_id']} is also the broker id of {', '.join(twins)}.",
                                "give each host of group 'kafka' its own kafka_broker_id."))
    mine = {e.split("://", 1)[1] for e in me["advertised"].split(",") if "://" in e}
    for other in brokers:
        if other["host"] == host:
            continue
        shared = mine & {e.split("://", 1)[1] for e in other["advertised"].split(",") if "://" in e}
        for endpoint in sorted(shared):
            problems.append(Problem("kafka_listeners", f"advertises {endpoint}, which {other['host']} advertises too: "
                                    "clients would reach one broker under two ids.",
                                    "give each broker its own advertised_host (or advertised_port)."))
    return problems


def _check_kraft(host, listeners, properties, brokers, sasl, jvm_options, tls, scram, declared, metadata,
                 container=None):
    """check() of a KRaft node: the broker rules on a broker's listeners, the KRaft rules on every node, and
    in container mode what the image takes."""
    is_broker = "broker" in str(properties.get("process.roles", "")).split(",")
    problems = _metadata_mode_problems(metadata) + (_model_problems(listeners) if is_broker else [])
    problems += _container_flavor_problems(listeners if is_broker else [], properties, container)
    if problems:
        return problems
    node_listeners = (listeners if is_broker else []) + [metadata.get("controller_listener") or {}]
    if is_broker:
        problems += _security_problems(listeners, properties.get("inter.broker.listener.name"), properties, sasl or {})
        problems += _scram_problems(listeners, scram or {})
        problems += _declared_problems(declared or {}, properties, len(brokers))
    problems += _tls_problems(node_listeners, tls or {}, host)
    problems += _kraft_problems(properties, metadata)
    if [p for p in problems if p.fatal]:
        return problems
    if is_broker:
        try:
            _jaas_check(properties, jvm_options)
        except KafkaRefusal as refusal:
            problems.append(Problem(refusal.var, f"Kafka would refuse to start: {refusal.message}", refusal.fix))
    return problems


class ActionModule(_shared.PreflightAction):
    """``kafka_preflight: {listeners, properties, brokers, zookeeper_hosts, sasl, jvm_options, zookeeper_auth, tls,
    scram, container, declared, metadata, zookeeper_decommissioned}``."""

    ROLE = ROLE
    _VALID_ARGS = frozenset(("listeners", "properties", "brokers", "zookeeper_hosts", "sasl", "jvm_options",
                             "zookeeper_auth", "tls", "scram", "container", "declared", "metadata",
                             "zookeeper_decommissioned"))

    def problems(self, host, args):
        return check(host, args.get("listeners"), args.get("properties") or {}, args.get("brokers") or [],
                     args.get("zookeeper_hosts") or [], args.get("sasl") or {}, args.get("jvm_options") or "",
                     args.get("zookeeper_auth") or {}, args.get("tls") or {}, args.get("scram") or {},
                     args.get("container") or {}, args.get("declared") or {}, args.get("metadata") or {},
                     args.get("zookeeper_decommissioned") or [])
