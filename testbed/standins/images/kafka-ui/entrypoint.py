"""STAND-IN entrypoint (test double) of the kafka-ui image: binds environment variables to kafka-ui's
settings by Spring Boot's relaxed binding, writes them as the stand-in jar's application.yml and runs it
with kafka-ui's command line (`java --add-opens ... $JAVA_OPTS -jar /api.jar`).

Relaxed binding, as Spring Boot documents it for environment variables: the property path upper-cased,
"." and list brackets -> "_", "-" removed; so KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS binds
kafka.clusters[0].bootstrapServers. A Map<String, String> (a cluster's `properties`) takes the rest of
the name as its key, lowercased with "_" -> ".": KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL binds
properties["security.protocol"]. Only the settings the stand-in jar reads are bound; like Spring, other
variables are ignored. Written independently of the role's plugins/filter/container_env.py.
"""

import json
import os
import shlex
import sys

# The settings the stand-in jar reads, by their real names; "[]" is a list of such dicts, "{}" a string map.
SCHEMA = {
    "server": {"port": None, "address": None},
    "auth": {"type": None},
    "spring": {"security": {"user": {"name": None, "password": None}}},
    "kafka": {"clusters": [{"name": None, "bootstrapServers": None, "readOnly": None, "properties": {}}],
              "update-metrics-rate-millis": None},
    "dynamic": {"config": {"enabled": None, "path": None}},
}


def canonical(key):
    return key.replace("-", "").upper()


def bind(parts, schema, target, value):
    """Place ``value`` at the path ``parts`` (upper-case name pieces) names in ``schema``; False if none."""
    if isinstance(schema, list):
        if not parts or not parts[0].isdigit():
            return False
        index = int(parts[0])
        while len(target) <= index:
            target.append({})
        return bind(parts[1:], schema[0], target[index], value)
    if schema == {} and isinstance(target, dict):  # a string map: the rest of the name is the key
        if not parts:
            return False
        target[".".join(parts).lower()] = value
        return True
    for key, child in schema.items():
        if parts and canonical(key) == parts[0]:
            if child is None:
                if len(parts) != 1:
                    return False
                target[key] = value
                return True
            target.setdefault(key, [] if isinstance(child, list) else {})
            return bind(parts[1:], child, target[key], value)
    return False


def main():
    print("kafka-ui STAND-IN image (test double of the kafka-ui image; NOT kafka-ui)", file=sys.stderr, flush=True)
    config = {}
    for name, value in sorted(os.environ.items()):
        bind(name.split("_"), SCHEMA, config, value)
    path = "/etc/kafkaui/application-env.yml"
    with open(path, "w") as out:  # JSON strings are valid YAML double-quoted scalars
        write(out, config, 0)
    command = ["java", "--add-opens", "java.rmi/javax.rmi.ssl=ALL-UNNAMED", *shlex.split(os.environ.get("JAVA_OPTS", "")),
               f"-Dspring.config.additional-location={path}", "-jar", "/api.jar"]
    os.execvp("java", command)


def write(out, node, indent):
    pad = " " * indent
    for key, value in node.items():
        if isinstance(value, dict):
            out.write(f"{pad}{key}:\n")
            write(out, value, indent + 2)
        elif isinstance(value, list):
            out.write(f"{pad}{key}:\n")
            for item in value:
                lines = []
                write(_Lines(lines), item, 0)
                for number, line in enumerate(lines):
                    out.write(f"{pad}{'- ' if number == 0 else '  '}{line}")
        else:
            out.write(f"{pad}{key}: {json.dumps(value)}\n")


class _Lines:
    def __init__(self, lines):
        self.lines = lines

    def write(self, text):
        self.lines.append(text)


if __name__ == "__main__":
    main()
