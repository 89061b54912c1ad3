"""The one packaging flow of every dataset pickle (NTU 3D, dense 2D, Kinetics-400's compressed
2D): annotations streamed into a pickle sorted by frame_dir, the split set from the names that
made it, strict mode and "no usable sample" as failures that name the rejects report, and the
end-of-run summary on success and failure alike.

A packaging step describes where it reports with one `Report` (dataset, kind, the rejects report
its messages name, and in the workflow the job's summary file and log) and hands `write_pickle`
its annotations (any order: shards are hash buckets of the names), a function that makes the
split of the packaged names, and its rejects. Where strict mode is checked is the step's: the 2D
steps know their rejects (their report is an input) and check before writing; the 3D step learns
the shards' rejects while it streams them and checks after, with the pickle written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skeleton.core.annotations import AnnotationWriter
from skeleton.core.rejects import (
    NoUsableSamples,
    Reject,
    StrictModeError,
    count_reasons,
    failures,
    reasons_text,
)
from skeleton.core.summary import write_summary

STRICT_SHOWN = 20  # rejects printed to the job's log when strict mode fails (the report has all)

Split = dict[str, list[str]]


@dataclass(frozen=True)
class Report:
    """Where a packaging step reports: what it packages, the rejects report (TSV) its messages
    name, and in the workflow the job's summary (skeleton.core.summary, beside its log) and log.
    Without `summary` nothing is printed or written (the CLI prints its own lines)."""

    dataset: str
    kind: str  # 3d, 2d, 2d-compressed
    rejects: str | os.PathLike | None = None
    summary: str | os.PathLike | None = None
    log: str | os.PathLike | None = None

    def see(self) -> str:
        return f"see {self.rejects}" if self.rejects else "--rejects FILE lists them"

    def summarize(
        self,
        samples: int,
        rejects: Iterable[Reject],
        error: str | None = None,
        output: str | os.PathLike | None = None,
        splits: Iterable[str] = (),
    ) -> None:
        write_summary(
            self.summary, self.dataset, self.kind, samples, rejects, self.rejects, self.log,
            error, output=output, splits=splits,
        )  # fmt: skip

    def check_strict(
        self,
        rejects: list[Reject],
        samples: int,
        output: str | os.PathLike | None = None,
        splits: Iterable[str] = (),
    ) -> None:
        """Strict mode: StrictModeError when a reject counts as a failure (all but those the
        dataset leaves out), after the failing summary; the job's log lists the first few."""
        failed = failures(rejects)
        if not failed:
            return
        error = f"strict: {len(failed)} sample(s) rejected"
        self.summarize(samples, rejects, error, output, splits)
        shown = sorted(set(failed))
        if self.summary:  # the workflow job's log (the CLI prints its own list)
            for r in shown[:STRICT_SHOWN]:
                print(f"rejected: {r}", file=sys.stderr)
            if len(shown) > STRICT_SHOWN:
                print(f"... and {len(shown) - STRICT_SHOWN} more", file=sys.stderr)
        reasons = reasons_text(count_reasons(failed))
        raise StrictModeError(
            f"{self.dataset}: {len(failed)} sample(s) rejected ({reasons}); {self.see()}", failed
        )


@dataclass(frozen=True)
class Packaged:
    """What a pickle holds: its sample names (sorted), its split, and the dataset's rejects."""

    names: list[str]
    split: Split
    rejects: list[Reject]

    def counts(self) -> dict[str, Any]:
        return {
            "samples": len(self.names),
            "splits": {k: len(v) for k, v in self.split.items()},
            "rejects": count_reasons(self.rejects),
            "rejected": len(self.rejects),
        }


def restricted(split: Mapping[str, list[str]], names: Iterable[str]) -> Split:
    """A fixed split assignment restricted to the packaged `names` (its order kept)."""
    have = set(names)
    return {k: [n for n in v if n in have] for k, v in split.items()}


def write_pickle(
    report: Report,
    out_pkl: str | os.PathLike,
    annotations: Iterable[Mapping[str, Any]],
    split_of: Callable[[list[str]], Split],
    rejects_of: Callable[[], list[Reject]],
    why_none: Callable[[list[Reject]], str] = lambda rejects: "",
) -> Packaged:
    """Stream `annotations` into `out_pkl` (written whole or not at all), then take the rejects
    (`rejects_of`: the 3D step's are known only once its shards are read) and set the split
    (`split_of(sorted names)`). No annotation: NoUsableSamples naming the report, after the
    failing summary, and no pickle (one from an earlier run is removed too); `why_none` adds
    the dataset's own hint to the message."""
    names: list[str] = []
    with AnnotationWriter(out_pkl, sort_by="frame_dir") as w:
        for a in annotations:
            w.add(a)
            names.append(a["frame_dir"])
        rejects = list(rejects_of())
        if not names:  # the exception aborts the write
            error = (
                f"no usable {report.dataset} sample among the inputs ({len(rejects)} rejected)"
                + why_none(rejects)
            )
            report.summarize(0, rejects, error)
            Path(out_pkl).unlink(missing_ok=True)
            raise NoUsableSamples(f"{error}; {report.see()}", rejects)
        names.sort()
        w.split = split_of(names)
    return Packaged(names, dict(w.split), rejects)
