"""Class-data sharing for Kafka's tools as the modules run them (module_utils/kafka_tools.cds_plan, tool_run):
one archive per Kafka installation and JVM, written by the first successful run and put in place whole, in a
directory only its user can write, never a word on the tools' standard output."""

import os
import shutil
import subprocess

import pytest

from conftest import load_plugin

tools = load_plugin("module_utils", "kafka_tools")


@pytest.fixture
def java_home(tmp_path):
    """A JAVA_HOME as Debian's JDK lays it out (bin/java, lib/server/libjvm.so); contents do not matter here."""
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "lib" / "server").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "java").chmod(0o755)
    (home / "lib" / "server" / "libjvm.so").write_text("jvm 1")
    return home


def plan(tmp_path, java_home, kafka_home="/opt/kafka-4.4.0", **extra):
    environ = dict({"JAVA_HOME": str(java_home), "KAFKA_STACK_TOOLS_CDS_DIR": str(tmp_path / "cds")}, **extra)
    return tools.cds_plan(kafka_home, environ)


def test_the_first_run_writes_the_archive_and_the_next_ones_map_it(tmp_path, java_home):
    options, writing, archive = plan(tmp_path, java_home)
    assert options == f"-XX:ArchiveClassesAtExit={writing}" and writing.startswith(archive + ".")
    assert oct((tmp_path / "cds").stat().st_mode & 0o777) == "0o700"
    open(writing, "w").write("archive")  # what the JVM writes when it exits
    tools._cds_done(writing, archive, 0)
    assert not os.path.exists(writing) and open(archive).read() == "archive"
    assert plan(tmp_path, java_home) == (f"-XX:SharedArchiveFile={archive}", None, archive)


def test_a_failed_run_leaves_no_archive(tmp_path, java_home):
    _, writing, archive = plan(tmp_path, java_home)
    open(writing, "w").write("half")
    tools._cds_done(writing, archive, 1)
    assert os.listdir(tmp_path / "cds") == []


def test_another_installation_or_jvm_gets_its_own_archive(tmp_path, java_home):
    first = plan(tmp_path, java_home)[2]
    assert plan(tmp_path, java_home, kafka_home="/opt/kafka-3.9.2")[2] != first
    (java_home / "lib" / "server" / "libjvm.so").write_text("jvm 2, upgraded")
    assert plan(tmp_path, java_home)[2] != first


def test_only_the_newest_archives_are_kept(tmp_path, java_home):
    for number in range(4):
        _, writing, archive = plan(tmp_path, java_home, kafka_home=f"/opt/kafka-{number}")
        open(writing, "w").write("archive")
        os.utime(writing, (1000 + number, 1000 + number))
        tools._cds_done(writing, archive, 0)
    assert len(os.listdir(tmp_path / "cds")) == tools.CDS_KEEP
    assert os.path.exists(archive)


@pytest.mark.parametrize("why", ["directory writable by its group", "turned off", "no java"])
def test_no_archive_when_it_could_be_planted_or_there_is_no_jvm(tmp_path, java_home, why):
    extra = {}
    if why == "directory writable by its group":
        (tmp_path / "cds").mkdir(mode=0o770)
        (tmp_path / "cds").chmod(0o770)
    elif why == "turned off":
        extra["KAFKA_STACK_TOOLS_CDS_DIR"] = ""
    else:
        shutil.rmtree(java_home)
    assert plan(tmp_path, java_home, **extra) == ("", None, None)


@pytest.mark.skipif(not shutil.which("java"), reason="needs a JVM (the test bed's machine has Java 17)")
def test_a_real_jvm_takes_the_options_and_prints_nothing_on_standard_output(tmp_path):
    """The JVM here (Java 17; the scenarios run 17 and 21) accepts the flags, writes the archive, maps it."""
    java = os.path.realpath(shutil.which("java"))
    environ = {"JAVA_HOME": os.path.dirname(os.path.dirname(java)), "KAFKA_STACK_TOOLS_CDS_DIR": str(tmp_path / "c")}
    for expected in ("ArchiveClassesAtExit", "SharedArchiveFile"):
        options, writing, archive = tools.cds_plan(str(tmp_path), environ)
        assert expected in options
        done = subprocess.run([java, *tools.JVM_LOG.split(), options, "-version"], capture_output=True, text=True,
                              check=True, timeout=60)
        assert done.stdout == "" and "[cds]" not in done.stderr
        tools._cds_done(writing, archive, done.returncode)
        assert os.path.getsize(archive) > 0
