"""The test bed's bytecode cache for zip-imported code (testbed/images/python-bytecode-cache, in the scenarios'
base images): the same code runs, compiled once; a module's code names the zip it came from this time; the cache
is used only when root's alone. Each case runs in a fresh interpreter (the cache patches zipimport)."""

import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

HOOK = pathlib.Path(__file__).resolve().parents[2] / "testbed" / "images" / "python-bytecode-cache"
DEMO = '''
def outer():
    def inner():
        return "inner ran"
    return inner
'''
PROBE = '''
import sys
sys.path.insert(0, sys.argv[1])
import ksa_bytecode_cache
print(ksa_bytecode_cache.install(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
import ksa_demo_pkg.demo as demo
print(demo.outer()())
print(demo.outer.__code__.co_filename)
print(demo.outer().__code__.co_filename)
'''

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the cache is root's only (the containers run as root)")


def probe(cache, zip_path):
    done = subprocess.run([sys.executable, "-c", PROBE, str(HOOK), str(cache), str(zip_path)], capture_output=True,
                          text=True, check=True, timeout=60, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    return done.stdout.splitlines()


def demo_zip(directory):
    directory.mkdir()
    path = directory / "payload.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ksa_demo_pkg/__init__.py", "")
        archive.writestr("ksa_demo_pkg/demo.py", DEMO)
    return path


def test_a_second_interpreter_runs_the_cached_code_under_its_own_zip_path(tmp_path):
    cache = tmp_path / "cache"
    first = probe(cache, demo_zip(tmp_path / "run1"))
    entries = sorted(os.listdir(cache))
    assert len(entries) == 2  # the package's __init__ and demo
    second_zip = demo_zip(tmp_path / "run2")
    assert probe(cache, second_zip) == ["True", "inner ran", f"{second_zip}/ksa_demo_pkg/demo.py",
                                        f"{second_zip}/ksa_demo_pkg/demo.py"]
    assert first[:2] == ["True", "inner ran"] and sorted(os.listdir(cache)) == entries
    assert oct(cache.stat().st_mode & 0o777) == "0o700"


def test_changed_source_is_compiled_again(tmp_path):
    cache = tmp_path / "cache"
    probe(cache, demo_zip(tmp_path / "run1"))
    changed = tmp_path / "run2"
    changed.mkdir()
    with zipfile.ZipFile(changed / "payload.zip", "w") as archive:
        archive.writestr("ksa_demo_pkg/__init__.py", "")
        archive.writestr("ksa_demo_pkg/demo.py", DEMO.replace("inner ran", "changed inner ran"))
    assert probe(cache, changed / "payload.zip")[1] == "changed inner ran"
    assert len(os.listdir(cache)) == 3


def test_a_cache_others_may_write_is_not_used(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    assert probe(cache, demo_zip(tmp_path / "run1"))[:2] == ["False", "inner ran"]
    assert os.listdir(cache) == []
    shutil.rmtree(cache)
