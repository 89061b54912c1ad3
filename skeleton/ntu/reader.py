"""Reading NTU RGB+D / Kinect v2 `.skeleton` files.

`parse_skeleton` is strict: any deviation from the format (token counts, truncation, non-numeric
or non-finite values, counts that do not add up, trailing content) raises `SkeletonFormatError`
with the file, the 1-based line number and the reason. Values are parsed exactly as Python's
`float()` does, so downstream float32/float64 arithmetic matches the public tools bit for bit.
Lines may end in LF, CRLF or a lone CR: the public tools open the files in text mode (universal
newlines), so they read all three alike, and so do we.

Every token of every line is checked, but only the joint fields asked for (`columns`) are
converted and kept: the 3D build needs x, y, z; the 2D quality check the colour-frame joints.

The C extension `_skelparse` does the work; `_parse_python` is the same reader in pure Python,
used when the extension was not built and as the reference in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skeleton.core.reasons import MALFORMED
from skeleton.core.rejects import RejectError

NTU_JOINTS = 25  # Kinect v2 skeleton joints
JOINT_FIELDS = 12  # x y z depthX depthY colorX colorY orientW orientX orientY orientZ tracking
# bodyID clipedEdges handLeft{Confidence,State} handRight{..} isRestricted leanX leanY tracking
BODY_FIELDS = 10
ALL_COLUMNS = tuple(range(JOINT_FIELDS))
XYZ = (0, 1, 2)  # the camera-space joint position, all the 3D annotations need

try:  # pragma: no cover - exercised implicitly
    from skeleton.ntu import _skelparse
except ImportError:  # pragma: no cover
    _skelparse = None


class SkeletonFormatError(RejectError, ValueError):
    """A `.skeleton` file that does not follow the format: reason `malformed`, detail (and
    message) `source:line: problem`."""

    def __init__(self, source: str, line: int, problem: str):
        where = f"{source}:{line}: {problem}"
        super().__init__(MALFORMED, where, where)
        self.source = source
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class SkeletonData:
    """The parsed content of one file; body occurrences are in file order."""

    n_frames: int  # frame count from the header (frames with no body included)
    bodies_per_frame: np.ndarray  # (n_frames,) int32
    body_ids: np.ndarray  # (n_bodies,) int64: one entry per body occurrence
    joints: np.ndarray  # (n_bodies, 25, len(columns)) float64: the parsed joint fields
    columns: tuple[int, ...] = ALL_COLUMNS  # which of the 12 joint fields `joints` holds

    @property
    def body_frame(self) -> np.ndarray:
        """Frame index (0-based, counting empty frames) of every body occurrence."""
        return np.repeat(np.arange(self.n_frames, dtype=np.int32), self.bodies_per_frame)

    @property
    def body_slot(self) -> np.ndarray:
        """Position of every body occurrence within its frame (0 = first listed)."""
        starts = np.cumsum(self.bodies_per_frame) - self.bodies_per_frame
        return np.arange(len(self.body_ids), dtype=np.int64) - np.repeat(
            starts, self.bodies_per_frame
        )


def parse_skeleton(
    data: bytes,
    source: str = "<bytes>",
    engine: str | None = None,
    columns: tuple[int, ...] = ALL_COLUMNS,
) -> SkeletonData:
    """Parse the bytes of one `.skeleton` file; raise SkeletonFormatError when malformed.

    engine: "c" (default when built) or "python" (the reference reader).
    columns: the joint fields (0-based, ascending) to convert and keep in `joints`.
    """
    if not columns or list(columns) != sorted(set(columns)) or not set(columns) <= set(ALL_COLUMNS):
        raise ValueError(f"columns must be ascending joint fields 0..11, got {columns!r}")
    use_c = _skelparse is not None if engine is None else engine == "c"
    try:
        return _parse_c(data, source, columns) if use_c else _parse_python(data, source, columns)
    except SkeletonFormatError as exc:
        # A short last line without its line end is a cut-off file, not a bad line.
        ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
        cut = data and not data.endswith((b"\n", b"\r"))
        if cut and exc.line == ends + 1 and "truncated" not in exc.problem:
            raise SkeletonFormatError(
                source, exc.line, f"{exc.problem}: the file ends mid-line (truncated)"
            ) from None
        raise


def _parse_c(data: bytes, source: str, columns: tuple[int, ...]) -> SkeletonData:
    if _skelparse is None:
        raise RuntimeError("the C reader (skeleton.ntu._skelparse) was not built")
    try:
        n_frames, bpf, ids, joints = _skelparse.parse(data, sum(1 << c for c in columns))
    except ValueError as exc:
        line, reason = exc.args[0] if len(exc.args) == 1 else exc.args
        raise SkeletonFormatError(source, line, reason) from None
    return SkeletonData(
        n_frames=n_frames,
        bodies_per_frame=np.frombuffer(bpf, dtype=np.int32),
        body_ids=np.frombuffer(ids, dtype=np.int64),
        joints=np.frombuffer(joints, dtype=np.float64).reshape(-1, NTU_JOINTS, len(columns)),
        columns=tuple(columns),
    )


def read_skeleton(path: str, columns: tuple[int, ...] = ALL_COLUMNS) -> SkeletonData:
    with open(path, "rb") as f:
        return parse_skeleton(f.read(), path, columns=columns)


# --- pure-Python reference reader (same checks, same messages) -----------------------------


def _number(tok: bytes, lineno: int, source: str, where: str) -> float:
    try:
        # float() also takes '1_0' (underscores), which the C reader refuses
        if b"_" in tok:
            raise ValueError
        v = float(tok)
    except ValueError:
        raise SkeletonFormatError(
            source, lineno, f"non-numeric value '{_show(tok)}' in {where} line"
        ) from None
    if not math.isfinite(v):
        raise SkeletonFormatError(
            source, lineno, f"non-finite value '{_show(tok, whole=True)}' in {where} line"
        )
    return v


# A message quotes a bad token only as far as it could be part of a number: up to and with its
# first other byte, at most QUOTE_MAX bytes, escaped (\\, \', \xNN for bytes that are not
# printable ASCII), '...' where cut. A file that is not a skeleton file at all (a link to
# /proc/self/environ, /etc/passwd) so puts one byte of it into a rejects report, not its text.
QUOTE_MAX = 20
_NUMBER_BYTES = frozenset(b"0123456789+-.eE")
_ESCAPES = {ord("\\"): "\\\\", ord("'"): "\\'"}


def _show(tok: bytes, whole: bool = False) -> str:
    """A token as messages quote it; `whole`: a valid float spelling (inf, nan, an overflowing
    number), quoted up to QUOTE_MAX bytes."""
    out = []
    for i, c in enumerate(tok[:QUOTE_MAX]):
        out.append(_ESCAPES.get(c) or (chr(c) if 32 <= c < 127 else f"\\x{c:02x}"))
        if not whole and c not in _NUMBER_BYTES:
            return "".join(out) + ("..." if i + 1 < len(tok) else "")
    return "".join(out) + ("..." if len(tok) > QUOTE_MAX else "")


def _count(tok: bytes, lineno: int, source: str, fmt: str) -> int:
    if not tok.isdigit() or len(tok) > 9:
        raise SkeletonFormatError(source, lineno, fmt.format(_show(tok)))
    return int(tok)


def _parse_python(data: bytes, source: str, columns: tuple[int, ...] = ALL_COLUMNS) -> SkeletonData:
    if not data:
        raise SkeletonFormatError(source, 1, "empty file")
    lines = data.splitlines()  # LF, CRLF and lone CR, as text-mode open() reads them
    pos = 0

    def take() -> tuple[int, list[bytes]] | None:
        nonlocal pos
        if pos >= len(lines):
            return None
        pos += 1
        return pos, lines[pos - 1].split()

    lineno, toks = take()  # type: ignore[misc]
    if len(toks) != 1:
        raise SkeletonFormatError(
            source, lineno, f"frame-count line has {len(toks)} tokens, expected 1"
        )
    nf = _count(toks[0], lineno, source, "frame count must be a non-negative integer, got '{}'")
    bpf: list[int] = []
    ids: list[int] = []
    rows: list[list[float]] = []

    def count_line(what: str, f: int) -> int:
        got = take()
        if got is None:
            raise SkeletonFormatError(
                source, pos + 1, f"file ends before the {what} of frame {f + 1} of {nf} (truncated)"
            )
        ln, tk = got
        if len(tk) != 1:
            raise SkeletonFormatError(source, ln, f"{what} line has {len(tk)} tokens, expected 1")
        return _count(tk[0], ln, source, "expected a non-negative integer, got '{}'")

    for f in range(nf):
        nb = count_line("body count", f)
        bpf.append(nb)
        for b in range(nb):
            got = take()
            if got is None:
                raise SkeletonFormatError(
                    source,
                    pos + 1,
                    f"file ends inside frame {f + 1} of {nf}: body {b + 1} of {nb} missing "
                    "(truncated)",
                )
            ln, tk = got
            if len(tk) != BODY_FIELDS:
                raise SkeletonFormatError(
                    source,
                    ln,
                    f"body line (frame {f + 1}, body {b + 1}) has {len(tk)} tokens, "
                    f"expected {BODY_FIELDS}",
                )
            if not tk[0].isdigit() or len(tk[0]) > 19 or int(tk[0]) > 2**63 - 1:
                raise SkeletonFormatError(
                    source,
                    ln,
                    f"body id must be a non-negative 64-bit integer, got '{_show(tk[0])}'",
                )
            for t in tk[1:]:
                _number(t, ln, source, "body")
            ids.append(int(tk[0]))
            nj = count_line("joint count", f)
            if nj != NTU_JOINTS:
                raise SkeletonFormatError(
                    source, pos, f"joint count is {nj}, expected {NTU_JOINTS}"
                )
            for j in range(NTU_JOINTS):
                got = take()
                if got is None:
                    raise SkeletonFormatError(
                        source,
                        pos + 1,
                        f"file ends inside frame {f + 1} of {nf}, body {b + 1}: joint {j + 1} of "
                        f"{NTU_JOINTS} missing (truncated)",
                    )
                ln, tk = got
                if len(tk) != JOINT_FIELDS:
                    raise SkeletonFormatError(
                        source,
                        ln,
                        f"joint line (frame {f + 1}, body {b + 1}, joint {j + 1}) has {len(tk)} "
                        f"tokens, expected {JOINT_FIELDS}",
                    )
                values = [_number(t, ln, source, "joint") for t in tk]
                rows.append([values[c] for c in columns])
    while (got := take()) is not None:
        if got[1]:
            raise SkeletonFormatError(
                source, got[0], f"unexpected content after the last of {nf} declared frames"
            )
    return SkeletonData(
        n_frames=nf,
        bodies_per_frame=np.array(bpf, dtype=np.int32),
        body_ids=np.array(ids, dtype=np.int64),
        joints=np.array(rows, dtype=np.float64).reshape(-1, NTU_JOINTS, len(columns)),
        columns=tuple(columns),
    )
