"""The minimal ZooKeeper client against a fake server speaking the same wire format."""

import socket
import struct
import threading

from conftest import load_plugin, run_module

zn = load_plugin("modules", "zookeeper_znode")


def fake_server(znodes):
    """Answer connect, getData, getChildren and close like ZooKeeper, for a dict of path -> (data, children)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    seen = []

    def reply(conn, xid, err, body=b""):
        conn.sendall(zn.frame(struct.pack(">iqi", xid, 7, err) + body))

    def run():
        conn, _ = server.accept()
        with conn:
            zn._recv_frame(conn)
            conn.sendall(zn.frame(struct.pack(">iiq", 0, 10000, 42) + struct.pack(">i", 16) + b"\1" * 16))
            while True:
                payload = zn._recv_frame(conn)
                xid, op = struct.unpack_from(">ii", payload)
                if op == zn.CLOSE:
                    reply(conn, xid, 0)
                    break
                (length,) = struct.unpack_from(">i", payload, 8)
                path = payload[12:12 + length].decode()
                seen.append((op, path))
                if path not in znodes:
                    reply(conn, xid, zn.NO_NODE)
                elif op == zn.GET_DATA:
                    data = znodes[path][0]
                    stat = zn._STAT.pack(1, 2, 3, 4, 0, 0, 0, 0x1234, len(data), 0, 5)
                    reply(conn, xid, 0, struct.pack(">i", len(data)) + data + stat)
                else:
                    kids = znodes[path][1]
                    reply(conn, xid, 0, struct.pack(">i", len(kids)) + b"".join(zn.ustring(k) for k in kids))
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return ("127.0.0.1", server.getsockname()[1]), seen


def test_reads_data_children_and_owner():
    server, seen = fake_server({"/kafka/brokers/ids/1": (b'{"version":5}', ["x"])})
    result = zn.read_znode(server, "/kafka/brokers/ids/1", 5)
    assert result == {"exists": True, "data": '{"version":5}', "children": ["x"], "ephemeral_owner": 0x1234}
    assert seen == [(zn.GET_DATA, "/kafka/brokers/ids/1"), (zn.GET_CHILDREN, "/kafka/brokers/ids/1")]


def test_missing_znode():
    server, _ = fake_server({})
    assert zn.read_znode(server, "/brokers/ids/9", 5) == {"exists": False, "data": None, "children": []}


def test_split_connect():
    assert zn.split_connect("zk1:2181,zk2:2182/kafka/") == ([("zk1", 2181), ("zk2", 2182)], "/kafka")
    assert zn.split_connect("zk1:2181") == ([("zk1", 2181)], "")
    assert zn.split_connect("[::1]:2181") == ([("::1", 2181)], "")


def run_znode(tmp_path, **args):
    return run_module("zookeeper_znode", tmp_path, args)[0]


def test_the_result_says_whether_a_server_answered(tmp_path):
    server, _ = fake_server({"/kafka/migration": (b'{"kraft_metadata_offset":7}', [])})
    read = run_znode(tmp_path, connect=f"127.0.0.1:{server[1]}/kafka", path="/migration")
    assert read["answered"] is True and read["exists"] is True and read["server"] == f"127.0.0.1:{server[1]}"
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    silent = run_znode(tmp_path, connect=f"127.0.0.1:{port}", path="/migration", timeout=1)
    assert silent["failed"] and silent["answered"] is False and silent["exists"] is False
    assert silent["msg"].startswith(f"no ZooKeeper server answered: 127.0.0.1:{port}: ")
    empty = run_znode(tmp_path, connect="", path="/migration")
    assert empty["answered"] is False and empty["msg"] == "no ZooKeeper server answered: no server in ''"
