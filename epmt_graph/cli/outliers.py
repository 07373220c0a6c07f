"""``epmt-graph outliers JOB... [--model NAME] [--explain JOB] [--picture FILE]``: which jobs
are outliers (EPMT's ``detect_outlier_jobs``), and why one is, from its process tree
(:func:`epmt_graph.outliers.explain.explain_outlier`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from epmt_graph.api.refmodels import get_refmodels, model_rows
from epmt_graph.cli.commands import SUMMARY
from epmt_graph.db import default_graph
from epmt_graph.errors import ConfigError, QueryError, UnknownModelError
from epmt_graph.outliers import detect_outlier_jobs, explain_outlier
from epmt_graph.tree import Picture

__all__ = ["register"]

#: How ``--picture`` writes a file, by suffix (default: the HTML page).
_WRITERS = {".svg": Picture.save_svg}


def register(commands: Any) -> None:
    """Add ``outliers`` to ``commands`` (an argparse subparsers object)."""
    outliers = commands.add_parser(
        "outliers",
        help=SUMMARY["outliers"],
        description="Without --explain: EPMT's detect_outlier_jobs table of the JOBs (per "
        "feature, how many classifiers find the job an outlier), compared among themselves "
        "or with --model. With --explain JOB: the subtrees of JOB's process tree that "
        "deviate most from those of the other JOBs (or of the model's jobs), deepest "
        "meaningful first; --picture FILE draws JOB's tree with them coloured (FILE.svg: "
        "the drawing alone; any other name: an offline HTML page).",
    )
    outliers.add_argument("jobs", nargs="*", metavar="JOB")
    outliers.add_argument("--model", metavar="NAME", help="a reference model, by name or id")
    outliers.add_argument("--explain", metavar="JOB", help="the job to explain")
    outliers.add_argument("--picture", type=Path, metavar="FILE", help="draw the explanation")
    outliers.add_argument(
        "--limit", type=int, default=10, help="subtrees to show with --explain (10; 0: all)"
    )
    outliers.set_defaults(run=_outliers)


def _outliers(args: argparse.Namespace) -> int:
    model = None if args.model is None else _model(args.model)
    if args.explain is None:
        if args.picture is not None:
            raise QueryError("--picture draws an explanation: add --explain JOB")
        return _table(args.jobs, model)
    references = [job for job in args.jobs if job != args.explain]
    if bool(references) == (model is not None):
        raise QueryError("--explain JOB compares JOB with the other JOBs or with --model: one")
    why = explain_outlier(args.explain, references or None, trained_model=model, limit=args.limit)
    print(why.render())
    if args.picture is not None:
        write = _WRITERS.get(args.picture.suffix.lower(), Picture.save)
        try:
            write(why.picture(), args.picture)
        except OSError as exc:
            raise ConfigError(f"cannot write the picture {args.picture}: {exc}") from exc
        print(f"wrote {args.picture}")
    return 0


def _table(jobs: list[str], model: int | None) -> int:
    if not jobs:
        raise QueryError("name the jobs to check (or --explain JOB)")
    frame, _ = detect_outlier_jobs(jobs, trained_model=model)
    print(frame.to_string(index=False))
    return 0


def _model(name: str) -> int:
    """A model's id from its name, else from its id."""
    named = get_refmodels(name=name, fmt="terse")
    if named:
        return int(named[0])
    if name.isdigit():
        return int(model_rows(default_graph(), int(name))["id"])
    raise UnknownModelError(f"no reference model is named {name!r}")
