"""``epmt-graph watch DIR``: load each EPMT archive dropped into DIR, once, as a daemon.

The log is one line per archive, stamped with the time: on stdout for a job loaded, on
stderr for an archive refused (:mod:`epmt_graph.loader.watch`). SIGTERM or SIGINT lets the
archive being loaded finish, then the watcher exits 0; a second one stops it at once (exit
130), which loses nothing either: the archive is loaded again at the next start.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from epmt_graph.cli.commands import SUMMARY
from epmt_graph.loader.inbox import DONE, FAILED
from epmt_graph.loader.watch import INTERVAL, SETTLE, Watcher

__all__ = ["register"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def register(commands: Any) -> None:
    """Add the ``watch`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "watch",
        help=SUMMARY["watch"],
        description="Load each .tgz archive that appears in DIR once it is complete (renamed "
        f"in, or unwritten for --settle seconds), then move it to DIR/{DONE}/, or to "
        f"DIR/{FAILED}/ with NAME.reason. A job id already loaded is refused unless --replace. "
        "SIGTERM or SIGINT: the job being loaded is finished, then exit 0.",
    )
    parser.add_argument("folder", metavar="DIR")
    parser.add_argument(
        "--replace", action="store_true", help="swap out a loaded job with the same jobid"
    )
    parser.add_argument(
        "--settle",
        type=_seconds(minimum=0.0),
        default=SETTLE,
        metavar="SECONDS",
        help=f"how long an archive must be left unwritten before it is read ({SETTLE:g})",
    )
    parser.add_argument(
        "--interval",
        type=_seconds(minimum=0.01),
        default=INTERVAL,
        metavar="SECONDS",
        help=f"how often to look at DIR ({INTERVAL:g})",
    )
    parser.set_defaults(run=_watch)


def _watch(args: argparse.Namespace) -> int:
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS}
    try:
        with Watcher(
            args.folder,
            replace=args.replace,
            settle=args.settle,
            interval=args.interval,
            log=_log,
        ) as watcher:
            watcher.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _log(f"stopped by {signal.Signals(received[0]).name}", False)
    return 0


def _log(line: str, error: bool) -> None:
    """One line of the daemon's log, stamped with the local time and its offset."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    print(f"{stamp} {line}", file=sys.stderr if error else sys.stdout, flush=True)


def _seconds(*, minimum: float) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not value >= minimum:  # NaN too
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g} s, not {text}")
        return value

    return parse
