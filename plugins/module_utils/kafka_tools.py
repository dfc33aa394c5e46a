"""Kafka's own command-line tools, as the collection's modules run them on a broker host, and readers of
their output (kafka-topics.sh, kafka-configs.sh, kafka-acls.sh of Kafka 3.x).

Module-side (module_utils): imported as ``ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools``.
"""

import hashlib
import json
import os
import re
import shutil
import stat

# Each call of a tool is a short-lived JVM: a small heap, and the client profile (C1 compiler only, serial GC)
# instead of kafka-run-class.sh's server default (G1, C2), which costs about 40% more CPU for a tool's few
# seconds (kafka-metadata-quorum.sh describe --status: 4.5 s of CPU against 2.7 s, measured on Kafka 4.4.0).
# The same environment is kafka__tool_env in roles/kafka/vars/main.yml, for the tools the tasks run.
TOOL_ENV = {"KAFKA_HEAP_OPTS": "-Xmx256m",
            "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true"}
_CONFIG_LINE = re.compile(r"^\s+([A-Za-z0-9._-]+)=(.*?) sensitive=(?:true|false) synonyms=\{.*\}$")
_TOPIC_HEADER = re.compile(r"^(?:Dynamic configs|All configs) for topic (\S+) are:$")
_ACL_RESOURCE = re.compile(r"ResourcePattern\(resourceType=(\w+), name=(.*), patternType=(\w+)\)")
_ACL_ENTRY = re.compile(r"\(principal=(.*), host=(.*), operation=(\w+), permissionType=(\w+)\)")


# The options of doc fragment kafka_stack.core.kafka_tool.
TOOL_ARGUMENT_SPEC = {
    "kafka_home": {"type": "path", "required": True},
    "bootstrap_server": {"type": "str", "required": True},
    "command_config": {"type": "path", "default": ""},
}


def tool_error(text, limit=600):
    """A failed tool's last words without its Java stack frames: a stack trace's tail names no cause, its
    exception lines do (``...Exception: Authentication failed ...``)."""
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.lstrip().startswith("at ")
             and not line.lstrip().startswith("... ")]
    return "\n".join(lines)[-limit:]


def tool_argv(kafka_home, tool, bootstrap_server, command_config, *args):
    """argv of ``<kafka_home>/bin/<tool>`` on ``bootstrap_server`` with the client properties file."""
    argv = [f"{kafka_home}/bin/{tool}", "--bootstrap-server", bootstrap_server]
    if command_config:
        argv += ["--command-config", command_config]
    return argv + list(args)


# The options of doc fragment kafka_stack.core.controller_tool.
CONTROLLER_TOOL_ARGUMENT_SPEC = {
    "kafka_home": {"type": "path", "required": True},
    "bootstrap_controller": {"type": "str", "required": True},
    "command_config": {"type": "path", "default": ""},
}


def controller_tool_argv(params, tool, *args):
    """argv of ``<kafka_home>/bin/<tool>`` on the controllers (``--bootstrap-controller``) with the controller
    listener's client properties, from a module's controller_tool options."""
    argv = [f"{params['kafka_home']}/bin/{tool}", "--bootstrap-controller", params["bootstrap_controller"]]
    if params["command_config"]:
        argv += ["--command-config", params["command_config"]]
    return argv + list(args)


def login_refused(said):
    """Whether a tool's last words are a refused login or TLS handshake: waiting does not heal those."""
    return "SaslAuthenticationException" in said or "SSLHandshakeException" in said


# Class-data sharing (CDS) for the tools: the first tool run on a host writes the classes it loaded to an archive
# (-XX:ArchiveClassesAtExit), every later one maps it (-XX:SharedArchiveFile) and starts on about half the CPU
# (kafka-metadata-quorum.sh describe --status: 0.9 s of CPU instead of 1.6 s, kafka-topics.sh, kafka-configs.sh
# and kafka-acls.sh alike with the same archive; measured on Kafka 4.4.0 and Java 21); Kafka's own Docker image
# ships such archives. One archive per Kafka installation and JVM (its name hashes both: an upgrade of either
# starts a new one; the JVM checks the archive again and ignores one that does not match), in a directory only
# the user running the tools may write (an archive is code the JVM loads): CDS_DIR, or the directory in the
# module's environment variable KAFKA_STACK_TOOLS_CDS_DIR; empty turns CDS off. The JVM's own warnings go to
# standard error and the CDS ones are silenced: the tools' standard output is parsed.
CDS_DIR = "/var/cache/kafka-stack/cds"
CDS_KEEP = 2  # archives kept: the installation in use and the one before it (an upgrade in progress)
JVM_LOG = "-Xlog:disable -Xlog:all=warning,cds*=error:stderr"


def _java_identity(environ):
    """What identifies the JVM kafka-run-class.sh starts ($JAVA_HOME/bin/java, else java on the PATH): the
    path, size and time of its libjvm.so; None without one."""
    java = os.path.join(environ["JAVA_HOME"], "bin", "java") if environ.get("JAVA_HOME") else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    real = os.path.realpath(java)
    libjvm = os.path.join(os.path.dirname(os.path.dirname(real)), "lib", "server", "libjvm.so")
    found = os.stat(libjvm if os.path.exists(libjvm) else real)
    return f"{real}:{found.st_size}:{found.st_mtime_ns}"


def _private_dir(path):
    """``path`` (created 0700 if missing) when only this user can write it and its parent; else None."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        checks = [os.lstat(path), os.lstat(os.path.dirname(os.path.abspath(path)))]
    except OSError:
        return None
    for found in checks:
        if not stat.S_ISDIR(found.st_mode) or found.st_uid not in (os.geteuid(), 0) or found.st_mode & 0o022:
            return None
    return path


def cds_plan(kafka_home, environ=None):
    """(JVM options, archive being written or None, archive path or None) for a tool of ``kafka_home``."""
    environ = os.environ if environ is None else environ
    directory = environ.get("KAFKA_STACK_TOOLS_CDS_DIR", CDS_DIR)
    java = _java_identity(environ) if directory else None
    if not java or not _private_dir(directory):
        return "", None, None
    key = hashlib.sha256(f"{os.path.realpath(kafka_home)}\n{java}".encode()).hexdigest()[:20]
    archive = os.path.join(directory, f"{key}.jsa")
    if os.path.isfile(archive):
        return f"-XX:SharedArchiveFile={archive}", None, archive
    writing = f"{archive}.{os.getpid()}.tmp"
    return f"-XX:ArchiveClassesAtExit={writing}", writing, archive


def _cds_done(writing, archive, rc):
    """Put the archive a successful run wrote in place (atomically: a tool started meanwhile maps a whole one or
    none); keep only the CDS_KEEP newest."""
    if not writing:
        return
    try:
        if rc == 0 and os.path.isfile(writing):
            os.replace(writing, archive)
        elif os.path.exists(writing):
            os.remove(writing)
        directory = os.path.dirname(archive)
        archives = sorted((entry for entry in os.scandir(directory) if entry.name.endswith(".jsa")),
                          key=lambda entry: entry.stat().st_mtime, reverse=True)
        for entry in archives[CDS_KEEP:]:
            os.remove(entry.path)
    except OSError:
        pass


def tool_run(module, argv):
    """Run Kafka's tool ``argv`` (``<kafka_home>/bin/<tool> ...``) as the modules do: TOOL_ENV, and CDS
    (cds_plan). Returns (rc, stdout, stderr)."""
    kafka_home = os.path.dirname(os.path.dirname(argv[0]))
    options, writing, archive = cds_plan(kafka_home)
    environ = dict(TOOL_ENV)
    environ["KAFKA_JVM_PERFORMANCE_OPTS"] = " ".join(part for part in (TOOL_ENV["KAFKA_JVM_PERFORMANCE_OPTS"],
                                                                        JVM_LOG, options) if part)
    rc, out, err = module.run_command(argv, environ_update=environ)
    _cds_done(writing, archive, rc)
    return rc, out, err


def run_tool(module, tool, *args):
    """Run ``tool`` with the module's kafka_tool options; its standard output, or fail the module with the
    tool's last words."""
    params = module.params
    argv = tool_argv(params["kafka_home"], tool, params["bootstrap_server"], params["command_config"], *args)
    rc, out, err = tool_run(module, argv)
    if rc != 0:
        module.fail_json(msg=f"{tool} {' '.join(args[:4])} failed: {tool_error(err or out, 1500)}")
    return out


def _ids(text):
    return [int(item) for item in str(text).split(",") if item.strip().lstrip("-").isdigit()]


def parse_describe(output):
    """The partition lines of ``kafka-topics.sh --describe``: ``[{topic, partition, leader, replicas, isr}]``.

    Each partition line is tab-separated ``Key: value`` fields (``Topic``, ``Partition``, ``Leader``,
    ``Replicas``, ``Isr`` and, from Kafka 3.7 on, ``Elr``/``LastKnownElr``); the topic lines carry
    ``PartitionCount`` instead of ``Partition`` and are skipped. A partition without a leader shows
    ``none`` or ``-1`` and gets ``leader`` None.
    """
    partitions = []
    for line in output.splitlines():
        fields = {}
        for field in line.strip().split("\t"):
            key, sep, value = field.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "Partition" not in fields or "Topic" not in fields:
            continue
        leader = fields.get("Leader", "")
        partitions.append({
            "topic": fields["Topic"],
            "partition": int(fields["Partition"]),
            "leader": int(leader) if leader.lstrip("-").isdigit() and int(leader) >= 0 else None,
            "replicas": _ids(fields.get("Replicas", "")),
            "isr": _ids(fields.get("Isr", "")),
        })
    return partitions


def topics_of(partitions):
    """``{topic: {partitions, replication_factor}}`` from parse_describe's partitions."""
    topics = {}
    for item in partitions:
        entry = topics.setdefault(item["topic"], {"partitions": 0, "replication_factor": 0})
        entry["partitions"] += 1
        entry["replication_factor"] = max(entry["replication_factor"], len(item["replicas"]))
    return topics


def parse_topic_configs(output):
    """``{topic: {key: value}}`` from ``kafka-configs.sh --describe --entity-type topics`` (the dynamic
    overrides of every topic; a topic without any has an empty dict)."""
    configs, topic = {}, None
    for line in output.splitlines():
        header = _TOPIC_HEADER.match(line.strip())
        if header:
            topic = header.group(1)
            configs[topic] = {}
            continue
        entry = _CONFIG_LINE.match(line)
        if entry and topic is not None:
            configs[topic][entry.group(1)] = entry.group(2)
    return configs


def parse_acls(output):
    """The ACL bindings ``kafka-acls.sh --list`` prints, as tuples
    ``(resource_type, resource_name, pattern_type, principal, host, operation, permission)``, upper-case
    types as Kafka prints them (``TOPIC``, ``LITERAL``, ``READ``, ``ALLOW``)."""
    bindings, resource = set(), None
    for line in output.splitlines():
        found = _ACL_RESOURCE.search(line)
        if found:
            resource = (found.group(1), found.group(2), found.group(3))
            continue
        entry = _ACL_ENTRY.search(line)
        if entry and resource:
            bindings.add(resource + (entry.group(1), entry.group(2), entry.group(3), entry.group(4)))
    return bindings


def render_config_value(value):
    """A config value as kafka-configs.sh's ``--add-config`` takes it: booleans in lower case, lists joined
    with commas and bracketed (``[a,b]``), as is any value holding a comma."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(item) for item in value)
    return str(value)


def config_argument(configs):
    """The ``--add-config`` argument for ``{key: value}``."""
    parts = []
    for key, value in sorted(configs.items()):
        text = render_config_value(value)
        parts.append(f"{key}=[{text}]" if "," in text else f"{key}={text}")
    return ",".join(parts)


def topic_plan(declared, current, current_configs, broker_count, default_partitions, default_replication_factor):
    """What reconciling ``declared`` topics with the cluster takes, and what cannot be done.

    ``declared``: ``[{name, partitions?, replication_factor?, configs?, state?}]``; ``current``:
    topics_of(); ``current_configs``: parse_topic_configs(). Returns ``(actions, problems)``: actions are
    ``{action: create|partitions|configs|delete, topic, ...}`` in the order to run them; problems are
    sentences naming the topic and the fix, and none of the actions may run when there is one.
    """
    actions, problems = [], []
    for index, topic in enumerate(declared):
        name = topic["name"]
        where = f"kafka_topics[{index}] ({name})"
        if topic.get("state", "present") == "absent":
            if name in current:
                actions.append({"action": "delete", "topic": name})
            continue
        partitions = int(topic.get("partitions") or default_partitions)
        replication = int(topic.get("replication_factor") or default_replication_factor)
        configs = {key: render_config_value(value) for key, value in (topic.get("configs") or {}).items()}
        if replication > broker_count:
            problems.append(f"{where}: replication_factor {replication} is more than the {broker_count} brokers. "
                            f"Fix: set it to {broker_count} or fewer.")
            continue
        if name not in current:
            actions.append({"action": "create", "topic": name, "partitions": partitions,
                            "replication_factor": replication, "configs": configs})
            continue
        have = current[name]
        if partitions < have["partitions"]:
            problems.append(f"{where}: partitions {partitions} is fewer than the {have['partitions']} the topic has; "
                            f"Kafka cannot remove partitions. Fix: set partitions to {have['partitions']} or more.")
        elif partitions > have["partitions"]:
            actions.append({"action": "partitions", "topic": name, "partitions": partitions,
                            "from": have["partitions"]})
        if replication != have["replication_factor"]:
            problems.append(f"{where}: replication_factor {replication} differs from the topic's "
                            f"{have['replication_factor']}; changing it needs a partition reassignment, which the role "
                            f"does not do. Fix: set replication_factor to {have['replication_factor']}, or reassign "
                            "with kafka-reassign-partitions.sh first.")
        changed = {key: value for key, value in configs.items()
                   if (current_configs.get(name) or {}).get(key) != value}
        if changed:
            actions.append({"action": "configs", "topic": name, "configs": changed})
    return actions, problems


def acl_binding(acl):
    """The bindings one declared ACL entry stands for (one per operation), in parse_acls' form."""
    resource_type = str(acl.get("resource_type", "topic")).upper()
    name = "kafka-cluster" if resource_type == "CLUSTER" else str(acl.get("resource_name", ""))
    pattern = str(acl.get("pattern_type", "literal")).upper()
    permission = str(acl.get("permission", "allow")).upper()
    host = str(acl.get("host", "*"))
    return {(resource_type, name, pattern, str(acl["principal"]), host, operation_name(op), permission)
            for op in acl.get("operations") or []}


def operation_name(operation):
    """An ACL operation as Kafka prints it: ``IdempotentWrite`` or ``idempotent_write`` → ``IDEMPOTENT_WRITE``."""
    text = str(operation).replace("-", "_")
    return (text if "_" in text else re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text)).upper()


_RESOURCE_OPTION = {"TOPIC": "--topic", "GROUP": "--group", "TRANSACTIONAL_ID": "--transactional-id",
                    "CLUSTER": "--cluster", "DELEGATION_TOKEN": "--delegation-token"}


def acl_arguments(bindings):
    """kafka-acls.sh arguments (without --add or --remove), one list per principal, host, permission and
    resource, naming all the operations of ``bindings`` on it: one run of the tool each."""
    grouped = {}
    for resource_type, name, pattern, principal, host, operation, permission in sorted(bindings):
        grouped.setdefault((resource_type, name, pattern, principal, host, permission), []).append(operation)
    commands = []
    for (resource_type, name, pattern, principal, host, permission), operations in grouped.items():
        kind = "allow" if permission == "ALLOW" else "deny"
        args = [f"--{kind}-principal", principal, f"--{kind}-host", host]
        for operation in operations:
            args += ["--operation", "".join(part.capitalize() for part in operation.split("_"))]
        args += ["--resource-pattern-type", pattern.lower()]
        option = _RESOURCE_OPTION[resource_type]
        commands.append(args + ([option] if resource_type == "CLUSTER" else [option, name]))
    return commands


def acl_plan(declared, current):
    """``(add, remove)``: the bindings of entries ``state: present`` that the cluster lacks, and those of
    entries ``state: absent`` that it has. Bindings no entry names are left alone."""
    wanted, unwanted = set(), set()
    for acl in declared:
        (unwanted if acl.get("state", "present") == "absent" else wanted).update(acl_binding(acl))
    return sorted(wanted - current), sorted(unwanted & current)


# KRaft: kafka-metadata-quorum.sh describe --replication, kafka-broker-api-versions.sh.
_API_VERSIONS_NODE = re.compile(r"^\S+ \(id: (-?\d+) rack: \S+(?: isFenced: (true|false))?\) -> \($")


def parse_quorum_replication(output):
    """``describe --replication``: ``[{node_id, directory_id, log_end_offset, lag, status}]`` (status Leader,
    Follower or Observer), one per line of its tab-separated table."""
    rows = []
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return rows
    header = [cell.strip() for cell in lines[0].split("\t")]
    for line in lines[1:]:
        cells = dict(zip(header, (cell.strip() for cell in line.split("\t"))))
        if not cells.get("NodeId", "").lstrip("-").isdigit():
            continue
        lag = cells.get("Lag", "")
        rows.append({"node_id": int(cells["NodeId"]), "directory_id": cells.get("DirectoryId", ""),
                     "log_end_offset": int(cells["LogEndOffset"]) if cells.get("LogEndOffset", "").isdigit() else None,
                     "lag": int(lag) if lag.lstrip("-").isdigit() else None, "status": cells.get("Status", "")})
    return rows


def status_from_replication(replication):
    """What ``describe --status`` says that ``--replication`` shows too (both print one DescribeQuorum answer, as
    Kafka's MetadataQuorumCommand does: the Leader row is the voter whose id is the leader's, Follower rows the
    other voters, Observer rows the observers): the leader, the voters and the observers, as
    {leader_id, voters: [{id}], observers: [{id}]}, for quorum_problems and the callers of kafka_quorum."""
    leaders = [row["node_id"] for row in replication if row["status"] == "Leader"]
    return {"leader_id": leaders[0] if leaders else None,
            "voters": [{"id": row["node_id"]} for row in replication if row["status"] in ("Leader", "Follower")],
            "observers": [{"id": row["node_id"]} for row in replication if row["status"] == "Observer"]}


def parse_api_versions_nodes(output):
    """The nodes ``kafka-broker-api-versions.sh`` lists (the brokers the cluster knows): ``{id: fenced}``,
    ``fenced`` None where the release does not say (3.x)."""
    nodes = {}
    for line in output.splitlines():
        match = _API_VERSIONS_NODE.match(line.strip())
        if match:
            nodes[int(match.group(1))] = None if match.group(2) is None else match.group(2) == "true"
    return nodes


def quorum_problems(status, replication, node_id=None, part="", max_lag=0, tolerate=None):
    """What keeps the quorum from being healthy, as sentences (empty when it is): a leader, every voter
    caught up (lag at most ``max_lag``; ``tolerate``: a node whose lag is forgiven, the one about to go
    down), and node ``node_id`` in it as a ``voter``, an ``observer`` or ``either`` (``part``), caught up too."""
    problems = []
    if status.get("leader_id") is None or status["leader_id"] < 0:
        problems.append("the quorum has no leader")
    voters = {voter["id"] for voter in status.get("voters", [])}
    lags = {row["node_id"]: row for row in replication}
    for voter in sorted(voters):
        if voter == tolerate:
            continue
        row = lags.get(voter)
        if row is None or row["lag"] is None or row["lag"] > max_lag:
            problems.append(f"voter {voter} is not caught up (lag {row['lag'] if row else 'unknown'})")
    if node_id is not None and part:
        present = {"voter": node_id in voters, "observer": node_id in lags and node_id not in voters,
                   "either": node_id in lags}[part]
        if not present:
            problems.append(f"node {node_id} is not {'in' if part == 'either' else 'a ' + part + ' of'} the quorum")
        elif part != "voter" and (lags[node_id]["lag"] is None or lags[node_id]["lag"] > max_lag):
            problems.append(f"node {node_id} is not caught up (lag {lags[node_id]['lag']})")
    return problems


def parse_features(output):
    """``kafka-features.sh describe``: ``{feature: {min, max, finalized, epoch}}``, one line per feature of
    ``Key: value`` fields (``Feature: metadata.version  SupportedMinVersion: 3.3-IV3  SupportedMaxVersion: 4.4-IV2
    FinalizedVersionLevel: 3.9-IV0  Epoch: 5``), tab-separated in Kafka 3.x and padded with spaces in 4.x;
    metadata.version's levels are names, the others numbers."""
    features = {}
    for line in output.splitlines():
        fields = dict(re.findall(r"(\w+):\s+(\S+)", line))
        if line.startswith("Feature:") and fields.get("Feature"):
            features[fields["Feature"]] = {"min": fields.get("SupportedMinVersion", ""),
                                           "max": fields.get("SupportedMaxVersion", ""),
                                           "finalized": fields.get("FinalizedVersionLevel", ""),
                                           "epoch": fields.get("Epoch", "")}
    return features


def metadata_version_key(name):
    """A metadata.version name as a sortable tuple: ``3.9-IV0`` → (3, 9, 0), ``4.4`` → (4, 4, 0); None when it is
    none (``UNKNOWN 40``, ``0``)."""
    match = re.match(r"^(\d+)\.(\d+)(?:-IV(\d+))?$", str(name or "").strip())
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)) if match else None


def parse_version_mapping(output, feature="metadata.version"):
    """``kafka-features.sh version-mapping`` (Kafka 4.x): the level of ``feature`` (``metadata.version=33
    (4.4-IV2)`` → 33), None when the output has no such line."""
    match = re.search(rf"^{re.escape(feature)}=(\d+)\b", output, re.M)
    return int(match.group(1)) if match else None
