"""Security as staging and prod use it: SASL_SSL + SCRAM-SHA-512 listeners, the internal CA, SCRAM users
in ZooKeeper, ZooKeeper authentication, kafka-ui behind a login. Every check talks to 127.0.0.1 or to
the scenario's own containers; the same tests pass against real Kafka (ARTIFACTS=upstream)."""

import json
import logging
import os
import socket
import time
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import testinfra
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

import kafka_client
from testlib import (broker_refused_login, client_container, host_var, kafka_tool_in, kcat, playbook,
                     scram_client_properties, wait_for)

testinfra_hosts = ["sec-kafka"]
EXTERNAL = "localhost:39094"
UI = "http://127.0.0.1:38080"
ZK = "127.0.0.1:32181"
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."), "pki")


def users():
    return host_var("sec-kafka", "kafka_scram_users")


def scram(user, password):
    return {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": user,
            "sasl_plain_password": password, "ssl_cafile": os.path.join(PKI, "ca.crt")}


def refused(settings, caplog):
    """Try to produce with ``settings``; return the kafka-python error log lines (the attempt must fail)."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="kafka"):
        with pytest.raises(Exception) as failure:
            kafka_client.produce(EXTERNAL, "refused", "x", bootstrap_timeout_ms=8000, **settings)
    assert "bootstrap" in str(failure.value).lower() or "NoBrokers" in type(failure.value).__name__, failure.value
    return "\n".join(record.getMessage() for record in caplog.records)


def test_scram_user_with_the_right_password_produces_and_a_group_consumes():
    topic, value = f"sec-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    kafka_client.produce(EXTERNAL, topic, value, **scram("alice", users()["alice"]))
    # A consumer group on the inter-broker listener, from another container of the network.
    internal = dict(scram("alice", users()["alice"]), ssl_cafile="/opt/testclient/ca.crt")
    in_client = client_container("sec-zk", files={"ca.crt": os.path.join(PKI, "ca.crt")}, security=internal)
    code, output = in_client("consume", "sec-kafka:9092", topic, value, f"g-{uuid.uuid4().hex[:6]}")
    assert code == 0, output


def test_brokers_own_scram_user_was_created_with_the_inter_broker_password():
    # Kafka needs it before the brokers start; created by the role from kafka_sasl_inter_broker_*.
    kafka_client.produce(EXTERNAL, f"ib-{uuid.uuid4().hex[:8]}", "v",
                         **scram("broker", host_var("sec-kafka", "kafka_sasl_inter_broker_password")))


def test_wrong_password_is_refused(caplog):
    since = time.time() - 1
    refused(scram("alice", "not-" + users()["alice"]), caplog)
    assert broker_refused_login("sec-kafka", since)


def test_unknown_user_is_refused(caplog):
    since = time.time() - 1
    refused(scram("mallory", "whatever"), caplog)
    assert broker_refused_login("sec-kafka", since)


def test_client_without_credentials_is_refused(caplog):
    # TLS alone (no SASL): the broker answers ApiVersions, then closes on the first other request.
    refused({"security_protocol": "SSL", "ssl_cafile": os.path.join(PKI, "ca.crt")}, caplog)


def test_plaintext_client_gets_nothing():
    with socket.create_connection(("127.0.0.1", 39094), timeout=5) as plain:
        plain.sendall(b"\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00")  # ApiVersions v0, in clear
        plain.settimeout(5)
        try:
            answer = plain.recv(16)
        except (socket.timeout, ConnectionResetError):
            answer = b""
    assert not answer.startswith(b"\x00\x00"), f"a TLS listener answered a Kafka request in clear: {answer!r}"


def kcat_scram(user, password):
    """kcat's (librdkafka's) SASL_SSL + SCRAM-SHA-512 settings, trusting the internal CA."""
    return ["-b", EXTERNAL, "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512",
            "-X", f"sasl.username={user}", "-X", f"sasl.password={password}",
            "-X", f"ssl.ca.location={os.path.join(PKI, 'ca.crt')}"]


def broker_console(tool, *args, stdin=None):
    """Kafka's console tool in the broker's container on the inter-broker listener, logged in as alice."""
    return kafka_tool_in("sec-kafka", tool, scram_client_properties("alice", users()["alice"]),
                         "--bootstrap-server", "sec-kafka:9092", *args, stdin=stdin)


def test_kcat_over_sasl_ssl_to_kafkas_console_consumer_and_back():
    topic = f"kcat-{uuid.uuid4().hex[:8]}"
    values = [f"{topic}-{n}" for n in range(5)]
    code, _, err = kcat(*kcat_scram("alice", users()["alice"]), "-t", topic, "-P", "-X", "acks=all",
                        stdin="\n".join(values) + "\n")
    assert code == 0, err
    assert broker_console("kafka-console-consumer.sh", "--topic", topic, "--group", f"{topic}-g", "--from-beginning",
                          "--max-messages", "5", "--timeout-ms", "60000") == values
    back = f"{topic}-back"
    broker_console("kafka-console-producer.sh", "--topic", back, stdin=values)
    code, out, err = kcat(*kcat_scram("alice", users()["alice"]), "-G", f"{back}-g", "-X",
                          "auto.offset.reset=earliest", "-c", "5", "-q", "-f", "%s\\n", back)
    assert code == 0, err
    assert out.splitlines() == values
    code, _, err = kcat(*kcat_scram("alice", "not-the-password"), "-L", timeout=30)
    assert code != 0 and "Authentication failed" in err, err


def test_tls_presents_the_certificate_the_internal_ca_issued():
    context = ssl.create_default_context(cafile=os.path.join(PKI, "ca.crt"))
    with socket.create_connection(("127.0.0.1", 39094), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:  # host name verified
            presented = tls.getpeercert(binary_form=True)
            names = tls.getpeercert()["subjectAltName"]
    with open(os.path.join(PKI, "sec-kafka.crt")) as issued:
        assert presented == ssl.PEM_cert_to_DER_cert(issued.read())
    assert ("DNS", "localhost") in names and ("DNS", "sec-kafka") in names


def test_scram_credentials_in_zookeeper_are_salted_and_protected():
    anonymous = KazooClient(hosts=ZK)
    anonymous.start(timeout=30)
    try:
        with pytest.raises(NoAuthError):
            anonymous.get("/config/users/alice")
    finally:
        anonymous.stop()
    broker = KazooClient(hosts=ZK, sasl_options={"mechanism": "DIGEST-MD5", "username": "kafka",
                                                 "password": host_var("sec-kafka", "kafka_zookeeper_sasl_password")})
    broker.start(timeout=30)
    try:
        names = set(broker.get_children("/config/users"))
        stored = json.loads(broker.get("/config/users/alice")[0])
    finally:
        broker.stop()
    assert {"alice", "kafka-ui", "broker"} <= names
    assert set(stored["config"]) == {"SCRAM-SHA-512"}
    assert "iterations=4096" in stored["config"]["SCRAM-SHA-512"]
    assert users()["alice"] not in json.dumps(stored)


@pytest.mark.parametrize("path, mode, owner, group", [
    ("/etc/kafka/server.properties", 0o640, "root", "kafka"),
    ("/etc/kafka/jaas.conf", 0o640, "root", "kafka"),
    ("/etc/kafka/tls/keystore.p12", 0o640, "root", "kafka"),
    ("/etc/kafka/tls/truststore.pem", 0o644, "root", "kafka"),
])
def test_secret_files_are_readable_by_the_service_only(host, path, mode, owner, group):
    item = host.file(path)
    assert item.exists and item.mode == mode and item.user == owner and item.group == group


def test_controller_keeps_keys_private():
    assert os.stat(PKI).st_mode & 0o777 == 0o700
    for name in ("ca.key", "sec-kafka.key", "sec-kafka.keystore.p12"):
        assert os.stat(os.path.join(PKI, name)).st_mode & 0o777 == 0o600, name


def _get(path, cookie=None):
    request = urllib.request.Request(UI + path, headers={"Accept": "application/json",
                                                          **({"Cookie": cookie} if cookie else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def _login(username, password):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    try:
        opener.open(UI + "/login", data=data, timeout=10)
    except urllib.error.HTTPError as error:
        return error.headers.get("Location", ""), error.headers.get("Set-Cookie", "").split(";")[0]
    raise AssertionError("the login did not redirect")


def test_kafka_ui_requires_login_and_reaches_the_cluster_over_sasl_ssl():
    assert _get("/api/clusters")[0] == 401
    location, _ = _login("admin", "wrong-password")
    assert "error" in location
    location, cookie = _login("admin", host_var("sec-ui", "kafka_ui_auth_password"))
    assert "error" not in location and cookie
    clusters = wait_for(lambda: (lambda s, body: body if s == 200 and body and body[0]["status"] == "online"
                                 else None)(*_get("/api/clusters", cookie)), timeout=90, what="cluster online")
    assert clusters[0]["name"] == "secure" and clusters[0]["brokerCount"] == 1


def test_kafka_ui_client_properties_follow_the_listener():
    config = testinfra.get_host(f"ansible://sec-ui?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")
    text = config.file("/etc/kafka-ui/application.yml").content_string
    assert "bootstrapServers: sec-kafka:9092" in text
    for line in ("security.protocol: SASL_SSL", "sasl.mechanism: SCRAM-SHA-512", "ssl.truststore.type: PEM",
                 "ssl.truststore.location: /etc/kafka-ui/kafka-ca.pem"):
        assert line in text, line
    assert config.file("/etc/kafka-ui/application.yml").mode == 0o640


def test_renewal_is_driven_by_the_expiry_date():
    """A certificate ending within kafka_tls_renew_days is re-issued and the broker presents the new one."""
    with open(os.path.join(PKI, "sec-kafka.crt")) as before:
        old = before.read()
    result = playbook("molecule/secure/converge.yml", "--limit", "sec-kafka", "-e", "kafka_tls_renew_days=400")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    with open(os.path.join(PKI, "sec-kafka.crt")) as after:
        new = after.read()
    assert new != old
    context = ssl.create_default_context(cafile=os.path.join(PKI, "ca.crt"))
    with socket.create_connection(("127.0.0.1", 39094), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(new)
    # Far from its end, the certificate is kept.
    result = playbook("molecule/secure/converge.yml", "--limit", "sec-kafka")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    with open(os.path.join(PKI, "sec-kafka.crt")) as kept:
        assert kept.read() == new


def _provided_pki(directory):
    """A CA and a broker certificate for sec-kafka and localhost, as a team's own PKI would hand them over."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provided test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sec-kafka")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("sec-kafka"), x509.DNSName("localhost")]),
                           critical=False).sign(ca_key, hashes.SHA256()))
    files = {"ca": directory / "ca.pem", "cert": directory / "sec-kafka.pem", "key": directory / "sec-kafka.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return files


def test_provided_pem_files_and_a_pem_keystore(host, tmp_path):
    files = _provided_pki(tmp_path)
    settings = {"kafka_tls_source": "provided", "kafka_tls_keystore_type": "PEM", "kafka_tls_cert_src": str(files["cert"]),
                "kafka_tls_key_src": str(files["key"]), "kafka_tls_ca_cert_src": str(files["ca"])}
    try:
        result = playbook("molecule/secure/converge.yml", "--limit", "sec-kafka", "-e", json.dumps(settings))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        context = ssl.create_default_context(cafile=str(files["ca"]))
        with socket.create_connection(("127.0.0.1", 39094), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(files["cert"].read_text())
        keystore = host.file("/etc/kafka/tls/keystore.pem")
        assert keystore.mode == 0o640 and keystore.group == "kafka"
        assert not host.file("/etc/kafka/tls/keystore.p12").exists
        kafka_client.produce(EXTERNAL, f"pem-{uuid.uuid4().hex[:8]}", "v",
                             **dict(scram("alice", users()["alice"]), ssl_cafile=str(files["ca"])))
    finally:
        restored = playbook("molecule/secure/converge.yml", "--limit", "sec-kafka")
        assert restored.returncode == 0, restored.stdout[-3000:]
    assert not host.file("/etc/kafka/tls/keystore.pem").exists


def test_password_rotation_at_vvv_works_and_prints_no_secret():
    """Change alice's password with the whole stack converging at -vvv: the new one works, the old one is
    refused, and no password of the inventory (old or new) appears in the output."""
    old_users = users()
    new_password = "sec-test-only-alice-rotated-" + uuid.uuid4().hex[:6]
    rotated = dict(old_users, alice=new_password)
    secrets = [new_password, *old_users.values(), host_var("sec-kafka", "kafka_sasl_inter_broker_password"),
               host_var("sec-kafka", "kafka_tls_keystore_password"),
               host_var("sec-kafka", "kafka_zookeeper_sasl_password"),
               host_var("sec-ui", "kafka_ui_auth_password"), host_var("sec-ui", "kafka_ui_kafka_password"),
               *host_var("sec-zk", "zookeeper_sasl_users").values()]
    try:
        result = playbook("molecule/secure/converge.yml", "-vvv", "-e", json.dumps({"kafka_scram_users": rotated}))
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-3000:]
        assert "Write the credentials that are missing" in output
        leaked = [s for s in secrets if s in output]
        assert not leaked, f"{len(leaked)} password(s) printed by the converge at -vvv"
        topic = f"rot-{uuid.uuid4().hex[:8]}"
        kafka_client.produce(EXTERNAL, topic, "v", **scram("alice", new_password))
        with pytest.raises(Exception):
            kafka_client.produce(EXTERNAL, topic, "v", bootstrap_timeout_ms=8000, **scram("alice", old_users["alice"]))
    finally:
        restored = playbook("molecule/secure/converge.yml")
        assert restored.returncode == 0, restored.stdout[-3000:]
    kafka_client.produce(EXTERNAL, f"rot-{uuid.uuid4().hex[:8]}", "v", **scram("alice", old_users["alice"]))
