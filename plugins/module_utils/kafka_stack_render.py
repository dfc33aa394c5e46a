"""How the roles write a value into Java-style configuration (properties, zoo.cfg, environment).

Imported by plugins/filter/*.py, which put this directory on sys.path: legacy plugin directories have
no package to import from.
"""


def render_value(value, separator=","):
    """``true``/``false`` for booleans, lists joined with ``separator``, everything else as str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return separator.join(str(item) for item in value)
    return str(value)


LOGIN_MODULES = {"PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
                 "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
                 "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule"}


def jaas_config(mechanism, options, for_properties=False):
    """A ``sasl.jaas.config`` value: the mechanism's login module with ``options`` ({key: value}, in
    order) quoted and escaped for JAAS (``\\`` and ``\"``). ``for_properties``: escaped once more for
    java.util.Properties, which reads every backslash as an escape (server.properties)."""
    text = LOGIN_MODULES[mechanism] + " required"
    for key, value in options.items():
        quoted = str(value).replace("\\", "\\\\").replace('"', '\\"')
        text += f' {key}="{quoted}"'
    text += ";"
    return text.replace("\\", "\\\\") if for_properties else text
