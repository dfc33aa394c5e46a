"""Three-node ensemble: roles, replication, and surviving the loss of the leader."""

import uuid

import pytest
from kazoo.client import KazooClient

from testlib import mode, restart_order_after_change, runner, saved_before_change, wait_for

testinfra_hosts = ["zk1"]  # ensemble-wide tests: run once
PORTS = {"zk1": 22191, "zk2": 22192, "zk3": 22193}


def modes():
    return {name: mode(port) for name, port in PORTS.items()}


def one_leader(names):
    current = {name: mode(PORTS[name]) for name in names}
    roles = sorted(current.values())
    return current if roles == ["follower"] * (len(names) - 1) + ["leader"] else None


def client(*names):
    zk = KazooClient(hosts=",".join(f"127.0.0.1:{PORTS[n]}" for n in names), timeout=10)
    zk.start(timeout=30)
    return zk


@pytest.fixture()
def znode():
    path = f"/verify/{uuid.uuid4().hex}"
    yield path
    zk = client(*PORTS)
    try:
        zk.delete(path, recursive=True)
    finally:
        zk.stop()


def test_exactly_one_leader_and_two_followers():
    assert sorted(modes().values()) == ["follower", "follower", "leader"]


def test_config_change_restarted_every_member_leader_last():
    """side_effect.yml changed zoo.cfg on the running ensemble (see molecule.yml's test_sequence)."""
    before = saved_before_change("modes-before-change.json")
    assert sorted(before.values()) == ["follower", "follower", "leader"]
    order = restart_order_after_change(PORTS, "zookeeper", "/etc/zookeeper/zoo.cfg", "snapCount=50000")
    old_leader = next(name for name, role in before.items() if role == "leader")
    assert order[-1] == old_leader, f"restart order {order}, leader before the change: {old_leader}"


def test_write_through_one_node_read_through_another(znode):
    writer, reader = client("zk1"), client("zk3")
    try:
        writer.create(znode, b"replicated", makepath=True)
        reader.sync(znode)
        assert reader.get(znode)[0] == b"replicated"
    finally:
        writer.stop()
        reader.stop()


def test_losing_the_leader_keeps_the_ensemble_serving(znode):
    leader = next(name for name, role in modes().items() if role == "leader")
    survivors = [name for name in PORTS if name != leader]
    leader_host = runner().get_host(leader)
    assert leader_host.run("systemctl stop zookeeper").rc == 0
    try:
        assert mode(PORTS[leader]) == ""
        wait_for(lambda: one_leader(survivors), what=f"a new leader among {survivors}")
        writer, reader = client(survivors[0]), client(survivors[1])
        try:
            writer.create(znode, b"written while down", makepath=True)
            writer.set(znode, b"updated while down")
            reader.sync(znode)
            assert reader.get(znode)[0] == b"updated while down"
        finally:
            writer.stop()
            reader.stop()
    finally:
        assert leader_host.run("systemctl start zookeeper").rc == 0
    wait_for(lambda: mode(PORTS[leader]) == "follower", what=f"{leader} to rejoin as follower")
    assert one_leader(list(PORTS))
    rejoined = client(leader)
    try:
        rejoined.sync(znode)
        assert rejoined.get(znode)[0] == b"updated while down"
    finally:
        rejoined.stop()
