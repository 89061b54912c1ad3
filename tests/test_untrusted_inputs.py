"""Archives, odd files and stale results: each a reject with its reason or one clear error.

Zip members are read as bounded streams (a bzip2 bomb stays under the raw-file cap), bad CRC,
encrypted and duplicate members, names the tables cannot carry, and a folder / FIFO /
dangling link in place of a raw file are rejects; input folders named with '::' or two spaces
work (tests/test_raw_inputs.py: overlapping members, cut archives, unreadable folders). Then real Snakemake runs: a configured input that does not exist stops the DAG build
naming it, a cut-off shard is rebuilt by the next run, and a packaging that fails (strict mode,
no usable sample) leaves the rejects report its message names. ~2 min.
"""

from __future__ import annotations

import bz2
import os
import resource
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake

from skeleton.core.files import RawFileError, Source, ZipReader, scan_sources
from skeleton.core.rejects import read_rejects
from skeleton.ntu.index import build_index
from skeleton.ntu.names import parse_name
from skeleton.ntu.synth import sample_names, sample_text

BOMB_BYTES = 256 << 20  # uncompressed size of the test bomb (the was 2 GiB)


def text(name: str, seed: int = 0) -> bytes:
    import numpy as np

    return sample_text(parse_name(name), np.random.default_rng(seed), (40, 41)).encode()


def zip_member(name: bytes, data: bytes, method: int, crc: int, size: int, flags: int = 0):
    """(local header + data, central header) of one member, sizes as given (honest or not)."""
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(data), size,
        len(name), 0,
    ) + name + data  # fmt: skip
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(data), size,
        len(name), 0, 0, 0, 0, 0, 0,
    ) + name  # fmt: skip
    return local, central


def write_zip(path: Path, members: list[tuple]) -> Path:
    """A zip from raw members: (name bytes, compressed data, method, crc, size[, flags])."""
    body, centrals, offsets = b"", [], []
    for m in members:
        local, central = zip_member(*m)
        offsets.append(len(body))
        body += local
        centrals.append(central)
    cd = b"".join(
        c[:42] + struct.pack("<L", off) + c[46:] for c, off in zip(centrals, offsets, strict=True)
    )
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd),
                       len(body), 0)  # fmt: skip
    path.write_bytes(body + cd + eocd)
    return path


@pytest.fixture(scope="module")
def bomb_stream() -> tuple[bytes, int]:
    """bzip2 of BOMB_BYTES zeros (a few KB) and the CRC-32 of the zeros."""
    comp, crc, block = bz2.BZ2Compressor(1), 0, bytes(1 << 22)
    parts = []
    for _ in range(BOMB_BYTES // len(block)):
        parts.append(comp.compress(block))
        crc = zlib.crc32(block, crc)
    parts.append(comp.flush())
    return b"".join(parts), crc


def names(n: int, seed: int = 7) -> list[str]:
    return [s.name for s in sample_names(n, seed, ntu120=False)]


def test_zip_members_are_bounded_checked_streams(tmp_path: Path, bomb_stream) -> None:
    bomb, bomb_crc = bomb_stream
    a, b, c, d, e, f, g = names(7)
    good = text(a)
    bad_crc = bytearray(good)
    bad_crc[100] ^= 1
    bzipped = bz2.compress(text(b))
    members = [
        (f"{a}.skeleton".encode(), good, 0, zlib.crc32(good), len(good)),
        (f"{b}.skeleton".encode(), bzipped, 12, zlib.crc32(text(b)), len(text(b))),  # bzip2, fine
        (f"{c}.skeleton".encode(), bomb, 12, bomb_crc, BOMB_BYTES),  # honest size: too large
        (f"{d}.skeleton".encode(), bomb, 12, bomb_crc, 1000),  # lies about its size
        (f"{e}.skeleton".encode(), bytes(bad_crc), 0, zlib.crc32(good), len(good)),
        (f"{f}.skeleton".encode(), good, 0, zlib.crc32(good), len(good), 0x1),  # "encrypted"
        (f"{g}.skeleton".encode(), good, 0, zlib.crc32(good), len(good)),
        (f"{g}.skeleton".encode(), good, 0, zlib.crc32(good), len(good)),  # twice
        (f"x/{a}\t.skeleton".encode(), good, 0, zlib.crc32(good), len(good)),  # tab
        (f"y/{a}\xff.skeleton".encode("latin-1"), good, 0, zlib.crc32(good), len(good)),  # NBSP
        (f"z  two spaces/{names(1, 9)[0]}.skeleton".encode(), good, 0, zlib.crc32(good), len(good)),
    ]
    archive = write_zip(tmp_path / "in.zip", members)
    sources, problems = scan_sources([str(archive)], ".skeleton", 32 << 20)
    reasons = {p.name.removesuffix(".skeleton"): p.reason for p in problems}
    assert reasons[c] == "too_large" and reasons[f] == "encrypted"
    assert reasons[g] == "duplicate_member"
    assert sorted(r for k, r in reasons.items() if k.startswith(a)) == ["bad_path", "bad_path"]
    members_found = {s.member for s in sources}
    assert f"z  two spaces/{names(1, 9)[0]}.skeleton" in members_found  # two spaces: a name
    with ZipReader(32 << 20) as zr:
        by_member = {s.member: s for s in sources}
        assert zr.read(by_member[f"{a}.skeleton"]) == good
        assert zr.read(by_member[f"{b}.skeleton"]) == text(b)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(RawFileError) as err:
            zr.read(by_member[f"{d}.skeleton"])  # inflates past the cap: stopped there
        assert err.value.reason == "too_large"
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert grown_mb < 100, f"the bomb grew this process by {grown_mb:.0f} MB"
        with pytest.raises(RawFileError, match="bad CRC-32") as err:
            zr.read(by_member[f"{e}.skeleton"])
        assert err.value.reason == "unreadable"
    rows = build_index([str(archive)], 10)
    status = {r.sample: r.status for r in rows}
    assert status[a] == status[b] == status[d] == status[e] == "ok"  # d, e: rejected at parse
    assert status[c] == "too_large" and status[f] == "encrypted"


def test_a_file_longer_than_its_stat_size_is_read_whole_up_to_the_cap(tmp_path: Path) -> None:
    """A read asks for the size fstat gave; a file that grew since (here /proc, whose files
    stat as empty) is read on, and still stops at the cap."""
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size:
        pytest.skip("needs a procfs file that stats as empty")
    data = Source(str(status)).read()
    assert data.startswith(b"Name:") and len(data) > 100
    with pytest.raises(RawFileError, match="too large"):
        Source(str(status)).read(max_bytes=10)
    grown = tmp_path / "S001C001P001R001A001.skeleton"
    grown.write_bytes(b"1\n" * 50)
    assert Source(str(grown)).read() == b"1\n" * 50  # the ordinary case: exactly its size


def test_odd_files_in_a_folder_are_rejects(tmp_path: Path) -> None:
    root = tmp_path / "in::put  dir"  # '::' and two spaces: a usable folder name
    a, b, c, d, e = names(5, 11)
    (root / "sub").mkdir(parents=True)
    (root / f"{a}.skeleton").write_bytes(text(a))
    (root / f"{b}.skeleton").mkdir()
    os.mkfifo(root / f"{c}.skeleton")
    (root / f"{d}.skeleton").symlink_to(root / "nowhere")
    weird = os.fsencode(root / "sub") + b"/\xff\xfe"
    os.mkdir(weird)
    with open(weird + f"/{e}.skeleton".encode(), "wb") as fh:
        fh.write(text(e))
    (root / f"{e}\t.skeleton").write_bytes(text(e))
    rows = build_index([str(root)], 10)
    status = {(r.sample, r.status) for r in rows}
    assert (a, "ok") in status
    assert {(b, "not_a_file"), (c, "not_a_file"), (d, "not_a_file")} <= status
    assert sum(1 for s, st in status if st == "bad_path") == 2  # undecodable folder, tab
    ok = next(r for r in rows if r.sample == a)
    from skeleton.core.files import Source

    assert Source.from_id(ok.source).read() == text(a)  # the id survives '::' and two spaces


# --- real workflow runs -------------------------------------------------------------------


def snakemake(wd: Path, *args: str) -> subprocess.CompletedProcess:
    return run_snakemake(
        wd, "--cores", "2", *args, configfile="config.yaml", check=False, timeout=900
    )


def configure(wd: Path, skeletons: list[str], **extra: object) -> None:
    cfg = {"ntu": {"skeletons": skeletons, "shard_size": 20000, "datasets": ["ntu60", "ntu120"]},
           "strict": False, **extra}  # fmt: skip
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, synth_ntu: Path) -> Path:
    wd = tmp_path_factory.mktemp("wf") / "run"
    raw = wd / "raw  with::odd name"  # two spaces and '::' in the configured folder
    shutil.copytree(synth_ntu / "ntu60", raw / "a")
    shutil.copytree(synth_ntu / "ntu120", raw / "b")
    os.mkfifo(raw / "a" / "S001C001P001R001A001.skeleton.fifo.skeleton")
    configure(wd, [str(raw)])
    p = snakemake(wd, "ntu60", "ntu120")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return wd


@pytest.mark.slow
def test_fifo_in_a_folder_is_a_reject_not_a_hang(built: Path) -> None:
    rejects = {r.sample: r for r in read_rejects(built / "results/ntu120/rejects.tsv")}
    fifo = rejects["S001C001P001R001A001.skeleton.fifo"]
    assert fifo.reason == "not_a_file" and "FIFO" in fifo.detail


@pytest.mark.slow
def test_configured_input_that_does_not_exist_stops_the_dag(built: Path, tmp_path: Path) -> None:
    wd = tmp_path / "wd"
    shutil.copytree(built, wd, symlinks=True, ignore=shutil.ignore_patterns("*.fifo.skeleton"))
    gone = wd / "no such folder"
    configure(wd, [str(gone)])
    p = snakemake(wd, "ntu60", "ntu120")
    assert p.returncode != 0
    assert f"ntu.skeletons: {gone}: no such file or folder" in p.stdout + p.stderr
    assert (wd / "results/ntu60/ntu60_3d.pkl").read_bytes() == (
        built / "results/ntu60/ntu60_3d.pkl"
    ).read_bytes()  # nothing repackaged


@pytest.mark.slow
def test_cut_shard_is_rebuilt_by_the_next_run(built: Path, tmp_path: Path) -> None:
    wd = tmp_path / "wd"
    shutil.copytree(built, wd, symlinks=True, ignore=shutil.ignore_patterns("*.fifo.skeleton"))
    raw = next(wd.glob("raw*"))
    configure(wd, [str(raw)])  # the copy's own raw folder
    p = snakemake(wd, "ntu60", "ntu120")
    assert p.returncode == 0, p.stderr[-3000:]
    want = {ds: (wd / f"results/{ds}/{ds}_3d.pkl").read_bytes() for ds in ("ntu60", "ntu120")}
    shard = sorted((wd / "results/ntu/3d_pyskl").glob("shard_*.pkl"))[0]  # any one
    data = shard.read_bytes()
    for damage in (data[: len(data) // 2], bytes(len(data))):  # cut; same size, other bytes
        shard.write_bytes(damage)
        p = snakemake(wd, "ntu60", "ntu120")  # removed before the DAG is built
        assert p.returncode == 0 and "rebuilding a damaged shard" in p.stderr, p.stderr[-3000:]
        # packaging again needs the shard: it is rebuilt, not read cut off
        p = snakemake(wd, "ntu60", "ntu120", "--forcerun", "ntu_package")
        assert p.returncode == 0, p.stderr[-3000:]
        assert shard.read_bytes() == data
        for ds, content in want.items():
            assert (wd / f"results/{ds}/{ds}_3d.pkl").read_bytes() == content


@pytest.mark.slow
def test_failed_packaging_keeps_the_rejects_report(built: Path, tmp_path: Path) -> None:
    wd = tmp_path / "strict"
    wd.mkdir()
    raw = next(built.glob("raw*"))
    configure(wd, [str(raw / "a"), str(raw / "b")], strict=True)
    p = snakemake(wd, "ntu120")
    log = p.stdout + p.stderr
    assert p.returncode != 0
    report = wd / "results/ntu120/rejects.tsv"
    assert report.exists() and read_rejects(report)
    package_log = (wd / "logs/ntu120/package_3d.log").read_text()
    assert f"see {report.relative_to(wd)}" in package_log, package_log[-2000:] + log[-2000:]
    # no usable sample: NTU60 from NTU120-only files
    wd = tmp_path / "nothing"
    wd.mkdir()
    only120 = wd / "only120"
    only120.mkdir()
    for f in (raw / "b").glob("*.skeleton"):
        if not parse_name(f.stem).in_ntu60:
            shutil.copy(f, only120)
    configure(wd, [str(only120)])
    p = snakemake(wd, "ntu60")
    assert p.returncode != 0
    report = wd / "results/ntu60/rejects.tsv"
    assert report.exists()
    package_log = (wd / "logs/ntu60/package_3d.log").read_text()
    assert "no usable ntu60 sample" in package_log and f"see {report.relative_to(wd)}" in (
        package_log
    )


def test_unusable_configured_inputs_are_one_clear_error(tmp_path: Path) -> None:
    from skeleton.core.files import check_inputs

    flagged = bytearray(
        write_zip(
            tmp_path / "a.zip", [(b"S001\xc3\xa9.skeleton", b"x", 0, zlib.crc32(b"x"), 1, 0x800)]
        ).read_bytes()
    )
    flagged[flagged.index(b"\xc3\xa9", 40)] = 0xFF  # central name flagged UTF-8, but is not
    (tmp_path / "a.zip").write_bytes(bytes(flagged))
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    undecodable = os.fsdecode(os.fsencode(tmp_path) + b"/\xff")
    os.mkdir(undecodable)
    # an archive that cannot be opened is not a configuration error but an `unreadable`
    # reject, like one found in a folder (the README: "a cut archive")
    check_inputs([str(tmp_path / "a.zip")], "ntu.skeletons")
    [problem] = scan_sources([str(tmp_path / "a.zip")], ".skeleton")[1]
    assert problem.reason == "unreadable" and "not a readable zip archive" in problem.detail
    for entry, message in [
        (tmp_path / "fifo", "a FIFO, not a file or folder"),
        (tmp_path / "dangling", "a dangling symlink"),
        (tmp_path / "absent", "no such file or folder"),
        (Path(undecodable), "not UTF-8; rename it"),
    ]:
        with pytest.raises(ValueError, match=message) as err:
            check_inputs([str(entry)], "ntu.skeletons")
        assert str(err.value).startswith("ntu.skeletons: ") and "\n" not in str(err.value)
