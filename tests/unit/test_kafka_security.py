"""SCRAM credentials (which, and which are out of date) and TLS properties; their pre-flight checks."""

import base64
import hashlib
import hmac

import pytest

from conftest import load_plugin

sec = load_plugin("filter", "kafka_security")
pre = load_plugin("action", "kafka_preflight")
kafka = load_plugin("filter", "kafka")

LISTENERS = [
    {"name": "INTERNAL", "port": 9092, "protocol": "SASL_SSL", "sasl_mechanisms": ["SCRAM-SHA-512"]},
    {"name": "EXTERNAL", "port": 9094, "protocol": "SASL_SSL", "sasl_mechanisms": ["SCRAM-SHA-512", "SCRAM-SHA-256"],
     "advertised_host": "localhost", "ssl_client_auth": "requested"},
    {"name": "LOCAL", "port": 9095, "protocol": "SASL_PLAINTEXT", "sasl_mechanisms": ["PLAIN"]},
]
TLS = {"keystore_type": "PKCS12", "keystore_location": "/etc/kafka/tls/keystore.p12", "keystore_password": "ks",
       "truststore_location": "/etc/kafka/tls/truststore.pem"}


def describe_line(user, credentials):
    """kafka-configs.sh --describe as Kafka prints it (ConfigCommand: "Configs for <entity> are k=v,...")."""
    return f"Configs for user-principal '{user}' are " + ",".join(f"{m}={c}" for m, c in credentials.items())


# --- SCRAM ----------------------------------------------------------------------------------------

def test_rfc_7677_test_vector():
    # RFC 7677 section 3: user "user", password "pencil", SCRAM-SHA-256, 4096 iterations; the server's
    # first message carries this salt, and the verifier follows from the server key.
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    stored = sec.scram_stored("SCRAM-SHA-256=" + sec.scram_credential("pencil", "SCRAM-SHA-256", salt, 4096),
                              "SCRAM-SHA-256")
    auth_message = (b"n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    verifier = hmac.new(base64.b64decode(stored["server_key"]), auth_message, hashlib.sha256).digest()
    assert base64.b64encode(verifier).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_credentials_cover_every_scram_mechanism_and_the_inter_broker_user():
    creds = sec.kafka_scram_credentials({"alice": "a-pw", "bob": {"password": "b-pw", "iterations": 8192}},
                                        LISTENERS, "INTERNAL", "broker", "broker-pw", 4096)
    assert [(c["name"], c["mechanism"], c["iterations"]) for c in creds] == [
        ("alice", "SCRAM-SHA-512", 4096), ("alice", "SCRAM-SHA-256", 4096),
        ("bob", "SCRAM-SHA-512", 8192), ("bob", "SCRAM-SHA-256", 8192),
        ("broker", "SCRAM-SHA-512", 4096), ("broker", "SCRAM-SHA-256", 4096)]
    assert creds[-1]["password"] == "broker-pw"


def test_no_inter_broker_user_when_brokers_do_not_use_scram():
    plain_inter = [dict(LISTENERS[2])] + LISTENERS[:2]
    creds = sec.kafka_scram_credentials({"alice": "a"}, plain_inter, "LOCAL", "broker", "pw")
    assert {c["name"] for c in creds} == {"alice"}
    assert sec.kafka_scram_credentials({"alice": "a"}, [LISTENERS[2]], "LOCAL", "broker", "pw") == []


def test_stale_finds_missing_wrong_password_and_other_iterations():
    creds = sec.kafka_scram_credentials({"alice": "a-pw", "bob": "b-pw", "carol": "c-pw"}, LISTENERS[:1],
                                        "EXTERNAL")
    salt = b"0123456789abcdef"
    # one describe of every user (kafka-configs.sh --describe --entity-type users), as registered by the task
    lines = [describe_line("alice", {"SCRAM-SHA-512": sec.scram_credential("a-pw", "SCRAM-SHA-512", salt, 4096)}),
             describe_line("bob", {"SCRAM-SHA-512": sec.scram_credential("old-pw", "SCRAM-SHA-512", salt, 4096)}),
             describe_line("carol", {"SCRAM-SHA-512": sec.scram_credential("c-pw", "SCRAM-SHA-512", salt, 8192)})]
    described = {"rc": 0, "stdout": "\n".join(lines)}
    assert [c["name"] for c in sec.kafka_scram_stale(creds, described)] == ["bob", "carol"]
    described["stdout"] = "\n".join(lines[1:])  # alice holds no credentials: not listed
    assert [c["name"] for c in sec.kafka_scram_stale(creds, described)] == ["alice", "bob", "carol"]
    assert [c["name"] for c in sec.kafka_scram_stale(creds, described["stdout"])] == ["alice", "bob", "carol"]
    assert sec.kafka_scram_stale(creds, {"skipped": True}) == creds


def test_stale_reports_a_failed_describe():
    with pytest.raises(sec.AnsibleFilterError, match="kafka-configs.sh --describe --entity-type users failed: boom"):
        sec.kafka_scram_stale([], {"rc": 1, "stderr": "boom"})


def test_every_users_describe_is_read_per_user():
    text = ("Configs for user-principal 'app' are SCRAM-SHA-512=salt=c2FsdA==,stored_key=a2V5,server_key=a2V5,"
            "iterations=4096\nConfigs for user-principal 'user with space' are SCRAM-SHA-256=salt=eA==,stored_key=eQ==,"
            "server_key=eg==,iterations=8192\n")
    users = sec.scram_described_by_user(text)
    assert set(users) == {"app", "user with space"}
    assert sec.scram_stored(users["user with space"], "SCRAM-SHA-256")["iterations"] == 8192


def test_add_config_is_kafka_configs_syntax():
    credential = {"name": "a", "mechanism": "SCRAM-SHA-512", "iterations": 4096, "password": "p,w=1"}
    assert sec.kafka_scram_add_config(credential) == "SCRAM-SHA-512=[iterations=4096,password=p,w=1]"


# --- TLS ------------------------------------------------------------------------------------------

def test_tls_properties_are_listener_scoped():
    props = sec.kafka_listener_tls_properties(LISTENERS, TLS)
    assert props == {
        "listener.name.internal.ssl.keystore.type": "PKCS12",
        "listener.name.internal.ssl.keystore.location": "/etc/kafka/tls/keystore.p12",
        "listener.name.internal.ssl.keystore.password": "ks",
        "listener.name.internal.ssl.truststore.type": "PEM",
        "listener.name.internal.ssl.truststore.location": "/etc/kafka/tls/truststore.pem",
        "listener.name.external.ssl.keystore.type": "PKCS12",
        "listener.name.external.ssl.keystore.location": "/etc/kafka/tls/keystore.p12",
        "listener.name.external.ssl.keystore.password": "ks",
        "listener.name.external.ssl.truststore.type": "PEM",
        "listener.name.external.ssl.truststore.location": "/etc/kafka/tls/truststore.pem",
        "listener.name.external.ssl.client.auth": "requested",
    }
    pem = sec.kafka_listener_tls_properties(LISTENERS[:1], dict(TLS, keystore_type="PEM"))
    assert "listener.name.internal.ssl.keystore.password" not in pem


def test_certificate_names_are_the_advertised_hosts():
    assert sec.kafka_tls_names(LISTENERS, "kafka1", ["DNS:kafka.example.com", "10.0.0.5"]) == [
        "DNS:kafka1", "DNS:localhost", "DNS:kafka.example.com", "IP:10.0.0.5"]


# --- pre-flight -----------------------------------------------------------------------------------

def check(tls=None, scram=None, listeners=LISTENERS):
    props = kafka.kafka_listener_properties(listeners, "INTERNAL", "kafka")
    props.update(kafka.kafka_listener_sasl_properties(listeners, "INTERNAL", "broker", "pw", {"alice": "x"}))
    props.update(sec.kafka_listener_tls_properties(listeners, TLS))
    props = kafka.kafka_server_properties({"broker.id": 1, "zookeeper.connect": "zk:2181", "log.dirs": "/d"}, props)
    tls_args = {"deploy_mode": "host", "kafka_tls_source": "internal_ca", "kafka_tls_keystore_type": "PKCS12",
                "kafka_tls_keystore_password": "ks", "kafka_tls_cert_days": 365, "kafka_tls_renew_days": 30}
    tls_args.update(tls or {})
    scram_args = {"deploy_mode": "host", "kafka_scram_users": {"alice": "a-pw"}, "kafka_scram_iterations": 4096}
    scram_args.update(scram or {})
    sasl = {"kafka_sasl_inter_broker_username": "broker", "kafka_sasl_inter_broker_password": "pw",
            "kafka_sasl_plain_users": {"alice": "x"}}
    return [p.render("kafka") for p in pre.check("kafka", listeners, props, [
        {"host": "kafka", "broker_id": 1, "advertised": props["advertised.listeners"]}], ["zk"], sasl, "", {},
        tls_args, scram_args)]


def test_complete_security_passes():
    assert check() == []


@pytest.mark.parametrize("tls, scram, expected", [
    ({"kafka_tls_keystore_password": ""}, None,
     "host kafka: kafka_tls_keystore_password: is empty while listeners INTERNAL, EXTERNAL use TLS with a PKCS12 "
     "keystore. Fix: set it in the inventory's vault (ansible-vault encrypt_string), or use kafka_tls_keystore_type "
     "PEM."),
    ({"kafka_tls_source": "provided", "kafka_tls_cert_src": "c.pem", "kafka_tls_ca_cert_src": "ca.pem"}, None,
     "host kafka: kafka_tls_key_src: is empty while kafka_tls_source is provided and listeners INTERNAL, EXTERNAL use "
     "TLS. Fix: set kafka_tls_key_src to a PEM file on the controller (host_vars), or use kafka_tls_source "
     "internal_ca."),
    ({"deploy_mode": "container"}, None,
     "host kafka: kafka_listeners: listeners INTERNAL, EXTERNAL use TLS, but the role installs key material on hosts "
     "only, not into containers yet. Fix: use kafka_deploy_mode host for TLS listeners, or SASL_PLAINTEXT/PLAINTEXT."),
    (None, {"kafka_scram_users": {"alice": ""}},
     "host kafka: kafka_scram_users: user alice has no password. Fix: give alice a password in the inventory's "
     "vault."),
    (None, {"kafka_scram_users": {"alice": {"password": "a]b"}}},
     "host kafka: kafka_scram_users: the password of user alice has '[', ']' or surrounding blanks, which "
     "kafka-configs.sh removes: the stored credential would not match. Fix: choose another password for alice."),
    (None, {"kafka_scram_iterations": 1000},
     "host kafka: kafka_scram_iterations: 1000 is below Kafka's minimum 4096; kafka-configs.sh would refuse it. "
     "Fix: use 4096 or more."),
])
def test_incomplete_tls_or_scram_is_refused_naming_the_variable(tls, scram, expected):
    assert expected in check(tls, scram)


def test_provided_files_must_exist_on_the_controller(tmp_path):
    cert = tmp_path / "kafka1.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    problems = check({"kafka_tls_source": "provided", "kafka_tls_cert_src": str(cert),
                      "kafka_tls_key_src": str(tmp_path / "missing.key"), "kafka_tls_ca_cert_src": str(cert)})
    assert problems == [f"host kafka: kafka_tls_key_src: {tmp_path}/missing.key is not a file on the controller "
                        "(listeners INTERNAL, EXTERNAL use TLS). Fix: point it at the PEM file (per host in host_vars).",
                        f"host kafka: kafka_tls_cert_src: {cert} cannot be read as a PEM certificate (ValueError). "
                        "Fix: point it at the broker's certificate in PEM."]


def test_client_auth_value_and_placement():
    bad = [dict(LISTENERS[0], ssl_client_auth="always")] + LISTENERS[1:]
    assert ("host kafka: kafka_listeners: listener INTERNAL: ssl_client_auth 'always' is not one of none, requested, "
            "required. Fix: use one of none, requested, required.") in check(listeners=bad)
    misplaced = LISTENERS[:2] + [dict(LISTENERS[2], ssl_client_auth="required")]
    assert any("listener LOCAL has ssl_client_auth but protocol SASL_PLAINTEXT" in p for p in check(listeners=misplaced))


def test_scram_in_container_mode_is_refused():
    assert any("SCRAM-SHA-256, SCRAM-SHA-512 on a listener needs SCRAM users in ZooKeeper" in p
               for p in check({"deploy_mode": "host"}, {"deploy_mode": "container"}))


def test_scram_listener_without_client_users_warns():
    problems = pre._scram_problems(LISTENERS, {"deploy_mode": "host", "kafka_scram_users": {},
                                               "kafka_scram_iterations": 4096})
    assert [(p.var, p.fatal) for p in problems] == [("kafka_scram_users", False)]


def test_pem_fingerprint_is_the_der_sha256(tmp_path):
    import ssl
    der = bytes(range(256)) * 3
    pem = ssl.DER_cert_to_PEM_cert(der)
    assert sec.pem_sha256("junk\n" + pem + pem) == hashlib.sha256(der).hexdigest()
    with pytest.raises(sec.AnsibleFilterError):
        sec.pem_sha256("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def _provided(tmp_path, names, days=30, other_key=False):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kafka")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=60))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    written_key = ec.generate_private_key(ec.SECP256R1()) if other_key else key
    (tmp_path / "kafka.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "kafka.key").write_bytes(written_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return {"kafka_tls_source": "provided", "kafka_tls_cert_src": str(tmp_path / "kafka.pem"),
            "kafka_tls_key_src": str(tmp_path / "kafka.key"), "kafka_tls_ca_cert_src": str(tmp_path / "kafka.pem")}


@pytest.mark.parametrize("names, days, other_key, expected", [
    (["kafka", "localhost"], 30, False, []),
    (["*.example.com", "kafka", "localhost"], 30, False, []),
    (["kafka"], 30, False, ["kafka_tls_cert_src: {cert} is not valid for localhost, the host listener EXTERNAL "
                            "advertises (its names: kafka); clients verify it and would refuse the broker. Fix: issue "
                            "a certificate with subjectAltName DNS:localhost, or advertise a name it has."]),
    (["kafka", "localhost"], -1, False, ["kafka_tls_cert_src: {cert} expired on"]),
    (["kafka", "localhost"], 30, True, ["kafka_tls_key_src: {key} is not the key of {cert}."]),
])
def test_provided_certificate_is_checked_before_any_host_changes(tmp_path, names, days, other_key, expected):
    tls = _provided(tmp_path, names, days, other_key)
    problems = check(tls)
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected):
        assert fragment.format(cert=tls["kafka_tls_cert_src"], key=tls["kafka_tls_key_src"]) in problem
