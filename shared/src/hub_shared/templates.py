"""Jinja templates compiled once per machine, not once per process: the NHS.UK frontend's
macros are many templates, and compiling them was most of a service's first pages' time
(every process of a test run, every service start). Jinja's own bytecode cache, keyed by
each template's name and source (a changed template is compiled again), kept in the user's
own cache folder beside the broker's (``~/.cache/ics-hub``, or under ``$XDG_CACHE_HOME``):
not in the shared temporary folder, where another user could take the name first. Where that
folder cannot be made (a read-only home), each process compiles its own, in memory."""

import os
from pathlib import Path

from jinja2 import BytecodeCache, FileSystemBytecodeCache


def _compiled() -> BytecodeCache | None:
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ics-hub" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


COMPILED = _compiled()
