"""plugins/modules/service_files.py run as Ansible runs a module (its arguments in a JSON file)."""

import grp
import os
import pwd
import stat

import pytest

from conftest import run_module

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(tmp_path, check=False, diff=False, **args):
    return run_module("service_files", tmp_path, dict(args, _ansible_check_mode=check, _ansible_diff=diff))


@pytest.fixture()
def layout(tmp_path):
    root = tmp_path / "srv"
    return {
        "directories": [{"path": str(root / "etc"), "owner": USER, "group": GROUP, "mode": "0750"},
                        {"path": str(root / "data"), "owner": USER, "group": GROUP, "mode": "0700"}],
        "links": [{"path": str(root / "current"), "src": str(root / "etc")}],
        "files": [{"path": str(root / "etc" / "app.properties"), "content": "a=1\n", "owner": USER,
                   "group": GROUP, "mode": "0640"}],
    }


def test_creates_everything_then_changes_nothing(tmp_path, layout):
    first, _ = run(tmp_path, **layout)
    assert first["changed"] and len(first["changed_paths"]) == 4
    root = tmp_path / "srv"
    assert stat.S_IMODE((root / "etc").stat().st_mode) == 0o750
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o700
    assert os.readlink(root / "current") == str(root / "etc")
    assert (root / "etc" / "app.properties").read_text() == "a=1\n"
    assert stat.S_IMODE((root / "etc" / "app.properties").stat().st_mode) == 0o640
    again, _ = run(tmp_path, **layout)
    assert again["changed"] is False and again["changed_paths"] == []


def test_rewrites_only_what_differs_and_fixes_modes(tmp_path, layout):
    run(tmp_path, **layout)
    root = tmp_path / "srv"
    (root / "data" / "keep.log").write_text("records")  # a directory's content is never touched
    os.chmod(root / "data", 0o777)
    layout["files"][0]["content"] = "a=2\n"
    result, _ = run(tmp_path, diff=True, **layout)
    assert sorted(result["changed_paths"]) == sorted([str(root / "data"), str(root / "etc" / "app.properties")])
    assert (root / "etc" / "app.properties").read_text() == "a=2\n"
    assert (root / "data" / "keep.log").read_text() == "records"
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o700
    assert result["diff"] == [{"before_header": str(root / "etc" / "app.properties"),
                               "after_header": str(root / "etc" / "app.properties"),
                               "before": "a=1\n", "after": "a=2\n"}]


def test_repoints_a_link(tmp_path, layout):
    run(tmp_path, **layout)
    layout["links"][0]["src"] = str(tmp_path / "srv" / "data")
    result, _ = run(tmp_path, **layout)
    assert result["changed_paths"] == [str(tmp_path / "srv" / "current")]
    assert os.readlink(tmp_path / "srv" / "current") == str(tmp_path / "srv" / "data")


def test_secret_content_is_never_shown(tmp_path, layout):
    run(tmp_path, **layout)
    secret = {"path": str(tmp_path / "srv" / "etc" / "jaas.conf"), "content": "password=\"hunter2-xyz\"\n",
              "owner": USER, "group": GROUP, "mode": "0640"}
    result, raw = run(tmp_path, diff=True, secret_files=[secret], directories=layout["directories"])
    assert result["changed_paths"] == [secret["path"]]
    assert "hunter2-xyz" not in raw
    assert (tmp_path / "srv" / "etc" / "jaas.conf").read_text() == secret["content"]


def test_check_mode_changes_nothing(tmp_path, layout):
    result, _ = run(tmp_path, check=True, **layout)
    assert result["changed"] and len(result["changed_paths"]) == 4
    assert not (tmp_path / "srv").exists()


def test_refuses_to_replace_a_file_with_a_directory(tmp_path, layout):
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "etc").write_text("not a directory")
    result, _ = run(tmp_path, **layout)
    assert result["failed"] and "is not a directory" in result["msg"]
    assert (tmp_path / "srv" / "etc").read_text() == "not a directory"


def test_a_rewrite_of_exempt_keys_alone_needs_no_restart(tmp_path, layout):
    """restart_exempt_keys: a properties file whose rewrite changes only those keys is written (changed_paths)
    but left out of restart_paths; any other key, a new file or a mode change still needs the restart."""
    path = layout["files"][0]["path"]
    layout["files"][0].update(content="a=1\nboot=c1:9093\n", restart_exempt_keys=["boot"])
    first, _ = run(tmp_path, **layout)
    assert path in first["restart_paths"]  # a new file
    layout["files"][0]["content"] = "a=1\nboot=c1:9093,c2:9093\n"
    exempt, _ = run(tmp_path, **layout)
    assert exempt["changed"] and exempt["changed_paths"] == [path] and exempt["restart_paths"] == []
    assert open(path).read() == "a=1\nboot=c1:9093,c2:9093\n"
    layout["files"][0]["content"] = "a=2\nboot=c1:9093,c2:9093,c3:9093\n"
    both, _ = run(tmp_path, **layout)
    assert both["restart_paths"] == [path]
    layout["files"][0].update(mode="0600", content="a=2\nboot=c1:9093\n")
    moded, _ = run(tmp_path, **layout)
    assert moded["restart_paths"] == [path]
    layout["files"][0].pop("restart_exempt_keys")
    layout["files"][0]["content"] = "a=2\nboot=c1:9093,c4:9093\n"
    plain, _ = run(tmp_path, **layout)
    assert plain["restart_paths"] == [path]


def test_exempt_keys_of_a_secret_file_show_nothing(tmp_path, layout):
    secret = dict(layout["files"].pop(), content="password=s3cret-v1\nboot=c1:9093\n", restart_exempt_keys=["boot"])
    run(tmp_path, secret_files=[secret], **layout)
    secret["content"] = "password=s3cret-v1\nboot=c1:9093,c2:9093\n"
    result, _ = run(tmp_path, diff=True, secret_files=[secret], **layout)
    assert result["changed_paths"] == [secret["path"]] and result["restart_paths"] == []
    assert "s3cret" not in repr(result)
    secret["content"] = "password=s3cret-v2\nboot=c1:9093,c2:9093\n"
    rotated, _ = run(tmp_path, secret_files=[secret], **layout)
    assert rotated["restart_paths"] == [secret["path"]] and "s3cret" not in repr(rotated)
