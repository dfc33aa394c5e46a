"""Standalone server: mode, and data that survives a restart."""

import uuid

from kazoo.client import KazooClient

from testlib import mode, wait_for

testinfra_hosts = ["ksa-zk-standalone"]
PORT = 22181


def test_mode_is_standalone():
    assert mode(PORT) == "standalone"


def test_znode_survives_a_restart(host):
    path = f"/verify/{uuid.uuid4().hex}"
    client = KazooClient(hosts=f"127.0.0.1:{PORT}", timeout=10)
    client.start(timeout=30)
    try:
        client.create(path, b"kept", makepath=True)
    finally:
        client.stop()
    assert host.run("systemctl restart zookeeper").rc == 0
    wait_for(lambda: mode(PORT) == "standalone", what="standalone mode after restart")
    client = KazooClient(hosts=f"127.0.0.1:{PORT}", timeout=10)
    client.start(timeout=30)
    try:
        assert client.get(path)[0] == b"kept"
        client.delete(path)
    finally:
        client.stop()
