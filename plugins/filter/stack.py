"""The stack model as a filter: ``groups | kafka_stack.core.stack_model(hostvars)``.

playbooks/preflight.yml resolves it once per run (fact ``kafka_stack_model`` on every host of the
stack); the roles read that fact, and resolve the model themselves only when used without the pre-flight.
See plugins/plugin_utils/model.py.
"""

from ansible_collections.kafka_stack.core.plugins.plugin_utils.facts import fact_source, foreign_fact_hosts
from ansible_collections.kafka_stack.core.plugins.plugin_utils.model import stack_model
from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import TLS_PROTOCOLS


def zookeeper_port_claims(members, host, admin_enabled, admin_port):
    """The ports a ZooKeeper server binds (host mode), as claims for the cross-role port check: the client
    port, the quorum and election ports in an ensemble, the AdminServer's when it is on."""
    member = next((item for item in members or [] if item.get("host") == host), None)
    if member is None:
        return []
    claims = [{"service": "zookeeper", "var": "zookeeper_client_port", "port": member["client_port"], "bind": ""}]
    if len(members) > 1:
        claims += [{"service": "zookeeper", "var": "zookeeper_quorum_port", "port": member["quorum_port"], "bind": ""},
                   {"service": "zookeeper", "var": "zookeeper_election_port", "port": member["election_port"],
                    "bind": ""}]
    if admin_enabled in (True, "true", "True", 1, "1", "yes"):
        claims.append({"service": "zookeeper AdminServer", "var": "zookeeper_admin_server_port", "port": admin_port,
                       "bind": ""})
    return claims


def tls_listeners(listeners):
    """The listeners whose protocol uses TLS (render.TLS_PROTOCOLS: SSL, SASL_SSL)."""
    return [item for item in listeners or [] if isinstance(item, dict) and item.get("protocol") in TLS_PROTOCOLS]


class FilterModule:
    """Stack model filters."""

    def filters(self):
        return {"stack_model": stack_model, "zookeeper_port_claims": zookeeper_port_claims,
                "tls_listeners": tls_listeners, "fact_source": fact_source, "foreign_fact_hosts": foreign_fact_hosts}
