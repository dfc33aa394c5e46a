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


def test_marks_add_up_until_the_restart_clears_them():
    marked = rolling.service_mark({}, "kafka", restart=True, reload=False)
    assert marked == {"kafka": {"restart": True, "reload": False}}
    again = rolling.service_mark(marked, "kafka", restart=False, reload=True)
    assert again == {"kafka": {"restart": True, "reload": True}}  # a later unchanged step keeps the mark
    both = rolling.service_mark(dict(again, zookeeper={"restart": False, "mode": "leader"}), "zookeeper",
                                restart=True)
    assert both["zookeeper"] == {"restart": True, "mode": "leader"} and both["kafka"] == again["kafka"]
    assert marked == {"kafka": {"restart": True, "reload": False}}  # the input is not changed
