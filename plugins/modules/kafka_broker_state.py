#!/usr/bin/python
"""What a broker host runs now: the Kafka release in use, the protocol pinned, the cluster id."""

DOCUMENTATION = r"""
module: kafka_broker_state
short_description: Read which Kafka release a broker runs and which protocol version it speaks
description:
  - "The running version is read from the jars the running broker process has open (its
    C(kafka_<scala>-<version>.jar), through C(/proc/<MainPID>/fd)), the binaries it really runs, not the ones a link
    points to. Where root may not read another user's descriptors (no CAP_SYS_PTRACE, as in containers), they are
    read as O(user), the broker's own account, with C(runuser)."
  - The installed version is the release the link O(home_link) points to (C(kafka_<scala>-<version>)).
  - Also the C(inter.broker.protocol.version) of the server.properties O(config) and the C(cluster.id) of the
    first O(log_dirs) entry holding a C(meta.properties).
  - Read-only; supports check mode. Nothing installed yet gives empty values.
options:
  service:
    description: The systemd unit of the broker.
    type: str
    default: kafka
  user:
    description: The account the broker runs as.
    type: str
    default: kafka
  home_link:
    description: The stable link to the installed release.
    type: path
    default: /opt/kafka
  config:
    description: The broker's server.properties.
    type: path
    default: /etc/kafka/server.properties
  log_dirs:
    description: The broker's log directories.
    type: list
    elements: path
    default: []
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Read what the broker runs
  kafka_stack.core.kafka_broker_state:
    service: kafka
    log_dirs: [/var/lib/kafka/data]
  register: state
"""

RETURN = r"""
running_version:
  description: Kafka version of the running broker process; empty when it is not running.
  type: str
  returned: always
installed_version:
  description: Kafka version the home link points to; empty when there is none.
  type: str
  returned: always
protocol:
  description: C(inter.broker.protocol.version) in server.properties; empty when not set (or no file).
  type: str
  returned: always
cluster_id:
  description: C(cluster.id) from the broker's meta.properties; empty before its first start.
  type: str
  returned: always
stored_id:
  description:
    - The node's id its data is registered under (C(broker.id) of a ZooKeeper-mode meta.properties, C(node.id) of a
      KRaft one); empty before its first start.
  type: str
  returned: always
process_roles:
  description: C(process.roles) in server.properties (KRaft); empty in ZooKeeper mode.
  type: str
  returned: always
migration:
  description: Whether server.properties enables the ZooKeeper to KRaft migration (C(zookeeper.metadata.migration.enable)).
  type: bool
  returned: always
zookeeper:
  description: Whether server.properties sets C(zookeeper.connect).
  type: bool
  returned: always
authorizer:
  description: C(authorizer.class.name) in server.properties.
  type: str
  returned: always
bootstrap_servers:
  description:
    - C(controller.quorum.bootstrap.servers) in server.properties (KRaft, a dynamic quorum); empty otherwise.
  type: str
  returned: always
config_changed_since_start:
  description:
    - Whether server.properties was written after the running process started (or within two seconds before,
      the precision of the kernel's boot time), so that what the process runs with may differ from the file;
      true when not known. False when the node does not run.
  type: bool
  returned: always
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafka_stack.core.plugins.module_utils.properties import parse_properties

_RELEASE = re.compile(r"^kafka_\d+\.\d+-(\d+\.\d+\.\d+[\w.-]*)$")
_BROKER_JAR = re.compile(r"/kafka_\d+\.\d+-(\d+\.\d+\.\d+(?:-[A-Za-z0-9]+)?)\.jar$")
_NOT_BROKER = ("-test", "-sources", "-javadoc", "-scaladoc")


def release_version(path):
    """The version in a release directory's name, ``kafka_2.13-3.9.2`` → ``3.9.2``; '' when none."""
    match = _RELEASE.match(os.path.basename(str(path).rstrip("/")))
    return match.group(1) if match else ""


def jar_version(paths):
    """The version of the broker jar among open file ``paths`` (``.../kafka_2.13-3.8.1.jar``); ''."""
    for path in paths:
        match = _BROKER_JAR.search(path)
        if match and not match.group(1).endswith(_NOT_BROKER):
            return match.group(1)
    return ""


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def listed_targets(ls_output):
    """The link targets in ``ls -l`` output (``... 12 -> /path``)."""
    return [line.split(" -> ", 1)[1].strip() for line in ls_output.splitlines() if " -> " in line]


def open_files(pid):
    """Targets of the open file descriptors of process ``pid`` this process may read."""
    found = []
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except OSError:
        return found
    for name in names:
        try:
            found.append(os.readlink(os.path.join(base, name)))
        except OSError:
            continue
    return found


def stored_identity(log_dirs):
    """(cluster.id, the node's id) of the first log dir holding a meta.properties with a cluster id."""
    for log_dir in log_dirs or []:
        meta = parse_properties(_read(os.path.join(log_dir, "meta.properties")))
        if meta.get("cluster.id"):
            return meta["cluster.id"], meta.get("node.id") or meta.get("broker.id") or ""
    return "", ""


def started_at(pid):
    """When process ``pid`` started, in seconds since the epoch (its start time in /proc/<pid>/stat, counted
    from the boot time in /proc/stat); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def changed_since(path, started):
    """Whether ``path`` was modified after ``started`` (seconds since the epoch; the boot time has a precision of a
    second, so within two seconds before counts too); true when either is unknown."""
    try:
        return started is None or os.stat(path).st_mtime > started - 2
    except OSError:
        return True


def main():
    module = AnsibleModule(
        argument_spec={
            "service": {"type": "str", "default": "kafka"},
            "user": {"type": "str", "default": "kafka"},
            "home_link": {"type": "path", "default": "/opt/kafka"},
            "config": {"type": "path", "default": "/etc/kafka/server.properties"},
            "log_dirs": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    running, pending = "", False
    rc, out, _ = module.run_command(["systemctl", "show", "--property", "MainPID", "--value", params["service"]])
    pid = out.strip() if rc == 0 else ""
    if pid.isdigit() and int(pid) > 0:
        running = jar_version(open_files(pid))
        if not running:  # root without CAP_SYS_PTRACE: the broker's own account may read them
            rc, out, _ = module.run_command(["runuser", "-u", params["user"], "--", "ls", "-l", f"/proc/{pid}/fd"])
            running = jar_version(listed_targets(out)) if rc == 0 else ""
        pending = changed_since(params["config"], started_at(pid))
    installed = release_version(os.path.realpath(params["home_link"])) if os.path.islink(params["home_link"]) else ""
    config = parse_properties(_read(params["config"]))
    protocol = config.get("inter.broker.protocol.version", "")
    cluster_id, stored_id = stored_identity(params["log_dirs"])
    module.exit_json(changed=False, running_version=running, installed_version=installed, protocol=protocol,
                     cluster_id=cluster_id, stored_id=stored_id, process_roles=config.get("process.roles", ""),
                     migration=config.get("zookeeper.metadata.migration.enable", "") == "true",
                     zookeeper=bool(config.get("zookeeper.connect")),
                     authorizer=config.get("authorizer.class.name", ""),
                     bootstrap_servers=config.get("controller.quorum.bootstrap.servers", ""),
                     config_changed_since_start=pending)


if __name__ == "__main__":
    main()
