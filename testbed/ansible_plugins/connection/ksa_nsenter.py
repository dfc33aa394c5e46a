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
  - This connection runs the same command in the same container by entering its namespaces (mount, UTS, IPC,
    network, PID) with util-linux's C(nsenter), as root on the Docker host, for some 3 ms. What the module sees
    is the container's file system, hostname, network and process tree, as over C(docker exec); the differences
    are those of a real server's root, not a container's (every capability, the host's resource limits), and the
    processes started are not in the container's cgroup (their CPU counts as the controller's).
  - The container's init PID comes from C(docker inspect) once per container and is cached on this machine,
    checked against the container id in the PID's cgroup before each use (a recreated container is looked up
    again). Root on the Docker host only, and only containers with systemd (or any init) as PID 1.
options:
  remote_addr:
    description: The name of the container.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_docker_host
  remote_user:
    description: The user inside the container; root only (the test bed connects as root).
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

NAMESPACES = ("--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd")  # root and cwd: the init's
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CACHE = os.path.join(tempfile.gettempdir(), f"ksa-nsenter-{os.getuid()}")
BUFSIZE = 65536


def _inspect(name):
    """(init PID, container id, the environment `docker exec` gives a root process) of container ``name``."""
    result = subprocess.run(["docker", "inspect", "--type", "container", "--format",
                             "{{json .State}} {{json .Id}} {{json .Config.Env}} {{json .Config.Hostname}}", name],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AnsibleConnectionFailure(f"container {name}: docker inspect failed: {result.stderr.strip()}")
    state, cid, env, hostname = (json.loads(part) for part in result.stdout.split(" ", 3))
    if not state.get("Running") or not state.get("Pid"):
        raise AnsibleConnectionFailure(f"container {name} is not running")
    environment = dict(item.split("=", 1) for item in env or [] if "=" in item)
    environment.setdefault("PATH", DEFAULT_PATH)
    environment.update(HOSTNAME=hostname, HOME="/root")
    return {"pid": state["Pid"], "id": cid, "env": environment, "started": _started(state["Pid"])}


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
    """The argv that runs ``argv`` (resolved inside the container) in the container's namespaces."""
    return ["nsenter", f"--target={target['pid']}", *NAMESPACES, "--", *argv]


class Connection(ConnectionBase):
    """nsenter into a running container (see DOCUMENTATION)."""

    transport = "ksa_nsenter"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._target = None

    def _connect(self):
        if not self._connected:
            user = self.get_option("remote_user")
            if user not in (None, "", "root"):
                raise AnsibleConnectionFailure(f"ksa_nsenter connects as root only, not as {user}")
            self._target = resolve(self.get_option("remote_addr"))
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
                                preexec_fn=lambda: os.umask(0o022))

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
