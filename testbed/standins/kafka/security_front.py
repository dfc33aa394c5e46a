"""TEST DOUBLE part of the Kafka stand-in: the SASL and TLS side of a Kafka listener.

tansu (the stand-in's protocol engine) has no SASL/SCRAM user store it can be given and its proxy has
no TLS, so each SSL, SASL_PLAINTEXT or SASL_SSL listener is served by this front: it terminates TLS
with the listener's keystore, runs Kafka's SASL exchange (SaslHandshake v1 + SaslAuthenticate v0-v2;
ApiVersions is answered before authentication, like Kafka; any other request before it closes the
connection, like Kafka), and then pipes the bytes to the tansu process behind it, bound to 127.0.0.1.

Credentials are checked as Kafka checks them: PLAIN against the ``user_<name>`` options of the
listener's ``plain.sasl.jaas.config``; SCRAM-SHA-256/512 (RFC 5802) against the credential Kafka keeps in
ZooKeeper under ``/config/users/<name>`` (salt, stored_key, server_key, iterations), read at each login,
so users created or changed by kafka-configs.sh count at once. Failures answer Kafka's error code 58
(SASL_AUTHENTICATION_FAILED) with Kafka's message, and the connection is closed after
``connection.failed.authentication.delay.ms`` (100 ms), as Kafka does.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58
SCRAM_DIGESTS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}


def jaas_options(text):
    """``{option: value}`` of one JAAS login-module entry (values unescaped as JAAS does)."""
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', text or "")}


def _read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def read_frame(sock):
    size = struct.unpack(">i", _read_exact(sock, 4))[0]
    return _read_exact(sock, size)


def _varint(data, offset):
    """Kafka's unsigned varint -> (value, next offset)."""
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7


def _uvarint(value):
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def parse_header(frame):
    """api key, api version, correlation id, and the offset of the body (request header v1, or v2 for
    the flexible versions this front reads: SaslAuthenticate v2)."""
    api_key, api_version, correlation = struct.unpack(">hhi", frame[:8])
    client_len = struct.unpack(">h", frame[8:10])[0]
    offset = 10 + max(client_len, 0)
    if api_key == SASL_AUTHENTICATE and api_version >= 2:
        tags, offset = _varint(frame, offset)
        for _ in range(tags):
            _, offset = _varint(frame, offset)
            size, offset = _varint(frame, offset)
            offset += size
    return api_key, api_version, correlation, offset


class ScramServer:
    """The server side of one SCRAM exchange (RFC 5802), over Kafka's stored credential."""

    def __init__(self, mechanism, lookup):
        self.digest = SCRAM_DIGESTS[mechanism]
        self.mechanism, self.lookup = mechanism, lookup
        self.state, self.user = "first", None

    def step(self, token):
        """-> (reply bytes, done?) or raises PermissionError."""
        text = token.decode("utf-8")
        if self.state == "first":
            header, _, bare = text.partition(",")
            _, _, bare = bare.partition(",")  # gs2 header: "n,," (authzid optional)
            fields = dict(item.split("=", 1) for item in bare.split(",") if "=" in item)
            self.user = fields.get("n", "").replace("=2C", ",").replace("=3D", "=")
            self.credential = self.lookup(self.user, self.mechanism)
            if not self.credential or "r" not in fields:
                raise PermissionError("invalid credentials")
            self.nonce = fields["r"] + secrets.token_urlsafe(18)
            self.client_first_bare = bare
            self.server_first = (f"r={self.nonce},s={self.credential['salt']},"
                                 f"i={self.credential['iterations']}")
            self.state = "final"
            return self.server_first.encode(), False
        without_proof, _, proof = text.rpartition(",p=")
        fields = dict(item.split("=", 1) for item in without_proof.split(",") if "=" in item)
        if fields.get("r") != self.nonce:
            raise PermissionError("invalid nonce")
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        stored_key = base64.b64decode(self.credential["stored_key"])
        signature = hmac.new(stored_key, auth_message, self.digest).digest()
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        if not hmac.compare_digest(hashlib.new(self.digest, client_key).digest(), stored_key):
            raise PermissionError("invalid credentials")
        server_key = base64.b64decode(self.credential["server_key"])
        verifier = hmac.new(server_key, auth_message, self.digest).digest()
        return b"v=" + base64.b64encode(verifier), True


def scram_lookup(zk_client):
    """A lookup of Kafka's SCRAM credential of a user in ZooKeeper (``/config/users/<sanitized>``)."""

    def lookup(user, mechanism):
        path = "/config/users/" + urllib.parse.quote(user, safe="")
        try:
            data, _ = zk_client.get(path)
        except Exception:  # NoNodeError, NoAuthError, connection loss: no credential, login refused
            return None
        value = (json.loads(data or b"{}").get("config") or {}).get(mechanism)
        if not value:
            return None
        parts = dict(item.split("=", 1) for item in value.split(","))
        return {"salt": parts["salt"], "stored_key": parts["stored_key"], "server_key": parts["server_key"],
                "iterations": int(parts["iterations"])}

    return lookup


def tls_context(props, prefix, fatal):
    """The server TLS context of a listener from its (listener-scoped or global) ssl.* properties."""
    def get(key, default=None):
        return props.get(f"{prefix}.{key}", props.get(key, default))

    location = get("ssl.keystore.location")
    if not location:
        fatal("org.apache.kafka.common.config.ConfigException",
              "Invalid value javax.net.ssl.SSLHandshakeException: no cipher suites in common for configuration A "
              "client SSLEngine created with the provided settings can't connect to a server SSLEngine created with "
              "those settings.")
    kind = get("ssl.keystore.type", "JKS").upper()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if kind == "PEM":
        context.load_cert_chain(location, password=get("ssl.key.password"))
    elif kind == "PKCS12":
        private = tempfile.mkdtemp(prefix="kafka-standin-tls-")
        pem = os.path.join(private, "keystore.pem")
        result = subprocess.run(["openssl", "pkcs12", "-in", location, "-nodes", "-passin", "env:KEYSTORE_PASSWORD",
                                 "-out", pem], env={**os.environ, "KEYSTORE_PASSWORD": get("ssl.keystore.password", "")},
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            fatal("org.apache.kafka.common.KafkaException",
                  f"Failed to load SSL keystore {location} of type PKCS12: {result.stderr.strip().splitlines()[-1:]}")
        context.load_cert_chain(pem)
        os.unlink(pem)
        os.rmdir(private)
    else:
        fatal("org.apache.kafka.common.KafkaException", f"this stand-in reads PKCS12 and PEM keystores, not {kind}")
    client_auth = get("ssl.client.auth", "none")
    if client_auth in ("required", "requested"):
        context.verify_mode = ssl.CERT_REQUIRED if client_auth == "required" else ssl.CERT_OPTIONAL
        truststore = get("ssl.truststore.location")
        if truststore:
            context.load_verify_locations(truststore)
    return context


class Front:
    """Serves one listener: TLS and/or SASL, then the bytes of the tansu process at 127.0.0.1:backend."""

    def __init__(self, name, protocol, bind, port, backend, props, lookup, log, fatal):
        self.name, self.protocol, self.backend, self.log = name, protocol, backend, log
        prefix = f"listener.name.{name.lower()}"
        self.tls = tls_context(props, prefix, fatal) if protocol in ("SSL", "SASL_SSL") else None
        self.sasl = protocol.startswith("SASL_")
        enabled = props.get(f"{prefix}.sasl.enabled.mechanisms", props.get("sasl.enabled.mechanisms", "GSSAPI"))
        self.mechanisms = [m.strip() for m in enabled.split(",") if m.strip()]
        self.plain_users = {}
        if self.sasl:
            for mechanism in self.mechanisms:
                jaas = props.get(f"{prefix}.{mechanism.lower()}.sasl.jaas.config")
                if jaas is None and "java.security.auth.login.config" not in os.environ.get("KAFKA_OPTS", ""):
                    fatal("java.lang.IllegalArgumentException",
                          f"Could not find a 'KafkaServer' or '{name.lower()}.KafkaServer' entry in the JAAS "
                          "configuration. System property 'java.security.auth.login.config' is not set")
                if mechanism not in ("PLAIN",) + tuple(SCRAM_DIGESTS):
                    fatal("org.apache.kafka.common.KafkaException", f"this stand-in does not serve SASL {mechanism}")
                if mechanism == "PLAIN":
                    self.plain_users = {k[5:]: v for k, v in jaas_options(jaas).items() if k.startswith("user_")}
        self.lookup = lookup
        self.failed_delay = int(props.get("connection.failed.authentication.delay.ms", 100)) / 1000.0
        self.server = socket.create_server((bind, port), reuse_port=False)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, peer = self.server.accept()
            threading.Thread(target=self._serve, args=(conn, peer), daemon=True).start()

    def _serve(self, conn, peer):
        backend = None
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            backend = socket.create_connection(("127.0.0.1", self.backend))
            if self.sasl and not self._authenticate(conn, backend, peer):
                return
            self._pipe(conn, backend)
        except (OSError, ConnectionError, ssl.SSLError, ValueError, struct.error):
            pass
        finally:
            for sock in (conn, backend):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass

    @staticmethod
    def _pipe(conn, backend):
        while True:
            if isinstance(conn, ssl.SSLSocket) and conn.pending():
                ready = [conn]
            else:
                ready, _, _ = select.select([conn, backend], [], [], 300)
                if not ready:
                    continue
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (backend if sock is conn else conn).sendall(data)

    def _reply(self, conn, correlation, body, flexible=False):
        header = struct.pack(">i", correlation) + (b"\x00" if flexible else b"")
        conn.sendall(struct.pack(">i", len(header) + len(body)) + header + body)

    def _authenticate(self, conn, backend, peer):
        exchange, mechanism = None, None
        while True:
            frame = read_frame(conn)
            api_key, version, correlation, offset = parse_header(frame)
            if api_key == API_VERSIONS:
                backend.sendall(struct.pack(">i", len(frame)) + frame)
                answer = read_frame(backend)
                conn.sendall(struct.pack(">i", len(answer)) + answer)
                continue
            if api_key == SASL_HANDSHAKE:
                size = struct.unpack(">h", frame[offset:offset + 2])[0]
                mechanism = frame[offset + 2:offset + 2 + size].decode()
                ok = mechanism in self.mechanisms
                body = struct.pack(">hi", 0 if ok else UNSUPPORTED_SASL_MECHANISM, len(self.mechanisms))
                body += b"".join(struct.pack(">h", len(m)) + m.encode() for m in self.mechanisms)
                self._reply(conn, correlation, body)
                if not ok or version < 1:  # v0 (unframed tokens) is not served by this stand-in
                    return False
                exchange = ScramServer(mechanism, self.lookup) if mechanism in SCRAM_DIGESTS else None
                continue
            if api_key == SASL_AUTHENTICATE and mechanism:
                flexible = version >= 2
                if flexible:
                    size, offset = _varint(frame, offset)
                    token = frame[offset:offset + size - 1]
                else:
                    size = struct.unpack(">i", frame[offset:offset + 4])[0]
                    token = frame[offset + 4:offset + 4 + size]
                try:
                    if mechanism == "PLAIN":
                        _, user, password = token.decode("utf-8").split("\x00")
                        if user not in self.plain_users or not hmac.compare_digest(self.plain_users[user], password):
                            raise PermissionError("Authentication failed: Invalid username or password")
                        reply, done = b"", True
                    else:
                        reply, done = exchange.step(token)
                except (PermissionError, ValueError, UnicodeDecodeError, KeyError):
                    message = (f"Authentication failed during authentication due to invalid credentials with SASL "
                               f"mechanism {mechanism}")
                    self.log("INFO", f"[SocketServer listenerType=ZK_BROKER] Failed authentication with {peer[0]} "
                             f"({message})", "org.apache.kafka.common.network.Selector")
                    self._reply(conn, correlation, self._auth_body(version, SASL_AUTHENTICATION_FAILED, message, b""),
                                flexible)
                    time.sleep(self.failed_delay)  # Kafka's connection.failed.authentication.delay.ms
                    return False
                self._reply(conn, correlation, self._auth_body(version, 0, None, reply), flexible)
                if done:
                    return True
                continue
            self.log("INFO", f"Unexpected Kafka request of type {api_key} during SASL handshake from {peer[0]}; "
                     "closing the connection", "org.apache.kafka.common.security.authenticator.SaslServerAuthenticator")
            return False

    @staticmethod
    def _auth_body(version, error, message, token):
        if version >= 2:
            text = b"\x00" if message is None else _uvarint(len(message) + 1) + message.encode()
            return (struct.pack(">h", error) + text + _uvarint(len(token) + 1) + token + struct.pack(">q", 0)
                    + b"\x00")
        text = struct.pack(">h", -1) if message is None else struct.pack(">h", len(message)) + message.encode()
        body = struct.pack(">h", error) + text + struct.pack(">i", len(token)) + token
        return body + (struct.pack(">q", 0) if version >= 1 else b"")
