"""The launchers the test bed writes for its repackaged Kafka and ZooKeeper (testbed/fixtures/*/bin) keep
the environment contract of Apache's scripts: run with a fake `java` (JAVA_HOME) that prints its argv."""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
KAFKA_BIN = ROOT / "testbed/fixtures/kafka-dist/bin"
ZOOKEEPER_BIN = ROOT / "testbed/fixtures/zookeeper-archive/bin"


@pytest.fixture
def release(tmp_path):
    """A release tree: the fixture's bin/, a libs/ with jars Apache's launcher keeps and leaves out, and a
    JAVA_HOME whose java prints one argument per line."""
    top = tmp_path / "kafka_2.13-9.9.9"
    shutil.copytree(KAFKA_BIN, top / "bin")
    (top / "libs").mkdir()
    for jar in ("kafka_2.13-9.9.9.jar", "kafka-clients-9.9.9.jar", "kafka-clients-9.9.9-test.jar",
                "kafka-tools-9.9.9-sources.jar", "kafka-9.9.9-javadoc.jar", "connect-file-9.9.9.jar"):
        (top / "libs" / jar).touch()
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    java = java_home / "bin/java"
    java.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    java.chmod(0o755)
    return top, java_home


def run(script, *args, env=None):
    clean = {"PATH": os.environ["PATH"], **(env or {})}
    result = subprocess.run([str(script), *args], capture_output=True, text=True, env=clean, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_run_class_classpath_defaults_and_order(release, tmp_path):
    top, java_home = release
    argv = run(top / "bin/kafka-run-class.sh", "org.example.Main", "--flag",
               env={"JAVA_HOME": str(java_home), "LOG_DIR": str(tmp_path / "logs"), "KAFKA_OPTS": "-Dmy.opt=1"})
    classpath = argv[argv.index("-cp") + 1].split(":")
    assert sorted(os.path.basename(jar) for jar in classpath) == ["kafka-clients-9.9.9.jar", "kafka_2.13-9.9.9.jar"]
    assert "-Xmx256M" in argv and "-XX:+UseG1GC" in argv
    assert f"-Dkafka.logs.dir={tmp_path / 'logs'}" in argv
    assert f"-Dlog4j.configuration=file:{top}/config/tools-log4j.properties" in argv
    # java $HEAP $PERF $GC $JMX $LOG4J -cp $CLASSPATH $KAFKA_OPTS <class> <args>
    assert argv[argv.index("-cp") + 2:] == ["-Dmy.opt=1", "org.example.Main", "--flag"]
    assert (tmp_path / "logs").is_dir()


def test_run_class_takes_the_callers_jvm_settings(release):
    top, java_home = release
    argv = run(top / "bin/kafka-run-class.sh", "Main",
               env={"JAVA_HOME": str(java_home), "KAFKA_HEAP_OPTS": "-Xms64m -Xmx64m",
                    "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseSerialGC", "KAFKA_LOG4J_OPTS": "-Dlog4j.configuration=x",
                    "JMX_PORT": "9999"})
    assert ["-Xms64m", "-Xmx64m"] == argv[0:2]
    assert "-XX:+UseG1GC" not in argv and "-XX:+UseSerialGC" in argv
    assert "-Dlog4j.configuration=x" in argv and "-Dcom.sun.management.jmxremote.port=9999" in argv


def test_server_start_sets_the_broker_defaults(release, tmp_path):
    top, java_home = release
    argv = run(top / "bin/kafka-server-start.sh", "/etc/kafka/server.properties", "--override", "broker.id=2",
               env={"JAVA_HOME": str(java_home), "LOG_DIR": str(tmp_path)})
    assert ["-Xmx1G", "-Xms1G"] == argv[0:2]
    assert f"-Dlog4j.configuration=file:{top}/bin/../config/log4j.properties" in argv
    assert any(a.startswith(f"-Xlog:gc*:file={tmp_path}/kafkaServer-gc.log") for a in argv)
    assert argv[-4:] == ["kafka.Kafka", "/etc/kafka/server.properties", "--override", "broker.id=2"]


def test_tool_launchers_run_their_main_class(release, tmp_path):
    top, java_home = release
    table = [line.split("\t") for line in (ROOT / "testbed/fixtures/kafka-dist/tools.tsv").read_text().splitlines()
             if line and not line.startswith("#")]
    rows = {row[0]: (row + [""] * 4)[1:5] for row in table}
    assert {"kafka-configs.sh", "kafka-topics.sh", "kafka-console-producer.sh", "kafka-console-consumer.sh",
            "kafka-consumer-groups.sh", "kafka-broker-api-versions.sh", "kafka-storage.sh",
            "kafka-metadata-quorum.sh"} <= set(rows)
    # Classes that moved between 3.x and 4.x are listed with both names; ZooKeeper's tools are 3.x only.
    assert rows["kafka-configs.sh"][0].split("|") == ["kafka.admin.ConfigCommand", "org.apache.kafka.tools.ConfigCommand"]
    assert rows["zookeeper-shell.sh"] == ["org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka", "", "optional",
                                          "-server"]
    # A launcher as build.sh writes it passes its leading arguments before the caller's.
    launcher = top / "bin/zookeeper-shell.sh"
    launcher.write_text('#!/usr/bin/env bash\nexec "$(dirname "$0")/kafka-run-class.sh" '
                        'org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka -server "$@"\n')
    launcher.chmod(0o755)
    argv = run(launcher, "zk:2181", "ls", "/", env={"JAVA_HOME": str(java_home)})
    assert argv[-5:] == ["org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka", "-server", "zk:2181", "ls", "/"]


def test_a_4x_release_logs_with_log4j2(release, tmp_path):
    top, java_home = release
    (top / "config").mkdir()
    (top / "config/log4j2.yaml").touch()
    (top / "config/tools-log4j2.yaml").touch()
    env = {"JAVA_HOME": str(java_home), "LOG_DIR": str(tmp_path)}
    assert f"-Dlog4j2.configurationFile={top}/config/tools-log4j2.yaml" in run(top / "bin/kafka-run-class.sh", "M", env=env)
    argv = run(top / "bin/kafka-server-start.sh", "/etc/kafka/server.properties", env=env)
    assert f"-Dlog4j2.configurationFile={top}/bin/../config/log4j2.yaml" in argv


def test_zookeeper_server_start_foreground_contract(tmp_path):
    top = tmp_path / "apache-zookeeper-9.9.9-bin"
    shutil.copytree(ZOOKEEPER_BIN, top / "bin")
    (top / "lib").mkdir()
    (top / "lib/zookeeper-9.9.9.jar").touch()
    (top / "conf").mkdir()
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    (java_home / "bin/java").write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    (java_home / "bin/java").chmod(0o755)
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text("dataDir=/var/lib/zookeeper\nclientPort=2181\n")
    argv = run(top / "bin/zkServer.sh", "start-foreground", str(cfg),
               env={"JAVA_HOME": str(java_home), "ZOO_LOG_DIR": "/var/log/zookeeper",
                    "SERVER_JVMFLAGS": "-Xms256m -Xmx256m", "ZK_SERVER_HEAP": "256"})
    assert argv[-2:] == ["org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)]
    assert "-Dzookeeper.log.dir=/var/log/zookeeper" in argv and "-Xmx256m" in argv
    classpath = argv[argv.index("-cp") + 1].split(":")
    assert str(top / "bin/../conf") in classpath and str(top / "bin/../lib/zookeeper-9.9.9.jar") in classpath
