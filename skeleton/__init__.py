"""skeleton: reproducible builds of skeleton action-recognition datasets.

Layout: one folder per stage. A folder may import the folders listed after "imports" and
nothing else of the package (tests/test_layout.py checks this, and that the import graph has
no loop at any level):

* `core/` — shared pieces: the defaults the CLI shares with the config (`defaults`), errors,
  files and sources, reading ahead (`readahead`), video file names (`videos`), output checks
  (`outputs`), tables, the reject vocabulary (`reasons`) and reports (`rejects`), the one
  packaging flow (`packaging`), logs, summaries, progress lines, the restricted pickle loader
  (`safeload`), annotation pickles and their validation, downloads (`fetch`), versions, BLAS
  threads. Imports nothing else.
* `ntu/` — NTU RGB+D 3D: sample names and the official missing lists (`names`, `missing/`),
  the `.skeleton` reader (`reader` + the C `_skelparse.c`), Kinect colour joints (`kinect`),
  the two denoisers, the sample index (`index`), parse shards (`parse`, `shards`), a dataset's
  rejects (`rejects`), packaging and splits (`package`, `manifest`), the one-process build of
  `skeleton ntu3d` (`build`), synthetic raw files (`synth`). Imports core.
* `pose/` — 2D pose: backends (`base`, `mmpose_backend`, `yolo`), video decoding (`video`),
  a video to its annotation (`extract`), a shard of videos with resume and videos in flight
  (`shard`), post-processing (`postproc_mmaction2`, `actors`, `tracking`, `boxes`), model tags
  (`tag`, `tag_cache`), drift between two results (`drift`). Imports core and `ntu.names` (an
  NTU video's action and actor count come from its name).
* `datasets/` — one reader per video dataset (NTU included) with its label maps
  (`label_maps/`), the video index, 2D packaging, the NTU PCK against the Kinect
  (`ntu_quality`). Imports core, ntu, pose.
* `pictures/` — what an annotation looks like: overlays, PoseC3D heatmaps, 3D plots, writers,
  one render entry (`render`) and the report figures (`report`). Imports core, ntu, pose,
  datasets.
* `release/` — released pickles: fetch and check (`releases`), describe, convert. Imports core.
* `workflow/` — what the Snakemake workflow needs around the stages: config checks
  (`configcheck`), the work done while it is parsed (`start`), environment recipes (`envs`)
  and their builders (`venv`, `conda`). Imports core, and the stages `start` drives: ntu,
  pose, datasets, release.
* `cli.py`, `commands/`, `__main__.py` — the command line: argument parsing and exit codes
  only; it may import every folder, and no folder imports it.
"""

__version__ = "0.1.0"
