"""Make the repository's Ansible plugins importable as plain Python modules."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The seed's listeners (inventories/local): PLAINTEXT on the Docker network, EXTERNAL for this machine.
SEED_LISTENERS = [{"name": "PLAINTEXT", "port": 9092, "protocol": "PLAINTEXT", "advertised_host": "kafka"},
                  {"name": "EXTERNAL", "port": 9094, "protocol": "PLAINTEXT", "advertised_host": "localhost"}]


def load_plugin(kind, name):
    """Import plugins/<kind>/<name>.py under a unique module name."""
    path = ROOT / "plugins" / kind / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"stack_{kind}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def plugin():
    return load_plugin
