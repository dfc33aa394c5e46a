"""The collection's plugins, imported as the Python packages Ansible loads them as.

pytest.ini puts collections/ on the path: ``ansible_collections.kafka_stack.core`` is this repository.
"""

import importlib
import pathlib

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
