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
extends_documentation_fragment: kafka_stack.core.kafka_tool
options:
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
  description:
    - The bindings added, each
      C([resource_type, resource_name, pattern_type, principal, host, operation, permission]).
  type: list
  returned: always
removed:
  description: The bindings removed, in the same form.
  type: list
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import (
    TOOL_ARGUMENT_SPEC, acl_arguments, acl_plan, parse_acls, run_tool)


def main():
    module = AnsibleModule(
        argument_spec=dict(TOOL_ARGUMENT_SPEC, acls={"type": "list", "elements": "dict", "required": True}),
        supports_check_mode=True,
    )
    add, remove = acl_plan(module.params["acls"], parse_acls(run_tool(module, "kafka-acls.sh", "--list")))
    if not module.check_mode:
        for args in acl_arguments(add):
            run_tool(module, "kafka-acls.sh", "--add", *args)
        for args in acl_arguments(remove):
            run_tool(module, "kafka-acls.sh", "--remove", "--force", *args)
    module.exit_json(changed=bool(add or remove), added=[list(b) for b in add], removed=[list(b) for b in remove])


if __name__ == "__main__":
    main()
