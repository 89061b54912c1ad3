"""One reject vocabulary: every reason code is written once, in skeleton/core/reasons.py, and
every "this input cannot be used" exception is a RejectError that makes its own rejects row."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

from skeleton.core import reasons
from skeleton.core.rejects import Reject, RejectError

CODES = {name: value for name, value in vars(reasons).items() if name.isupper()}
CODES.pop("LEFT_OUT")
ELSEWHERE: set[str] = set()  # files not (yet) on the vocabulary: none


def test_codes_are_distinct_snake_case():
    assert len(set(CODES.values())) == len(CODES)
    for name, code in CODES.items():
        assert code == name.lower(), name
    assert reasons.LEFT_OUT <= set(CODES.values())


def literal_codes(path: Path) -> list[tuple[int, str]]:
    """(line, code) of each reason code written as a string in a call or a comparison."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            values = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Compare):
            values = [node.left, *node.comparators]
        else:
            continue
        found += [
            (v.lineno, v.value)
            for v in values
            if isinstance(v, ast.Constant) and v.value in CODES.values()
        ]
    return found


def test_no_code_is_written_outside_the_vocabulary():
    package = REPO / "skeleton"
    written = {
        str(p.relative_to(REPO)): literal_codes(p)
        for p in sorted(package.rglob("*.py"))
        if p.name != "reasons.py" and str(p.relative_to(REPO)) not in ELSEWHERE
    }
    assert {k: v for k, v in written.items() if v} == {}


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("skeleton.ntu.reader", "SkeletonFormatError"),
        ("skeleton.ntu.denoise", "NoSkeleton"),
        ("skeleton.pose.video", "VideoError"),
        ("skeleton.pose.extract", "PoseError"),
        ("skeleton.pose.postproc_mmaction2", "NoActorBoxes"),
    ],
)
def test_every_reason_exception_is_a_reject_error(module, name):
    import importlib

    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, RejectError)


def test_a_reject_error_makes_its_row():
    from skeleton.ntu.denoise import NoSkeleton
    from skeleton.ntu.reader import SkeletonFormatError

    err = SkeletonFormatError("a.skeleton", 3, "bad token")
    assert str(err) == "a.skeleton:3: bad token"
    assert err.rejected("A", "a.skeleton") == Reject(
        "A", "a.skeleton", reasons.MALFORMED, "a.skeleton:3: bad token"
    )
    row = NoSkeleton(reasons.NO_SKELETON).rejected("A", "a.skeleton")
    assert row.reason == reasons.NO_SKELETON and row.detail.startswith("a.skeleton: the file")
    assert NoSkeleton(reasons.ALL_ZERO, line=7).rejected("A", "f").detail.startswith("f:7: ")
