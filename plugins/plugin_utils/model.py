"""One model of the stack, resolved from the inventory: what several roles need about the hosts of other
roles (ZooKeeper's members and connect string, the brokers and their listeners, their TLS material).

A host's value of a role variable is what the inventory sets for it (``hostvars``), else the role's
default from the collection's ``roles/<role>/defaults/main.yml``, templated for that host as Ansible would
(a default such as ``kafka_tls_pki_dir`` refers to ``inventory_dir`` and ``kafka_group_name``). So a role
learns another role's facts through this module, never by reading that role's files or repeating its
defaults. Controller-side (plugin_utils); used by the ``stack_model`` filter.
"""

import functools
import pathlib
from collections import ChainMap

import yaml

from ansible.errors import AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.kafka_stack.core.plugins.filter.kafka import kafka_brokers
from ansible_collections.kafka_stack.core.plugins.filter.container_env import container_volume_name
from ansible_collections.kafka_stack.core.plugins.filter.zookeeper import MEMBER_VARS, zookeeper_members
from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import TLS_PROTOCOLS

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"


@functools.lru_cache(maxsize=None)
def role_defaults(role):
    """The role's defaults/main.yml as data (templates left as strings)."""
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}


@functools.lru_cache(maxsize=None)
def _trusted_defaults(role):
    """The role's defaults as Ansible loads them: their templates may be rendered (once per role)."""
    return {key: trust_as_template(value) if isinstance(value, str) and "{{" in value else value
            for key, value in role_defaults(role).items()}


def _inventory_vars(hostvars, host):
    """What the inventory sets for ``host``, untemplated (Ansible's HostVars.raw_get), or a plain dict."""
    raw_get = getattr(hostvars, "raw_get", None)
    if raw_get is not None:
        return dict(raw_get(host))
    return dict(hostvars[host]) if host in hostvars else {}


class Host:
    """Resolves one host's role variables as the role would see them on that host: the inventory's
    value, else the role default templated with that host's variables.
    ``Host(hostvars, 'kafka', 'b1')['kafka_tls_pki_dir']``."""

    def __init__(self, hostvars, role, host):
        self.name = host
        self._inventory = _inventory_vars(hostvars, host)
        self._defaults = role_defaults(role)
        self._templar = Templar(loader=DataLoader(),
                                variables=ChainMap(self._inventory, _trusted_defaults(role)))

    def __getitem__(self, var):
        if var not in self._inventory and var not in self._defaults:
            raise KeyError(var)
        return self._templar.template(self._templar.available_variables[var])

    def get(self, var, default=None):
        try:
            return self[var]
        except KeyError:
            return default


def kafka_storage_targets(hosts, hostvars):
    """Where each Kafka node keeps its log dirs, as the kafka role sees it on that node: ``[{host, mode,
    volume, log_dirs}]``. In container mode, the data volume ``<kafka_container_volume_prefix>-data`` (every
    image flavour keeps its log dirs in the volume named ``data``) on the node's Docker host, whose mount
    point is read there; on hosts, ``kafka_log_dirs``."""
    targets = []
    for name in hosts or []:
        host = Host(hostvars, "kafka", name)
        container = host["kafka_deploy_mode"] == "container"
        targets.append({"host": name, "mode": "container" if container else "host",
                        "volume": container_volume_name(host["kafka_container_volume_prefix"], "data") if container
                        else "",
                        "log_dirs": [] if container else list(host["kafka_log_dirs"])})
    return targets


def storage_dirs(host, targets, volumes):
    """The log dirs of ``host`` to read on its machine: its ``kafka_log_dirs``, or in container mode the mount
    point of its data volume (``volumes``: docker_volume_info results looped over the container targets), none
    while the volume does not exist."""
    target = next((item for item in targets or [] if item["host"] == host), None)
    if target is None:
        return []
    if target["mode"] != "container":
        return target["log_dirs"]
    for result in volumes or []:
        if (result.get("item") or {}).get("host") == host and result.get("volume"):
            return [result["volume"]["Mountpoint"]]
    return []


def zookeeper_model(hosts, hostvars):
    """The ensemble: ``{members: [{host, id, address, client_port, quorum_port, election_port}]}`` in
    inventory order, as the zookeeper_members filter describes it from each member's resolved variables."""
    resolved = {}
    for name in hosts or []:
        host = Host(hostvars, "zookeeper", name)
        resolved[name] = {var: host.get(var) for var in MEMBER_VARS.values()}
    return {"members": zookeeper_members(list(resolved), resolved, {})}


def _ca_cert(host):
    """The CA certificate on the controller that signs the broker's certificate ("" when its variables do not
    resolve outside a play, e.g. no inventory_dir: pre-flight then reports the missing file)."""
    try:
        if host["kafka_tls_source"] == "provided":
            return host["kafka_tls_ca_cert_src"]
        return f"{host['kafka_tls_pki_dir']}/ca.crt"
    except AnsibleUndefinedVariable:
        return ""


def kafka_model(hosts, hostvars):
    """The brokers, in inventory order, each as the kafka_brokers filter describes it (``host, broker_id,
    advertised, protocols, mechanisms, inter_broker``) plus ``listeners``, ``tls_listeners`` (the names of
    the listeners whose protocol uses TLS) and ``ca_cert``: the CA certificate on the controller that signs
    the broker's certificate (its provided CA, else its internal CA's)."""
    resolved, extra = {}, {}
    for name in hosts or []:
        host = Host(hostvars, "kafka", name)
        listeners = host["kafka_listeners"]
        resolved[name] = {"kafka_listeners": listeners,
                          "kafka_inter_broker_listener_name": host["kafka_inter_broker_listener_name"]}
        if host.get("kafka_broker_id") is not None:
            resolved[name]["kafka_broker_id"] = host["kafka_broker_id"]
        extra[name] = {
            "listeners": listeners,
            "tls_listeners": [str(item.get("name")) for item in listeners or []
                              if isinstance(item, dict) and item.get("protocol") in TLS_PROTOCOLS],
            "ca_cert": _ca_cert(host)}
    brokers = kafka_brokers(list(resolved), resolved, {})
    return {"brokers": [dict(broker, **extra[broker["host"]]) for broker in brokers]}


def controller_model(hosts, hostvars):
    """The KRaft controllers, in inventory order: ``[{host, node_id, listener}]`` (``listener``: the host's
    kafka_controller_listener, ``node_id`` its kafka_broker_id)."""
    controllers = []
    for name in hosts or []:
        host = Host(hostvars, "kafka", name)
        controllers.append({"host": name, "node_id": host.get("kafka_broker_id"),
                            "listener": host.get("kafka_controller_listener") or {}})
    return controllers


def stack_model(groups, hostvars, zookeeper_group=None, kafka_group=None, controller_group=None):
    """What the roles share about the stack, from the inventory's groups and hostvars. The group names
    default to the roles' defaults (zookeeper_group_name, kafka_group_name, kafka_controller_group_name)."""
    zookeeper_group = zookeeper_group or role_defaults("zookeeper")["zookeeper_group_name"]
    kafka_group = kafka_group or role_defaults("kafka")["kafka_group_name"]
    controller_group = controller_group or role_defaults("kafka")["kafka_controller_group_name"]
    kafka = kafka_model(groups.get(kafka_group) or [], hostvars)
    kafka["controllers"] = controller_model(groups.get(controller_group) or [], hostvars)
    return {"groups": {"zookeeper": zookeeper_group, "kafka": kafka_group, "kafka_controller": controller_group},
            "zookeeper": zookeeper_model(groups.get(zookeeper_group) or [], hostvars),
            "kafka": kafka,
            "tls_protocols": list(TLS_PROTOCOLS)}
