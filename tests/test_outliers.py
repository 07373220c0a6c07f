"""``epmt_graph.outliers`` against EPMT 5.0.1 on its four kern-6656 kernel-compile jobs (one
an outlier), loaded from the EPMT wheel's ``test/data/outliers/`` as EPMT's tests load
them (``EPMT_TZ=Asia/Kolkata``) into the session graph, and deleted at the end.

Expected values are EPMT's: the numbers EPMT's own ``test/test_outliers.py`` asserts (run
under the settings its ``setUpModule`` sets: ``modified_z_score`` alone, thresholds 2.5
and 1.5), and, under EPMT's default settings, the answers EPMT 5.0.1 gave to the same
calls in its own venv (scores, rankings, root-cause tables), written here as literals.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import epmt_graph.api as eq
import epmt_graph.outliers as eod
import epmt_graph.outliers.stat as es
from epmt_graph.api import stats
from epmt_graph.api.refmodel_state import remove_models_of_jobs
from epmt_graph.db import Graph
from epmt_graph.errors import (
    ModelError,
    OutlierError,
    QueryError,
    UnknownJobError,
    UnknownModelError,
)
from epmt_graph.loader import load_job
from epmt_graph.outliers import settings
from epmt_graph.samples import epmt_wheel
from epmt_graph.store import delete_job

REF = ["kern-6656-20190614-190245", "kern-6656-20190614-191138", "kern-6656-20190614-194024"]
OUTLIER = "kern-6656-20190614-192044-outlier"
KERN = [REF[0], REF[1], OUTLIER, REF[2]]  # by start time, as get_jobs orders them
BUILD = {"op_instance": "4", "op_sequence": "4", "op": "build"}
TAGS_BY_EXCESS = [  # EPMT's ranking of the kern operations without a model
    {"op": "build", "op_instance": "4", "op_sequence": "4"},
    {"op": "clean", "op_instance": "5", "op_sequence": "5"},
    {"op": "configure", "op_instance": "3", "op_sequence": "3"},
    {"op": "extract", "op_instance": "2", "op_sequence": "2"},
    {"op": "download", "op_instance": "1", "op_sequence": "1"},
]
SPLIT = (set(REF), {OUTLIER})


@pytest.fixture(scope="module")
def kern(loaded_graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """The four kern jobs loaded (as EPMT_TZ=Asia/Kolkata reads them); at the end their
    models and the jobs are deleted."""
    folder = tmp_path_factory.mktemp("kern")
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        members = [n for n in wheel.namelist() if n.startswith("epmt/test/data/outliers/")]
        wheel.extractall(folder, members)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EPMT_TZ", "Asia/Kolkata")
        for archive in sorted((folder / "epmt/test/data/outliers").glob("*.tgz")):
            load_job(archive, graph=loaded_graph)
    yield loaded_graph
    remove_models_of_jobs(KERN)
    for jobid in KERN:
        delete_job(loaded_graph, jobid)


@pytest.fixture
def epmt_test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings EPMT's test_outliers.py runs under (its setUpModule)."""
    monkeypatch.setattr(settings, "univariate_classifiers", ["modified_z_score"])
    monkeypatch.setitem(settings.outlier_thresholds, "modified_z_score", 2.5)
    monkeypatch.setitem(settings.outlier_thresholds, "z_score", 1.5)


@pytest.fixture
def models(kern: Graph) -> Iterator[list[int]]:
    """Ids of the models a test creates (append them); deleted after the test."""
    created: list[int] = []
    yield created
    eq.delete_refmodels(created)


def _model(created: list[int], jobs: list[str], **kwargs: Any) -> int:
    ident = int(eq.create_refmodel(jobs, fmt="terse", **kwargs))
    created.append(ident)
    return ident


# ------------------------------------------------- EPMT's test_outliers.py, its settings


@pytest.mark.usefixtures("kern", "epmt_test_settings")
class TestEpmtAssertions:
    """EPMT's own assertions (test_outliers.py), on the same jobs and settings."""

    def test_feature_distributions(self) -> None:
        found = eod.get_feature_distributions(
            eq.get_jobs(tags="exp_name:linux_kernel", fmt="terse"), features=[]
        )
        norm = {"inblock", "minflt", "rchar", "read_bytes", "rssmax", "syscr", "syscw"}
        norm |= {"vol_ctxsw", "wchar", "write_bytes"}
        assert list(found) == sorted(found) and len(found) == 29
        assert {f for f, dist in found.items() if dist == "norm"} == norm
        assert {dist for f, dist in found.items() if f not in norm} == {"unknown"}

    def test_outlier_jobs(self) -> None:
        with pytest.raises(RuntimeError):
            eod.detect_outlier_jobs(KERN[:3])
        df, parts = eod.detect_outlier_jobs(eq.get_jobs(tags="exp_name:linux_kernel", fmt="orm"))
        assert df.to_dict("list") == {
            "jobid": KERN,
            "cpu_time": [0, 0, 1, 0],
            "duration": [0, 0, 1, 0],
            "num_procs": [0, 0, 0, 0],
        }
        assert parts == {"cpu_time": SPLIT, "duration": SPLIT, "num_procs": (set(KERN), set())}
        df, _ = eod.detect_outlier_jobs(KERN, features="*")
        assert df.shape == (4, 30)
        assert df.iloc[:, 1:].sum(axis=1).tolist() == [0, 0, 11, 0]

    def test_outlier_jobs_multimode(self) -> None:
        df, parts = eod.detect_outlier_jobs(KERN, methods=[es.iqr, es.modified_z_score, es.z_score])
        assert df.shape == (4, 4)
        assert set(zip(df.jobid, df.cpu_time, df.duration, df.num_procs, strict=True)) == {
            (REF[0], 0, 0, 0),
            (OUTLIER, 3, 3, 0),
            (REF[2], 0, 0, 0),
            (REF[1], 0, 0, 0),
        }
        assert parts == {"cpu_time": SPLIT, "duration": SPLIT, "num_procs": (set(KERN), set())}

    def test_outlier_no_matched_tags(self) -> None:
        assert eod.detect_outlier_ops(KERN, tags=[{"op": "missing"}]) is False

    def test_outlier_jobs_trained(self, models: list[int]) -> None:
        model = _model(models, REF)
        df, parts = eod.detect_outlier_jobs(KERN, trained_model=model)
        assert df.duration.tolist() == df.cpu_time.tolist() == [0, 0, 1, 0]
        assert df.num_procs.tolist() == [0, 0, 0, 0]
        assert parts["duration"] == SPLIT
        model = _model(models, KERN)  # the outlier in the model: no outliers
        df, _ = eod.detect_outlier_jobs(KERN, trained_model=model)
        assert df.iloc[:, 1:].to_numpy().sum() == 0
        assert {"cpu_time", "duration", "num_procs"} <= set(df.columns)
        eq.refmodel_set_active_metrics(model, ["duration", "cpu_time"])
        df, _ = eod.detect_outlier_jobs(KERN, trained_model=model)
        assert list(df.columns) == ["jobid", "cpu_time", "duration"]
        model = _model(models, KERN, features="*")
        df, _ = eod.detect_outlier_jobs(KERN, trained_model=model)
        assert list(df.columns) == ["jobid", "cpu_time", "duration", "num_procs"]
        df, _ = eod.detect_outlier_jobs(KERN, features="*", trained_model=model)
        assert df.shape == (4, 30)
        for method in (es.iqr, es.z_score):
            model = _model(models, REF, methods=[method])
            df, _ = eod.detect_outlier_jobs(KERN, methods=[method], trained_model=model)
            assert set(zip(df.jobid, df.cpu_time, df.duration, df.num_procs, strict=True)) == {
                (REF[0], 0, 0, 0),
                (OUTLIER, 1, 1, 0),
                (REF[2], 0, 0, 0),
                (REF[1], 0, 0, 0),
            }

    def test_outlier_ops_trained(self, models: list[int]) -> None:
        model = _model(models, REF, op_tags="*")
        features = ["rssmax", "cpu_time", "duration", "num_procs"]
        df, parts, scores, tags, ranked = eod.detect_outlier_ops(
            KERN, trained_model=model, features=features
        )
        assert df.shape == (20, 5)
        assert set(df[df.duration > 0].jobid) == set(df[df.cpu_time > 0].jobid) == {OUTLIER}
        assert set(df[df.num_procs > 0].jobid) == set()
        assert ranked == ["cpu_time", "duration", "num_procs"] == list(df.columns)[2:]
        assert list(scores.columns)[1:] == ranked
        assert tags == [TAGS_BY_EXCESS[i] for i in (1, 0, 2, 3, 4)]  # clean first
        assert [json.loads(t) for t in scores.tags] == tags
        assert list(dict.fromkeys(map(str, df.tags))) == [str(t) for t in tags]
        assert parts['{"op": "build", "op_instance": "4", "op_sequence": "4"}'] == SPLIT
        model = _model(models, KERN, op_tags="*")
        df, *_ = eod.detect_outlier_ops(KERN, trained_model=model)
        assert len(df.query("duration > 0 | cpu_time > 0 | num_procs > 0")) == 0
        model = _model(models, REF, op_tags="op_instance:4;op_sequence:4;op:build")
        df, parts, *_ = eod.detect_outlier_ops(KERN, trained_model=model)
        assert df.shape == (4, 5)
        assert [json.loads(key) for key in parts] == [BUILD] and list(parts.values()) == [SPLIT]

    def test_outlier_ops(self) -> None:
        with pytest.raises(RuntimeError):
            eod.detect_outlier_ops(KERN[:3])
        df, parts, *_ = eod.detect_outlier_ops(eq.get_jobs(tags="exp_name:linux_kernel", fmt="orm"))
        assert df.shape == (20, 5)
        assert (df.duration > 0).sum() == 3 and (df.cpu_time > 0).sum() == 5
        assert (df.num_procs > 0).sum() == 0
        assert list(df.loc[2].values) == [OUTLIER, BUILD, 1, 1, 0]
        assert len(parts) == 5 and all(split == SPLIT for split in parts.values())
        df, parts, *_ = eod.detect_outlier_ops(KERN, tags=BUILD)
        assert df.shape == (4, 5)
        assert df.duration.tolist() == df.cpu_time.tolist() == [0, 0, 1, 0]
        assert df.num_procs.tolist() == [0, 0, 0, 0]
        assert list(parts.values()) == [SPLIT]
        df, *_ = eod.detect_outlier_ops(KERN, features="*")
        assert df.shape == (20, 30)
        assert df.iloc[:, 2:].sum(axis=1).tolist() == [
            1,
            0,
            11,
            0,
            0,
            1,
            11,
            0,
            0,
            0,
            12,
            0,
            0,
            1,
            6,
            0,
            0,
            2,
            7,
            0,
        ]

    def test_detect_outliers(self) -> None:
        np.random.seed(0)
        data = np.random.randn(10, 2)
        data[5] = [2 * data[:, 0].max(), 2 * data[:, 1].max()]
        outliers = eod.detect_outliers(pd.DataFrame(data), methods=[es.iqr, es.modified_z_score])
        assert list(outliers.iloc[5].values) == [2, 2]

    def test_outlier_processes(self) -> None:
        p = eq.get_procs(REF[0], fmt="pandas", order=eq.desc(eq.Process.duration), limit=1)
        procs = pd.concat([p] * 10, ignore_index=True)
        procs.loc[[5], "duration"] *= 2
        procs.loc[[5], "cpu_time"] *= 2
        outliers = eod.detect_outlier_processes(
            procs, ["duration", "cpu_time"], methods=[es.iqr, es.modified_z_score]
        )
        assert list(outliers.loc[5].values) == [2, 2]

    def test_outlier_threads(self) -> None:
        p = eq.get_procs(REF[0], fmt="orm", order=eq.desc(eq.Process.duration), limit=1)[0]
        threads = pd.concat([eq.get_thread_metrics(p)] * 10, ignore_index=True)
        threads.loc[[5], "usertime"] *= 2
        threads.loc[[5], "systemtime"] *= 2
        outliers = eod.detect_outlier_threads(
            threads, ["usertime", "systemtime"], methods=[es.iqr, es.modified_z_score]
        )
        assert list(outliers.loc[5].values) == [2, 2]

    def test_partition_jobs(self) -> None:
        parts = eod.partition_jobs(eq.get_jobs(tags="launch_id:6656", fmt="orm"))
        assert parts == {"cpu_time": SPLIT, "duration": SPLIT, "num_procs": (set(KERN), set())}

    def test_partition_jobs_by_ops(self) -> None:
        parts = eod.partition_jobs_by_ops(KERN)
        assert len(parts) == 5 and all(split == SPLIT for split in parts.values())
        parts = eod.partition_jobs_by_ops(KERN, tags="op:build;op_instance:4;op_sequence:4")
        assert parts == {'{"op": "build", "op_instance": "4", "op_sequence": "4"}': SPLIT}
        extract = {"op_instance": "2", "op_sequence": "2", "op": "extract"}
        parts = eod.partition_jobs_by_ops(
            KERN, tags=["op:build;op_instance:4;op_sequence:4", extract]
        )
        assert list(parts.values()) == [SPLIT, SPLIT] and len(parts) == 2

    def test_rca_jobs(self) -> None:
        ok, df, _ = eod.detect_rootcause(
            eq.get_jobs(REF, fmt="orm"), eq.get_jobs(OUTLIER, fmt="orm")
        )
        assert ok and list(df.columns) == ["cpu_time", "duration", "num_procs"]
        assert df.shape == (12, 3)
        assert [int(x) for x in df.loc["modified_z_score_ratio"]] == [204, 27, 0]

    def test_rca_ops(self) -> None:
        ok, df, _ = eod.detect_rootcause_op(REF, OUTLIER, tag="op_sequence:4")
        assert ok and list(df.columns) == ["cpu_time", "duration", "num_procs"]
        assert df.shape == (12, 3)
        assert [int(x) for x in df.loc["modified_z_score_ratio"]] == [379, 56, 0]

    def test_trained_model(self, models: list[int]) -> None:
        model = eq.create_refmodel(REF, tag="exp_name:linux_kernel_test", fmt="orm")
        models.append(model.id)
        scores = {
            "duration": (1.0287, 542680315.0, 14860060.0),
            "cpu_time": (1.3207, 449914707.0, 444671.0),
            "num_procs": (0.0, 10600.0, 0.0),
        }
        # as EPMT's: tuples in the model as made, lists once read back from the database
        assert model.computed == {"modified_z_score": scores}
        read = eq.get_refmodels(tag="exp_name:linux_kernel_test", fmt="orm").first()
        assert read.computed == {"modified_z_score": {f: list(v) for f, v in scores.items()}}


# ------------------------------------- EPMT 5.0.1's answers under its default settings


@pytest.mark.usefixtures("kern")
class TestEpmtAnswers:
    """The same calls' answers from EPMT 5.0.1 in its venv, default settings."""

    def test_jobs(self) -> None:
        df, _ = eod.detect_outlier_jobs(KERN)
        assert df.to_dict("list") == {
            "jobid": KERN,
            "cpu_time": [0, 0, 2, 0],
            "duration": [0, 0, 2, 0],
            "num_procs": [0, 0, 0, 0],
        }
        df, _ = eod.detect_outlier_jobs(KERN, features="*")
        flagged = {f: v for f, v in df.iloc[:, 1:].to_dict("list").items() if any(v)}
        twice = ["PERF_COUNT_SW_CPU_CLOCK", "cpu_time", "duration", "invol_ctxsw"]
        twice += ["rdtsc_duration", "systemtime", "time_oncpu", "time_waiting", "timeslices"]
        assert flagged == {
            **{feature: [0, 0, 2, 0] for feature in [*twice, "usertime"]},
            "cancelled_write_bytes": [0, 0, 1, 0],
            "rchar": [1, 0, 0, 0],
        }

    def test_jobs_trained(self, models: list[int]) -> None:
        model = _model(models, REF)
        assert eq.get_refmodels(fmt="orm", merge_nested_fields=False)[-1].computed == {
            "iqr": {
                "cpu_time": [0, 449537294.875, 449866128.125],
                "duration": [0, 541891658.25, 551272593.75],
                "num_procs": [0, 10600.0, 10600.0],
            },
            "modified_z_score": {
                "cpu_time": [1.3207, 449914707.0, 444671.0],
                "duration": [1.0287, 542680315.0, 14860060.0],
                "num_procs": [0, 10600.0, 0.0],
            },
            "z_score": {
                "cpu_time": [1.3338, 449772710.0, 546289.0482],
                "duration": [1.3003, 545281522.3333, 15429031.3611],
                "num_procs": [0.0, 10600.0, 0.0],
            },
        }
        df, _ = eod.detect_outlier_jobs(KERN, trained_model=model)
        assert df.cpu_time.tolist() == df.duration.tolist() == [0, 0, 3, 0]

    def test_ops_scores(self) -> None:
        df, _, scores, tags, ranked = eod.detect_outlier_ops(KERN)
        assert tags == TAGS_BY_EXCESS and ranked == ["cpu_time", "duration", "num_procs"]
        assert scores.iloc[:, 1:].to_dict("list") == {
            "cpu_time": [262.215, 48.576, 31.575, 11.511, 1.418],
            "duration": [36.964, 5.064, 1.912, 0.0, 0.0],
            "num_procs": [0, 0, 0, 0, 0],
        }
        assert df.cpu_time.tolist() == [0, 0, 2, 0] * 5
        assert df.duration.tolist() == [0, 0, 2, 0] * 3 + [0, 0, 0, 0] * 2
        _, _, scores, *_ = eod.detect_outlier_ops(KERN, methods=[es.modified_z_score])
        assert scores.cpu_time.tolist() == [261.215, 47.576, 30.575, 10.511, 0.418]
        assert scores.duration.tolist() == [35.964, 4.064, 0.912, 0.0, 0.0]

    def test_ops_trained_scores(self, models: list[int]) -> None:
        model = _model(models, REF, op_tags="*")
        df, _, scores, tags, _ = eod.detect_outlier_ops(KERN, trained_model=model)
        assert tags == [TAGS_BY_EXCESS[i] for i in (1, 0, 2, 3, 4)]
        assert scores.iloc[:, 1:].to_dict("list") == {
            "cpu_time": [1037.376, 755.095, 311.725, 49.5, 12.992],
            "duration": [24.449, 113.252, 14.331, 4.76, 5.473],
            "num_procs": [0.0, 0.0, 0.0, 0.0, 0.0],
        }
        assert df.cpu_time.tolist() == df.duration.tolist() == [0, 0, 3, 0] * 5

    def test_rootcause_table(self) -> None:
        _, df, ranked = eod.detect_rootcause(REF, OUTLIER)
        assert ranked == [
            ("cpu_time", pytest.approx(204.1563564776255, rel=1e-12)),
            ("duration", pytest.approx(27.8397978030524, rel=1e-12)),
            ("num_procs", 0),
        ]
        assert df.loc["std"].tolist() == pytest.approx([669064.7100460463, 18896627.030078184, 0])
        assert df.loc["input"].tolist() == [627670563.0, 1173629067.0, 10600.0]
        assert df.loc["modified_z_score"].tolist() == [269.6293, 28.6388, 0.0]
        _, df, _ = eod.detect_rootcause_op(REF, OUTLIER, tag="op_sequence:4")
        assert df.loc["input"].tolist() == [540737924.0, 5014023407.0, 9549.0]
        assert df.loc["ref_max_modified_z_score"].tolist() == [0.7246, 0.7491, 0.0]
        assert df.loc["modified_z_score_ratio"].tolist() == pytest.approx(
            [379.350952249517, 56.09397944199707, 0.0], rel=1e-12
        )

    def test_rootcause_every_feature(self) -> None:
        methods = [es.modified_z_score, es.z_score, es.iqr]
        _, df, ranked = eod.detect_rootcause(REF, OUTLIER, features="*", methods=methods)
        assert df.shape == (18, 29)
        infinite = {"PERF_COUNT_SW_CPU_CLOCK", "cancelled_write_bytes", "cpu_time", "duration"}
        infinite |= {"invol_ctxsw", "rdtsc_duration", "rssmax", "syscr", "syscw", "systemtime"}
        infinite |= {"time_oncpu", "time_waiting", "timeslices", "usertime", "vol_ctxsw"}
        assert {f for f, ratio in ranked if ratio == float("inf")} == infinite
        finite = [(f, round(r, 12)) for f, r in ranked if r != float("inf") and r > 0]
        assert finite == [
            ("inblock", 0.833267444159),
            ("write_bytes", 0.583228917421),
            ("wchar", 0.575190127176),
            ("read_bytes", 0.49623651139),
            ("minflt", 0.34116062309),
            ("rchar", 0.202177563834),
        ]
        assert df.loc["z_score", "syscw"] == 3.6742
        assert df.loc["z_score", "cancelled_write_bytes"] == 1.7976931348623157e308


# ---------------------------------------------------------------------- bad input


@pytest.mark.usefixtures("kern")
class TestBadInput:
    def test_too_few_jobs_without_a_model(self) -> None:
        with pytest.raises(OutlierError, match="need at least 4"):
            eod.detect_outlier_jobs(REF)

    def test_unknown_model_and_job(self) -> None:
        with pytest.raises(UnknownModelError):
            eod.detect_outlier_jobs(KERN, trained_model=999_999)
        with pytest.raises(UnknownJobError, match="no-such-job"):
            eod.detect_outlier_jobs([*KERN, "no-such-job"])

    def test_model_built_on_other_features(self, models: list[int]) -> None:
        model = _model(models, REF, features=["rssmax"])
        with pytest.raises(OutlierError, match="built on other features"):
            eod.detect_outlier_jobs(KERN, trained_model=model)

    def test_model_of_the_other_kind(self, models: list[int]) -> None:
        with pytest.raises(OutlierError, match="op_tags"):
            eod.detect_outlier_ops(KERN, trained_model=_model(models, REF))
        with pytest.raises(OutlierError, match="detect_outlier_ops"):
            eod.detect_outlier_jobs(KERN, trained_model=_model(models, REF, op_tags="*"))

    def test_disabled_model(self, models: list[int]) -> None:
        model = _model(models, REF, enabled=False)
        with pytest.raises(ModelError, match="disabled"):
            eod.detect_outlier_jobs(KERN, trained_model=model)

    def test_feature_not_numeric(self, caplog: pytest.LogCaptureFixture) -> None:
        with pytest.raises(OutlierError, match="jobname"):
            eod.detect_outlier_jobs(KERN, features=["jobname"])
        # beside a numeric one, skipped with a warning, as EPMT does (tests/
        # test_outliers_epmt.py checks EPMT's answer with features=['start', 'duration'])
        df, _ = eod.detect_outlier_jobs(KERN, features=["jobname", "duration"])
        assert df.columns.tolist() == ["jobid", "duration"]
        assert "Skipping features ['jobname']: not numeric" in caplog.text
        with pytest.raises(OutlierError, match="no numeric feature"):
            eod.detect_outlier_jobs(KERN, features=["no_such"])

    def test_unknown_classifier(self) -> None:
        with pytest.raises(QueryError, match="unknown classifier"):
            eod.detect_outlier_jobs(KERN, methods=["median"])

    def test_bad_pca_and_multivariate_rules(self, models: list[int]) -> None:
        pyod_model = type("KNN", (), {"__module__": "pyod.models.knn"})()
        with pytest.raises(QueryError, match="pca"):
            eod.detect_outlier_jobs(KERN, pca=1.5)  # neither components nor a variance ratio
        with pytest.raises(QueryError, match="require a trained model"):
            eod.detect_outlier_jobs(KERN, methods=[pyod_model])
        with pytest.raises(QueryError, match="together"):
            eod.detect_outlier_ops(KERN, methods=[pyod_model, es.iqr])


# ------------------------------------------------------------ settings, queries, plot


def test_settings_start_as_epmts_defaults() -> None:
    assert settings.outlier_features == ["duration", "cpu_time", "num_procs"]
    assert (
        settings.outlier_thresholds
        == dict(stats.THRESHOLDS)
        == {
            "modified_z_score": 3.5,
            "z_score": 3.0,
        }
    )
    assert settings.univariate_classifiers == ["iqr", "modified_z_score", "z_score"]


@pytest.mark.usefixtures("kern")
def test_settings_are_read_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "outlier_features", ["rssmax"])
    monkeypatch.setattr(settings, "univariate_classifiers", ["z_score"])
    monkeypatch.setitem(settings.outlier_thresholds, "z_score", 0.9)
    df, _ = eod.detect_outlier_jobs(KERN)
    assert list(df.columns) == ["jobid", "rssmax"]
    assert df.rssmax.tolist() == [1, 0, 1, 0]  # EPMT's |z|: 0.9503, 0.3788, 1.4669, 0.8954


def test_queries_do_not_grow_with_jobs(kern: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    read = Graph.read

    def counted(self: Graph, name: str, **params: Any) -> Any:
        calls.append(name)
        return read(self, name, **params)

    monkeypatch.setattr(Graph, "read", counted)
    eod.detect_outlier_ops(KERN, sanity_check=False)
    few = list(calls)
    calls.clear()
    eod.detect_outlier_ops([*KERN, "685000", "685003", "685016"], sanity_check=False)
    assert calls == few and len(few) <= 4, few


@pytest.mark.usefixtures("kern")
def test_scatter_plot_writes_its_file(tmp_path: Path) -> None:
    out = tmp_path / "kern.svg"
    figure = eod.feature_scatter_plot(KERN, features=["cpu_time", "duration"], outfile=str(out))
    assert out.read_text().startswith("<?xml")
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == KERN
    assert (figure.axes[0].get_xlabel(), figure.axes[0].get_ylabel()) == ("cpu_time", "duration")
    # every feature: the jobs on 2 PCA components, pca_01's weight its variance ratio over
    # pca_02's (EPMT: pca_feature_combine(jobs, desired=2) ratios 0.6811 and 0.2458)
    figure = eod.feature_scatter_plot(KERN)
    assert (figure.axes[0].get_xlabel(), figure.axes[0].get_ylabel()) == (
        "pca_01 (weight: 2.8)",
        "pca_02",
    )


@pytest.mark.usefixtures("kern")
def test_like_selects_as_epmts_tests_do() -> None:
    kernel = "exp_name:linux_kernel"
    outlier = eq.Job.jobid.like("%outlier%")
    assert eq.get_jobs(tags=kernel, fltr=~outlier, fmt="terse") == REF  # EPMT: count() == 3
    assert eq.get_jobs(tags=kernel, fltr=outlier, fmt="terse") == [OUTLIER]
    assert eq.get_jobs(KERN, fltr=eq.Job.jobid.like("kern.6656%"), fmt="terse") == []
    assert eq.get_jobs(KERN, fltr=eq.Job.jobid.like("kern-6656-2019061_-1_0245"), fmt="terse") == [
        REF[0]
    ]
    everything = eq.Process.exename.like("%")
    assert len(eq.get_procs(REF[0], fltr=everything, fmt="terse")) == 10600  # EPMT's num_procs
    assert eq.get_procs(REF[0], fltr=~everything, fmt="terse") == []


# ----------------------------------------------------- epmt_stat's names, EPMT's numbers


def test_stat_helpers_match_epmt() -> None:
    np.random.seed(1)
    assert es.check_dist(range(100), "norm") == (1, 2)
    assert es.check_dist(range(100), "uniform") == (1, 0)
    assert es.check_dist(np.linspace(-15, 15, 100), "norm") == (1, 2)
    assert es.check_dist(np.random.randn(100), "norm") == (3, 0)
    assert es.check_dist([1, 2, 3, 4], "norm") == (2, 0)
    assert es.check_dist([0, 0, 0, 0], "norm") == (1, 1)
    x = np.array([[0.0, 10.0], [0.13216, 12.11837], [0.25379, 42.05027], [0.30874, 13.11784]])
    np.testing.assert_almost_equal(
        es.normalize(x),
        [[0.0, 0.0], [0.42806245, 0.06609523], [0.82201853, 1.0], [1.0, 0.09727968]],
    )
    np.testing.assert_almost_equal(
        es.standardize(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 9.0]])),
        [[-1.22474487, -1.01904933], [0.0, -0.33968311], [1.22474487, 1.35873244]],
    )
    assert es.partition_classifiers_uv_mv([es.iqr]) == ({es.iqr}, set())


def test_modes_match_epmt() -> None:
    np.random.seed(1)
    n = 100
    one = np.random.normal(0, 1, n)
    two = np.concatenate((np.random.normal(0, 1, 30), np.random.normal(5, 1, 70)))
    three = np.concatenate(
        (np.random.normal(0, 1, 30), np.random.normal(5, 1, 30), np.random.normal(10, 1, 40))
    )
    assert sorted(es.get_modes(one).round(4)) == [0.0606]
    assert sorted(es.get_modes(two).round(4)) == [0.1374, 5.2322]
    assert sorted(es.get_modes(three).round(4)) == [0.0909, 5.0095, 10.0722]
