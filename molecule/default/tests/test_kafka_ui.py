"""kafka-ui of the local stack: the upstream invocation, application.yml from the inventory, and the
REST contract end to end (8080 published on 127.0.0.1): health, the cluster online with one broker and
the broker's endpoint. The login is tested in test_kafka_ui_login.py, which runs after this file.

Only kafka-ui's contracts are used, so these run unchanged against the real jar (ARTIFACTS=upstream)
and against the test bed's stand-in.
"""

import json
import urllib.error
import urllib.request

import pytest
import yaml

from testlib import wait_for

testinfra_hosts = ["local-kafka-ui"]
URL = "http://127.0.0.1:8080"
CLUSTER = "local"


def get(path, cookie=None, accept="application/json"):
    request = urllib.request.Request(URL + path, headers={"Accept": accept, **({"Cookie": cookie} if cookie else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def clusters_online():
    try:
        return [c for c in get("/api/clusters") if c["name"] == CLUSTER and c["status"] == "online"]
    except (urllib.error.URLError, ConnectionError):  # restarting
        return []


def test_service_runs_the_upstream_command_as_kafka_ui(host):
    assert host.service("kafka-ui").is_enabled and host.service("kafka-ui").is_running
    assert host.check_output("systemctl show -P User kafka-ui") == "kafka-ui"
    command = host.check_output("systemctl show -P ExecStart kafka-ui")
    assert "/usr/lib/jvm/java-21-openjdk-" in command  # kafbat 1.4 needs Java 21
    assert "--add-opens java.rmi/javax.rmi.ssl=ALL-UNNAMED $JAVA_OPTS" in command
    assert "-Dspring.config.additional-location=/etc/kafka-ui/application.yml -jar /opt/kafka-ui/api-v" in command
    assert host.check_output("systemctl show -P NoNewPrivileges kafka-ui") == "yes"
    assert host.check_output("systemctl show -P ProtectSystem kafka-ui") == "strict"


def test_application_yml_from_the_inventory(host):
    config = host.file("/etc/kafka-ui/application.yml")
    assert config.mode == 0o640 and config.user == "root" and config.group == "kafka-ui"
    data = yaml.safe_load(config.content_string)
    assert data["kafka"]["clusters"] == [{"name": CLUSTER, "bootstrapServers": "kafka:9092", "readOnly": False}]
    assert data["auth"] == {"type": "DISABLED"}
    assert data["server"] == {"port": 8080}
    assert data["dynamic"]["config"]["enabled"] is False
    assert "spring" not in data  # no credentials rendered when login is off


def test_health_is_up_on_the_published_port():
    assert get("/actuator/health")["status"] == "UP"


def test_cluster_online_with_one_broker():
    wait_for(clusters_online, timeout=90, what=f"cluster {CLUSTER} online in /api/clusters")
    (cluster,) = clusters_online()
    assert cluster["brokerCount"] == 1
    assert cluster["defaultCluster"] is True and cluster["readOnly"] is False


def test_brokers_endpoint_lists_the_advertised_inter_broker_listener():
    brokers = get(f"/api/clusters/{CLUSTER}/brokers")
    assert [(b["id"], b["host"], b["port"]) for b in brokers] == [(1, "kafka", 9092)]  # kafka_broker_id 1


def test_unknown_cluster_is_not_found():
    with pytest.raises(urllib.error.HTTPError) as error:
        get("/api/clusters/no-such-cluster/brokers")
    assert error.value.code == 404
