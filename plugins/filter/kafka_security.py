"""Kafka security as data: SCRAM credentials (which users, which mechanisms, which are out of date) and
the listener-scoped TLS properties of the SSL and SASL_SSL listeners."""

import base64
import hashlib
import hmac
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import (
    SCRAM_MECHANISMS, SCRAM_MIN_ITERATIONS, TLS_PROTOCOLS, inter_broker_mechanism, scram_mechanisms)


def _user_entries(users):
    """``{name: password}`` or ``{name: {password, iterations?}}`` -> [(name, password, iterations|None)];
    users marked ``{state: absent}`` are left out (see kafka_scram_absent)."""
    if not isinstance(users, dict):
        raise AnsibleFilterError("kafka_scram_users must be a dict {name: password} or {name: {password, iterations}}")
    entries = []
    for name, value in users.items():
        if isinstance(value, dict) and value.get("state") == "absent":
            continue
        if isinstance(value, dict):
            entries.append((str(name), str(value.get("password", "")), value.get("iterations")))
        else:
            entries.append((str(name), "" if value is None else str(value), None))
    return entries


def kafka_scram_credentials(users, listeners, inter_broker_listener_name, inter_broker_username="",
                            inter_broker_password="", iterations=SCRAM_MIN_ITERATIONS):
    """Every SCRAM credential the cluster needs, as ``[{name, mechanism, iterations, password}]``: each
    user of ``users`` (kafka_scram_users) for each SCRAM mechanism a listener enables, plus the brokers'
    own user when the inter-broker listener logs in with SCRAM (Kafka needs it before the brokers start).
    """
    mechanisms = scram_mechanisms(listeners)
    entries = _user_entries(users)
    inter = next((item for item in listeners or [] if item.get("name") == inter_broker_listener_name), {})
    inter_mechanism = inter_broker_mechanism(inter)
    if (str(inter.get("protocol", "")).startswith("SASL_") and inter_mechanism in SCRAM_MECHANISMS
            and inter_broker_username and inter_broker_username not in [e[0] for e in entries]):
        entries.append((str(inter_broker_username), str(inter_broker_password), None))
    return [{"name": name, "mechanism": mechanism, "iterations": int(own or iterations), "password": password}
            for name, password, own in entries for mechanism in mechanisms]


def scram_credential(password, mechanism, salt, iterations):
    """Kafka's stored form of a SCRAM credential (ScramCredentialUtils.credentialToString), RFC 5802."""
    digest = SCRAM_MECHANISMS[mechanism]
    salted = hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    b64 = base64.b64encode
    return (f"salt={b64(salt).decode()},stored_key={b64(stored_key).decode()},"
            f"server_key={b64(server_key).decode()},iterations={iterations}")


def scram_stored(text, mechanism):
    """The ``{salt, stored_key, server_key, iterations}`` of ``mechanism`` in kafka-configs.sh's describe
    output (``Configs for user-principal 'u' are SCRAM-SHA-512=salt=...,iterations=4096``), or None."""
    match = re.search(re.escape(mechanism) + r"=salt=([^,\s]+),stored_key=([^,\s]+),server_key=([^,\s]+),"
                      r"iterations=(\d+)", text or "")
    if not match:
        return None
    return {"salt": match.group(1), "stored_key": match.group(2), "server_key": match.group(3),
            "iterations": int(match.group(4))}


def scram_matches(password, mechanism, stored, iterations):
    """Whether ``stored`` (see scram_stored) was made from ``password`` with ``iterations``."""
    if not stored or stored["iterations"] != int(iterations):
        return False
    try:
        salt = base64.b64decode(stored["salt"])
    except ValueError:
        return False
    expected = scram_credential(password, mechanism, salt, stored["iterations"])
    actual = (f"salt={stored['salt']},stored_key={stored['stored_key']},server_key={stored['server_key']},"
              f"iterations={stored['iterations']}")
    return hmac.compare_digest(expected, actual)


_USER_CONFIGS = re.compile(r"^Configs for user-principal '(.*)' are (.*)$", re.M)


def scram_described_by_user(described):
    """``{user: its configs}`` from kafka-configs.sh ``--describe --entity-type users`` (every user, one line each:
    ``Configs for user-principal 'u' are SCRAM-SHA-512=salt=...``): the registered result of the command, or its
    output. A user without credentials is not in it. A failed describe fails the run."""
    if isinstance(described, dict):
        if described.get("skipped"):
            return {}
        if described.get("rc", 0) != 0:
            raise AnsibleFilterError("kafka-configs.sh --describe --entity-type users failed: "
                                     f"{described.get('stderr') or described.get('stdout')}")
        described = described.get("stdout", "")
    return {match.group(1): match.group(2) for match in _USER_CONFIGS.finditer(described or "")}


def kafka_scram_stale(credentials, described):
    """The credentials of ``credentials`` (kafka_scram_credentials) that ZooKeeper lacks or holds for
    another password or iteration count. ``described``: kafka-configs.sh's describe of every user
    (scram_described_by_user)."""
    output = scram_described_by_user(described)
    return [credential for credential in credentials or []
            if not scram_matches(credential["password"], credential["mechanism"],
                                 scram_stored(output.get(credential["name"], ""), credential["mechanism"]),
                                 credential["iterations"])]


def kafka_scram_absent(users):
    """The users of kafka_scram_users marked ``{state: absent}``: their credentials are deleted. A user
    merely left out of the inventory keeps them."""
    return [str(name) for name, value in (users or {}).items() if isinstance(value, dict) and value.get("state") == "absent"]


def kafka_scram_deletions(absent, described):
    """``[{name, mechanisms}]``: the SCRAM mechanisms ZooKeeper still holds for each ``absent`` user, read from
    kafka-configs.sh's describe of every user (scram_described_by_user); users holding none are left out."""
    output = scram_described_by_user(described)
    deletions = []
    for name in absent or []:
        held = [mechanism for mechanism in SCRAM_MECHANISMS if scram_stored(output.get(name, ""), mechanism)]
        if held:
            deletions.append({"name": name, "mechanisms": held})
    return deletions


def kafka_scram_add_config(credential):
    """The ``--add-config`` value kafka-configs.sh takes for one credential."""
    return f"{credential['mechanism']}=[iterations={credential['iterations']},password={credential['password']}]"


def kafka_listener_tls_properties(listeners, tls):
    """Listener-scoped ``ssl.*`` properties of every SSL and SASL_SSL listener.

    ``tls``: ``{keystore_type: PKCS12|PEM, keystore_location, keystore_password, truststore_location}``;
    the truststore is the CA certificate in PEM. A listener's ``ssl_client_auth`` (none, requested,
    required) becomes its ``ssl.client.auth``.
    """
    props = {}
    for listener in listeners or []:
        if str(listener.get("protocol", "")) not in TLS_PROTOCOLS:
            continue
        prefix = f"listener.name.{str(listener.get('name', '')).lower()}.ssl"
        props[f"{prefix}.keystore.type"] = tls.get("keystore_type", "PKCS12")
        props[f"{prefix}.keystore.location"] = tls.get("keystore_location", "")
        if tls.get("keystore_type", "PKCS12") != "PEM":
            props[f"{prefix}.keystore.password"] = tls.get("keystore_password", "")
        props[f"{prefix}.truststore.type"] = "PEM"
        props[f"{prefix}.truststore.location"] = tls.get("truststore_location", "")
        if listener.get("ssl_client_auth"):
            props[f"{prefix}.client.auth"] = listener["ssl_client_auth"]
    return props


def kafka_tls_names(listeners, inventory_hostname, extra=None):
    """The names a broker's certificate must carry: its inventory name, every advertised host of a TLS
    listener (clients verify the host they connect to), and ``extra``; as subjectAltName entries."""
    names = [str(inventory_hostname)]
    for listener in listeners or []:
        if str(listener.get("protocol", "")) in TLS_PROTOCOLS and listener.get("advertised_host"):
            names.append(str(listener["advertised_host"]))
    names += [str(name) for name in extra or []]
    sans = []
    for name in names:
        entry = name if re.match(r"^(DNS|IP|email|URI):", name) else (
            f"IP:{name}" if re.match(r"^[0-9.]+$|:", name) else f"DNS:{name}")
        if entry not in sans:
            sans.append(entry)
    return sans


def pem_sha256(pem):
    """Hex SHA-256 of the first certificate of a PEM text (its DER bytes), as kafka_tls_probe returns it."""
    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem or "", re.S)
    if not match:
        raise AnsibleFilterError("pem_sha256: no certificate in the given text")
    return hashlib.sha256(base64.b64decode("".join(match.group(1).split()))).hexdigest()


class FilterModule:
    """Kafka security filters."""

    def filters(self):
        return {
            "kafka_scram_absent": kafka_scram_absent,
            "kafka_scram_deletions": kafka_scram_deletions,
            "kafka_scram_credentials": kafka_scram_credentials,
            "kafka_scram_stale": kafka_scram_stale,
            "kafka_scram_add_config": kafka_scram_add_config,
            "kafka_listener_tls_properties": kafka_listener_tls_properties,
            "kafka_tls_names": kafka_tls_names,
            "pem_sha256": pem_sha256,
        }
