#!/usr/bin/python
"""Read one znode (data and children) from ZooKeeper: a minimal read-only client, standard library only."""

DOCUMENTATION = r"""
module: zookeeper_znode
short_description: Read a znode's data and children from ZooKeeper
description:
  - Opens a ZooKeeper session to the first reachable server of O(connect), reads O(path) with
    getData and getChildren, closes the session. Read-only; supports check mode.
  - Needs only Python's standard library on the host (no ZooKeeper client installed).
options:
  connect:
    description: Connection string C(host:port[,host:port...][/chroot]), as Kafka's C(zookeeper.connect).
    type: str
    required: true
  path:
    description: Absolute znode path below the chroot.
    type: str
    required: true
  timeout:
    description: Seconds to wait for each server.
    type: float
    default: 5
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Read the broker registration
  zookeeper_znode:
    connect: zk1:2181,zk2:2181/kafka
    path: /brokers/ids/1
  register: registration
"""

RETURN = r"""
exists:
  description: Whether the znode exists.
  type: bool
  returned: always
data:
  description: The znode's data as text (UTF-8), null when absent.
  type: str
  returned: always
children:
  description: Names of the child znodes.
  type: list
  returned: always
ephemeral_owner:
  description: Session id owning an ephemeral znode, 0 for a persistent one.
  type: int
  returned: when exists
server:
  description: The server that answered.
  type: str
  returned: when answered
answered:
  description:
    - Whether a server answered; false only on failure.
    - A task that reads with C(failed_when=false) tells an unreachable ensemble (a decommissioned one) from an
      absent znode by it.
  type: bool
  returned: always
"""

import socket
import struct

from ansible.module_utils.basic import AnsibleModule

GET_DATA = 4
GET_CHILDREN = 8
CLOSE = -11
NO_NODE = -101
_STAT = struct.Struct(">qqqqiiiqiiq")


def split_connect(connect):
    """``h1:p1,h2:p2/chroot`` -> ([(h1, p1), (h2, p2)], "/chroot")."""
    hosts, slash, chroot = connect.partition("/")
    servers = []
    for item in filter(None, (h.strip() for h in hosts.split(","))):
        host, _, port = item.rpartition(":")
        servers.append((host.strip("[]") or item, int(port) if host else 2181))
    return servers, ("/" + chroot.strip("/")) if slash and chroot.strip("/") else ""


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def ustring(text):
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def connect_request(timeout_ms):
    return frame(struct.pack(">iqiq", 0, 0, timeout_ms, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0")


def request(xid, op, path=None):
    body = struct.pack(">ii", xid, op)
    if path is not None:
        body += ustring(path) + b"\0"  # watch = false
    return frame(body)


def parse_reply(payload):
    """Split a reply into (xid, err, body)."""
    xid, _zxid, err = struct.unpack_from(">iqi", payload)
    return xid, err, payload[16:]


def parse_get_data(body):
    (length,) = struct.unpack_from(">i", body)
    data = body[4:4 + length] if length >= 0 else None
    stat = _STAT.unpack_from(body, 4 + max(length, 0))
    return data, stat[7]


def parse_children(body):
    (count,) = struct.unpack_from(">i", body)
    offset, names = 4, []
    for _ in range(max(count, 0)):
        (length,) = struct.unpack_from(">i", body, offset)
        names.append(body[offset + 4:offset + 4 + length].decode())
        offset += 4 + length
    return names


def _recv_frame(sock):
    header = _recv_exact(sock, 4)
    (length,) = struct.unpack(">i", header)
    return _recv_exact(sock, length)


def _recv_exact(sock, size):
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise OSError("connection closed by the server")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_znode(server, path, timeout):
    """Return {exists, data, children, ephemeral_owner} for ``path`` on one server."""
    with socket.create_connection(server, timeout=timeout) as sock:
        sock.sendall(connect_request(int(timeout * 1000)))
        _recv_frame(sock)
        sock.sendall(request(1, GET_DATA, path))
        _, err, body = parse_reply(_recv_frame(sock))
        if err == NO_NODE:
            result = {"exists": False, "data": None, "children": []}
        elif err:
            raise OSError(f"ZooKeeper error {err} reading {path}")
        else:
            data, owner = parse_get_data(body)
            sock.sendall(request(2, GET_CHILDREN, path))
            _, err, body = parse_reply(_recv_frame(sock))
            result = {"exists": True, "data": None if data is None else data.decode("utf-8", "replace"),
                      "children": parse_children(body) if not err else [], "ephemeral_owner": owner}
        sock.sendall(request(3, CLOSE))
    return result


def main():
    module = AnsibleModule(
        argument_spec={"connect": {"type": "str", "required": True},
                       "path": {"type": "str", "required": True},
                       "timeout": {"type": "float", "default": 5}},
        supports_check_mode=True,
    )
    servers, chroot = split_connect(module.params["connect"])
    path = chroot + module.params["path"] if module.params["path"] != "/" or not chroot else chroot
    errors = []
    for server in servers:
        try:
            result = read_znode(server, path, module.params["timeout"])
        except (OSError, struct.error) as exc:
            errors.append(f"{server[0]}:{server[1]}: {exc}")
            continue
        module.exit_json(changed=False, answered=True, server=f"{server[0]}:{server[1]}", **result)
    why = "; ".join(errors) or f"no server in {module.params['connect']!r}"
    module.fail_json(msg="no ZooKeeper server answered: " + why, answered=False, exists=False, data=None, children=[])


if __name__ == "__main__":
    main()
