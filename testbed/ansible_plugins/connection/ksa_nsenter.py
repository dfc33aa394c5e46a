# TEST DOUBLE of a transport: the test bed's own, never the collection's (it lives under testbed/ and is not in
# the built collection). See the DOCUMENTATION below for why and how it stands in for `docker exec`.
"""The test bed's Ansible connection to a scenario's container through the container's namespaces."""

from __future__ import annotations

DOCUMENTATION = """
name: ksa_nsenter
short_description: TEST DOUBLE of a transport, the test bed's connection to its containers through nsenter
description:
  - The test bed's scenarios run each server as a Docker container with systemd as its init. Ansible reaches
    such a server with C(docker exec) (community.docker.docker); measured on the test bed's 2-core machine, one
    C(docker exec) costs some 80 ms of CPU (the Docker CLI, dockerd, containerd and runc), a third of a module's
    whole cost in the container, on every task of every host.
  - This connection runs the same command in the same container for some 3 ms, with util-linux's C(nsenter) as
    root on the Docker host. As C(runc exec) under C(docker exec), the process joins the container's cgroups
    and enters its namespaces (mount, UTS, IPC, network, PID, cgroup), with the root and working directory of
    its init, the image's environment and the container's user (Config.Env, Config.User; never the
    controller's environment). What differs is a real server's root instead of a container's (every
    capability, no seccomp filter, the host's resource limits).
  - The container's init PID comes from C(docker inspect) once per container and is cached on this machine,
    checked against the container id in the PID's cgroup before each use (a recreated container is looked up
    again). Needs root on the Docker host.
options:
  remote_addr:
    description: The name of the container.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_docker_host
  remote_user:
    description: The user inside the container (as docker exec -u); the container's own user when unset.
    vars:
      - name: ansible_user
      - name: ansible_docker_user
"""

import json
import os
import subprocess
import tempfile

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()

# and the init's root and working directory (Docker starts the init in Config.WorkingDir, or /, where docker exec
# starts its commands; nsenter resolves a --wd=<dir> before it changes root, so the init's is taken)
NAMESPACES = ("--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CACHE = os.path.join(tempfile.gettempdir(), f"ksa-nsenter-{os.getuid()}")
BUFSIZE = 65536


def _account(pid, user):
    """(uid, gid, home) of Docker's ``user`` setting ("name", "uid", "name:group", "uid:gid") in the container of
    init ``pid``, from its /etc/passwd and /etc/group, as docker exec resolves it; (0, 0, "/root") for root."""
    name, _, group = (user or "root").partition(":")

    def table(path):
        try:
            with open(f"/proc/{pid}/root/etc/{path}") as handle:
                return [line.rstrip("\n").split(":") for line in handle if line.count(":") >= 3]
        except OSError:
            return []

    passwd = table("passwd")
    entry = next((row for row in passwd if name in (row[0], row[2])), None)
    if entry is None and not name.isdigit():
        raise AnsibleConnectionFailure(f"user {name} of the container is not in its /etc/passwd")
    uid = int(entry[2]) if entry else int(name)
    gid = int(entry[3]) if entry else 0  # as runc: a uid not in passwd gets gid 0
    if group:
        found = next((row for row in table("group") if group in (row[0], row[2])), None)
        if found is None and not group.isdigit():
            raise AnsibleConnectionFailure(f"group {group} of the container is not in its /etc/group")
        gid = int(found[2]) if found else int(group)
    return uid, gid, (entry[5] if entry and len(entry) > 5 and entry[5] else "/")


def as_user(target, user):
    """``target`` as ``user`` of its container would run, as docker exec -u does (the container's own user, from
    Config.User, when ``user`` is empty)."""
    if not user:
        return target
    uid, gid, home = _account(target["pid"], user)
    return dict(target, uid=uid, gid=gid, env=dict(target["env"], HOME=home))


def _inspect(name):
    """The target of container ``name``: its init's PID, the container id, and the environment and user `docker
    exec` gives a process in it (the image's Env, HOSTNAME, HOME; Config.User)."""
    result = subprocess.run(["docker", "inspect", "--type", "container", "--format",
                             "{{json .State}}\t{{json .Id}}\t{{json .Config}}", name],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AnsibleConnectionFailure(f"container {name}: docker inspect failed: {result.stderr.strip()}")
    state, cid, config = (json.loads(part) for part in result.stdout.split("\t", 2))
    if not state.get("Running") or not state.get("Pid"):
        raise AnsibleConnectionFailure(f"container {name} is not running")
    uid, gid, home = _account(state["Pid"], config.get("User"))
    environment = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    environment.setdefault("PATH", DEFAULT_PATH)
    environment.update(HOSTNAME=config.get("Hostname") or "", HOME=home)
    return {"pid": state["Pid"], "id": cid, "env": environment, "uid": uid, "gid": gid,
            "cgroups": _cgroup_files(state["Pid"], cid), "started": _started(state["Pid"])}


def _cgroup_files(pid, cid):
    """The cgroup.procs files of container ``cid``'s own cgroup in each hierarchy of this machine (from its init
    ``pid``'s cgroups, cut after the id: systemd as init moves itself into init.scope below it)."""
    files = []
    try:
        with open(f"/proc/{pid}/cgroup") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return files
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if cid not in path:
            continue
        path = path[:path.index(cid) + len(cid)]
        mounts = (["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] if not controllers
                  else [f"/sys/fs/cgroup/{controllers.replace('name=', '')}"])
        for mount in mounts:
            candidate = f"{mount}{path}/cgroup.procs"
            if os.path.exists(candidate):
                files.append(candidate)
                break
    return files


def join_cgroups(target):
    """A preexec_fn that moves the new process into the container's cgroups, as runc exec does: its CPU then
    counts as the container's, and tools that read their cgroup (the JVM's container support) find it inside
    the container's cgroup namespace. A hierarchy that refuses (a cgroup v2 inner node) is left as it is."""
    files = list(target.get("cgroups") or [])

    def enter():
        os.umask(0o022)
        for path in files:
            try:
                with open(path, "w") as handle:
                    handle.write(str(os.getpid()))
            except OSError:
                pass

    return enter


def _started(pid):
    """The start time of process ``pid`` (clock ticks since boot, /proc/<pid>/stat field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _is_alive(target):
    """Whether PID target['pid'] is still the init of container target['id']: the same process (its start time)
    in the container's cgroup (the cgroup path names the id). A restarted container has a new init."""
    try:
        with open(f"/proc/{target['pid']}/cgroup") as handle:
            in_container = target["id"] in handle.read()
    except OSError:
        return False
    return in_container and target.get("started") is not None and _started(target["pid"]) == target["started"]


def resolve(name):
    """The container's target (pid, id, env), from the cache when still valid, else from docker inspect."""
    path = os.path.join(CACHE, name.replace("/", "_"))
    try:
        with open(path) as handle:
            target = json.load(handle)
        if _is_alive(target):
            return target
    except (OSError, ValueError):
        pass
    target = _inspect(name)
    os.makedirs(CACHE, mode=0o700, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=CACHE, delete=False) as handle:
        json.dump(target, handle)
    os.replace(handle.name, path)
    return target


def command(target, argv):
    """The argv that runs ``argv`` (resolved inside the container) in the container's namespaces, as its user
    (Docker's Config.User; root when it has none)."""
    user = [f"--setuid={target['uid']}", f"--setgid={target['gid']}"] if target.get("uid") else []
    return ["nsenter", f"--target={target['pid']}", *NAMESPACES, *user, "--", *argv]


class Connection(ConnectionBase):
    """nsenter into a running container (see DOCUMENTATION)."""

    transport = "ksa_nsenter"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._target = None

    def _connect(self):
        if not self._connected:
            self._target = as_user(resolve(self.get_option("remote_addr")), self.get_option("remote_user"))
            display.vvv(f"ESTABLISH NSENTER CONNECTION TO PID {self._target['pid']}",
                        host=self.get_option("remote_addr"))
            self._connected = True
        return self

    def _run(self, argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE):
        self._connect()
        local = command(self._target, argv)
        display.vvv(f"EXEC {local}", host=self.get_option("remote_addr"))
        return subprocess.Popen([to_bytes(arg, errors="surrogate_or_strict") for arg in local], stdin=stdin,
                                stdout=stdout, stderr=subprocess.PIPE, env=self._target["env"],
                                preexec_fn=join_cgroups(self._target))

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if self.become and self.become.expect_prompt() and sudoable:
            raise AnsibleError("ksa_nsenter does not answer privilege escalation prompts (connect as root)")
        process = self._run([self._play_context.executable, "-c", cmd])
        stdout, stderr = process.communicate(in_data)
        return process.returncode, stdout, stderr

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv(f"PUT {in_path} TO {out_path}", host=self.get_option("remote_addr"))
        if not os.path.exists(to_bytes(in_path, errors="surrogate_or_strict")):
            raise AnsibleFileNotFound(f"file or module does not exist: {in_path}")
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            process = self._run(["dd", f"of={out_path}", f"bs={BUFSIZE}", "status=none"], stdin=source)
            stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise AnsibleError(f"failed to transfer {in_path} to {out_path}: {to_text(stdout)} {to_text(stderr)}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self.get_option("remote_addr"))
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as target:
            process = self._run(["dd", f"if={in_path}", f"bs={BUFSIZE}", "status=none"], stdout=target)
            _, stderr = process.communicate()
        if process.returncode != 0:
            raise AnsibleError(f"failed to fetch {in_path} to {out_path}: {to_text(stderr)}")

    def close(self):
        super().close()
        self._connected = False
