import socket
import threading

from conftest import load_plugin

four = load_plugin("modules", "zookeeper_4lw")

SRVR = """Zookeeper version: 3.8.0
Latency min/avg/max: 0/0.0/0
Received: 3
Sent: 2
Connections: 1
Outstanding: 0
Zxid: 0x100000002
Mode: follower
Node count: 5"""


def serve_once(answer):
    """A one-shot TCP server on 127.0.0.1 that records the command and answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    seen = []

    def run():
        conn, _ = server.accept()
        with conn:
            seen.append(conn.recv(16).decode())
            conn.sendall(answer.encode())
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1], seen


def test_send_returns_the_whole_answer():
    port, seen = serve_once(SRVR)
    assert four.send("127.0.0.1", port, "srvr", 5) == SRVR
    assert seen == ["srvr"]


def test_parse_mode():
    assert four.parse_mode(SRVR) == "follower"
    assert four.parse_mode("This ZooKeeper instance is not currently serving requests") == "not serving"
    assert four.parse_mode("") == ""


def test_parse_metrics():
    assert four.parse_metrics("zk_version\t3.8.0\nzk_server_state\tleader\n") == {
        "zk_version": "3.8.0", "zk_server_state": "leader"}
