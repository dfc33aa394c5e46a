#!/usr/bin/python
"""Wait until Kafka's partitions are fully replicated (the gate between two broker restarts)."""

DOCUMENTATION = r"""
module: kafka_replication_gate
short_description: Wait until every partition is fully replicated, and a broker back in its ISRs
description:
  - Asks the cluster with Kafka's own C(kafka-topics.sh --describe), through the listener given (the
    inter-broker listener, with the broker's own credentials in O(command_config) when SASL or TLS is on),
    until no partition is under-replicated or without a leader and, when O(broker_id) is given, that broker
    is in the ISR of every partition it holds a replica of.
  - Polls every O(interval) seconds for at most O(timeout) seconds, then fails naming the partitions that
    are still short of replicas (the first O(max_named)) and how many there are.
  - Read-only; supports check mode.
extends_documentation_fragment: kafka_stack.core.kafka_tool
options:
  broker_id:
    description: A broker that must be in the ISR of every partition it has a replica of; -1 for none.
    type: int
    default: -1
  tolerate_broker:
    description:
      - A broker whose own missing replicas are tolerated (-1 for none); the gate before that broker's restart
        uses it, since stopping it cannot take what it does not hold.
    type: int
    default: -1
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 300
  interval:
    description: Seconds between two asks.
    type: int
    default: 5
  max_named:
    description: How many partitions the failure message names at most.
    type: int
    default: 20
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Wait until broker 2 is back in every ISR and nothing is under-replicated
  kafka_stack.core.kafka_replication_gate:
    kafka_home: /opt/kafka
    bootstrap_server: broker2:9092
    broker_id: 2
    timeout: 300
"""

RETURN = r"""
partitions:
  description: How many partitions the cluster has.
  type: int
  returned: always
under_replicated:
  description: C(topic-partition) of each partition with fewer in-sync replicas than replicas, or no leader.
  type: list
  returned: always
not_in_isr:
  description: C(topic-partition) of each partition that has a replica on O(broker_id) outside its ISR.
  type: list
  returned: always
waited:
  description: Seconds waited.
  type: float
  returned: always
asks:
  description: How many times the cluster was asked.
  type: int
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import (
    TOOL_ARGUMENT_SPEC, parse_describe, tool_argv, tool_error, tool_run)

def replication_state(partitions, broker_id=-1, tolerate=-1):
    """``(under_replicated, not_in_isr)``: names of the partitions with fewer in-sync replicas than
    replicas (or no leader), and of those with a replica on ``broker_id`` that is not in the ISR. A
    replica of broker ``tolerate`` missing from an ISR (and a partition without a leader whose replicas
    are all on it) does not count as under-replicated."""
    under, missing = [], []
    for item in partitions:
        name = f"{item['topic']}-{item['partition']}"
        short = set(item["replicas"]) - set(item["isr"]) - {tolerate}
        leaderless = item["leader"] is None and set(item["replicas"]) - {tolerate}
        if short or leaderless:
            under.append(name)
        if broker_id >= 0 and broker_id in item["replicas"] and broker_id not in item["isr"]:
            missing.append(name)
    return under, missing

# Answers of Kafka's tools that no wait will change: the brokers' own login or TLS trust is refused.
_REFUSED = ("SaslAuthenticationException", "SslAuthenticationException", "SSLHandshakeException",
            "ClusterAuthorizationException", "TopicAuthorizationException")


def refusal(output):
    """The first line of the tool's output that says the login or TLS handshake was refused, or ''."""
    for text in output.splitlines():
        if any(marker in text for marker in _REFUSED):
            return text.strip()
    return ""


def failure_message(under, missing, broker_id, partitions, waited, max_named):
    def named(names):
        shown = ", ".join(names[:max_named])
        return shown + (f" and {len(names) - max_named} more" if len(names) > max_named else "")

    parts = [f"after {waited:.0f}s of {partitions} partitions"]
    if missing:
        parts.append(f"broker {broker_id} is not back in the ISR of {len(missing)}: {named(missing)}")
    if under:
        parts.append(f"{len(under)} under-replicated or without a leader: {named(under)}")
    return "; ".join(parts)

def main():
    module = AnsibleModule(
        argument_spec=dict(
            TOOL_ARGUMENT_SPEC,
            broker_id={"type": "int", "default": -1},
            tolerate_broker={"type": "int", "default": -1},
            timeout={"type": "int", "default": 300},
            interval={"type": "int", "default": 5},
            max_named={"type": "int", "default": 20},
        ),
        supports_check_mode=True,
    )
    params = module.params
    argv = tool_argv(params["kafka_home"], "kafka-topics.sh", params["bootstrap_server"], params["command_config"],
                     "--describe")

    start = time.monotonic()
    asks, last_error, under, missing, partitions = 0, "", [], [], []
    while True:
        asks += 1
        rc, out, err = tool_run(module, argv)
        if rc == 0:
            partitions = parse_describe(out)
            under, missing = replication_state(partitions, params["broker_id"], params["tolerate_broker"])
            last_error = ""
            if not under and not missing:
                break
        else:
            refused = refusal(err + out)
            if refused:  # no wait changes that: say so now
                message = (f"kafka-topics.sh on {params['bootstrap_server']} was refused with the brokers' own login "
                           f"(the inter-broker client properties): {refused[:600]}")
                module.fail_json(msg=message, changed=False, asks=asks, partitions=0, under_replicated=[],
                                 not_in_isr=[], waited=round(time.monotonic() - start, 1))
            last_error = tool_error(err or out) or f"exit code {rc}"
        if time.monotonic() - start + params["interval"] > params["timeout"]:
            break
        time.sleep(params["interval"])
    waited = round(time.monotonic() - start, 1)
    result = {"changed": False, "partitions": len(partitions), "under_replicated": under, "not_in_isr": missing,
              "waited": waited, "asks": asks}
    if last_error:
        module.fail_json(msg=f"kafka-topics.sh --describe on {params['bootstrap_server']} failed for {waited:.0f}s: "
                             f"{last_error}", **result)
    if under or missing:
        module.fail_json(msg=failure_message(under, missing, params["broker_id"], len(partitions), waited,
                                             params["max_named"]), **result)
    module.exit_json(**result)

if __name__ == "__main__":
    main()
