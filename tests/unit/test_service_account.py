"""plugins/modules/service_account.py: the commands it plans for a system account."""

import collections

from conftest import load_plugin

account = load_plugin("modules", "service_account")
Pw = collections.namedtuple("Pw", "pw_name pw_gid pw_dir pw_shell")
Gr = collections.namedtuple("Gr", "gr_name gr_gid")
WANTED = {"user": "kafka", "group": "kafka", "home": "/var/lib/kafka/data", "shell": "/usr/sbin/nologin"}


def test_missing_group_and_user_are_created_as_system_accounts_without_a_home():
    assert account.plan(WANTED, None, None) == [
        ["groupadd", "--system", "kafka"],
        ["useradd", "--system", "--gid", "kafka", "--home-dir", "/var/lib/kafka/data", "--no-create-home",
         "--shell", "/usr/sbin/nologin", "kafka"]]


def test_an_account_as_wanted_needs_nothing():
    assert account.plan(WANTED, Gr("kafka", 990), Pw("kafka", 990, "/var/lib/kafka/data", "/usr/sbin/nologin"),
                        990) == []


def test_an_existing_user_is_corrected_in_one_usermod():
    drifted = Pw("kafka", 100, "/home/kafka", "/bin/bash")
    assert account.plan(WANTED, Gr("kafka", 990), drifted, 990) == [
        ["usermod", "--gid", "kafka", "--home", "/var/lib/kafka/data", "--shell", "/usr/sbin/nologin", "kafka"]]


def test_a_user_made_by_a_package_before_the_group_gets_the_group():
    """The distribution's zookeeper package may have made the user with a group of its own."""
    assert account.plan(WANTED, None, Pw("kafka", 100, "/var/lib/kafka/data", "/usr/sbin/nologin")) == [
        ["groupadd", "--system", "kafka"], ["usermod", "--gid", "kafka", "kafka"]]
