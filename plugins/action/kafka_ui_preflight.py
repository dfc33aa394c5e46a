"""Pre-flight checks of the kafka_ui role, on the controller only: release and checksum, the cluster
kafka-ui connects to (listener, protocol, client security properties) and login.
"""

import os
import re

from ansible_collections.kafka_stack.core.plugins.filter.container_env import kafka_ui_container_env_problems
from ansible_collections.kafka_stack.core.plugins.plugin_utils import preflight as _shared
from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import kafka_ui_github_digest

ROLE = "kafka_ui"
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_CHECKSUM = re.compile(r"^(sha1|sha256|sha384|sha512):([0-9a-fA-F]+)$")
_HEX_LENGTH = {"sha1": 40, "sha256": 64, "sha384": 96, "sha512": 128}
GITHUB = "https://github.com/"


Problem = _shared.Problem


def _release_problems(args):
    problems = []
    version = str(args.get("version", ""))
    if not _VERSION.match(version):
        problems.append(Problem("kafka_ui_version", f"{version!r} is not a release number.",
                                "write it as on the release page without the v, e.g. \"1.4.2\"."))
    elif args.get("flavor") == "provectus" and version != "0.7.2":
        problems.append(Problem("kafka_ui_version", f"provectus {version} is older than provectus' last release "
                                "0.7.2, and provectus/kafka-ui is unmaintained.",
                                "use kafka_ui_flavor kafbat (the maintained fork), or 0.7.2.", fatal=False))
    checksum = str(args.get("checksum") or "")
    match = _CHECKSUM.match(checksum)
    if checksum and (not match or len(match.group(2)) != _HEX_LENGTH[match.group(1)]):
        problems.append(Problem("kafka_ui_checksum", f"{checksum!r} is not an algorithm:hex digest.",
                                "write it as sha256:<64 hex digits> (the value `sha256sum <jar>` prints)."))
    src = str(args.get("archive_src") or "")
    if src:
        if not os.path.isfile(src):
            problems.append(Problem("kafka_ui_archive_src", f"{src} does not exist on the controller.",
                                    "point it at the release jar, or leave it empty to download."))
        elif not checksum and not os.path.isfile(src + ".sha256"):
            problems.append(Problem("kafka_ui_checksum", f"is empty and there is no {src}.sha256 beside the jar.",
                                    "pin kafka_ui_checksum (sha256:<hex>) or put `sha256sum` output beside the jar."))
    elif not checksum:
        github = str(args.get("mirror") or "").startswith(GITHUB) or not args.get("mirror")
        flavor = str(args.get("flavor") or "")
        released = tuple(int(part) for part in version.split(".")) if _VERSION.match(version) else None
        if github and released and not kafka_ui_github_digest(flavor, released):
            problems.append(Problem("kafka_ui_checksum", f"is empty, and GitHub publishes no digest for the jar of "
                                    f"{flavor} {version} (it does so only for assets uploaded from 2025-06-03 on), "
                                    "so the download could not be verified.",
                                    "pin kafka_ui_checksum (sha256:<hex> of the release jar), or use kafbat 1.3.0 "
                                    "or newer."))
        elif github:
            problems.append(Problem("kafka_ui_checksum", "is not pinned: the jar is checked against the digest "
                                    "GitHub publishes for the release asset.",
                                    "pin kafka_ui_checksum (sha256:<hex>) for reproducible installs.", fatal=False))
        else:
            problems.append(Problem("kafka_ui_checksum", f"is empty and the mirror {args.get('mirror')} publishes "
                                    "no digest the role can read.",
                                    "pin kafka_ui_checksum (sha256:<hex>) for the jar on that mirror."))
    return problems


def _cluster_problems(args):
    problems = []
    if not str(args.get("cluster_name") or "").strip():
        problems.append(Problem("kafka_ui_cluster_name", "is empty; kafka-ui refuses a cluster without a name.",
                                "set kafka_cluster_name for the inventory (or kafka_ui_cluster_name)."))
    if not args.get("kafka_hosts"):
        return problems + [Problem("groups", f"inventory group '{args.get('kafka_group')}' is empty, so kafka-ui "
                                   "has no bootstrap servers.", "put the brokers in that group.")]
    bootstrap = args.get("bootstrap") or {}
    listener = bootstrap.get("listener") or "(the inter-broker listener)"
    for broker in bootstrap.get("missing") or []:
        problems.append(Problem("kafka_ui_listener_name", f"broker {broker} has no listener named {listener}.",
                                "name a listener every broker has in kafka_listeners, or leave it empty for "
                                "the inter-broker listener."))
    protocols = bootstrap.get("protocols") or []
    if len(protocols) > 1:
        problems.append(Problem("kafka_ui_listener_name", f"listener {listener} uses different security protocols "
                                f"on different brokers ({', '.join(protocols)}); kafka-ui has one set of client "
                                "properties per cluster.", "give that listener the same protocol on every broker."))
    properties = args.get("kafka_properties") or {}
    protocol = bootstrap.get("protocol") or ""
    if protocol.startswith("SASL_") and not properties.get("sasl.jaas.config"):
        problems += _client_login_problems(args.get("client_login") or {}, bootstrap, listener, protocol)
    if protocol.endswith("SSL"):
        ca_cert = str(args.get("ca_cert_src") or "")
        if args.get("deploy_mode") == "container" and not properties.get("ssl.truststore.location"):
            problems.append(Problem("kafka_ui_listener_name", f"listener {listener} uses {protocol}, but the role "
                                    "installs the brokers' CA on hosts only, not into the container yet.",
                                    "use kafka_ui_deploy_mode host, or give ssl.truststore.* in "
                                    "kafka_ui_kafka_properties for a trust store inside the image."))
        elif ca_cert and os.path.isabs(ca_cert) and not os.path.isfile(ca_cert):
            problems.append(Problem("kafka_ui_kafka_ca_cert_src", f"{ca_cert} is not a file on the controller "
                                    f"(listener {listener} uses {protocol}).",
                                    "point it at the brokers' CA certificate (PEM), or leave it empty for the "
                                    "kafka role's CA."))
    return problems


def _client_login_problems(login, bootstrap, listener, protocol):
    """kafka-ui logs in to a SASL listener with kafka_ui_kafka_username/password (or with a
    sasl.jaas.config of its own in kafka_ui_kafka_properties, checked by the caller)."""
    problems = []
    accepted = bootstrap.get("mechanisms") or []
    mechanism = login.get("mechanism") or ""
    if not mechanism:
        problems.append(Problem("kafka_ui_kafka_sasl_mechanism", f"is empty and listener {listener} accepts no SASL "
                                "mechanism kafka-ui can use on every broker.",
                                "give the listener sasl_mechanisms (the same on every broker), or set "
                                "kafka_ui_kafka_sasl_mechanism."))
    elif accepted and mechanism not in accepted:
        problems.append(Problem("kafka_ui_kafka_sasl_mechanism", f"{mechanism} is not accepted by listener {listener} "
                                f"({', '.join(accepted)}).", f"use one of {', '.join(accepted)}."))
    for var, key in (("kafka_ui_kafka_username", "username"), ("kafka_ui_kafka_password", "password")):
        if not login.get(key):
            problems.append(Problem(var, f"is empty while listener {listener} uses {protocol}: kafka-ui could not "
                                    "log in to the brokers.",
                                    f"set {var} (the password in the inventory's vault), or give sasl.mechanism and "
                                    "sasl.jaas.config in kafka_ui_kafka_properties."))
    return problems


def _auth_problems(args):
    if args.get("auth_type") != "LOGIN_FORM":
        return []
    problems = []
    if not str(args.get("username") or "").strip():
        problems.append(Problem("kafka_ui_auth_username", "is empty while kafka_ui_auth_type is LOGIN_FORM.",
                                "set the login name."))
    password = str(args.get("password") or "")
    if not password:
        problems.append(Problem("kafka_ui_auth_password", "is empty while kafka_ui_auth_type is LOGIN_FORM.",
                                "set it in the inventory's vault (ansible-vault encrypt_string)."))
    elif len(password) < 12:
        problems.append(Problem("kafka_ui_auth_password", "is shorter than 12 characters.",
                                "use a longer password, kept in the inventory's vault.", fatal=False))
    return problems


def check(host, args):
    """Every Problem of one kafka-ui host; ``args`` as the role's tasks/preflight.yml passes them.
    In container mode the image replaces the jar and Java, so their checks do not apply."""
    container = args.get("deploy_mode") == "container"
    problems = [] if container else _release_problems(args)
    if not container and bool(args.get("java_package")) != bool(args.get("java_binary")):
        problems.append(Problem("kafka_ui_java_binary" if args.get("java_package") else "kafka_ui_java_package",
                                "is empty while the other of kafka_ui_java_package / kafka_ui_java_binary is set.",
                                "set both (the package and the path of its java), or neither to let the role "
                                "pick the distribution's Java."))
    port = args.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.append(Problem("kafka_ui_port", f"{port!r} is not a TCP port.", "set it from 1 to 65535."))
    if container:
        problems += [Problem(*refusal) for refusal in kafka_ui_container_env_problems(args.get("application"))]
    return problems + _cluster_problems(args) + _auth_problems(args)


class ActionModule(_shared.PreflightAction):
    """``kafka_ui_preflight: {deploy_mode, flavor, version, mirror, archive_src, checksum, java_package, java_binary, port,
    cluster_name, kafka_group, kafka_hosts, bootstrap, kafka_properties, auth_type, username, password,
    client_login}``."""

    ROLE = ROLE
    _VALID_ARGS = frozenset(("deploy_mode", "flavor", "version", "mirror", "archive_src", "checksum", "java_package", "java_binary",
                             "port", "cluster_name", "kafka_group", "kafka_hosts", "bootstrap", "kafka_properties",
                             "auth_type", "username", "password", "client_login", "ca_cert_src", "application"))

    def problems(self, host, args):
        return check(host, args)
