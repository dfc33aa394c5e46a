#!/usr/bin/python
"""A service's system group and user, and whether its packages are installed, in one round trip."""

DOCUMENTATION = r"""
module: service_account
short_description: Ensure a service's system group and user; report which of its packages are missing
description:
  - Creates the system group and the system user (no login shell, home not created) when missing, and
    corrects the user's primary group, home and shell when they differ, with C(groupadd), C(useradd) and
    C(usermod).
  - Reads the state of O(packages) with C(dpkg-query) and returns the ones not installed, for an
    C(ansible.builtin.apt) task to install; installing nothing itself keeps a re-run to one round trip.
  - Supports check mode.
options:
  user:
    description: System user the service runs as.
    type: str
    required: true
  group:
    description: Its primary group, a system group.
    type: str
    required: true
  home:
    description: The user's home directory (not created).
    type: path
    required: true
  shell:
    description: The user's shell.
    type: path
    default: /usr/sbin/nologin
  packages:
    description: Debian packages the service needs.
    type: list
    elements: str
    default: []
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Create the service account
  kafka_stack.core.service_account:
    user: kafka
    group: kafka
    home: /var/lib/kafka
    packages: [openjdk-17-jre-headless]
  register: account
"""

RETURN = r"""
missing_packages:
  description: The packages of O(packages) that are not installed.
  type: list
  returned: always
commands:
  description: The commands run (or, in check mode, that would run).
  type: list
  returned: always
"""

import grp
import pwd

from ansible.module_utils.basic import AnsibleModule


def plan(wanted, group_entry, user_entry, group_gid=None):
    """The commands that bring the account to ``wanted`` ({user, group, home, shell}).

    ``group_entry`` and ``user_entry`` are the current grp/pwd entries (None when missing); ``group_gid`` is
    the wanted group's gid when it exists."""
    commands = []
    if group_entry is None:
        commands.append(["groupadd", "--system", wanted["group"]])
    if user_entry is None:
        commands.append(["useradd", "--system", "--gid", wanted["group"], "--home-dir", wanted["home"],
                         "--no-create-home", "--shell", wanted["shell"], wanted["user"]])
        return commands
    fixes = []
    if group_gid is None or user_entry.pw_gid != group_gid:
        fixes += ["--gid", wanted["group"]]
    if user_entry.pw_dir != wanted["home"]:
        fixes += ["--home", wanted["home"]]
    if user_entry.pw_shell != wanted["shell"]:
        fixes += ["--shell", wanted["shell"]]
    if fixes:
        commands.append(["usermod"] + fixes + [wanted["user"]])
    return commands


def _entry(lookup, name):
    try:
        return lookup(name)
    except KeyError:
        return None


def missing_packages(module, packages):
    """The packages dpkg does not report as installed."""
    missing = []
    for package in packages:
        rc, out, _ = module.run_command(["dpkg-query", "--show", "--showformat=${db:Status-Abbrev}", package])
        if rc != 0 or not out.startswith("ii"):
            missing.append(package)
    return missing


def main():
    module = AnsibleModule(
        argument_spec={"user": {"type": "str", "required": True}, "group": {"type": "str", "required": True},
                       "home": {"type": "path", "required": True},
                       "shell": {"type": "path", "default": "/usr/sbin/nologin"},
                       "packages": {"type": "list", "elements": "str", "default": []}},
        supports_check_mode=True)
    wanted = {key: module.params[key] for key in ("user", "group", "home", "shell")}
    group_entry = _entry(grp.getgrnam, wanted["group"])
    commands = plan(wanted, group_entry, _entry(pwd.getpwnam, wanted["user"]),
                    group_entry.gr_gid if group_entry else None)
    if not module.check_mode:
        for command in commands:
            rc, out, err = module.run_command(command)
            if rc != 0:
                module.fail_json(msg=f"{' '.join(command)} failed: {err or out}", commands=commands)
    module.exit_json(changed=bool(commands), commands=commands,
                     missing_packages=missing_packages(module, module.params["packages"]))


if __name__ == "__main__":
    main()
