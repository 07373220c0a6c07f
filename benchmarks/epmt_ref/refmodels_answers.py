"""EPMT 5.0.1's answers on reference models and job comparability (run by answers.py).

``answers.py --only refmodels`` loads the sample jobs the test graph loads (query, submit,
daemon, tsv) and writes ``tests/fixtures/epmt/refmodels.json`` with the section below:
each call's answer, keyed by the call's text. Model ids are as EPMT numbered them (1, 2,
...); ``created_at`` is volatile.
"""

import contextlib
import io

__all__ = ["ARCHIVES", "refmodels"]

#: The archives the test graph loads (tests/constants.py GOOD_FOLDERS), in answers.py order.
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


def refmodels(eq, J, call, volatile):
    """Every refmodel and comparability call, in order (later calls see earlier models)."""
    import epmt.epmt_stat as es
    from epmt.orm.sqlalchemy.general import Session

    W = {}
    Q = ["685000", "685003", "685016"]
    UNTAGGED = ["3455", "2220", "12340"]

    def model(r):
        """A model dict with its volatile creation stamps replaced."""
        if not isinstance(r, dict):
            return r
        return {k: (volatile if k in ("created_at", "updated_at") else v) for k, v in r.items()}

    def quiet(fn):
        """fn() with EPMT's stderr warning captured: (answer, warning text)."""

        def run():
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                out = fn()
            return {"answer": J(out), "stderr": err.getvalue()}

        return run

    def created(key, fn):
        out = call(W, key, quiet(fn))
        if isinstance(out.get("answer"), dict):
            out["answer"] = model(out["answer"])
        return out.get("answer")

    # --- comparability
    for label, jobs in [
        ("query_jobs", Q),
        ("query_jobs + ['692544']", [*Q, "692544"]),
        ("['685016', '692544']", ["685016", "692544"]),
        ("query_jobs + ['692500', '3455']", [*Q, "692500", "3455"]),
        ("untagged", UNTAGGED),
        ("[]", []),
        ("['nosuch']", ["nosuch"]),
        ("'685000, 691201'", "685000, 691201"),
    ]:
        call(
            W, f"comparable_job_partitions({label})", lambda j=jobs: eq.comparable_job_partitions(j)
        )
        call(W, f"are_jobs_comparable({label})", lambda j=jobs: eq.are_jobs_comparable(j))
    for keys in (["exp_name"], ["exp_time"], ["exp_name", "ocn_res", "exp_time"]):
        call(
            W,
            f"comparable_job_partitions(query_jobs + ['691201', '692544'], matching_keys={keys})",
            lambda k=keys: eq.comparable_job_partitions([*Q, "691201", "692544"], matching_keys=k),
        )
        call(
            W,
            f"are_jobs_comparable(query_jobs, matching_keys={keys})",
            lambda k=keys: eq.are_jobs_comparable(Q, matching_keys=k),
        )

    # --- create_refmodel
    r1 = created("create_refmodel(query_jobs)", lambda: eq.create_refmodel(Q))
    created(
        "create_refmodel(query_jobs, tag='model_name:test_model', methods=[modified_z_score], "
        "features=['duration', 'cpu_time'])",
        lambda: eq.create_refmodel(
            Q,
            tag="model_name:test_model",
            methods=[es.modified_z_score],
            features=["duration", "cpu_time"],
        ),
    )
    created(
        "create_refmodel(query_jobs, features='*', methods=[iqr, z_score])",
        lambda: eq.create_refmodel(Q, features="*", methods=[es.iqr, es.z_score]),
    )
    created(
        "create_refmodel(query_jobs, name='test_model', enabled=False, sanity_check=False)",
        lambda: eq.create_refmodel(Q, name="test_model", enabled=False, sanity_check=False),
    )
    created(
        "create_refmodel(untagged, features=['rchar', 'wchar', 'num_threads', 'no_such'])",
        lambda: eq.create_refmodel(UNTAGGED, features=["rchar", "wchar", "num_threads", "no_such"]),
    )
    created(
        "create_refmodel(['685016', '692544', '691201'], "
        "tag='exp_name:ESM4_historical_D151;exp_component:ocean_month_rho2_1x1deg')",
        lambda: eq.create_refmodel(
            ["685016", "692544", "691201"],
            tag="exp_name:ESM4_historical_D151;exp_component:ocean_month_rho2_1x1deg",
        ),
    )
    created(
        "create_refmodel(query_jobs, op_tags=['op:hsmget', 'op:cp'], methods=[modified_z_score])",
        lambda: eq.create_refmodel(
            Q, op_tags=["op:hsmget", "op:cp"], methods=[es.modified_z_score]
        ),
    )
    created(
        "create_refmodel(query_jobs, op_tags='*', features=['duration', 'num_procs'])",
        lambda: eq.create_refmodel(Q, op_tags="*", features=["duration", "num_procs"]),
    )
    for label, fn in [
        (
            "create_refmodel(query_jobs, name='test_model')",
            lambda: eq.create_refmodel(Q, name="test_model"),
        ),
        ("create_refmodel(query_jobs[:2])", lambda: eq.create_refmodel(Q[:2])),
        ("create_refmodel([])", lambda: eq.create_refmodel([])),
        (
            "create_refmodel(['nosuch1', 'nosuch2', 'nosuch3'])",
            lambda: eq.create_refmodel(["nosuch1", "nosuch2", "nosuch3"]),
        ),
        ("create_refmodel(query_jobs + ['3455'])", lambda: eq.create_refmodel([*Q, "3455"])),
        (
            "create_refmodel(query_jobs, features=['no_such'])",
            lambda: eq.create_refmodel(Q, features=["no_such"]),
        ),
    ]:
        created(label, fn)
        with contextlib.suppress(Exception):
            Session.rollback()  # a refused create leaves the session failed

    # --- reading models
    call(W, "get_refmodels(fmt='terse')", lambda: eq.get_refmodels(fmt="terse"))
    call(W, "get_refmodels()", lambda: [model(r) for r in eq.get_refmodels()])
    call(
        W,
        "get_refmodels(merge_nested_fields=False)",
        lambda: [model(r) for r in eq.get_refmodels(merge_nested_fields=False)],
    )
    call(
        W,
        "get_refmodels(fmt='pandas') [columns, shape]",
        lambda: (lambda df: [sorted(df.columns), list(df.shape)])(eq.get_refmodels(fmt="pandas")),
    )
    for label, kw in [
        ("name='test_model'", dict(name="test_model")),
        ("name='no_such_model'", dict(name="no_such_model")),
        ("tag='model_name:test_model'", dict(tag="model_name:test_model")),
        (
            "tag={'exp_name': 'ESM4_historical_D151'}",
            dict(tag={"exp_name": "ESM4_historical_D151"}),
        ),
        (
            "tag='exp_name:ESM4_historical_D151', exact_tag_only=True",
            dict(tag="exp_name:ESM4_historical_D151", exact_tag_only=True),
        ),
        ("tag={}", dict(tag={})),
        ("limit=2", dict(limit=2)),
        ("before=-1", dict(before=-1)),
        ("after=-1", dict(after=-1)),
    ]:
        call(
            W,
            f"get_refmodels({label}, fmt='terse')",
            lambda kw=kw: eq.get_refmodels(fmt="terse", **kw),
        )

    # --- metrics, enabled
    rid = r1["id"] if isinstance(r1, dict) else 1
    call(W, "refmodel_get_metrics(1)", lambda: eq.refmodel_get_metrics(rid))
    call(W, "refmodel_get_metrics(1, True)", lambda: eq.refmodel_get_metrics(rid, True))
    call(W, "refmodel_get_metrics(3)", lambda: eq.refmodel_get_metrics(3))
    call(W, "refmodel_get_metrics(7)", lambda: eq.refmodel_get_metrics(7))
    call(
        W,
        "refmodel_set_active_metrics(1, ['duration', 'cpu_time', 'no_such'])",
        lambda: sorted(eq.refmodel_set_active_metrics(rid, ["duration", "cpu_time", "no_such"])),
    )
    call(W, "refmodel_get_metrics(1) [after set_active]", lambda: eq.refmodel_get_metrics(rid))
    call(
        W,
        "refmodel_get_metrics(1, True) [after set_active]",
        lambda: eq.refmodel_get_metrics(rid, True),
    )
    call(
        W,
        "get_refmodels(name=None)[0]['info_dict'] [after set_active]",
        lambda: eq.get_refmodels()[0]["info_dict"],
    )
    call(W, "refmodel_set_active_metrics(1, [])", lambda: eq.refmodel_set_active_metrics(rid, []))
    call(
        W,
        "refmodel_get_metrics(1, True) [after set_active []]",
        lambda: eq.refmodel_get_metrics(rid, True),
    )
    call(W, "refmodel_is_enabled(1)", lambda: eq.refmodel_is_enabled(rid))
    call(W, "refmodel_is_enabled(4)", lambda: eq.refmodel_is_enabled(4))
    call(W, "refmodel_set_enabled(1) [type]", lambda: type(eq.refmodel_set_enabled(rid)).__name__)
    call(W, "refmodel_is_enabled(1) [after disable]", lambda: eq.refmodel_is_enabled(rid))
    call(
        W,
        "refmodel_set_enabled(1, True).enabled",
        lambda: eq.refmodel_set_enabled(rid, True).enabled,
    )
    call(W, "refmodel_is_enabled(999)", lambda: eq.refmodel_is_enabled(999))
    call(W, "refmodel_set_enabled(999)", lambda: eq.refmodel_set_enabled(999))
    call(W, "refmodel_get_metrics(999)", lambda: eq.refmodel_get_metrics(999))
    call(
        W,
        "refmodel_set_active_metrics(999, ['duration'])",
        lambda: eq.refmodel_set_active_metrics(999, ["duration"]),
    )

    # --- analyses with and without a model (model 6 is tagged for ocean_month_rho2_1x1deg)
    call(
        W,
        "analyze_comparable_jobs(['685016', '692544'], check_comparable=False)",
        lambda: eq.analyze_comparable_jobs(["685016", "692544"], check_comparable=False),
    )
    call(
        W,
        "get_job_analyses('692544') [after analyze with model 6]",
        lambda: eq.get_job_analyses("692544"),
    )
    call(
        W,
        "analyze_comparable_jobs(['685000', '691201'], check_comparable=False)",
        lambda: eq.analyze_comparable_jobs(["685000", "691201"], check_comparable=False),
    )
    call(
        W,
        "get_job_analyses('691201') [after analyze without model]",
        lambda: eq.get_job_analyses("691201"),
    )
    call(
        W,
        "analyze_comparable_jobs(untagged, check_comparable=False, keys=('exp_name',))",
        lambda: eq.analyze_comparable_jobs(UNTAGGED, check_comparable=False, keys=("exp_name",)),
    )
    call(
        W, "get_job_analyses('3455') [after analyze untagged]", lambda: eq.get_job_analyses("3455")
    )
    call(
        W,
        "analyze_comparable_jobs(['685016', '692544'])",
        lambda: eq.analyze_comparable_jobs(["685016", "692544"]),
    )
    call(
        W,
        "refmodel_set_enabled(6, False) then analyze_comparable_jobs(['685016', '692544'], check_comparable=False)",
        lambda: (
            eq.refmodel_set_enabled(6, False),
            eq.analyze_comparable_jobs(["685016", "692544"], check_comparable=False),
        )[1],
    )
    for j in ["685016", "692544", "685000", "691201", *UNTAGGED]:
        eq.remove_job_analyses(j)
    with contextlib.suppress(Exception):
        Session.rollback()

    # --- deleting
    call(W, "delete_refmodels()", lambda: eq.delete_refmodels())
    call(W, "delete_refmodels(999)", lambda: eq.delete_refmodels(999))
    call(W, "delete_refmodels(2, 999)", lambda: eq.delete_refmodels(2, 999))
    call(W, "delete_refmodels([3, 4])", lambda: eq.delete_refmodels([3, 4]))
    call(W, "get_refmodels(fmt='terse') [after deletes]", lambda: eq.get_refmodels(fmt="terse"))
    call(W, "retire_refmodels()", lambda: eq.retire_refmodels())
    call(
        W,
        "retire_refmodels(ndays=1, dry_run=True)",
        lambda: eq.retire_refmodels(ndays=1, dry_run=True),
    )
    call(W, "retire_refmodels(ndays=1)", lambda: eq.retire_refmodels(ndays=1))
    call(W, "delete_jobs('685003')", lambda: eq.delete_jobs("685003"))
    call(
        W,
        "get_refmodels(fmt='terse') [after delete_jobs without remove_models]",
        lambda: eq.get_refmodels(fmt="terse"),
    )
    call(
        W,
        "delete_jobs('685003', remove_models=True)",
        lambda: eq.delete_jobs("685003", remove_models=True),
    )
    call(
        W,
        "get_refmodels(fmt='terse') [after delete_jobs with remove_models]",
        lambda: eq.get_refmodels(fmt="terse"),
    )
    call(W, "get_jobs(fmt='terse') [after delete_jobs]", lambda: eq.get_jobs(fmt="terse"))
    return W
