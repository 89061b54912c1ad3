"""Run `skeleton` commands on many pickles, each in a forked child under a memory cap.

    python tests/pickle_readers.py CASES.json RESULTS.json

CASES.json: [{"argv": [...], "cwd": DIR, "out": FILE_PREFIX}, ...]. The parent imports the
command line once; each case runs `skeleton.cli.main(argv)` in a child with RLIMIT_AS
(SKELETON_TEST_AS_MB, default 3000 MB) and a wall-clock alarm (SKELETON_TEST_TIMEOUT_S,
default 60 s), stdout/stderr to FILE_PREFIX.out / .err. RESULTS.json: per case the exit code
or the signal that ended it, and the seconds it took. Forking keeps ~200 cases x commands at
milliseconds each instead of an interpreter start per case.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time


def _child(case: dict, as_bytes: int, timeout_s: int) -> None:
    os.chdir(case["cwd"])
    for fd, suffix in ((1, ".out"), (2, ".err")):
        target = os.open(case["out"] + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the child exits right after
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
    signal.alarm(timeout_s)
    from skeleton.cli import main

    try:
        code = main(case["argv"])
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # what the interpreter would do: the traceback, exit 1
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> int:
    cases_path, results_path = sys.argv[1:3]
    with open(cases_path) as f:
        cases = json.load(f)
    as_bytes = int(os.environ.get("SKELETON_TEST_AS_MB", "3000")) << 20
    timeout_s = int(os.environ.get("SKELETON_TEST_TIMEOUT_S", "60"))
    import skeleton.cli

    skeleton.cli.build_parser()  # import every command module before forking
    import skeleton.pictures.render  # noqa: F401 - its plotting stack too

    results = []
    for case in cases:
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                _child(case, as_bytes, timeout_s)
            finally:
                os._exit(99)
        _, status = os.waitpid(pid, 0)
        results.append(
            {
                "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "seconds": round(time.monotonic() - start, 3),
            }
        )
    with open(results_path, "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
