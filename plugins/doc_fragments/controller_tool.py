"""Options shared by the modules that run Kafka's own tools against the KRaft controllers
(C(--bootstrap-controller)): kafka_quorum, kafka_metadata_version."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kafka_home:
    description: The Kafka release directory whose C(bin/) tools are run (on the node that runs the module).
    type: path
    required: true
  bootstrap_controller:
    description: C(host:port,...) of the controller listener of the controllers.
    type: str
    required: true
  command_config:
    description: Client properties of the controller listener (its security settings).
    type: path
    default: ""
"""
