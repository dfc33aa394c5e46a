import pytest

from conftest import load_plugin

pre = load_plugin("action", "zookeeper_preflight")
zk = load_plugin("filter", "zookeeper")

GOOD = {
    "zookeeper_install_method": "package", "zookeeper_archive_src": "", "zookeeper_archive_checksum": "",
    "zookeeper_client_port": 2181, "zookeeper_quorum_port": 2888, "zookeeper_election_port": 3888,
    "zookeeper_admin_server_enabled": False, "zookeeper_admin_server_port": 8080,
    "zookeeper_4lw_commands_whitelist": ["ruok", "srvr", "mntr"],
    "zookeeper_data_dir": "/var/lib/zookeeper/data", "zookeeper_data_log_dir": "",
    "zookeeper_log_dir": "/var/log/zookeeper", "zookeeper_config_dir": "/etc/zookeeper",
}


def ensemble(**ids):
    hostvars = {host: {"zookeeper_id": ident} for host, ident in ids.items()}
    return zk.zookeeper_members(list(hostvars), hostvars, {
        "zookeeper_client_port": 2181, "zookeeper_quorum_port": 2888, "zookeeper_election_port": 3888})


def fatal(problems):
    return [p for p in problems if p.fatal]


def only_var(problems):
    (problem,) = fatal(problems)
    return problem


def test_valid_ensemble_passes():
    assert pre.check("zk1", GOOD, ensemble(zk1=1, zk2=2, zk3=3)) == []


def test_duplicate_id_names_the_other_host_and_the_fix():
    problem = only_var(pre.check("zk1", GOOD, ensemble(zk1=1, zk2=2, zk3=1)))
    text = problem.render("zk1")
    assert problem.var == "zookeeper_id"
    assert "host zk1" in text and "also the id of zk3" in text and "Fix:" in text


@pytest.mark.parametrize("ident", [0, 256, -1, "one", True])
def test_id_out_of_range(ident):
    problem = only_var(pre.check("zk1", GOOD, ensemble(zk1=ident, zk2=2, zk3=3)))
    assert problem.var == "zookeeper_id" and "1 to 255" in problem.fix


def test_id_required_in_ensemble_but_not_standalone():
    assert only_var(pre.check("zk1", GOOD, ensemble(zk1=None, zk2=2, zk3=3))).var == "zookeeper_id"
    assert pre.check("zk1", GOOD, ensemble(zk1=None)) == []


def test_host_outside_the_group():
    assert only_var(pre.check("stray", GOOD, ensemble(zk1=1))).var == "groups"


@pytest.mark.parametrize("var,value", [("zookeeper_client_port", 0), ("zookeeper_quorum_port", 70000),
                                       ("zookeeper_election_port", "3888x")])
def test_invalid_port(var, value):
    problem = only_var(pre.check("zk1", dict(GOOD, **{var: value}), ensemble(zk1=1)))
    assert problem.var == var and "1 to 65535" in problem.fix


def test_ports_must_differ_on_a_host():
    problem = only_var(pre.check("zk1", dict(GOOD, zookeeper_election_port=2888), ensemble(zk1=1)))
    assert problem.var == "zookeeper_election_port" and "zookeeper_quorum_port" in problem.message


def test_admin_server_port_checked_only_when_enabled():
    clash = dict(GOOD, zookeeper_admin_server_port=2181)
    assert pre.check("zk1", clash, ensemble(zk1=1)) == []
    problem = only_var(pre.check("zk1", dict(clash, zookeeper_admin_server_enabled=True), ensemble(zk1=1)))
    assert problem.var == "zookeeper_admin_server_port"


def test_two_members_on_one_quorum_address():
    members = ensemble(zk1=1, zk2=2, zk3=3)
    members[1]["address"] = "zk1"
    problem = only_var(pre.check("zk1", GOOD, members))
    assert problem.var == "zookeeper_address" and "zk2" in problem.message


def test_even_ensemble_is_a_warning_only():
    problems = pre.check("zk1", GOOD, ensemble(zk1=1, zk2=2))
    assert not fatal(problems)
    (warning,) = problems
    assert "even" in warning.message and "1 or 3" in warning.fix


def test_whitelist_must_keep_health_check_commands():
    problem = only_var(pre.check("zk1", dict(GOOD, zookeeper_4lw_commands_whitelist=["mntr"]), ensemble(zk1=1)))
    assert "ruok, srvr" in problem.message
    assert pre.check("zk1", dict(GOOD, zookeeper_4lw_commands_whitelist=["*"]), ensemble(zk1=1)) == []


@pytest.mark.parametrize("var,value", [("zookeeper_data_dir", "data"), ("zookeeper_data_dir", "/var"),
                                       ("zookeeper_log_dir", "/tmp"), ("zookeeper_data_log_dir", "txlog")])
def test_paths_must_be_dedicated_absolute_dirs(var, value):
    assert only_var(pre.check("zk1", dict(GOOD, **{var: value}), ensemble(zk1=1))).var == var


def test_archive_src_must_exist(tmp_path):
    settings = dict(GOOD, zookeeper_install_method="archive", zookeeper_archive_src=str(tmp_path / "x.tar.gz"))
    assert only_var(pre.check("zk1", settings, ensemble(zk1=1))).var == "zookeeper_archive_src"


def test_archive_src_needs_a_checksum(tmp_path):
    archive = tmp_path / "apache-zookeeper-3.8.0-bin.tar.gz"
    archive.write_bytes(b"x")
    settings = dict(GOOD, zookeeper_install_method="archive", zookeeper_archive_src=str(archive))
    assert only_var(pre.check("zk1", settings, ensemble(zk1=1))).var == "zookeeper_archive_checksum"
    (tmp_path / (archive.name + ".sha512")).write_text("x")
    assert pre.check("zk1", settings, ensemble(zk1=1)) == []


@pytest.mark.parametrize("checksum", ["md5:abc", "sha512:" + "a" * 127, "sha512:" + "A" * 128, "deadbeef"])
def test_pinned_checksum_format(checksum):
    settings = dict(GOOD, zookeeper_install_method="archive", zookeeper_archive_checksum=checksum)
    assert only_var(pre.check("zk1", settings, ensemble(zk1=1))).var == "zookeeper_archive_checksum"
    good = dict(settings, zookeeper_archive_checksum="sha512:" + "a" * 128)
    assert pre.check("zk1", good, ensemble(zk1=1)) == []


def test_sasl_users_need_passwords_and_host_mode():
    users = {"kafka": "pw", "ops": ""}
    problem = only_var(pre.check("zk1", dict(GOOD, zookeeper_sasl_users=users), ensemble(zk1=1)))
    assert problem.render("zk1") == ("host zk1: zookeeper_sasl_users: user 'ops' has an empty password. Fix: give "
                                     "every user a password (in the inventory's vault).")
    container = dict(GOOD, zookeeper_sasl_users={"kafka": "pw"}, zookeeper_deploy_mode="container")
    assert "not available in container mode yet" in only_var(pre.check("zk1", container, ensemble(zk1=1))).message
    assert pre.check("zk1", dict(GOOD, zookeeper_sasl_users={"kafka": "pw"}), ensemble(zk1=1)) == []


def test_jaas_sections_for_server_and_client():
    # JAAS escapes a backslash and a double quote with a backslash.
    assert zk.zookeeper_server_jaas({"ops": 'o"p', "kafka": r"k\p"}) == (
        "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required "
        r'user_kafka="k\\p" user_ops="o\"p";' "\n};\n")
    assert zk.zookeeper_client_jaas("kafka", "pw") == (
        'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required username="kafka" password="pw";\n};\n')


def retired(states, **ids):
    members = ensemble(**ids)
    for member in members:
        member["state"] = states.get(member["host"], "present")
    return members


def test_decommissioned_is_for_the_whole_ensemble_on_hosts():
    everyone = {"zk1": "decommissioned", "zk2": "decommissioned", "zk3": "decommissioned"}
    assert pre.check("zk1", GOOD, retired(everyone, zk1=1, zk2=2, zk3=3)) == []
    problem = only_var(pre.check("zk1", GOOD, retired({"zk1": "decommissioned"}, zk1=1, zk2=2, zk3=3)))
    assert problem.var == "zookeeper_state" and "present on zk2, zk3" in problem.message
    assert "group_vars/zookeeper.yml" in problem.fix
    # A member still present is not refused for its peers' state: the decommissioned ones name the fix.
    assert pre.check("zk2", GOOD, retired({"zk1": "decommissioned"}, zk1=1, zk2=2, zk3=3)) == []
    container = dict(GOOD, zookeeper_deploy_mode="container")
    problem = only_var(pre.check("zk1", container, retired({"zk1": "decommissioned"}, zk1=1)))
    assert problem.var == "zookeeper_state" and "host mode" in problem.message and "docker rm" in problem.fix
