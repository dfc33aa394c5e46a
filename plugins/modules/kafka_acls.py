#!/usr/bin/python
"""Reconcile the cluster's ACLs with the declared ones through Kafka's kafka-acls.sh."""

DOCUMENTATION = r"""
module: kafka_acls
short_description: Add the declared Kafka ACLs, remove those declared absent
description:
  - Lists the cluster's ACL bindings (C(kafka-acls.sh --list)) through O(bootstrap_server), adds each
    binding of an entry with C(state=present) (one per operation) that the cluster lacks, and removes each
    binding of an entry with C(state=absent) that it has. Bindings no entry names are left alone.
  - The brokers need an authorizer (C(authorizer.class.name)); the kafka role's pre-flight checks it.
  - Supports check mode.
options:
  kafka_home:
    description: The Kafka release directory whose C(bin/kafka-acls.sh) is run.
    type: path
    required: true
  bootstrap_server:
    description: C(host:port) of the listener to use.
    type: str
    required: true
  command_config:
    description: Client properties file for that listener (its security settings).
    type: path
    default: ""
  acls:
    description:
      - The declared ACLs, C([{principal, resource_type, resource_name, pattern_type, operations, permission, host,
        state}]).
    type: list
    elements: dict
    required: true
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Let the application read and write its topics
  kafka_stack.core.kafka_acls:
    kafka_home: /opt/kafka
    bootstrap_server: broker1:9092
    acls:
      - {principal: "User:app", resource_type: topic, resource_name: orders, operations: [Read, Write, Describe]}
"""

RETURN = r"""
added:
  description: The bindings added, C([resource_type, resource_name, pattern_type, principal, host, operation, permission]).
  type: list
  returned: always
removed:
  description: The bindings removed, in the same form.
  type: list
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import (
    TOOL_ENV, acl_arguments, acl_plan, parse_acls, tool_argv)


def main():
    module = AnsibleModule(
        argument_spec={
            "kafka_home": {"type": "path", "required": True},
            "bootstrap_server": {"type": "str", "required": True},
            "command_config": {"type": "path", "default": ""},
            "acls": {"type": "list", "elements": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params

    def run(*args):
        argv = tool_argv(params["kafka_home"], "kafka-acls.sh", params["bootstrap_server"], params["command_config"],
                         *args)
        rc, out, err = module.run_command(argv, environ_update=TOOL_ENV)
        if rc != 0:
            module.fail_json(msg=f"kafka-acls.sh {' '.join(args[:4])} failed: {(err or out).strip()[-1500:]}")
        return out

    add, remove = acl_plan(params["acls"], parse_acls(run("--list")))
    if not module.check_mode:
        for args in acl_arguments(add):
            run("--add", *args)
        for args in acl_arguments(remove):
            run("--remove", "--force", *args)
    module.exit_json(changed=bool(add or remove), added=[list(b) for b in add], removed=[list(b) for b in remove])


if __name__ == "__main__":
    main()
