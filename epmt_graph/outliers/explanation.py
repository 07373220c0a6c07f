"""What :func:`~epmt_graph.outliers.explain.explain_outlier` answers, apart from how it is
computed (as Hatchet keeps its GraphFrame apart from the readers that make one):
:class:`OutlierExplanation`, the deviating subtrees of an outlier job as a table
(:data:`COLUMNS`), shown as text (:meth:`~OutlierExplanation.render`, what
``epmt-graph outliers --explain`` prints) and as the outlier's process tree with them
coloured (:meth:`~OutlierExplanation.picture`, through :func:`epmt_graph.tree.picture`).

A path key is the ``(exename, op tag)`` pairs from a root down to a process
(:func:`path_key`); the named queries leave the tag keys that count operations out of the
op tags (:func:`counter_prefixes`).

Examples
--------
>>> from epmt_graph.outliers import explain_outlier
>>> print(explain_outlier("691201", ["685000"], features="num_procs"))
691201 against 1 reference job (685000): no subtree deviates
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from epmt_graph.db import Graph
from epmt_graph.tree import Picture, ProcessTree, picture

__all__ = ["COLUMNS", "Key", "OutlierExplanation", "counter_prefixes", "path_key"]

#: The columns of :attr:`OutlierExplanation.frame`, in order.
COLUMNS = ["path", "tag", "depth", "feature", "value", "reference", "excess", "score"]
COLUMNS += ["of_job", "instances", "key"]

#: A path key: the ``(exename, op tag)`` pairs from a root down to a process.
Key = tuple[tuple[str, str], ...]

#: How :meth:`OutlierExplanation.render` shows each feature's values.
_SHOWN: dict[str, Any] = {
    "cpu_time": lambda micros: f"{micros / 1e6:.3f} s",
    "duration": lambda micros: f"{micros / 1e6:.3f} s",
    "num_procs": lambda count: f"{count:.0f}",
}


@dataclass(frozen=True, eq=False)
class OutlierExplanation:
    """What :func:`~epmt_graph.outliers.explain.explain_outlier` found: the subtrees of the
    outlier that deviate most.

    Attributes
    ----------
    job : str
        The outlier job.
    references : tuple of str
        The reference jobs.
    features : tuple of str
        The features compared (of :data:`epmt_graph.outliers.explain.FEATURES`).
    frame : pandas.DataFrame
        The answer, one row per (path key, feature) reported, largest first; columns
        :data:`COLUMNS`: ``path`` (exenames from the root, ``/``-joined), ``tag`` (the
        subtree root's op tag), ``depth`` (0: a root), ``feature``, ``value`` (the
        outlier's), ``reference`` (the references' median), ``excess`` (value minus
        reference), ``score`` (signed), ``of_job`` (excess over the references' median
        job total), ``instances`` (the outlier's processes with that key) and ``key`` (the
        ``(exename, op tag)`` pairs).
    paths : pandas.DataFrame
        Every path key of the outlier or a reference, by path: ``path``, ``tag``,
        ``depth``, ``instances``, then per feature its value, ``<feature>_reference`` and
        ``<feature>_score``, and ``key``.
    ignore_tags : tuple of str
        The tag keys left out of the path keys' op tags.
    graph : Graph
        Where the outlier's tree is read to draw it.

    Examples
    --------
    >>> from epmt_graph.outliers import explain_outlier
    >>> why = explain_outlier("691201", ["685000"], limit=3)
    >>> why
    <OutlierExplanation of 691201 against 1 reference job (685000): 3 rows>
    >>> why.frame.columns.tolist() == COLUMNS, why.features
    (True, ('cpu_time', 'duration', 'num_procs'))
    """

    job: str
    references: tuple[str, ...]
    features: tuple[str, ...]
    frame: pd.DataFrame
    paths: pd.DataFrame
    ignore_tags: tuple[str, ...]
    graph: Graph = field(repr=False)

    def __repr__(self) -> str:
        rows = len(self.frame)
        return f"<OutlierExplanation of {self.job} against {self._against()}: {rows} rows>"

    def _against(self) -> str:
        count = len(self.references)
        return f"{count} reference job{'s' if count != 1 else ''} ({', '.join(self.references)})"

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """The answer as a text table, one line per row of :attr:`frame`.

        Examples
        --------
        >>> from epmt_graph.outliers import explain_outlier
        >>> why = explain_outlier("691201", ["685000"], features="cpu_time", limit=2)
        >>> print(why.render())
        691201 against 1 reference job (685000): deviating subtrees, deepest meaningful first
        feature       outlier   reference       excess   score  of job  path [tag]
        cpu_time    147.634 s   112.023 s    +35.612 s   +4.29  +31.5%  tcsh [op:dmput]
        cpu_time     69.445 s    51.812 s    +17.633 s   +4.59  +15.6%  tcsh/perl [op:hsmget]
        """
        head = f"{self.job} against {self._against()}"
        if self.frame.empty:
            return f"{head}: no subtree deviates"
        lines = [
            f"{head}: deviating subtrees, deepest meaningful first",
            f"{'feature':<9} {'outlier':>11} {'reference':>11} {'excess':>12} "
            f"{'score':>7} {'of job':>7}  path [tag]",
        ]
        for row in self.frame.to_dict("records"):
            shown = _SHOWN[row["feature"]]
            excess = ("+" if row["excess"] >= 0 else "-") + shown(abs(row["excess"]))
            lines.append(
                f"{row['feature']:<9} {shown(row['value']):>11} {shown(row['reference']):>11} "
                f"{excess:>12} {row['score']:>+7.2f} {row['of_job']:>+7.1%}  "
                f"{row['path']} [{row['tag']}]"
            )
        return "\n".join(lines)

    def highlight(self) -> dict[str, float]:
        """The outlier's processes at the path keys of :attr:`frame`, each with the score
        of its key's first row: the ``highlight`` of :func:`epmt_graph.tree.picture`. One
        read (``outlier-subtree-roots``).

        Examples
        --------
        >>> from epmt_graph.outliers import explain_outlier
        >>> marked = explain_outlier("691201", ["685000"], limit=1).highlight()
        >>> len(marked), set(marked.values())  # the perl of each hsmget operation
        (25, {-12.9882})
        """
        scores: dict[Key, float] = {}
        for key, score in zip(self.frame["key"], self.frame["score"], strict=True):
            scores.setdefault(key, float(score))
        keys = [[[exename, tag.split(";") if tag else []] for exename, tag in k] for k in scores]
        prefixes = counter_prefixes(self.ignore_tags)
        records = self.graph.read(
            "outlier-subtree-roots", jobid=self.job, keys=keys, counters=prefixes
        )
        return {r["id"]: scores[path_key(r["key"])] for r in records}

    def picture(self, threshold: float = 1.0, title: str | None = None) -> Picture:
        """The outlier's process tree with the deviating subtrees coloured.

        Parameters
        ----------
        threshold : float
            Seconds of inclusive CPU time below which sibling subtrees fold into one node
            (never a subtree holding a coloured process).
        title : str, optional
            Default: the job and its reference jobs.

        Returns
        -------
        Picture
            The offline page (``.html``, ``.svg``, ``.save(path)``, ``.save_svg(path)``).

        Examples
        --------
        >>> from epmt_graph.outliers import explain_outlier
        >>> page = explain_outlier("691201", ["685000"], limit=1).picture(threshold=10)
        >>> page.svg.count("score -13.0"), "score -13.0" in page.html
        (25, True)
        """
        tree = ProcessTree.of_job(self.job, graph=self.graph)
        name = title or f"{self.job} against {', '.join(self.references)}"
        return picture(tree, threshold, name, highlight=self.highlight())


def path_key(pairs: Any) -> Key:
    """A path key as a tuple of ``(exename, op tag)`` pairs, from the queries' lists of
    ``[exename, ["k:v", ...]]``.

    Examples
    --------
    >>> path_key([["tcsh", []], ["perl", ["op:hsmget"]]])
    (('tcsh', ''), ('perl', 'op:hsmget'))
    """
    return tuple((str(exename), ";".join(tags)) for exename, tags in pairs)


def counter_prefixes(keys: Any) -> list[str]:
    """The ``$counters`` of the queries: ``"k:"`` for each tag key to leave out.

    Examples
    --------
    >>> counter_prefixes(["op_instance", "op_sequence"])
    ['op_instance:', 'op_sequence:']
    """
    return [f"{key}:" for key in keys]
