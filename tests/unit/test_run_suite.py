"""testbed/bin/run-suite (make test) on a small suite of its own: steps of shell commands and of pytest, one that
fails; what it prints, in which order, and the last line's counts (from the JUnit reports)."""

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

PASSING = "def test_one():\n    assert True\n\ndef test_two():\n    pass\n"
FAILING = ("import pytest\n\ndef test_good():\n    pass\n\ndef test_bad():\n    assert 1 + 1 == 3, 'arithmetic'\n\n"
           "@pytest.mark.skip(reason='not here')\ndef test_skipped():\n    pass\n")


def run_suite(tmp_path, steps, *only, env=None):
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"steps": steps, "scenario_step": {"command": ["true"]}, "scenarios": {}}))
    environ = dict(os.environ, SUITE_FILE=str(suite), SUITE_CACHE=str(tmp_path / "cache"),
                   KSA_MACHINE_CACHE=str(tmp_path / "machine"), LANES="2", PYTEST_ADDOPTS="-p no:cacheprovider")
    environ.update(env or {})
    result = subprocess.run([sys.executable, str(ROOT / "testbed" / "bin" / "run-suite"), *only], cwd=tmp_path,
                            env=environ, capture_output=True, text=True, timeout=120)
    return result, result.stdout.splitlines()


def pytest_step(tmp_path, name, text):
    (tmp_path / f"test_{name}.py").write_text(text)
    return {"command": [sys.executable, "-m", "pytest", "-v", str(tmp_path / f"test_{name}.py")]}


def test_counts_every_test_and_a_failure_outside_the_tests(tmp_path):
    steps = {"good": pytest_step(tmp_path, "good", PASSING),
             "mixed": pytest_step(tmp_path, "mixed", FAILING),
             "broken": {"command": ["sh", "-c", "echo 'fatal: [host]: FAILED! => the reason'; exit 2"]},
             "after": {"command": ["true"], "needs": ["broken"]}}
    result, lines = run_suite(tmp_path, steps)
    assert result.returncode == 1
    assert lines[-1] == "make test: 3 passed, 3 failed, 1 skipped", lines[-12:]  # bad, broken, after (not run)
    text = "\n".join(lines)
    assert "!!! mixed: FAILED" in text and "arithmetic" in text  # the assertion is shown with the failure
    assert "!!!   fatal: [host]: FAILED! => the reason" in text
    table = text[text.index("=== the suite, step by step"):]
    for name, result_word in (("good", "passed"), ("mixed", "FAILED"), ("broken", "FAILED"), ("after", "not run")):
        assert any(re.match(rf"{name}\s+{result_word}\s", line) for line in table.splitlines()), (name, table)
    assert "The whole suite has not passed on this machine yet" in text
    figures = json.loads((tmp_path / "cache" / "figures" / "suite.json").read_text())
    assert figures["steps"]["mixed"]["tests"] == {"passed": 1, "failed": 1, "skipped": 1}


def test_a_step_past_its_timeout_is_stopped_and_reported(tmp_path):
    steps = {"slow": {"command": ["sh", "-c", "echo started; sleep 60"], "timeout": 2},
             "quick": {"command": ["true"]}}
    result, lines = run_suite(tmp_path, steps)
    text = "\n".join(lines)
    assert result.returncode == 1 and "slow: stopped after" in text and "at its timeout" in text
    assert lines[-1] == "make test: 0 passed, 1 failed, 0 skipped"


def test_a_passing_suite_is_remembered_on_the_machine(tmp_path):
    steps = {"good": pytest_step(tmp_path, "good", PASSING)}
    result, lines = run_suite(tmp_path, steps)
    assert result.returncode == 0 and lines[-1] == "make test: 2 passed, 0 failed, 0 skipped"
    again, lines = run_suite(tmp_path, steps)
    assert again.returncode == 0
    assert any(line.startswith("The whole suite last passed on this machine on ") for line in lines)
    assert any("Δ CPU against the previous run on this machine" in line for line in lines)


def test_the_steps_find_the_venvs_tools_first(tmp_path):
    """Started by a version manager's python3 shim (pyenv puts its own bin first), Molecule found another Python's
    pytest, without testinfra: the steps' PATH starts with the clone's .venv/bin."""
    steps = {"path": {"command": ["sh", "-c", "echo \"PATH=$PATH\""]}}
    _, lines = run_suite(tmp_path, steps, env={"PATH": "/somewhere/else/bin:" + os.environ["PATH"]})
    (path,) = [line for line in lines if line.startswith("[path] PATH=")]
    assert path.split("=", 1)[1].split(":")[0] == str(ROOT / ".venv" / "bin")


def test_the_critical_step_keeps_its_priority_and_the_others_yield(tmp_path):
    # Each step prints its own nice value and its session's autogroup line (where the kernel has autogroups).
    show = ["sh", "-c", "echo nice=$(cut -d' ' -f19 /proc/self/stat); cat /proc/self/autogroup 2>/dev/null || true"]
    steps = {"long": {"command": show, "critical": True}, "beside": {"command": show}}
    result, lines = run_suite(tmp_path, steps)
    assert result.returncode == 0, lines[-20:]
    nice = {name: int(re.search(rf"^\[{name}\] nice=(-?\d+)$", "\n".join(lines), re.M).group(1))
            for name in steps}
    assert nice["beside"] == nice["long"] + 5, nice
    if os.path.exists("/proc/self/autogroup"):
        groups = {name: re.search(rf"^\[{name}\] /autogroup-\d+ nice (-?\d+)$", "\n".join(lines), re.M).group(1)
                  for name in steps}
        assert groups == {"long": "0", "beside": "5"}, groups
    # Run alone (nothing beside it), no step yields.
    result, lines = run_suite(tmp_path, steps, "beside")
    assert re.search(r"^\[beside\] nice=(-?\d+)$", "\n".join(lines), re.M).group(1) == str(nice["long"])


def test_a_stopped_run_starts_no_further_step(tmp_path):
    steps = {"first": {"command": ["sh", "-c", "echo first started; sleep 30"], "cost": 2},
             "second": {"command": ["sh", "-c", "echo second started"], "cost": 1}}
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"steps": steps, "scenario_step": {"command": ["true"]}, "scenarios": {}}))
    environ = dict(os.environ, SUITE_FILE=str(suite), SUITE_CACHE=str(tmp_path / "cache"),
                   KSA_MACHINE_CACHE=str(tmp_path / "machine"), LANES="1")
    process = subprocess.Popen([sys.executable, str(ROOT / "testbed" / "bin" / "run-suite")], cwd=tmp_path,
                               env=environ, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if "first started" in line:
            break
    process.terminate()
    rest = process.communicate(timeout=60)[0]
    assert process.returncode != 0 and "second started" not in rest and "=== second: started" not in rest, rest
