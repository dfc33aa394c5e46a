"""Kafka upgrades: which ``inter.broker.protocol.version`` the brokers must speak (ZooKeeper mode), and when the
finalized ``metadata.version`` of a KRaft cluster is raised.

Kafka's upgrade notes (3.x, ZooKeeper mode): roll the brokers onto the new binaries with
``inter.broker.protocol.version`` pinned to the version the cluster speaks now, and only once every broker
runs the new binaries, bump it and roll again. A broker cannot speak a protocol newer than its binaries,
and a protocol once bumped is not lowered again (the brokers may have written data in the newer format).

KRaft has no inter-broker protocol: the ``metadata.version`` feature, finalized cluster-wide with
``kafka-features.sh upgrade``, plays its part. Kafka's upgrade notes: roll every node onto the new binaries
(the feature stays where it is), then raise it. It is not lowered again (a downgrade may lose metadata).

Controller-side (plugin_utils): used by the ``kafka_protocol_plan`` and ``kafka_metadata_version_plan`` filters
(plugins/filter/kafka.py).
"""

import re

from ansible_collections.kafka_stack.core.plugins.plugin_utils.preflight import Problem

AUTO = "auto"
KEEP = "keep"
VAR = "kafka_inter_broker_protocol_version"
METADATA_VAR = "kafka_metadata_version"
_PROTOCOL = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?(?:-IV\d+)?$")


def line(version):
    """The release line of a version or protocol, as a tuple: ``3.9.2`` → (3, 9), ``3.8-IV0`` → (3, 8)."""
    match = _PROTOCOL.match(str(version or "").strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def _text(pair):
    return f"{pair[0]}.{pair[1]}"


def protocol_plan(target_version, requested, states):
    """The protocol the brokers get this run, and the problems that forbid it.

    ``target_version``: ``kafka_version``. ``requested``: ``kafka_inter_broker_protocol_version``, ``auto``
    or a line such as ``3.8``. ``states``: ``{host: {running_version, installed_version, protocol}}`` as
    the ``kafka_broker_state`` module reads them (empty values for a broker not installed yet).

    ``auto`` keeps the oldest line any broker runs or is pinned to while some broker still runs older
    binaries than ``target_version`` (the first roll of an upgrade), and is ``target_version``'s line once
    every broker runs it (the second roll bumps). Returns ``{protocol, pinned, reason, problems}``;
    ``problems`` is ``[(host, Problem)]``.
    """
    target = line(target_version)
    problems = []
    if target is None:
        return {"protocol": "", "pinned": False, "reason": "", "problems": [
            ("", Problem("kafka_version", f"'{target_version}' is not a Kafka version.",
                         "set kafka_version to a release such as 3.9.2."))]}
    binaries, spoken = {}, {}
    for host, state in sorted((states or {}).items()):
        state = state or {}
        in_use = line(state.get("running_version")) or line(state.get("installed_version"))
        if in_use:
            binaries[host] = in_use
        if line(state.get("protocol")):
            spoken[host] = line(state.get("protocol"))
    oldest_binaries = min(binaries.values(), default=None)
    oldest_spoken = min(spoken.values(), default=None)
    newest_spoken = max(spoken.values(), default=None)

    if newest_spoken and target < newest_spoken:
        host = max(spoken, key=spoken.get)
        problems.append((host, Problem(
            "kafka_version", f"{target_version} is older than the protocol {_text(newest_spoken)} the cluster "
            "already speaks; Kafka cannot go back to older binaries once the protocol was bumped.",
            f"set kafka_version to a {_text(newest_spoken)}.x release or newer.")))

    if str(requested or AUTO).strip() == AUTO:
        behind = {host: pair for host, pair in binaries.items() if pair < target}
        if behind:
            protocol = min([pair for pair in (oldest_binaries, oldest_spoken) if pair])
            hosts = ", ".join(sorted(behind))
            reason = (f"pinned to {_text(protocol)}: {hosts} still run{'s' if len(behind) == 1 else ''} older "
                      f"binaries than {target_version}; the next run bumps it once every broker runs them")
            return {"protocol": _text(protocol), "pinned": True, "reason": reason, "problems": problems}
        protocol = target if not newest_spoken or newest_spoken <= target else newest_spoken
        return {"protocol": _text(protocol), "pinned": False, "reason": f"{_text(protocol)}, the binaries' line",
                "problems": problems}

    wanted = line(requested)
    if wanted is None:
        problems.append(("", Problem(VAR, f"'{requested}' is not a protocol version.",
                                     f"set {VAR} to {AUTO} or to a release line such as {_text(target)}.")))
        return {"protocol": "", "pinned": False, "reason": "", "problems": problems}
    if wanted > target:
        problems.append(("", Problem(VAR, f"{_text(wanted)} is newer than kafka_version {target_version}.",
                                     f"set {VAR} to {_text(target)} or older, or to {AUTO}.")))
    for host, pair in sorted(binaries.items()):
        if wanted > pair:
            problems.append((host, Problem(
                VAR, f"{_text(wanted)} cannot be spoken yet: this broker still runs Kafka {_text(pair)} binaries.",
                f"first roll every broker onto {target_version} with the protocol pinned (leave {VAR} at "
                f"{AUTO}, or set it to {_text(oldest_binaries)}), then bump it.")))
    for host, pair in sorted(spoken.items()):
        if wanted < pair:
            problems.append((host, Problem(
                VAR, f"{_text(wanted)} is older than the protocol {_text(pair)} this broker already speaks; "
                     "Kafka does not support lowering it.", f"set {VAR} to {_text(pair)} or newer, or to {AUTO}.")))
    return {"protocol": _text(wanted), "pinned": wanted < target, "reason": f"{_text(wanted)}, as set in {VAR}",
            "problems": problems}


def metadata_version_plan(target_version, setting, states):
    """Whether this run raises the KRaft cluster's finalized ``metadata.version`` to the newest level
    ``target_version`` supports, and why (``{raise, pinned, reason}``).

    ``setting``: ``kafka_metadata_version``, ``auto`` or ``keep``. ``states``: ``{host: {running_version}}`` of
    every KRaft node (controllers and brokers) as kafka_broker_state read them at the start of the run.
    ``auto`` raises it only when every node already ran ``target_version`` then: the run that rolls new binaries
    keeps the feature (``pinned`` when a node runs other binaries), the next run (playbooks/upgrade.yml's second
    pass) raises it. A node that does not run leaves it too, as Kafka could not check that node supports it.
    """
    if str(setting or AUTO).strip() == KEEP:
        return {"raise": False, "pinned": False, "reason": f"kept where it is ({METADATA_VAR}: {KEEP})"}
    if not states:
        return {"raise": False, "pinned": False, "reason": "no KRaft node"}
    versions = {host: (state or {}).get("running_version") or "" for host, state in sorted(states.items())}
    others = {host: version for host, version in versions.items() if version != target_version}
    if others:
        if not any(others.values()):  # none of them runs at all
            return {"raise": False, "pinned": False,
                    "reason": f"left: {', '.join(others)} do{'es' if len(others) == 1 else ''} not run yet"}
        hosts = ", ".join(f"{host} ({version or 'not running'})" for host, version in others.items())
        return {"raise": False, "pinned": True,
                "reason": f"stays where it is: {hosts} {'runs' if len(others) == 1 else 'run'} no Kafka "
                          f"{target_version} yet; the next run raises it once every node does "
                          "(playbooks/upgrade.yml's second pass)"}
    return {"raise": True, "pinned": False,
            "reason": f"raised to the newest level Kafka {target_version} supports: every node runs it"}
