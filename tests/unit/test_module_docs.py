"""Every module's DOCUMENTATION, RETURN and EXAMPLES are YAML that ansible-doc can read (ansible-lint only
warns when they are not)."""

import ast
import pathlib

import pytest
import yaml

from conftest import ROOT

MODULES = sorted((ROOT / "plugins/modules").glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[path.stem for path in MODULES])
def test_module_documentation_is_yaml(path: pathlib.Path):
    blocks = {node.targets[0].id: node.value.value for node in ast.parse(path.read_text()).body
              if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("DOCUMENTATION", "RETURN",
                                                                                         "EXAMPLES")}
    assert "DOCUMENTATION" in blocks
    for name, text in blocks.items():
        assert yaml.safe_load(text) is not None, name
