"""One summary per packaged dataset: samples, rejects by reason, where the report is.

A packaging step calls `write_summary` (3D and 2D alike): it prints the summary into the job's
log and writes it as JSON beside the log. At the end of a workflow run (success or failure) the
Snakefile calls `print_summaries`, which prints every summary written during the run, so a run
that rejected a sample says so on the console. Where the report comes from does not matter
here: it is named only if it exists when the summaries are printed (a failed job's outputs are
deleted by Snakemake), else the log is named.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from skeleton.core.files import atomic_write
from skeleton.core.reasons import LEFT_OUT
from skeleton.core.rejects import Reject, count_reasons, failures, reasons_text

SUFFIX = ".summary.json"
EXAMPLES = 3  # rejected samples named in a summary
DETAIL_CHARS = 160  # a rejected sample's line is cut to this length


def write_summary(
    path: str | os.PathLike | None,
    dataset: str,
    kind: str,
    samples: int,
    rejects: Iterable[Reject],
    report: str | os.PathLike | None = None,
    log: str | os.PathLike | None = None,
    error: str | None = None,
    output: str | os.PathLike | None = None,
    splits: Iterable[str] = (),
) -> dict[str, Any]:
    """Print the summary of one packaged dataset to stderr (the job's log) and write it to `path`.

    `kind` is what was packaged (3d, 2d, ...); `error` says why the step fails, when it does
    (call this before raising, so the end-of-run summary still has it); `output` is the pickle
    written and `splits` its split names. Without `path` nothing is printed or written (callers
    outside the workflow, such as the CLI, print their own).
    """
    everything = sorted(set(rejects))
    rejects = failures(everything)
    reasons, left_out = split_counts(everything)
    doc = {
        "dataset": dataset,
        "kind": kind,
        "samples": samples,
        "rejected": len(rejects),
        "reasons": reasons,
        "left_out": left_out,
        "examples": [str(r) for r in rejects[:EXAMPLES]],
        "report": str(report) if report else None,
        "log": str(log) if log else None,
        "error": error,
        "output": str(output) if output else None,
        "splits": list(splits),
    }
    if not path:
        return doc
    for line in summary_lines(doc, check_files=False):
        print(line, file=sys.stderr)
    with atomic_write(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    return doc


def split_counts(rejects: Iterable[Reject]) -> tuple[dict[str, int], dict[str, int]]:
    """Counts by reason of the failures and, apart, of the samples the dataset leaves out
    (skeleton.core.reasons.LEFT_OUT)."""
    everything = list(rejects)
    left_out = count_reasons(r for r in everything if r.reason in LEFT_OUT)
    return count_reasons(failures(everything)), left_out


def counts_text(reasons: Mapping[str, int], left_out: Mapping[str, int]) -> str:
    """`3 rejected (bad_line 2, missing_video 1), 12 left out (not_in_dataset 12)`."""
    text = f"{sum(reasons.values())} rejected"
    if reasons:
        text += f" ({reasons_text(reasons)})"
    if left_out:  # e.g. NTU120 samples in an ntu60 build: listed, not failures
        text += f", {sum(left_out.values())} left out ({reasons_text(left_out)})"
    return text


def _cut(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 3] + "..."


def summary_lines(doc: dict[str, Any], check_files: bool = True) -> list[str]:
    """The summary as text: one line of counts, then a few rejected samples.

    With `check_files`, the report is named only if it exists now, else the log (if it does).
    """

    def there(path: str | None) -> bool:
        return bool(path) and (not check_files or os.path.exists(path))

    head = f"{doc['dataset']} {doc['kind']}: "
    if doc.get("error"):
        head += f"FAILED ({_cut(doc['error'])}); "
    left_out = doc.get("left_out") or {}
    head += f"{doc['samples']} samples, {counts_text(doc['reasons'], left_out)}"
    report, log = doc.get("report"), doc.get("log")
    if doc["rejected"] or left_out:
        if there(report):
            head += f"; report: {report}"
        elif there(log):
            head += f"; listed in {log}"
    elif there(report):
        head += f"; report: {report} (no rejected sample)"
    lines = [head]
    lines += [f"  {_cut(e)}" for e in doc.get("examples", [])]
    if doc["rejected"] > len(doc.get("examples", [])):
        lines.append(f"  ... {doc['rejected'] - len(doc['examples'])} more")
    if there(doc.get("output")):
        lines.append(f"  pickle: {doc['output']}{_splits_note(doc.get('splits') or [])}")
    return lines


def _splits_note(splits: list[str]) -> str:
    """The pickle's splits; several benchmarks (NTU: xsub and xview, or xsub and xset) share one
    pickle, which users expecting one file per benchmark need to be told."""
    if not splits:
        return ""
    note = f", splits {' '.join(splits)}"
    benchmarks = list(dict.fromkeys(s.rpartition("_")[0] for s in splits if "_" in s))
    if len(benchmarks) > 1:
        first = [s for s in splits if s.startswith(benchmarks[0] + "_")]
        note += (
            f": one pickle for every benchmark ({', '.join(benchmarks)}), pick one by its "
            f"splits, e.g. {' / '.join(first)}"
        )
    return note


def read_summaries(root: str | os.PathLike, since: float | None = None) -> list[dict[str, Any]]:
    """Summaries under `root` (recursively), sorted by path; only those written at or after
    `since` (a time.time() value) when given. Unreadable files are skipped."""
    found = []
    for p in sorted(Path(root).rglob(f"*{SUFFIX}")):
        try:
            if since is not None and p.stat().st_mtime < since:
                continue
            found.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            continue
    return found


def print_summaries(
    root: str | os.PathLike = "logs", since: float | None = None, file: TextIO | None = None
) -> int:
    """Print the summaries written under `root` since `since`; returns how many."""
    docs = read_summaries(root, since)
    out = file or sys.stderr
    if docs:
        print(f"Datasets packaged in this run ({len(docs)}):", file=out)
    for doc in docs:
        for line in summary_lines(doc):
            print(line, file=out)
    return len(docs)
