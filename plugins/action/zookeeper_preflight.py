"""Pre-flight checks of the zookeeper role, run on the controller without touching any host.

Each problem names the host, the variable, what is wrong and the fix. The action never connects to
the managed host, so it also works on inventories whose hosts are unreachable.
"""

import os
import re

from ansible_collections.kafka_stack.core.plugins.filter.container_env import zookeeper_container_env_problems
from ansible_collections.kafka_stack.core.plugins.plugin_utils import preflight as _shared

ROLE = "zookeeper"
_CHECKSUM = re.compile(r"^(sha512|sha256):[0-9a-f]+$")
_CHECKSUM_LENGTH = {"sha512": 128, "sha256": 64}


Problem = _shared.Problem


def _port_problems(settings):
    problems, used = [], {}
    names = ["zookeeper_client_port", "zookeeper_quorum_port", "zookeeper_election_port"]
    if settings.get("zookeeper_admin_server_enabled"):
        names.append("zookeeper_admin_server_port")
    for var in names:
        value = settings.get(var)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
            problems.append(Problem(var, f"{value!r} is not a TCP port.",
                                    f"set {var} to a whole number from 1 to 65535."))
            continue
        if value in used:
            problems.append(Problem(var, f"port {value} is also {used[value]}.",
                                    f"give {var} and {used[value]} different ports."))
        used.setdefault(value, var)
    return problems


def _id_problems(host, members, group):
    problems = []
    me = next((m for m in members if m["host"] == host), None)
    if me is None:
        return [Problem("groups", f"the host runs the zookeeper role but is not in group '{group}', "
                        "so it would not be part of any ensemble.",
                        f"add the host to group '{group}' in the inventory.")]
    ident = me["id"]
    if ident is None:
        return [Problem("zookeeper_id", f"not set, and group '{group}' has {len(members)} hosts.",
                        f"set zookeeper_id (1 to 255, unique in group '{group}') in host_vars/{host}.")]
    if isinstance(ident, bool) or not isinstance(ident, int) or not 1 <= ident <= 255:
        return [Problem("zookeeper_id", f"{ident!r} is not a ZooKeeper server id (myid is 1 to 255).",
                        f"set zookeeper_id of {host} to a whole number from 1 to 255.")]
    twins = [m["host"] for m in members if m["host"] != host and m["id"] == ident]
    if twins:
        problems.append(Problem("zookeeper_id", f"{ident} is also the id of {', '.join(twins)}.",
                                f"give each host of group '{group}' its own zookeeper_id (1 to 255)."))
    endpoint = (me["address"], me["quorum_port"])
    clash = [m["host"] for m in members if m["host"] != host
             and (m["address"], m["quorum_port"]) == endpoint]
    if clash:
        problems.append(Problem("zookeeper_address",
                                f"{me['address']}:{me['quorum_port']} is also the quorum address of "
                                f"{', '.join(clash)}.",
                                "give every ensemble member its own zookeeper_address "
                                "(or its own zookeeper_quorum_port)."))
    return problems


def _state_problems(host, members, group, settings):
    """``zookeeper_state: decommissioned`` retires the whole ensemble at once, and only on hosts: members left
    running would lose their quorum peers, and a container's retirement is a ``docker rm``."""
    me = next((m for m in members if m["host"] == host), None)
    if me is None or me.get("state", "present") != "decommissioned":
        return []
    problems = []
    running = [m["host"] for m in members if m.get("state", "present") != "decommissioned"]
    if running:
        problems.append(Problem("zookeeper_state", f"is decommissioned on {host} but present on "
                                f"{', '.join(running)}: a part of the ensemble would keep running without its peers.",
                                f"decommission the whole ensemble at once: set zookeeper_state: decommissioned for "
                                f"group '{group}' (group_vars/{group}.yml), not per host."))
    if settings.get("zookeeper_deploy_mode") == "container":
        problems.append(Problem("zookeeper_state", "decommissioned is for host mode (a systemd service); this host "
                                "runs ZooKeeper as a container.",
                                "remove the container by hand (`docker rm -f <zookeeper_container_name>`; its "
                                "named volumes keep the data) and the host from group "
                                f"'{group}', or set zookeeper_state: present."))
    return problems


def _ensemble_warnings(members, group):
    size = len(members)
    if size > 1 and size % 2 == 0:
        return [Problem("groups", f"group '{group}' has {size} hosts: an even ensemble tolerates no more "
                        f"failures than {size - 1} hosts would ({(size - 1) // 2}).",
                        f"use an odd number of hosts ({size - 1} or {size + 1}).", fatal=False)]
    return []


def _whitelist_problems(settings):
    whitelist = settings.get("zookeeper_4lw_commands_whitelist") or []
    if "*" in whitelist:
        return []
    missing = [cmd for cmd in ("ruok", "srvr") if cmd not in whitelist]
    if missing:
        return [Problem("zookeeper_4lw_commands_whitelist",
                        f"lacks {', '.join(missing)}, which the role's health check sends.",
                        "keep ruok and srvr in the list (mntr is useful for monitoring).")]
    return []


def _sasl_problems(settings):
    users = settings.get("zookeeper_sasl_users") or {}
    if not isinstance(users, dict):
        return [Problem("zookeeper_sasl_users", "is not a mapping of user names to passwords.",
                        "write it as {name: password}, the passwords in the inventory's vault.")]
    problems = [Problem("zookeeper_sasl_users", f"user {name!r} has an empty password.",
                        "give every user a password (in the inventory's vault).")
                for name, password in sorted(users.items()) if not str(password or "")]
    if users and settings.get("zookeeper_deploy_mode") == "container":
        problems.append(Problem("zookeeper_sasl_users", "is set, but SASL is not available in container mode yet "
                                "(the JAAS file is not given to the container).",
                                "use zookeeper_deploy_mode host for an authenticated ensemble, or leave it empty."))
    return problems


def _path_problems(settings):
    problems = []
    for var in ("zookeeper_data_dir", "zookeeper_log_dir", "zookeeper_config_dir"):
        value = settings.get(var) or ""
        if not value.startswith("/") or value.rstrip("/") in ("", "/tmp", "/var", "/etc"):
            problems.append(Problem(var, f"{value!r} is not a dedicated absolute directory.",
                                    f"set {var} to an absolute path of its own, e.g. /var/lib/zookeeper."))
    data_log = settings.get("zookeeper_data_log_dir") or ""
    if data_log and not data_log.startswith("/"):
        problems.append(Problem("zookeeper_data_log_dir", f"{data_log!r} is not an absolute path.",
                                "set an absolute path, or leave it empty to keep the log in dataDir."))
    return problems


def _archive_problems(settings):
    if settings.get("zookeeper_install_method") != "archive":
        return []
    problems = []
    checksum = settings.get("zookeeper_archive_checksum") or ""
    if checksum:
        algo = checksum.split(":", 1)[0]
        if not _CHECKSUM.match(checksum) or len(checksum.split(":", 1)[1]) != _CHECKSUM_LENGTH[algo]:
            problems.append(Problem("zookeeper_archive_checksum",
                                    f"{checksum[:40]!r} is not '<algorithm>:<hex digest>'.",
                                    "use 'sha512:' followed by the 128 lowercase hex digits, or leave "
                                    "it empty to read the release's .sha512 file."))
    src = settings.get("zookeeper_archive_src") or ""
    if src:
        if not os.path.isfile(src):
            problems.append(Problem("zookeeper_archive_src", f"{src} does not exist on the controller.",
                                    "point it at the downloaded apache-zookeeper-<version>-bin.tar.gz, "
                                    "or leave it empty to download zookeeper_archive_url."))
        elif not checksum and not os.path.isfile(src + ".sha512"):
            problems.append(Problem("zookeeper_archive_checksum",
                                    f"empty, and {src}.sha512 does not exist on the controller.",
                                    "put the release's .sha512 file beside the archive, or pin "
                                    "zookeeper_archive_checksum."))
    return problems


def _container_problems(container):
    """zoo.cfg settings the image flavour has no variable for (container mode: ``{deploy_mode, flavor, config}``)."""
    if (container or {}).get("deploy_mode") != "container":
        return []
    return [Problem(*refusal) for refusal in zookeeper_container_env_problems(container.get("config") or {},
                                                                               container.get("flavor"))]


def check(host, settings, members, group="zookeeper", container=None):
    """Return every Problem of one host; the unit tests call this directly."""
    problems = _container_problems(container)
    problems += _id_problems(host, members, group)
    problems += _port_problems(settings)
    problems += _whitelist_problems(settings)
    problems += _sasl_problems(settings)
    problems += _path_problems(settings)
    problems += _archive_problems(settings)
    problems += _ensemble_warnings(members, group)
    problems += _state_problems(host, members, group, settings)
    return problems


class ActionModule(_shared.PreflightAction):
    """``zookeeper_preflight: {settings: {...}, members: [...], group: zookeeper}``."""

    ROLE = ROLE
    _VALID_ARGS = frozenset(("settings", "members", "group", "container"))

    def problems(self, host, args):
        return check(host, args.get("settings") or {}, args.get("members") or [], args.get("group") or "zookeeper",
                     args.get("container"))
