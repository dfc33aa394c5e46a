#!/usr/bin/python
"""TLS handshake with a Kafka listener: the certificate it presents, verified as a client verifies it."""

DOCUMENTATION = r"""
module: kafka_tls_probe
short_description: Check the certificate a TLS listener presents
description:
  - Connects to O(host):O(port), completes a TLS handshake trusting only O(cafile) and verifying that
    the certificate is valid for O(server_name) (as Kafka clients do with their default
    C(ssl.endpoint.identification.algorithm=https)), then closes without sending a Kafka request.
  - Returns the SHA-256 fingerprint of the presented certificate. Fails when the handshake or the
    verification fails, with the reason. Read-only; standard library only.
options:
  host:
    description: Address to connect to.
    type: str
    default: 127.0.0.1
  port:
    description: The listener's port.
    type: int
    required: true
  server_name:
    description: Host name clients use (SNI and name verification).
    type: str
    required: true
  cafile:
    description: PEM file of the CA certificate(s) to trust.
    type: path
    required: true
  timeout:
    description: Seconds for the connection and the handshake.
    type: float
    default: 10
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Check the EXTERNAL listener presents a certificate for its advertised name
  kafka_tls_probe:
    port: 9094
    server_name: kafka1.example.com
    cafile: /etc/kafka/tls/truststore.pem
"""

RETURN = r"""
sha256:
  description: Hex SHA-256 of the presented certificate (DER), lower case.
  type: str
  returned: success
not_after:
  description: The certificate's notAfter, as the TLS library reports it.
  type: str
  returned: success
subject_alt_names:
  description: Its subjectAltName entries, e.g. C(DNS:kafka1).
  type: list
  returned: success
"""

import hashlib
import socket
import ssl

from ansible.module_utils.basic import AnsibleModule


def probe(host, port, server_name, cafile, timeout):
    context = ssl.create_default_context(cafile=cafile)
    # Python 3.13 verifies with X509_STRICT by default (a CA needs keyUsage, a certificate an authority key
    # identifier); Kafka's Java clients do not ask for that, so neither does this check.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
            info = tls.getpeercert()
    return {"sha256": hashlib.sha256(der).hexdigest(), "not_after": info.get("notAfter", ""),
            "subject_alt_names": [f"{kind}:{value}" for kind, value in info.get("subjectAltName", ())]}


def main():
    module = AnsibleModule(
        argument_spec={"host": {"type": "str", "default": "127.0.0.1"},
                       "port": {"type": "int", "required": True},
                       "server_name": {"type": "str", "required": True},
                       "cafile": {"type": "path", "required": True},
                       "timeout": {"type": "float", "default": 10}},
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = probe(params["host"], params["port"], params["server_name"], params["cafile"], params["timeout"])
    except (OSError, ssl.SSLError) as exc:
        module.fail_json(msg=f"TLS handshake with {params['host']}:{params['port']} as {params['server_name']} "
                             f"failed: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
