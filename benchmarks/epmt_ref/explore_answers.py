"""EPMT 5.0.1's answers for the Explore API, ``epmt.epmt_exp_explore`` (run by answers.py).

``answers.py --only explore`` loads the sample jobs the test graph loads (:data:`ARCHIVES`;
nine of them are jobs of the experiment ``ESM4_historical_D151``, in seven components
of one or two jobs each) and runs :data:`STEPS`; then it adds EPMT's nine
``outliers_nb`` jobs (the wheel's ``test/data/outliers_nb``: nine time segments of the
component ``ocean_annual_z_1x1deg``, the example of EPMT's docstrings) and runs
:data:`NB_STEPS`. It writes ``tests/fixtures/epmt/explore.json``: per step, the answer
(or the error, with its builtin classes), what the call printed and the warnings EPMT
logged. ``tests/test_explore.py`` replays the same texts on ``epmt_graph.explore``.

A step is the text of a call, run by :func:`run` over :func:`namespace` (``exp`` is the
Explore module, ``np`` numpy, ``E`` the experiment's name). Answers are plain JSON as
answers.py's ``J`` makes them, except that an ``OrderedDict`` (``exp_time_segment_stats``)
is the list of its ``[key, value]`` items, in order.
"""

from collections import OrderedDict

__all__ = ["ARCHIVES", "NB_ARCHIVES", "NB_STEPS", "STEPS", "namespace", "plain", "run"]

#: The archives the test graph loads (as refmodels_answers.ARCHIVES).
ARCHIVES = [
    "query/685000.tgz",
    "query/685003.tgz",
    "query/685016.tgz",
    "submit/692500.tgz",
    "submit/804268.tgz",
    "submit/804280.tgz",
    "submit/3455/",
    "daemon/627919.tgz",
    "daemon/ingest/691201.tgz",
    "daemon/ingest/692544.tgz",
    "tsv/12340/",
    "tsv/collated-tsv-2220.tgz",
]
#: EPMT's ``outliers_nb`` jobs, in the wheel's ``epmt/test/data/outliers_nb/``.
NB_ARCHIVES = [
    f"outliers_nb/{j}.tgz"
    for j in (
        "625151",
        "627907",
        "629322",
        "633114",
        "675992",
        "680163",
        "685001",
        "691209",
        "693129",
    )
]
EXPERIMENT = "ESM4_historical_D151"

#: The calls on the test graph's jobs, in order (none changes anything).
STEPS = [
    # --- components by a metric, with outlier scores
    "exp.exp_component_outliers(E)",
    "exp.exp_component_outliers(E, 'cpu_time', op=np.mean, limit=3)",
    "exp.exp_component_outliers(E, 'num_procs', op=np.max)",
    "exp.exp_component_outliers(E, metric='rchar', op=np.min, limit=2)",
    "exp.exp_component_outliers(E, 'duration', op=np.std, limit=4)",
    "exp.exp_component_outliers(E, 'exitcode')",
    "exp.exp_component_outliers(E, limit=0)",
    "exp.exp_component_outliers('no_such_experiment')",
    "exp.exp_component_outliers(E, 'no_such_metric')",
    "exp.exp_component_outliers(E, 'jobname')",
    # --- time segments
    "exp.exp_time_segment_stats(E)",
    "exp.exp_time_segment_stats(E, 'cpu_time')",
    "exp.exp_time_segment_stats(E, metric='num_threads')",
    "exp.exp_time_segment_stats('no_such_experiment')",
    "exp.exp_time_segment_stats(E, 'no_such_metric')",
    # --- the printed drill-down
    "exp.exp_explore(E)",
    "exp.exp_explore(E, 'cpu_time', op=np.mean, limit=3)",
    "exp.exp_explore(E, metric='num_procs', op=np.max, limit=5)",
    "exp.exp_explore(E, metric='wchar', op=np.median)",
    "exp.exp_explore(E, metric=None, limit=None)",
    "exp.exp_explore(E, 'exitcode', limit=2)",
    "exp.exp_explore('no_such_experiment')",
    "exp.exp_explore(E, 'no_such_metric')",
    # --- finding jobs (EPMT's test_exp_find_jobs first)
    "exp.exp_find_jobs(E, components=['ocean_annual_rho2_1x1deg', 'ocean_cobalt_fdet_100'], "
    "exp_times=['18540101', '18840101'], jobs=['685000', '685003'], failed=False)",
    "exp.exp_find_jobs(E, components=['ocean_annual_rho2_1x1deg', 'ocean_cobalt_fdet_100'], "
    "exp_times=['18840101'], failed=True)",
    "exp.exp_find_jobs(E, components=['ocean_annual_rho2_1x1deg'], exp_times=['18840101'])",
    "exp.exp_find_jobs(E)",
    "exp.exp_find_jobs(E, components=['ocean_month_rho2_1x1deg', 'ocean_annual_rho2_1x1deg'])",
    "exp.exp_find_jobs(E, exp_times=[18890101, 19090101])",
    "exp.exp_find_jobs(E, failed=False, limit=2, offset=1)",
    "exp.exp_find_jobs(E, exp_times=['18890101'], fmt='orm')",
    "exp.exp_find_jobs(E, components=['ocean_cobalt_btm'], tags='exp_time:18840101')",
    "exp.exp_find_jobs(E, failed=True, fltr=None)",
    "exp.exp_find_jobs('no_such_experiment')",
    "exp.exp_find_jobs(E, components=['no_such_component'])",
    # --- missing time segments (EPMT's test_missing_segments first)
    "exp.find_missing_time_segments(E, jobs=['685000', '685003'], "
    "time_segments=range(18540101, 20140101, 50000))",
    "exp.find_missing_time_segments(E)",
    "exp.find_missing_time_segments(E, time_segments=range(18540101, 18990101, 50000))",
    "exp.find_missing_time_segments(E, time_segments=[18840101, 18890101])",
    "exp.find_missing_time_segments(E, jobs=['685000', '691201', '692544'], "
    "time_segments=[18840101, 18890101])",
    "exp.find_missing_time_segments(E, jobs=['685000'], time_segments=[18840101, 18890101])",
    "exp.find_missing_time_segments(E, components=['ocean_cobalt_btm'], "
    "time_segments=[18840101, 19090101])",
    "exp.find_missing_time_segments('no_such_experiment')",
]
#: The calls once the ``outliers_nb`` jobs are loaded too.
NB_STEPS = [
    "exp.exp_component_outliers(E)",
    "exp.exp_component_outliers(E, 'cpu_time', op=np.mean, limit=3)",
    "exp.exp_component_outliers(E, 'num_procs', op=np.max, limit=2)",
    "exp.exp_time_segment_stats(E)",
    "exp.exp_explore(E)",
    "exp.exp_explore(E, 'cpu_time', limit=2)",
    "exp.exp_find_jobs(E, components=['ocean_annual_z_1x1deg'], exp_times=[18540101, 18890101])",
    "exp.find_missing_time_segments(E, time_segments=range(18540101, 18990101, 50000))",
]


def namespace(exp, np):
    """What the steps' text names: the Explore module ``exp``, numpy ``np``, and ``E``."""
    return {"exp": exp, "np": np, "E": EXPERIMENT}


def run(step, names):
    """Run one step's call."""
    return eval(step, names)  # the texts are this module's own literals


def plain(value, J):
    """An answer as JSON data: answers.py's ``J``, an OrderedDict as its ``[key, value]``
    items in order."""
    if isinstance(value, OrderedDict):
        return [[str(k), plain(v, J)] for k, v in value.items()]
    return J(value)


def record(exp, np, J, steps):
    """Run ``steps`` in order: each one's answer or error, its output and EPMT's warnings."""
    import contextlib
    import io
    import logging

    logged = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda r: logged.append(r.getMessage())
    epmt_log = logging.getLogger("epmt")
    epmt_log.addHandler(handler)
    names = namespace(exp, np)
    out = []
    try:
        for step in steps:
            logged.clear()
            entry = {"call": step}
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    entry["answer"] = plain(run(step, names), J)
            except Exception as e:  # record EPMT's failure, keep going
                entry["error"] = f"{type(e).__name__}: {e}"
                entry["error_bases"] = sorted(
                    c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins"
                )
            entry["stdout"] = printed.getvalue()
            entry["warnings"] = list(logged)
            out.append(entry)
    finally:
        epmt_log.removeHandler(handler)
    return out
