"""Errors every layer may raise and the command line maps to exit codes.

They live here, not in `skeleton.cli`, so the library never imports the CLI (the CLI imports the
library and the command modules, which import this).
"""

from __future__ import annotations


class UsageError(Exception):
    """A user-facing error (bad arguments, a missing file): one line, exit code 2."""


class InputError(Exception):
    """An input whose content cannot be used (e.g. not a valid annotation pickle): one line,
    exit code 1."""
