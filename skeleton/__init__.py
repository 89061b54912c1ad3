"""skeleton: reproducible builds of skeleton action-recognition datasets.

Layers (tests/test_layout.py checks the import graph: no loops, nothing below the CLI imports it):

* `cli.py`, `commands/`, `__main__.py` — the command line: argument parsing and exit codes only;
  they import the library, never the other way round.
* `errors.py`, `blas.py`, `versions.py`, `files.py`, `tables.py`, `logs.py`, `rejects.py`,
  `safeload.py`, `annotations.py` — shared pieces every stage may import.
* NTU 3D: `ntu.py` (names, missing lists), `reader.py` + `_skelparse.c`, `denoise.py`, `index.py`,
  `ntu_shards.py`, `ntu3d.py` (the build), `synth.py` (synthetic raw files).
* `pose/` — 2D pose: backends (`base`, `mmpose_backend`, `yolo`), `extract` (videos to
  annotations, videos in flight), post-processing (`postproc_mmaction2`, `ntu`, `tracking`,
  `boxes`), `quality`, model tags (`tag`, `tag_cache`); imports the shared pieces and `video.py`.
* `datasets/` — one reader per video dataset (NTU included), their index and packaging.
* Distribution and checks: `fetch.py`, `releases.py`, `validate.py`, `describe.py`,
  `convert.py`, `configcheck.py`, `envs.py`, `resources.py`.
* Pictures: `visualize.py`, `report.py`.
"""

__version__ = "0.1.0"
