"""The repository as the collection kafka_stack.core: it builds, installs, and its playbooks run by FQCN
from anywhere, with nothing of the clone (no ansible.cfg, no collections/ link) in reach."""

import json
import os
import pathlib
import subprocess
import tarfile

import pytest

from test_preflight import OFFLINE, UNREACHABLE

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(*args, cwd, env=None):
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the collection from the clone, install the artifact into an empty path, and return the
    artifact and an environment in which Ansible sees only that installed copy."""
    work = tmp_path_factory.mktemp("collection")
    built = run("ansible-galaxy", "collection", "build", "--output-path", str(work), cwd=ROOT)
    assert built.returncode == 0, built.stdout + built.stderr
    artifact = next(work.glob("kafka_stack-core-*.tar.gz"))
    target = work / "installed"
    done = run("ansible-galaxy", "collection", "install", "--offline", "--no-deps", "--force",
               "-p", str(target), str(artifact), cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    config = work / "ansible.cfg"
    config.write_text("[defaults]\nretry_files_enabled = false\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(target), ANSIBLE_NOCOLOR="1")
    return artifact, env, work


def test_artifact_holds_the_collection_and_nothing_of_the_test_bed(installed):
    artifact, _, _ = installed
    with tarfile.open(artifact) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "kafka_stack"
    assert manifest["collection_info"]["name"] == "core"
    for needed in ("playbooks/site.yml", "playbooks/preflight.yml", "roles/kafka/tasks/main.yml",
                   "roles/zookeeper/defaults/main.yml", "roles/kafka_ui/meta/argument_specs.yml",
                   "plugins/plugin_utils/render.py", "plugins/filter/kafka.py", "meta/runtime.yml"):
        assert needed in names, needed
    top = {name.split("/")[0] for name in names}
    assert not top & {"testbed", "molecule", "tests", "inventories", "collections", ".venv", ".ansible", ".git"}, top


def test_installed_preflight_runs_by_fqcn_outside_the_clone(installed):
    _, env, work = installed
    result = run("ansible-playbook", "-i", str(ROOT / "inventories" / "staging"), "kafka_stack.core.preflight",
                 *UNREACHABLE, *OFFLINE, cwd=work, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unreachable=0" in result.stdout and "failed=0" in result.stdout


def test_installed_site_parses_by_fqcn(installed):
    _, env, work = installed
    result = run("ansible-playbook", "-i", str(ROOT / "inventories" / "prod"), "kafka_stack.core.site",
                 "--syntax-check", *OFFLINE, cwd=work, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plugins_import_each_other_as_packages():
    """No plugin reaches another by editing Python's module path."""
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "plugins").rglob("*.py")
                 if "sys.path" in path.read_text()]
    assert offenders == []
