#!/usr/bin/python
"""Read or format the storage of a KRaft node (kafka-storage.sh), never touching a formatted directory."""

DOCUMENTATION = r"""
module: kafka_storage
short_description: Read or format the log directories of a KRaft node, once
description:
  - C(state=read) reports what each log directory's C(meta.properties) holds (cluster id, node id, directory id).
  - C(state=formatted) runs Kafka's C(kafka-storage.sh format) as the broker's user when a log directory has no
    C(meta.properties) yet; directories that have one are never formatted again (C(--ignore-formatted) keeps
    Kafka's own guard when only some are). A directory of another cluster or node fails the module.
options:
  kafka_home:
    description: The Kafka release directory whose C(bin/kafka-storage.sh) is run (C(state=formatted)).
    type: path
  config:
    description: The node's C(server.properties) (C(state=formatted)).
    type: path
  log_dirs:
    description: Every log directory of the node (C(log.dirs), and C(metadata.log.dir) when set apart).
    type: list
    elements: path
    required: true
  state:
    description: C(read) only reports; C(formatted) formats what is not.
    type: str
    choices: [read, formatted]
    default: read
  user:
    description: The account the broker runs as; the format runs as it, so the broker owns what it writes.
    type: str
    default: kafka
  cluster_id:
    description: The cluster id to format with (C(state=formatted)).
    type: str
    default: ""
  node_id:
    description: The node id the directories must hold.
    type: int
  format_mode:
    description:
      - C(initial) a first controller of a new cluster (C(--initial-controllers)), C(join) a controller added to a
        running quorum (C(--no-initial-controllers)), C(plain) no quorum flag (a broker, or any node of a static
        quorum).
    type: str
    choices: [initial, join, plain]
    default: plain
  initial_controllers:
    description: C(id@host:port:directory-id,...) of the first voters (C(format_mode=initial)).
    type: str
    default: ""
  scram:
    description: C(--add-scram) arguments, e.g. C(SCRAM-SHA-512=[name=alice,password=...]) (users bootstrapped at format).
    type: list
    elements: str
    default: []
author: kafka-stack-ansible
"""

RETURN = r"""
formatted:
  description: Whether every log directory holds a C(meta.properties).
  type: bool
  returned: always
cluster_id:
  description: The cluster id the directories hold (empty when none is formatted).
  type: str
  returned: always
directories:
  description: "Each formatted directory: C({path: {cluster.id, node.id, directory.id}})."
  type: dict
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import TOOL_ENV


def read_meta(path):
    """The key=value pairs of ``<path>/meta.properties``, or None when it has none."""
    meta = os.path.join(path, "meta.properties")
    if not os.path.isfile(meta):
        return None
    values = {}
    with open(meta, encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    return values


def inspect(log_dirs):
    """``(directories, cluster ids)`` of the formatted directories among ``log_dirs``."""
    # A ZooKeeper-mode broker's meta.properties (version 0) says broker.id; Kafka rewrites it when the broker
    # first starts in KRaft mode after a migration: it counts as formatted.
    directories = {path: meta for path in log_dirs for meta in [read_meta(path)] if meta is not None}
    return directories, sorted({meta.get("cluster.id", "") for meta in directories.values()})


def format_argv(params, partial):
    """The ``kafka-storage.sh format`` command of this node."""
    argv = [f"{params['kafka_home']}/bin/kafka-storage.sh", "format", "--config", params["config"],
            "--cluster-id", params["cluster_id"]]
    if partial:
        argv.append("--ignore-formatted")
    if params["format_mode"] == "initial":
        argv += ["--initial-controllers", params["initial_controllers"]]
    elif params["format_mode"] == "join":
        argv.append("--no-initial-controllers")
    for entry in params["scram"]:
        argv += ["--add-scram", entry]
    return argv


def main():
    module = AnsibleModule(
        argument_spec={
            "kafka_home": {"type": "path"},
            "config": {"type": "path"},
            "log_dirs": {"type": "list", "elements": "path", "required": True},
            "state": {"type": "str", "choices": ["read", "formatted"], "default": "read"},
            "user": {"type": "str", "default": "kafka"},
            "cluster_id": {"type": "str", "default": ""},
            "node_id": {"type": "int"},
            "format_mode": {"type": "str", "choices": ["initial", "join", "plain"], "default": "plain"},
            "initial_controllers": {"type": "str", "default": ""},
            "scram": {"type": "list", "elements": "str", "default": [], "no_log": True},
        },
        required_if=[("state", "formatted", ["kafka_home", "config", "cluster_id", "node_id"]),
                     ("format_mode", "initial", ["initial_controllers"])],
        supports_check_mode=True,
    )
    params = module.params
    directories, cluster_ids = inspect(params["log_dirs"])
    result = {"changed": False, "formatted": len(directories) == len(params["log_dirs"]),
              "cluster_id": cluster_ids[0] if len(cluster_ids) == 1 else "", "directories": directories}
    foreign = [f"{path} holds node {meta.get('node.id')} of cluster {meta.get('cluster.id')}"
               for path, meta in directories.items()
               if (params["cluster_id"] and meta.get("cluster.id") != params["cluster_id"])
               or (params["node_id"] is not None
                   and meta.get("node.id", meta.get("broker.id")) != str(params["node_id"]))]
    if foreign or len(cluster_ids) > 1:
        module.fail_json(msg=f"the log dirs belong to another node or cluster ({'; '.join(foreign) or cluster_ids}) "
                             f"than node {params['node_id']} of cluster {params['cluster_id'] or '?'}: the role never "
                             "reformats them. Fix: point kafka_log_dirs at empty directories, or set kafka_broker_id "
                             "and kafka_cluster_id to what they hold.", **result)
    if params["state"] == "read" or result["formatted"]:
        module.exit_json(**result)
    result["changed"] = True
    if module.check_mode:
        module.exit_json(**result)
    argv = ["runuser", "-u", params["user"], "--"] + format_argv(params, partial=bool(directories))
    rc, out, err = module.run_command(argv, environ_update=TOOL_ENV)
    if rc != 0:
        lines = [line for line in (err or out).splitlines() if "password" not in line.lower()]
        module.fail_json(msg="kafka-storage.sh format failed: " + "\n".join(lines)[-1500:], rc=rc, **result)
    directories, cluster_ids = inspect(params["log_dirs"])
    result.update(formatted=len(directories) == len(params["log_dirs"]), directories=directories,
                  cluster_id=cluster_ids[0] if len(cluster_ids) == 1 else "")
    # The tool's output lists the bootstrap records, the SCRAM credentials' salted keys among them: kept out.
    result["msg"] = next((line for line in out.splitlines() if line.startswith("Formatting")), "formatted")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
