"""EPMT 5.0.1's answers from its outlier API, ``epmt_outliers`` (run by answers.py).

``answers.py --only outliers`` loads :data:`KERN` (EPMT's four kernel-compile jobs from
the wheel's ``test/data/outliers/``, recorded in India: loaded with
``EPMT_TZ=Asia/Kolkata``) and :data:`ARCHIVES` (the query and submit sample jobs the test
graph loads) into a fresh sqlite database, runs :data:`STEPS` in order and writes
``tests/fixtures/epmt/outliers.json``: per step, its answer in :func:`encode`'s form, or
EPMT's error (``"<Type>: <message>"``) with the builtin classes of the error.

A step is Python text, run by :func:`run` over :func:`namespace`: ``eod`` is
``epmt_outliers``, ``es`` is ``epmt_stat``, ``eq`` is ``epmt_query``, and the job lists
have names (``kern``, ``kern_normal``, ...); ``Job`` and ``Process`` are the models. A step ``name = call`` binds ``name`` for the
steps after it (a reference model's id: EPMT's and ours differ, the name stands for
either). ``tests/test_outliers_epmt.py`` runs the same texts on epmt_graph, ``eod`` being
``epmt_graph.outliers`` and ``es`` ``epmt_graph.outliers.stat``.

EPMT's default settings are used: classifiers ``iqr``, ``modified_z_score``, ``z_score``,
thresholds 3.5 (modified z-score) and 3.0 (z-score), features ``duration``,
``cpu_time``, ``num_procs``.
"""

import contextlib
import io
import logging
import math

__all__ = ["ARCHIVES", "CONVENTIONS", "KERN", "STEPS", "encode", "namespace", "record", "run"]

#: EPMT's outlier jobs: the wheel's ``epmt/test/data/outliers/<name>.tgz``.
KERN = [
    "kern-6656-20190614-190245",
    "kern-6656-20190614-191138",
    "kern-6656-20190614-192044-outlier",
    "kern-6656-20190614-194024",
]
#: The zone the kern jobs were recorded in (EPMT's own test sets it too).
KERN_TZ = "Asia/Kolkata"
#: The sample archives (under the shared samples folder): the query and submit jobs.
ARCHIVES = [
    "query/685000.tgz",
    "query/685003.tgz",
    "query/685016.tgz",
    "submit/692500.tgz",
    "submit/804268.tgz",
    "submit/804280.tgz",
    "submit/3455/",
]
Q = ["685000", "685003", "685016"]
ESM = [*Q, "692500", "804268", "804280"]

_MODELS = [
    # reference models the later steps use (names bound in the namespace)
    "kern_model = eq.create_refmodel(kern_normal, fmt='terse')",
    "kern_model_all = eq.create_refmodel(kern, fmt='terse')",
    "kern_model_star = eq.create_refmodel(kern_normal, features='*', fmt='terse')",
    "kern_model_iqr = eq.create_refmodel(kern_normal, methods=[es.iqr], fmt='terse')",
    "kern_model_z = eq.create_refmodel(kern_normal, methods=[es.z_score], fmt='terse')",
    "kern_model_rss = eq.create_refmodel(kern_normal, features=['rssmax'], fmt='terse')",
    "kern_model_ops = eq.create_refmodel(kern_normal, op_tags='*', fmt='terse')",
    "kern_model_build = eq.create_refmodel(kern_normal, op_tags='op:build;op_instance:4;"
    "op_sequence:4', fmt='terse')",
    "query_model = eq.create_refmodel(query_jobs, fmt='terse')",
    "query_model_star = eq.create_refmodel(query_jobs, features='*', fmt='terse')",
    "query_model_ops = eq.create_refmodel(query_jobs, op_tags=['op:hsmget', 'op:cp'], fmt='terse')",
]

_KERN_JOBS = [
    "eod.detect_outlier_jobs(kern)",
    "eod.detect_outlier_jobs(kern, methods=[es.iqr])",
    "eod.detect_outlier_jobs(kern, methods=[es.modified_z_score])",
    "eod.detect_outlier_jobs(kern, methods=[es.z_score])",
    "eod.detect_outlier_jobs(kern, methods=[es.iqr, es.modified_z_score, es.z_score])",
    "eod.detect_outlier_jobs(kern, features='*')",
    "eod.detect_outlier_jobs(kern, features=[])",
    "eod.detect_outlier_jobs(kern, features=['rssmax', 'duration', 'syscr'])",
    "eod.detect_outlier_jobs(kern, features=['start', 'duration'])",
    "eod.detect_outlier_jobs(eq.get_jobs(kern, fmt='orm'))",
    "eod.detect_outlier_jobs(eq.get_jobs(kern, fmt='pandas'), features='*')",
    "eod.detect_outlier_jobs(kern, trained_model=kern_model)",
    "eod.detect_outlier_jobs(kern, trained_model=kern_model_all)",
    "eod.detect_outlier_jobs(kern, trained_model=kern_model_star)",
    "eod.detect_outlier_jobs(kern, features='*', trained_model=kern_model_star)",
    "eod.detect_outlier_jobs(kern, methods=[es.iqr], trained_model=kern_model_iqr)",
    "eod.detect_outlier_jobs(kern, methods=[es.z_score], trained_model=kern_model_z)",
    "eod.detect_outlier_jobs(kern, methods=[es.iqr], trained_model=kern_model)",
    "eod.detect_outlier_jobs([kern_outlier], trained_model=kern_model)",
    "eod.detect_outlier_jobs(kern_normal, trained_model=kern_model)",
]
_KERN_OPS = [
    "eod.detect_outlier_ops(kern)",
    "eod.detect_outlier_ops(kern, methods=[es.modified_z_score])",
    "eod.detect_outlier_ops(kern, methods=[es.iqr])",
    "eod.detect_outlier_ops(kern, methods=[es.z_score])",
    "eod.detect_outlier_ops(kern, features='*')",
    "eod.detect_outlier_ops(kern, tags={'op_instance': '4', 'op_sequence': '4', 'op': 'build'})",
    "eod.detect_outlier_ops(kern, tags=['op:build;op_instance:4;op_sequence:4', "
    "'op:clean;op_instance:5;op_sequence:5'])",
    "eod.detect_outlier_ops(kern, tags=[{'op': 'missing'}])",
    "eod.detect_outlier_ops(kern, trained_model=kern_model_ops)",
    "eod.detect_outlier_ops(kern, trained_model=kern_model_ops, "
    "features=['rssmax', 'cpu_time', 'duration', 'num_procs'])",
    "eod.detect_outlier_ops(kern, trained_model=kern_model_build)",
    "eod.detect_outlier_ops([kern_outlier], trained_model=kern_model_ops)",
]
_KERN_OTHER = [
    "eod.partition_jobs(kern)",
    "eod.partition_jobs(kern, methods=[es.iqr])",
    "eod.partition_jobs(kern, features=['rssmax', 'cpu_time'])",
    "eod.partition_jobs(kern, features='*')",
    "eod.partition_jobs_by_ops(kern)",
    "eod.partition_jobs_by_ops(kern, tags='op:build;op_instance:4;op_sequence:4')",
    "eod.partition_jobs_by_ops(kern, tags=['op:build;op_instance:4;op_sequence:4', "
    "{'op_instance': '2', 'op_sequence': '2', 'op': 'extract'}])",
    "eod.partition_jobs_by_ops(kern, methods=[es.iqr, es.z_score])",
    "eod.detect_rootcause(kern_normal, kern_outlier)",
    "eod.detect_rootcause(kern_normal, [kern_outlier], features='*')",
    "eod.detect_rootcause(kern_normal, kern_outlier, methods=[es.iqr, es.modified_z_score, "
    "es.z_score])",
    "eod.detect_rootcause(kern_model, kern_outlier)",
    "eod.detect_rootcause(eq.get_jobs(kern_normal, fmt='orm'), "
    "eq.get_jobs([kern_outlier], fmt='orm'))",
    "eod.detect_rootcause_op(kern_normal, kern_outlier, tag='op_sequence:4')",
    "eod.detect_rootcause_op(kern_normal, kern_outlier, tag={'op': 'configure', "
    "'op_instance': '3', 'op_sequence': '3'}, features='*')",
    "eod.detect_rootcause_op(kern_normal, kern_outlier, tag='op_sequence:1', "
    "methods=[es.iqr, es.z_score])",
    "eod.detect_rootcause_op(kern_normal, kern_outlier, tag='op:missing')",
    "eod.detect_rootcause_op(kern_normal, kern, tag='op_sequence:4')",
    "eod.detect_rootcause_op(kern_normal, kern_outlier, tag='')",
    "eod.pca_feature_rank(kern)",
    "eod.pca_feature_rank(kern, inp_features=['cpu_time', 'duration', 'rssmax', 'syscr'])",
    "eod.pca_feature_combine(eq.get_jobs(kern, fmt='pandas'))[1:]",
    "eod.pca_feature_combine(eq.get_jobs(kern, fmt='pandas'))[0][['jobid', 'pca_01', 'pca_02']]",
    "eod.pca_feature_combine(eq.get_jobs(kern, fmt='pandas'), desired=0.8)[1:3]",
    "eod.get_feature_distributions(kern)",
    "eod.get_feature_distributions(kern, features=['cpu_time', 'rssmax'])",
]
_STAT = [
    f"es.{method}(eq.get_jobs(kern, fmt='pandas')['{feature}'])"
    for method in ("iqr", "modified_z_score", "z_score")
    for feature in ("duration", "cpu_time", "num_procs", "rssmax")
]
_SAMPLES = [
    "eod.detect_outlier_jobs(esm)",
    "eod.detect_outlier_jobs(esm, methods=[es.iqr], sanity_check=False)",
    "eod.detect_outlier_jobs(esm, methods=[es.modified_z_score])",
    "eod.detect_outlier_jobs(esm, methods=[es.z_score])",
    "eod.detect_outlier_jobs(esm, features='*')",
    "eod.detect_outlier_jobs(esm, features=[])",
    "eod.detect_outlier_jobs(esm, trained_model=query_model)",
    "eod.detect_outlier_jobs(esm, features='*', trained_model=query_model_star)",
    "eod.detect_outlier_ops(esm, tags='op:hsmget')",
    "eod.detect_outlier_ops(esm, tags='op:cp', methods=[es.z_score])",
    "eod.detect_outlier_ops(esm, tags=['op:hsmget', 'op:cp'], features='*')",
    "eod.detect_outlier_ops(esm, trained_model=query_model_ops)",
    "eod.partition_jobs(esm)",
    "eod.partition_jobs(esm, features='*')",
    "eod.partition_jobs_by_ops(esm, tags='op:hsmget')",
    "eod.detect_rootcause(query_jobs, '692500')",
    "eod.detect_rootcause(query_jobs, '804268', features='*')",
    "eod.detect_rootcause(query_model, '804280')",
    "eod.detect_rootcause_op(query_jobs, '692500', tag='op:hsmget')",
    "eod.pca_feature_rank(esm)",
    "eod.get_feature_distributions(esm)",
    "eod.get_feature_distributions(esm, features=['duration', 'cpu_time', 'rchar'])",
    *(
        f"es.{method}(eq.get_jobs(samples, fmt='pandas')['{feature}'])"
        for method in ("iqr", "modified_z_score", "z_score")
        for feature in ("duration", "cpu_time", "num_procs")
    ),
]
#: Job and process filters by SQL LIKE (EPMT's own outlier test selects its jobs with
#: ``~Job.jobid.like('%outlier%')``); no pattern here depends on the case of letters.
_LIKE = [
    "eq.get_jobs(tags='exp_name:linux_kernel', fltr=~Job.jobid.like('%outlier%'), fmt='terse')",
    "eq.get_jobs(tags='exp_name:linux_kernel', fltr=Job.jobid.like('%outlier%'), fmt='terse')",
    "eq.get_jobs(esm, fltr=Job.jobid.like('68500_'), fmt='terse')",
    "eq.get_jobs(samples, fltr=Job.jobid.like('8042%') | Job.jobid.like('3455'), fmt='terse')",
    "eq.get_jobs(samples, fltr=Job.jobid.like('%0%') & ~Job.jobid.like('%5%'), fmt='terse')",
    "len(eq.get_procs(kern_outlier, fltr=Process.exename.like('%sh'), fmt='terse'))",
    "len(eq.get_procs(kern_outlier, fltr=~Process.exename.like('_c%'), fmt='terse'))",
]
#: Bad input: each answer is EPMT's error (or what it returns instead).
_BAD = [
    "eod.detect_outlier_jobs(samples)",
    "eod.detect_outlier_jobs(samples, sanity_check=False)",
    "eod.pca_feature_rank(samples)",
    "eod.detect_outlier_jobs(kern_normal)",
    "eod.detect_outlier_jobs(kern[:1])",
    "eod.detect_outlier_jobs([])",
    "eod.detect_outlier_jobs(kern, trained_model=999999)",
    "eod.detect_outlier_jobs(kern, features=['duration'], trained_model=kern_model_rss)",
    "eod.detect_outlier_jobs(kern, trained_model=kern_model_rss)",
    "eod.detect_outlier_jobs(kern, features=['jobname'])",
    "eod.detect_outlier_jobs(kern, features=['start'])",
    "eod.detect_outlier_jobs(kern, features=['no_such_feature'])",
    "eod.detect_outlier_ops(kern_normal)",
    "eod.detect_outlier_ops(kern, trained_model=999999)",
    "eod.detect_outlier_ops(kern, features=['exename'])",
    "eod.partition_jobs(kern_normal)",
    "eod.partition_jobs_by_ops(kern_normal)",
    "eod.detect_rootcause(kern_normal, kern_outlier, features=['jobname'])",
    "eod.detect_rootcause(999999, kern_outlier)",
    "eod.pca_feature_rank(kern, inp_features=['jobname'])",
    "eod.get_feature_distributions(kern, features=['start'])",
    "eod.get_feature_distributions([])",
]
#: Every step, in order (the models first: later steps name them).
STEPS = [*_MODELS, *_KERN_JOBS, *_KERN_OPS, *_KERN_OTHER, *_STAT, *_SAMPLES, *_LIKE, *_BAD]


def namespace(eq, eod, es, Job, Process):
    """What the steps' text names: the three modules, the models ``Job`` and ``Process``,
    and the job lists."""
    return {
        "eq": eq,
        "eod": eod,
        "es": es,
        "Job": Job,
        "Process": Process,
        "kern": list(KERN),
        "kern_normal": [j for j in KERN if "outlier" not in j],
        "kern_outlier": next(j for j in KERN if "outlier" in j),
        "query_jobs": list(Q),
        "esm": list(ESM),
        "samples": [*ESM, "3455"],
    }


def run(step, names):
    """Run one step: a call's value, or, for ``name = call``, bind ``name`` and return it."""
    target, sep, call = step.partition(" = ")
    if sep and target.isidentifier():
        names[target] = eval(call, names)  # the texts are this module's own literals
        return names[target]
    return eval(step, names)


#: How EPMT's warning that jobs are not comparable begins.
INCOMPARABLE = "WARNING: The jobs do not share identical tag values"
#: How much of each warning is kept (some list hundreds of tags).
WARNING_CHARS = 160
#: What an entry of the fixture's ``steps`` holds.
CONVENTIONS = (
    "a step: its call; its answer in outliers_answers.encode's form, or error "
    "('<Type>: <message>') with the builtin classes of the error (error_bases); what EPMT "
    "printed (stdout) and what its outlier and stat modules logged as warnings (warnings, "
    f"each cut at {WARNING_CHARS} characters), when they did; incomparable_warning: EPMT "
    "warned that the jobs do not share their exp_name and exp_component tags"
)


def record(names, err, rollback):
    """Run :data:`STEPS` in order over ``names`` (EPMT's :func:`namespace`): one entry each
    (:data:`CONVENTIONS`). ``err(e)`` is answers.py's ``{"error": ...}`` of an exception,
    ``rollback()`` ends EPMT's failed database session."""
    logged = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda r: logged.append((r.name, r.getMessage()))
    epmt_log = logging.getLogger("epmt")
    epmt_log.addHandler(handler)
    entries = []
    try:
        for step in STEPS:
            logged.clear()
            printed = io.StringIO()
            entry = {"call": step}
            try:
                with contextlib.redirect_stdout(printed):
                    entry["answer"] = encode(run(step, names))
            except Exception as e:  # record EPMT's failure, keep going
                entry["error"] = err(e)["error"]
                entry["error_bases"] = sorted(
                    c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins"
                )
                rollback()
            if printed.getvalue():
                entry["stdout"] = printed.getvalue()
            if any(m.startswith(INCOMPARABLE) for _, m in logged):
                entry["incomparable_warning"] = True
            mine = ("epmt.epmt_outliers", "epmt.epmt_stat")
            warned = [m[:WARNING_CHARS] for name, m in logged if name in mine]
            if warned:
                entry["warnings"] = warned
            entries.append(entry)
    finally:
        epmt_log.removeHandler(handler)
    return entries


def _number(x):
    """A float as JSON holds it: itself, or "NaN", "inf", "-inf"."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _kind(dtype):
    """A column's dtype as a kind: int, float, bool or other (string dtypes differ between
    pandas 1.5 and 3)."""
    return {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(dtype.kind, "other")


def encode(x):
    """An answer as plain JSON data, keeping what a comparison needs.

    DataFrame -> ``{"frame": {"columns", "index", "kinds", "rows"}}`` (rows in order, each a
    list of cells; kinds per column: int, float, bool, other); Series ->
    ``{"series": {"name", "index", "values"}}``; set -> ``{"set": [...]}`` (sorted); tuples
    and numpy arrays -> lists; floats at full precision, NaN and infinities as "NaN", "inf",
    "-inf"; numpy scalars as Python ones; dict keys as strings; anything else by ``repr``.
    """
    import numpy as np
    import pandas as pd

    if x is None or isinstance(x, bool | str):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return _number(float(x))
    if isinstance(x, pd.DataFrame):
        return {
            "frame": {
                "columns": [encode(c) for c in x.columns],
                "index": [encode(i) for i in x.index],
                "kinds": [_kind(t) for t in x.dtypes],
                "rows": [[encode(v) for v in row] for row in x.itertuples(index=False)],
            }
        }
    if isinstance(x, pd.Series):
        return {
            "series": {
                "name": encode(x.name),
                "index": [encode(i) for i in x.index],
                "values": [encode(v) for v in x.tolist()],
            }
        }
    if isinstance(x, dict):
        return {str(k): encode(v) for k, v in x.items()}
    if isinstance(x, set | frozenset):
        return {"set": sorted((encode(v) for v in x), key=repr)}
    if isinstance(x, tuple | list):
        return [encode(v) for v in x]
    if isinstance(x, np.ndarray):
        return [encode(v) for v in x.tolist()]
    return repr(x)
