"""kafka-ui filters (plugins/filter/kafka_ui.py) and pre-flight rules (plugins/action/kafka_ui_preflight.py),
plus the cross-role port check (plugins/action/stack_preflight.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from conftest import SEED_LISTENERS, load_plugin

ui = load_plugin("filter", "kafka_ui")
kafka = load_plugin("filter", "kafka")
pre = load_plugin("action", "kafka_ui_preflight")
stack = load_plugin("action", "stack_preflight")

SEED = SEED_LISTENERS


@pytest.mark.parametrize("flavor, version, jar, java", [
    ("kafbat", "1.4.2", "api-v1.4.2.jar", 21),
    ("kafbat", "1.1.0", "api-v1.1.0.jar", 21),
    ("kafbat", "1.0.0", "kafbat-ui-v1.0.0.jar", 17),
    ("kafbat", "1.5.0", "api-v1.5.0.jar", 25),
    ("provectus", "0.7.2", "kafka-ui-api-v0.7.2.jar", 17),
])
def test_release_asset_and_java(flavor, version, jar, java):
    release = ui.kafka_ui_release(flavor, version)
    assert release["jar"] == jar and release["java"] == java
    assert release["url"] == f"https://github.com/{flavor}/kafka-ui/releases/download/v{version}/{jar}"
    assert release["tag"] == f"v{version}"


@pytest.mark.parametrize("flavor, version, login_path, digest", [
    ("kafbat", "1.4.2", "/login", True),
    ("kafbat", "1.3.0", "/login", True),
    ("kafbat", "1.2.0", "/login", False),
    ("kafbat", "1.1.0", "/login", False),
    ("kafbat", "1.0.0", "/login", False),
    ("provectus", "0.7.2", "/auth", False),
])
def test_release_login_form_and_published_digest(flavor, version, login_path, digest):
    assert ui.kafka_ui_release(flavor, version)["login_path"] == login_path
    assert pre.kafka_ui_github_digest(flavor, tuple(int(part) for part in version.split("."))) is digest


def test_mirror_replaces_github():
    release = ui.kafka_ui_release("kafbat", "1.4.2", "https://repo.example.internal/kafka-ui/")
    assert release["url"] == "https://repo.example.internal/kafka-ui/v1.4.2/api-v1.4.2.jar"


@pytest.mark.parametrize("flavor, version", [("kafbat", "latest"), ("kafbat", "1.4"), ("other", "1.0.0")])
def test_bad_release_is_an_error(flavor, version):
    with pytest.raises(AnsibleFilterError):
        ui.kafka_ui_release(flavor, version)


def test_java_smallest_packaged_major_at_least_the_required():
    debian13 = {21: "openjdk-21-jre-headless", 25: "openjdk-25-jre-headless"}
    assert ui.kafka_ui_java(17, debian13, "x86_64") == {
        "major": 21, "package": "openjdk-21-jre-headless", "java": "/usr/lib/jvm/java-21-openjdk-amd64/bin/java"}
    assert ui.kafka_ui_java(25, debian13, "aarch64")["java"] == "/usr/lib/jvm/java-25-openjdk-arm64/bin/java"
    assert ui.kafka_ui_java(21, {17: "openjdk-17-jre-headless"}, "x86_64")["package"] == ""


def brokers(*listener_sets, inter="PLAINTEXT"):
    hostvars = {f"b{i}": {"kafka_broker_id": i, "kafka_listeners": listeners, "kafka_inter_broker_listener_name": inter}
                for i, listeners in enumerate(listener_sets, 1)}
    return kafka.kafka_brokers(list(hostvars), hostvars, {})


def test_bootstrap_defaults_to_the_inter_broker_listener():
    result = ui.kafka_ui_bootstrap(brokers(SEED), "")
    assert result == {"servers": "kafka:9092", "protocol": "PLAINTEXT", "listener": "PLAINTEXT", "missing": [],
                      "protocols": ["PLAINTEXT"], "mechanisms": []}


def test_bootstrap_on_a_named_listener_lists_every_broker():
    listeners = [{"name": "INTERNAL", "port": 9092, "protocol": "SASL_SSL"}]
    result = ui.kafka_ui_bootstrap(brokers(listeners, listeners, inter="INTERNAL"), "INTERNAL")
    assert result["servers"] == "b1:9092,b2:9092" and result["protocol"] == "SASL_SSL"


def test_bootstrap_reports_brokers_without_the_listener_and_mixed_protocols():
    other = [{"name": "PLAINTEXT", "port": 9092, "protocol": "SSL"}]
    result = ui.kafka_ui_bootstrap(brokers(SEED, other, [SEED[1]]), "PLAINTEXT")
    assert result["missing"] == ["b3"] and result["protocols"] == ["PLAINTEXT", "SSL"] and result["protocol"] == ""


def test_application_yml_plain_and_with_login_and_security():
    plain = ui.kafka_ui_application("local", "kafka:9092")
    assert plain == {"server": {"port": 8080}, "auth": {"type": "DISABLED"},
                     "kafka": {"clusters": [{"name": "local", "bootstrapServers": "kafka:9092", "readOnly": False}]},
                     "dynamic": {"config": {"enabled": False}}}
    full = ui.kafka_ui_application("prod", "b1:9092", "SASL_SSL", 8081, "10.0.0.5", "LOGIN_FORM", "admin", "pw",
                                   True, True, "/var/lib/kafka-ui/dynamic_config.yaml",
                                   {"sasl.mechanism": "SCRAM-SHA-512"}, {"logging": {"level": {"root": "WARN"}},
                                                                         "dynamic": {"config": {"enabled": None}}})
    cluster = full["kafka"]["clusters"][0]
    assert cluster["properties"] == {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512"}
    assert cluster["readOnly"] is True
    assert full["server"] == {"port": 8081, "address": "10.0.0.5"}
    assert full["spring"]["security"]["user"] == {"name": "admin", "password": "pw"}
    assert full["dynamic"]["config"] == {"path": "/var/lib/kafka-ui/dynamic_config.yaml"}  # extra removed "enabled"
    assert full["logging"] == {"level": {"root": "WARN"}}


def args(**overrides):
    base = {"flavor": "kafbat", "version": "1.4.2", "mirror": "", "archive_src": "", "checksum": "sha256:" + "a" * 64,
            "port": 8080, "cluster_name": "local", "kafka_group": "kafka", "kafka_hosts": ["b1"],
            "bootstrap": ui.kafka_ui_bootstrap(brokers(SEED), ""), "kafka_properties": {},
            "auth_type": "DISABLED", "username": "admin", "password": ""}
    base.update(overrides)
    return base


def messages(found, fatal=True):
    return [p.render("ui") for p in found if p.fatal == fatal]


def test_valid_settings_pass():
    assert pre.check("ui", args()) == []


@pytest.mark.parametrize("overrides, expected", [
    ({"version": "v1.4.2"}, "host ui: kafka_ui_version: 'v1.4.2' is not a release number."),
    ({"checksum": "sha256:abc"}, "host ui: kafka_ui_checksum: 'sha256:abc' is not an algorithm:hex digest."),
    ({"checksum": "", "mirror": "https://mirror.example/kafka-ui"}, "kafka_ui_checksum: is empty and the mirror"),
    ({"archive_src": "/nonexistent/api-v1.4.2.jar"}, "kafka_ui_archive_src: /nonexistent/api-v1.4.2.jar does not"),
    ({"port": 70000}, "host ui: kafka_ui_port: 70000 is not a TCP port."),
    ({"cluster_name": " "}, "host ui: kafka_ui_cluster_name: is empty"),
    ({"kafka_hosts": []}, "host ui: groups: inventory group 'kafka' is empty"),
    ({"auth_type": "LOGIN_FORM"}, "host ui: kafka_ui_auth_password: is empty while kafka_ui_auth_type is LOGIN_FORM."),
    ({"auth_type": "LOGIN_FORM", "password": "x" * 12, "username": ""}, "host ui: kafka_ui_auth_username: is empty"),
    ({"java_package": "temurin-21-jre"}, "host ui: kafka_ui_java_binary: is empty while the other"),
    ({"java_binary": "/opt/java/bin/java"}, "host ui: kafka_ui_java_package: is empty while the other"),
])
def test_each_rule_fails_with_host_variable_and_fix(overrides, expected):
    found = messages(pre.check("ui", args(**overrides)))
    assert any(m.startswith(expected) or expected in m for m in found), found
    assert all(" Fix: " in m for m in found)


@pytest.mark.parametrize("flavor, version", [("provectus", "0.7.2"), ("kafbat", "1.2.0"), ("kafbat", "1.1.0")])
def test_release_without_github_digest_needs_a_pinned_checksum(flavor, version):
    found = messages(pre.check("ui", args(flavor=flavor, version=version, checksum="", mirror="")))
    assert found == [f"host ui: kafka_ui_checksum: is empty, and GitHub publishes no digest for the jar of {flavor} "
                     f"{version} (it does so only for assets uploaded from 2025-06-03 on), so the download could not "
                     "be verified. Fix: pin kafka_ui_checksum (sha256:<hex> of the release jar), or use kafbat 1.3.0 "
                     "or newer."]
    pinned = messages(pre.check("ui", args(flavor=flavor, version=version, checksum="sha256:" + "0" * 64, mirror="")))
    assert pinned == []


def test_release_with_github_digest_only_warns_without_a_pin():
    assert messages(pre.check("ui", args(version="1.3.0", checksum="", mirror=""))) == []
    warnings = messages(pre.check("ui", args(version="1.3.0", checksum="", mirror="")), fatal=False)
    assert any("kafka_ui_checksum: is not pinned" in w for w in warnings), warnings


def test_listener_missing_on_a_broker():
    bootstrap = ui.kafka_ui_bootstrap(brokers(SEED, [SEED[1]]), "PLAINTEXT")
    assert messages(pre.check("ui", args(bootstrap=bootstrap, kafka_hosts=["b1", "b2"]))) == [
        "host ui: kafka_ui_listener_name: broker b2 has no listener named PLAINTEXT. Fix: name a listener every broker "
        "has in kafka_listeners, or leave it empty for the inter-broker listener."]


SASL = [{"name": "INTERNAL", "port": 9092, "protocol": "SASL_PLAINTEXT", "sasl_mechanisms": ["SCRAM-SHA-512", "PLAIN"]}]


def test_bootstrap_keeps_the_mechanisms_every_broker_accepts():
    scram_only = [dict(SASL[0], sasl_mechanisms=["PLAIN"])]
    assert ui.kafka_ui_bootstrap(brokers(SASL, inter="INTERNAL"), "")["mechanisms"] == ["SCRAM-SHA-512", "PLAIN"]
    assert ui.kafka_ui_bootstrap(brokers(SASL, scram_only, inter="INTERNAL"), "")["mechanisms"] == ["PLAIN"]


def test_sasl_listener_login_from_the_model():
    application = ui.kafka_ui_application("prod", "b1:9092", "SASL_PLAINTEXT", client_login={
        "mechanism": "SCRAM-SHA-512", "username": "kafka-ui", "password": 'p"w'})
    assert application["kafka"]["clusters"][0]["properties"] == {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="kafka-ui" '
                            'password="p\\"w";'}


def test_sasl_listener_needs_kafka_ui_credentials():
    bootstrap = ui.kafka_ui_bootstrap(brokers(SASL, inter="INTERNAL"), "")
    login = {"mechanism": "SCRAM-SHA-512", "username": "", "password": ""}
    found = messages(pre.check("ui", args(bootstrap=bootstrap, client_login=login)))
    assert [m.split(":")[1].strip() for m in found] == ["kafka_ui_kafka_username", "kafka_ui_kafka_password"]
    assert "is empty while listener INTERNAL uses SASL_PLAINTEXT: kafka-ui could not log in" in found[1]
    login.update(username="kafka-ui", password="secret")
    assert pre.check("ui", args(bootstrap=bootstrap, client_login=login)) == []
    wrong = dict(login, mechanism="SCRAM-SHA-256")
    assert messages(pre.check("ui", args(bootstrap=bootstrap, client_login=wrong))) == [
        "host ui: kafka_ui_kafka_sasl_mechanism: SCRAM-SHA-256 is not accepted by listener INTERNAL (SCRAM-SHA-512, "
        "PLAIN). Fix: use one of SCRAM-SHA-512, PLAIN."]
    # A sasl.jaas.config of the user's own in kafka_ui_kafka_properties is used as it is.
    own = {"sasl.mechanism": "PLAIN", "sasl.jaas.config": "org.apache...PlainLoginModule required;"}
    assert pre.check("ui", args(bootstrap=bootstrap, kafka_properties=own, client_login={})) == []


def test_warnings_do_not_fail():
    found = pre.check("ui", args(checksum="", auth_type="LOGIN_FORM", password="short"))
    assert messages(found) == []
    assert len(messages(found, fatal=False)) == 2
    # provectus has no GitHub digest: pinned, its old release and the short password only warn.
    found = pre.check("ui", args(auth_type="LOGIN_FORM", password="short", flavor="provectus", version="0.7.1"))
    assert messages(found) == []
    assert len(messages(found, fatal=False)) == 2


def claim(service, var, port, bind=""):
    return {"service": service, "var": var, "port": port, "bind": bind}


def test_two_services_on_one_port_collide():
    found = stack.check("h", [claim("zookeeper AdminServer", "zookeeper_admin_server_port", 8080),
                              claim("kafka-ui", "kafka_ui_port", 8080)])
    assert [p.render("h") for p in found] == [
        "host h: zookeeper_admin_server_port: port 8080 of zookeeper AdminServer is also kafka_ui_port of kafka-ui on "
        "this host; the second service would fail to start. Fix: change zookeeper_admin_server_port or kafka_ui_port, "
        "or place the services on different hosts."]


def test_distinct_ports_or_distinct_addresses_do_not_collide():
    assert stack.check("h", [claim("a", "x", 8080), claim("b", "y", 8081)]) == []
    assert stack.check("h", [claim("a", "x", 8080, "10.0.0.1"), claim("b", "y", 8080, "127.0.0.1")]) == []
    assert len(stack.check("h", [claim("a", "x", 8080, "10.0.0.1"), claim("b", "y", "8080", "0.0.0.0")])) == 1


def test_kafka_port_claims_follow_the_listeners():
    assert kafka.kafka_port_claims(SEED) == [
        claim("Kafka listener PLAINTEXT", "kafka_listeners", 9092), claim("Kafka listener EXTERNAL", "kafka_listeners", 9094)]
