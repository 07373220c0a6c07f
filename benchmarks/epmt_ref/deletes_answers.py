"""EPMT 5.0.1's answers for ``delete_jobs`` and ``retire_jobs`` (run by answers.py).

``answers.py --only deletes`` loads :data:`ARCHIVES` alone into a fresh sqlite database and
runs :data:`STEPS` in order, writing ``tests/fixtures/epmt/deletes.json``: per step, the
answer (or the error), the warnings EPMT logged, the jobs left and how many models are left.
A step is the text of a call, run by :func:`run` over :func:`namespace`;
``tests/test_api_deletes.py`` replays the same texts on epmt_graph (``eq`` being
``epmt_graph.api``, ``Job`` its ``eq.Job``).

``retire_jobs`` counts days back from now, so a step names a cutoff date of
:data:`CUTOFFS` and ``since(cutoff)`` is the whole days from that date to today: the cutoffs
sit in gaps of months between the jobs' ends, so a run on another day selects the same jobs.
Bad arguments are tried with ``dry_run=True``: EPMT ignores some of them (a date string it
cannot read is no bound at all) and would otherwise delete every job.
"""

import datetime as dt

__all__ = ["ARCHIVES", "CUTOFFS", "STEPS", "namespace", "ndays_since", "run"]

#: The jobs loaded: the query jobs (2019) and three small kernel-compile jobs (2020).
ARCHIVES = [
    "query/685000.tgz",
    "query/685003.tgz",
    "query/685016.tgz",
    "tsv/collated-tsv-2220.tgz",
    "submit/3455/",
    "tsv/12340/",
]
#: Cutoff dates for ``retire_jobs`` (jobs that ended before them are retired).
CUTOFFS = {
    "2019-06-01": "before every job",
    "2019-12-01": "after the query jobs (2019-06-15), before the others (June 2020)",
    "2020-06-27": "after 2220 and 3455, before 12340 (2020-06-29)",
    "2020-12-01": "after every job",
}
Q = ["685000", "685003", "685016"]
BIG = 1_000_000_000  # microseconds: the query jobs last longer, the others far less


def ndays_since(cutoff, today=None):
    """Whole days from ``cutoff`` (a date of :data:`CUTOFFS`) to ``today``."""
    return ((today or dt.date.today()) - dt.date.fromisoformat(cutoff)).days


#: The calls, in order (each sees what the ones before left), as Python text run by
#: :func:`run` (the text is the fixture's key; ``# ...`` tells steps with the same call apart).
STEPS = [
    # --- dry runs, no model: counts only, nothing changes
    "eq.delete_jobs('685000', dry_run=True)",
    "eq.delete_jobs(['685000', '685003'], dry_run=True)",
    "eq.delete_jobs(['685000', '685003'], warn=False, dry_run=True)",
    "eq.delete_jobs([], dry_run=True)",
    "eq.delete_jobs(None, dry_run=True)",
    "eq.delete_jobs([], force=True, dry_run=True)",
    "eq.delete_jobs('685000,685003', force=True, dry_run=True)",
    "eq.delete_jobs(['685000', 'nosuch'], dry_run=True)",
    "eq.delete_jobs('nosuch', dry_run=True)",
    "eq.delete_jobs([], force=True, skip_unprocessed=True, dry_run=True)",
    # limit and offset (over jobs by start time)
    "eq.delete_jobs([], force=True, limit=2, dry_run=True)",
    "eq.delete_jobs([], force=True, limit=4, offset=3, dry_run=True)",
    "eq.delete_jobs([], force=True, offset=5, dry_run=True)",
    "eq.delete_jobs([], force=True, offset=10, dry_run=True)",
    "eq.delete_jobs([], force=True, limit=0, dry_run=True)",
    "eq.delete_jobs([], limit=1, dry_run=True)",
    "eq.delete_jobs([], limit=2, dry_run=True)",
    "eq.delete_jobs(query_jobs, force=True, limit=1, offset=1, dry_run=True)",
    # before (the job's end) and after (its start), wall clock in the job's zone
    "eq.delete_jobs([], force=True, before=datetime(2019, 6, 15, 9, 41), dry_run=True)",
    "eq.delete_jobs([], force=True, before='06/15/2019 09:45', dry_run=True)",
    "eq.delete_jobs([], force=True, before=datetime(2020, 6, 26), dry_run=True)",
    "eq.delete_jobs([], force=True, after=datetime(2019, 6, 15, 7, 52, 5), dry_run=True)",
    "eq.delete_jobs([], force=True, after='06/15/2019 07:53', dry_run=True)",
    "eq.delete_jobs([], force=True, after='06/20/2019 00:00', before='06/27/2020 00:00', dry_run=True)",
    "eq.delete_jobs([], force=True, before=1577836800, dry_run=True)",
    "eq.delete_jobs([], force=True, before=-30, dry_run=True)",
    "eq.delete_jobs([], force=True, after=-7, dry_run=True)",
    "eq.delete_jobs([], force=True, before=-100000, dry_run=True)",
    "eq.delete_jobs(['685000', '2220'], force=True, before=datetime(2020, 1, 1), dry_run=True)",
    # fltr
    "eq.delete_jobs([], fltr=(Job.duration > BIG), dry_run=True)",
    "eq.delete_jobs([], force=True, fltr=(Job.duration > BIG), dry_run=True)",
    "eq.delete_jobs([], force=True, fltr=(Job.duration > BIG), limit=2, offset=2, dry_run=True)",
    "eq.delete_jobs([], force=True, fltr=Job.jobid.in_(['685016', '3455']), dry_run=True)",
    # retire_jobs (jobs that ended more than ndays ago)
    "eq.retire_jobs(ndays=0)",
    "eq.retire_jobs(ndays=-3)",
    "eq.retire_jobs(dry_run=True)",
    "eq.retire_jobs(ndays=100000, dry_run=True)",
    "eq.retire_jobs(ndays=since('2019-06-01'), dry_run=True)",
    "eq.retire_jobs(ndays=since('2019-12-01'), dry_run=True)",
    "eq.retire_jobs(ndays=since('2020-06-27'), dry_run=True)",
    "eq.retire_jobs(ndays=since('2020-12-01'), skip_unprocessed=True, dry_run=True)",
    "eq.retire_jobs(ndays=since('2020-12-01') + 0.5, dry_run=True)",
    # bad arguments (dry runs: EPMT ignores some of them)
    "eq.delete_jobs([], force=True, before='last week', dry_run=True)",
    "eq.delete_jobs([], force=True, after='2019-06-15', dry_run=True)",
    "eq.delete_jobs([], force=True, before=[1], dry_run=True)",
    "eq.delete_jobs([], force=True, limit=-1, dry_run=True)",
    "eq.delete_jobs([], force=True, limit='x', dry_run=True)",
    "eq.delete_jobs([], force=True, offset=-1, dry_run=True)",
    "eq.delete_jobs([], force=True, offset='x', dry_run=True)",
    "eq.delete_jobs(685000, dry_run=True)",
    "eq.delete_jobs([], force=True, fltr='duration > 1000000000', dry_run=True)",
    "eq.retire_jobs(ndays='x', dry_run=True)",
    "eq.retire_jobs(ndays=None, dry_run=True)",
    # a model on the untagged jobs (EPMT refuses a model of tagged and untagged jobs): its
    # jobs are spared unless remove_models
    "models(['2220', '3455', '12340'])",
    "eq.delete_jobs('3455', dry_run=True)  # model",
    "eq.delete_jobs('3455')  # model",
    "eq.delete_jobs(['3455', '685016'], dry_run=True)  # model",
    "eq.delete_jobs(['3455', '685016'], force=True, dry_run=True)  # model",
    "eq.delete_jobs(['2220', '3455'], force=True)  # model",
    "eq.delete_jobs([], force=True, after=datetime(2020, 1, 1), dry_run=True)  # model",
    "eq.retire_jobs(ndays=since('2019-12-01'), dry_run=True)  # model",
    "eq.retire_jobs(ndays=since('2020-12-01'), dry_run=True)  # model",
    "eq.delete_jobs(['3455', '685016'], force=True, remove_models=True, dry_run=True)  # model",
    "models(['2220', '3455', '12340'])  # again",
    "eq.delete_jobs(['12340', '685000'], force=True)  # model",
    "eq.delete_jobs('3455', remove_models=True)  # model",
    # real deletes
    "eq.delete_jobs('685003')",
    "eq.delete_jobs(['685016', '2220'])",
    "eq.delete_jobs([], force=True, limit=1, offset=1)",
    "eq.retire_jobs(ndays=since('2020-06-27'))",
    "eq.delete_jobs('12340', before=datetime(2020, 6, 1))",
    "eq.retire_jobs(ndays=since('2020-12-01'))",
    "eq.retire_jobs(ndays=since('2020-12-01'))  # again",
]


def namespace(eq, Job, today=None):
    """What the steps' text names: the API ``eq``, its ``Job``, ``datetime``, ``query_jobs``,
    ``BIG``, ``since(cutoff)`` and ``models(jobs)`` (builds a model on ``jobs``; its id is
    run-dependent, so it answers how many models there are)."""

    def models(jobs):
        eq.create_refmodel(jobs)
        return len(eq.get_refmodels(fmt="terse"))

    return {
        "eq": eq,
        "Job": Job,
        "datetime": dt.datetime,
        "query_jobs": list(Q),
        "BIG": BIG,
        "since": lambda cutoff: ndays_since(cutoff, today),
        "models": models,
    }


def run(step, names):
    """Run one step's call (the text up to a ``  #`` comment)."""
    return eval(step.split("  #")[0], names)  # the texts are this module's own literals
