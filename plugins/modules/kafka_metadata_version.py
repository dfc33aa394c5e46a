#!/usr/bin/python
"""Raise a KRaft cluster's finalized metadata.version to the newest level its controllers support."""

DOCUMENTATION = r"""
module: kafka_metadata_version
short_description: Raise a KRaft cluster's finalized metadata.version after an upgrade
description:
  - Reads the cluster's features with Kafka's C(kafka-features.sh --bootstrap-controller describe) and, when the
    finalized C(metadata.version) is below the newest level the controllers support (C(SupportedMaxVersion)),
    raises it with C(kafka-features.sh upgrade), then reads it back. Kafka refuses the upgrade when a registered
    node does not support the level.
  - The level is set by number (C(--feature metadata.version=N), its number from C(version-mapping)) on Kafka
    4.x, by name (C(--metadata)) on 3.x, whose tool has no C(version-mapping).
  - Never lowers it, and touches no other feature (C(kraft.version), C(group.version), ... stay where they are).
  - In check mode it reports whether it would raise it, and changes nothing.
extends_documentation_fragment: kafka_stack.core.controller_tool
options:
  timeout:
    description: Seconds to keep asking while the controllers do not answer (just after a rolling restart).
    type: int
    default: 120
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Raise metadata.version once every node runs the new release
  kafka_stack.core.kafka_metadata_version:
    kafka_home: /opt/kafka
    bootstrap_controller: c1:9093,c2:9093,c3:9093
    command_config: /etc/kafka/controller-client.properties
"""

RETURN = r"""
before:
  description: The finalized metadata.version found, such as C(3.9-IV0).
  type: str
  returned: always
after:
  description: The finalized metadata.version left (the same as O(before) when unchanged, or in check mode).
  type: str
  returned: always
supported:
  description: The newest metadata.version the controllers support (the target).
  type: str
  returned: always
features:
  description: "C(describe) parsed, C({feature: {min, max, finalized, epoch}}), as read before any change."
  type: dict
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafka_stack.core.plugins.module_utils.kafka_tools import (
    CONTROLLER_TOOL_ARGUMENT_SPEC, controller_tool_argv, login_refused, metadata_version_key,
    parse_features, parse_version_mapping, tool_error, tool_run)

FEATURE = "metadata.version"


def _features(module, *args):
    return tool_run(module, controller_tool_argv(module.params, "kafka-features.sh", *args))


def _describe(module):
    """The features, asked until the controllers answer or the timeout passes."""
    deadline = time.monotonic() + module.params["timeout"]
    while True:
        rc, out, err = _features(module, "describe")
        features = parse_features(out) if rc == 0 else {}
        if FEATURE in features:
            return features
        said = tool_error(err or out) or f"no {FEATURE} in its output"
        if time.monotonic() >= deadline or login_refused(said):
            module.fail_json(msg=f"kafka-features.sh describe at {module.params['bootstrap_controller']} failed "
                                 f"after {module.params['timeout']} s: {said}")
        time.sleep(3)


def main():
    module = AnsibleModule(
        argument_spec=dict(CONTROLLER_TOOL_ARGUMENT_SPEC, timeout={"type": "int", "default": 120}),
        supports_check_mode=True,
    )
    features = _describe(module)
    before, supported = features[FEATURE]["finalized"], features[FEATURE]["max"]
    result = {"before": before, "after": before, "supported": supported, "features": features}
    have, want = metadata_version_key(before), metadata_version_key(supported)
    if want is None:
        module.fail_json(msg=f"the controllers report no supported {FEATURE} ({supported!r})", **result)
    if have is not None and have >= want:
        module.exit_json(changed=False, **result)
    if module.check_mode:
        module.exit_json(changed=True, **result)
    rc, out, _ = _features(module, "version-mapping", "--release-version", supported)
    level = parse_version_mapping(out) if rc == 0 else None
    # Kafka 3.x has no version-mapping: its upgrade takes the name (--metadata, deprecated from 4.0 on).
    how = ["--feature", f"{FEATURE}={level}"] if level is not None else ["--metadata", supported]
    rc, out, err = _features(module, "upgrade", *how)
    if rc != 0:
        module.fail_json(msg=f"kafka-features.sh upgrade {' '.join(how)} failed: {tool_error(err or out, 1500)}",
                         **result)
    after = _describe(module)[FEATURE]["finalized"]
    result["after"] = after
    if metadata_version_key(after) != want:
        module.fail_json(msg=f"{FEATURE} is {after} after kafka-features.sh upgrade {' '.join(how)}, not {supported}: "
                             f"{tool_error(out)}", **result)
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
