"""Which hosts a rolling restart visits, and in which order (the systemd_service role's skeleton)."""


def rolling_restart_order(hosts, hostvars, service, last_mode="leader"):
    """Hosts whose change needs a restart of ``service``, in play order, with the ``last_mode`` host last.

    Each host keeps one fact, ``systemd_service__state``: ``{<service>: {restart, started, mode}}``. A host
    is restarted when a change marked it (``restart``) and the run did not just start it (``started``: a
    stopped service reads its new configuration when it starts). ``mode`` (optional) is the host's part in
    its cluster before the restarts, e.g. a ZooKeeper leader, which goes last so leadership moves once.
    ``last_mode`` may also be a list of modes in the order they go, e.g. KRaft's ``[controller,
    active_controller, broker]``: the controllers first, the active one last of them, then the brokers; a
    host of a mode not listed goes first. Within a mode, play order.
    """
    ranks = list(last_mode) if isinstance(last_mode, (list, tuple)) else ["", last_mode]
    pending = []
    for host in hosts:
        state = (hostvars[host].get("systemd_service__state") or {}).get(service) or {}
        if not state.get("restart") or state.get("started"):
            continue
        mode = state.get("mode", "")
        if not isinstance(last_mode, (list, tuple)):
            mode = mode if mode == last_mode else ""
        pending.append((ranks.index(mode) if mode in ranks else -1, host))
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
