"""STAND-IN entrypoint (test double) with the environment rules of three Kafka images, then real Apache
Kafka (the test bed's repackaging of the Maven Central jars) with the properties file it wrote. Written from each image's documented behaviour (../shared/UPSTREAM-FACTS.md section D),
independently of the role's plugins/filter/container_env.py, so the Molecule tests check one against the
other.

bitnami (bitnamilegacy/kafka, libkafka.sh): KAFKA_CFG_<X> -> property: prefix dropped, "_" -> ".",
lowercased, then "sasl.ssl" -> "sasl_ssl", "sasl.plaintext" -> "sasl_plaintext" and
"zookeeper.clientcnxnsocket" -> "zookeeper.clientCnxnSocket". ZooKeeper mode when
KAFKA_CFG_ZOOKEEPER_CONNECT is set, KRaft when KAFKA_CFG_PROCESS_ROLES is; neither is an error.
Config: /opt/bitnami/kafka/config/server.properties; data /bitnami/kafka/data.

confluent (cp-kafka 7.9, configure + dub): KAFKA_ZOOKEEPER_CONNECT and KAFKA_ADVERTISED_LISTENERS are
required (ZooKeeper mode); KAFKA_LISTENERS is derived from the advertised listeners (host -> 0.0.0.0)
when unset; log.dirs defaults to /var/lib/kafka/data. KAFKA_<X> -> property: lowercased, "___" -> "-",
"__" -> "_", "_" -> "." (a few KAFKA_* variables are JVM settings, not properties).
Config: /etc/kafka/kafka.properties.

apache (apache/kafka, docker/jvm launch and common-scripts, KRaft only): KAFKA_<X> -> property as confluent's
rule (documented as "." -> "_", "_" -> "__", "-" -> "___", prefix KAFKA_); no KAFKA_ property at all: the
release's default config/server.properties. KAFKA_LISTENERS is derived from the advertised listeners when
unset. With KAFKA_PROCESS_ROLES set, the log dirs are formatted at every start with CLUSTER_ID (the image's
default id when unset), a dir already formatted left as it is. Config: /etc/kafka/kafka.properties.
"""

import os
import re
import subprocess
import sys

CONFLUENT_NOT_PROPERTIES = {"KAFKA_HEAP_OPTS", "KAFKA_OPTS", "KAFKA_JMX_OPTS", "KAFKA_JMX_PORT", "KAFKA_LOG4J_OPTS",
                            "KAFKA_LOG4J_ROOT_LOGLEVEL", "KAFKA_LOG4J_LOGGERS", "KAFKA_TOOLS_LOG4J_LOGLEVEL",
                            "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_VERSION"}


def die(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def bitnami(env):
    props = {}
    for name, value in env.items():
        if not name.startswith("KAFKA_CFG_"):
            continue
        key = name[len("KAFKA_CFG_"):].replace("_", ".").lower()
        key = key.replace("sasl.ssl", "sasl_ssl").replace("sasl.plaintext", "sasl_plaintext")
        key = key.replace("zookeeper.clientcnxnsocket", "zookeeper.clientCnxnSocket")
        props[key] = value
    if "zookeeper.connect" not in props and "process.roles" not in props:
        die("Kafka haven't been configured to work in either Raft or Zookeper mode. "
            "Please make sure at least one of the modes is configured.")
    if "process.roles" in props:
        die("bitnami image stand-in: KRaft mode (KAFKA_CFG_PROCESS_ROLES) is not emulated by this entrypoint")
    props.setdefault("log.dirs", "/bitnami/kafka/data")
    return props, "/opt/bitnami/kafka/config/server.properties"


def kafka_prefixed(env):
    """KAFKA_<X> -> property (cp-kafka's and apache/kafka's rule): lowercased, "___" -> "-", "__" -> "_",
    "_" -> "."; the JVM settings among the KAFKA_* variables are not properties."""
    props = {}
    for name, value in env.items():
        if not name.startswith("KAFKA_") or name in CONFLUENT_NOT_PROPERTIES:
            continue
        key = name[len("KAFKA_"):].lower().replace("___", "-").replace("__", "\0").replace("_", ".")
        props[key.replace("\0", "_")] = value
    return props


def confluent(env):
    for required in ("KAFKA_ZOOKEEPER_CONNECT", "KAFKA_ADVERTISED_LISTENERS"):
        if not env.get(required):
            die(f"{required} is required.")  # dub ensure
    props = kafka_prefixed(env)
    if "listeners" not in props:
        props["listeners"] = re.sub(r"://[^:,]*:", "://0.0.0.0:", props["advertised.listeners"])
    props.setdefault("log.dirs", "/var/lib/kafka/data")
    return props, "/etc/kafka/kafka.properties"


APACHE_DEFAULT_CLUSTER_ID = "5L6g3nShT-eMCtK--X86sw"  # the id the apache/kafka image uses when CLUSTER_ID is unset


def apache(env):
    props = kafka_prefixed(env)
    path = "/etc/kafka/kafka.properties"
    if not props:
        return None, "/opt/kafka/config/server.properties"
    if "listeners" not in props and "advertised.listeners" in props:
        props["listeners"] = re.sub(r"://[^:,]*:", "://0.0.0.0:", props["advertised.listeners"])
    return props, path


def apache_format(path, env):
    """The image's launch step: format the log dirs with CLUSTER_ID unless already formatted."""
    cluster_id = env.get("CLUSTER_ID") or APACHE_DEFAULT_CLUSTER_ID
    print(f"===> Using provided cluster id {cluster_id} ...", flush=True)
    done = subprocess.run(["/opt/kafka/bin/kafka-storage.sh", "format", f"--cluster-id={cluster_id}", "-c", path],
                          capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0 and "already formatted" not in output.lower():
        die(output)
    print(output, end="", flush=True)


def main():
    flavor = os.environ.get("STANDIN_FLAVOR", "")
    print(f"TEST DOUBLE: entrypoint of the {flavor} Kafka image reproduced by the test bed; the broker is real "
          "Apache Kafka (Maven Central jars, repackaged by the test bed)", file=sys.stderr, flush=True)
    props, path = {"bitnami": bitnami, "confluent": confluent, "apache": apache}[flavor](dict(os.environ))
    if props is not None:
        with open(path, "w") as out:
            out.write(f"# written by the {flavor} stand-in entrypoint from the environment\n")
            for key in sorted(props):
                out.write(f"{key}={props[key]}\n")
    if flavor == "apache" and os.environ.get("KAFKA_PROCESS_ROLES"):
        apache_format(path, os.environ)
    os.execv("/opt/kafka/bin/kafka-server-start.sh", ["kafka-server-start.sh", path])


if __name__ == "__main__":
    main()
