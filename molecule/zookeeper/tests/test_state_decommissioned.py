"""zookeeper_state: decommissioned on a running server: refused while a client holds a session, then the service
stopped and disabled with its data kept, a second run and a rolling restart leave it so, and zookeeper_state:
present brings the server back with its znodes. The test puts the server back as it found it, whatever happens."""

import uuid

from kazoo.client import KazooClient

from testlib import mode, playbook, recap, wait_for

testinfra_hosts = ["ksa-zk-standalone"]
PORT = 22181


def converge(*extra):
    return playbook("molecule/zookeeper/converge.yml", *extra, timeout=900)


def decommission():
    return converge("-e", "zookeeper_state=decommissioned")


def service(host):
    return (host.run("systemctl is-active zookeeper").stdout.strip(),
            host.run("systemctl is-enabled zookeeper").stdout.strip())


def client():
    session = KazooClient(hosts=f"127.0.0.1:{PORT}", timeout=10)
    session.start(timeout=30)
    return session


def test_decommissioned_waits_for_the_last_session_then_stops_and_keeps_the_data(host):
    path = f"/verify/decommission-{uuid.uuid4().hex}"
    files = "ls /var/lib/zookeeper/data/myid /var/lib/zookeeper/data/version-2"
    session = client()
    try:
        session.create(path, b"kept", makepath=True)
        refused = decommission()  # the session stays open (kazoo pings it) for the whole run
        output = refused.stdout + refused.stderr
        assert refused.returncode != 0 and "client session(s)" in output and "no host was changed" in output, \
            output[-3000:]
        assert set(recap(refused.stdout).values()) == {0} and service(host) == ("active", "enabled")
    finally:
        session.stop()
        session.close()
    try:
        before = host.check_output(files)
        retired = decommission()
        assert retired.returncode == 0, retired.stdout[-4000:] + retired.stderr[-2000:]
        assert "ZooKeeper on ksa-zk-standalone is decommissioned" in retired.stdout
        assert service(host)[0] != "active" and service(host)[1] == "disabled"
        assert mode(PORT) == "" and host.check_output(files) == before
        again = decommission()
        assert again.returncode == 0 and set(recap(again.stdout).values()) == {0}, again.stdout[-4000:]
        # A rolling restart leaves a decommissioned server stopped.
        rolled = playbook("playbooks/rolling_restart.yml", "-e", "zookeeper_state=decommissioned", timeout=600)
        assert rolled.returncode == 0 and set(recap(rolled.stdout).values()) == {0}, rolled.stdout[-4000:]
        assert service(host)[0] != "active" and mode(PORT) == ""
    finally:
        back = converge()
    assert back.returncode == 0, back.stdout[-4000:] + back.stderr[-2000:]
    assert service(host) == ("active", "enabled")
    wait_for(lambda: mode(PORT) == "standalone", what="standalone mode after zookeeper_state: present")
    session = client()
    try:
        assert session.get(path)[0] == b"kept"
        session.delete(path)
    finally:
        session.stop()
        session.close()
