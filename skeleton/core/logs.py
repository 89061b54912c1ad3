"""Sending a workflow step's output to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

from skeleton.core.errors import InputError, UsageError
from skeleton.core.rejects import PackagingError

# Errors a step raises for its inputs (a missing or unusable file, no usable sample, strict
# mode): their message says it all. Anything else is a bug and keeps its traceback in the log.
EXPECTED = (InputError, UsageError, PackagingError, ValueError, OSError)


@contextlib.contextmanager
def log_to(path: str | os.PathLike | None) -> Iterator[None]:
    """Redirect stdout/stderr (progress bars, warnings, tracebacks) to `path` while inside. An
    EXPECTED error ends the step with its one-line message in the log and on the console
    (exit status 1), not a traceback."""
    if not path:
        yield
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        handler = logging.StreamHandler(f)
        logging.getLogger().addHandler(handler)
        try:
            yield
        except EXPECTED as exc:  # bad input, not a bug: one line, here and on the console
            print(f"error: {exc}", file=f)
            print(f"error: {exc} (log: {path})", file=sys.__stderr__, flush=True)
            raise SystemExit(1) from None
        except BaseException:
            import traceback

            traceback.print_exc(file=f)
            raise
        finally:
            logging.getLogger().removeHandler(handler)
            sys.stderr.flush()
