"""Java properties files as the roles write them (server.properties, meta.properties): ``key=value`` lines.

Module-side (module_utils): imported as ``ansible_collections.kafka_stack.core.plugins.module_utils.properties``.
"""


def parse_properties(text):
    """``{key: value}`` of the ``key=value`` lines of ``text`` (comments and blank lines skipped; a line without
    ``=`` is a key with an empty value)."""
    result = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, _, value = line.partition("=")
        result[key.strip()] = value.strip()
    return result
