"""`skeleton fetch URL OUT`: verified, resumable download (http, https, file://, plain path)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1


def register(subparsers: Any) -> None:
    from skeleton.core.fetch import DEFAULT_DEADLINE_S, DEFAULT_MAX_BYTES, DEFAULT_MIN_RATE

    p = subparsers.add_parser(
        "fetch",
        help="download a file with resume, retries and sha256 verification",
        description=(
            "Download URL (http, https, file:// or a local path) to OUT via OUT.part, resuming "
            "an earlier partial download, and rename it to OUT only once the checksum matches. "
            "OpenMMLab checkpoint names (..._20200708-123d8bab.pth) carry a sha256 prefix that "
            "is checked when no checksum is given. Exit 0 fetched/present, 1 failed."
        ),
    )
    p.add_argument("url", metavar="URL", help="http(s)://, file:// or a local path")
    p.add_argument("out", metavar="OUT", help="file to write, or a folder (ending in /) for it")
    check = p.add_mutually_exclusive_group()
    check.add_argument("--sha256", metavar="HEX", help="expected sha256 (64 hex digits)")
    check.add_argument("--sha256-prefix", metavar="HEX", help="expected leading sha256 digits")
    p.add_argument(
        "--no-name-hash",
        action="store_true",
        help="do not verify the sha256 prefix carried by an OpenMMLab checkpoint name",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="download nothing: succeed only if OUT exists and verifies",
    )
    p.add_argument("--retries", type=int, default=5, metavar="N", help="retries (default: 5)")
    p.add_argument(
        "--backoff",
        type=float,
        default=1.0,
        metavar="S",
        help="first retry delay in seconds, doubled each retry (default: 1)",
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="one socket read (default: 60)"
    )
    p.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_S,
        metavar="S",
        help=f"give up after S seconds, all retries included (default: {DEFAULT_DEADLINE_S:g})",
    )
    p.add_argument(
        "--max-gb",
        type=float,
        default=DEFAULT_MAX_BYTES / (1 << 30),
        metavar="GB",
        help="refuse (or stop) a file larger than this (default: "
        f"{DEFAULT_MAX_BYTES / (1 << 30):g} GiB)",
    )
    p.add_argument(
        "--min-rate",
        type=float,
        default=DEFAULT_MIN_RATE,
        metavar="B/S",
        help=f"retry a transfer slower than this over a minute (default: {DEFAULT_MIN_RATE:g}; "
        "0: never)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.core.fetch import FetchError, checkpoint_sha256_prefix, fetch, url_file_name

    logger = logging.getLogger("skeleton.core.fetch")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("skeleton fetch: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    out = args.out
    if out.endswith(("/", os.sep)) or os.path.isdir(out):  # a folder: keep the URL's file name
        try:
            out = os.path.join(out, url_file_name(args.url))
        except FetchError as exc:
            raise UsageError(str(exc)) from None
    prefix = args.sha256_prefix
    if not args.sha256 and not prefix and not args.no_name_hash:
        prefix = checkpoint_sha256_prefix(args.url)
    if args.retries < 0 or args.backoff < 0:
        raise UsageError("--retries and --backoff must be non-negative")
    if args.deadline <= 0 or args.max_gb <= 0 or args.min_rate < 0:
        raise UsageError("--deadline and --max-gb must be positive, --min-rate not negative")
    try:
        fetch(
            args.url,
            out,
            sha256=args.sha256,
            sha256_prefix=prefix,
            offline=args.offline,
            retries=args.retries,
            backoff_s=args.backoff,
            timeout_s=args.timeout,
            progress=False if args.no_progress else None,
            deadline_s=args.deadline,
            max_bytes=int(args.max_gb * (1 << 30)),
            min_rate=args.min_rate,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    except FetchError as exc:
        print(f"skeleton fetch: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
