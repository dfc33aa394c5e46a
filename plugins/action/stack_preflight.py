"""Pre-flight checks across the roles of one host: two services must not claim the same TCP port.

Each role's pre-flight leaves the ports it will bind as the fact ``<role>__port_claims``:
``[{service, var, port, bind}]``; this action reads and compares them. In container mode the claims are the
ports a container publishes on its Docker engine (with ``engine`` set): those are compared with the
container claims of every other inventory host of the play on the same engine. Runs on the controller only.
"""

from ansible_collections.kafka_stack.core.plugins.plugin_utils import preflight as _shared


Problem = _shared.Problem
_WILDCARDS = ("", "0.0.0.0", "::", "[::]", None)


def _overlap(first, second):
    return first in _WILDCARDS or second in _WILDCARDS or first == second


def _clash(claim, other):
    try:
        same = int(claim["port"]) == int(other["port"])
    except (KeyError, TypeError, ValueError):
        return False  # the role's own pre-flight reports a malformed port
    return same and _overlap(claim.get("bind"), other.get("bind"))


def check(host, claims, others=None):
    """A Problem for every pair of claims on one host that would bind the same port, and for every
    container claim of this host that a container of another host (``others``: {host: claims}) on the
    same Docker engine also publishes."""
    problems = []
    claims = [c for c in claims or [] if isinstance(c, dict)]
    for index, claim in enumerate(claims):
        for other in claims[index + 1:]:
            if _clash(claim, other):
                problems.append(Problem(
                    claim["var"], f"port {claim['port']} of {claim['service']} is also {other['var']} of "
                    f"{other['service']} on this host; the second service would fail to start.",
                    f"change {claim['var']} or {other['var']}, or place the services on different hosts."))
    for claim in claims:
        if not claim.get("engine"):
            continue
        for other_host, other_claims in sorted((others or {}).items()):
            for other in other_claims or []:
                if (other_host != host and isinstance(other, dict) and other.get("engine") == claim["engine"]
                        and _clash(claim, other)):
                    problems.append(Problem(
                        claim["var"], f"port {claim['port']} published by the {claim['service']} is also "
                        f"published by the {other['service']} of {other_host} ({other['var']}) on the Docker "
                        f"engine of {claim['engine']}; the second container would fail to start.",
                        f"give each container on one Docker engine its own host port in {claim['var']}."))
    return problems


# The facts each role's pre-flight leaves its claims in.
CLAIM_FACTS = ("zookeeper__port_claims", "kafka__port_claims", "kafka_ui__port_claims")


class ActionModule(_shared.PreflightAction):
    """``stack_preflight: {}``: reads the claims of this host and of the play's other hosts from
    their ``<role>__port_claims`` facts."""

    ROLE = "stack (all roles on one host)"
    _VALID_ARGS = frozenset()

    def run(self, tmp=None, task_vars=None):
        self._task_vars = task_vars or {}
        return super().run(tmp, task_vars)

    def problems(self, host, args):
        hostvars = self._task_vars.get("hostvars", {})
        claims = {name: [claim for fact in CLAIM_FACTS for claim in (hostvars.get(name, {}).get(fact) or [])]
                  for name in set(self._task_vars.get("ansible_play_hosts_all", [])) | {host}}
        return check(host, claims[host], claims)
