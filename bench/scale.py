"""NTU120 at full size: index, dry-run, 3D build time, disk share and peak memory of every job.

    python bench/scale.py --fraction 0.1                 # ~2.9 GB of raw text, ~5 min on 2 cores
    python bench/scale.py --fraction 1 --out /big/disk   # the real thing: ~29 GB, see README

What it does, all in `--out` (default /tmp/skeleton-scale, removed at the end unless --keep):

1. Names: the 114,480 sample names NTU RGB+D 120 really has. Every (setup, performer) pair that
   was recorded has all 3 cameras x 2 replications x 60 actions (A001-A060 in S001-S017,
   A061-A120 in S018-S032): 318 pairs x 360 = 114,480. The pairs (`SETUP_PERFORMERS`) were read
   off the released name lists: the 113,945 available names in CTR-GCN's
   `data/ntu120/statistics/skes_available_name.txt` (github.com/Uason-Chen/CTR-GCN) plus the 535
   names of the official missing-skeleton list (skeleton/ntu/missing/), which are disjoint and
   together give exactly those 318 x 360 names. Files are spread over the two official archive
   folders.
2. Content: `--templates` synthetic files from `skeleton.ntu.synth` (one- and two-person, noise
   bodies, CRLF/LF), frame counts drawn log-normally (median 72, clipped to NTU's 32..300 frames)
   so the mean file is ~250 KB like the real 114,480 (about 29 GB). Each name gets a template
   picked by a hash of its name (two-person templates for two-person actions) with its own first
   body id (a cheap per-file variation), written as a real file.
3. Dry run at full size: a folder with all 114,480 names as hard links to the templates (real
   files for `stat`, no 29 GB needed), its index built by Snakemake (timed), then
   `snakemake -n ntu120_xset` timed with that full index present and nothing built.
4. Build: a random `--fraction` of the names written as real files; page cache evicted for them
   (posix_fadvise DONTNEED after sync: no root needed, other users' cache untouched); `snakemake
   --cores N ntu120_xset` timed cold, the bytes alone read cold (one reader, and 8 in
   parallel: the disk's limit) and warm, then the build again warm; the two pickles
   must be byte-identical. Times scale linearly with the number of files, so full-size time =
   measured / fraction. Goals (issue 18): cold <= 150 s, warm <= 120 s at full size.
5. Memory: max_rss from Snakemake's benchmark files (sampled every 0.5 s, then every 30 s), and the
   exact peak (getrusage) of the packaging and one parse step rerun as `skeleton` commands. The
   packaging peak is measured twice (all shards, half of them) to fit fixed + per-byte memory and
   extrapolate it to the full-size pickle.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skeleton.ntu.names import TWO_PERSON_ACTIONS, SampleName  # noqa: E402
from skeleton.ntu.synth import BODY_ID_BASE, sample_text  # noqa: E402

NTU120_SAMPLES = 114_480
NTU60_LAST_SETUP = 17
CAMERAS, REPLICATIONS, ACTIONS_PER_SETUP = 3, 2, 60
# setup -> performers recorded in it (see the module docstring for the source)
SETUP_PERFORMERS: dict[int, tuple[int, ...]] = {
    1: (1, 2, 3, 4, 5, 6, 7, 8),
    2: (3, 7, 8, 9, 10, 11, 12, 13, 14),
    3: (1, 2, 7, 8, 15, 16, 17, 18, 19),
    4: (3, 7, 8, 20),
    5: (4, 10, 13, 15, 16, 17, 18, 21),
    6: (1, 7, 8, 15, 16, 17, 19, 22, 23, 24),
    7: (1, 7, 8, 15, 16, 17, 18, 19, 25, 26, 27, 28),
    8: (1, 7, 8, 15, 19, 25, 29, 30, 31, 32, 33, 34, 35, 36),
    9: (7, 8, 15, 16, 17, 19, 25),
    10: (7, 8, 13, 15, 16, 17, 18, 19, 21, 25),
    11: (1, 2, 7, 8, 15, 16, 17, 18, 19, 25, 27, 28, 38),
    12: (7, 8, 15, 16, 17, 18, 19, 25, 27, 28, 37),
    13: (7, 8, 15, 16, 17, 18, 19, 25, 27, 28, 37),
    14: (7, 8, 15, 17, 19, 25, 27, 37, 39),
    15: (7, 8, 15, 16, 17, 19, 25, 37),
    16: (7, 8, 19, 21, 25, 39, 40),
    17: (3, 7, 8, 9, 15, 16, 17, 20),
    18: (8, 41, 42, 43, 44, 45),
    19: (8, 41, 42, 46, 47, 48, 49, 50, 51),
    20: (8, 41, 43, 44, 52, 53, 54),
    21: (55, 56, 57, 58, 59, 60),
    22: (61, 62, 63, 64, 65, 66, 67),
    23: (55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68),
    24: (57, 60, 61, 62, 63, 64, 67),
    25: (55, 56, 58, 59, 65, 66, 68),
    26: (8, 41, 44, 49, 50, 51, 69, 70, 71, 72, 74, 75, 76, 77),
    27: (6, 8, 11, 41, 43, 44, 78, 79, 80, 81, 82, 83, 84, 85, 86),
    28: (8, 41, 42, 43, 46, 48, 70, 73, 87),
    29: (6, 8, 41, 43, 44, 48, 49, 51, 67, 74, 75, 80, 88, 89, 90),
    30: (8, 11, 41, 43, 44, 48, 67, 75, 76, 81, 85, 88, 91, 92, 93, 94, 95, 96),
    31: (6, 8, 41, 42, 43, 44, 51, 67, 82, 85, 96, 97, 98, 99, 100, 101),
    32: (8, 41, 43, 44, 67, 102, 103, 104, 105, 106),
}
# the two official archives, by setup range
ARCHIVE_DIRS = ("nturgbd_skeletons_s001_to_s017", "nturgbd_skeletons_s018_to_s032")
FRAMES_MEDIAN, FRAMES_SIGMA, FRAMES_RANGE = 72, 0.35, (32, 300)  # NTU clips: 32..300 frames
GOAL_DRY_RUN_S = 15.0
GOAL_BUILD_COLD_S = 150.0  # issue 18: cold page cache, full size, 2 cores
GOAL_BUILD_WARM_S = 120.0  # issue 18: warm page cache
GOAL_PACKAGE_RSS = 1.5  # x output pickle size
DISK_THREADS = 8  # readers in parallel for the disk's limit (the build: 1 per job + kernel hints)


def ntu120_names() -> list[SampleName]:
    names = [
        SampleName(s, c, p, r, a)
        for s, performers in SETUP_PERFORMERS.items()
        for p in performers
        for c in range(1, CAMERAS + 1)
        for r in range(1, REPLICATIONS + 1)
        for a in (
            range(1, ACTIONS_PER_SETUP + 1)
            if s <= NTU60_LAST_SETUP
            else range(ACTIONS_PER_SETUP + 1, 2 * ACTIONS_PER_SETUP + 1)
        )
    ]
    assert len(names) == len(set(names)) == NTU120_SAMPLES, len(names)
    return sorted(names)


def make_templates(count: int, seed: int) -> dict[int, list[bytes]]:
    """actors (1 or 2) -> template file contents."""
    rng = np.random.default_rng(seed)
    out: dict[int, list[bytes]] = {1: [], 2: []}
    n_two = max(1, round(count * len(TWO_PERSON_ACTIONS) / 120))
    for i in range(count):
        actors = 2 if i < n_two else 1
        action = min(TWO_PERSON_ACTIONS) if actors == 2 else 1
        frames = int(np.clip(rng.lognormal(np.log(FRAMES_MEDIAN), FRAMES_SIGMA), *FRAMES_RANGE))
        text = sample_text(SampleName(1, 1, 1, 1, action), rng, frames=(frames, frames + 1))
        if rng.random() < 0.5:
            text = text.replace("\n", "\r\n")
        out[actors].append(text.encode())
    return out


def pick(name: SampleName, templates: dict[int, list[bytes]]) -> tuple[int, int]:
    group = templates[name.n_actors]
    return name.n_actors, zlib.crc32(name.name.encode()) % len(group)


def file_path(root: Path, name: SampleName) -> Path:
    return root / ARCHIVE_DIRS[name.setup > NTU60_LAST_SETUP] / f"{name.name}.skeleton"


def write_tree(root: Path, names: list[SampleName], templates: dict[int, list[bytes]]) -> int:
    """Real files; each gets its own first body id (same length, so the same size)."""
    old = str(BODY_ID_BASE)[:12].encode()  # every body id of a template starts with it
    total = 0
    for d in ARCHIVE_DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    for name in names:
        data = templates[name.n_actors][pick(name, templates)[1]]
        new = str(10**11 + zlib.crc32(name.name.encode()) % (9 * 10**11)).encode()
        data = data.replace(old, new)
        file_path(root, name).write_bytes(data)
        total += len(data)
    return total


def link_tree(root: Path, names: list[SampleName], templates: dict[int, list[bytes]]) -> None:
    """All names as hard links to the template files (real inodes to stat, little disk)."""
    tdir = root.parent / (root.name + "_templates")
    tdir.mkdir(parents=True, exist_ok=True)
    for actors, group in templates.items():
        for i, data in enumerate(group):
            (tdir / f"{actors}_{i}.skeleton").write_bytes(data)
    for d in ARCHIVE_DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    for name in names:
        actors, i = pick(name, templates)
        os.link(tdir / f"{actors}_{i}.skeleton", file_path(root, name))


def evict(paths: list[Path]) -> None:
    """Drop these files from the page cache (clean pages only, hence the sync)."""
    os.sync()
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def read_all(paths: list[Path], threads: int = 1) -> float:
    """Wall seconds to read every byte, by `threads` threads taking the files in order."""

    def read(p: Path) -> None:
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass

    def read_every(k: int) -> None:  # thread k of n reads files k, k + n, ...
        for p in paths[k::threads]:
            read(p)

    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:  # no future per file: this process stays small,
        list(ex.map(read_every, range(threads)))  # as its forked jobs' peak RSS starts from it
    return time.perf_counter() - t


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def write_config(wd: Path, raw: Path, shard_size: int) -> Path:
    wd.mkdir(parents=True, exist_ok=True)
    cfg = wd / "bench_config.yaml"
    dirs = [str(raw / d) for d in ARCHIVE_DIRS]
    # the repository's defaults (a --configfile outside the working directory replaces them)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["ntu"].update(skeletons=dirs, denoise="pyskl", shard_size=shard_size)
    config["strict"] = False
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    return cfg


def snakemake(wd: Path, cfg: Path, cores: int, *targets: str, dry: bool = False) -> float:
    """Wall seconds of one Snakemake run; its CPU seconds (with all jobs) go to LAST_CPU."""
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(wd),
        *targets, "--configfile", str(cfg), "--cores", str(cores),
        *(["-n"] if dry else []), "--quiet", "all",
    ]  # fmt: skip
    dt, ru = run_rusage(cmd)
    LAST_CPU[0] = ru.ru_utime + ru.ru_stime
    return dt


LAST_CPU = [0.0]


def run_rusage(cmd: list[str]) -> tuple[float, os.struct_rusage]:  # type: ignore[name-defined]
    """Run `cmd`; wall seconds and the rusage of it and every descendant it waited for."""
    with tempfile.TemporaryFile() as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code:
            log.seek(0)
            sys.exit(f"failed ({code}): {' '.join(cmd)}\n{log.read().decode()[-5000:]}")
    return dt, ru


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, exact peak RSS in MB) of one command, from wait4's rusage."""
    dt, ru = run_rusage(cmd)
    return dt, ru.ru_maxrss / 1024


def bench_rows(wd: Path) -> dict[str, list[dict[str, float]]]:
    """rule -> rows of Snakemake's benchmark TSVs (s, max_rss in MB)."""
    out: dict[str, list[dict[str, float]]] = {}
    for f in sorted((wd / "benchmarks").rglob("*.tsv")):
        rel = f.relative_to(wd / "benchmarks")
        rule = "parse_shard" if rel.parent.name.startswith("3d_") else rel.stem
        rule = f"{rel.parts[0]}/{rule}" if rel.parts[0] != "ntu" else rule
        with open(f, newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                vals = {k: _num(row.get(k)) for k in ("s", "max_rss", "cpu_time")}
                out.setdefault(rule, []).append(vals)
    return out


def _num(v: str | None) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


NAN = float("nan")


def full_size_dry_run(
    a: argparse.Namespace, out: Path, names: list[SampleName], templates: dict, fig: dict
) -> None:
    """Index all 114,480 names (hard links) and time `snakemake -n ntu120_xset` against it."""
    t = time.perf_counter()
    link_tree(out / "raw_full", names, templates)
    print(f"hard-linked all {len(names)} names in {time.perf_counter() - t:.1f} s")
    wd_full = out / "wd_full"
    cfg = write_config(wd_full, out / "raw_full", a.shard_size)
    fig["index_wall"] = snakemake(wd_full, cfg, a.cores, "results/ntu/index.tsv")
    fig["index_job"] = bench_rows(wd_full)["index"][0]["s"]
    fig["index_rss"] = bench_rows(wd_full)["index"][0]["max_rss"]
    dry, cpu = [], []
    for _ in range(a.dry_runs):
        dry.append(snakemake(wd_full, cfg, a.cores, "ntu120_xset", dry=True))
        cpu.append(LAST_CPU[0])
    fig["dry_run"], fig["dry_run_cpu"] = sorted(dry)[len(dry) // 2], min(cpu)
    print(
        f"full index: job {fig['index_job']:.1f} s (wall incl. Snakemake "
        f"{fig['index_wall']:.1f} s); dry runs ntu120_xset: {[round(x, 1) for x in dry]} s"
    )
    shutil.rmtree(out / "raw_full")
    shutil.rmtree(out / "raw_full_templates")


def load() -> str:
    return os.getloadavg().__repr__()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fraction", type=float, default=0.1, help="share of the names to build")
    p.add_argument("--out", default="/tmp/skeleton-scale", help="scratch folder")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--shard-size", type=int, default=2000, help="config ntu.shard_size")
    p.add_argument("--templates", type=int, default=120)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-runs", type=int, default=3, help="timed dry runs (median reported)")
    p.add_argument("--skip-build", action="store_true", help="names, index and dry run only")
    p.add_argument("--skip-full", action="store_true", help="no full-size index / dry run")
    p.add_argument("--keep", action="store_true", help="keep --out afterwards")
    a = p.parse_args(argv)
    if not 0 < a.fraction <= 1:
        p.error("--fraction must be in (0, 1]")
    out = Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    print(
        f"# NTU120 scale benchmark: fraction {a.fraction}, {a.cores} cores, {os.cpu_count()} "
        f"CPUs, {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB RAM"
    )
    print(f"load average at start: {load()}")
    free = shutil.disk_usage(out).free / 1e9
    print(f"free disk under {out}: {free:.0f} GB")
    fig: dict[str, float] = {}
    try:
        t = time.perf_counter()
        names = ntu120_names()
        templates = make_templates(a.templates, a.seed)
        sizes = [len(templates[n.n_actors][pick(n, templates)[1]]) for n in names]
        full_bytes = float(sum(sizes))
        print(
            f"{len(names)} names; {a.templates} templates in {time.perf_counter() - t:.1f} s; "
            f"mean file {full_bytes / len(names) / 1e3:.0f} KB, full set {full_bytes / 1e9:.1f} GB"
        )
        if full_bytes * a.fraction > 0.8 * free * 1e9:
            sys.exit("not enough free disk for this fraction: use a smaller --fraction or --out")

        # --- full-size index and dry run (hard links) -----------------------------------
        fig.update(index_wall=NAN, index_job=NAN, index_rss=NAN, dry_run=NAN, dry_run_cpu=NAN)
        if not a.skip_full:
            full_size_dry_run(a, out, names, templates, fig)
        if a.skip_build:
            return 0

        # --- fraction build ---------------------------------------------------------------
        rng = np.random.default_rng(a.seed)
        k = max(1, round(a.fraction * len(names)))
        chosen = sorted(names[i] for i in rng.choice(len(names), k, replace=False))
        f_eff = k / len(names)
        raw = out / "raw"
        t = time.perf_counter()
        nbytes = write_tree(raw, chosen, templates)
        paths = [file_path(raw, n) for n in chosen]
        print(f"wrote {k} files, {nbytes / 1e9:.2f} GB, in {time.perf_counter() - t:.1f} s")
        wd = out / "wd"
        # shards are hash buckets sized for all 114,480 names: scaled by the fraction, the build
        # makes shards of shard_size samples as the full build does (so times scale with it)
        cfg = write_config(wd, raw, max(1, round(a.shard_size / f_eff)))
        evict(paths)
        print(f"load before cold build: {load()}")
        fig["build_cold"] = snakemake(wd, cfg, a.cores, "ntu120_xset")
        fig["build_cold_cpu"] = LAST_CPU[0]
        pkl = wd / "results" / "ntu120" / "ntu120_3d.pkl"
        digest_cold = sha256(pkl)
        rows = bench_rows(wd)
        fig["noop_dry_run"] = snakemake(wd, cfg, a.cores, "ntu120_xset", dry=True)
        evict(paths)
        fig["read_cold"] = read_all(paths)
        evict(paths)
        # the disk's limit: several reads in flight, as the build's read-ahead keeps them
        fig["read_cold_par"] = read_all(paths, DISK_THREADS)
        fig["read_warm"] = read_all(paths)
        # warm: rebuild everything but the index from a warm page cache
        shutil.rmtree(wd / "results" / "ntu" / "3d_pyskl")
        shutil.rmtree(wd / "results" / "ntu120")
        print(f"load before warm build: {load()}")
        fig["build_warm"] = snakemake(wd, cfg, a.cores, "ntu120_xset")
        fig["build_warm_cpu"] = LAST_CPU[0]
        fig["pickle_mb"] = pkl.stat().st_size / 1e6
        fig["identical"] = float(sha256(pkl) == digest_cold)

        # exact peaks: packaging with all and with half of the shards, one parse shard
        shards = sorted(
            (wd / "results/ntu/3d_pyskl").glob("shard_*.pkl"),
            key=lambda s: int(s.stem.split("_")[1]),
        )
        sk = [sys.executable, "-m", "skeleton"]
        scratch = out / "scratch"
        scratch.mkdir()
        pts = []
        for part in (shards, shards[: max(1, len(shards) // 2)]):
            o = scratch / f"p{len(part)}.pkl"
            dt, rss = peak_rss_mb(
                sk + ["ntu-package", str(wd / "results/ntu/index.tsv"), *map(str, part),
                      "--splits", str(wd / "results/ntu120/official_splits.json"),
                      "--dataset", "ntu120",
                      "--out", str(o), "--rejects", str(scratch / "r.tsv"),
                      "--manifest", str(scratch / "m.json")]
            )  # fmt: skip
            pts.append((o.stat().st_size / 1e6, rss, dt))
        fig["package_exact_rss"], fig["package_exact_s"] = pts[0][1], pts[0][2]
        members = sorted((wd / "results/ntu/members").glob("skeletons_*.tsv"))[0]
        _, fig["shard_exact_rss"] = peak_rss_mb(
            sk + ["ntu-parse-shard", str(members), "--out", str(scratch / "s0.pkl")]
        )  # fmt: skip
        report(a, fig, rows, pts, f_eff, nbytes, full_bytes)
    finally:
        print(f"load average at end: {load()}")
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


def report(a, fig, rows, pts, f, nbytes, full_bytes) -> None:
    def stat(rule: str, key: str, agg=max) -> float:
        vals = [r[key] for r in rows.get(rule, []) if r[key] == r[key]]
        return agg(vals) if vals else NAN

    n_shards = len(rows.get("parse_shard", []))
    (size_all, rss_all, _), (size_half, rss_half, _) = pts
    slope = (rss_all - rss_half) / (size_all - size_half) if size_all != size_half else 0.0
    fixed = rss_all - slope * size_all
    full_pkl = fig["pickle_mb"] / f
    full_rss = fixed + slope * full_pkl
    # Snakemake's start + DAG does not scale with the fraction; the jobs' work does. At full size
    # the DAG costs what the full-size dry run costs (114,480 inputs), so:
    # full = full dry run + (build - dry run at this fraction) / fraction
    over = fig["noop_dry_run"]
    full = {k: fig["dry_run"] + (fig[f"build_{k}"] - over) / f for k in ("cold", "warm")}
    parse_cpu = stat("parse_shard", "cpu_time", sum)
    bound = max(fig["read_cold_par"], parse_cpu / a.cores)  # reading and parsing overlapped
    serial_cpu = sum(stat(r, "cpu_time", sum) for r in ("ntu120/splits", "ntu120/package_3d"))
    idle = fig["dry_run_cpu"] + (parse_cpu / a.cores + serial_cpu) / f
    pkg_s = stat("ntu120/package_3d", "s")
    print()
    print(
        f"## Results: fraction {f:.4f} ({nbytes / 1e9:.2f} of {full_bytes / 1e9:.1f} GB, "
        f"{n_shards} shards of {a.shard_size}), {a.cores} cores"
    )
    table = [
        ("index build, all 114,480 names (job)", fig["index_job"], fig["index_job"], "s", None),
        ("  same, incl. Snakemake start (wall)", fig["index_wall"], fig["index_wall"], "s", None),
        ("dry run ntu120_xset, full index (wall)", NAN, fig["dry_run"], "s", GOAL_DRY_RUN_S),
        ("  its CPU time (~ wall on an idle core)", NAN, fig["dry_run_cpu"], "s", GOAL_DRY_RUN_S),
        ("dry run, nothing to do (this fraction)", over, NAN, "s", None),
        ("3D build ntu120_xset, cold page cache", fig["build_cold"], full["cold"], "s",
         GOAL_BUILD_COLD_S),
        ("3D build ntu120_xset, warm page cache", fig["build_warm"], full["warm"], "s",
         GOAL_BUILD_WARM_S),
        ("  estimate for idle cores (CPU based)", NAN, idle, "s", GOAL_BUILD_WARM_S),
        ("  CPU s, Snakemake + all jobs (cold)", fig["build_cold_cpu"], NAN, "s", None),
        ("  parse jobs: CPU s (sum)", parse_cpu, parse_cpu / f, "s", None),
        ("  packaging job (wall)", pkg_s, pkg_s / f, "s", None),
        ("  reading the bytes alone, cold", fig["read_cold"], fig["read_cold"] / f, "s", None),
        (f"  same, {DISK_THREADS} threads (the disk's limit)", fig["read_cold_par"],
         fig["read_cold_par"] / f, "s", None),
        ("  reading the bytes alone, warm", fig["read_warm"], fig["read_warm"] / f, "s", None),
        ("  parse jobs' CPU s / cores", parse_cpu / a.cores, parse_cpu / a.cores / f, "s", None),
        ("  cold build / max(read, parse CPU / cores)", fig["build_cold"] / bound, NAN, "x",
         None),
        ("parse+denoise MB/s of text per CPU s", nbytes / 1e6 / parse_cpu, NAN, "MB/s", None),
        ("output pickle ntu120_3d.pkl", fig["pickle_mb"], full_pkl, "MB", None),
        ("packaging peak RSS (exact, getrusage)", rss_all, full_rss, "MB", None),
        ("  / pickle size (goal <= 1.5)", rss_all / fig["pickle_mb"], full_rss / full_pkl, "x",
         GOAL_PACKAGE_RSS),
        ("packaging max_rss (Snakemake benchmark)", stat("ntu120/package_3d", "max_rss"), NAN,
         "MB", None),
        ("parse shard max_rss (Snakemake, max)", stat("parse_shard", "max_rss"),
         stat("parse_shard", "max_rss"), "MB", None),
        ("parse shard 0 peak RSS (exact)", fig["shard_exact_rss"], fig["shard_exact_rss"], "MB",
         None),
        ("index max_rss (Snakemake, all names)", fig["index_rss"], fig["index_rss"], "MB", None),
        ("splits max_rss (Snakemake)", stat("ntu120/splits", "max_rss"), NAN, "MB", None),
    ]  # fmt: skip
    print(f"{'figure':42} {'measured':>10} {'full size':>10} {'goal':>8} {'ratio':>6}")
    for label, measured, fullv, unit, goal in table:
        cells = [f"{v:.3g} {unit}" if v == v else "" for v in (measured, fullv)]
        g = f"{goal:g} {unit}" if goal else ""
        ratio = f"{fullv / goal:.2f}" if goal and fullv == fullv else ""
        print(f"{label:42} {cells[0]:>10} {cells[1]:>10} {g:>8} {ratio:>6}")
    print(
        f"packaging memory fit: {fixed:.0f} MB + {slope:.3f} x pickle MB (all vs half the shards); "
        "parse jobs always hold one shard_size shard, so their memory is already full-size. "
        f"Disk share of the cold build: reading the bytes cold takes "
        f"{fig['read_cold'] / fig['build_cold']:.0%} of it (one reader), "
        f"{fig['read_cold_par'] / fig['build_cold']:.0%} with {DISK_THREADS} readers. "
        f"Cold and warm pickles byte-identical: {'yes' if fig['identical'] else 'NO'}."
    )
    with contextlib.suppress(OSError):
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    raise SystemExit(main())
