import pytest
from ansible.errors import AnsibleFilterError

from conftest import load_plugin

artifacts = load_plugin("filter", "artifacts")
DIGEST = "ab12" * 32  # 128 hex digits

GPG = """kafka_2.13-3.9.0.tgz: {a} {b} {c} {d}
                      {e} {f} {g} {h}
                      {i} {j} {k} {l}
                      {m} {n} {o} {p}
""".format(**{k: DIGEST[i * 8:(i + 1) * 8].upper() for i, k in enumerate("abcdefghijklmnop")})


def test_gpg_print_md_layout_is_normalised():
    assert artifacts.apache_checksum(GPG, "kafka_2.13-3.9.0.tgz") == f"sha512:{DIGEST}"


def test_sha512sum_layout():
    text = f"{DIGEST}  apache-zookeeper-3.8.4-bin.tar.gz\n"
    assert artifacts.apache_checksum(text, "apache-zookeeper-3.8.4-bin.tar.gz") == f"sha512:{DIGEST}"


def test_binary_mode_marker_and_bare_digest():
    assert artifacts.apache_checksum(f"{DIGEST.upper()} *x.tgz") == f"sha512:{DIGEST}"
    assert artifacts.apache_checksum(DIGEST + "\n") == f"sha512:{DIGEST}"


def test_file_listing_several_archives_picks_the_named_one():
    other = "cd34" * 32
    text = f"{other}  a.tgz\n{DIGEST}  b.tgz\n"
    assert artifacts.apache_checksum(text, "b.tgz") == f"sha512:{DIGEST}"


def test_checksum_of_another_file_is_refused():
    with pytest.raises(AnsibleFilterError, match="not kafka_2.13-3.9.1.tgz"):
        artifacts.apache_checksum(GPG, "kafka_2.13-3.9.1.tgz")


@pytest.mark.parametrize("text", ["", "   \n", "<html>404 Not Found</html>", "abc123  x.tgz"])
def test_garbage_is_refused(text):
    with pytest.raises(AnsibleFilterError):
        artifacts.apache_checksum(text)
