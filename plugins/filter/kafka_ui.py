"""kafka-ui: which release and Java to install, and application.yml as data.

The facts behind the tables (asset names, Java per release, config keys) are upstream's: kafbat's
release.yml uploads ``api-v<ver>.jar``; provectus published ``kafka-ui-api-v<ver>.jar``; kafbat 1.0 and
provectus need Java 17, kafbat 1.1-1.4 Java 21, kafbat 1.5 Java 25.
"""

import copy
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import (
    KAFKA_UI_LOGIN_PATHS, LOGIN_MODULES, jaas_config)


RELEASES = {
    "kafbat": {"repo": "kafbat/kafka-ui", "mirror": "https://github.com/kafbat/kafka-ui/releases/download"},
    "provectus": {"repo": "provectus/kafka-ui", "mirror": "https://github.com/provectus/kafka-ui/releases/download"},
}
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# Debian's layout of a JRE package: /usr/lib/jvm/java-<major>-openjdk-<dpkg arch>/bin/java
_DPKG_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "ppc64le": "ppc64el", "s390x": "s390x"}


def _parse_version(version):
    match = _VERSION.match(str(version).lstrip("v"))
    if not match:
        raise AnsibleFilterError(f"kafka_ui_version {version!r} is not a release number like 1.4.2")
    return tuple(int(part) for part in match.groups())


def kafka_ui_java_major(flavor, version):
    """The Java feature release the kafka-ui release needs at least."""
    major, minor, _ = _parse_version(version)
    if flavor == "provectus":
        return 17
    if flavor != "kafbat":
        raise AnsibleFilterError(f"kafka_ui_flavor {flavor!r} is not kafbat or provectus")
    if (major, minor) < (1, 1):
        return 17
    if (major, minor) < (1, 5):
        return 21
    return 25


def kafka_ui_release(flavor, version, mirror=""):
    """``{jar, url, repo, tag, java, login_path}`` of a kafka-ui release; ``mirror`` replaces the GitHub base
    URL; ``login_path`` is where the release's login form posts."""
    if flavor not in RELEASES:
        raise AnsibleFilterError(f"kafka_ui_flavor {flavor!r} is not one of {', '.join(RELEASES)}")
    plain = ".".join(str(part) for part in _parse_version(version))
    if flavor == "provectus":
        jar = f"kafka-ui-api-v{plain}.jar"
    elif plain == "1.0.0":
        jar = "kafbat-ui-v1.0.0.jar"  # the first kafbat release predates the api-v<ver>.jar naming
    else:
        jar = f"api-v{plain}.jar"
    base = (mirror or RELEASES[flavor]["mirror"]).rstrip("/")
    return {"jar": jar, "url": f"{base}/v{plain}/{jar}", "repo": RELEASES[flavor]["repo"], "tag": f"v{plain}",
            "java": kafka_ui_java_major(flavor, plain), "login_path": KAFKA_UI_LOGIN_PATHS[flavor]}


def kafka_ui_java(required, packages, architecture):
    """The distribution's Java for a release: the smallest packaged major >= ``required``.

    ``packages`` maps majors to Debian package names (vars/<distro>.yml). Returns ``{major, package,
    java}`` with ``java`` the absolute path of that JRE's binary, or ``package`` empty when the
    distribution has no suitable Java.
    """
    suitable = sorted(int(major) for major in (packages or {}) if int(major) >= int(required))
    if not suitable:
        return {"major": int(required), "package": "", "java": ""}
    major = suitable[0]
    arch = _DPKG_ARCH.get(architecture, architecture)
    return {"major": major, "package": packages[major] if major in packages else packages[str(major)],
            "java": f"/usr/lib/jvm/java-{major}-openjdk-{arch}/bin/java"}


def _endpoint_of(broker, listener):
    for entry in (broker.get("advertised") or "").split(","):
        name, sep, endpoint = entry.partition("://")
        if sep and name == listener:
            return endpoint
    return None


def kafka_ui_bootstrap(brokers, listener_name=""):
    """Bootstrap servers for kafka-ui from ``kafka_brokers`` output.

    ``listener_name`` empty = each broker's inter-broker listener. Returns ``{servers, protocol,
    listener, missing, protocols, mechanisms}``: ``missing`` lists the brokers without that listener,
    ``protocols`` every security protocol seen on it (pre-flight wants exactly one) and ``mechanisms``
    the SASL mechanisms all those brokers accept on it, in the first broker's order.
    """
    servers, missing, protocols, names, mechanisms = [], [], [], [], None
    for broker in brokers or []:
        name = listener_name or broker.get("inter_broker") or ""
        endpoint = _endpoint_of(broker, name)
        if endpoint is None:
            missing.append(broker["host"])
            continue
        servers.append(endpoint)
        names.append(name)
        protocol = (broker.get("protocols") or {}).get(name, "")
        if protocol not in protocols:
            protocols.append(protocol)
        accepted = list((broker.get("mechanisms") or {}).get(name) or [])
        mechanisms = accepted if mechanisms is None else [m for m in mechanisms if m in accepted]
    return {"servers": ",".join(servers), "protocol": protocols[0] if len(protocols) == 1 else "",
            "listener": names[0] if names else listener_name, "missing": missing, "protocols": protocols,
            "mechanisms": mechanisms or []}


def _merge(base, extra):
    """Recursive dict merge; ``None`` in ``extra`` removes a key."""
    result = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def kafka_ui_application(cluster_name, bootstrap_servers, protocol="PLAINTEXT", port=8080, bind_address="",
                         auth_type="DISABLED", username="", password="", read_only=False,
                         dynamic_config=False, dynamic_config_path="", kafka_properties=None, extra=None,
                         client_login=None):
    """application.yml for one cluster, as a dict (``extra`` is merged over it last).

    ``client_login`` ({mechanism, username, password}) is how kafka-ui logs in to a SASL listener: it
    becomes ``sasl.mechanism`` and ``sasl.jaas.config``; ``kafka_properties`` win over both.
    """
    properties = {}
    if protocol and protocol != "PLAINTEXT":
        properties["security.protocol"] = protocol
    login = client_login or {}
    if protocol.startswith("SASL_") and login.get("mechanism") in LOGIN_MODULES and login.get("username"):
        properties["sasl.mechanism"] = login["mechanism"]
        properties["sasl.jaas.config"] = jaas_config(login["mechanism"], {"username": login["username"],
                                                                           "password": login.get("password", "")})
    properties.update(kafka_properties or {})
    cluster = {"name": cluster_name, "bootstrapServers": bootstrap_servers, "readOnly": bool(read_only)}
    if properties:
        cluster["properties"] = {str(key): value for key, value in properties.items()}
    server = {"port": int(port)}
    if bind_address:
        server["address"] = bind_address
    config = {
        "server": server,
        "auth": {"type": auth_type},
        "kafka": {"clusters": [cluster]},
        "dynamic": {"config": {"enabled": bool(dynamic_config)}},
    }
    if dynamic_config and dynamic_config_path:
        config["dynamic"]["config"]["path"] = dynamic_config_path
    if auth_type == "LOGIN_FORM":
        config["spring"] = {"security": {"user": {"name": username, "password": password}}}
    return _merge(config, extra)


class FilterModule:
    """kafka-ui filters."""

    def filters(self):
        return {
            "kafka_ui_release": kafka_ui_release,
            "kafka_ui_java": kafka_ui_java,
            "kafka_ui_bootstrap": kafka_ui_bootstrap,
            "kafka_ui_application": kafka_ui_application,
        }
