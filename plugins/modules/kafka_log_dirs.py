#!/usr/bin/python
"""Check that a broker's log directories can take writes: mounted read-write, owned by the broker, with room."""

DOCUMENTATION = r"""
module: kafka_log_dirs
short_description: Check a broker's log directories can take writes, and say why not
description:
  - For each directory in O(paths) checks that it exists, is on a file system mounted read-write, is
    writable by O(user), and that its file system has at least O(min_free_mb) MiB available.
  - Kafka takes a log directory offline at its first failed write and stops when all are offline; this
    check names the directory and the reason instead of leaving a health check to time out on the ports.
  - Read-only; supports check mode.
options:
  paths:
    description: The broker's log directories (log.dirs).
    type: list
    elements: path
    required: true
  user:
    description: The account the broker runs as.
    type: str
    default: kafka
  min_free_mb:
    description: MiB that must be available on each directory's file system.
    type: int
    default: 100
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Check the log dirs
  kafka_stack.core.kafka_log_dirs:
    paths: [/var/lib/kafka/data]
    user: kafka
"""

RETURN = r"""
problems:
  description: "One C(<path>: <reason>) per directory that cannot take writes."
  type: list
  returned: always
free_mb:
  description: MiB available on each directory's file system.
  type: dict
  returned: always
"""

import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule


def dir_problem(path, st, vfs, uid, gids, min_free_mb, user):
    """Why ``path`` cannot take the broker's writes (None when it can): ``st`` its stat, ``vfs`` its
    statvfs, ``uid``/``gids`` the broker's account."""
    if st is None:
        return f"{path}: does not exist"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path}: is not a directory"
    if vfs.f_flag & os.ST_RDONLY:
        return f"{path}: read-only file system (Kafka takes the directory offline at its first write)"
    writable = ((st.st_uid == uid and st.st_mode & stat.S_IWUSR)
                or (st.st_gid in gids and st.st_mode & stat.S_IWGRP)
                or st.st_mode & stat.S_IWOTH)
    if uid != 0 and not writable:
        return (f"{path}: not writable by {user} (owner uid {st.st_uid}, gid {st.st_gid}, mode "
                f"{stat.S_IMODE(st.st_mode):04o})")
    free_mb = vfs.f_bavail * vfs.f_frsize // (1024 * 1024)
    if free_mb < min_free_mb:
        return f"{path}: file system full ({free_mb} MiB available, below {min_free_mb} MiB)"
    return None


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "required": True},
            "user": {"type": "str", "default": "kafka"},
            "min_free_mb": {"type": "int", "default": 100},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        account = pwd.getpwnam(params["user"])
        uid = account.pw_uid
        gids = set(os.getgrouplist(params["user"], account.pw_gid))
    except KeyError:
        module.fail_json(msg=f"user {params['user']} does not exist", problems=[], free_mb={})
    problems, free = [], {}
    for path in params["paths"]:
        try:
            st, vfs = os.stat(path), os.statvfs(path)
            free[path] = vfs.f_bavail * vfs.f_frsize // (1024 * 1024)
        except OSError:
            st, vfs = None, None
        problem = dir_problem(path, st, vfs, uid, gids, params["min_free_mb"], params["user"])
        if problem:
            problems.append(problem)
    if problems:
        module.fail_json(msg="log dirs that cannot take writes: " + "; ".join(problems), problems=problems,
                         free_mb=free)
    module.exit_json(changed=False, problems=[], free_mb=free)


if __name__ == "__main__":
    main()
