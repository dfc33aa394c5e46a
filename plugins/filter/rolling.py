"""Which hosts a rolling restart visits, and in which order (the systemd_service role's skeleton)."""


def rolling_restart_order(hosts, hostvars, service, last_mode="leader"):
    """Hosts whose change needs a restart of ``service``, in play order, with the ``last_mode`` host last.

    Each host keeps one fact, ``systemd_service__state``: ``{<service>: {restart, started, mode}}``. A host
    is restarted when a change marked it (``restart``) and the run did not just start it (``started``: a
    stopped service reads its new configuration when it starts). ``mode`` (optional) is the host's part in
    its cluster before the restarts, e.g. a ZooKeeper leader, which goes last so leadership moves once.
    """
    pending = []
    for host in hosts:
        state = (hostvars[host].get("systemd_service__state") or {}).get(service) or {}
        if not state.get("restart") or state.get("started"):
            continue
        pending.append((state.get("mode", "") == last_mode, host))
    return [host for _, host in sorted(pending, key=lambda item: item[0])]


def service_mark(state, service, **flags):
    """``state`` (``systemd_service__state``) with the given flags of ``service`` raised: a flag already
    set stays set until the restart clears it, so several changes of one run add up to one restart."""
    state = dict(state or {})
    marks = dict(state.get(service) or {})
    for flag, raised in flags.items():
        marks[flag] = bool(marks.get(flag)) or bool(raised)
    state[service] = marks
    return state


class FilterModule:
    """Rolling-restart filters."""

    def filters(self):
        return {"rolling_restart_order": rolling_restart_order, "service_mark": service_mark}
