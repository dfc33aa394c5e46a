"""playbooks/preflight.yml against real inventories, with every host made unreachable.

Each host's address is overridden to 127.0.0.1 port 9 (nothing listens there) over SSH: if the
pre-flight tried to contact a host, the run would end "unreachable" and these tests would fail.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from conftest import load_plugin

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNREACHABLE = ["-e", "ansible_connection=ssh", "-e", "ansible_host=127.0.0.1", "-e", "ansible_port=9"]
# The controller-only plays: the last play of playbooks/preflight.yml reads the hosts' facts (Java check,
# tested in test_kafka_ui_java_check_* with a local host). Staging and prod keep secrets in a vault
# opened by the CI-only test password.
OFFLINE = ["--skip-tags", "preflight_facts", "--vault-password-file", str(ROOT / "tests/vault/ci-test-only.vault-pass")]


def playbook(inventory, *args, playbook="playbooks/preflight.yml", reach=UNREACHABLE, offline=OFFLINE):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    return subprocess.run(["ansible-playbook", "-i", str(inventory), playbook, *reach, *offline, *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("env", ["local", "local-containers", "local-kraft-containers", "dev", "staging", "prod"])
def test_every_inventory_passes_preflight_without_contacting_hosts(env):
    result = playbook(ROOT / "inventories" / env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unreachable=0" in result.stdout and "failed=0" in result.stdout


@pytest.mark.parametrize("env", ["local", "local-containers", "local-kraft-containers", "dev", "staging", "prod"])
def test_site_syntax(env):
    result = playbook(ROOT / "inventories" / env, "--syntax-check", playbook="site.yml")
    assert result.returncode == 0, result.stdout + result.stderr


VAULT = ["--vault-password-file", str(ROOT / "tests/vault/ci-test-only.vault-pass")]


def test_preflight_alone_on_hosts_that_do_not_answer_says_what_it_could_not_check():
    """The README's first step on the example inventory, whose hosts do not exist yet: every controller-side
    check runs and passes, and the one check that needs the kafka-ui host's facts is reported, not failed."""
    result = playbook(ROOT / "inventories" / "staging", offline=VAULT)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "failed=0" in out and "unreachable=0" in out, out
    assert "NOT CHECKED: host staging-ui1.example.internal did not answer" in out
    assert "(kafka_ui_java_package, kafka_ui_java_binary)" in out
    assert "Check release, checksum, cluster connection and login" in out  # the controller-side checks ran


def test_site_stops_before_any_host_changes_when_a_host_does_not_answer():
    """site.yml runs the same checks but needs their answers: one host away stops the whole run."""
    result = playbook(ROOT / "inventories" / "staging", playbook="site.yml", offline=VAULT)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert ("host staging-ui1.example.internal: the pre-flight checks that need the host's facts did not run"
            in out), out
    deploy = out.split("PLAY [Deploy ZooKeeper]", 1)
    assert len(deploy) == 2, out
    assert "TASK [" not in deploy[1], deploy[1]  # no task ran on any host after the pre-flight


def write_inventory(tmp_path, hosts_yaml):
    (tmp_path / "hosts.yml").write_text(hosts_yaml)
    return tmp_path / "hosts.yml"


def stack(ui="ui:", zookeeper="zk: {zookeeper_id: 1}"):
    """An inventory of the whole stack: ``zookeeper`` and ``ui`` are the host lines of those groups
    (continuation lines indented to 8 spaces), beside one broker."""
    return f"""
all:
  children:
    zookeeper:
      hosts:
        {zookeeper}
    kafka:
      hosts:
        broker: {{kafka_broker_id: 1}}
    kafka_ui:
      hosts:
        {ui}
"""


def refused(tmp_path, hosts_yaml):
    """Run the pre-flight on an inventory that must fail without contacting any host; return its output."""
    result = playbook(write_inventory(tmp_path, hosts_yaml))
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "unreachable=0" in out
    return out


def test_duplicate_ids_fail_naming_host_variable_and_fix(tmp_path):
    out = refused(tmp_path, """
all:
  children:
    zookeeper:
      hosts:
        zk-a: {zookeeper_id: 1}
        zk-b: {zookeeper_id: 2}
        zk-c: {zookeeper_id: 2}
""")
    assert "host zk-b: zookeeper_id: 2 is also the id of zk-c." in out
    assert "host zk-c: zookeeper_id: 2 is also the id of zk-b." in out
    assert "Fix: give each host of group 'zookeeper' its own zookeeper_id" in out
    assert "no host was changed" in out


def test_argument_spec_violation_fails_before_any_host_is_contacted(tmp_path):
    out = refused(tmp_path, """
all:
  children:
    zookeeper:
      hosts:
        zk-a: {zookeeper_install_method: rpm}
""")
    assert "zookeeper_install_method" in out and "rpm" in out and "package, archive" in out


def test_missing_archive_on_the_controller(tmp_path):
    out = refused(tmp_path, f"""
all:
  children:
    zookeeper:
      hosts:
        zk-a:
          zookeeper_install_method: archive
          zookeeper_archive_src: {tmp_path}/missing.tar.gz
""")
    assert f"host zk-a: zookeeper_archive_src: {tmp_path}/missing.tar.gz does not exist on the controller." in out


def test_even_ensemble_warns_but_passes(tmp_path):
    inventory = write_inventory(tmp_path, """
all:
  children:
    zookeeper:
      hosts:
        zk-a: {zookeeper_id: 1}
        zk-b: {zookeeper_id: 2}
""")
    result = playbook(inventory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "even ensemble" in (result.stdout + result.stderr).replace("\n", " ")


def test_kafka_duplicate_broker_id_and_shared_external_endpoint(tmp_path):
    out = refused(tmp_path, """
all:
  children:
    zookeeper:
      hosts:
        zk-a: {}
    kafka:
      vars:
        kafka_listeners:
          - {name: PLAINTEXT, port: 9092, protocol: PLAINTEXT}
          - {name: EXTERNAL, port: 9094, protocol: PLAINTEXT, advertised_host: localhost}
      hosts:
        kafka-a: {kafka_broker_id: 1}
        kafka-b: {kafka_broker_id: 1}
""")
    assert "host kafka-a: kafka_broker_id: 1 is also the broker id of kafka-b." in out
    assert "host kafka-a: kafka_listeners: advertises localhost:9094, which kafka-b advertises too" in out


def test_kafka_without_zookeeper_group(tmp_path):
    out = refused(tmp_path, """
all:
  children:
    kafka:
      hosts:
        kafka-a: {kafka_broker_id: 1}
""")
    assert "host kafka-a: groups: inventory group 'zookeeper' is empty" in out


def test_kafka_missing_broker_id_is_an_argument_spec_error(tmp_path):
    out = refused(tmp_path, """
all:
  children:
    zookeeper:
      hosts:
        zk-a: {}
    kafka:
      hosts:
        kafka-a: {}
""")
    assert "kafka_broker_id" in out


def test_two_services_claiming_one_port_on_a_host(tmp_path):
    out = refused(tmp_path, stack(
        ui="box:", zookeeper="box: {zookeeper_id: 1, zookeeper_admin_server_enabled: true, "
                             "zookeeper_admin_server_port: 8080}"))
    assert ("host box: zookeeper_admin_server_port: port 8080 of zookeeper AdminServer is also kafka_ui_port of "
            "kafka-ui on this host") in out
    assert "Fix: change zookeeper_admin_server_port or kafka_ui_port" in out


def test_kafka_ui_listener_missing_on_the_brokers(tmp_path):
    out = refused(tmp_path, stack(ui="ui: {kafka_ui_listener_name: EXTERNAL}"))
    assert "host ui: kafka_ui_listener_name: broker broker has no listener named EXTERNAL." in out


def test_kafka_ui_login_without_password(tmp_path):
    out = refused(tmp_path, stack(ui="ui: {kafka_ui_auth_type: LOGIN_FORM}"))
    assert "host ui: kafka_ui_auth_password: is empty while kafka_ui_auth_type is LOGIN_FORM." in out


def test_staging_needs_its_vault():
    result = playbook(ROOT / "inventories/staging", "--skip-tags", "preflight_facts", offline=[])
    assert result.returncode != 0
    assert "vault" in (result.stdout + result.stderr).lower()


def expected_java(flavor, version):
    """What the role should decide on this controller's distribution, from the role's own tables."""
    release = load_plugin("filter", "kafka_ui").kafka_ui_release(flavor, version)
    osr = dict(line.split("=", 1) for line in pathlib.Path("/etc/os-release").read_text().split("\n") if "=" in line)
    vars_file = ROOT / "roles/kafka_ui/vars" / f"Debian-{osr['VERSION_ID'].strip(chr(34))}.yml"
    packages = yaml.safe_load(vars_file.read_text())["kafka_ui__java_packages"]
    return release["java"], any(int(major) >= release["java"] for major in packages)


@pytest.mark.parametrize("flavor, version", [("kafbat", "1.4.2"), ("provectus", "0.7.2"), ("kafbat", "1.5.0")])
def test_kafka_ui_java_check_reads_the_hosts_distribution(tmp_path, flavor, version):
    """The facts play of the pre-flight, on a host that answers: this controller (connection local)."""
    java, available = expected_java(flavor, version)
    inventory = write_inventory(tmp_path, stack(
        ui=f"here: {{ansible_connection: local, ansible_python_interpreter: \"{sys.executable}\",\n"
           f"        kafka_ui_flavor: {flavor}, kafka_ui_version: \"{version}\", "
           f"kafka_ui_checksum: \"sha256:{'0' * 64}\"}}"))
    result = playbook(inventory, reach=[], offline=[])
    out = result.stdout + result.stderr
    if available:
        assert result.returncode == 0, out
    else:
        assert result.returncode != 0, out
        assert f"host here: kafka_ui_version: kafka-ui {flavor} {version} needs Java {java} or newer" in out
        assert "Nothing was installed." in out


DUPLICATE_ZOOKEEPER_IDS = stack(zookeeper="zk-a: {zookeeper_id: 1}\n        zk-b: {zookeeper_id: 1}")


@pytest.mark.parametrize("entry", ["site.yml", "playbooks/kafka_ui.yml", "playbooks/kafka.yml"])
def test_every_entry_point_runs_the_whole_preflight_first(tmp_path, entry):
    """Every entry point checks every role before changing anything: here ZooKeeper's ids stop the kafka-ui
    and kafka playbooks run alone, as they stop site.yml."""
    result = playbook(write_inventory(tmp_path, DUPLICATE_ZOOKEEPER_IDS), playbook=entry)
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "unreachable=0" in out, out
    assert "host zk-b: zookeeper_id: 1 is also the id of zk-a." in out


def test_container_mode_refuses_the_kraft_only_apache_image(tmp_path):
    result = playbook(write_inventory(tmp_path, stack()), "-e", "kafka_stack_deploy_mode=container",
                      "-e", "kafka_container_flavor=apache")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "unreachable=0" in out
    assert "fatal: [broker]" in out
    assert "host broker: kafka_container_flavor: apache: the apache/kafka image runs KRaft only" in out
    assert "Set kafka_container_flavor to bitnami or confluent, or kafka_metadata_mode to kraft." in out


@pytest.mark.parametrize("hosts, message", [
    (stack(zookeeper="zk: {zookeeper_id: 1, zookeeper_container_flavor: bitnami, "
                     "zookeeper_config_extra: {globalOutstandingLimit: 1000}}"),
     "zookeeper_container_flavor bitnami: the image has no variable for globalOutstandingLimit"),
    (stack().replace("broker: {kafka_broker_id: 1}",
                     "broker: {kafka_broker_id: 1, kafka_server_properties_extra: {my_custom.setting: 1}}"),
     "kafka_container_flavor bitnami: property 'my_custom.setting' cannot be written as a KAFKA_CFG_ variable"),
])
def test_container_mode_refuses_settings_the_image_flavour_cannot_take(tmp_path, hosts, message):
    result = playbook(write_inventory(tmp_path, hosts), "-e", "kafka_stack_deploy_mode=container")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "unreachable=0" in out
    assert message in out


def test_container_mode_ensemble_on_one_docker_engine_needs_its_own_host_ports(tmp_path):
    ensemble = ("zk1: {zookeeper_id: 1}\n        zk2: {zookeeper_id: 2}\n        zk3: {zookeeper_id: 3, "
                "zookeeper_container_published_ports: []}")
    out = refused(tmp_path, stack(zookeeper=ensemble) + "  vars: {kafka_stack_deploy_mode: container}\n")
    assert ("host zk1: zookeeper_container_published_ports: port 2181 published by the ZooKeeper container is also "
            "published by the ZooKeeper container of zk2") in out
    assert "host zk3" not in out


def test_sasl_listener_without_mechanisms_or_broker_password(tmp_path):
    sasl = ("broker: {kafka_broker_id: 1, kafka_listeners: [{name: INTERNAL, port: 9092, protocol: SASL_PLAINTEXT}], "
            "kafka_inter_broker_listener_name: INTERNAL}")
    out = refused(tmp_path, stack().replace("broker: {kafka_broker_id: 1}", sasl))
    assert "host broker: kafka_listeners: listener INTERNAL (SASL_PLAINTEXT) has no sasl_mechanisms." in out
    scram = sasl.replace("protocol: SASL_PLAINTEXT", "protocol: SASL_PLAINTEXT, sasl_mechanisms: [SCRAM-SHA-512]")
    out = refused(tmp_path, stack().replace("broker: {kafka_broker_id: 1}", scram))
    assert ("host broker: kafka_sasl_inter_broker_password: is empty while the inter-broker listener INTERNAL uses "
            "SASL_PLAINTEXT") in out


def test_preflight_output_at_vvv_holds_no_sasl_password(tmp_path):
    secret = "never-print-this-7f3a"
    broker = ("broker: {kafka_broker_id: 1, kafka_inter_broker_listener_name: INTERNAL, kafka_listeners: [{name: INTERNAL, "
              "port: 9092, protocol: SASL_PLAINTEXT, sasl_mechanisms: [SCRAM-SHA-512, PLAIN]}], "
              f"kafka_sasl_inter_broker_password: {secret}, kafka_sasl_plain_users: {{alice: {secret}-alice}}}}")
    result = playbook(write_inventory(tmp_path, stack().replace("broker: {kafka_broker_id: 1}", broker)), "-vvv")
    out = result.stdout + result.stderr
    assert "Pre-flight of role kafka passed on broker" in out
    assert secret not in out


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_are_sasl_ssl_with_scram_and_print_no_vault_value(env):
    """Both listeners SASL_SSL + SCRAM-SHA-512, SCRAM inter-broker, ZooKeeper auth; the pre-flight at -vvv
    (which sees every secret) prints none of the vault's values."""
    vault = subprocess.run(["ansible-vault", "view", "--vault-password-file",
                            str(ROOT / "tests/vault/ci-test-only.vault-pass"),
                            str(ROOT / "inventories" / env / "group_vars/all/vault.yml")],
                           capture_output=True, text=True, check=True).stdout
    values = re.findall(r":\s+(\S{16,})\s*$", vault, flags=re.M)
    assert len(values) >= 6
    result = playbook(ROOT / "inventories" / env, "-vvv")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert not [v for v in values if v in out], "a vault value was printed"
    listeners = yaml.safe_load((ROOT / "inventories" / env / "group_vars/kafka/main.yml").read_text())
    assert {(item["protocol"], tuple(item["sasl_mechanisms"])) for item in listeners["kafka_listeners"]} == {
        ("SASL_SSL", ("SCRAM-SHA-512",))}
    assert listeners["kafka_inter_broker_listener_name"] == "INTERNAL" and listeners["kafka_zookeeper_set_acl"]


def test_tls_listener_without_keystore_password_or_provided_files(tmp_path):
    tls = ("broker: {kafka_broker_id: 1, kafka_listeners: [{name: PLAINTEXT, port: 9092, protocol: PLAINTEXT}, "
           "{name: SECURE, port: 9093, protocol: SSL}]}")
    out = refused(tmp_path, stack().replace("broker: {kafka_broker_id: 1}", tls))
    assert ("host broker: kafka_tls_keystore_password: is empty while listener SECURE uses TLS with a PKCS12 "
            "keystore.") in out
    provided = tls.replace("kafka_broker_id: 1,", "kafka_broker_id: 1, kafka_tls_source: provided, "
                           "kafka_tls_keystore_type: PEM, kafka_tls_cert_src: /nonexistent/broker.pem,")
    out = refused(tmp_path, stack().replace("broker: {kafka_broker_id: 1}", provided))
    assert ("host broker: kafka_tls_cert_src: /nonexistent/broker.pem is not a file on the controller (listener "
            "SECURE uses TLS).") in out
    assert "host broker: kafka_tls_key_src: is empty while kafka_tls_source is provided and listener SECURE" in out


def test_rolling_restart_refuses_an_unknown_component_before_any_host():
    result = playbook(ROOT / "inventories" / "local", "-e", "rolling_restart_component=brokers",
                      playbook="playbooks/rolling_restart.yml", offline=[])
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "rolling_restart_component: 'brokers' is not a component of the stack; no host was changed" in out, out
    assert "unreachable=0" in out, "a host was contacted"


def test_rolling_restart_refuses_container_mode_with_what_to_do_instead():
    """local-containers runs the services as containers: the first role's restart entry point refuses,
    naming the host, the variable and the docker command, before it restarts anything."""
    result = playbook(ROOT / "inventories" / "local-containers", playbook="playbooks/rolling_restart.yml", reach=[],
                      offline=[])
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("host local-zookeeper: zookeeper_deploy_mode: container: playbooks/rolling_restart.yml restarts systemd "
            "services one at a time. Fix: restart the container with `docker restart zookeeper`") in out, out
    assert "changed=0" in out and "changed=1" not in out


KRAFT = """
all:
  vars:
    kafka_metadata_mode: kraft
    kafka_version: "4.4.0"
  children:
    kafka_controller:
      hosts:
{controllers}
    kafka:
      hosts:
{brokers}
"""


def test_a_kraft_inventory_passes_preflight_without_zookeeper(tmp_path):
    inventory = write_inventory(tmp_path, KRAFT.format(
        controllers="        ctl-a: {kafka_broker_id: 1}\n        ctl-b: {kafka_broker_id: 2}\n"
                    "        ctl-c: {kafka_broker_id: 3}",
        brokers="        kafka-a: {kafka_broker_id: 4}\n        kafka-b: {kafka_broker_id: 5}"))
    result = playbook(inventory)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    # The dedicated controllers ran the kafka role's checks too (no ZooKeeper group is needed).
    for host in ("ctl-a", "ctl-b", "ctl-c", "kafka-a", "kafka-b"):
        assert re.search(rf"^{host}\s+: ok=[1-9]\d* .*failed=0", result.stdout, re.M), host


def test_kraft_refuses_shared_node_ids_a_missing_quorum_and_zookeeper_mode_on_4x(tmp_path):
    out = refused(tmp_path, KRAFT.format(
        controllers="        ctl-a: {kafka_broker_id: 1}",
        brokers="        kafka-a: {kafka_broker_id: 1}\n"
                "        kafka-b: {kafka_broker_id: 2, kafka_listeners: [{name: CONTROLLER, port: 9095, "
                "protocol: PLAINTEXT}], kafka_inter_broker_listener_name: CONTROLLER}"))
    assert "host kafka-a: kafka_broker_id: node id 1 is shared by ctl-a, kafka-a" in out
    assert "host kafka-b: kafka_listeners: listener CONTROLLER has the name of the controller listener." in out
    assert "no host was changed" in out
    out = refused(tmp_path, KRAFT.format(controllers="        {}", brokers="        kafka-a: {kafka_broker_id: 1}")
                  .replace("kafka_metadata_mode: kraft", "kafka_metadata_mode: zookeeper")
                  + "    zookeeper:\n      hosts:\n        zk-a: {}\n")
    assert ("host kafka-a: kafka_metadata_mode: is zookeeper but kafka_version 4.4.0 has no ZooKeeper mode" in out)


def test_kraft_containers_need_the_apache_image_and_a_static_quorum():
    result = playbook(ROOT / "inventories" / "local-kraft-containers", "-e", "kafka_container_flavor=bitnami",
                      "-e", "kafka_kraft_quorum=dynamic")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "unreachable=0" in out
    assert "host local-kafka: kafka_kraft_quorum: is dynamic, but the apache/kafka image formats" in out
    assert "host local-kafka: kafka_container_flavor: bitnami: the role runs KRaft containers on the apache/kafka" in out
