#!/usr/bin/python
"""Reconcile the cluster's topics with the declared ones through Kafka's own tools."""

DOCUMENTATION = r"""
module: kafka_topics
short_description: Create, grow, configure or delete the declared Kafka topics
description:
  - Reads the cluster's topics (C(kafka-topics.sh --describe)) and their overrides (C(kafka-configs.sh --describe
    --entity-type topics)) through O(bootstrap_server), then creates the declared topics that are missing,
    increases partitions, sets each declared config to its declared value, and deletes a topic only when
    its entry says C(state=absent). Topics and configs no entry names are left alone.
  - Refuses, before any change, what Kafka cannot do in place (fewer partitions than the topic has, another
    replication factor, a replication factor above the broker count), naming the topic and the fix.
  - Supports check mode (the plan is returned, nothing is run).
extends_documentation_fragment: kafka_stack.core.kafka_tool
options:
  topics:
    description: The declared topics, C([{name, partitions, replication_factor, configs, state}]).
    type: list
    elements: dict
    required: true
  broker_count:
    description: How many brokers the cluster has.
    type: int
    required: true
  default_partitions:
    description: Partitions of a new topic whose entry has none.
    type: int
    default: 1
  default_replication_factor:
    description: Replication factor of a new topic whose entry has none.
    type: int
    default: 1
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Reconcile the declared topics
  kafka_stack.core.kafka_topics:
    kafka_home: /opt/kafka
    bootstrap_server: broker1:9092
    broker_count: 3
    topics:
      - {name: orders, partitions: 6, replication_factor: 3, configs: {retention.ms: 604800000}}
      - {name: legacy, state: absent}
"""

RETURN = r"""
actions:
  description: What was run (or would be, in check mode), C({action, topic, ...}) each.
  type: list
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import (
    TOOL_ARGUMENT_SPEC, config_argument, parse_describe, parse_topic_configs, run_tool, topic_plan, topics_of)


def action_args(action):
    """Arguments of the tool run for one action, after ``--bootstrap-server``."""
    topic = action["topic"]
    if action["action"] == "create":
        args = ["kafka-topics.sh", "--create", "--topic", topic, "--partitions", str(action["partitions"]),
                "--replication-factor", str(action["replication_factor"])]
        for key, value in sorted(action["configs"].items()):
            args += ["--config", f"{key}={value}"]
        return args
    if action["action"] == "partitions":
        return ["kafka-topics.sh", "--alter", "--topic", topic, "--partitions", str(action["partitions"])]
    if action["action"] == "configs":
        return ["kafka-configs.sh", "--alter", "--entity-type", "topics", "--entity-name", topic,
                "--add-config", config_argument(action["configs"])]
    return ["kafka-topics.sh", "--delete", "--topic", topic]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            TOOL_ARGUMENT_SPEC,
            topics={"type": "list", "elements": "dict", "required": True},
            broker_count={"type": "int", "required": True},
            default_partitions={"type": "int", "default": 1},
            default_replication_factor={"type": "int", "default": 1},
        ),
        supports_check_mode=True,
    )
    params = module.params
    current = topics_of(parse_describe(run_tool(module, "kafka-topics.sh", "--describe")))
    configs = parse_topic_configs(run_tool(module, "kafka-configs.sh", "--describe", "--entity-type", "topics"))
    actions, problems = topic_plan(params["topics"], current, configs, params["broker_count"],
                                   params["default_partitions"], params["default_replication_factor"])
    if problems:
        module.fail_json(msg="declared topics Kafka cannot reach; no topic was changed: " + " ".join(problems),
                         problems=problems, actions=[])
    if not module.check_mode:
        for action in actions:
            run_tool(module, *action_args(action))
    module.exit_json(changed=bool(actions), actions=actions)


if __name__ == "__main__":
    main()
