"""Raw NTU inputs that cost more than their size, confuse sources, leak into reports or were
skipped without a word (issues 24 and 25).

* A header of half a million empty frames: energy rejects it (`too_many_frames`) before any
  array of T rows exists; memory stays a small multiple of the file in both denoisers, and a
  32 MB such file is one reject in a process under an address-space cap.
* Zip members whose local headers or data overlap (a bomb's shared stream) are rejected, at
  scan and at read time; the parse read-ahead is bounded in bytes.
* A coordinate float16 cannot hold is `out_of_range` with file and line, never inf.
* Source ids cannot be confused (a folder named 'x.zip::' beside an archive 'x.zip'); reject
  details quote one byte of a file that is not a skeleton file, not its text.
* A cut zip, an unreadable folder, an archive inside a folder, a duplicate with one malformed
  copy: each a reject naming the file or folder, through the CLI and the workflow.
"""

from __future__ import annotations

import os
import pickle
import random
import resource
import shutil
import struct
import subprocess
import tempfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import run_skeleton, run_snakemake, skeleton_cmd

from skeleton.core.files import RawFileError, Source, ZipReader, scan_sources
from skeleton.core.readahead import read_ahead
from skeleton.core.rejects import read_rejects
from skeleton.ntu.denoise import NoSkeleton, denoise
from skeleton.ntu.index import build_index, read_index, write_index
from skeleton.ntu.parse import parse_shard, process_sample
from skeleton.ntu.reader import XYZ, parse_skeleton
from skeleton.ntu.synth import write_synthetic

ENGINES = ("c", "numpy")
BODY = "72057594037931101 0 1 1 1 1 0 0.02764709 0.05745083 2"
JOINT = (
    "0.2181153 0.1725972 3.785547 277.419 191.8218 1036.233 519.1677 -0.2059419 0.05 0.96 -0.12 2"  # noqa: E501
)


def skeleton_text(frames: list[int], x: dict[tuple[int, int], str] | None = None) -> bytes:
    """A file with frames[f] bodies in frame f (one id, a person moving along x), `x` setting
    the x token of (body occurrence, joint) pairs."""
    lines, k = [str(len(frames))], 0
    for f, n in enumerate(frames):
        lines.append(str(n))
        for b in range(n):
            lines += [BODY.replace("931101", f"9311{b:02d}"), "25"]
            for j in range(25):
                toks = JOINT.split()
                toks[0] = (x or {}).get((k, j), f"{0.01 * f + 0.02 * j:.4f}")
                toks[1] = f"{0.05 * j:.4f}"
                lines.append(" ".join(toks))
            k += 1
    return ("\n".join(lines) + "\n").encode()


def run(*args, check: bool = True, **kw) -> subprocess.CompletedProcess:
    p = run_skeleton(*args, **kw)
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
    return p


def load(path: Path) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f)


# --- bombs: memory bounded by the file ------------------------------------------------------


def empty_frame_bomb(frames: int) -> bytes:
    """A header of `frames` frames, one body in the first, every other frame empty ("0")."""
    one = skeleton_text([1])
    return f"{frames}\n".encode() + one[one.index(b"\n") + 1 :] + b"0\n" * (frames - 1)


@pytest.mark.parametrize("mode", ["energy", "pyskl"])
def test_empty_frame_bomb_costs_a_small_multiple_of_its_size(mode: str) -> None:
    data = empty_frame_bomb(500_001)  # ~1 MB; energy used to allocate (4, T, 25, 3) float64
    tracemalloc.start()
    try:
        got = process_sample("S001C001P001R001A001", data, "bomb.skeleton", mode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 * len(data), f"{peak / len(data):.1f} x the file"
    if mode == "energy":
        assert got.reason == "too_many_frames"
        assert got.detail.startswith("bomb.skeleton:1: the header declares 500001 frames")
        for engine in ENGINES:
            with pytest.raises(NoSkeleton) as err:
                denoise(parse_skeleton(data, columns=XYZ), "energy", engine=engine)
            assert err.value.reason == "too_many_frames" and err.value.line == 1
    else:  # pyskl skips empty frames: one frame of one person
        assert got["keypoint"].shape == (1, 1, 25, 3)


def test_energy_frame_bound_leaves_plausible_lengths_alone() -> None:
    """3,000 frames are always taken (10 times NTU's longest clip), more need a body per 4."""
    cases = [([1] + [0] * 2999, True), ([1] + [0] * 3000, False), ([1, 0, 0, 0] * 1000, True),
             ([1, 0, 0, 0, 0] * 1000, False)]  # fmt: skip
    for frames, ok in cases:
        sk = parse_skeleton(skeleton_text(frames), columns=XYZ)
        outs = []
        for engine in ENGINES:
            try:
                outs.append(denoise(sk, "energy", engine=engine))
            except NoSkeleton as exc:
                outs.append(exc.reason)
        if ok:
            assert outs[0].shape[1] == len(frames) and outs[0].tobytes() == outs[1].tobytes()
        else:
            assert outs == ["too_many_frames"] * 2


def test_a_32mb_file_of_empty_frames_is_one_reject_under_a_memory_cap(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_synthetic(raw, 2, seed=1)
    bomb = raw / "S001C001P001R001A001.skeleton"
    bomb.write_bytes(empty_frame_bomb(16_000_000))  # 32 MB, under the 32 MiB cap
    assert 30 << 20 < bomb.stat().st_size < 32 << 20

    def cap() -> None:  # the check: 3 GB of address space (37.5 GiB were asked)
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    out, rej = tmp_path / "o.pkl", tmp_path / "r.tsv"
    run("ntu3d", raw, "--denoise", "energy", "--out", out, "--rejects", rej, preexec_fn=cap)
    rejects = read_rejects(rej)
    assert [(r.sample, r.reason) for r in rejects] == [(bomb.stem, "too_many_frames")]
    assert rejects[0].detail.startswith(f"{bomb}:1: the header declares 16000000 frames")
    assert len(load(out)["annotations"]) == 2


def test_read_ahead_is_bounded_in_bytes(tmp_path: Path) -> None:
    rng = random.Random(3)
    paths = []
    for i in range(30):
        p = tmp_path / f"f{i}.skeleton"
        p.write_bytes(rng.randbytes(1 << 20))
        paths.append(str(p))
    for readers, budget in [(1, 3 << 20), (3, 3 << 20), (2, 1)]:
        stats: dict[str, int] = {}
        got = read_ahead(paths, readers, ahead=16, batch=4, checksums=False, budget=budget,
                         stats=stats)  # fmt: skip
        for path, item in zip(paths, got, strict=True):
            assert item == (Path(path).read_bytes(), None)
        # a reader starts a file only while less than the budget is held
        assert 0 < stats["peak"] < budget + readers * (1 << 20), (readers, budget, stats)


# --- zip members that overlap --------------------------------------------------------------

LOCAL = struct.Struct("<4s5H3L2H")
CENTRAL = struct.Struct("<4s6H3L5H2L")


def raw_zip(path: Path, records: list[bytes], entries: list[tuple]) -> Path:
    """A zip from raw local records (bytes, laid out in order) and central entries
    (name, record index or absolute offset as ('at', n), method, crc, csize, usize)."""
    body, offsets = b"", []
    for r in records:
        offsets.append(len(body))
        body += r
    cd = b""
    for name, where, method, crc, csize, usize in entries:
        off = where[1] if isinstance(where, tuple) else offsets[where]
        cd += CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, csize, usize,
                           len(name), 0, 0, 0, 0, 0, off) + name  # fmt: skip
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd),
                       len(body), 0)  # fmt: skip
    path.write_bytes(body + cd + eocd)
    return path


def local(name: bytes, data: bytes, method: int, crc: int, usize: int, extra: bytes = b"") -> bytes:
    return LOCAL.pack(b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), usize, len(name),
                      len(extra)) + name + extra + data  # fmt: skip


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def test_members_sharing_one_stream_are_rejected_at_scan_and_read(tmp_path: Path) -> None:
    zeros = bytes(8 << 20)
    stream, crc = deflate(zeros), zlib.crc32(zeros)
    good = skeleton_text([1, 1])
    names = [f"S001C001P001R001A{a:03d}.skeleton".encode() for a in range(1, 51)]
    records = [local(names[0], stream, 8, crc, len(zeros)),
               local(b"S002C001P001R001A001.skeleton", good, 0, zlib.crc32(good), len(good))]  # fmt: skip
    entries = [(n, 0, 8, crc, len(stream), len(zeros)) for n in names]  # 50 entries, one header
    entries.append((b"S002C001P001R001A001.skeleton", 1, 0, zlib.crc32(good), len(good), len(good)))
    archive = raw_zip(tmp_path / "bomb.zip", records, entries)
    assert archive.stat().st_size < 40_000
    sources, problems = scan_sources([str(archive)], ".skeleton", 32 << 20)
    assert [s.member for s in sources] == ["S002C001P001R001A001.skeleton"]
    assert len(problems) == 50 and {p.reason for p in problems} == {"overlapping_member"}
    assert "overlaps member" in problems[0].detail and str(archive) in problems[0].detail
    # read anyway (an index from before): the shared local header is refused, nothing inflated
    with ZipReader() as zr:
        with pytest.raises(RawFileError) as err:
            zr.read(Source(str(archive), names[7].decode()))
    assert err.value.reason == "overlapping_member" and "shares its local header" in str(err.value)
    out, rej = tmp_path / "o.pkl", tmp_path / "r.tsv"
    run("ntu3d", archive, "--out", out, "--rejects", rej)
    assert sorted({r.reason for r in read_rejects(rej)}) == ["overlapping_member"]
    assert len(read_rejects(rej)) == 50 and len(load(out)["annotations"]) == 1


def test_data_overlapping_the_next_member_is_rejected(tmp_path: Path) -> None:
    good = skeleton_text([1, 1])
    crc = zlib.crc32(good)
    a = local(b"S001C001P001R001A001.skeleton", good, 0, crc, len(good))
    b = local(b"S001C001P001R001A002.skeleton", good, 0, crc, len(good))
    # A's directory entry claims B's bytes too: the ranges overlap (found by the scan)
    archive = raw_zip(tmp_path / "a.zip", [a, b], [
        (b"S001C001P001R001A001.skeleton", 0, 0, crc, len(a) + 10, len(good)),
        (b"S001C001P001R001A002.skeleton", 1, 0, crc, len(good), len(good)),
    ])  # fmt: skip
    _, problems = scan_sources([str(archive)], ".skeleton")
    assert sorted(p.reason for p in problems) == ["overlapping_member"] * 2
    # an extra field in the local header the directory does not count: the scan's lower
    # bound of A's extent ends at B, only the read (with the real header) sees A run into B
    extra = b"\xfe\xca\x04\x00" + b"pad!"
    a = local(b"S001C001P001R001A001.skeleton", good, 0, crc, len(good), extra)
    archive = raw_zip(tmp_path / "b.zip", [a, b], [
        (b"S001C001P001R001A001.skeleton", 0, 0, crc, len(good), len(good)),
        (b"S001C001P001R001A002.skeleton", ("at", len(a) - len(extra)), 0, crc, len(good),
         len(good)),
    ])  # fmt: skip
    sources, problems = scan_sources([str(archive)], ".skeleton")
    assert len(sources) == 2 and not problems
    with ZipReader() as zr, pytest.raises(RawFileError) as err:
        zr.read(Source(str(archive), "S001C001P001R001A001.skeleton"))
    assert err.value.reason == "overlapping_member" and "overlaps the next member" in str(err.value)
    # the parse job reports it with that reason
    rows = [r for r in build_index([str(archive)], 10) if r.status == "ok"]
    res = parse_shard(rows, "pyskl")
    assert "overlapping_member" in {r.reason for r in res.rejects}


def test_ordinary_archives_have_no_overlap(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    files = write_synthetic(raw, 12, seed=2)
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2):
        z = tmp_path / f"m{method}.zip"
        with zipfile.ZipFile(z, "w", method) as zf:
            zf.comment = b"a comment"
            for f in files:
                zf.write(f, f"nturgb+d_skeletons/{f.name}")
        sources, problems = scan_sources([str(z)], ".skeleton")
        assert len(sources) == 12 and not problems
        with ZipReader() as zr:
            for s, f in zip(sources, sorted(files), strict=True):
                assert zr.read(s) == f.read_bytes()


# --- values float16 cannot hold ------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, value, ok",
    [("energy", "65519.99", True), ("energy", "65520", False), ("energy", "-7e4", False),
     ("energy", "1e300", False), ("pyskl", "65519.99", True), ("pyskl", "65519.999", False),
     ("pyskl", "-65520", False), ("pyskl", "3.5e38", False)],
)  # fmt: skip
def test_a_coordinate_float16_cannot_hold_is_out_of_range(mode: str, value: str, ok: bool) -> None:
    # body occurrence 1 (frame 2), joint 3: line 1 + 2 count lines + 27 + 2 + 3 = 35
    data = skeleton_text([1] * 14, x={(1, 2): value})
    for engine in ENGINES:
        sk = parse_skeleton(data, columns=XYZ)
        if ok:
            out = denoise(sk, mode, engine=engine)
            assert np.isfinite(out).all() and np.abs(out).max() == 65504
            continue
        with pytest.raises(NoSkeleton) as err:
            denoise(sk, mode, engine=engine)
        assert err.value.reason == "out_of_range" and err.value.line == 35
        assert err.value.detail.startswith(f"joint 3 x = {float(value)!r}: ")
    got = process_sample("S001C001P001R001A001", data, "f.skeleton", mode)
    if not ok:
        assert got.reason == "out_of_range" and got.detail.startswith("f.skeleton:35: joint 3 x")


@pytest.mark.parametrize("mode", ["energy", "pyskl"])
def test_ntu3d_never_writes_inf(tmp_path: Path, mode: str) -> None:
    raw = tmp_path / "raw"
    write_synthetic(raw, 3, seed=6)
    big = raw / "S001C001P001R001A001.skeleton"
    big.write_bytes(skeleton_text([1] * 20, x={(19, 24): "65520"}))
    out, rej = tmp_path / "o.pkl", tmp_path / "r.tsv"
    run("ntu3d", raw, "--denoise", mode, "--out", out, "--rejects", rej)
    [r] = read_rejects(rej)
    # body 20 (frame 20), joint 25: 27 * 19 + 19 + 24 + 5
    assert r.reason == "out_of_range" and r.detail.startswith(f"{big}:{27 * 19 + 48}: joint 25 x")
    for a in load(out)["annotations"]:
        assert np.isfinite(a["keypoint"]).all()
    p = run("validate", out, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


# --- source ids, reports that leak ---------------------------------------------------------


def test_source_ids_are_an_exact_inverse() -> None:
    rng = random.Random(24)
    seen: dict[str, Source] = {}
    for _ in range(3000):
        path = "".join(rng.choice("a:/\\.z") for _ in range(rng.randint(1, 9)))
        member = None if rng.random() < 0.4 else "".join(rng.choice("b:/\\") for _ in range(5))
        src = Source(path, member)
        assert Source.from_id(src.id) == src
        assert seen.setdefault(src.id, src) == src  # no two sources share an id
    plain = Source("/data/ntu/S001C001P001R001A001.skeleton")
    assert plain.id == plain.path  # ordinary paths read unchanged
    assert Source("/data/x.zip", "a/b.skeleton").id == "/data/x.zip::a/b.skeleton"


def test_a_folder_named_like_an_archive_member_is_not_confused(tmp_path: Path) -> None:
    """'x.zip::' (a folder) beside 'x.zip' (an archive whose member name makes the folder's
    file path read as archive::member): the sample is built from the folder's file."""
    name = "S001C001P001R001A001.skeleton"
    mine, theirs = skeleton_text([1] * 15), skeleton_text([2] * 15)
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as z:
        z.writestr(zipfile.ZipInfo(f"/{name}"), theirs)
    folder = tmp_path / "x.zip::"
    folder.mkdir()
    (folder / name).write_bytes(mine)
    rows = build_index([str(folder)], 10)
    write_index(rows, tmp_path / "index.tsv")
    rows = read_index(tmp_path / "index.tsv")
    assert [Source.from_id(r.source) for r in rows] == [Source(str(folder / name))]
    want = process_sample(name[:20], mine, rows[0].source, "pyskl")["keypoint"]
    [got] = parse_shard(rows, "pyskl").annotations
    assert got["keypoint"].tobytes() == want.tobytes()
    out = tmp_path / "o.pkl"
    run("ntu3d", folder, "--out", out)
    assert load(out)["annotations"][0]["keypoint"].tobytes() == want.tobytes()


@pytest.mark.parametrize(
    "data, reason",
    [(b"SHELL=/bin/bash\x00PWD=/root\x00SECRET=hunter2\x00", "frame count must be a non-negative integer, got 'S...'"),
     (b"root:x:0:0:root:/root:/bin/bash\n", "frame count must be a non-negative integer, got 'r...'"),
     (b"1\n2\xff3\n", "expected a non-negative integer, got '2\\xff...'"),
     (b"1'x\n", "frame count must be a non-negative integer, got '1\\'...'"),
     (b"12\\\n", "frame count must be a non-negative integer, got '12\\\\'"),
     (b"12345678901234567890123\n", "frame count must be a non-negative integer, got '12345678901234567890...'")],
)  # fmt: skip
def test_messages_quote_one_byte_of_what_is_not_a_number(data: bytes, reason: str) -> None:
    for engine in ("c", "python"):
        with pytest.raises(ValueError) as err:
            parse_skeleton(data, "f.skeleton", engine=engine)
        assert err.value.problem.startswith(reason), engine  # (environ: "... mid-line")


def test_a_link_to_environ_or_passwd_leaks_nothing_into_the_report(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_synthetic(raw, 2, seed=8)
    targets = {"S001C001P001R001A001": "/proc/self/environ", "S001C001P001R001A002": "/etc/passwd"}
    targets = {k: v for k, v in targets.items() if os.access(v, os.R_OK)}
    if not targets:
        pytest.skip("neither /proc/self/environ nor /etc/passwd can be read here")
    for stem, target in targets.items():
        (raw / f"{stem}.skeleton").symlink_to(target)
    rej = tmp_path / "r.tsv"
    env = {**os.environ, "SKELETON_TEST_SECRET": "hunter2hunter2"}
    run("ntu3d", raw, "--out", tmp_path / "o.pkl", "--rejects", rej, env=env)
    rejects = {r.sample: r for r in read_rejects(rej)}
    assert set(rejects) == set(targets)
    text = rej.read_text()
    for leak in ("hunter2", "SHELL=", "PATH=", "root:x", "/bin/", "nologin"):
        assert leak not in text, leak
    for r in rejects.values():
        assert r.reason == "malformed" and r.detail.startswith(f"{raw / r.sample}.skeleton:1: ")


# --- cut archives, archives in folders, unreadable folders, duplicates ---------------------


def zip_of(
    path: Path, files: list[Path], prefix: str = "nturgb+d_skeletons/", method: int = 8
) -> Path:
    with zipfile.ZipFile(path, "w", method) as z:
        for f in files:
            z.write(f, prefix + f.name)
    return path


def cut(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def test_a_cut_zip_is_an_unreadable_reject(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    files = write_synthetic(raw, 6, seed=9)
    half = cut(zip_of(tmp_path / "half.zip", files[3:]))
    for f in files[3:]:
        f.unlink()
    p = run("ntu3d", half, "--out", tmp_path / "o.pkl", check=False)
    assert p.returncode == 2 and "unreadable" in p.stderr and str(half) in p.stderr
    assert "cut short" in p.stderr
    rej = tmp_path / "r.tsv"
    run("ntu3d", raw, half, "--out", tmp_path / "o.pkl", "--rejects", rej)
    [r] = read_rejects(rej)
    assert (r.sample, r.source, r.reason) == ("half.zip", str(half), "unreadable")
    assert r.detail.startswith(f"{half}: not a readable zip archive") and "cut short" in r.detail
    assert len(load(tmp_path / "o.pkl")["annotations"]) == 3
    # the workflow step, and a cut zip found in a folder
    shutil.copy(half, raw / "also cut.zip")
    run("ntu-index", raw, half, "--out", tmp_path / "index.tsv")
    bad = {r.source: r for r in read_index(tmp_path / "index.tsv") if r.status != "ok"}
    assert set(bad) == {str(half), str(raw / "also cut.zip")}
    assert {r.status for r in bad.values()} == {"unreadable"}


def test_archives_in_a_folder_are_read_with_the_duplicate_rules(tmp_path: Path) -> None:
    data = tmp_path / "ntu"
    files = write_synthetic(tmp_path / "gen", 8, seed=10)
    data.mkdir()
    zip_of(data / "nturgbd_skeletons_s001_to_s017.zip", files[:6])
    nested = data / "more"
    nested.mkdir()
    zip_of(nested / "OTHER.ZIP", files[6:], prefix="")
    loose = data / "loose"
    loose.mkdir()
    shutil.copy(files[0], loose)  # identical: one sample
    (loose / files[1].name).write_bytes(files[1].read_bytes()[:3000])  # a cut copy
    out, rej = tmp_path / "o.pkl", tmp_path / "r.tsv"
    run("ntu3d", data, "--out", out, "--rejects", rej)
    assert sorted(a["frame_dir"] for a in load(out)["annotations"]) == sorted(f.stem for f in files)
    [r] = read_rejects(rej)
    assert (r.sample, r.reason, r.source) == (
        files[1].stem,
        "duplicate_malformed",
        str(loose / files[1].name),
    )
    member = f"{data / 'nturgbd_skeletons_s001_to_s017.zip'}::nturgb+d_skeletons/{files[1].name}"
    assert "(truncated)" in r.detail and r.detail.endswith(f"the sample is built from {member}")


def test_duplicate_copies_follow_the_documented_rule(tmp_path: Path) -> None:
    good = skeleton_text([1] * 15)
    other = skeleton_text([1] * 16)  # well formed, different
    broken = good.replace(b"\n25\n", b"\n24\n", 1)  # line 4: joint count 24
    broken2 = good[:-100]
    dirs = {k: tmp_path / k for k in "abcd"}
    for d in dirs.values():
        d.mkdir()

    def put(folder: str, stem: str, data: bytes) -> None:
        (dirs[folder] / f"{stem}.skeleton").write_bytes(data)

    x, y, z, w = (f"S001C001P001R001A00{i}" for i in range(1, 5))
    put("a", x, good), put("b", x, broken), put("c", x, good)  # one content valid
    put("a", y, good), put("b", y, other), put("c", y, broken)  # two valid: conflict
    put("a", z, broken), put("b", z, broken2)  # none valid
    put("a", w, good), put("b", w, good)  # identical: one sample, never parsed here
    zpath = zip_of(tmp_path / "d.zip", [dirs["a"] / f"{x}.skeleton"], "", zipfile.ZIP_STORED)
    raw = bytearray(zpath.read_bytes())
    raw[raw.index(b"\n25\n") + 1] ^= 1  # a bad CRC-32 in the archive's copy of x
    zpath.write_bytes(bytes(raw))
    rows = build_index([str(d) for d in dirs.values()] + [str(zpath)], 10)
    got = sorted((r.sample, r.status, r.source) for r in rows)
    src = {k: str(v) for k, v in dirs.items()}
    assert got == sorted([
        (x, "ok", f"{src['a']}/{x}.skeleton"),
        (x, "duplicate_malformed", f"{src['b']}/{x}.skeleton"),
        (x, "duplicate_malformed", f"{zpath}::{x}.skeleton"),
        (y, "duplicate_conflict", f"{src['a']}/{y}.skeleton"),
        (y, "duplicate_malformed", f"{src['c']}/{y}.skeleton"),
        (z, "malformed", f"{src['a']}/{z}.skeleton"),
        (z, "malformed", f"{src['b']}/{z}.skeleton"),
        (w, "ok", f"{src['a']}/{w}.skeleton"),
    ])  # fmt: skip
    detail = {(r.sample, r.source): r.detail for r in rows}
    assert detail[(x, f"{src['b']}/{x}.skeleton")] == (
        f"{src['b']}/{x}.skeleton:4: joint count is 24, expected 25; not used: the sample is "
        f"built from {src['a']}/{x}.skeleton"
    )
    assert "bad CRC-32" in detail[(x, f"{zpath}::{x}.skeleton")]
    conflict = detail[(y, f"{src['a']}/{y}.skeleton")]
    assert f"{src['a']}/{y}.skeleton" in conflict and f"{src['b']}/{y}.skeleton" in conflict
    assert detail[(z, f"{src['a']}/{z}.skeleton")].startswith(f"{src['a']}/{z}.skeleton:4: ")
    assert "truncated" in detail[(z, f"{src['b']}/{z}.skeleton")]


def test_symlinked_folders_are_followed_once(tmp_path: Path) -> None:
    """A folder linked in (data on another disk) is read; a link back up (a loop) or to a
    folder listed already adds nothing, and the real path is the one kept."""
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    inside = write_synthetic(root / "real", 2, seed=16)
    outside = write_synthetic(elsewhere, 2, seed=17)
    (root / "a-link-to-real").symlink_to(root / "real")
    (root / "disk2").symlink_to(elsewhere)
    (root / "real" / "loop").symlink_to(root)
    sources, problems = scan_sources([str(root)], ".skeleton")
    assert not problems
    assert sorted(s.path for s in sources) == sorted(
        [str(f) for f in inside] + [str(root / "disk2" / f.name) for f in outside]
    )


def as_other_user() -> list[str]:
    """A command prefix running as a user the file permissions apply to: root reads every
    folder, so tests as root run the command as 'nobody' (setpriv)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_folders_that_cannot_be_listed_are_named(tmp_path: Path) -> None:
    prefix = as_other_user()
    base = Path(tempfile.mkdtemp(prefix="perm-", dir="/tmp"))  # not under root's 0700 tmp
    try:
        base.chmod(0o755)
        top, locked, closed = base / "top", base / "top" / "sub" / "locked", base / "closed"
        write_synthetic(top, 3, seed=12)
        write_synthetic(locked, 2, seed=13)
        write_synthetic(closed, 2, seed=14)
        for d in (top, top / "sub"):
            d.chmod(0o755)
        out = base / "out"
        out.mkdir(mode=0o777)
        out.chmod(0o777)
        locked.chmod(0)
        closed.chmod(0)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = prefix + skeleton_cmd()
        p = subprocess.run(cmd + ["ntu-index", str(top), str(closed), "--out", str(out / "i.tsv")],
                           capture_output=True, text=True, env=env, cwd=base)  # fmt: skip
        assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
        bad = {r.source: r for r in read_index(out / "i.tsv") if r.status != "ok"}
        assert set(bad) == {str(locked), str(closed)}
        for r in bad.values():
            assert r.status == "unreadable"
            assert r.detail == f"{r.source}: cannot list this folder: permission denied"
        p = subprocess.run(cmd + ["ntu3d", str(top), str(closed), "--out", str(out / "o.pkl"),
                                  "--rejects", str(out / "r.tsv")],
                           capture_output=True, text=True, env=env, cwd=base)  # fmt: skip
        assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
        assert {r.sample for r in read_rejects(out / "r.tsv")} == {"locked", "closed"}
    finally:
        for d in (base / "top" / "sub" / "locked", base / "closed"):
            if d.exists():
                d.chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.slow
def test_workflow_reports_cut_archives_and_reads_archives_in_folders(tmp_path: Path) -> None:
    wd = tmp_path / "wd"
    data = wd / "data"
    files = write_synthetic(tmp_path / "gen", 9, seed=15)
    data.mkdir(parents=True)
    zip_of(data / "nturgbd_skeletons_s001_to_s017.zip", files[:4])
    for f in files[4:6]:
        shutil.copy(f, data)
    cut(zip_of(data / "partial.zip", files[6:7]))
    given = cut(zip_of(wd / "download.zip", files[7:]))
    cfg = {"ntu": {"skeletons": [str(data), str(given)], "shard_size": 4, "datasets": ["ntu120"]},
           "strict": False}  # fmt: skip
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    p = run_snakemake(
        wd, "--cores", "2", "ntu120", configfile="config.yaml", check=False, timeout=900
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert "Traceback" not in (wd / "logs/ntu/index.log").read_text()
    rejects = {r.sample: r for r in read_rejects(wd / "results/ntu120/rejects.tsv")}
    assert {k: r.reason for k, r in rejects.items()} == {
        "partial.zip": "unreadable",
        "download.zip": "unreadable",
    }
    assert rejects["download.zip"].source == str(given)
    names = sorted(a["frame_dir"] for a in load(wd / "results/ntu120/ntu120_3d.pkl")["annotations"])
    assert names == sorted(f.stem for f in files[:6])
