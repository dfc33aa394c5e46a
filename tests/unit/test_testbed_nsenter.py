"""The test bed's transport into its containers (testbed/ansible_plugins, TEST DOUBLE of docker exec): the vars
plugin selects it for the hosts Molecule's docker driver writes and for no other; the connection enters the
target's namespaces with the container's environment, never the controller's; a container's init is looked up
once and again only when it is no longer the same process. Run against this process (no Docker needed)."""

import importlib.util
import os
import pathlib
import shutil
import subprocess

import pytest
from ansible.inventory.host import Host

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "testbed/ansible_plugins"


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def nsenter(tmp_path, monkeypatch):
    module = load(PLUGINS / "connection/ksa_nsenter.py", "ksa_nsenter_under_test")
    monkeypatch.setattr(module, "CACHE", str(tmp_path / "cache"))
    return module


def own_cgroup_word():
    """A word of this process's cgroup paths, standing in for a container id."""
    with open("/proc/self/cgroup") as handle:
        words = [part for line in handle for part in line.strip().split(":")[-1].split("/") if part]
    return words[0] if words else None


@pytest.mark.parametrize("connection, expected", [
    ("community.docker.docker", {"ansible_connection": "ksa_nsenter"}),
    ("docker", {"ansible_connection": "ksa_nsenter"}),
    ("local", {}),
    ("ssh", {}),
    (None, {}),
])
def test_the_vars_plugin_selects_nsenter_for_docker_hosts_only(connection, expected):
    plugin = load(PLUGINS / "vars/ksa_nsenter_connection.py", "ksa_nsenter_connection_under_test").VarsModule()
    host = Host("node1")
    if connection:
        host.set_variable("ansible_connection", connection)
    assert plugin.get_vars(None, str(ROOT), [host]) == expected


def test_the_command_enters_every_namespace_of_the_target_then_runs_the_argv(nsenter):
    argv = nsenter.command({"pid": 4242, "uid": 0, "gid": 0}, ["/bin/sh", "-c", "echo hi"])
    assert argv[:2] == ["nsenter", "--target=4242"]
    entered = {"--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd"}
    assert set(argv[2:argv.index("--")]) == entered
    assert argv[argv.index("--") + 1:] == ["/bin/sh", "-c", "echo hi"]


def test_the_command_runs_as_the_containers_user_as_docker_exec_does(nsenter):
    argv = nsenter.command({"pid": 4242, "uid": 1001, "gid": 997}, ["id"])
    assert {"--setuid=1001", "--setgid=997"} <= set(argv[:argv.index("--")])


@pytest.mark.parametrize("user, expected", [
    (None, (0, 0, "/root")),
    ("root", (0, 0, "/root")),
    ("0", (0, 0, "/root")),
    ("4321", (4321, 0, "/")),
    ("4321:55", (4321, 55, "/")),
    ("root:0", (0, 0, "/root")),
])
def test_dockers_user_setting_is_resolved_in_the_containers_own_passwd(nsenter, user, expected):
    assert nsenter._account(os.getpid(), user) == expected  # this process's root stands in for a container's


def test_a_user_the_container_does_not_know_is_refused_by_name(nsenter):
    with pytest.raises(Exception, match="ksa-no-such-user"):
        nsenter._account(os.getpid(), "ksa-no-such-user")


def test_a_target_is_alive_only_while_it_is_the_same_process_in_the_containers_cgroup(nsenter):
    word = own_cgroup_word()
    if word is None:
        pytest.skip("this process is in the root cgroup: no path names a container")
    me = {"pid": os.getpid(), "id": word, "started": nsenter._started(os.getpid())}
    assert me["started"] is not None
    assert nsenter._is_alive(me)
    assert not nsenter._is_alive(dict(me, started=me["started"] + 1)), "a restarted init has another start time"
    assert not nsenter._is_alive(dict(me, id="0123456789abcdef-not-here")), "another container's id"
    assert not nsenter._is_alive(dict(me, pid=2 ** 22 + 1)), "a process that is gone"


def test_a_container_is_inspected_once_then_again_when_its_init_changed(nsenter, monkeypatch):
    word = own_cgroup_word()
    if word is None:
        pytest.skip("this process is in the root cgroup: no path names a container")
    looked_up = []

    def inspect(name):
        looked_up.append(name)
        return {"pid": os.getpid(), "id": word, "env": {"PATH": nsenter.DEFAULT_PATH},
                "started": nsenter._started(os.getpid())}

    monkeypatch.setattr(nsenter, "_inspect", inspect)
    first = nsenter.resolve("node1")
    assert nsenter.resolve("node1") == first and looked_up == ["node1"]
    monkeypatch.setattr(nsenter, "_started", lambda pid: 1)  # as if the container had restarted
    nsenter.resolve("node1")
    assert looked_up == ["node1", "node1"]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nsenter"), reason="needs root and util-linux's nsenter")
def test_the_command_runs_with_the_targets_environment_not_the_controllers(nsenter, monkeypatch):
    monkeypatch.setenv("KSA_CONTROLLER_ONLY", "secret-of-the-controller")
    target = {"pid": os.getpid(), "uid": 0, "gid": 0,
              "env": {"PATH": nsenter.DEFAULT_PATH, "HOME": "/root", "HOSTNAME": "node1"}}
    result = subprocess.run(nsenter.command(target, ["/bin/sh", "-c", "env; pwd"]), env=target["env"],
                            capture_output=True, text=True, check=True)
    assert "HOSTNAME=node1" in result.stdout
    assert "KSA_CONTROLLER_ONLY" not in result.stdout


def test_the_containers_cgroups_are_found_in_every_hierarchy_of_its_init(nsenter):
    word = own_cgroup_word()
    if word is None:
        pytest.skip("this process is in the root cgroup: no path names a container")
    files = nsenter._cgroup_files(os.getpid(), word)
    assert files and all(path.endswith("/cgroup.procs") and word in path and os.path.exists(path) for path in files)
    assert nsenter._cgroup_files(os.getpid(), "0123456789abcdef-not-here") == []


def test_a_user_given_replaces_the_containers_own_as_docker_exec_u_does(nsenter):
    target = {"pid": os.getpid(), "uid": 1001, "gid": 997, "env": {"HOME": "/nonexistent", "PATH": "/bin"}}
    assert nsenter.as_user(target, "") is target
    assert nsenter.as_user(target, "root") == dict(target, uid=0, gid=0, env={"HOME": "/root", "PATH": "/bin"})
