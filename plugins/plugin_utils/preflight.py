"""What every pre-flight action shares: the Problem record and the controller-only action.

Controller-side (plugin_utils): imported by plugins/action/*_preflight.py as
``ansible_collections.kafka_stack.core.plugins.plugin_utils.preflight``.
"""

from ansible.plugins.action import ActionBase


class Problem:
    """One finding: ``fatal`` problems fail the host, the others are printed as warnings."""

    def __init__(self, var, message, fix, fatal=True):
        self.var, self.message, self.fix, self.fatal = var, message, fix, fatal

    def render(self, host):
        return f"host {host}: {self.var}: {self.message} Fix: {self.fix}"

    def __repr__(self):
        return f"Problem({self.var!r}, {self.message!r})"


class PreflightAction(ActionBase):
    """Runs ``problems(host, args)`` on the controller; never connects to the host."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ROLE = ""

    def problems(self, host, args):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        host = task_vars.get("inventory_hostname")
        found = self.problems(host, self._task.args)
        errors = [p.render(host) for p in found if p.fatal]
        warnings = [p.render(host) for p in found if not p.fatal]
        if warnings:
            result["warnings"] = warnings
        result["changed"] = False
        if errors:
            result["failed"] = True
            result["msg"] = f"Pre-flight of role {self.ROLE} failed; no host was changed.\n" + "\n".join(errors)
        else:
            result["msg"] = f"Pre-flight of role {self.ROLE} passed on {host}."
        return result
