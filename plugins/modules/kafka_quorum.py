#!/usr/bin/python
"""Wait until the KRaft quorum is healthy, with a node in its place (kafka-metadata-quorum.sh)."""

DOCUMENTATION = r"""
module: kafka_quorum
short_description: Wait until a KRaft quorum has a leader, its voters are caught up and a node holds its place
description:
  - Asks the controllers with Kafka's C(kafka-metadata-quorum.sh --bootstrap-controller describe --replication)
    until the quorum has a leader, every voter lags at most O(max_lag) records behind it, and node O(node_id) is a
    voter (a controller) or an observer (a broker) that is caught up too. One tool run a round, the rounds 2 s
    apart at first and at most 10 s apart later (each run is a JVM start on the host). The leader, the voters and
    the observers are read from that table; C(describe --status) prints the same answer of the controllers
    (one DescribeQuorum request) in another form, so it is not asked too.
  - With O(bootstrap_server), also until C(kafka-broker-api-versions.sh) lists broker O(node_id) unfenced. That
    tool gets O(client_config) with C(request.timeout.ms=30000) added (its client's default is 5 s), through a
    copy in the module's temporary directory.
  - A bounded wait; past O(timeout) it fails naming what is missing. It changes nothing.
extends_documentation_fragment: kafka_stack.core.controller_tool
options:
  node_id:
    description: The node whose place is checked; none checks the quorum alone.
    type: int
  part:
    description: What O(node_id) is in the quorum (C(either) a voter or an observer, e.g. a controller about to join).
    type: str
    choices: [voter, observer, either, ""]
    default: ""
  tolerate:
    description: A voter whose lag is forgiven (the controller about to go down in a rolling restart).
    type: int
  max_lag:
    description: Records a voter or the observer may lag behind the leader and count as caught up.
    type: int
    default: 10
  bootstrap_server:
    description: C(host:port) of a broker listener to ask whether broker O(node_id) is registered and unfenced.
    type: str
    default: ""
  client_config:
    description: Client properties for O(bootstrap_server).
    type: path
    default: ""
  timeout:
    description: Seconds to wait.
    type: int
    default: 120
author: kafka-stack-ansible
"""

RETURN = r"""
status:
  description: The quorum's leader_id, voters and observers (C([{id}])), from the last C(describe --replication).
  type: dict
  returned: always
replication:
  description: C(describe --replication) parsed ([{node_id, directory_id, log_end_offset, lag, status}]).
  type: list
  returned: always
asks:
  description: How many times the tools were run.
  type: int
  returned: always
"""

import os
import re
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import (
    CONTROLLER_TOOL_ARGUMENT_SPEC, controller_tool_argv, login_refused, parse_api_versions_nodes,
    parse_quorum_replication, quorum_problems, status_from_replication, tool_error, tool_run)

# Seconds between two rounds: the first soon (a node that just started), then longer, at most MAX_DELAY.
FIRST_DELAY = 2.0
GROWTH = 1.5
MAX_DELAY = 10.0


def _quorum(module, *args):
    argv = controller_tool_argv(module.params, "kafka-metadata-quorum.sh", "describe", *args)
    rc, out, err = tool_run(module, argv)
    return rc, out, tool_error(err or out)


def _api_versions_config(module):
    """The client config for kafka-broker-api-versions.sh: the given one with request.timeout.ms at 30 s.
    That tool's own client waits 5 s per request by default, too short for a TLS + SCRAM login to a broker on a
    busy host, and it fails on every try while the broker is up. The copy is in the module's private temp dir."""
    content = ""
    if module.params["client_config"]:
        with open(module.params["client_config"]) as handle:
            content = handle.read()
    if not re.search(r"^\s*request\.timeout\.ms\s*=", content, re.M):
        content = content.rstrip("\n") + "\nrequest.timeout.ms=30000\n"
    fd, path = tempfile.mkstemp(dir=module.tmpdir, suffix=".properties")
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    return path


def _registration(module, config):
    """Whether broker node_id is registered and unfenced, asked with the client ``config`` (_api_versions_config)."""
    params = module.params
    argv = [f"{params['kafka_home']}/bin/kafka-broker-api-versions.sh", "--bootstrap-server",
            params["bootstrap_server"], "--command-config", config]
    rc, out, err = tool_run(module, argv)
    if rc != 0:
        return [f"kafka-broker-api-versions.sh failed: {tool_error(err or out, 400)}"]
    fenced = parse_api_versions_nodes(out).get(params["node_id"], "missing")
    if fenced == "missing":
        return [f"broker {params['node_id']} is not registered with the controllers"]
    return [f"broker {params['node_id']} is fenced"] if fenced else []


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONTROLLER_TOOL_ARGUMENT_SPEC,
            node_id={"type": "int"},
            part={"type": "str", "choices": ["voter", "observer", "either", ""], "default": ""},
            tolerate={"type": "int"},
            max_lag={"type": "int", "default": 10},
            bootstrap_server={"type": "str", "default": ""},
            client_config={"type": "path", "default": ""},
            timeout={"type": "int", "default": 120},
        ),
        supports_check_mode=True,
    )
    params = module.params
    deadline = time.monotonic() + params["timeout"]
    status, replication, asks, delay = {}, [], 0, FIRST_DELAY
    # written once for the whole wait, not on every round
    registration_config = (_api_versions_config(module)
                           if params["bootstrap_server"] and params["node_id"] is not None else "")

    def problems_with(current_status):
        return quorum_problems(current_status, replication, params["node_id"], params["part"], params["max_lag"],
                               params["tolerate"])

    while True:
        asks += 1
        rc, out, said = _quorum(module, "--replication")
        if rc == 0:
            replication = parse_quorum_replication(out)
            status = status_from_replication(replication)
            problems = problems_with(status)
            if not problems and registration_config:
                asks += 1
                problems = _registration(module, registration_config)
        if rc != 0:
            problems = [f"kafka-metadata-quorum.sh failed: {said}"]
            if login_refused(said):
                break  # a refused login or handshake does not heal by waiting
        left = deadline - time.monotonic()
        if not problems or left <= 0:
            break
        time.sleep(min(delay, left))
        delay = min(delay * GROWTH, MAX_DELAY)
    if problems:
        module.fail_json(msg=f"the KRaft quorum at {params['bootstrap_controller']} is not healthy after "
                             f"{params['timeout']} s: {'; '.join(problems)}", status=status, replication=replication,
                         asks=asks)
    module.exit_json(changed=False, status=status, replication=replication, asks=asks)


if __name__ == "__main__":
    main()
