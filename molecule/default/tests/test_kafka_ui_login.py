"""kafka-ui with LOGIN_FORM, as staging and prod run it: the role re-converges kafka-ui with a login,
checks it logs in itself, and the API refuses requests without the session cookie. Afterwards the
inventory's settings (no login) are converged back.
"""

import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from test_kafka_ui import URL, get
from testlib import kafka_ui_converged_with

testinfra_hosts = ["local-kafka-ui"]


@pytest.fixture(scope="module")
def with_login():
    """Re-converge kafka-ui with LOGIN_FORM on (what staging and prod run), then back to the inventory."""
    login = {"kafka_ui_auth_type": "LOGIN_FORM", "kafka_ui_auth_username": "admin",
             "kafka_ui_auth_password": "test-only-password-123"}
    with kafka_ui_converged_with("default", login):
        yield login


def test_login_form_guards_the_api(with_login, host):
    data = yaml.safe_load(host.file("/etc/kafka-ui/application.yml").content_string)
    assert data["auth"] == {"type": "LOGIN_FORM"}
    assert data["spring"]["security"]["user"] == {"name": "admin", "password": with_login["kafka_ui_auth_password"]}
    assert get("/actuator/health")["status"] == "UP"  # health stays open
    with pytest.raises(urllib.error.HTTPError) as error:
        get("/api/clusters")
    assert error.value.code == 401

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def login(password):
        body = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
        try:
            opener.open(urllib.request.Request(URL + "/login", data=body), timeout=10)
        except urllib.error.HTTPError as redirect:
            return redirect.code, redirect.headers.get("Location", ""), redirect.headers.get("Set-Cookie", "")
        raise AssertionError("login did not redirect")

    code, location, _ = login("wrong-password")
    assert code == 302 and "error" in location
    code, location, cookie = login(with_login["kafka_ui_auth_password"])
    assert code == 302 and "error" not in location and cookie.startswith("SESSION=")
    session = cookie.split(";")[0]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        online = [c for c in get("/api/clusters", cookie=session) if c["status"] == "online"]
        if online:
            break
        time.sleep(2)
    assert online and online[0]["brokerCount"] == 1
