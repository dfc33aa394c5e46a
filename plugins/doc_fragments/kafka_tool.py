"""Options shared by the modules that run Kafka's own tools on a broker host."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kafka_home:
    description: The Kafka release directory whose C(bin/) tools are run.
    type: path
    required: true
  bootstrap_server:
    description: C(host:port) of the listener to ask (the inter-broker listener, for the brokers' own login).
    type: str
    required: true
  command_config:
    description: Client properties file for that listener (its security settings); empty for PLAINTEXT.
    type: path
    default: ""
"""
