"""The rejects report: every sample or file that did not make it into a dataset, and why.

`Reject` is one row; its reason is a code of skeleton.core.reasons. `RejectError` is the one
exception base of "this input cannot be used": a reader, denoiser or pose step raises a subclass
with a reason and a detail, and the step that runs one sample turns it into its Reject
(`rejected`); nothing else is caught and translated by hand.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass

from skeleton.core.files import atomic_write
from skeleton.core.reasons import LEFT_OUT

COLUMNS = ("sample", "source", "reason", "detail")


@dataclass(frozen=True, order=True)
class Reject:
    sample: str  # sample name (or the file's stem when it is not a valid name)
    source: str  # file (or archive::member) it came from
    reason: str  # short snake_case code, e.g. missing_listed, malformed, no_skeleton
    detail: str  # human-readable: file, line and what is wrong

    def __str__(self) -> str:
        return f"{self.sample}: {self.reason}: {self.detail}"


class RejectError(Exception):
    """An input that cannot be used: `reason` (a code of skeleton.core.reasons) and `detail`
    (what is wrong, and where), the two columns its Reject gets. The message is
    "reason: detail" unless a subclass says otherwise."""

    def __init__(self, reason: str, detail: str, message: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if message is None else message)
        self.reason = reason
        self.detail = detail

    def rejected(self, sample: str, source: str) -> Reject:
        """The rejects row of `sample` (read from `source`) that this error stands for."""
        return Reject(sample, source, self.reason, self.detail)


def _clean(text: str) -> str:
    # one line, no tabs; characters that cannot be UTF-8 (a file name's undecodable bytes)
    # shown as \x.. escapes
    text = " ".join(str(text).split())
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "backslashreplace")


def write_rejects(rejects: Iterable[Reject], path: str | os.PathLike) -> None:
    rows = sorted(set(rejects))
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            f.write("\t".join(_clean(x) for x in astuple(r)) + "\n")


def read_rejects(path: str | os.PathLike) -> list[Reject]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Reject(**{k: row[k] for k in COLUMNS}) for row in reader]


def failures(rejects: Iterable[Reject]) -> list[Reject]:
    """The rejects strict mode fails on: all but those the dataset leaves out
    (skeleton.core.reasons.LEFT_OUT: NTU120 samples in an ntu60 build, HMDB51 videos in no
    split, videos no list names; listed so the report accounts for every input)."""
    return [r for r in rejects if r.reason not in LEFT_OUT]


def count_reasons(rejects: Iterable[Reject]) -> dict[str, int]:
    return dict(sorted(Counter(r.reason for r in rejects).items()))


def reasons_text(counts: Mapping[str, int]) -> str:
    """Counts by reason as messages write them: `bad_line 2, missing_video 1`."""
    return ", ".join(f"{k} {n}" for k, n in counts.items())


# Errors of a packaging step (3D or 2D) that knew its rejects when it failed.
class PackagingError(Exception):
    """Packaging failed after the rejects were known: `rejects` holds them (for the caller's
    message, without the report file, which may be temporary)."""

    def __init__(self, message: str, rejects: Iterable[Reject] = ()) -> None:
        super().__init__(message)
        self.rejects = sorted(set(rejects))


class NoUsableSamples(PackagingError, ValueError):
    """Nothing to package: every sample was rejected or none belongs to the dataset."""


class StrictModeError(PackagingError, RuntimeError):
    """strict: true and at least one sample was rejected."""
