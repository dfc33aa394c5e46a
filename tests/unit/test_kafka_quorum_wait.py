"""Module kafka_quorum run as Ansible runs it, against a stand-in kafka-metadata-quorum.sh (a shell script in a
temporary kafka_home that answers from a script of rounds and logs each call): one ``--replication`` a round until
the quorum looks right, and nothing more (``--status`` prints the same answer); the rounds wait longer and longer."""

import pytest
from conftest import run_module

REPLICATION = ("NodeId\tDirectoryId\tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus\n"
               "1\tAAAAAAAAAAAAAAAAAAAAAA\t120\t0\t1\t1\tLeader\n"
               "2\tBBBBBBBBBBBBBBBBBBBBBB\t120\t0\t1\t1\tFollower\n"
               "3\tCCCCCCCCCCCCCCCCCCCCCC\t120\t{lag3}\t1\t1\tFollower\n"
               "4\tDDDDDDDDDDDDDDDDDDDDDD\t{leo4}\t{lag4}\t1\t1\tObserver\n")
# The stand-in: "round" counts its --replication calls; the Nth answers the Nth of ROUNDS (the last one after).
STAND_IN = """#!/bin/bash
# TEST DOUBLE of kafka-metadata-quorum.sh (unit tests of the kafka_quorum module)
here=$(dirname "$0")/..
echo "$*" >>"$here/calls"
case "$*" in
  *--replication*)
    n=$(( $(cat "$here/round" 2>/dev/null || echo 0) + 1 )); echo $n >"$here/round"
    file="$here/round-$n"; [[ -f $file ]] || file=$(ls "$here"/round-* | sort -V | tail -n 1)
    cat "$file" ;;
  *) echo "the stand-in answers --replication only" >&2; exit 1 ;;
esac
"""


def kafka_home(tmp_path, rounds):
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "kafka-metadata-quorum.sh"
    tool.write_text(STAND_IN)
    tool.chmod(0o755)
    for number, (lag3, leo4, lag4) in enumerate(rounds, start=1):
        (tmp_path / f"round-{number}").write_text(REPLICATION.format(lag3=lag3, leo4=leo4, lag4=lag4))
    return tmp_path


def calls(home):
    return (home / "calls").read_text().splitlines()


def wait(home, **args):
    return run_module("kafka_quorum", home, dict({"kafka_home": str(home), "bootstrap_controller": "c1:9093"}, **args))[0]


def test_a_healthy_quorum_costs_one_tool_run(tmp_path):
    home = kafka_home(tmp_path, [(0, 120, 0)])
    result = wait(home, node_id=4, part="observer", timeout=30)
    assert "failed" not in result, result
    assert [call.split()[-1] for call in calls(home)] == ["--replication"]
    assert result["asks"] == 1
    assert result["status"] == {"leader_id": 1, "voters": [{"id": 1}, {"id": 2}, {"id": 3}], "observers": [{"id": 4}]}


def test_each_round_runs_the_tool_once_and_waits_longer(tmp_path):
    # the observer catches up only in round 3; voter 3 lags in round 1
    home = kafka_home(tmp_path, [(500, 0, 120), (0, 60, 60), (0, 120, 0)])
    result = wait(home, node_id=4, part="observer", timeout=60)
    assert "failed" not in result, result
    assert [call.split()[-1] for call in calls(home)] == ["--replication"] * 3
    assert result["asks"] == 3


def test_past_the_timeout_it_names_what_is_missing(tmp_path):
    home = kafka_home(tmp_path, [(0, 0, 120)])
    result = wait(home, node_id=4, part="observer", timeout=5)
    assert result["failed"] and "node 4 is not caught up (lag 120)" in result["msg"]
    # 2 s, then 3 s: two or three rounds in 5 s, never one every 2 s
    assert 2 <= len(calls(home)) <= 3 and all(call.endswith("--replication") for call in calls(home))


@pytest.mark.parametrize("rows, words", [
    ([{"node_id": 1, "status": "Leader"}, {"node_id": 2, "status": "Follower"}, {"node_id": 4, "status": "Observer"}],
     {"leader_id": 1, "voters": [{"id": 1}, {"id": 2}], "observers": [{"id": 4}]}),
    ([{"node_id": 2, "status": "Follower"}], {"leader_id": None, "voters": [{"id": 2}], "observers": []}),
])
def test_the_leader_and_voters_read_from_the_replication_table(rows, words):
    from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import status_from_replication

    assert status_from_replication(rows) == words
