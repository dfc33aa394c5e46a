"""TEST DOUBLE of Apache Kafka 3.9's bin/kafka-configs.sh, ZooKeeper mode, for SCRAM users only.

`kafka-configs.sh --zookeeper <connect> --alter --add-config 'SCRAM-SHA-512=[iterations=N,password=P]'
--entity-type users --entity-name <user>` stores Kafka's SCRAM credential (random salt, StoredKey,
ServerKey, iterations; RFC 5802) in `/config/users/<user>` with Kafka's JSON and notifies the brokers
through a sequential `/config/changes/config_change_` znode, as Kafka's AdminZkClient does;
`--delete-config SCRAM-SHA-512` removes one; `--describe` prints Kafka's line
`Configs for user-principal '<user>' are <key>=<value>,...`. The ZooKeeper login comes from the `Client`
section of the JAAS file in KAFKA_OPTS (as Kafka's tools read it); with it, the user znodes are created
readable and writable by that user only (Kafka's sensitive paths). Anything else exits 1.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import NoNodeError  # noqa: E402
from kazoo.security import CREATOR_ALL_ACL, READ_ACL_UNSAFE  # noqa: E402

import kafka_standin  # noqa: E402
from security_front import SCRAM_DIGESTS as DIGESTS  # noqa: E402
MIN_ITERATIONS = 4096


def die(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def options(argv):
    opts, rest = {"add": None, "delete": []}, list(argv)
    while rest:
        flag = rest.pop(0)
        if flag in ("--alter", "--describe"):
            opts["action"] = flag[2:]
        elif flag in ("--zookeeper", "--entity-type", "--entity-name", "--add-config", "--delete-config") and rest:
            value = rest.pop(0)
            if flag == "--delete-config":
                opts["delete"] += [v.strip() for v in value.split(",") if v.strip()]
            else:
                opts[{"--zookeeper": "zookeeper", "--entity-type": "type", "--entity-name": "name",
                      "--add-config": "add"}[flag]] = value
        else:
            die(f"this stand-in of kafka-configs.sh does not take {flag}")
    if not opts.get("zookeeper"):
        die("this stand-in of kafka-configs.sh runs with --zookeeper only")
    if opts.get("type") != "users" or not opts.get("name") or not opts.get("action"):
        die("this stand-in of kafka-configs.sh handles --alter/--describe --entity-type users --entity-name <user>")
    return opts


def credential(password, mechanism, iterations):
    digest = DIGESTS[mechanism]
    salt = base64.b64encode(os.urandom(24)).decode()
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(), iterations)
    # Kafka's ScramFormatter salts with the bytes of the salt *string* it generated (a random base-36
    # text) and stores that text base64-encoded: the salt is the decoded bytes, as used here.
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = base64.b64encode(hashlib.new(digest, client_key).digest()).decode()
    server_key = base64.b64encode(hmac.new(salted, b"Server Key", digest).digest()).decode()
    return (f"salt={base64.b64encode(salt.encode()).decode()},stored_key={stored_key},server_key={server_key},"
            f"iterations={iterations}")


def parse_additions(text):
    """Kafka's parsing: split on commas outside [], then key=value; [] removed from values."""
    additions = {}
    for pair in re.split(r",(?=[^\]]*(?:\[|$))", text):
        key, sep, value = pair.partition("=")
        if not sep:
            die('Invalid entity config: all configs to be added must be in the format "key=val".')
        additions[key.strip()] = re.sub(r"[\[\]]", "", value).strip()
    for mechanism, value in list(additions.items()):
        if mechanism not in DIGESTS:
            die(f"this stand-in of kafka-configs.sh stores SCRAM credentials only, not {mechanism}")
        match = re.match(r"^(?:iterations=([0-9]*),)?password=(.*)$", value)
        if not match:
            die(f"Invalid credential property {mechanism}={value}")
        iterations = int(match.group(1)) if match.group(1) else MIN_ITERATIONS
        if iterations < MIN_ITERATIONS:
            die(f"Iterations {iterations} is less than the minimum {MIN_ITERATIONS} required for {mechanism}")
        additions[mechanism] = credential(match.group(2), mechanism, iterations)
    return additions


def main(argv):
    opts = options(argv)
    login = kafka_standin.jaas_client_login()
    kwargs = {"sasl_options": {"mechanism": "DIGEST-MD5", **login}} if login else {}
    client = KazooClient(hosts=opts["zookeeper"], timeout=30, **kwargs)
    try:
        client.start(timeout=30)
    except Exception as error:  # noqa: BLE001 - reported like Kafka's tool
        die(f"Error while executing config command with args '{' '.join(argv)}'\n"
            f"kafka.zookeeper.ZooKeeperClientTimeoutException: {error}")
    path = "/config/users/" + urllib.parse.quote(opts["name"], safe="")
    try:
        configs = json.loads(client.get(path)[0] or b"{}").get("config") or {}
    except NoNodeError:
        configs = None
    if opts["action"] == "describe":
        shown = ",".join(f"{k}={v}" for k, v in (configs or {}).items())
        print(f"Configs for user-principal '{opts['name']}' are {shown}")
        client.stop()
        return
    configs = dict(configs or {})
    missing = [key for key in opts["delete"] if key not in configs]
    if missing:
        die(f"Invalid config(s): {','.join(missing)}")
    configs.update(parse_additions(opts["add"]) if opts["add"] else {})
    for key in opts["delete"]:
        configs.pop(key)
    data = json.dumps({"version": 1, "config": configs}).encode()
    acl = CREATOR_ALL_ACL if login else None  # /config/users is one of Kafka's sensitive paths
    if client.exists(path):
        client.set(path, data)
    else:
        client.ensure_path("/config/users", acl=CREATOR_ALL_ACL + READ_ACL_UNSAFE if login else None)
        client.create(path, data, acl=acl)
    client.ensure_path("/config/changes")
    client.create("/config/changes/config_change_", json.dumps({"version": 2, "entity_path": path[8:]}).encode(),
                  sequence=True)
    client.stop()
    print(f"Completed updating config for user {opts['name']}.")


if __name__ == "__main__":
    main(sys.argv[1:])
