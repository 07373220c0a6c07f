"""EPMT 5.0.1's answers for the calls of issue 16's API gaps: ``version``, the keywords
``merge_proc_sums``/``merge_threads_sums``/``merge_sums``/``trigger_post_process``,
``procs_set``, ``add_features_df``, ``get_job_proc_tags``, the error types EPMT raises
for unknown job ids and empty collections, and naive datetimes in ``fltr``.

Run through answers.py, which loads only the query jobs for it:

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/answers.py --only api_gaps

and writes tests/fixtures/epmt/api_gaps.json (answers.json is left as it is). Conventions
are answers.py's; an error is recorded as ``{"error": "<Type>: <message>"}`` with
``"is_key_error"`` and ``"is_value_error"``.
"""

import datetime as dt

from answers import QUERY_JOBS, J, err, pkey, pkey_by_id, scrub

#: Calls that fail in EPMT, by the text of the call (``eq`` is epmt_query).
ERROR_CALLS = {
    "root('nope')": lambda eq: eq.root("nope"),
    "get_roots('nope')": lambda eq: eq.get_roots("nope"),
    "get_roots(['nope'])": lambda eq: eq.get_roots(["nope"]),
    "get_procs('nope')": lambda eq: eq.get_procs("nope"),
    "get_procs(['685000', 'nope'])": lambda eq: eq.get_procs(["685000", "nope"]),
    "get_procs('nope', fmt='orm')": lambda eq: eq.get_procs("nope", fmt="orm"),
    "timeline('nope')": lambda eq: eq.timeline("nope"),
    "procs_histogram('nope')": lambda eq: eq.procs_histogram("nope"),
    "procs_set('nope')": lambda eq: eq.procs_set("nope"),
    "annotate_job('nope', {'a': 1})": lambda eq: eq.annotate_job("nope", {"a": 1}),
    "remove_job_annotations('nope')": lambda eq: eq.remove_job_annotations("nope"),
    "get_job_annotations('nope')": lambda eq: eq.get_job_annotations("nope"),
    "get_job_analyses('nope')": lambda eq: eq.get_job_analyses("nope"),
    "set_job_analyses('nope', {'a': 1})": lambda eq: eq.set_job_analyses("nope", {"a": 1}),
    "remove_job_analyses('nope')": lambda eq: eq.remove_job_analyses("nope"),
    "get_job_status('nope')": lambda eq: eq.get_job_status("nope"),
    "get_ops('nope', 'op:cp')": lambda eq: eq.get_ops("nope", "op:cp"),
    "get_ops([], 'op:cp')": lambda eq: eq.get_ops([], "op:cp"),
    "op_roots([], 'op:cp')": lambda eq: eq.op_roots([], "op:cp"),
    "get_op_metrics([])": lambda eq: eq.get_op_metrics([]),
    "conv_jobs([])": lambda eq: eq.conv_jobs([]),
    "conv_procs([])": lambda eq: eq.conv_procs([]),
    "job_proc_tags([])": lambda eq: eq.job_proc_tags([]),
    "get_job_proc_tags([])": lambda eq: eq.get_job_proc_tags([]),
    "rank_proc_tags_keys([])": lambda eq: eq.rank_proc_tags_keys([]),
    "get_op_metrics('685000', op_duration_method='x')": lambda eq: eq.get_op_metrics(
        "685000", op_duration_method="x"
    ),
    "ops_costs('685000', metric='x')": lambda eq: eq.ops_costs("685000", metric="x"),
    "add_features_df(<frame without jobid>)": lambda eq: eq.add_features_df(
        eq.get_jobs(["685000"], fmt="pandas").drop(columns=["jobid"])
    ),
}
#: Calls that answer nothing, or None, for an unknown job id in EPMT.
QUIET_CALLS = {
    "get_jobs('nope')": lambda eq: eq.get_jobs("nope"),
    "conv_jobs(['nope'])": lambda eq: eq.conv_jobs(["nope"]),
    "op_roots('nope', 'op:cp')": lambda eq: eq.op_roots("nope", "op:cp"),
    "get_op_metrics('nope')": lambda eq: eq.get_op_metrics("nope"),
    "job_proc_tags('nope')": lambda eq: eq.job_proc_tags("nope"),
    "get_job_tags('nope')": lambda eq: eq.get_job_tags("nope"),
    "rank_proc_tags_keys('nope')": lambda eq: eq.rank_proc_tags_keys("nope"),
    "get_features('nope')": lambda eq: eq.get_features("nope"),
    "compute_process_trees(['nope'])": lambda eq: eq.compute_process_trees(["nope"]),
    "delete_jobs('nope')": lambda eq: eq.delete_jobs("nope"),
}


def _error(e):
    out = err(e)
    out["is_key_error"] = isinstance(e, KeyError)
    out["is_value_error"] = isinstance(e, ValueError)
    return out


def _run(eq, fn):
    try:
        return J(fn(eq))
    except Exception as e:  # record EPMT's failure
        return _error(e)


def _proc_keys(query):
    return sorted(pkey(p) for p in query)


def record(eq):
    """Every answer of this section (the query jobs loaded, post-processed)."""
    from epmt.orm import Job, Process

    Q = list(QUERY_JOBS)
    eq.compute_process_trees(Q)  # as ours always are (EPMT builds trees lazily)
    out = {"version()": J(eq.version())}

    # --- keywords
    jobs = eq.get_jobs(Q, fmt="dict", merge_proc_sums=False)
    out["get_jobs(query_jobs, merge_proc_sums=False)"] = [J(scrub(j)) for j in jobs]
    out["get_jobs(query_jobs, fmt='pandas', merge_proc_sums=False) columns"] = sorted(
        eq.get_jobs(Q, fmt="pandas", merge_proc_sums=False).columns
    )
    out["get_jobs(query_jobs, fmt='terse', trigger_post_process=False)"] = J(
        eq.get_jobs(Q, fmt="terse", trigger_post_process=False)
    )
    out["conv_jobs(query_jobs, merge_sums=False, trigger_post_process=False)"] = [
        J(scrub(j)) for j in eq.conv_jobs(Q, merge_sums=False, trigger_post_process=False)
    ]
    procs = eq.get_procs(Q, fmt="dict", merge_threads_sums=False, limit=20)
    out["get_procs(query_jobs, merge_threads_sums=False, limit=20)"] = [
        {**J(scrub(p)), "key": pkey_by_id(p["id"]), "id": None, "parent": None} for p in procs
    ]
    out["get_procs(query_jobs, fmt='pandas', merge_threads_sums=False, limit=3) columns"] = sorted(
        eq.get_procs(Q, fmt="pandas", merge_threads_sums=False, limit=3).columns
    )

    # --- small calls
    out["procs_set('685000')"] = J(eq.procs_set("685000"))
    out["procs_set(query_jobs)"] = J(eq.procs_set(Q))
    out["procs_set(query_jobs, attr='host_id')"] = J(eq.procs_set(Q, attr="host_id"))
    out["procs_set('685016', attr='numtids')"] = J(eq.procs_set("685016", attr="numtids"))
    frame, added = eq.add_features_df(eq.get_jobs(Q, fmt="pandas"))
    out["add_features_df(get_jobs(query_jobs, fmt='pandas'))"] = {
        "added": added,
        "rows": J(frame[["jobid", *added]]),
        "columns_added": len(frame.columns) - len(eq.get_jobs(Q, fmt="pandas").columns),
    }
    frame, added = eq.add_features_df(eq.get_jobs(Q, fmt="pandas"), features=[eq.procs_set])
    out["add_features_df(get_jobs(query_jobs, fmt='pandas'), features=[procs_set])"] = {
        "added": added,
        "rows": J(frame[["jobid", *added]]),
    }
    out["get_job_proc_tags(query_jobs)"] = J(eq.get_job_proc_tags(Q))
    out["get_job_proc_tags(query_jobs, fold=True)"] = J(eq.get_job_proc_tags(Q, fold=True))

    # --- errors and quiet answers
    out["errors"] = {name: _run(eq, fn) for name, fn in ERROR_CALLS.items()}
    out["quiet"] = {name: _run(eq, fn) for name, fn in QUIET_CALLS.items()}

    # --- empty job lists (only the query jobs are loaded here)
    out["get_roots([])"] = sorted(pkey(p) for p in eq.get_roots([], fmt="orm"))
    out["compute_process_trees([])"] = J(eq.compute_process_trees([]))

    # --- naive datetimes in fltr: read in the job's zone (US/Eastern)
    at = dt.datetime
    starts = [eq.root(j, fmt="orm").start for j in Q]
    naive = {"root starts": J(starts)}
    fltrs = {
        "start > 08:30 & start < 08:31": (Process.start > at(2019, 6, 15, 8, 30))
        & (Process.start < at(2019, 6, 15, 8, 31)),
        "end <= 07:52:05": Process.end <= at(2019, 6, 15, 7, 52, 5),
        "start == root start of 685000": Process.start == starts[0],
        "start in root starts": Process.start.in_(starts),
    }
    for name, fltr in fltrs.items():
        naive[f"get_procs(query_jobs, fltr={name})"] = _proc_keys(
            eq.get_procs(Q, fltr=fltr, fmt="orm")
        )
    naive["get_procs(query_jobs, fltr=start > 09:00).count()"] = eq.get_procs(
        Q, fltr=Process.start > at(2019, 6, 15, 9, 0), fmt="orm"
    ).count()
    naive["get_jobs(query_jobs, fltr=Job.start > 07:52:30, fmt='terse')"] = J(
        eq.get_jobs(Q, fltr=Job.start > at(2019, 6, 15, 7, 52, 30), fmt="terse")
    )
    naive["get_jobs(query_jobs, fltr=Job.end < 09:40, fmt='terse')"] = J(
        eq.get_jobs(Q, fltr=Job.end < at(2019, 6, 15, 9, 40), fmt="terse")
    )
    out["naive_datetimes"] = naive
    return out
