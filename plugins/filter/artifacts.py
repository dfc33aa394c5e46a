"""Filters for downloaded release artifacts (Apache tarballs and their checksum files)."""

import re

from ansible.errors import AnsibleFilterError

_HEX = re.compile(r"[0-9a-fA-F]+")
_LENGTHS = {128: "sha512", 64: "sha256", 40: "sha1"}


def apache_checksum(text, filename=None):
    """Return ``<algo>:<hex>`` from the text of an Apache ``.sha512`` (or ``.sha256``) file.

    Apache projects publish checksums in two layouts, and both must be accepted:

    * ``sha512sum`` layout: ``<hex>  <file name>`` (one line, lowercase);
    * ``gpg --print-md sha512`` layout, used by Kafka: ``<file name>: 1A2B3C4D 5E6F...``,
      uppercase hex in groups of eight, wrapped over several lines.

    When ``filename`` is given and the text names several files, the entry for that file is used.
    """
    if not isinstance(text, str) or not text.strip():
        raise AnsibleFilterError("apache_checksum: the checksum file is empty")
    entries = _entries(text)
    if filename:
        named = [digest for name, digest in entries if name and name.split("/")[-1] == filename]
        if named:
            entries = [(filename, named[0])]
        elif any(name for name, _ in entries):
            names = ", ".join(sorted({name for name, _ in entries if name}))
            raise AnsibleFilterError(
                f"apache_checksum: the checksum file lists {names}, not {filename}"
            )
    if len(entries) != 1:
        raise AnsibleFilterError(
            f"apache_checksum: expected one checksum, found {len(entries)} in {text[:200]!r}"
        )
    digest = entries[0][1]
    return f"{_LENGTHS[len(digest)]}:{digest}"


def _entries(text):
    """Split a checksum file into (file name or None, lowercase hex digest) pairs."""
    entries = []
    # gpg --print-md: "name: HEX HEX\n    HEX ..." -- a name ends with ":" and hex continues on the
    # following indented lines until the next "name:".
    if re.search(r"^\S[^\n]*?:\s+[0-9A-Fa-f]{8}(\s|$)", text, re.M):
        for block in re.split(r"\n(?=\S[^\n]*?:\s)", text.strip()):
            name, _, rest = block.partition(":")
            digest = "".join(_HEX.findall(rest.replace("\n", " ")))
            if len(digest) in _LENGTHS and re.fullmatch(r"[0-9A-Fa-f\s]+", rest.strip()):
                entries.append((name.strip(), digest.lower()))
        if entries:
            return entries
    # sha512sum: "<hex>  [*]<name>" per line; or a bare hex digest.
    for line in text.splitlines():
        match = re.match(r"^\s*([0-9A-Fa-f]+)\s*(?:[ *]+(\S.*?))?\s*$", line)
        if match and len(match.group(1)) in _LENGTHS:
            entries.append((match.group(2), match.group(1).lower()))
    return entries


class FilterModule:
    """Artifact filters."""

    def filters(self):
        return {"apache_checksum": apache_checksum}
