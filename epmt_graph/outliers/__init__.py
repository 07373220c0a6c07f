"""EPMT 5.0.1's outlier API (``epmt_outliers``) on the graph: ``import epmt_graph.outliers
as eod``.

Outlier jobs, operations, processes and threads; partitions of jobs into reference and
outlier sets; root-cause analysis of a job or one of its operations; feature
distributions and a scatter plot; and, new, :func:`explain_outlier`: where in its
process tree an outlier job differs from reference jobs. Without a reference model the
given jobs are compared among themselves (at least 4); with ``trained_model=``
(``eq.create_refmodel``) they are scored against the values the model kept. Feature
values come from the graph through named queries, one for many jobs (job sums, operation
sums per tag, process and thread metrics). EPMT's settings
(:mod:`~epmt_graph.outliers.settings`) are read at each call; EPMT's ``epmt_stat`` names
are in :mod:`~epmt_graph.outliers.stat`. ``pca=`` scores the features' principal
components (:mod:`~epmt_graph.outliers.pca`, scikit-learn); EPMT's multivariate
classifiers (:mod:`~epmt_graph.outliers.mvod`) need pyod
(``pip install epmt-graph[pyod]``) and a reference model built with them.

Examples
--------
>>> import epmt_graph.outliers as eod
>>> jobs = ["685000", "685003", "685016", "692544"]
>>> eod.partition_jobs(jobs, features=["num_procs"])["num_procs"][1]
{'685003'}
"""

from epmt_graph.outliers.explain import explain_outlier
from epmt_graph.outliers.explanation import OutlierExplanation
from epmt_graph.outliers.features import get_feature_distributions, sanitize_features
from epmt_graph.outliers.jobs import detect_outlier_jobs, partition_jobs
from epmt_graph.outliers.ops import detect_outlier_ops, partition_jobs_by_ops
from epmt_graph.outliers.pca import (
    _pca_weighted_score,
    pca_feature_combine,
    pca_feature_rank,
    pca_weighted_score,
)
from epmt_graph.outliers.plots import feature_scatter_plot
from epmt_graph.outliers.rootcause import detect_rootcause, detect_rootcause_op
from epmt_graph.outliers.rows import (
    detect_outlier_processes,
    detect_outlier_threads,
    detect_outliers,
)

__all__ = [
    "OutlierExplanation",
    "_pca_weighted_score",
    "detect_outlier_jobs",
    "detect_outlier_ops",
    "detect_outlier_processes",
    "detect_outlier_threads",
    "detect_outliers",
    "detect_rootcause",
    "detect_rootcause_op",
    "explain_outlier",
    "feature_scatter_plot",
    "get_feature_distributions",
    "partition_jobs",
    "partition_jobs_by_ops",
    "pca_feature_combine",
    "pca_feature_rank",
    "pca_weighted_score",
    "sanitize_features",
]
