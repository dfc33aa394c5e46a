"""The Kafka stand-in's security pieces (test bed), checked against independent implementations: its
kafka-configs.sh credentials against the role's SCRAM filter, its SCRAM server against kafka-python's
SCRAM client. Both sides were written separately, so a mistake in one shows in the other."""

import sys

import pytest

from conftest import ROOT, load_plugin

sys.path.insert(0, str(ROOT / "testbed" / "standins" / "kafka"))
import kafka_configs  # noqa: E402  (the stand-in's kafka-configs.sh)
import security_front  # noqa: E402

from kafka.net.sasl.scram import ScramClient  # noqa: E402

sec = load_plugin("filter", "kafka_security")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_standin_credentials_are_what_the_role_checks(mechanism):
    stored = sec.scram_stored(f"{mechanism}=" + kafka_configs.credential("s3cret", mechanism, 4096), mechanism)
    assert sec.scram_matches("s3cret", mechanism, stored, 4096)
    assert not sec.scram_matches("other", mechanism, stored, 4096)
    assert not sec.scram_matches("s3cret", mechanism, stored, 8192)


def test_add_config_is_parsed_as_kafka_parses_it():
    added = kafka_configs.parse_additions("SCRAM-SHA-512=[iterations=8192,password=a,b=c]")
    stored = sec.scram_stored("SCRAM-SHA-512=" + added["SCRAM-SHA-512"], "SCRAM-SHA-512")
    assert stored["iterations"] == 8192 and sec.scram_matches("a,b=c", "SCRAM-SHA-512", stored, 8192)
    with pytest.raises(SystemExit):
        kafka_configs.parse_additions("SCRAM-SHA-512=[iterations=1000,password=x]")  # below Kafka's minimum


def _login(password, stored_password="right", mechanism="SCRAM-SHA-512"):
    credential = sec.scram_stored(f"{mechanism}=" + sec.scram_credential(stored_password, mechanism, b"salt-1234", 4096),
                                  mechanism)
    server = security_front.ScramServer(mechanism, lambda user, mech: credential if user == "alice" else None)
    client = ScramClient("alice", password, mechanism)
    reply, done = server.step(client.first_message())
    assert not done
    client.process_server_first_message(reply)
    reply, done = server.step(client.final_message())
    client.process_server_final_message(reply)  # raises when the server's signature is wrong
    return done


def test_standin_scram_server_accepts_the_right_password_and_proves_itself():
    assert _login("right")
    assert _login("right", mechanism="SCRAM-SHA-256")


def test_standin_scram_server_refuses_a_wrong_password_and_an_unknown_user():
    with pytest.raises(PermissionError):
        _login("wrong")
    server = security_front.ScramServer("SCRAM-SHA-512", lambda user, mech: None)
    with pytest.raises(PermissionError):
        server.step(ScramClient("mallory", "x", "SCRAM-SHA-512").first_message())


def test_jaas_users_of_a_plain_listener():
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="b" '
            'user_alice="a\\"lice" user_broker="b";')
    options = security_front.jaas_options(jaas)
    assert {k[5:]: v for k, v in options.items() if k.startswith("user_")} == {"alice": 'a"lice', "broker": "b"}


def test_request_headers_of_sasl_authenticate_v2_skip_tagged_fields():
    frame = (b"\x00\x24\x00\x02\x00\x00\x00\x07\x00\x03abc" + b"\x01\x05\x02xy" + b"\x04tok")
    api_key, version, correlation, offset = security_front.parse_header(frame)
    assert (api_key, version, correlation) == (36, 2, 7)
    assert frame[offset:] == b"\x04tok"
