"""Reference models: ``create_refmodel``, ``get_refmodels``, ``delete_refmodels`` and the
``refmodel_*`` calls of EPMT 5.0.1, on ``(:RefModel)`` nodes.

A model keeps, per classifier and feature, what the classifier returned over the model's
jobs (or each operation's rows), less the scores (:mod:`epmt_graph.api.stats`), as
``computed_json``; ``(:RefModel)-[:BUILT_FROM]->(:JobHead)`` names its jobs. The link is to
the JobHead, so a replaced job keeps its models (their scores are those computed when the
model was built) and a job cannot be deleted while a model uses it: :func:`models_of_jobs`
and :func:`remove_models_of_jobs` serve ``delete_jobs(..., remove_models=...)``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any

import neo4j
import pandas as pd

from epmt_graph import cypher
from epmt_graph.api.comparable import warn_incomparable
from epmt_graph.api.formats import check_fmt
from epmt_graph.api.jobquery import moment
from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.models import RecordList
from epmt_graph.api.paging import NO_LIMIT
from epmt_graph.api.params import jobids, paging, tags_param
from epmt_graph.api.refmodel_scores import ModelSpec, model_contents, pca_desired
from epmt_graph.api.stats import FEATURES, features_of, partition_classifiers
from epmt_graph.api.tags import job_proc_tags, tag_list
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import DatabaseError, QueryError, UnknownModelError
from epmt_graph.schema import parse_tags, tag_pairs, tag_string

__all__ = [
    "MIN_JOBS",
    "RefModel",
    "create_refmodel",
    "get_refmodels",
    "model_id",
    "model_row",
    "model_rows",
    "unknown_model",
]

#: Fewest jobs a model is built from (EPMT's rule).
MIN_JOBS = 3
#: Attempts at a new model id when concurrent creators take the same one.
_ID_ATTEMPTS = 5


class RefModel(Mapping[str, Any]):
    """A reference model read from the graph (``fmt='orm'``): its fields as attributes
    (``id``, ``name``, ``tags``, ``op_tags``, ``computed``, ``enabled``, ``info_dict``,
    ``created_at``, ``updated_at``) and as a read-only mapping; ``jobs`` are Job records."""

    def __init__(self, row: dict[str, Any], graph: Graph) -> None:
        self._row = row
        self._graph = graph

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "jobs":
            return get_jobs(self._row["jobs"], fmt="orm", graph=self._graph).all()
        try:
            return self._row[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._row[key]

    def __iter__(self) -> Any:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)

    def __repr__(self) -> str:
        return f"RefModel[{self._row['id']}]"


def _stamp(micros: int | None) -> dt.datetime | None:
    """Microseconds since the epoch as EPMT shows them: a naive local datetime."""
    if micros is None:
        return None
    return dt.datetime.fromtimestamp(micros // 1_000_000) + dt.timedelta(
        microseconds=micros % 1_000_000
    )


def _now() -> int:
    return time.time_ns() // 1000


def model_row(node: Mapping[str, Any], jobs: list[str]) -> dict[str, Any]:
    """A RefModel node's properties as EPMT's model dict (``computed`` nested)."""
    return {
        "created_at": _stamp(node.get("created")),
        "updated_at": _stamp(node.get("updated")),
        "id": int(node["id"]),
        "tags": dict(parse_tags(node.get("tags") or "")),
        "op_tags": json.loads(node.get("op_tags_json") or "[]"),
        "computed": json.loads(node.get("computed_json") or "{}"),
        "enabled": bool(node.get("enabled")),
        "info_dict": json.loads(node.get("info_json") or "{}"),
        "name": node.get("name"),
        "jobs": list(jobs),
    }


def model_rows(graph: Graph, model: Any) -> dict[str, Any]:
    """One model's dict, by id (an int, a RefModel or a model dict).

    Raises
    ------
    UnknownModelError
        If there is no such model (EPMT's KeyError).
    """
    ident = model_id(model)
    records = graph.read("refmodel", model=ident)
    if not records:
        raise unknown_model(ident)
    return model_row(records[0]["r"], records[0]["jobs"])


def model_id(model: Any) -> int:
    """The integer id of a model given as an id (int or digits), a RefModel or a dict."""
    if isinstance(model, Mapping):
        model = model.get("id")
    if isinstance(model, bool) or not isinstance(model, int | str):
        raise QueryError(f"a reference model is given by its integer id, not {model!r}")
    try:
        return int(model)
    except ValueError as exc:
        raise QueryError(f"a reference model is given by its integer id, not {model!r}") from exc


def unknown_model(ident: int) -> UnknownModelError:
    """The error for a model id with no model (EPMT's KeyError message)."""
    return UnknownModelError(f"ReferenceModel[{ident}] could not be found")


def _op_tags(op_tags: Any, ids: list[str], graph: Graph) -> list[dict[str, Any]]:
    if op_tags == "*":
        return list(job_proc_tags(ids, fold=False, graph=graph))
    return [dict(t) for t in tag_list(op_tags)]


def create_refmodel(
    jobs: Any,
    name: str | None = None,
    tag: Any = None,
    op_tags: Any = None,
    methods: Any = None,
    features: Any = None,
    exact_tag_only: bool = False,
    fmt: str = "dict",
    sanity_check: bool = True,
    enabled: bool = True,
    pca: Any = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """Build a reference model from jobs (or their operations) and store it.

    Parameters
    ----------
    jobs : at least 3 loaded jobs, in any form ``get_jobs`` takes
    name : str, optional
        Unique among models.
    tag : str or dict, optional
        The model's tags (``get_refmodels(tag=...)`` and ``analyze_comparable_jobs`` use
        them).
    op_tags : str, dict, list of them, or ``'*'`` (every process tag of the jobs), optional
        Build per-operation scores over ``get_op_metrics`` rows instead of whole jobs.
    methods : list of classifiers, optional
        Univariate ones (names or functions of :mod:`epmt_graph.api.stats`) and
        multivariate pyod objects (:func:`epmt_graph.outliers.mvod.mvod_classifiers`,
        with pyod installed). Default: EPMT's ``settings.univariate_classifiers``
        (``iqr``, ``modified_z_score``, ``z_score``; :mod:`epmt_graph.outliers.settings`,
        read at each call).
    features : list of str, or ``'*'``/``[]`` for every numeric job column
        Default: ``duration``, ``cpu_time``, ``num_procs``.
    exact_tag_only : bool
        An operation's processes must have exactly its tag (no other pairs).
    fmt : {'dict', 'terse', 'pandas', 'orm'}
        The model as a dict (``computed`` nested; no ``updated_at`` yet, as EPMT's), its
        id, a Series or a :class:`RefModel`.
    sanity_check : bool
        Warn (on stderr) when the jobs are not comparable.
    enabled : bool
        Whether outlier detection may use the model.
    pca : bool, int or float
        Score the features' principal components instead (``pca_01``, ...): ``True`` for
        as many as explain 85% of the variance, an int for that many, a float below 1 for
        that share of the variance. The model's ``info_dict['pca']`` names the input
        features and the components (outlier detection then redoes the PCA).

    Raises
    ------
    QueryError
        No jobs, fewer than 3, a job not loaded, a name in use, an unknown classifier or
        format, a bad ``pca``, or more PCA components than jobs or features; nothing is
        written. (EPMT returns None or False for the first three and raises IntegrityError
        for a name in use.)
    ModelError
        If no requested feature is a numeric job column (EPMT's RuntimeError), or no
        multivariate classifier could score the jobs.
    MissingDependencyError
        For multivariate classifiers without pyod installed.

    Examples
    --------
    >>> r = create_refmodel(["685000", "685003", "685016"], methods=["modified_z_score"],
    ...                     features=["duration"], sanity_check=False)
    >>> r["computed"]
    {'modified_z_score': {'duration': (1.6944, 6615525773.0, 155282456.0)}}
    >>> r["jobs"], r["enabled"], r["tags"]
    (['685000', '685003', '685016'], True, {})
    >>> eq.delete_refmodels(r["id"])  # as it was
    1
    """
    check_fmt(fmt)
    desired = pca_desired(pca) if pca else None
    graph = graph or default_graph()
    model_tags = parse_tags(tag) if tag else {}
    univariate, multivariate = partition_classifiers(methods)
    ids = jobids(graph, jobs)
    frame = get_jobs(ids, fmt="pandas", graph=graph)
    loaded = [] if frame.empty else [str(j) for j in frame["jobid"]]
    missing = [j for j in ids if j not in loaded]
    if missing:
        raise QueryError(f"jobs not loaded: {missing}; no model was created")
    if len(loaded) < MIN_JOBS:
        raise QueryError(f"a reference model needs at least {MIN_JOBS} jobs, got {loaded}")
    if sanity_check:
        warn_incomparable(get_jobs(loaded, fmt="orm", graph=graph).summaries())
    chosen = features_of(list(FEATURES) if features is None else features, frame)
    ops = _op_tags(op_tags, loaded, graph) if op_tags else []
    spec = ModelSpec(loaded, frame, ops, univariate, multivariate, chosen, exact_tag_only, desired)
    computed, info = model_contents(graph, spec)
    props = {
        "name": name,
        "tags": tag_string(model_tags),
        "tag_pairs": tag_pairs(model_tags),
        "op_tags_json": json.dumps(ops),
        "computed_json": json.dumps(computed),
        "info_json": json.dumps(info),
        "enabled": bool(enabled),
        "created": _now(),
        "jobids": sorted(loaded),
    }
    ident = _store(graph, props)
    if fmt == "terse":
        return ident
    # the model as made, as EPMT's: a univariate classifier's values are tuples until read
    row = {**model_rows(graph, ident), "computed": computed}
    if fmt == "orm":
        return RefModel(row, graph)
    created = _without(row, "updated_at")  # as EPMT's answer: never updated yet
    return pd.Series(created) if fmt == "pandas" else created


def _store(graph: Graph, props: dict[str, Any]) -> int:
    """Create the model in one write transaction; its id is retried if a concurrent
    creator took it (the unique constraint refuses the second)."""

    def work(tx: neo4j.ManagedTransaction) -> int:
        if props["name"] is not None:
            taken = tx.run(cypher.query("refmodel-by-name"), name=props["name"]).single()
            if taken is not None:
                raise QueryError(f"a model named {props['name']!r} exists (id {taken['id']})")
        ident = int(tx.run(cypher.query("refmodel-next-id")).single(strict=True)["id"])
        record = tx.run(cypher.query("refmodel-create"), id=ident, **props).single()
        if record is None or record["linked"] != len(props["jobids"]):
            raise QueryError(f"jobs not loaded: some of {props['jobids']}; no model was created")
        return ident

    for attempt in range(_ID_ATTEMPTS):
        try:
            return int(graph.execute_write(work))
        except DatabaseError as exc:
            clash = isinstance(exc.__cause__, neo4j.exceptions.ConstraintError)
            if not clash or attempt == _ID_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _tags_filter(tag: Any, exact_tag_only: bool) -> dict[str, Any] | None:
    if not tag:
        return None
    alternatives = tags_param(tag, exact_tag_only=exact_tag_only)
    return alternatives[0] if alternatives else None


def _instant(value: Any, name: str) -> int | None:
    when = moment(value, name)
    if isinstance(when, dt.datetime):
        return int(when.astimezone().timestamp() * 1_000_000)
    return when


def get_refmodels(
    name: str | None = None,
    tag: Any = None,
    fltr: Any = None,
    limit: Any = 0,
    order: Any = None,
    before: Any = None,
    after: Any = None,
    exact_tag_only: bool = False,
    merge_nested_fields: bool = True,
    fmt: str = "dict",
    *,
    graph: Graph | None = None,
) -> Any:
    """Reference models, by id (EPMT's ``get_refmodels``).

    Parameters
    ----------
    name : str, optional
    tag : str or dict, optional
        Models whose tags hold all these pairs (values compared as text); ``{}``: any.
    fltr, order : None
        EPMT's SQLAlchemy expressions have no counterpart here; anything else is refused.
    limit : int, optional
        At most this many (0: no limit).
    before, after : datetime, ``'mm/dd/YYYY HH:MM'`` (local time), Unix timestamp or days
        Created at or before / at or after that time (a negative number: days ago).
    exact_tag_only : bool
        The model's tags must be exactly ``tag``.
    merge_nested_fields : bool
        Lift the classifiers of ``computed`` to the top level (as EPMT).
    fmt : {'dict', 'terse', 'pandas', 'orm'}

    Examples
    --------
    >>> get_refmodels(fmt="terse")
    []
    """
    check_fmt(fmt)
    if fltr is not None or order is not None:
        raise QueryError("get_refmodels takes no fltr or order (EPMT's are SQLAlchemy expressions)")
    _, most = paging(limit)
    graph = graph or default_graph()
    records = graph.read(
        "refmodels",
        model_name=name,
        tags=_tags_filter(tag, exact_tag_only),
        before=_instant(before, "before"),
        after=_instant(after, "after"),
        limit=NO_LIMIT if most is None else most,
    )
    rows = [model_row(r["r"], r["jobs"]) for r in records]
    if fmt == "terse":
        return [row["id"] for row in rows]
    if fmt == "orm":
        return RecordList(RefModel(row, graph) for row in rows)
    if merge_nested_fields:
        rows = [{**_without(row, "computed"), **row["computed"]} for row in rows]
    return pd.DataFrame(rows) if fmt == "pandas" else rows


def _without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}
