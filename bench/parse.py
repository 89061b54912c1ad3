"""Whole-process `skeleton ntu3d --jobs 1` against the public tools' readers, on the same files.

    python bench/parse.py --pyskl PYSKL_CHECKOUT [--copies 48] [--dir RAW_DIR]

Every side is one whole process over the same files (interpreter start and imports included),
timed by its CPU seconds (user + sys, so other load on the machine shifts every side alike) and
wall seconds; each runs `--repeat` times and the fastest is kept.

* ours: `skeleton ntu3d DIR --jobs 1 --out X.pkl --denoise pyskl` (and `--denoise energy`):
  index, read, parse, denoise, package; and `--denoise pyskl --manifest M.json`, which also
  checksums every file (sha256) for the manifest, as the workflow's build does.
* MMAction2: `read_xyz` of tools/data/skeleton/gen_ntu_rgbd_raw.py (its reader + the energy
  denoiser) on every file, the results pickled. Default: the copy MMAction2's wheel ships
  (mmaction/.mim) in the consumer venv `.ci/mmaction-env.sh` builds; or --mmaction2 FILE.
* PYSKL: `parse_skeleton_file` of tools/data/ntu_preproc.py (its parser) on every file, and
  `gen_anno` (parser + its denoiser), results pickled; --pyskl names a checkout of
  github.com/kennymckormick/pyskl (its pyskl/smp.py gives `mrlines`).

The public functions run unmodified, outside the repository: their bodies are read from those
files at run time (without the scripts' top-level code), never copied here. Their outputs are
compared with our pickles (energy with read_xyz, pyskl with gen_anno), bit for bit as float16.

Files: `--dir`, or by default the real NTU files in ../shared/ntu/skeletons, copied `--copies`
times under distinct sample names (21 x 48 = 1,008 files, 264 MB). The page cache is warmed
first: this measures the CPU, not the disk. Goals (issue 18): ours >= 20x MMAction2's read_xyz
and >= 10x PYSKL's parser.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import copy
import glob
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
REAL = REPO.parent / "shared" / "ntu" / "skeletons"
GOALS = {"mmaction2": 20.0, "pyskl-parse": 10.0}
MMACTION_REF = "mmaction/.mim/tools/data/skeleton/gen_ntu_rgbd_raw.py"


# --- the reference side (runs in a child process) ------------------------------------------


def load_functions(path: str, names: set[str], env: dict) -> dict:
    """The named top-level functions (and simple constants) of a public script, without running
    the script itself; `env` supplies what their bodies use from the script's imports."""
    tree = ast.parse(Path(path).read_text(), path)
    keep = [
        n
        for n in tree.body
        if (isinstance(n, ast.FunctionDef) and n.name in names)
        or (
            isinstance(n, ast.Assign)
            and all(isinstance(t, ast.Name) for t in n.targets)
            and isinstance(n.value, ast.Constant | ast.List)
        )
    ]
    ns = {"np": np, "os": os, "osp": os.path, "cp": copy, **env}
    exec(compile(ast.Module(keep, type_ignores=[]), path, "exec"), ns)  # noqa: S102
    missing = names - ns.keys()
    if missing:
        sys.exit(f"{path}: no function {', '.join(sorted(missing))}")
    return ns


def reference_worker(kind: str, ref: str, files: list[str], out: str) -> None:
    from typing import Optional

    t = time.process_time()
    results = {}
    if kind == "mmaction2":
        env = {"Dict": dict, "List": list, "Optional": Optional, "Tuple": tuple}  # annotations
        fns = load_functions(ref, {"read_skeleton_filter", "get_nonzero_std", "read_xyz"}, env)
        for f in files:
            results[Path(f).stem] = fns["read_xyz"](f)
    else:
        smp = load_functions(os.path.join(ref, "pyskl", "smp.py"), {"mrlines"}, {})
        script = os.path.join(ref, "tools", "data", "ntu_preproc.py")
        wanted = {"parse_skeleton_file", "spread_denoising", "non_zero", "gen_keypoint_array"}
        fns = load_functions(script, wanted | {"gen_anno"}, {"mrlines": smp["mrlines"]})
        for f in files:
            root, name = os.path.dirname(f), Path(f).stem
            if kind == "pyskl-parse":
                results[name] = fns["parse_skeleton_file"](name, root)
            else:
                fns["root"] = root  # gen_anno reads the script's global folder name
                results[name] = fns["gen_anno"](name)
    with open(out, "wb") as fh:
        pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"samples": len(results), "loop_cpu": time.process_time() - t}))


# --- the driver ---------------------------------------------------------------------------


def run_child(cmd: list[str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def replicate(src: Path, copies: int, dst: Path) -> list[Path]:
    """`copies` copies of every file under new, distinct, valid sample names: camera,
    replication and performer vary, setup and action (so label and NTU60/120 membership) stay."""
    files = sorted(src.glob("*.skeleton"))
    if len({(f.name[:4], f.name[16:20]) for f in files}) != len(files):
        sys.exit(f"{src}: copies need one file per (setup, action)")
    out = []
    for k in range(copies):
        camera, rep, shift = k % 3 + 1, k // 3 % 2 + 1, k // 6
        for f in files:
            performer = (int(f.name[9:12]) - 1 + 13 * shift) % 106 + 1
            new = dst / f"{f.name[:4]}C{camera:03d}P{performer:03d}R{rep:03d}{f.name[16:]}"
            if new.exists():
                sys.exit(f"{new.name}: name collision (too many --copies)")
            shutil.copyfile(f, new)
            out.append(new)
    return sorted(out)


def default_mmaction2() -> str | None:
    import subprocess

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.join(repo, ".ci", "mmaction-env.sh")  # builds or reuses the consumer venv
    proc = subprocess.run(["bash", script], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    venv = os.path.dirname(os.path.dirname(proc.stdout.strip().splitlines()[-1]))
    found = sorted(glob.glob(os.path.join(venv, "lib", "python*", "site-packages", MMACTION_REF)))
    return found[-1] if found else None


def compare(ours_pkl: str, ref_pkl: str, kind: str) -> str:
    """Our keypoints against the reference outputs: 'N/N identical' or what differs."""
    from skeleton.core.annotations import load

    ours = {a["frame_dir"]: a["keypoint"] for a in load(ours_pkl)["annotations"]}
    with open(ref_pkl, "rb") as fh:
        ref = pickle.load(fh)  # written by our own worker above
    same = 0
    for name, value in ref.items():
        want = (value["keypoint"] if kind == "pyskl" else value).astype(np.float16)
        got = ours.get(name)
        if got is not None and got.shape == want.shape and got.tobytes() == want.tobytes():
            same += 1
    return f"{same}/{len(ref)} identical" + ("" if same == len(ref) == len(ours) else " (DIFFER)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dir", help="a folder of .skeleton files (default: copies of the real ones)")
    ap.add_argument("--copies", type=int, default=48, help="copies of each real file (default 48)")
    ap.add_argument("--mmaction2", default=default_mmaction2(), help="gen_ntu_rgbd_raw.py")
    ap.add_argument("--pyskl", help="a checkout of github.com/kennymckormick/pyskl")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each of our sides (best kept)")
    ap.add_argument("--ref-repeat", type=int, default=1, help="runs of each reference side")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    ap.add_argument("--list", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        reference_worker(args.worker, args.ref, Path(args.list).read_text().split("\n"), args.out)
        return

    from skeleton.ntu import reader

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        if args.dir:
            files = sorted(Path(args.dir).rglob("*.skeleton"))
            raw = Path(args.dir)
        else:
            raw = tmp / "raw"
            raw.mkdir()
            files = replicate(REAL, args.copies, raw)
        listfile = tmp / "files.txt"
        listfile.write_text("\n".join(map(str, files)))
        mb = sum(f.stat().st_size for f in files) / 1e6
        # Bytecode of the package, as an installed or once-run checkout has it: with
        # PYTHONDONTWRITEBYTECODE set (as on some CI machines) every run would compile ~20
        # modules from source again (~40 ms of each of our processes).
        compileall.compile_dir(REPO / "skeleton", quiet=1)
        for f in files:  # warm the page cache: measure parsing, not the disk
            f.read_bytes()
        sides: dict[str, list[str]] = {}
        for mode in ("pyskl", "energy"):
            sides[f"ours-{mode}"] = [
                sys.executable, "-m", "skeleton", "ntu3d", str(raw), "--jobs", "1",
                "--out", str(tmp / f"ours-{mode}.pkl"), "--denoise", mode,
            ]  # fmt: skip
        sides["ours-manifest"] = [
            sys.executable, "-m", "skeleton", "ntu3d", str(raw), "--jobs", "1",
            "--out", str(tmp / "ours-manifest.pkl"), "--manifest", str(tmp / "manifest.json"),
        ]  # fmt: skip
        refs = {"mmaction2": args.mmaction2}
        if args.pyskl:
            refs.update({"pyskl-parse": args.pyskl, "pyskl": args.pyskl})
        for kind, ref in refs.items():
            if ref and os.path.exists(ref):
                sides[kind] = [
                    sys.executable, __file__, "--worker", kind, "--ref", ref,
                    "--list", str(listfile), "--out", str(tmp / f"{kind}.pkl"),
                ]  # fmt: skip
        best = {}
        for kind, cmd in sides.items():
            runs = [
                run_child(cmd)
                for _ in range(args.ref_repeat if "ours" not in kind else args.repeat)
            ]
            best[kind] = min(runs, key=lambda r: r["cpu"])
            print(f"  {kind}: {best[kind]['cpu']:.2f} s CPU", file=sys.stderr)
        checks = {
            kind: compare(str(tmp / f"ours-{mode}.pkl"), str(tmp / f"{kind}.pkl"), mode)
            for kind, mode in (("mmaction2", "energy"), ("pyskl", "pyskl"))
            if kind in best
        }
    load_end = os.getloadavg()
    print(
        f"{len(files)} files, {mb:.0f} MB; C reader: {reader._skelparse is not None}; load average "
        f"{load_start[0]:.1f} at start, {load_end[0]:.1f} at end, on {os.cpu_count()} cores"
    )
    print(f"{'process':<14} {'wall s':>8} {'CPU s':>8} {'MB/CPU s':>9}")
    for kind, r in best.items():
        print(f"{kind:<14} {r['wall']:>8.2f} {r['cpu']:>8.2f} {mb / r['cpu']:>9.1f}")
    # like for like: the energy denoiser is MMAction2's, the pyskl one PYSKL's
    pairs = [("mmaction2", "ours-energy"), ("pyskl-parse", "ours-pyskl"), ("pyskl", "ours-pyskl")]
    pairs.append(("pyskl-parse", "ours-manifest"))
    for ref, ours in pairs:
        if ref not in best:
            print(f"{ref}: not run (see --mmaction2 / --pyskl)")
            continue
        cpu = best[ref]["cpu"] / best[ours]["cpu"]
        wall = best[ref]["wall"] / best[ours]["wall"]
        goal = GOALS.get(ref) if ours != "ours-manifest" else None
        verdict = f"; goal >= {goal:g}x: {'met' if cpu >= goal else 'NOT met'}" if goal else ""
        print(f"{ours} vs {ref}: {cpu:.1f}x (CPU), {wall:.1f}x (wall){verdict}")
    for kind, result in checks.items():
        print(f"outputs, ours vs {kind}: {result}")


if __name__ == "__main__":
    main()
