#!/usr/bin/python
"""Send a ZooKeeper four-letter-word command and return (and parse) the answer."""

DOCUMENTATION = r"""
module: zookeeper_4lw
short_description: Send a ZooKeeper four-letter-word command (ruok, srvr, mntr, ...)
description:
  - Opens a TCP connection to a ZooKeeper server, sends the command and returns the answer.
  - For C(srvr) the server mode (standalone, leader, follower, observer) is parsed into O(mode);
    for C(mntr) the metrics are parsed into a dict.
  - Read-only; supports check mode.
options:
  command:
    description: The four-letter word; it must be in the server's C(4lw.commands.whitelist).
    type: str
    required: true
  host:
    description: Address of the server.
    type: str
    default: 127.0.0.1
  port:
    description: Client port of the server.
    type: int
    default: 2181
  timeout:
    description: Seconds to wait for the connection and the answer.
    type: float
    default: 5
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Wait until ZooKeeper answers imok
  zookeeper_4lw:
    command: ruok
  register: ruok
  until: ruok.output == 'imok'
  retries: 30
  delay: 2
"""

RETURN = r"""
output:
  description: The answer as text, stripped; empty when the server closed the connection at once.
  type: str
  returned: always
mode:
  description: C(srvr) only; the server mode, or C(not serving) when the server has no quorum.
  type: str
  returned: when command is srvr
metrics:
  description: C(mntr) only; each C(key value) line as a dict entry.
  type: dict
  returned: when command is mntr
"""

import socket

from ansible.module_utils.basic import AnsibleModule


def send(host, port, command, timeout):
    """Return the server's full answer to ``command``."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(command.encode("ascii"))
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace").strip()


def parse_mode(output):
    for line in output.splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    if "not currently serving requests" in output:
        return "not serving"
    return ""


def parse_metrics(output):
    metrics = {}
    for line in output.splitlines():
        key, _, value = line.partition("\t")
        if key and value:
            metrics[key.strip()] = value.strip()
    return metrics


def main():
    module = AnsibleModule(
        argument_spec={
            "command": {"type": "str", "required": True},
            "host": {"type": "str", "default": "127.0.0.1"},
            "port": {"type": "int", "default": 2181},
            "timeout": {"type": "float", "default": 5},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        output = send(params["host"], params["port"], params["command"], params["timeout"])
    except OSError as exc:
        module.fail_json(msg=f"{params['command']} to {params['host']}:{params['port']} failed: {exc}",
                         output="")
    result = {"changed": False, "output": output}
    if "is not executed because it is not in the whitelist" in output:
        module.fail_json(msg=f"ZooKeeper refused {params['command']}: add it to "
                             "zookeeper_4lw_commands_whitelist", **result)
    if params["command"] == "srvr":
        result["mode"] = parse_mode(output)
    if params["command"] == "mntr":
        result["metrics"] = parse_metrics(output)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
