"""Shared by every scenario's tests (each scenario's tests/conftest.py is a link to this file)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import testlib  # noqa: E402  (after the path above)

testlib.install_nsenter_backend()
