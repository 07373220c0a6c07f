"""The epmt_query API on the graph: ``import epmt_graph.api as eq``.

Functions keep EPMT's names, arguments and ``fmt`` values (``terse``, ``dict``,
``pandas``, ``orm``); each answers through named Cypher queries. Every function also
takes a keyword-only ``graph=`` (default: the database the environment names).
"""

from epmt_graph.api.admin import (
    analyze_jobs,
    analyze_pending_jobs,
    annotate_job,
    get_job_analyses,
    get_job_annotations,
    get_unanalyzed_jobs,
    remove_job_analyses,
    remove_job_annotations,
    set_job_analyses,
)
from epmt_graph.api.changes import orm_commit
from epmt_graph.api.comparable import are_jobs_comparable, comparable_job_partitions
from epmt_graph.api.comparable_analysis import analyze_comparable_jobs
from epmt_graph.api.deletes import delete_jobs, retire_jobs
from epmt_graph.api.expr import asc, desc
from epmt_graph.api.features import add_features_df, procs_set
from epmt_graph.api.insights import ancestry, critical_path, tree_diff
from epmt_graph.api.jobquery import JobQuery
from epmt_graph.api.jobs import conv_jobs, get_features, get_job_status, get_job_tags, get_jobs
from epmt_graph.api.meta import version
from epmt_graph.api.models import Job, Process
from epmt_graph.api.opmetrics import get_op_metrics, ops_costs
from epmt_graph.api.ops import Operation, get_ops
from epmt_graph.api.procs import (
    conv_procs,
    get_procs,
    get_thread_metrics,
    procs_histogram,
    timeline,
)
from epmt_graph.api.query import ProcessQuery
from epmt_graph.api.records import tag_job, verify_jobs
from epmt_graph.api.refmodel_state import (
    delete_refmodels,
    refmodel_get_metrics,
    refmodel_is_enabled,
    refmodel_set_active_metrics,
    refmodel_set_enabled,
    retire_refmodels,
)
from epmt_graph.api.refmodels import RefModel, create_refmodel, get_refmodels
from epmt_graph.api.tags import get_job_proc_tags, job_proc_tags, rank_proc_tags_keys
from epmt_graph.api.trees import compute_process_trees, get_roots, op_roots, root

__all__ = [
    "Job",
    "JobQuery",
    "Operation",
    "Process",
    "ProcessQuery",
    "RefModel",
    "add_features_df",
    "analyze_comparable_jobs",
    "analyze_jobs",
    "analyze_pending_jobs",
    "ancestry",
    "annotate_job",
    "are_jobs_comparable",
    "asc",
    "comparable_job_partitions",
    "compute_process_trees",
    "conv_jobs",
    "conv_procs",
    "create_refmodel",
    "critical_path",
    "delete_jobs",
    "delete_refmodels",
    "desc",
    "get_features",
    "get_job_analyses",
    "get_job_annotations",
    "get_job_proc_tags",
    "get_job_status",
    "get_job_tags",
    "get_jobs",
    "get_op_metrics",
    "get_ops",
    "get_procs",
    "get_refmodels",
    "get_roots",
    "get_thread_metrics",
    "get_unanalyzed_jobs",
    "job_proc_tags",
    "op_roots",
    "ops_costs",
    "orm_commit",
    "procs_histogram",
    "procs_set",
    "rank_proc_tags_keys",
    "refmodel_get_metrics",
    "refmodel_is_enabled",
    "refmodel_set_active_metrics",
    "refmodel_set_enabled",
    "remove_job_analyses",
    "remove_job_annotations",
    "retire_jobs",
    "retire_refmodels",
    "root",
    "set_job_analyses",
    "tag_job",
    "timeline",
    "tree_diff",
    "verify_jobs",
    "version",
]
