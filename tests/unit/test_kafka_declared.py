"""The declared cluster state: topics and ACLs reconciled through Kafka's tools (module_utils/kafka_tools.py),
SCRAM users declared absent, and the pre-flight of the declarations."""

from conftest import load_plugin

tools = load_plugin("module_utils", "kafka_tools")
security = load_plugin("filter", "kafka_security")
preflight = load_plugin("action", "kafka_preflight")

# kafka-configs.sh --bootstrap-server ... --describe --entity-type topics (Kafka 3.9)
CONFIGS = """Dynamic configs for topic orders are:
  min.insync.replicas=2 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:min.insync.replicas=2, STATIC_BROKER_CONFIG:min.insync.replicas=2, DEFAULT_CONFIG:min.insync.replicas=1}
  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}
Dynamic configs for topic plain are:
"""
# kafka-acls.sh --list (Kafka 3.9)
ACLS = """Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: 
 \t(principal=User:app, host=*, operation=WRITE, permissionType=ALLOW)
\t(principal=User:app, host=*, operation=READ, permissionType=ALLOW) 

Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=app-, patternType=PREFIXED)`: 
 \t(principal=User:app, host=*, operation=READ, permissionType=ALLOW) 
"""


def test_topic_configs_parsed_with_commas_in_values():
    assert tools.parse_topic_configs(CONFIGS) == {
        "orders": {"min.insync.replicas": "2", "cleanup.policy": "compact,delete"}, "plain": {}}


def test_acl_listing_parsed_into_bindings():
    assert tools.parse_acls(ACLS) == {
        ("TOPIC", "orders", "LITERAL", "User:app", "*", "WRITE", "ALLOW"),
        ("TOPIC", "orders", "LITERAL", "User:app", "*", "READ", "ALLOW"),
        ("GROUP", "app-", "PREFIXED", "User:app", "*", "READ", "ALLOW")}


CURRENT = {"orders": {"partitions": 3, "replication_factor": 3}, "legacy": {"partitions": 1, "replication_factor": 1}}
CURRENT_CONFIGS = {"orders": {"min.insync.replicas": "2"}, "legacy": {}}


def plan(declared, broker_count=3):
    return tools.topic_plan(declared, CURRENT, CURRENT_CONFIGS, broker_count, 1, 3)


def test_missing_topics_are_created_with_their_configs_and_defaults():
    actions, problems = plan([{"name": "new", "configs": {"cleanup.policy": ["compact", "delete"], "x.flag": True}}])
    assert problems == []
    assert actions == [{"action": "create", "topic": "new", "partitions": 1, "replication_factor": 3,
                        "configs": {"cleanup.policy": "compact,delete", "x.flag": "true"}}]


def test_partitions_only_grow_and_configs_are_set_to_the_declared_values():
    actions, problems = plan([{"name": "orders", "partitions": 6, "replication_factor": 3,
                               "configs": {"min.insync.replicas": 2, "retention.ms": 1000}}])
    assert problems == []
    assert actions == [{"action": "partitions", "topic": "orders", "partitions": 6, "from": 3},
                       {"action": "configs", "topic": "orders", "configs": {"retention.ms": "1000"}}]


def test_a_topic_as_declared_needs_nothing():
    assert plan([{"name": "orders", "partitions": 3, "replication_factor": 3,
                  "configs": {"min.insync.replicas": "2"}}]) == ([], [])


def test_only_topics_declared_absent_are_deleted():
    assert plan([{"name": "legacy", "state": "absent"}, {"name": "gone", "state": "absent"}]) == (
        [{"action": "delete", "topic": "legacy"}], [])
    assert plan([]) == ([], [])


def test_what_kafka_cannot_do_in_place_is_refused_naming_the_topic():
    actions, problems = plan([{"name": "orders", "partitions": 2, "replication_factor": 2},
                              {"name": "big", "replication_factor": 5}])
    assert actions == []
    assert problems == [
        "kafka_topics[0] (orders): partitions 2 is fewer than the 3 the topic has; Kafka cannot remove partitions. "
        "Fix: set partitions to 3 or more.",
        "kafka_topics[0] (orders): replication_factor 2 differs from the topic's 3; changing it needs a partition "
        "reassignment, which the role does not do. Fix: set replication_factor to 3, or reassign with "
        "kafka-reassign-partitions.sh first.",
        "kafka_topics[1] (big): replication_factor 5 is more than the 3 brokers. Fix: set it to 3 or fewer."]


def test_config_argument_brackets_values_with_commas():
    assert tools.config_argument({"retention.ms": 5, "cleanup.policy": "compact,delete"}) == (
        "cleanup.policy=[compact,delete],retention.ms=5")


def test_acl_plan_adds_what_is_missing_and_removes_only_what_is_declared_absent():
    current = tools.parse_acls(ACLS)
    declared = [{"principal": "User:app", "resource_name": "orders", "operations": ["Read", "Write", "Describe"]},
                {"principal": "User:app", "resource_type": "group", "resource_name": "app-", "pattern_type": "prefixed",
                 "operations": ["Read"], "state": "absent"},
                {"principal": "User:app", "resource_type": "transactional_id", "resource_name": "tx",
                 "operations": ["IdempotentWrite"], "state": "absent"}]
    add, remove = tools.acl_plan(declared, current)
    assert add == [("TOPIC", "orders", "LITERAL", "User:app", "*", "DESCRIBE", "ALLOW")]
    assert remove == [("GROUP", "app-", "PREFIXED", "User:app", "*", "READ", "ALLOW")]


def test_acl_arguments_one_run_per_principal_and_resource():
    assert tools.acl_arguments([("TOPIC", "orders", "LITERAL", "User:app", "*", "DESCRIBE_CONFIGS", "ALLOW"),
                                ("CLUSTER", "kafka-cluster", "LITERAL", "User:ops", "*", "ALTER", "DENY"),
                                ("TOPIC", "orders", "LITERAL", "User:app", "*", "READ", "ALLOW")]) == [
        ["--deny-principal", "User:ops", "--deny-host", "*", "--operation", "Alter",
         "--resource-pattern-type", "literal", "--cluster"],
        ["--allow-principal", "User:app", "--allow-host", "*", "--operation", "DescribeConfigs", "--operation", "Read",
         "--resource-pattern-type", "literal", "--topic", "orders"]]
    assert tools.operation_name("IdempotentWrite") == "IDEMPOTENT_WRITE"
    assert tools.operation_name("describe_configs") == "DESCRIBE_CONFIGS"


def test_scram_users_declared_absent_are_deleted_and_only_they():
    users = {"app": "pw", "old": {"state": "absent"}, "gone": {"state": "absent"}}
    assert security.kafka_scram_absent(users) == ["old", "gone"]
    listeners = [{"name": "EXTERNAL", "port": 9094, "protocol": "SASL_PLAINTEXT", "sasl_mechanisms": ["SCRAM-SHA-512"]}]
    assert [c["name"] for c in security.kafka_scram_credentials(users, listeners, "PLAINTEXT")] == ["app"]
    described = {"rc": 0, "stdout": "Configs for user-principal 'old' are SCRAM-SHA-512=salt=c2FsdA==,"
                                    "stored_key=a2V5,server_key=a2V5,iterations=4096\n"}  # 'gone' holds none
    assert security.kafka_scram_deletions(["old", "gone"], described) == [{"name": "old", "mechanisms": ["SCRAM-SHA-512"]}]


def declared_problems(declared, properties=None, brokers=3):
    return [p.render("b1") for p in preflight._declared_problems(declared, properties or {}, brokers)]


def test_preflight_refuses_impossible_declarations():
    problems = declared_problems({"kafka_topics": [
        {"name": "ok", "replication_factor": 3}, {"name": "ok"}, {"name": "bad name"},
        {"name": "big", "replication_factor": 4}, {"name": "none", "partitions": 0}]},
        {"default.replication.factor": "3"})
    assert problems == [
        "host b1: kafka_topics[1]: topic ok is declared twice. Fix: keep one entry per topic.",
        "host b1: kafka_topics[2]: 'bad name' is not a valid topic name. Fix: use up to 249 letters, digits, '.', "
        "'_' or '-'.",
        "host b1: kafka_topics[3]: replication_factor 4 of topic big is more than the 3 brokers of the cluster. Fix: "
        "set it to 3 or fewer, or add brokers.",
        "host b1: kafka_topics[4]: partitions 0 of topic none is below 1. Fix: set 1 or more."]


def test_preflight_wants_an_authorizer_and_whole_acls():
    problems = declared_problems({"kafka_acls": [{"principal": "app", "resource_type": "topic", "operations": ["Read"]},
                                                 {"principal": "User:ops", "resource_type": "cluster",
                                                  "operations": ["Alter"]}]})
    assert [p.split(":")[1].strip() for p in problems] == ["kafka_acls", "kafka_acls[0]", "kafka_acls[0]"]
    assert "no authorizer" in problems[0] and "names no resource" in problems[1] and "has no type" in problems[2]
    assert declared_problems({"kafka_acls": [{"principal": "User:ops", "resource_type": "cluster",
                                              "operations": ["Alter"]}]},
                             {"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer"}) == []


def test_preflight_refuses_declarations_in_container_mode():
    problems = declared_problems({"deploy_mode": "container", "kafka_topics": [{"name": "t"}]})
    assert problems == ["host b1: kafka_topics: is reconciled by the role on hosts only, not in container mode yet. "
                        "Fix: create them with Kafka's tools in the container, or use kafka_deploy_mode host."]
