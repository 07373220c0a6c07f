"""Process tags across jobs: ``job_proc_tags`` (also ``get_job_proc_tags``) and
``rank_proc_tags_keys``, as EPMT's.

A job's distinct process tags are stored on its Job node when it is loaded (EPMT's
``proc_sums['all_proc_tags']``: tag dicts sorted by their JSON), so one named query
(``proc-tags-by-job``) answers for any number of jobs. The helpers here are EPMT's list
and dict manipulations of tags (``tags_list``, ``unique_dicts``, ``fold_dicts``).

Examples
--------
>>> tag_list(["op:cp;op_sequence:4", {"op": "rm"}])
[{'op': 'cp', 'op_sequence': '4'}, {'op': 'rm'}]
>>> unique_tags([{"op": "cp", "i": "1"}, {"op": "cp", "i": "2"}], exclude=["i"])
[{'op': 'cp'}]
>>> fold_tags([{"op": "cp", "i": "1"}, {"op": "rm", "i": "1"}])
{'op': ['cp', 'rm'], 'i': '1'}
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from epmt_graph.api.params import jobids
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError
from epmt_graph.schema import parse_tags

__all__ = [
    "fold_tags",
    "get_job_proc_tags",
    "job_proc_tags",
    "jobs_proc_tags",
    "rank_keys",
    "rank_proc_tags_keys",
    "tag_list",
    "tag_values",
    "unique_tags",
]

Tag = dict[str, Any]
_ORDERS = ("cardinality", "frequency")


def tag_list(tags: Any) -> list[Tag]:
    """EPMT's ``tags_list``: one tag or a list of them as a list of dicts.

    Strings are parsed (``'k:v;k2:v2'``, values as strings); dicts are kept as given.

    Raises
    ------
    QueryError
        If a tag is neither a string nor a dict.
    """
    items = tags if isinstance(tags, list | tuple) else [tags]
    out = []
    for tag in items:
        if isinstance(tag, str):
            out.append(dict(parse_tags(tag)))
        elif isinstance(tag, Mapping):
            out.append(dict(tag))
        else:
            raise QueryError(f"a tag is a 'k:v;k2:v2' string or a dict, not {tag!r}")
    return out


def unique_tags(tags: Iterable[Mapping[str, Any]], exclude: Collection[str] = ()) -> list[Tag]:
    """Distinct tags in the order first seen, without the keys in ``exclude`` (EPMT's
    ``unique_dicts``)."""
    seen: set[frozenset[tuple[str, Any]]] = set()
    out = []
    for tag in tags:
        kept = {key: value for key, value in tag.items() if key not in exclude}
        identity = frozenset(kept.items())
        if identity not in seen:
            seen.add(identity)
            out.append(kept)
    return out


def tag_values(tags: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Each key of ``tags`` with its distinct values, both in the order first seen."""
    values: dict[str, dict[Any, None]] = {}
    for tag in tags:
        for key, value in tag.items():
            values.setdefault(key, {})[value] = None
    return {key: list(seen) for key, seen in values.items()}


def fold_tags(tags: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """EPMT's ``fold_dicts``: each key with its list of values, or its value if only one.

    Values are listed in the order first seen (EPMT's come from a set: unordered).
    """
    return {key: vs if len(vs) > 1 else vs[0] for key, vs in tag_values(tags).items()}


def jobs_proc_tags(graph: Graph, ids: list[str]) -> list[list[Tag]]:
    """The stored distinct process tags of each loaded job among ``ids``, by job start."""
    return [json.loads(r["tags"] or "[]") for r in graph.read("proc-tags-by-job", jobids=ids)]


def job_proc_tags(
    jobs: Any,
    exclude: Collection[str] | None = None,
    tag_filter: Any = "",
    fold: bool = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """The distinct process tags across the processes of jobs (EPMT's ``job_proc_tags``).

    Parameters
    ----------
    jobs : job ids, a comma-separated string, a list, a DataFrame, dicts, Job records or
        a query (not empty)
    exclude : list of str, optional
        Keys dropped from every tag before duplicates are removed.
    tag_filter : str or dict, optional
        Keep only tags holding all of these pairs.
    fold : bool
        ``True``: one dict mapping each key to its value, or its list of values (for
        reading; EPMT's lists are unordered). ``False``: the list of tag dicts, usable as
        ``tags=`` elsewhere.

    Returns
    -------
    list of dict or dict
        Jobs are taken by start time, each job's tags sorted by their JSON; first
        occurrences are kept.

    Raises
    ------
    QueryError
        If no jobs are given.

    Examples
    --------
    >>> job_proc_tags("685000")[0]
    {'op': 'cp', 'op_instance': '11', 'op_sequence': '66'}
    """
    graph = graph or default_graph()
    dropped = list(exclude or [])
    wanted = parse_tags(tag_filter).items() if tag_filter else None
    found: list[Tag] = []
    for tags in jobs_proc_tags(graph, jobids(graph, jobs)):
        job_tags = unique_tags(tags, dropped) if dropped else tags
        if wanted is not None:
            job_tags = [t for t in job_tags if {k: str(v) for k, v in t.items()}.items() >= wanted]
        found.extend(job_tags)
    tags = unique_tags(found, dropped)
    return fold_tags(tags) if fold else tags


#: EPMT's other name for :func:`job_proc_tags`.
get_job_proc_tags = job_proc_tags


def rank_proc_tags_keys(
    jobs: Any,
    order: str = "cardinality",
    exclude: Collection[str] | None = None,
    *,
    graph: Graph | None = None,
) -> list[tuple[str, set[Any]]]:
    """Process tag keys across jobs, each with its set of values, ranked.

    Parameters
    ----------
    jobs : one or more jobs, in any form ``get_jobs`` accepts (not empty)
    order : {'cardinality', 'frequency'}
        ``cardinality``: fewest distinct values first; ``frequency``: the key found in the
        most distinct tags first. Ties keep the order keys are first met.
    exclude : list of str, optional
        Keys to leave out.

    Returns
    -------
    list of (str, set)

    Raises
    ------
    QueryError
        If no jobs are given or ``order`` is unknown (EPMT logs a warning and returns []).

    Examples
    --------
    >>> [key for key, _ in rank_proc_tags_keys(["685000"])]
    ['op', 'op_instance', 'op_sequence']
    """
    _check_order(order)
    tags = job_proc_tags(jobs, exclude=exclude, graph=graph)
    values = tag_values(tags)
    return [(key, set(values[key])) for key in rank_keys(tags, order)]


def rank_keys(tags: list[Tag], order: str = "cardinality") -> list[str]:
    """The keys of ``tags`` ranked as :func:`rank_proc_tags_keys` ranks them.

    Raises
    ------
    QueryError
        If ``order`` is unknown.
    """
    values = tag_values(tags)
    if _check_order(order) == "cardinality":
        return sorted(values, key=lambda key: len(values[key]))
    return sorted(values, key=lambda key: -sum(key in tag for tag in tags))


def _check_order(order: str) -> str:
    if order.lower() not in _ORDERS:
        raise QueryError(f"order must be one of {', '.join(_ORDERS)}; got {order!r}")
    return order.lower()
