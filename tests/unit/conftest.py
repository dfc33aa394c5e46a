"""The collection's plugins, imported as the Python packages Ansible loads them as.

pytest.ini puts collections/ on the path: ``ansible_collections.kafka_stack.core`` is this repository.
"""

import importlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The seed's listeners (inventories/local): PLAINTEXT on the Docker network, EXTERNAL for this machine.
SEED_LISTENERS = [{"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT", "advertised_host": "kafka"},
                  {"name": "EXTERNAL", "port": 9094, "protocol": "PLAINTEXT", "advertised_host": "localhost"}]


COLLECTION = "ansible_collections.kafka_stack.core"


def load_plugin(kind, name):
    """Import plugins/<kind>/<name>.py as ansible_collections.kafka_stack.core.plugins.<kind>.<name>."""
    return importlib.import_module(f"{COLLECTION}.plugins.{kind}.{name}")


@pytest.fixture(scope="session")
def plugin():
    return load_plugin


@pytest.fixture(autouse=True)
def tool_cds_dir(tmp_path, monkeypatch):
    """The tools' class-data sharing archives (module_utils/kafka_tools.cds_plan) of modules run in-process or by
    run_module (which inherits the environment) go to the test's directory, not the machine's /var/cache."""
    monkeypatch.setenv("KAFKA_STACK_TOOLS_CDS_DIR", str(tmp_path / "cds"))


def run_module(name, workdir, args, env=None):
    """plugins/modules/<name>.py run as Ansible runs a module: its arguments in a JSON file in ``workdir``, the
    collection importable, ``env`` added to the environment. Returns (the JSON result, the raw stdout)."""
    argfile = pathlib.Path(workdir) / "args.json"
    argfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "collections")] + sys.path), **(env or {}))
    done = subprocess.run([sys.executable, str(ROOT / "plugins" / "modules" / f"{name}.py"), str(argfile)],
                          capture_output=True, text=True, env=env, timeout=60)
    return json.loads(done.stdout), done.stdout
