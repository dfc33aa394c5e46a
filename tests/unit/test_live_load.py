"""The scenarios' live load (molecule/shared/testlib.py LiveLoad), on an in-memory stand-in for kafka-python.

TEST DOUBLE: the stand-in (fake_kafka below) is for these unit tests only; the scenarios run LiveLoad on real
kafka-python against real Kafka. It is one partition's log and one group's committed offset: enough to check that
a consumer whose poll raises, or which stalls while records keep being acknowledged, is replaced by one that
resumes from the group's offsets, and that stop() ends and reports what the group did not read instead of hanging.
"""

import importlib
import re
import sys
import threading
import time
import types

import pytest

from conftest import ROOT


class Log:
    """A topic of one partition and the group's committed offset; ``modes`` scripts each new consumer."""

    def __init__(self, modes):
        self.records, self.committed, self.modes, self.consumers = [], 0, list(modes), 0
        self.lock = threading.Lock()


class Future:
    def __init__(self, log, value):
        self.log, self.value = log, value

    def add_callback(self, callback):
        with self.log.lock:
            self.log.records.append(self.value)
        callback(None)

    def add_errback(self, _errback):
        pass


def fake_kafka(log):
    """TEST DOUBLE of kafka-python's KafkaProducer and KafkaConsumer, over ``log``."""
    class KafkaProducer:
        def __init__(self, **_config):
            pass

        def send(self, _topic, value):
            return Future(log, value)

        def flush(self, timeout=None):
            pass

        def close(self):
            pass

    class KafkaConsumer:
        def __init__(self, _topic, **_config):
            with log.lock:
                self.mode = log.modes.pop(0) if log.modes else "ok"
                log.consumers += 1
            if self.mode == "refuse":
                raise RuntimeError("NoBrokersAvailable")
            self.position, self.polls = log.committed, 0

        def poll(self, timeout_ms=0):
            self.polls += 1
            if self.mode == "stall" or (self.mode == "ok-then-stall" and self.polls > 3):
                time.sleep(timeout_ms / 1000 / 20)
                return {}
            if self.mode == "raise" and self.polls > 3:
                raise RuntimeError("NodeNotReadyError")
            with log.lock:
                batch = log.records[self.position:]
            self.position += len(batch)
            time.sleep(0.01)
            return {"tp": [types.SimpleNamespace(value=value) for value in batch]} if batch else {}

        def commit(self):
            log.committed = self.position

        def close(self):
            pass

    return types.SimpleNamespace(KafkaProducer=KafkaProducer, KafkaConsumer=KafkaConsumer)


@pytest.fixture()
def live_load(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "molecule" / "shared"))
    monkeypatch.setitem(sys.modules, "testinfra.utils.ansible_runner", types.ModuleType("ansible_runner"))
    testlib = importlib.import_module("testlib")

    def make(modes, **options):
        log = Log(modes)
        monkeypatch.setitem(sys.modules, "kafka", fake_kafka(log))
        return testlib.LiveLoad("b:1", "t", "g", 100000, **options), log

    return make


def run(load, seconds):
    load.start()
    time.sleep(seconds)
    load.mark("run")
    load.stop(patience=10)


def test_a_healthy_group_reads_every_acknowledged_record_with_one_consumer(live_load):
    load, log = live_load(["ok"], pause=0.005, stall=2.0)
    run(load, 0.5)
    assert len(load.acked) > 10 and set(load.acked) <= set(load.read)
    assert load.restarts == [] and log.consumers == 1 and not load.unread()
    assert [mark[0] for mark in load.marks] == ["run", "stopped producing", "stopped"]
    figures = load.figures()
    assert figures["acknowledged_during"] == len(load.acked) and figures["live_group_unread"] == 0
    assert figures["live_group_distinct"] == len(set(load.read)) and figures["consumer_restarts"] == []
    assert figures["counts_after_each_step"] == load.marks and figures["failed_during"] == 0


@pytest.mark.parametrize("first, stall, seconds, reason", [
    ("raise", 2.0, 0.5, r"poll raised RuntimeError\('NodeNotReadyError'\)"),
    ("refuse", 2.0, 0.5, r"no consumer started: RuntimeError\('NoBrokersAvailable'\)"),
    ("ok-then-stall", 0.6, 1.5, r"read nothing for \d+ s while records were acknowledged"),
], ids=["its poll raises", "it cannot start", "it stalls while records are acknowledged"])
def test_a_failed_consumer_is_replaced_once_and_the_group_resumes(live_load, first, stall, seconds, reason):
    load, log = live_load([first, "ok"], pause=0.005, stall=stall)
    run(load, seconds)
    assert set(load.acked) <= set(load.read) and log.consumers == 2
    assert len(load.restarts) == 1 and re.fullmatch(reason, load.restarts[0][2]), load.restarts


def test_stop_restarts_a_consumer_stalled_after_the_producer_ended(live_load):
    load, log = live_load(["ok-then-stall", "ok"], pause=0.005, stall=3.0)
    load.start()
    time.sleep(0.3)
    started = time.monotonic()
    load.stop(patience=60)
    assert set(load.acked) <= set(load.read) and log.consumers == 2
    assert load.restarts[0][2] == "stop() found it behind the acknowledged records"
    assert time.monotonic() - started < 5


def test_stop_ends_and_names_what_a_stuck_group_did_not_read(live_load):
    load, log = live_load(["ok-then-stall"] + ["stall"] * 5, pause=0.005, stall=1.0)
    load.start()
    time.sleep(0.3)
    started = time.monotonic()
    load.stop(patience=5)
    assert time.monotonic() - started < 8
    missing = load.unread()
    assert missing and missing == set(load.acked) - set(load.read)
    diagnosis = load.diagnosis()
    assert f"{len(missing)} of {len(load.acked)} acknowledged records unread by group g" in diagnosis
    assert "consumer thread alive: " in diagnosis and "marks [('stopped producing'" in diagnosis
