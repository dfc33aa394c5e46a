"""Changing kafka-ui's release (kafbat 1.4 -> provectus 0.7.2 -> back): the unit runs the new jar after a
restart, the release's Java rule holds (provectus needs 17; Debian 13 has none, so the role picks 21),
the data directory survives, and the cluster is online again each time.
"""

import os
import pathlib

import pytest
import yaml

from test_kafka_ui import clusters_online
from testlib import kafka_ui_converged_with, wait_for

testinfra_hosts = ["local-kafka-ui"]
MARKER = "/var/lib/kafka-ui/kept-across-upgrades"


@pytest.fixture()
def provectus(host):
    """provectus 0.7.2 for one test, then the inventory's release again (before the next test)."""
    host.run_expect([0], f"echo kept > {MARKER}")
    settings = {"kafka_ui_flavor": "provectus", "kafka_ui_version": "0.7.2"}
    if os.environ.get("ARTIFACTS", "testbed") == "testbed":  # else the role downloads provectus' release
        settings["kafka_ui_archive_src"] = str(pathlib.Path(os.environ["MOLECULE_PROJECT_DIRECTORY"], "testbed",
                                                            ".cache", "artifacts", "kafka-ui-api-v0.7.2.jar"))
    with kafka_ui_converged_with("default", settings):
        yield settings


def test_switch_to_provectus(provectus, host):
    command = host.check_output("systemctl show -P ExecStart kafka-ui")
    assert "-jar /opt/kafka-ui/kafka-ui-api-v0.7.2.jar" in command
    assert "/usr/lib/jvm/java-21-openjdk-" in command  # Debian 13: 21 is the smallest Java >= 17
    data = yaml.safe_load(host.file("/etc/kafka-ui/application.yml").content_string)
    assert data["kafka"]["clusters"][0]["bootstrapServers"] == "kafka:9092"
    wait_for(clusters_online, timeout=90, what="cluster online under provectus")
    assert host.file(MARKER).content_string.strip() == "kept"


def test_back_on_the_inventory_release(host):
    command = host.check_output("systemctl show -P ExecStart kafka-ui")
    assert "-jar /opt/kafka-ui/kafka-ui-api-v0.7.2.jar" not in command and "-jar /opt/kafka-ui/api-v" in command
    wait_for(clusters_online, timeout=90, what="cluster online after switching back")
    assert host.file(MARKER).content_string.strip() == "kept"
