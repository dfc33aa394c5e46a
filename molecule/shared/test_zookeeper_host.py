"""Every ZooKeeper host of a scenario: service, user, ports, health, hardening."""

from testlib import four_letter, host_var

testinfra_hosts = ["zookeeper"]


def test_service_enabled_and_running(host):
    service = host.service("zookeeper")
    assert service.is_enabled
    assert service.is_running


def test_runs_as_the_zookeeper_user(host):
    java = [p for p in host.process.filter(comm="java")]
    assert java, "no java process"
    assert {p.user for p in java} == {"zookeeper"}


def test_client_port_listening(host):
    assert host.socket("tcp://0.0.0.0:2181").is_listening


def test_nothing_listens_on_8080(host):
    # ZooKeeper's AdminServer defaults to 8080, the port kafka-ui needs.
    assert not [s for s in host.socket.get_listening_sockets() if s.endswith(":8080")]


def test_ruok_answers_imok(host):
    answer = host.check_output("python3 -c \"import socket;s=socket.create_connection(('127.0.0.1',2181));"
                               "s.sendall(b'ruok');print(s.recv(16).decode())\"")
    assert answer == "imok"


def test_ruok_through_the_published_port(host):
    # testbed_client_port: where the scenario publishes the client port on 127.0.0.1 (default 2181, as the lab)
    assert four_letter(host_var(host.backend.host, "testbed_client_port", 2181), "ruok") == "imok"


def test_myid_and_data_dir_belong_to_the_service(host):
    myid = host.file("/var/lib/zookeeper/data/myid")
    assert myid.user == "zookeeper"
    assert myid.content_string.strip() == str(host_var(host.backend.host, "zookeeper_id", 1))
    assert host.file("/var/lib/zookeeper/data/version-2").is_directory


def test_unit_is_hardened(host):
    unit = host.check_output("systemctl show zookeeper -p NoNewPrivileges -p ProtectSystem -p ProtectHome "
                             "-p PrivateTmp -p LimitNOFILE -p Restart -p User")
    settings = dict(line.split("=", 1) for line in unit.splitlines())
    assert settings == {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                        "PrivateTmp": "yes", "LimitNOFILE": "65536", "Restart": "on-failure",
                        "User": "zookeeper"}


def test_zoo_cfg_has_the_health_commands_and_no_admin_server(host):
    cfg = host.file("/etc/zookeeper/zoo.cfg").content_string
    assert "admin.enableServer=false" in cfg
    whitelist = next(line for line in cfg.splitlines() if line.startswith("4lw.commands.whitelist="))
    assert {"ruok", "srvr", "mntr"} <= {w.strip() for w in whitelist.split("=", 1)[1].split(",")}
