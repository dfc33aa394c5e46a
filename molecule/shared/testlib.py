"""Helpers for the verify tests: talk to the test bed's services only through 127.0.0.1."""

import contextlib
import functools
import importlib.util
import io
import json
import os
import re
import shlex
import socket
import subprocess
import tarfile
import time

import testinfra
import testinfra.backend.base
import testinfra.utils.ansible_runner

LOOPBACK = "127.0.0.1"


def runner():
    """testinfra's runner of the scenario's inventory, one per test session: ``ansible-inventory`` runs once,
    not for every host_var() (a test that changes the inventory's values runs its own playbook with -e)."""
    return testinfra.utils.ansible_runner.AnsibleRunner.get_runner(os.environ["MOLECULE_INVENTORY_FILE"])


# ---- the test bed's transport into its containers: nsenter (TEST DOUBLE of docker exec) --------------------
# Ansible reaches the containers through testbed/ansible_plugins/connection/ksa_nsenter.py (Molecule's
# configuration enables it); the tests' own commands in the containers go the same way: testinfra's hosts of
# that connection and in_container() below. Some 3 ms a command instead of some 80 ms of CPU for docker exec.
NSENTER_CONNECTION = "ksa_nsenter"


@functools.cache
def _nsenter():
    """The test bed's connection plugin as a module (resolve() and command() are shared with the tests)."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "testbed", "ansible_plugins", "connection",
                        "ksa_nsenter.py")
    spec = importlib.util.spec_from_file_location("ksa_nsenter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nsenter_run(name, argv, stdin=None, environment=None, user=""):
    """``argv`` run in container ``name`` through its namespaces, as ``user`` (as docker exec -u; the container's
    own user when empty); the CompletedProcess (bytes). ``environment`` is added to the container's own, never
    put in the argv."""
    transport = _nsenter()
    target = transport.as_user(transport.resolve(name), user)
    return subprocess.run(transport.command(target, list(argv)), input=stdin, capture_output=True,
                          env=dict(target["env"], **(environment or {})), preexec_fn=transport.join_cgroups(target),
                          check=False)


class NsenterBackend(testinfra.backend.base.BaseBackend):
    """testinfra's backend for the hosts of the ksa_nsenter connection (as its docker backend, by nsenter)."""

    NAME = "ksa-nsenter"

    def __init__(self, name, *args, **kwargs):
        self.name = name
        super().__init__(name, *args, **kwargs)

    def run(self, command, *args, **kwargs):
        cmd = self.get_command(command, *args)
        result = nsenter_run(self.name, ["/bin/sh", "-c", cmd])
        return self.result(result.returncode, self.encode(cmd), result.stdout, result.stderr)


def install_nsenter_backend():
    """Have testinfra's Ansible runner give the ksa_nsenter hosts the backend above (it knows only its own
    connection types and would otherwise run every command through an Ansible module)."""
    import testinfra.backend

    testinfra.backend.BACKENDS[NsenterBackend.NAME] = f"{__name__}.NsenterBackend"
    module = testinfra.utils.ansible_runner
    if getattr(module.get_ansible_host, "ksa_nsenter", False):
        return
    original = module.get_ansible_host

    def plain(value):
        """A value as ansible-inventory --list prints it: a variable from a vars plugin comes marked untrusted
        ({"__ansible_unsafe": value})."""
        return value.get("__ansible_unsafe") if isinstance(value, dict) else value

    def get_ansible_host(config, inventory, host, *args, **kwargs):
        hostvars = inventory.get("_meta", {}).get("hostvars", {}).get(host, {})
        if plain(hostvars.get("ansible_connection")) == NSENTER_CONNECTION:
            name = plain(hostvars.get("ansible_docker_host")) or plain(hostvars.get("ansible_host")) or host
            return testinfra.get_host(f"{NsenterBackend.NAME}://{name}")
        return original(config, inventory, host, *args, **kwargs)

    get_ansible_host.ksa_nsenter = True
    module.get_ansible_host = get_ansible_host


_PLAYBOOK_RUNS = []


def _playbook_log(path, args):
    """testbed/.cache/logs/<scenario>-<NN>-<playbook>[-<extra var values>].log: one file per playbook a test runs."""
    label = [os.path.splitext(os.path.basename(path))[0]]
    label += [arg.split("=", 1)[1] for arg in args if re.fullmatch(r"[a-z_]+=[\w.-]+", arg)]
    _PLAYBOOK_RUNS.append(path)
    name = "-".join([os.environ.get("MOLECULE_SCENARIO_NAME", "scenario"), f"{len(_PLAYBOOK_RUNS):02d}", *label])
    directory = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "testbed", ".cache", "logs")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, re.sub(r"[^\w.-]+", "_", name)[:120] + ".log")


def playbook(path, *args, timeout=600, inventory=None):
    """ansible-playbook ``path`` (relative to the project) on the scenario's inventory (or ``inventory``, a path
    relative to the project), with Molecule's ansible.cfg and the test bed's profile (testbed/vars/profile-testbed.yml)
    as Molecule's own runs; returns the CompletedProcess (stdout and stderr
    captured). Its output also goes, as it comes, to a log of its own (_playbook_log); past ``timeout`` seconds
    the run is killed and the test fails with the log's last lines."""
    import threading

    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")  # plain text: tests read the output
    inventory = (os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], inventory) if inventory
                 else os.environ["MOLECULE_INVENTORY_FILE"])
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    # the test bed's profile, as Molecule's own runs pass it (.config/molecule/config.yml)
    argv = ["ansible-playbook", "-i", inventory, os.path.join(project, path),
            "-e", f"@{os.path.join(project, 'testbed', 'vars', 'profile-testbed.yml')}", *args]
    log_path, lock = _playbook_log(path, args), threading.Lock()
    captured = {"stdout": [], "stderr": []}
    with open(log_path, "w") as log:
        log.write(f"# {shlex.join(argv)}\n")
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

        def tee(stream, kept):
            for line in stream:
                kept.append(line)
                with lock:
                    log.write(line)
                    log.flush()

        readers = [threading.Thread(target=tee, args=(process.stdout, captured["stdout"]), daemon=True),
                   threading.Thread(target=tee, args=(process.stderr, captured["stderr"]), daemon=True)]
        for reader in readers:
            reader.start()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            for reader in readers:
                reader.join(timeout=10)
            with open(log_path) as written:
                last = "".join(written.readlines()[-80:])
            raise AssertionError(f"{path} did not end within {timeout} s and was killed; its last lines "
                                 f"(whole output: {log_path}):\n{last}") from None
        for reader in readers:
            reader.join()
    return subprocess.CompletedProcess(argv, process.returncode, "".join(captured["stdout"]),
                                       "".join(captured["stderr"]))


def recap(output):
    """{host: changed count} from ansible-playbook's PLAY RECAP."""
    return {match.group(1): int(match.group(2))
            for match in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M)}


def _converge_kafka_ui(scenario, *extra):
    result = playbook(f"molecule/{scenario}/converge.yml", "--limit", "local-kafka-ui", "--tags", "kafka_ui", *extra)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@contextlib.contextmanager
def kafka_ui_converged_with(scenario, settings):
    """Re-run the scenario's converge for kafka-ui only with ``settings`` as extra vars, yield them, and
    converge the inventory's own settings back afterwards, whatever happened; a failed run fails the test."""
    try:
        _converge_kafka_ui(scenario, "-e", json.dumps(settings))
        yield settings
    finally:
        _converge_kafka_ui(scenario)


def host_var(name, var, default=None):
    return runner().get_variables(name).get(var, default)


def record_figures(scenario, figures):
    """Merge ``figures`` (measured by a test) into testbed/.cache/figures/<scenario>.json, which `make test`
    prints at its end: timings and record counts belong in the notes, not in assertions."""
    path = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "testbed", ".cache", "figures", f"{scenario}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    known = {}
    if os.path.exists(path):
        with open(path) as saved:
            known = json.load(saved)
    known.update(figures)
    with open(path, "w") as out:
        json.dump(known, out, indent=1, sort_keys=True)


def saved_before_change(name):
    """JSON a scenario's side_effect.yml saved in the ephemeral directory before changing the config."""
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], name)) as saved:
        return json.load(saved)


def restart_order_after_change(names, service, config_path, changed_line):
    """Assert every host has ``changed_line`` in ``config_path`` and restarted ``service`` after writing it;
    return the host names in the order their service (re)started."""
    started = {}
    for name in names:
        node = runner().get_host(name)
        assert changed_line in node.file(config_path).content_string, f"{name}: {changed_line} missing"
        changed_at = int(node.check_output(f"stat -c %Y {config_path}"))
        active_at = node.check_output(f"systemctl show -P ActiveEnterTimestamp --timestamp=unix {service}")
        assert int(active_at.lstrip("@")) >= changed_at, f"{name} was not restarted after the change"
        started[name] = int(node.check_output(f"systemctl show -P ActiveEnterTimestampMonotonic {service}"))
    return sorted(started, key=started.get)


def external_to_internal(in_client, external, internal, prefix):
    """Produce one record from this machine on ``external``; a consumer group in the client container
    on the Docker network must read it on ``internal``."""
    import uuid

    import kafka_client

    topic, value = f"{prefix}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    kafka_client.produce(external, topic, value)
    code, output = in_client("consume", internal, topic, value, f"group-{topic}")
    assert code == 0, output


def internal_to_external(in_client, external, internal, prefix):
    """Produce one record in the client container on ``internal``; this machine must read it on ``external``."""
    import uuid

    import kafka_client

    topic, value = f"{prefix}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    code, output = in_client("produce", internal, topic, value)
    assert code == 0, output
    assert kafka_client.consume(external, topic, value, f"group-{topic}")


def four_letter(port, command, timeout=5.0):
    """Send a ZooKeeper four-letter word to 127.0.0.1:port; '' when nothing answers."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
            sock.sendall(command.encode())
            chunks = []
            while data := sock.recv(65536):
                chunks.append(data)
    except OSError:
        return ""
    return b"".join(chunks).decode()


def mode(port):
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return ""


def wait_for(predicate, timeout=90.0, interval=1.0, what="condition"):
    """Poll predicate until it returns a truthy value; fail the test with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def put_files(name, dest, files):
    """Copy ``files`` ({name in ``dest``: local file or directory}) into container ``name`` under ``dest``."""
    import docker

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for arcname, path in files.items():
            tar.add(path, arcname=arcname)
    container = docker.from_env().containers.get(name)
    container.exec_run(["mkdir", "-p", dest])
    assert container.put_archive(dest, buffer.getvalue())
    return container


def client_container(name, files=None, security=None):
    """Container ``name`` of the scenario, given kafka-python and kafka_client.py under /opt/testclient,
    to act as "another container" on the Docker network. Returns a function running kafka_client.py.
    ``files`` ({name: local path}) are copied beside it; ``security`` (kafka-python settings) is passed
    as KAFKA_CLIENT_SECURITY."""
    import kafka as kafka_python

    import kafka_client

    put_files(name, "/opt/testclient", {"kafka": os.path.dirname(kafka_python.__file__),
                                        "kafka_client.py": kafka_client.__file__, **(files or {})})

    def run(*args):
        """(exit code, its standard output; with its standard error too when it failed)."""
        code, out, err = in_container(name, ["python3", "/opt/testclient/kafka_client.py", *args],
                                      environment={"PYTHONPATH": "/opt/testclient",
                                                   "KAFKA_CLIENT_SECURITY": json.dumps(security or {})})
        return code, out if code == 0 else out + err

    return run


# ---- independent clients: librdkafka's kcat and Kafka's own console tools ---------------------------

def kcat(*args, stdin=None, timeout=90):
    """Debian's kcat (librdkafka) on this machine; returns (exit code, stdout, stderr)."""
    result = subprocess.run(["kcat", *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def in_container(name, argv, stdin=None, environment=None, user=""):
    """Run ``argv`` in container ``name`` (as ``user``, as docker exec -u: the container's own user when empty;
    ``stdin`` fed to it); (exit code, stdout, stderr). Through the container's namespaces (nsenter_run), as
    Ansible's runs: not the SDK's exec_run, which now and then returns no output at all for a command that
    printed some (docker/docker-py#2042, #3332), nor docker exec (some 80 ms of CPU each). The environment goes
    to the process's environment, never in the argv."""
    result = nsenter_run(name, argv, stdin=None if stdin is None else stdin.encode(), environment=environment,
                         user=user)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")


def install_kcat(name):
    """Debian's kcat in container ``name`` ("another container" on the scenario's network)."""
    code, out, err = in_container(name, ["bash", "-c", "command -v kcat || (apt-get update -qq && "
                                         "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null)"])
    assert code == 0, out + err


def kafka_tools_from(name, dest):
    """Copy the Kafka release the role installed in container ``name`` (/opt/kafka) to ``dest`` on this
    machine and return its bin/ directory: Kafka's own console tools, run here with this machine's Java."""
    import docker

    container = docker.from_env().containers.get(name)
    code, out, err = in_container(name, ["readlink", "-f", "/opt/kafka"])
    assert code == 0 and out.strip(), (name, out, err)
    release = out.strip()
    stream, _ = container.get_archive(release)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        tar.extractall(dest, filter="tar")
    return os.path.join(dest, os.path.basename(release), "bin")


def _module_utils(name):
    """One of the collection's module_utils (plain Python), read from this checkout."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"kafka_stack_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Kafka's tools as the roles' modules run them (kafka_tools.TOOL_ENV: a small heap, the client JVM profile), as a
# dict and as shell assignments to put before a command.
TOOL_ENV = _module_utils("kafka_tools").TOOL_ENV
TOOL_ENV_SHELL = " ".join(f"{name}={shlex.quote(value)}" for name, value in TOOL_ENV.items())


def console_produce(bin_dir, bootstrap, topic, values, *extra):
    """Kafka's kafka-console-producer.sh: one record per value, acks=all."""
    result = subprocess.run([f"{bin_dir}/kafka-console-producer.sh", "--bootstrap-server", bootstrap, "--topic", topic,
                             "--producer-property", "acks=all", *extra], input="\n".join(values) + "\n",
                            capture_output=True, text=True, timeout=120, env=dict(os.environ, **TOOL_ENV))
    assert result.returncode == 0, result.stderr[-2000:]


def console_consume(bin_dir, bootstrap, topic, group, count, *extra):
    """Kafka's kafka-console-consumer.sh as a member of ``group``: the values of ``count`` records."""
    result = subprocess.run([f"{bin_dir}/kafka-console-consumer.sh", "--bootstrap-server", bootstrap, "--topic", topic,
                             "--group", group, "--from-beginning", "--max-messages", str(count),
                             "--timeout-ms", "60000", *extra],
                            capture_output=True, text=True, timeout=120, env=dict(os.environ, **TOOL_ENV))
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.splitlines()


def scram_client_properties(user, password, truststore="/etc/kafka/tls/truststore.pem"):
    """A Kafka client's properties for SASL_SSL + SCRAM-SHA-512, trusting a PEM truststore."""
    return ("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nssl.truststore.type=PEM\n"
            f"ssl.truststore.location={truststore}\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{user}" password="{password}";\n')


def kafka_tool_in(name, tool, properties, *args, stdin=None):
    """Kafka's ``tool`` (/opt/kafka/bin) in container ``name`` with the client ``properties`` (in a file
    that exists only for the call, 0600), ``stdin`` lines piped in; its standard output's lines."""
    option = {"kafka-console-producer.sh": "--producer.config", "kafka-console-consumer.sh": "--consumer.config"}.get(
        tool, "--command-config")
    feed = f"printf '%s\\n' {shlex.join(stdin)} | " if stdin else ""
    script = (f"umask 077; printf %s {shlex.quote(properties)} > /tmp/client.properties; {feed}"
              f"{TOOL_ENV_SHELL} /opt/kafka/bin/{tool} {shlex.join(args)} {option} /tmp/client.properties; "
              "status=$?; rm -f /tmp/client.properties; exit $status")
    code, out, err = in_container(name, ["bash", "-c", script])
    assert code == 0, err[-2000:]
    return out.splitlines()


SCRAM_REFUSED = "Authentication failed during authentication due to invalid credentials with SASL mechanism"


def broker_log_since(name, since):
    """The broker's journal (unit kafka) in container ``name`` from epoch second ``since`` on."""
    code, out, err = in_container(name, ["journalctl", "--unit", "kafka", "--since", f"@{int(since)}", "--no-pager",
                                         "--output", "cat"])
    assert code == 0, err
    return out


def broker_refused_login(name, since, mechanism="SCRAM-SHA-512"):
    """Kafka's own record of a refused SASL login since ``since``: kafka-python reports some refusals only as
    a closed connection (the broker closes it right after the error), so the broker's log is the witness."""
    def logged():
        return [line for line in broker_log_since(name, since).splitlines()
                if "Failed authentication with" in line and f"{SCRAM_REFUSED} {mechanism}" in line]
    return wait_for(logged, timeout=30, what=f"the broker's log to record the refused {mechanism} login")


class AckedProducer:
    """An idempotent acks=all kafka-python producer that keeps what the brokers acknowledged and what failed:
    ``send(values)`` paces the sends (``pause`` seconds apart) and waits for every answer."""

    def __init__(self, bootstrap, topic, **security):
        from kafka import KafkaProducer

        self.topic, self.acked, self.failed = topic, [], []
        self.last_acked_at = time.monotonic()
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                      retries=2147483647, request_timeout_ms=15000, delivery_timeout_ms=120000,
                                      max_block_ms=60000, **security)

    def send(self, values, pause=0.01):
        for value in values:
            future = self.producer.send(self.topic, value.encode())
            future.add_callback(lambda _, v=value: self._acked(v))
            future.add_errback(lambda error, v=value: self.failed.append((v, repr(error))))
            time.sleep(pause)
        self.producer.flush(timeout=120)

    def _acked(self, value):
        self.acked.append(value)
        self.last_acked_at = time.monotonic()

    def close(self):
        self.producer.close()


class LiveLoad:
    """An idempotent acks=all producer (one record each ``pause`` seconds, at most ``limit``) and a consumer
    ``group`` that commits after every poll, both running from start() until stop(); stop() waits until the group
    has read every acknowledged record. ``acked``, ``failed`` and ``read`` hold the values.

    The consumer behaves as an application's would: when its poll raises, or it reads nothing for ``stall``
    seconds while the producer's records keep being acknowledged (kafka-python can stall after broker restarts:
    dpkp/kafka-python#1477, #2605), it is closed and a new one joins the same group and resumes from the group's
    committed offsets. Each such restart is kept in ``restarts`` with its reason, for the figures. ``mark(label)``
    notes the counts at a point of the run (a phase's end), so a shortfall can be placed in time; ``unread()`` and
    ``diagnosis()`` say what the group still lacks after stop()."""

    def __init__(self, bootstrap, topic, group, limit, pause=0.02, stall=120.0, **security):
        import threading

        self.bootstrap, self.topic, self.group, self.limit, self.security = bootstrap, topic, group, limit, security
        self.pause, self.stall = pause, stall
        self.read, self.restarts, self.errors, self.marks, self.generation = [], [], [], [], 0
        self.started = self.last_read_at = time.monotonic()
        self.restart_requested = threading.Event()
        self.stop_producing, self.stop_consuming = threading.Event(), threading.Event()
        self.producer = AckedProducer(bootstrap, topic, **security)
        self.acked, self.failed = self.producer.acked, self.producer.failed
        self.producer_done = False
        self.threads = [threading.Thread(target=self._produce, daemon=True),
                        threading.Thread(target=self._consume, daemon=True)]

    def _elapsed(self):
        return round(time.monotonic() - self.started)

    def _produce(self):
        import itertools

        values = (f"load-{n}" for n in range(self.limit))
        self.producer.send(itertools.takewhile(lambda _: not self.stop_producing.is_set(), values), pause=self.pause)
        self.producer_done = True

    def _stalled(self):
        """No record read for ``stall`` seconds although records were acknowledged well after the last read."""
        now = time.monotonic()
        return (now - self.last_read_at > self.stall
                and self.producer.last_acked_at - self.last_read_at > self.stall / 2)

    def _consume(self):
        from kafka import KafkaConsumer

        while not self.stop_consuming.is_set():
            consumer = reason = None
            try:
                consumer = KafkaConsumer(self.topic, group_id=self.group, bootstrap_servers=self.bootstrap,
                                         auto_offset_reset="earliest", enable_auto_commit=False, **self.security)
                self.last_read_at = time.monotonic()
                self.generation += 1
                self.restart_requested.clear()  # a request to replace a consumer is for the one before
                while not self.stop_consuming.is_set() and reason is None:
                    batch = consumer.poll(timeout_ms=1000)
                    for records in batch.values():
                        self.read.extend(record.value.decode() for record in records)
                    if batch:
                        self.last_read_at = time.monotonic()
                        try:
                            consumer.commit()
                        except Exception as error:  # a rebalance during a restart: the next poll re-reads
                            self.errors.append((self._elapsed(), "commit: " + repr(error)[:200]))
                    elif self.restart_requested.is_set():
                        reason = "stop() found it behind the acknowledged records"
                    elif self._stalled():
                        reason = (f"read nothing for {time.monotonic() - self.last_read_at:.0f} s while records "
                                  "were acknowledged")
            except Exception as error:  # the application's consumer failed: a new one takes over the group
                reason = ("poll raised " if consumer else "no consumer started: ") + repr(error)[:200]
            finally:
                if consumer is not None:
                    consumer.close()
            if reason:
                self.restarts.append((self._elapsed(), len(self.read), reason))
                time.sleep(min(1.0, self.stall / 10))

    def start(self):
        for thread in self.threads:
            thread.start()

    def mark(self, label):
        """The counts at this point of the run: (label, seconds since start, acknowledged, read, restarts)."""
        self.marks.append((label, self._elapsed(), len(self.acked), len(self.read), len(self.restarts)))

    def unread(self):
        return set(self.acked) - set(self.read)

    def figures(self):
        """What the load measured, for record_figures: counts, consumer replacements and the counts at each mark."""
        return {"acknowledged_during": len(self.acked), "failed_during": len(self.failed),
                "live_group_read": len(self.read), "live_group_distinct": len(set(self.read)),
                "live_group_unread": len(self.unread()), "consumer_restarts": self.restarts,
                "counts_after_each_step": self.marks}

    def diagnosis(self):
        """What the group lacks, when it last read, and what happened to its consumers: for a failed check."""
        missing = sorted(self.unread(), key=lambda value: int(value.rsplit("-", 1)[1]))
        return (f"{len(missing)} of {len(self.acked)} acknowledged records unread by group {self.group} "
                f"(first {missing[:3]}, last {missing[-3:]}); last read {time.monotonic() - self.last_read_at:.0f} s "
                f"ago; consumer thread alive: {self.threads[1].is_alive()}; producer finished: {self.producer_done}; "
                f"restarts {self.restarts[-5:]}; errors {self.errors[-5:]}; marks {self.marks}")

    def stop(self, patience=600.0):
        """Stop producing, then wait for the group to read every acknowledged record: as long as it keeps reading
        (at most ``patience`` seconds), and once more after a consumer restart when it reads nothing for half the
        ``stall`` time. It does not raise: the tests compare ``acked`` with ``read`` and print ``diagnosis()``."""
        self.stop_producing.set()
        self.threads[0].join(timeout=180)
        self.producer.close()
        self.mark("stopped producing")
        wanted = set(self.acked)
        deadline, asked = time.monotonic() + patience, None
        while not wanted <= set(self.read) and time.monotonic() < deadline and self.threads[1].is_alive():
            if time.monotonic() - self.last_read_at > self.stall / 2:
                if asked is None:  # replace this consumer once
                    asked = self.generation
                    self.restart_requested.set()
                elif self.generation > asked:  # its successor read nothing either
                    break
            time.sleep(min(2.0, self.stall / 10))
        self.mark("stopped")
        self.stop_consuming.set()
        self.threads[1].join(timeout=60)
