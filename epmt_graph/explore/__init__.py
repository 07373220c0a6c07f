"""EPMT's Explore API (``epmt_exp_explore``) on the graph: an experiment's jobs by
component and time segment, with the same names, arguments and answers as EPMT 5.0.1.

The jobs of an experiment carry the tags ``exp_name``, ``exp_component`` and ``exp_time``
(the time segment); each function reads all of an experiment's jobs with one named query
(``experiment-jobs.cypher``), and scores outliers with EPMT's univariate classifiers
(:mod:`epmt_graph.api.stats`). Every function also takes a keyword-only ``graph=``.

Where EPMT answers a name it does not know with ``False``, nothing or a crash, these raise
an :class:`~epmt_graph.errors.UnknownExperimentError` (a ``KeyError``); an unknown metric
is a :class:`~epmt_graph.errors.NotFoundError` (a ``KeyError``, as EPMT's) and one that is
not a number a :class:`~epmt_graph.errors.QueryTypeError` (a ``TypeError``, as EPMT's).
Durations and CPU times are integer microseconds (EPMT's are floats), so their ``metrics``
and ``outlier_scores`` arrays are integer arrays holding EPMT's values.

Examples
--------
>>> import epmt_graph.explore as exp
>>> exp.exp_find_jobs("ESM4_historical_D151", components=["ocean_annual_rho2_1x1deg"],
...                   exp_times=["18840101"])
['685000']
"""

from epmt_graph.explore.components import exp_component_outliers, exp_time_segment_stats
from epmt_graph.explore.report import exp_explore
from epmt_graph.explore.search import exp_find_jobs, find_missing_time_segments

__all__ = [
    "exp_component_outliers",
    "exp_explore",
    "exp_find_jobs",
    "exp_time_segment_stats",
    "find_missing_time_segments",
]
