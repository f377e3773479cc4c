"""Jinja templates compiled once per machine, not once per process: the NHS.UK frontend's
macros are many templates, and compiling them was most of a service's first pages' time
(every process of a test run, every service start). Kept in a folder of this user's own
under the system's temporary folder (Jinja refuses one anyone else could write to), keyed
by each template's name and source, so a changed template is compiled again."""

from jinja2 import FileSystemBytecodeCache

COMPILED = FileSystemBytecodeCache()
