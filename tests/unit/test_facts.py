"""Whose facts the fact cache holds under a host name (plugins/plugin_utils/facts.py; playbooks/facts.yml)."""

from ansible_collections.kafka_stack.core.plugins.plugin_utils.facts import fact_source, foreign_fact_hosts

LAB = {"inventory_hostname": "local-kafka-ui", "inventory_dir": "/repo/inventories/local",
       "ansible_connection": "community.docker.docker", "ansible_host": "ksa-local-kafka-ui"}
DOCKER_HOST = {"inventory_hostname": "local-kafka-ui", "inventory_dir": "/repo/inventories/local-containers",
               "ansible_connection": "local"}


def test_the_source_names_the_inventory_the_connection_and_the_address():
    assert fact_source(LAB) == "/repo/inventories/local|community.docker.docker|ksa-local-kafka-ui"
    assert fact_source(DOCKER_HOST) == "/repo/inventories/local-containers|local|local-kafka-ui"
    assert fact_source({"inventory_hostname": "kafka1"}) == "|ssh|kafka1"


def test_facts_of_another_source_or_without_a_stamp_are_foreign():
    hostvars = {
        "same": dict(LAB, ansible_facts={"distribution": "Debian", "kafka_stack_facts_of": fact_source(LAB)}),
        "other": dict(LAB, ansible_facts={"distribution": "Debian", "kafka_stack_facts_of": fact_source(DOCKER_HOST)}),
        "unstamped": dict(LAB, ansible_facts={"distribution": "Debian"}),
        "none yet": dict(LAB, ansible_facts={}),
    }
    assert foreign_fact_hosts(list(hostvars), hostvars) == ["other", "unstamped"]
