"""Where a ZooKeeper to KRaft migration stands, and which phase may run next (playbooks/zookeeper_to_kraft.yml).

Controller-side (plugin_utils): used by the ``migration`` filters as
``ansible_collections.kafka_stack.core.plugins.plugin_utils.migration``.

Phases, each re-runnable and each refused unless the one before is verifiably complete (Kafka 3.9's
documented procedure): 1 ``controllers`` (KRaft controllers with the ZooKeeper cluster id and the migration
flag), 2 ``migrate`` (brokers rolled into migration mode; the controllers copy the metadata, then
dual-write), 3 ``kraft_brokers`` (brokers rolled to KRaft), 4 ``finalize`` (ZooKeeper removed from the
controllers: the point of no return).
"""

import json

PHASES = ("controllers", "migrate", "kraft_brokers", "finalize")
DONE_NAMES = ("not started", "controllers provisioned", "metadata migrated (dual-write)", "brokers in KRaft mode",
              "finalized")


def znode_json(znode):
    """A znode's JSON data (a zookeeper_znode result) as a dict: ``{}`` when absent, unreadable or not an object."""
    if not znode or not znode.get("exists"):
        return {}
    try:
        data = json.loads(znode.get("data") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def unanswered(*znodes):
    """Why ZooKeeper could not be read: the message of the first zookeeper_znode result no server answered
    (read with ``failed_when: false``), "" when every one was read."""
    for znode in znodes:
        if znode and znode.get("answered") is False:
            return str(znode.get("msg") or "no ZooKeeper server answered")
    return ""


def progress(states, controllers, brokers, znode=None):
    """How many phases are complete (0-4) and why, from kafka_broker_state of every node (``{host: state}``)
    and the /migration znode. A phase counts only when it holds on every node it concerns."""
    def state(host):
        return states.get(host) or {}

    def running(host):
        return bool(state(host).get("running_version"))

    migration = znode_json(znode)
    ctl_migrating = bool(controllers) and all(
        running(h) and state(h).get("process_roles") == "controller" and state(h).get("migration") for h in controllers)
    ctl_final = bool(controllers) and all(
        running(h) and state(h).get("process_roles") == "controller" and not state(h).get("migration")
        and not state(h).get("zookeeper") for h in controllers)
    brokers_migrating = bool(brokers) and all(
        running(h) and not state(h).get("process_roles") and state(h).get("migration") for h in brokers)
    brokers_kraft = bool(brokers) and all(
        running(h) and state(h).get("process_roles") == "broker" for h in brokers)
    migrated = int(migration.get("kraft_metadata_offset", -1)) >= 0
    if ctl_final and brokers_kraft:
        done = 4
    elif ctl_migrating and brokers_kraft:
        done = 3
    elif ctl_migrating and brokers_migrating and migrated:
        done = 2
    elif ctl_migrating:
        done = 1
    else:
        done = 0
    return {"done": done, "stage": DONE_NAMES[done], "migrated": migrated, "znode": migration,
            "zookeeper_error": unanswered(znode),
            "controllers_migrating": ctl_migrating, "brokers_migrating": brokers_migrating,
            "brokers_kraft": brokers_kraft, "controllers_final": ctl_final}


# phase -> the completed phases it may start from (re-runs included).
_ALLOWED = {"controllers": (0, 1, 2, 3), "migrate": (1, 2), "kraft_brokers": (2, 3), "finalize": (3, 4)}
_NEEDS = {"controllers": "", "migrate": "phase controllers (1)", "kraft_brokers": "phase migrate (2)",
          "finalize": "phase kraft_brokers (3)"}
ROLLBACK = "playbooks/zookeeper_to_kraft_rollback.yml"


def guard(phase, state, confirm_finalize=False):
    """Why ``phase`` may not run now (empty when it may)."""
    if phase not in _ALLOWED:
        return [f"zookeeper_to_kraft_phase: {phase!r} is not a phase. Fix: run with -e zookeeper_to_kraft_phase="
                f"one of {', '.join(PHASES)}, in that order (to go back: {ROLLBACK})."]
    done = state["done"]
    problems = []
    if state.get("zookeeper_error") and done != 4:
        # Before finalize, where the migration stands is read from ZooKeeper: without it the count is wrong.
        return [f"zookeeper_to_kraft_phase: {phase}: ZooKeeper did not answer ({state['zookeeper_error']}), and until "
                "the migration is finalized its /migration znode says where the migration stands; phases 1-3 need "
                "ZooKeeper running. Fix: start the ensemble (playbooks/zookeeper.yml, zookeeper_state: present, "
                "never decommissioned before phase 4), then run the phase again."]
    if done == 4 and phase != "finalize":
        problems.append(f"zookeeper_to_kraft_phase: {phase}: the migration is finalized (the controllers no longer "
                        "know ZooKeeper), so no phase or rollback can run. Fix: nothing to do; run site.yml with "
                        "kafka_metadata_mode: kraft.")
    elif done not in _ALLOWED[phase]:
        if done < min(_ALLOWED[phase]):
            problems.append(f"zookeeper_to_kraft_phase: {phase} needs {_NEEDS[phase]} complete, but the cluster "
                            f"is at: {state['stage']}. Fix: run the phases in order.")
        else:
            problems.append(f"zookeeper_to_kraft_phase: {phase} would undo a later phase (the cluster is at: "
                            f"{state['stage']}). Fix: run the next phase, or go back to ZooKeeper mode with {ROLLBACK}.")
    if phase == "finalize" and not confirm_finalize and done != 4:
        problems.append("zookeeper_to_kraft_phase: finalize is the point of no return (no rollback to ZooKeeper "
                        "after it). Fix: check the cluster, then add -e zookeeper_to_kraft_confirm_finalize=true.")
    return problems


def zookeeper_cluster_id(znode):
    """The cluster id ZooKeeper's ``/cluster/id`` znode holds (a zookeeper_znode result: ``{"version":"1",
    "id":"..."}``); "" when it is absent or unreadable."""
    return str(znode_json(znode).get("id") or "")


def prechecks(states, brokers, quorum, cluster_znode=None, broker_ids=None):
    """Phase 1's checks of the ZooKeeper-mode cluster (beyond the pre-flight's): every broker runs 3.9 with
    inter.broker.protocol.version 3.9, its data registered under the id the inventory gives it (``broker_ids``:
    {host: kafka_broker_id}; a generated id, broker.id.generation.enable, would differ), the cluster id ZooKeeper
    holds (``cluster_znode``: ``/cluster/id``) in every broker's meta.properties, a static quorum. The controllers
    are formatted with that id."""
    problems = []
    for host in brokers:
        item = states.get(host) or {}
        stored, wanted = item.get("stored_id"), (broker_ids or {}).get(host)
        if stored and wanted is not None and str(wanted) != str(stored):
            problems.append(f"host {host}: kafka_broker_id: is {wanted}, but the broker's data is registered under "
                            f"broker id {stored} (meta.properties; an id Kafka generated, broker.id.generation.enable, "
                            "or a changed inventory): in KRaft mode its node.id must be that id. Fix: set "
                            f"kafka_broker_id: {stored} for {host}.")
        if not str(item.get("running_version", "")).startswith("3.9"):
            problems.append(f"host {host}: kafka_version: the broker runs Kafka {item.get('running_version') or 'nothing'}"
                            ", but the migration needs 3.9 on every broker. Fix: upgrade with playbooks/upgrade.yml "
                            "first.")
        elif item.get("protocol") != "3.9":
            problems.append(f"host {host}: kafka_inter_broker_protocol_version: the broker speaks "
                            f"{item.get('protocol') or 'the default'}, the migration needs 3.9. Fix: run "
                            "playbooks/upgrade.yml to bump it.")
        if item.get("process_roles"):
            problems.append(f"host {host}: kafka_metadata_mode: the broker already runs in KRaft mode "
                            f"({item['process_roles']}).")
    ids = {(states.get(h) or {}).get("cluster_id") for h in brokers} - {"", None}
    if len(ids) > 1:
        problems.append(f"host {brokers[0]}: kafka_cluster_id: the brokers hold several cluster ids ({', '.join(sorted(ids))}).")
    zookeeper_id = zookeeper_cluster_id(cluster_znode)
    if cluster_znode is not None and not zookeeper_id and not unanswered(cluster_znode):  # the guard says that one
        problems.append(f"host {brokers[0] if brokers else '?'}: groups: ZooKeeper holds no cluster id (/cluster/id "
                        "below the brokers' chroot): the brokers of this inventory have never registered there. Fix: "
                        "check kafka_zookeeper_chroot and group 'zookeeper' name the ensemble the brokers use.")
    elif zookeeper_id and ids - {zookeeper_id}:
        strangers = [h for h in brokers if (states.get(h) or {}).get("cluster_id") not in ("", None, zookeeper_id)]
        problems.append(f"host {strangers[0]}: kafka_cluster_id: the broker's meta.properties holds cluster id "
                        f"{(states.get(strangers[0]) or {}).get('cluster_id')}, but ZooKeeper's /cluster/id is "
                        f"{zookeeper_id}: it belongs to another cluster. Fix: remove it from group 'kafka', or check "
                        "kafka_zookeeper_chroot.")
    if quorum != "static":
        problems.append(f"host {brokers[0] if brokers else '?'}: kafka_kraft_quorum: is {quorum}, but Kafka 3.9 "
                        "migrates to a static quorum only. Fix: set kafka_kraft_quorum: static (group_vars/all) "
                        "and keep it after the migration.")
    return problems


def controller_claim(znode):
    """Whether ZooKeeper's /controller znode (a zookeeper_znode result) holds a KRaft controller's claim
    (``kraftControllerEpoch`` 0 or more; a ZooKeeper-mode broker of 3.9 writes -1): no ZooKeeper-mode broker
    can become the controller while it does."""
    try:
        return int(znode_json(znode).get("kraftControllerEpoch", -1)) >= 0
    except (ValueError, TypeError):
        return False


def rollback_plan(states, controllers, brokers, znodes=None):
    """What going back to ZooKeeper mode takes (Kafka 3.9's documented procedure), from what every node runs and
    is configured for and the znodes ``{"/controller": result, "/migration": result}``: ``steps`` in order,
    ``refusals`` when it may not run. Before finalize only; brokers in KRaft mode first go back to migration
    mode, which needs every controller running. Every step is idempotent, so a stopped rollback runs again."""
    def state(host):
        return states.get(host) or {}

    znodes = znodes or {}
    finalized = [h for h in controllers if state(h).get("process_roles") == "controller"
                 and not state(h).get("migration") and not state(h).get("zookeeper")]
    kraft_brokers = [h for h in brokers if state(h).get("process_roles")]
    migrating = [h for h in brokers if state(h).get("migration")]
    down = [h for h in controllers if not (state(h).get("running_version") and state(h).get("migration"))]
    live = [h for h in controllers if state(h).get("running_version")]
    silent = unanswered(*znodes.values())
    refusals = []
    if finalized:
        refusals.append(f"host {finalized[0]}: kafka_migration_phase: the controller runs without ZooKeeper, so the "
                        "migration was finalized (phase 4): the point of no return, Kafka cannot go back to "
                        "ZooKeeper mode. Fix: none; keep the cluster in KRaft mode (kafka_metadata_mode: kraft).")
    elif silent:
        refusals.append(f"host {(controllers or brokers or ['?'])[0]}: ZooKeeper did not answer "
                        f"({silent}); the rollback goes back to it: it removes the migration's "
                        "znodes and rolls the brokers back to ZooKeeper mode. Fix: start the ensemble "
                        "(playbooks/zookeeper.yml, zookeeper_state: present), then run the rollback again.")
    elif kraft_brokers and down:
        is_not, them, where = ("is", "it", "that host") if len(down) == 1 else ("are", "them", "those hosts")
        refusals.append(f"host {down[0]}: the brokers {', '.join(kraft_brokers)} run in KRaft mode and can go back "
                        "to ZooKeeper mode only through migration mode, with every controller running in migration "
                        f"mode; {', '.join(down)} {is_not} not. Fix: start {them} (the Kafka service on {where}), "
                        "then run the rollback again.")
    steps = []
    if kraft_brokers:
        steps.append(f"roll the brokers in KRaft mode ({', '.join(kraft_brokers)}) back to migration mode")
    if live or any(state(h).get("cluster_id") for h in controllers):
        steps.append(f"stop the controllers ({', '.join(controllers)}) and move their log dirs aside")
    stale = stale_znodes(znodes)
    if stale:
        steps.append(f"remove {' and '.join(stale)} from ZooKeeper")
    if kraft_brokers or migrating:
        steps.append(f"roll the brokers ({', '.join(brokers)}) without the migration settings")
    return {"refusals": refusals, "steps": steps, "kraft_brokers": kraft_brokers, "migrating_brokers": migrating}


def stale_znodes(znodes):
    """The znodes a rollback removes, of ``{path: zookeeper_znode result}``: /controller while a KRaft controller
    claims it (a ZooKeeper-mode broker's claim stays), /migration while it exists."""
    claimed = controller_claim(znodes.get("/controller"))
    left = bool((znodes.get("/migration") or {}).get("exists"))
    return [path for path, stale in (("/controller", claimed), ("/migration", left)) if stale]
