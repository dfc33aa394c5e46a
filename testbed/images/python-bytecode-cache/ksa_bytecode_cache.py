"""Test bed only, not part of the collection: a bytecode cache for code Python imports from zip files.

Every task Ansible runs on a host is a fresh Python process that imports the module and its module_utils from
the AnsiballZ zip, and Python's zipimport compiles that source again each time (a zip carries no __pycache__):
about 0.2 s of CPU per task, most of it ansible.module_utils.basic, on some thousands of tasks per scenario. This
keeps each compiled source file, keyed by a hash of its path in the zip and its text, in CACHE (0700, root's), as
Python's own __pycache__ keeps a file's bytecode: the code run is the same, compiled once. Installed into the
test bed's base images (testbed/images/build-base.sh) with the .pth file beside it, which calls install() at start.
"""

import hashlib
import marshal
import os
import sys
import zipimport

CACHE = "/var/cache/ksa-bytecode"
_MARK = ".zip" + os.sep


def _with_filename(code, filename):
    """``code`` and the code objects nested in it, with co_filename ``filename`` (this run's zip path)."""
    consts = tuple(_with_filename(const, filename) if isinstance(const, type(code)) else const
                   for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def install(cache=CACHE):
    """Compile zip-imported sources through the cache in ``cache``; only for root, and only when ``cache`` is
    root's alone (the cache holds code this interpreter runs). Returns whether it did."""
    compile_source = getattr(zipimport, "_compile_source", None)
    if compile_source is None or os.geteuid() != 0 or getattr(compile_source, "cache", None):
        return False
    try:
        os.makedirs(cache, mode=0o700, exist_ok=True)
        found = os.lstat(cache)
    except OSError:
        return False
    if found.st_uid != 0 or found.st_mode & 0o077:
        return False
    tag = sys.implementation.cache_tag

    def cached_compile(pathname, source):
        inner = pathname.split(_MARK, 1)[-1]
        text = source if isinstance(source, bytes) else str(source).encode()
        key = hashlib.sha256(b"%s\0%s\0%s" % (tag.encode(), inner.encode(), text)).hexdigest()
        path = os.path.join(cache, key)
        try:
            with open(path, "rb") as handle:
                return _with_filename(marshal.load(handle), pathname)
        except (OSError, EOFError, ValueError, TypeError):
            pass
        code = compile_source(pathname, source)
        try:
            temporary = f"{path}.{os.getpid()}"
            with open(temporary, "wb") as handle:
                marshal.dump(code, handle)
            os.replace(temporary, path)
        except OSError:
            pass
        return code

    cached_compile.cache = cache
    zipimport._compile_source = cached_compile
    return True
