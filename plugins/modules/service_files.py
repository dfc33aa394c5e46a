#!/usr/bin/python
"""A service's directories, links and files on the host, in one round trip."""

DOCUMENTATION = r"""
module: service_files
short_description: Ensure a service's directories, symlinks and file contents in one call
description:
  - What a service's configuration step needs on the host, checked and fixed in one module call instead
    of one C(file), C(template) or C(copy) task (two round trips each) per path, for directories (created
    when missing, never emptied or removed), symbolic links, and files whose content the controller rendered.
  - Ownership and modes are set as given, also on existing paths. Files are replaced atomically, in their
    own directory, only when their content differs.
  - Supports check mode and diff mode; the content of O(secret_files) never appears in a diff, the result
    or the host's log.
options:
  directories:
    description: Directories, C([{path, owner, group, mode}]), in the order to create them.
    type: list
    elements: dict
    default: []
  links:
    description: Symbolic links, C([{path, src}]); an existing link elsewhere is repointed.
    type: list
    elements: dict
    default: []
  files:
    description:
      - Files, C([{path, content, owner, group, mode, restart_exempt_keys}]); their directory must exist.
      - C(restart_exempt_keys) names the keys of a Java properties file whose change alone the service takes at its
        next start, without a restart now; a rewrite that changes only those keys is left out of RV(restart_paths).
    type: list
    elements: dict
    default: []
  secret_files:
    description:
      - Files as O(files) (C(restart_exempt_keys) too) whose content is a secret (passwords, keys) - never logged,
        diffed or returned.
      - Run them in a task of their own with C(no_log), so that the other files keep their diff.
    type: list
    elements: dict
    default: []
author: kafka-stack-ansible
"""

EXAMPLES = r"""
- name: Write the configuration
  kafka_stack.core.service_files:
    directories:
      - {path: /etc/kafka, owner: root, group: kafka, mode: "0750"}
    links:
      - {path: /opt/kafka, src: /opt/kafka_2.13-3.9.2}
    files:
      - {path: /etc/kafka/server.properties, content: "{{ lookup('template', 'server.properties.j2') }}",
         owner: root, group: kafka, mode: "0640"}
"""

RETURN = r"""
changed_paths:
  description: The paths created, repointed, rewritten or whose ownership or mode changed.
  type: list
  returned: always
restart_paths:
  description:
    - The changed paths whose change needs the service restarted - every one of RV(changed_paths) but a properties
      file whose rewrite changed only its C(restart_exempt_keys).
  type: list
  returned: always
"""

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafka_stack.core.plugins.module_utils.properties import parse_properties


def _attributes(item):
    return {"path": item["path"], "owner": item.get("owner"), "group": item.get("group"),
            "mode": item.get("mode"), "secontext": [None, None, None], "attributes": None}


def ensure_directory(module, item):
    """Create the directory when missing; set its owner, group and mode. Returns whether it changed."""
    path = item["path"]
    changed = False
    if not os.path.isdir(path):
        if os.path.lexists(path):
            module.fail_json(msg=f"{path} exists and is not a directory: the role does not remove it.")
        changed = True
        if module.check_mode:
            return True
        os.makedirs(path)
    return module.set_fs_attributes_if_different(_attributes(item), changed)


def ensure_link(module, item):
    """Point the symbolic link at its source. Returns whether it changed."""
    path, src = item["path"], item["src"]
    if os.path.islink(path) and os.readlink(path) == src:
        return False
    if os.path.lexists(path) and not os.path.islink(path):
        module.fail_json(msg=f"{path} exists and is not a symbolic link: the role does not replace it.")
    if not module.check_mode:
        tmp = f"{path}.kafka-stack-tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(src, tmp)
        os.replace(tmp, path)
    return True


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def exempt_only(before, after, exempt):
    """Whether the properties files ``before`` and ``after`` (bytes) differ in keys of ``exempt`` alone."""
    old = parse_properties(before.decode("utf-8", "replace"))
    new = parse_properties(after.decode("utf-8", "replace"))
    differing = {key for key in set(old) | set(new) if old.get(key) != new.get(key)}
    return bool(differing) and differing <= set(exempt)


def ensure_file(module, item, diffs, secret=False):
    """Write the content when it differs (atomically); set owner, group and mode. Returns (whether it changed,
    whether the change needs a restart)."""
    path = item["path"]
    wanted = item.get("content", "").encode("utf-8")
    current = _read(path)
    changed = current is None or hashlib.sha256(current).digest() != hashlib.sha256(wanted).digest()
    exempt = item.get("restart_exempt_keys") or []
    deferred = changed and current is not None and bool(exempt) and exempt_only(current, wanted, exempt)
    if changed and module._diff:
        if secret:
            diffs.append({"before_header": path, "after_header": path,
                          "before": "(secret content not shown)\n", "after": "(secret content not shown, changed)\n"})
        else:
            diffs.append({"before_header": path, "after_header": path,
                          "before": (current or b"").decode("utf-8", "replace"), "after": item.get("content", "")})
    if changed and not module.check_mode:
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kafka-stack-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(wanted)
        if current is not None:
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        module.atomic_move(tmp, path)
    if module.check_mode and current is None:
        return True, True
    attributes_changed = module.set_fs_attributes_if_different(_attributes(item), False)
    return changed or attributes_changed, attributes_changed or (changed and not deferred)


def main():
    path = {"type": "str", "required": True}
    attributes = {"owner": {"type": "str"}, "group": {"type": "str"}, "mode": {"type": "raw"}}
    exempt = {"type": "list", "elements": "str", "default": []}
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [],
                            "options": dict(attributes, path=path)},
            "links": {"type": "list", "elements": "dict", "default": [],
                      "options": {"path": path, "src": {"type": "str", "required": True}}},
            "files": {"type": "list", "elements": "dict", "default": [],
                      "options": dict(attributes, path=path, content={"type": "str", "default": ""},
                                      restart_exempt_keys=exempt)},
            "secret_files": {"type": "list", "elements": "dict", "default": [],
                             "options": dict(attributes, path=path, restart_exempt_keys=exempt,
                                             content={"type": "str", "default": "", "no_log": True})}},
        supports_check_mode=True)
    changed_paths, restart_paths, diffs = [], [], []
    for item in module.params["directories"]:
        if ensure_directory(module, item):
            changed_paths.append(item["path"])
            restart_paths.append(item["path"])
    for item in module.params["links"]:
        if ensure_link(module, item):
            changed_paths.append(item["path"])
            restart_paths.append(item["path"])
    for item, secret in ([(item, False) for item in module.params["files"]]
                         + [(item, True) for item in module.params["secret_files"]]):
        changed, restart = ensure_file(module, item, diffs, secret=secret)
        if changed:
            changed_paths.append(item["path"])
        if restart:
            restart_paths.append(item["path"])
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths, "restart_paths": restart_paths}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
