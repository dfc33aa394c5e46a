from conftest import load_plugin

rolling = load_plugin("filter", "rolling")


def test_leader_last_and_just_started_hosts_skipped():
    hostvars = {
        "zk1": {"zookeeper__restart_pending": True, "zookeeper__mode_before": {"mode": "leader"}},
        "zk2": {"zookeeper__restart_pending": True, "zookeeper__mode_before": {"mode": "follower"}},
        "zk3": {"zookeeper__restart_pending": False},
        "zk4": {"zookeeper__restart_pending": True, "zookeeper__start": {"changed": True}},
        "zk5": {"zookeeper__restart_pending": True, "zookeeper__mode_before": {"mode": "follower"}},
    }
    assert rolling.rolling_restart_order(list(hostvars), hostvars, "zookeeper") == ["zk2", "zk5", "zk1"]


def test_other_role_prefix_and_no_modes():
    hostvars = {"k1": {"kafka__restart_pending": True}, "k2": {}, "k3": {"kafka__restart_pending": True},
                "k4": {"zookeeper__restart_pending": True}}
    assert rolling.rolling_restart_order(list(hostvars), hostvars, "kafka") == ["k1", "k3"]
