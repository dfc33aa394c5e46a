"""How the roles write a value into Java-style configuration (properties, zoo.cfg, environment).

Controller-side (plugin_utils): imported by the collection's filters and actions as
``ansible_collections.kafka_stack.core.plugins.plugin_utils.render``.
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
ZOOKEEPER_DIGEST_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
# SCRAM mechanisms and the hash each uses; Kafka's ScramMechanism.minIterations() (also kafka-configs.sh's
# default iteration count).
SCRAM_MECHANISMS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
SCRAM_MIN_ITERATIONS = 4096
# The protocols whose listeners need key material, and the values of a listener's ssl.client.auth.
TLS_PROTOCOLS = ("SSL", "SASL_SSL")
CLIENT_AUTH = ("none", "requested", "required")


# kafka-ui releases (checked against upstream's source): the login form's processing URL, and the first
# release whose GitHub asset carries a sha256 `digest` (GitHub publishes one only for assets uploaded
# from 2025-06-03 on: not for provectus 0.7.2 nor kafbat 1.0 to 1.2; kafbat 1.3.0 was tagged 2025-07-23).
KAFKA_UI_LOGIN_PATHS = {"kafbat": "/login", "provectus": "/auth"}
KAFKA_UI_FIRST_DIGESTED = {"kafbat": (1, 3, 0)}


def kafka_ui_github_digest(flavor, version):
    """Whether GitHub publishes a digest for the jar of kafka-ui ``flavor`` ``version`` (a 3-tuple)."""
    first = KAFKA_UI_FIRST_DIGESTED.get(flavor)
    return first is not None and tuple(version) >= first


def scram_mechanisms(listeners):
    """The SCRAM mechanisms enabled on any SASL listener, in listener order, each once."""
    found = []
    for listener in listeners or []:
        if not str(listener.get("protocol", "")).startswith("SASL_"):
            continue
        for mechanism in listener.get("sasl_mechanisms") or []:
            if mechanism in SCRAM_MECHANISMS and mechanism not in found:
                found.append(mechanism)
    return found


def inter_broker_mechanism(listener):
    """The SASL mechanism the brokers log in with on their inter-broker ``listener``: its
    ``inter_broker_mechanism``, else its first ``sasl_mechanisms`` entry ('' when it has none)."""
    mechanisms = (listener or {}).get("sasl_mechanisms") or []
    return str((listener or {}).get("inter_broker_mechanism") or (mechanisms[0] if mechanisms else ""))


def _jaas_options(options):
    """`` key="value"`` for each option, the value escaped as JAAS reads it (``\\`` and ``\"``)."""
    return "".join(' {}="{}"'.format(key, str(value).replace("\\", "\\\\").replace('"', '\\"'))
                   for key, value in options.items())


def jaas_config(mechanism, options, for_properties=False):
    """A ``sasl.jaas.config`` value: the mechanism's login module with ``options`` ({key: value}, in
    order). ``for_properties``: escaped once more for java.util.Properties, which reads every backslash
    as an escape (server.properties)."""
    text = f"{LOGIN_MODULES[mechanism]} required{_jaas_options(options)};"
    return text.replace("\\", "\\\\") if for_properties else text


def jaas_file(sections):
    """A JAAS login configuration file: ``sections`` is ``{context: {option: value}}``, each context
    with ZooKeeper's DigestLoginModule (``Server`` in a ZooKeeper server, ``Client`` in its clients)."""
    return "".join(f"{context} {{\n  {ZOOKEEPER_DIGEST_MODULE} required{_jaas_options(options)};\n}};\n"
                   for context, options in sections.items())
