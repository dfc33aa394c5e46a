"""The demo's two modes and the KRaft container inventory name their hosts alike (local-kafka-ui is a systemd
container in inventories/local and the Docker host itself in inventories/local-containers), and the repository's
ansible.cfg caches facts a day, keyed by host name alone. Switching between them in any order, no host reads the
facts cached for another inventory's host of its name (playbooks/facts.yml forgets them first)."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GATHER = str(ROOT / "tests" / "playbooks" / "files" / "gather.yml")
# The host-mode lab is not running here: its hosts are pointed at a port where nothing listens.
UNREACHABLE = ["-e", "ansible_connection=ssh", "-e", "ansible_host=127.0.0.1", "-e", "ansible_port=9"]


def run(cache, inventory, playbook, *args):
    """ansible-playbook with the repository's ansible.cfg, its fact cache in ``cache``."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN_CONNECTION=str(cache))
    result = subprocess.run(["ansible-playbook", "-i", f"inventories/{inventory}", playbook, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    return result, result.stdout + result.stderr


def stamp(cache, inventory, host):
    """The stamp of a host's cached facts (whose they are), '' when they have none, as Ansible reads its cache."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN_CONNECTION=str(cache), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    result = subprocess.run(["ansible", "-i", f"inventories/{inventory}", host, "-m", "ansible.builtin.debug",
                             "-a", "msg={{ ansible_facts['kafka_stack_facts_of'] | default('') }}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # the report, between profile_tasks' lines (ansible.cfg)
    report, _ = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("{\n"):])
    return report["plays"][0]["tasks"][0]["hosts"][host]["msg"]


def test_host_mode_does_not_read_the_facts_container_mode_cached(tmp_path):
    result, out = run(tmp_path, "local-containers", GATHER)
    assert result.returncode == 0, out
    assert stamp(tmp_path, "local-containers", "local-kafka-ui").endswith("inventories/local-containers|local|local-kafka-ui")
    # The host-mode pre-flight must ask the kafka-ui container for its distribution, not take this machine's
    # from the cache: the container does not answer, so its Java check is reported as not run.
    result, out = run(tmp_path, "local", "playbooks/preflight.yml", *UNREACHABLE)
    assert result.returncode == 0, out
    assert "NOT CHECKED: host local-kafka-ui did not answer" in out, out
    assert stamp(tmp_path, "local", "local-kafka-ui").endswith("inventories/local|ssh|127.0.0.1")


@pytest.mark.parametrize("first, then", [("local-containers", "local-kraft-containers"),
                                         ("local-kraft-containers", "local-containers")])
def test_the_container_inventories_each_gather_their_own(tmp_path, first, then):
    for inventory in (first, then):
        result, out = run(tmp_path, inventory, GATHER)
        assert result.returncode == 0, out
        assert stamp(tmp_path, inventory, "local-kafka").endswith(f"inventories/{inventory}|local|local-kafka")
    # the second inventory gathered again instead of reading the first one's facts
    assert "Gathering Facts" in out and "ok: [local-kafka]" in out


def test_facts_cached_without_a_stamp_are_not_trusted(tmp_path):
    result, out = run(tmp_path, "local-containers", str(ROOT / "testbed" / "bench" / "facts.yml"))
    assert result.returncode == 0, out
    assert stamp(tmp_path, "local-containers", "local-kafka-ui") == ""  # a play that does not stamp (setup alone)
    result, out = run(tmp_path, "local", "playbooks/preflight.yml", *UNREACHABLE)
    assert result.returncode == 0, out
    assert "NOT CHECKED: host local-kafka-ui did not answer" in out, out
