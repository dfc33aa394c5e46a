# TEST DOUBLE of a transport's selection: the test bed's own, never the collection's (it lives under testbed/ and
# is enabled only in Molecule's configuration, .config/molecule/config.yml).
"""Every host Molecule's docker driver reaches with `docker exec` is reached with the test bed's nsenter instead."""

from __future__ import annotations

DOCUMENTATION = """
name: ksa_nsenter_connection
short_description: TEST DOUBLE, the test bed's containers reached through ksa_nsenter instead of docker exec
description:
  - Molecule's docker driver writes C(ansible_connection=community.docker.docker) into the inventory of each of
    its containers, and no setting of Molecule's changes it. This vars plugin, enabled in Molecule's
    configuration only, gives each such host C(ansible_connection=ksa_nsenter) (the test bed's connection plugin,
    testbed/ansible_plugins/connection/ksa_nsenter.py), at the precedence of the inventory's host_vars files, so
    that it wins over the inventory's own line. Hosts with any other connection are left as they are.
options:
  stage:
    ini:
      - key: stage
        section: vars_ksa_nsenter_connection
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
"""

from ansible.inventory.host import Host
from ansible.plugins.vars import BaseVarsPlugin

DOCKER_CONNECTIONS = ("community.docker.docker", "docker")


class VarsModule(BaseVarsPlugin):
    """ansible_connection: ksa_nsenter for the hosts the inventory reaches with docker exec."""

    REQUIRES_ENABLED = True

    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        hosts = entities if isinstance(entities, list) else [entities]
        if any(isinstance(host, Host) and host.vars.get("ansible_connection") in DOCKER_CONNECTIONS for host in hosts):
            return {"ansible_connection": "ksa_nsenter"}
        return {}
