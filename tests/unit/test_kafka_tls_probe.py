"""kafka_tls_probe against a local TLS server: fingerprint of what is presented, name and CA checked."""

import datetime
import hashlib
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import load_plugin

probe_module = load_plugin("modules", "kafka_tls_probe")


def _pki(tmp_path, name):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "broker")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("kafka1.test")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / f"{name}-ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / f"{name}.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM))
    return tmp_path / f"{name}-ca.pem", tmp_path / f"{name}.pem", cert.public_bytes(serialization.Encoding.DER)


def _serve(keystore):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(keystore))
    server = socket.create_server(("127.0.0.1", 0))

    def run():
        for _ in range(3):
            conn, _ = server.accept()
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


def test_probe_returns_the_presented_certificate_and_checks_name_and_ca(tmp_path):
    ca, keystore, der = _pki(tmp_path, "real")
    other_ca, _, _ = _pki(tmp_path, "other")
    port = _serve(keystore)
    result = probe_module.probe("127.0.0.1", port, "kafka1.test", str(ca), 5)
    assert result["sha256"] == hashlib.sha256(der).hexdigest()
    assert result["subject_alt_names"] == ["DNS:kafka1.test"]
    with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
        probe_module.probe("127.0.0.1", port, "localhost", str(ca), 5)
    with pytest.raises(ssl.SSLCertVerificationError):
        probe_module.probe("127.0.0.1", port, "kafka1.test", str(other_ca), 5)


def test_probe_is_not_stricter_than_kafka_clients(tmp_path, monkeypatch):
    # Python 3.13 (Debian 13's python3) turns VERIFY_X509_STRICT on by default, which refuses a CA without
    # keyUsage, like this test's and many private CAs that Java's Kafka clients accept.
    ca, keystore, der = _pki(tmp_path, "loose")
    port = _serve(keystore)
    default = ssl.create_default_context

    def strict_default(*args, **kwargs):
        context = default(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    monkeypatch.setattr(probe_module.ssl, "create_default_context", strict_default)
    assert probe_module.probe("127.0.0.1", port, "kafka1.test", str(ca), 5)["sha256"] == hashlib.sha256(der).hexdigest()
