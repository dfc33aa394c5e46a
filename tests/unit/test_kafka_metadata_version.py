"""Module kafka_metadata_version run as Ansible runs it, against a stand-in kafka-features.sh (a shell script in a
temporary kafka_home that answers describe, version-mapping and upgrade as Kafka 4.4 or 3.9 prints them and logs
its calls), and the plan that decides when the role runs it (plugin_utils/upgrade.py)."""

import stat

import pytest

from conftest import run_module
from ansible_collections.kafka_stack.core.plugins.module_utils import kafka_tools
from ansible_collections.kafka_stack.core.plugins.plugin_utils.upgrade import metadata_version_plan

# Kafka 4.4's describe pads its columns with spaces (read from a running 4.4.0 controller); 3.9's uses tabs.
DESCRIBE_44 = ("Feature: eligible.leader.replicas.version          SupportedMinVersion: 0                "
               "SupportedMaxVersion: 1                FinalizedVersionLevel: 0                Epoch: 9\n"
               "Feature: kraft.version                             SupportedMinVersion: 0                "
               "SupportedMaxVersion: 1                FinalizedVersionLevel: 0                Epoch: 9\n"
               "Feature: metadata.version                          SupportedMinVersion: 3.3-IV3          "
               "SupportedMaxVersion: 4.4-IV2          FinalizedVersionLevel: {level}          Epoch: 9\n")
STAND_IN = """#!/bin/bash
# TEST DOUBLE of Kafka's kafka-features.sh for the unit tests: answers from $STATE, logs its arguments.
echo "$*" >> "$LOG"
level=$(cat "$STATE")
case " $* " in
  *" describe "*) printf '{describe}' "$level" ;;
  *" version-mapping "*) {mapping} ;;
  *" upgrade "*) {upgrade} ;;
esac
"""
V44 = {"mapping": 'echo "metadata.version=33 (4.4-IV2)"; echo "kraft.version=1"',
       "upgrade": 'case "$*" in *"--feature metadata.version=33"*) echo 4.4-IV2 > "$STATE"; '
                  'echo "metadata.version was upgraded to 33." ;; *) exit 1 ;; esac'}
V39 = {"mapping": 'echo "argument {{describe,upgrade,downgrade,disable}}: invalid choice" >&2; exit 1',
       "upgrade": 'case "$*" in *"--metadata 3.9-IV0"*) echo 3.9-IV0 > "$STATE"; '
                  'echo "metadata.version was upgraded to 21." ;; *) exit 1 ;; esac'}
DESCRIBE_39 = ("Feature: metadata.version\tSupportedMinVersion: 3.0-IV1\tSupportedMaxVersion: 3.9-IV0\t"
               "FinalizedVersionLevel: {level}\tEpoch: 4\n")


def kafka_home(tmp_path, level, flavour=V44, describe=DESCRIBE_44):
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True)
    script = home / "bin" / "kafka-features.sh"
    script.write_text(STAND_IN.format(describe=describe.replace("{level}", "%s").replace("\t", "\\t")
                                      .replace("\n", "\\n"), **flavour))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "state").write_text(level + "\n")
    return home


def run(tmp_path, home, check=False):
    args = {"kafka_home": str(home), "bootstrap_controller": "c1:9093", "timeout": 5, "_ansible_check_mode": check}
    result, _ = run_module("kafka_metadata_version", tmp_path, args,
                           env={"STATE": str(tmp_path / "state"), "LOG": str(tmp_path / "calls")})
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return result, calls


def test_raises_it_on_kafka_4_by_number_and_reads_it_back(tmp_path):
    result, calls = run(tmp_path, kafka_home(tmp_path, "3.9-IV0"))
    assert result["changed"] and (result["before"], result["after"], result["supported"]) == (
        "3.9-IV0", "4.4-IV2", "4.4-IV2")
    assert calls == ["--bootstrap-controller c1:9093 describe",
                     "--bootstrap-controller c1:9093 version-mapping --release-version 4.4-IV2",
                     "--bootstrap-controller c1:9093 upgrade --feature metadata.version=33",
                     "--bootstrap-controller c1:9093 describe"]
    assert result["features"]["kraft.version"] == {"min": "0", "max": "1", "finalized": "0", "epoch": "9"}
    again, calls = run(tmp_path, tmp_path / "kafka")
    assert not again["changed"] and again["after"] == "4.4-IV2" and calls[-1].endswith("describe")


def test_on_kafka_3_it_names_the_level(tmp_path):
    result, calls = run(tmp_path, kafka_home(tmp_path, "3.7-IV4", V39, DESCRIBE_39))
    assert result["changed"] and result["after"] == "3.9-IV0"
    assert "--bootstrap-controller c1:9093 upgrade --metadata 3.9-IV0" in calls


def test_check_mode_reports_and_changes_nothing(tmp_path):
    result, calls = run(tmp_path, kafka_home(tmp_path, "3.9-IV0"), check=True)
    assert result["changed"] and result["after"] == "3.9-IV0"
    assert calls == ["--bootstrap-controller c1:9093 describe"]


def test_never_lowered(tmp_path):
    # A level above what these controllers support (set by newer binaries): left alone, not lowered.
    result, calls = run(tmp_path, kafka_home(tmp_path, "4.5-IV0"))
    assert not result["changed"] and result["after"] == "4.5-IV0" and len(calls) == 1


def test_a_refused_upgrade_fails_with_kafkas_words(tmp_path):
    refusing = dict(V44, upgrade='echo "Could not upgrade metadata.version to 33. Invalid update version 33 for '
                                 'feature metadata.version. Broker 3 does not support this feature."; exit 1')
    result, _ = run(tmp_path, kafka_home(tmp_path, "3.9-IV0", refusing))
    assert result["failed"] and "kafka-features.sh upgrade --feature metadata.version=33 failed" in result["msg"]
    assert "Broker 3 does not support this feature" in result["msg"]


def test_describe_and_version_mapping_parsers():
    features = kafka_tools.parse_features(DESCRIBE_44.format(level="3.9-IV0"))
    assert features["metadata.version"] == {"min": "3.3-IV3", "max": "4.4-IV2", "finalized": "3.9-IV0", "epoch": "9"}
    assert sorted(features) == ["eligible.leader.replicas.version", "kraft.version", "metadata.version"]
    tabs = kafka_tools.parse_features(DESCRIBE_39.format(level="3.9-IV0"))
    assert tabs == {"metadata.version": {"min": "3.0-IV1", "max": "3.9-IV0", "finalized": "3.9-IV0", "epoch": "4"}}
    assert kafka_tools.metadata_version_key("3.9-IV0") < kafka_tools.metadata_version_key("4.4-IV2")
    assert kafka_tools.metadata_version_key("4.4") == (4, 4, 0) and kafka_tools.metadata_version_key("0") is None
    assert kafka_tools.parse_version_mapping("metadata.version=33 (4.4-IV2)\nkraft.version=1\n") == 33
    assert kafka_tools.parse_version_mapping("usage: kafka-features") is None


@pytest.mark.parametrize("states, raised, pinned, words", [
    ({"c1": {"running_version": "4.4.0"}, "b1": {"running_version": "4.4.0"}}, True, False,
     "raised to the newest level Kafka 4.4.0 supports: every node runs it"),
    ({"c1": {"running_version": "4.4.0"}, "b1": {"running_version": "3.9.2"}}, False, True,
     "stays where it is: b1 (3.9.2) runs no Kafka 4.4.0 yet; the next run raises it once every node does"),
    ({"c1": {"running_version": "4.4.0"}, "b1": {"running_version": ""}}, False, False, "left: b1 does not run yet"),
    ({"c1": {"running_version": ""}, "b1": {}}, False, False, "left: b1, c1 do not run yet"),
    ({"c1": {"running_version": "3.9.2"}, "b1": {}}, False, True, "b1 (not running), c1 (3.9.2) run no Kafka"),
])
def test_the_plan_raises_it_only_when_every_node_ran_the_release(states, raised, pinned, words):
    plan = metadata_version_plan("4.4.0", "auto", states)
    assert (plan["raise"], plan["pinned"]) == (raised, pinned) and words in plan["reason"], plan


def test_keep_leaves_it_to_the_operator():
    plan = metadata_version_plan("4.4.0", "keep", {"c1": {"running_version": "4.4.0"}})
    assert not plan["raise"] and plan["reason"] == "kept where it is (kafka_metadata_version: keep)"
