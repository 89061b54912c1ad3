"""The annotation pickle writer: the same bytes as the standard library's pure-Python pickler
(protocol 4, fast mode, numpy-1 global names), for every kind of value annotations hold."""

from __future__ import annotations

import io
import pickle

import numpy as np

from skeleton.core import annotations as A


def reference(annos: list[dict], split: dict | None) -> bytes:
    """The stream AnnotationWriter writes, made by `_Pickler` alone (the reference)."""
    buf = io.BytesIO()
    p = A._Pickler(buf)
    p.write(pickle.PROTO + bytes([A.PROTOCOL]))
    if split is not None:
        p.write(pickle.EMPTY_DICT)
        p.save("annotations")
    p.write(pickle.EMPTY_LIST)
    for i, a in enumerate(annos):
        if i % 1000 == 0:
            p.write(pickle.MARK)
        p.save({k: A._plain(v) for k, v in a.items()})
        if i % 1000 == 999:
            p.write(pickle.APPENDS)
    if len(annos) % 1000:
        p.write(pickle.APPENDS)
    if split is not None:
        p.write(pickle.SETITEM)
        p.save("split")
        p.save({k: list(v) for k, v in split.items()})
        p.write(pickle.SETITEM)
    p.write(pickle.STOP)
    return buf.getvalue()


def annotation(rng: np.random.Generator, i: int) -> dict:
    t = int(rng.integers(1, 300))
    if i % 3 == 0:  # NTU 3D
        return {
            "frame_dir": f"S001C001P{i % 1000:03d}R001A001",
            "label": int(rng.integers(0, 120)),
            "keypoint": rng.normal(size=(2, t, 25, 3)).astype(np.float16),  # often >= 64 KB
            "total_frames": t,
        }
    if i % 3 == 1:  # 2D, numpy scalars, long and non-ASCII names
        return {
            "frame_dir": "vidé_" + "x" * (i % 300),
            "label": np.int64(5),
            "img_shape": (np.int64(1080), 1920),
            "original_shape": (480, 640),
            "total_frames": t,
            "keypoint": rng.normal(size=(1, t, 17, 2)).astype(np.float32),
            "keypoint_score": rng.random((1, t, 17)).astype(np.float32),
        }
    return {  # Kinetics kpfile style, and every other kind of value
        "frame_dir": "k400",
        "raw_file": "/x/y.pkl",
        "frame_inds": np.arange(t, dtype=np.int16),
        "box_score": rng.random((t, 2)).astype(np.float16),
        "valid": {17: np.ones(t, bool)},
        "f": 1.5, "neg": -3, "int2": 60000, "int4": -70000, "big": 2**40, "bigneg": -(2**70),
        "list": list(range(1005 if i == 2 else 3)), "none": None, "true": True, "tuple5": (1, 2, 3, 4, 5),
        "empty": (), "bytes": b"x" * 300, "fortran": np.asfortranarray(np.ones((3, 4))),
        "object": np.array([1, "a", None], dtype=object), "zero_d": np.array(3.5),
        "f32": np.float32(0.1), "big_endian": np.zeros(3, ">f4"),
        "record": np.zeros(2, [("a", "<i4"), ("b", "f8")]), "masked": np.ma.array([1, 2]),
        "dict": {}, "one": ["one"], "nested": [[1, (2,)], {"k": [3]}],
    }  # fmt: skip


def test_writer_bytes_equal_the_pure_python_picklers(tmp_path):
    rng = np.random.default_rng(4)
    annos = [annotation(rng, i) for i in range(1003)]
    split = {"xsub_train": [a["frame_dir"] for a in annos[:1001]], "xsub_val": ["a"], "e": []}
    out = tmp_path / "a.pkl"
    cases = [(annos, split), (annos, None), (annos[:1000], split), (annos[:1], None), ([], split)]
    for sub, sp in cases:  # batches of 1000, one item, none
        A.write_annotations(out, sub, sp)
        assert out.read_bytes() == reference(sub, sp), (len(sub), sp is None)
    assert A.load(out) == {"annotations": [], "split": split}  # the restricted loader reads it
    A.write_annotations(out, annos[:3], split)
    data = pickle.loads(out.read_bytes())
    assert np.array_equal(data["annotations"][0]["keypoint"], annos[0]["keypoint"])
    assert b"numpy.core.multiarray" in out.read_bytes()
