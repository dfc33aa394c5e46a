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
