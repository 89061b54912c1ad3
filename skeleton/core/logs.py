"""Sending a workflow step's output to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

from skeleton.core.errors import InputError, UsageError
from skeleton.core.rejects import PackagingError, StrictModeError

# Failures that are the data's or the user's (strict mode, no usable sample, a bad input, an
# input folder with no raw file, an unreadable file): the console gets their one-line message,
# which names the rejects report; the traceback goes to the log only. Anything else is a bug
# and keeps its traceback on the console too.
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (
    PackagingError,
    InputError,
    UsageError,
    ValueError,
    OSError,
)


@contextlib.contextmanager
def log_to(path: str | os.PathLike | None) -> Iterator[None]:
    """Redirect stdout/stderr (progress bars, warnings, tracebacks) to `path` while inside.

    An EXPECTED_FAILURES exception leaves as one line on the real stderr and exit status 1
    (SystemExit), its traceback written to the log only.
    """
    if not path:
        yield
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    console = sys.stderr
    with open(path, "w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        handler = logging.StreamHandler(f)
        logging.getLogger().addHandler(handler)
        try:
            yield
        except EXPECTED_FAILURES as exc:
            import traceback

            traceback.print_exc(file=f)
            what = "strict mode" if isinstance(exc, StrictModeError) else "error"
            print(f"{what}: {exc} (details in {path})", file=console, flush=True)
            raise SystemExit(1) from None
        except BaseException:
            import traceback

            traceback.print_exc(file=f)
            raise
        finally:
            logging.getLogger().removeHandler(handler)
            sys.stderr.flush()
