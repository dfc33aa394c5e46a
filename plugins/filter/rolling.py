"""Which hosts a rolling restart visits, and in which order (shared by the service roles)."""


def rolling_restart_order(hosts, hostvars, role, last_mode="leader"):
    """Hosts whose change needs a restart, in play order, with the ``last_mode`` host last.

    A host is restarted when a handler marked it (``<role>__restart_pending``) and the run did not just
    start it (``<role>__start.changed``: a stopped service reads its new configuration when it starts).
    ``<role>__mode_before.mode`` (optional) is the host's role in its cluster before the restarts,
    e.g. a ZooKeeper leader, which goes last so leadership moves once.
    """
    pending = []
    for host in hosts:
        hv = hostvars[host]
        if not hv.get(f"{role}__restart_pending"):
            continue
        if (hv.get(f"{role}__start") or {}).get("changed"):
            continue
        mode = (hv.get(f"{role}__mode_before") or {}).get("mode", "")
        pending.append((mode == last_mode, host))
    return [host for _, host in sorted(pending, key=lambda item: item[0])]


class FilterModule:
    """Rolling-restart filters."""

    def filters(self):
        return {"rolling_restart_order": rolling_restart_order}
