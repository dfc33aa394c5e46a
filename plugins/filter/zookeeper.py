"""ZooKeeper data model: ensemble members from the inventory, and zoo.cfg as an ordered dict."""


from ansible.errors import AnsibleFilterError

from ansible_collections.kafka_stack.core.plugins.plugin_utils.render import jaas_file, render_value


# Role-default names per member setting, read from each member's hostvars when set there.
MEMBER_VARS = {
    "id": "zookeeper_id",
    "address": "zookeeper_address",
    "client_port": "zookeeper_client_port",
    "quorum_port": "zookeeper_quorum_port",
    "election_port": "zookeeper_election_port",
    "state": "zookeeper_state",
}


def zookeeper_members(hosts, hostvars, defaults):
    """Describe every host of the ZooKeeper group as a member dict, in inventory order.

    ``hostvars`` holds what the inventory sets for each host; role defaults are not part of another
    host's hostvars, so ``defaults`` (the calling host's role defaults) fills what a host leaves unset.
    A one-host group is a standalone server and gets id 1 unless its inventory says otherwise.
    """
    members = []
    for host in hosts or []:
        hv = hostvars[host]
        member = {"host": host}
        for key, var in MEMBER_VARS.items():
            value = hv[var] if var in hv else defaults.get(var)
            member[key] = value
        if member["id"] is None and len(hosts) == 1:
            member["id"] = 1
        if not member["address"]:
            member["address"] = host
        members.append(member)
    return members


def zookeeper_config(settings, members, extra=None):
    """Build zoo.cfg as an ordered dict of strings.

    ``settings`` carries the role's documented keys by their zoo.cfg names; ``members`` comes from
    :func:`zookeeper_members`. A single member means standalone mode (no ``server.N`` lines); with
    several, every member gets ``server.<id>=<address>:<quorum>:<election>;<client>`` in id order.
    ``extra`` (``zookeeper_config_extra``) overrides or adds keys last.
    """
    if not members:
        raise AnsibleFilterError("zookeeper_config: the zookeeper group has no hosts")
    config = {key: render_value(value, ", ") for key, value in sorted(settings.items())
              if value is not None and value != ""}
    if len(members) > 1:
        # Bind quorum and election ports on every interface: a host's own name may resolve to an
        # address other processes cannot reach (loopback in /etc/hosts, several NICs, containers).
        config["quorumListenOnAllIPs"] = "true"
        for member in sorted(members, key=lambda m: int(m["id"])):
            config[f"server.{int(member['id'])}"] = (
                f"{member['address']}:{member['quorum_port']}:{member['election_port']}"
                f";{member['client_port']}"
            )
    for key, value in (extra or {}).items():
        config[str(key)] = render_value(value, ", ")
    return config


def zookeeper_connect(members, chroot=""):
    """``host:port,host:port[/chroot]`` for clients such as Kafka's ``zookeeper.connect``.

    An empty group gives "" so that pre-flight can report it (Kafka's own rule on a missing
    ``zookeeper.connect``, and the cross-host rule naming the empty group).
    """
    if not members:
        return ""
    hosts = ",".join(f"{m['address']}:{m['client_port']}" for m in members)
    if chroot:
        chroot = "/" + chroot.strip("/")
    return hosts + (chroot or "")


def zookeeper_chroot_levels(chroot):
    """Every znode from the top down to ``chroot``: "/kafka/prod" -> ["/kafka", "/kafka/prod"]; "" -> []."""
    parts = [part for part in str(chroot or "").split("/") if part]
    return ["/" + "/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def zookeeper_server_jaas(users):
    """The ``Server`` JAAS section of a ZooKeeper server accepting ``users`` ({name: password}) by
    SASL DIGEST-MD5."""
    return jaas_file({"Server": {f"user_{name}": password for name, password in sorted((users or {}).items())}})


def zookeeper_client_jaas(username, password):
    """The ``Client`` JAAS section a ZooKeeper client (a Kafka broker) logs in with."""
    return jaas_file({"Client": {"username": username, "password": password}})


class FilterModule:
    """ZooKeeper filters."""

    def filters(self):
        return {
            "zookeeper_members": zookeeper_members,
            "zookeeper_config": zookeeper_config,
            "zookeeper_connect": zookeeper_connect,
            "zookeeper_chroot_levels": zookeeper_chroot_levels,
            "zookeeper_server_jaas": zookeeper_server_jaas,
            "zookeeper_client_jaas": zookeeper_client_jaas,
        }
