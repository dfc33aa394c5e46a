from conftest import load_plugin

rolling = load_plugin("filter", "rolling")


def state(**services):
    return {"systemd_service__state": services}


def test_leader_last_and_just_started_hosts_skipped():
    hostvars = {
        "zk1": state(zookeeper={"restart": True, "mode": "leader"}),
        "zk2": state(zookeeper={"restart": True, "mode": "follower"}),
        "zk3": state(zookeeper={"restart": False}),
        "zk4": state(zookeeper={"restart": True, "started": True}),
        "zk5": state(zookeeper={"restart": True, "mode": "follower"}),
    }
    assert rolling.rolling_restart_order(list(hostvars), hostvars, "zookeeper") == ["zk2", "zk5", "zk1"]


def test_other_service_and_no_modes():
    hostvars = {"k1": state(kafka={"restart": True}), "k2": {}, "k3": state(kafka={"restart": True}),
                "k4": state(zookeeper={"restart": True})}
    assert rolling.rolling_restart_order(list(hostvars), hostvars, "kafka") == ["k1", "k3"]


def test_two_services_on_one_host_keep_their_own_marks():
    hostvars = {"h1": state(kafka={"restart": True, "mode": "controller"}, zookeeper={"restart": False}),
                "h2": state(kafka={"restart": True, "mode": "broker"}, zookeeper={"restart": True})}
    assert rolling.rolling_restart_order(list(hostvars), hostvars, "kafka", "controller") == ["h2", "h1"]
    assert rolling.rolling_restart_order(list(hostvars), hostvars, "zookeeper") == ["h2"]
