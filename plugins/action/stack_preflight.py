"""Pre-flight checks across the roles of one host: two services must not claim the same TCP port.

Each role's pre-flight leaves the ports it will bind as the fact ``<role>__port_claims``:
``[{service, var, port, bind}]``; this action compares them. Runs on the controller only.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
import kafka_stack_preflight as _shared  # noqa: E402

Problem = _shared.Problem
_WILDCARDS = ("", "0.0.0.0", "::", "[::]", None)


def _overlap(first, second):
    return first in _WILDCARDS or second in _WILDCARDS or first == second


def check(host, claims):
    """A Problem for every pair of claims on one host that would bind the same port."""
    problems = []
    claims = [c for c in claims or [] if isinstance(c, dict)]
    for index, claim in enumerate(claims):
        for other in claims[index + 1:]:
            try:
                same = int(claim["port"]) == int(other["port"])
            except (KeyError, TypeError, ValueError):
                continue  # the role's own pre-flight reports a malformed port
            if same and _overlap(claim.get("bind"), other.get("bind")):
                problems.append(Problem(
                    claim["var"], f"port {claim['port']} of {claim['service']} is also {other['var']} of "
                    f"{other['service']} on this host; the second service would fail to start.",
                    f"change {claim['var']} or {other['var']}, or place the services on different hosts."))
    return problems


class ActionModule(_shared.PreflightAction):
    """``stack_preflight: {claims: [{service, var, port, bind}]}``."""

    ROLE = "stack (all roles on one host)"
    _VALID_ARGS = frozenset(("claims",))

    def problems(self, host, args):
        return check(host, args.get("claims"))
