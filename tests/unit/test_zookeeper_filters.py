import pytest
from ansible.errors import AnsibleFilterError

from conftest import load_plugin

zk = load_plugin("filter", "zookeeper")
DEFAULTS = {"zookeeper_id": None, "zookeeper_address": "", "zookeeper_client_port": 2181,
            "zookeeper_quorum_port": 2888, "zookeeper_election_port": 3888, "zookeeper_state": "present"}


def members(hostvars):
    return zk.zookeeper_members(list(hostvars), hostvars, DEFAULTS)


def test_single_host_is_standalone_with_id_1():
    (member,) = members({"zk": {}})
    assert member == {"host": "zk", "id": 1, "address": "zk", "client_port": 2181,
                      "quorum_port": 2888, "election_port": 3888, "state": "present"}
    config = zk.zookeeper_config({"clientPort": 2181}, [member])
    assert not [key for key in config if key.startswith("server.")]
    assert "quorumListenOnAllIPs" not in config


def test_inventory_values_win_over_defaults():
    result = members({"a": {"zookeeper_id": 2, "zookeeper_address": "10.0.0.5", "zookeeper_client_port": 2182},
                      "b": {"zookeeper_id": 1}})
    assert result[0]["address"] == "10.0.0.5" and result[0]["client_port"] == 2182
    assert result[1]["address"] == "b" and result[1]["id"] == 1


def test_ensemble_server_lines_in_id_order():
    result = members({"zk3": {"zookeeper_id": 3}, "zk1": {"zookeeper_id": 1}, "zk2": {"zookeeper_id": 2}})
    config = zk.zookeeper_config({"clientPort": 2181}, result)
    servers = [(k, v) for k, v in config.items() if k.startswith("server.")]
    assert servers == [("server.1", "zk1:2888:3888;2181"), ("server.2", "zk2:2888:3888;2181"),
                       ("server.3", "zk3:2888:3888;2181")]
    assert config["quorumListenOnAllIPs"] == "true"


def test_values_are_rendered_for_zoo_cfg_and_extra_wins():
    config = zk.zookeeper_config(
        {"admin.enableServer": False, "4lw.commands.whitelist": ["ruok", "srvr"], "dataLogDir": "",
         "tickTime": 2000},
        members({"zk": {}}), {"tickTime": 3000, "snapCount": 1000})
    assert config["admin.enableServer"] == "false"
    assert config["4lw.commands.whitelist"] == "ruok, srvr"
    assert "dataLogDir" not in config
    assert config["tickTime"] == "3000" and config["snapCount"] == "1000"


def test_empty_group_is_refused():
    with pytest.raises(AnsibleFilterError, match="no hosts"):
        zk.zookeeper_config({}, [])
    assert zk.zookeeper_connect([]) == ""


def test_connect_string_with_chroot():
    result = members({"zk1": {"zookeeper_id": 1}, "zk2": {"zookeeper_id": 2}})
    assert zk.zookeeper_connect(result) == "zk1:2181,zk2:2181"
    assert zk.zookeeper_connect(result, "kafka/") == "zk1:2181,zk2:2181/kafka"


def test_chroot_levels_from_the_top():
    assert zk.zookeeper_chroot_levels("/kafka/prod/") == ["/kafka", "/kafka/prod"]
    assert zk.zookeeper_chroot_levels("kafka") == ["/kafka"]
    assert zk.zookeeper_chroot_levels("") == [] and zk.zookeeper_chroot_levels("/") == []
