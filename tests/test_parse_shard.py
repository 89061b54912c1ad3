"""The parse-shard job's read-ahead: files read (and checksummed) by threads in front of the
parser give the same shard as reading them one by one, in order, with unreadable files
rejected in place."""

from __future__ import annotations

import hashlib
import threading
import zipfile
from pathlib import Path

import pytest

from skeleton.core.files import RawFileError, Source
from skeleton.core.readahead import read_ahead
from skeleton.core.reasons import UNREADABLE
from skeleton.ntu.index import SkeletonRow
from skeleton.ntu.parse import parse_shard, process_sample
from skeleton.ntu.synth import write_synthetic


def rows_for(sources: list[str]) -> list[SkeletonRow]:
    rows = []
    for sid in sources:
        name = Source.from_id(sid).filename.removesuffix(".skeleton")
        rows.append(SkeletonRow(name, 1, 1, 1, 1, 1, 1, 0, "ok", 0, sid, ""))
    return rows


@pytest.fixture(scope="module")
def srcs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Plain files, one that does not exist, zip members."""
    tmp_path, n = tmp_path_factory.mktemp("shard"), 24
    files = write_synthetic(tmp_path / "raw", n, seed=5)
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as z:
        for f in files[n // 2 :]:
            z.write(f, f"skel/{f.name}")
    plain = [str(f) for f in files[: n // 2]]
    members = [f"{tmp_path / 'more.zip'}::skel/{f.name}" for f in files[n // 2 :]]
    missing = str(tmp_path / "gone" / "S001C001P001R001A001.skeleton")  # no such file
    return plain[:5] + [missing] + plain[5:] + members


def test_read_ahead_keeps_order_and_reports_unreadable_files_in_place(srcs):
    for readers, ahead, batch, hint in [(1, 1, 1, 0), (1, 16, 8, 16), (3, 5, 2, 3)]:
        got = list(read_ahead(srcs, readers, ahead, batch, hint))
        assert len(got) == len(srcs)
        for sid, item in zip(srcs, got, strict=True):
            if "gone" in sid:
                assert isinstance(item, RawFileError) and "no such file" in str(item)
                continue
            data = Source.from_id(sid).read()
            assert item == (data, hashlib.sha256(data).hexdigest())


def test_stopping_early_leaves_no_reader_behind(srcs):
    before = threading.active_count()
    gen = read_ahead(srcs)
    assert next(gen)[0] == Source.from_id(srcs[0]).read()
    gen.close()
    assert threading.active_count() == before


def test_shard_equals_reading_one_file_at_a_time(srcs):
    res = parse_shard(rows_for(srcs), "pyskl")
    ok = [s for s in srcs if "gone" not in s]
    assert [r.reason for r in res.rejects] == [UNREADABLE]
    assert res.rejects[0].source == srcs[5] and "no such file" in res.rejects[0].detail
    assert list(res.checksums) == ok  # in input order
    for sid, a in zip(ok, res.annotations, strict=True):
        data = Source.from_id(sid).read()
        assert res.checksums[sid] == hashlib.sha256(data).hexdigest()
        want = process_sample(a["frame_dir"], data, sid, "pyskl")
        assert a["keypoint"].tobytes() == want["keypoint"].tobytes()


def test_members_files_list_each_shard(tmp_path, srcs):
    from skeleton.core.members import read_members
    from skeleton.core.tables import shard_rows
    from skeleton.ntu.index import ntu_index, read_index

    index, members = tmp_path / "index.tsv", tmp_path / "members"
    root = Path(srcs[0]).parent.parent  # raw/ and more.zip
    ntu_index([str(root / "raw"), str(root / "more.zip")], 5, index, members=members)
    rows = read_index(index)
    shards = {r.shard for r in rows if r.shard >= 0}
    assert len(rows) == len(srcs) - 1 and len(shards) >= 3
    assert sorted(p.name for p in members.iterdir()) == sorted(f"skeletons_{k}.tsv" for k in shards)
    for k in shards:
        got = read_members(members / f"skeletons_{k}.tsv")
        assert [(m.sample, m.source) for m in got] == [
            (r.sample, r.source) for r in shard_rows(rows, k)
        ]
