"""Whose facts the controller's fact cache holds under a host name.

Ansible's fact cache (the repository's ansible.cfg keeps gathered facts a day) is keyed by the host name
alone. Two inventories that name different machines alike (``local-kafka-ui`` is a systemd container in
inventories/local and the Docker host itself in inventories/local-containers) would read each other's facts:
the distribution of the wrong machine, and with it the wrong Java. So every run stamps the cached facts with
the host they came from (``fact_source``: the inventory's directory, the connection and the address), and a
run whose hosts find another stamp, or cached facts without one, forgets the cache first
(``foreign_fact_hosts``; playbooks/facts.yml). Controller-side (plugin_utils); used by the filters of
plugins/filter/stack.py.
"""

STAMP = "kafka_stack_facts_of"


def fact_source(host_vars):
    """Where a host's facts come from: ``<inventory_dir>|<connection>|<address>``."""
    name = host_vars.get("inventory_hostname", "")
    return "|".join(str(part) for part in (host_vars.get("inventory_dir") or "",
                                            host_vars.get("ansible_connection") or "ssh",
                                            host_vars.get("ansible_host") or name))


def foreign_fact_hosts(hosts, hostvars):
    """The hosts among ``hosts`` whose cached facts are another host's: stamped by another source, or cached
    without a stamp (by a run that did not stamp them)."""
    foreign = []
    for host in hosts:
        host_vars = hostvars[host]
        facts = host_vars.get("ansible_facts") or {}
        if facts and facts.get(STAMP) != fact_source(host_vars):
            foreign.append(host)
    return foreign
