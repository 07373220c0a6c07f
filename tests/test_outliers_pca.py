"""PCA and EPMT's multivariate (pyod) classifiers on the four kernel-compile jobs of EPMT's
outlier tests (``kern-6656-*``, from the ``epmt`` 5.0.1 wheel's ``test/data/outliers``,
loaded with ``EPMT_TZ=Asia/Kolkata`` as EPMT's tests load them): ``pca_feature_combine``,
``pca_weighted_score``, ``pca_feature_rank``, ``mvod_*``, reference models built with
``pca=`` or multivariate classifiers, and ``detect_outlier_jobs``/``detect_outlier_ops``
with them. EPMT's tests run with its settings changed (``modified_z_score`` alone, at 2.5):
those tests here do the same (``epmt_test_settings``); the others use the defaults.

The expected values are EPMT's own assertions (``epmt/test/test_outliers.py``), or answers
of EPMT 5.0.1 run in its venv (``~/.cache/epmt_graph/epmt-venv``) on the same four
archives, pasted here with the call that gave them; numbers to 1e-9 relative.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from epmt_answers import close

import epmt_graph.api as eq
import epmt_graph.outliers as eod
from epmt_graph.db import Graph
from epmt_graph.errors import MissingDependencyError, ModelError, OutlierError, QueryError
from epmt_graph.loader import load_job
from epmt_graph.outliers import settings
from epmt_graph.outliers.mvod import (
    mvod_classifiers,
    mvod_model_scores,
    mvod_scores,
    mvod_scores_using_model,
)
from epmt_graph.outliers.pca import (
    _pca_weighted_score,
    pca_feature_combine,
    pca_feature_rank,
    pca_stat,
    pca_weighted_score,
)
from epmt_graph.samples import epmt_wheel

pytest.importorskip("pyod", reason="pyod is optional: pip install epmt-graph[pyod]")

OUTLIER = "kern-6656-20190614-192044-outlier"
#: The four jobs, in EPMT's get_jobs order (by start).
KERN = [
    "kern-6656-20190614-190245",
    "kern-6656-20190614-191138",
    OUTLIER,
    "kern-6656-20190614-194024",
]
#: The three normal jobs (EPMT's tests build their models on them).
MODEL = [KERN[0], KERN[1], KERN[3]]
#: The 29 features of a job frame (sorted), every numeric job column.
FEATURES = [
    "PERF_COUNT_SW_CPU_CLOCK", "cancelled_write_bytes", "cpu_time", "delayacct_blkio_time",
    "duration", "exitcode", "guest_time", "inblock", "invol_ctxsw", "majflt", "minflt",
    "num_procs", "num_threads", "outblock", "processor", "rchar", "rdtsc_duration",
    "read_bytes", "rssmax", "syscr", "syscw", "systemtime", "time_oncpu", "time_waiting",
    "timeslices", "usertime", "vol_ctxsw", "wchar", "write_bytes",
]  # fmt: skip
#: The other columns of a job frame, as pca_feature_combine leaves them (sorted, after jobid
#: and the components).
OTHER_COLUMNS = [
    "all_proc_tags", "analyses", "annotations", "created_at", "end", "env_changes_dict",
    "env_dict", "info_dict", "jobname", "start", "submit", "tags", "updated_at", "user",
]  # fmt: skip
PCA_NAMES = ["pca_01", "pca_02"]
FIVE = ["duration", "cpu_time", "num_procs", "rssmax", "syscr"]

# EPMT: eod.pca_feature_combine(eq.get_jobs(KERN, fmt='pandas'), desired=3) (desired=2 and
# 0.80 give the first two columns, desired=1 the first, desired=0.95 the three)
PCA_VALUES = [
    [-3.077008034496695, 2.799572159720447, 1.1214157751496112],
    [-1.3791088014291464, -3.524688986243402, 0.8405657701644005],
    [6.465729480549759, 0.6147929242074985, 0.07870054920821304],
    [-2.0096126446239193, 0.11032390231545461, -2.040682094522224],
]
PCA_VARIANCES = [0.681120478900228, 0.24584736226553677, 0.07303215883423522]
# EPMT: eod.pca_feature_combine(jobs_df)[3].values (2 x 29, columns FEATURES)
PCA_WEIGHTS = [
    [
        0.26122079985918095, -0.2609838719009552, 0.2611757332809307, 0.0, 0.2617603364038836,
        0.0, 0.0, -0.12087817416756831, 0.26051680864234766, 0.0, 0.04220800103128846, 0.0,
        0.0, 0.0, 0.0, -0.0610223100397036, 0.26118969018896404, -0.07583789319771589,
        0.23919656525886357, -0.2351186108510728, 0.2166108998879456, 0.26208672787318044,
        0.2611866810130821, 0.2618864691839702, 0.2593983526329899, 0.2609598834292182,
        -0.2264679276329128, -0.08133701686478866, -0.08223843249916181,
    ],
    [
        0.06687339718452479, -0.06875169114149828, 0.06719415120948279, 0.0,
        0.06200257070937855, 0.0, 0.0, 0.38393611301790326, 0.0739835800458082, 0.0,
        -0.24815871824254088, 0.0, 0.0, 0.0, 0.0, 0.4091827391242627, 0.0684799819066952,
        0.42151969507987197, -0.1545951213285651, 0.005032224971513411, 0.14843178801485324,
        0.05716252447673683, 0.06705862160663832, 0.05747327880860955, 0.07961636125272191,
        0.06934932873797799, 0.019548866217741774, 0.41830509444927133, 0.41790630704314335,
    ],
]  # fmt: skip
#: EPMT: the rows kern jobs' multivariate models keep (cpu_time, duration, num_procs).
MODEL_ROWS = [
    [449044045.0, 527820255.0, 10600.0],
    [449914707.0, 542680315.0, 10600.0],
    [450359378.0, 565343997.0, 10600.0],
]


@pytest.fixture(scope="module")
def kern(loaded_graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """The shared graph with the four kern jobs loaded (deleted, with their models, after)."""
    folder = tmp_path_factory.mktemp("kern")
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        for jobid in KERN:
            member = f"epmt/test/data/outliers/{jobid}.tgz"
            (folder / f"{jobid}.tgz").write_bytes(wheel.read(member))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EPMT_TZ", "Asia/Kolkata")
        for path in sorted(folder.glob("*.tgz")):
            load_job(Path(path), graph=loaded_graph)
    yield loaded_graph
    eq.delete_jobs(KERN, force=True, remove_models=True)


@pytest.fixture
def jobs_df(kern: Graph) -> pd.DataFrame:
    """``eq.get_jobs(KERN, fmt='pandas')``."""
    frame = eq.get_jobs(KERN, fmt="pandas")
    assert list(frame["jobid"]) == KERN
    return frame


@pytest.fixture
def models(kern: Graph) -> Iterator[list[int]]:
    """Ids of the models a test creates (append them): deleted after it."""
    made: list[int] = []
    yield made
    eq.delete_refmodels(made)


@pytest.mark.parametrize(("desired", "components"), [(2, 2), (0.80, 2), (1, 1), (0.95, 3)])
def test_pca_feature_combine_matches_epmt(
    jobs_df: pd.DataFrame, desired: float, components: int
) -> None:
    out, variances, names, weights = pca_feature_combine(jobs_df, desired=desired)
    expected_names = [f"pca_{i:02d}" for i in range(1, components + 1)]
    assert names == expected_names
    assert list(out.columns) == ["jobid", *expected_names, *OTHER_COLUMNS]
    assert list(out["jobid"]) == KERN
    close(out[names].to_numpy().tolist(), [row[:components] for row in PCA_VALUES])
    close(variances.tolist(), PCA_VARIANCES[:components])
    assert list(weights.columns) == FEATURES
    close(weights.to_numpy()[:2].tolist(), PCA_WEIGHTS[: min(components, 2)])


def test_pca_of_chosen_features_keeps_them_when_asked(jobs_df: pd.DataFrame) -> None:
    out, variances, names, weights = pca_feature_combine(jobs_df, FIVE, retain_features=True)
    # EPMT: eod.pca_feature_combine(jobs_df, inp_features=FIVE, retain_features=True)
    assert list(out.columns) == ["jobid", *names, *sorted(FEATURES + OTHER_COLUMNS)]
    close(
        out[names].to_numpy().tolist(),
        [
            [-1.6449653171441134, 0.08253068412378858],
            [-0.723702467554414, 0.7386661617326085],
            [3.2164944103356095, -0.006372014820773252],
            [-0.8478266256370826, -0.814824831035624],
        ],
    )
    close(variances.tolist(), [0.8933939021881734, 0.07602619500973969])
    close(
        weights.to_numpy().tolist(),
        [
            [0.5201935938576635, 0.5225260170662502, -0.0, 0.4733614456763817,
             -0.48196901160291916],
            [-0.016721073897032424, -0.07156381436683276, -0.0, 0.7576612693830149,
             0.6484970524512179],
        ],
    )  # fmt: skip
    assert list(out["duration"]) == list(jobs_df["duration"])


def test_pca_weighted_score_as_epmt(jobs_df: pd.DataFrame) -> None:
    # EPMT's test_pca: detect_outlier_jobs on the components flags the outlier on pca_01
    # (at its test's threshold 2.5), and _pca_weighted_score weighs that by 0.6811/0.2458
    _, variances, names, _ = pca_feature_combine(jobs_df, desired=0.80)
    flags = pd.DataFrame({"jobid": KERN, "pca_01": [0, 0, 1, 0], "pca_02": [0, 0, 0, 0]})
    weighted_df, weighted = _pca_weighted_score(flags, names, variances)
    assert list(weighted) == [0.0, 0.0, 2.8, 0.0]
    assert weighted_df.shape == (4, 4)
    assert list(weighted_df["pca_weighted"]) == [0.0, 0.0, 2.8, 0.0]
    assert list(weighted_df.columns) == ["jobid", "pca_weighted", "pca_01", "pca_02"]
    assert _pca_weighted_score is pca_weighted_score
    # EPMT's docstring: variances (0.75, 0.25) scale pca_01 by 3 and pca_02 by 1
    notes = pd.DataFrame({"jobid": list("xyz"), "pca_01": [1, 0, 0], "pca_02": [0, 1, 0]})
    assert pca_weighted_score(notes, ["pca_01", "pca_02"], [0.75, 0.25])[1].tolist() == [3, 1, 0]


def test_pca_feature_rank_matches_epmt_test(kern: Graph, jobs_df: pd.DataFrame) -> None:
    # EPMT's test_pca_feature_rank, its assertions as they are
    features_df = pca_feature_combine(jobs_df)[3]
    assert features_df.shape == (2, 29)
    first = dict(zip(features_df.columns, features_df.abs().iloc[0].round(4), strict=True))
    assert first == {
        "duration": 0.2618, "time_oncpu": 0.2612, "outblock": 0.0, "systemtime": 0.2621,
        "syscr": 0.2351, "cancelled_write_bytes": 0.261, "syscw": 0.2166, "rssmax": 0.2392,
        "processor": 0.0, "exitcode": 0.0, "wchar": 0.0813, "time_waiting": 0.2619,
        "majflt": 0.0, "cpu_time": 0.2612, "num_procs": 0.0, "rdtsc_duration": 0.2612,
        "invol_ctxsw": 0.2605, "inblock": 0.1209, "PERF_COUNT_SW_CPU_CLOCK": 0.2612,
        "minflt": 0.0422, "guest_time": 0.0, "num_threads": 0.0, "vol_ctxsw": 0.2265,
        "usertime": 0.261, "write_bytes": 0.0822, "timeslices": 0.2594, "rchar": 0.061,
        "delayacct_blkio_time": 0.0, "read_bytes": 0.0758,
    }  # fmt: skip
    df, sorted_features = pca_feature_rank(jobs_df)
    assert df.shape == (3, 29)
    assert list(df.columns) == [
        "rssmax", "timeslices", "invol_ctxsw", "usertime", "rdtsc_duration",
        "cancelled_write_bytes", "cpu_time", "time_oncpu", "PERF_COUNT_SW_CPU_CLOCK",
        "duration", "systemtime", "time_waiting", "syscw", "inblock", "syscr", "vol_ctxsw",
        "write_bytes", "wchar", "read_bytes", "rchar", "minflt", "delayacct_blkio_time",
        "exitcode", "guest_time", "majflt", "num_procs", "num_threads", "outblock",
        "processor",
    ]  # fmt: skip
    assert list(df.iloc[0]) == [
        0.2392, 0.2594, 0.2605, 0.261, 0.2612, -0.261, 0.2612, 0.2612, 0.2612, 0.2618, 0.2621,
        0.2619, 0.2166, -0.1209, -0.2351, -0.2265, -0.0822, -0.0813, -0.0758, -0.061, 0.0422,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ]  # fmt: skip
    assert list(df.iloc[1]) == [
        -0.1546, 0.0796, 0.074, 0.0693, 0.0685, -0.0688, 0.0672, 0.0671, 0.0669, 0.062,
        0.0572, 0.0575, 0.1484, 0.3839, 0.005, 0.0195, 0.4179, 0.4183, 0.4215, 0.4092,
        -0.2482, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ]  # fmt: skip
    assert sorted_features == [
        ("rssmax", 0.2168), ("timeslices", 0.2117), ("invol_ctxsw", 0.211),
        ("usertime", 0.2101), ("rdtsc_duration", 0.2101), ("cancelled_write_bytes", 0.21),
        ("cpu_time", 0.2097), ("time_oncpu", 0.2097), ("PERF_COUNT_SW_CPU_CLOCK", 0.2097),
        ("duration", 0.2088), ("systemtime", 0.2077), ("time_waiting", 0.2077),
        ("syscw", 0.1985), ("inblock", 0.1906), ("syscr", 0.1741), ("vol_ctxsw", 0.1716),
        ("write_bytes", 0.1713), ("wchar", 0.1707), ("read_bytes", 0.1675), ("rchar", 0.1534),
        ("minflt", 0.0968), ("delayacct_blkio_time", 0.0), ("exitcode", 0.0),
        ("guest_time", 0.0), ("majflt", 0.0), ("num_procs", 0.0), ("num_threads", 0.0),
        ("outblock", 0.0), ("processor", 0.0),
    ]  # fmt: skip
    assert list(df.iloc[-1]) == [score for _, score in sorted_features]
    # EPMT: eod.pca_feature_rank(KERN, inp_features=FIVE), from the job ids
    df, sorted_features = pca_feature_rank(KERN, FIVE)
    assert df.to_numpy().tolist() == [
        [0.4734, -0.482, 0.5225, 0.5202, -0.0],
        [0.7577, 0.6485, -0.0716, -0.0167, -0.0],
        [0.4957, 0.495, 0.4872, 0.4807, 0.0],
    ]
    assert sorted_features == [
        ("rssmax", 0.4957), ("syscr", 0.495), ("duration", 0.4872), ("cpu_time", 0.4807),
        ("num_procs", 0.0),
    ]  # fmt: skip


def test_pca_refuses_bad_input(jobs_df: pd.DataFrame) -> None:
    with pytest.raises(QueryError, match="DataFrame"):
        pca_feature_combine(jobs_df.to_dict("records"))  # type: ignore[arg-type]
    holed = jobs_df.assign(annotations=[None, {}, {}, {}])
    with pytest.raises(QueryError, match=r"nans in columns: \['annotations'\]"):
        pca_feature_combine(holed)
    with pytest.raises(QueryError, match="at least 2 features"):
        pca_feature_combine(jobs_df, ["duration"])
    with pytest.raises(QueryError, match="n_components=5"):
        pca_feature_combine(jobs_df, desired=5)  # 4 jobs
    with pytest.raises(QueryError, match="nan"):
        pca_stat(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_create_refmodel_with_pca_stores_what_epmt_stores(kern: Graph, models: list[int]) -> None:
    model = eq.create_refmodel(MODEL, features=[], pca=True, fmt="orm", sanity_check=False)
    models.append(model.id)
    # EPMT's test_pca_trained_model
    assert sorted(j.jobid for j in model.jobs) == sorted(MODEL)
    assert model.info_dict == {"pca": {"inp_features": FEATURES, "out_features": PCA_NAMES}}
    assert list(model.computed["modified_z_score"]) == ["pca_01", "pca_02"]
    # EPMT: eq.create_refmodel(MODEL, features=[], pca=True)['computed']
    close(
        model.computed,
        {
            "iqr": {"pca_01": [0, -1.8064, 0.2703], "pca_02": [0, -0.404, 1.2152]},
            "modified_z_score": {
                "pca_01": [2.3553, 1.5361, 1.8492],
                "pca_02": [1.4865, -0.8112, 2.0215],
            },
            "z_score": {"pca_01": [1.3821, -0.0, 3.5609], "pca_02": [1.3468, -0.0, 2.7056]},
        },
    )
    assert eq.refmodel_get_metrics(model.id) == {*FEATURES, "pca_01", "pca_02"}
    # EPMT: eq.create_refmodel(MODEL, features=[], pca=2, methods=[modified_z_score, z_score])
    two = eq.create_refmodel(
        MODEL, features=[], pca=2, methods=["modified_z_score", "z_score"], sanity_check=False
    )
    models.append(two["id"])
    assert two["computed"] == {k: model.computed[k] for k in ("modified_z_score", "z_score")}
    assert two["info_dict"] == model.info_dict


def test_create_refmodel_with_pca_over_operations(kern: Graph, models: list[int]) -> None:
    model = eq.create_refmodel(
        MODEL, op_tags="*", features=[], pca=True, fmt="orm", sanity_check=False
    )
    models.append(model.id)
    # EPMT's test_pca_trained_model_ops: the features are the jobs' (exitcode and
    # num_threads too), though the operations' PCA can use only those they have
    assert model.info_dict["pca"] == {"inp_features": FEATURES, "out_features": PCA_NAMES}
    madz = {tag: per["modified_z_score"] for tag, per in model.computed.items()}
    close(
        madz,
        {
            '{"op": "build", "op_instance": "4", "op_sequence": "4"}':
                {"pca_01": (1.5029, 8.0231, 0.0884), "pca_02": (4.8231, -0.2834, 0.0237)},
            '{"op": "clean", "op_instance": "5", "op_sequence": "5"}':
                {"pca_01": (2.1959, -2.4257, 0.0036), "pca_02": (1.6775, -2.1972, 0.0033)},
            '{"op": "configure", "op_instance": "3", "op_sequence": "3"}':
                {"pca_01": (1.355, -1.6145, 0.0304), "pca_02": (1.1647, -1.5633, 0.0194)},
            '{"op": "download", "op_instance": "1", "op_sequence": "1"}':
                {"pca_01": (2.2482, -2.4305, 0.0005), "pca_02": (0.9081, -0.9759, 0.0013)},
            '{"op": "extract", "op_instance": "2", "op_sequence": "2"}':
                {"pca_01": (1.7217, -1.5568, 0.1045), "pca_02": (0.7617, 5.0688, 0.0796)},
        },
    )  # fmt: skip
    # EPMT: eq.create_refmodel(MODEL, features=[], pca=True, op_tags='*')['computed'], the
    # other two classifiers of one operation
    close(
        model.computed['{"op": "extract", "op_instance": "2", "op_sequence": "2"}'],
        {
            "iqr": {"pca_01": [0, -1.5221, -1.4293], "pca_02": [0, 5.0424, 5.0848]},
            "modified_z_score": {
                "pca_01": [1.7217, -1.5568, 0.1045],
                "pca_02": [0.7617, 5.0688, 0.0796],
            },
            "z_score": {"pca_01": [1.3606, -1.5027, 0.1563], "pca_02": [1.2502, 5.0654, 0.0692]},
        },
    )


def test_create_refmodel_with_multivariate_classifiers(kern: Graph, models: list[int]) -> None:
    model = eq.create_refmodel(MODEL, methods=mvod_classifiers(), sanity_check=False)
    models.append(model["id"])
    # EPMT: eq.create_refmodel(MODEL, methods=mvod_classifiers())['computed']: ABOD, KNN and
    # pyod's PCA cannot score 3 jobs and are left out
    close(
        model["computed"],
        {
            "pyod.models.mcd": {"cpu_time,duration,num_procs": [1.8545, MODEL_ROWS]},
            "pyod.models.cof": {"cpu_time,duration,num_procs": [1.1484, MODEL_ROWS]},
            "pyod.models.hbos": {"cpu_time,duration,num_procs": [9.9657, MODEL_ROWS]},
            "pyod.models.ocsvm": {"cpu_time,duration,num_procs": [-0.0, MODEL_ROWS]},
        },
    )
    assert model["info_dict"] == {}
    assert eq.refmodel_get_metrics(model["id"]) == {"cpu_time", "duration", "num_procs"}


def test_ops_refmodel_mvod_as_epmt_test(kern: Graph, models: list[int]) -> None:
    # EPMT's test_ops_refmodel_mvod, its assertions as they are (it leaves out MCD, whose
    # scores vary with the Python version; EPMT 5.0.1 on Python 3.11 gives 1.8545 for both)
    model = eq.create_refmodel(
        MODEL,
        op_tags=[{"op": "build"}, {"op": "configure"}],
        features=["cpu_time", "num_procs", "duration"],
        methods=mvod_classifiers(),
        fmt="orm",
        sanity_check=False,
    )
    models.append(model.id)
    assert model.op_tags == [{"op": "build"}, {"op": "configure"}]
    assert {j.jobid for j in model.jobs} == set(MODEL)
    assert set(model.computed) == {'{"op": "configure"}', '{"op": "build"}'}
    rows = {
        "build": [
            [380807266.0, 2158730624.0, 9549.0],
            [381619141.0, 2203839312.0, 9549.0],
            [381227732.0, 2253935203.0, 9549.0],
        ],
        "configure": [
            [20735346.0, 249388754.0, 1044.0],
            [20476970.0, 203959083.0, 1044.0],
            [20718776.0, 236011451.0, 1044.0],
        ],
    }
    scores = {
        "build": {"pyod.models.cof": 1.0355, "pyod.models.hbos": 9.9657, "pyod.models.ocsvm": -0.0},
        "configure": {
            "pyod.models.cof": 1.3176, "pyod.models.hbos": 9.9656, "pyod.models.ocsvm": -0.0,
        },
    }  # fmt: skip
    for op in ("build", "configure"):
        kept = model.computed[f'{{"op": "{op}"}}']
        assert kept["pyod.models.mcd"]["cpu_time,duration,num_procs"][0] == 1.8545
        assert {k: v for k, v in kept.items() if k != "pyod.models.mcd"} == {
            name: {"cpu_time,duration,num_procs": [score, rows[op]]}
            for name, score in scores[op].items()
        }


def test_mvod_scores_match_epmt() -> None:
    data = [
        [1.0, 2.0, 3.0],
        [1.5, 2.5, 2.9],
        [0.9, 2.1, 3.3],
        [1.2, 1.8, 3.1],
        [1.1, 2.2, 2.8],
        [9.0, 0.5, 7.0],
    ]
    answer = mvod_scores(np.array(data))
    assert answer is not False
    scores, highest = answer
    # EPMT: es.mvod_scores(np.array(data)), every default classifier
    close(
        {name: values.tolist() for name, values in scores.items()},
        {
            "pyod.models.abod": [-9.0285, -0.1586, -2.4867, -3.4716, -10.7801, -0.0],
            "pyod.models.knn": [0.7141, 0.8246, 0.8246, 0.7874, 0.5477, 9.0692],
            "pyod.models.mcd": [0.8032, 3.603, 3.507, 3.463, 2.5322, 4313.7853],
            "pyod.models.cof": [0.6462, 0.6787, 0.6496, 0.6479, 0.6673, 3.5996],
            "pyod.models.hbos": [-0.83, -0.83, 0.9339, -0.83, -1.7505, 2.8182],
            "pyod.models.pca": [523.5543, 641.5579, 449.6846, 514.4568, 591.3919, 1635.7042],
            "pyod.models.ocsvm": [-0.0369, -0.0001, 0.0002, -0.0001, -0.041, 0.785],
        },
    )
    assert highest == {name: max(values) for name, values in scores.items()}
    from pyod.models.cof import COF
    from pyod.models.hbos import HBOS

    rows, model = np.array(data[3:]), np.array(data[:3])
    # EPMT: es.mvod_scores_using_model(rows, model, HBOS(), 9.9) and (..., COF(), 1.0)
    assert mvod_scores_using_model(rows, model, HBOS(), 9.9).tolist() == [0, 0, 0]
    assert mvod_scores_using_model(rows, model, COF(), 1.0).tolist() == [0, 1, 1]
    # EPMT's mvod_scores_using_model fails without a threshold (math.isclose(x, None)); its
    # documented answer, each row's score appended to the model's rows, from EPMT's
    # es.mvod_scores(np.append(model, [row], axis=0), [clf]) row by row
    assert mvod_scores_using_model(rows, model, HBOS()).tolist() == [-1.2212, -1.1217, 1.3527]
    assert mvod_scores_using_model(rows, model, COF()).tolist() == [0.8919, 1.0173, 2.4994]


def test_a_model_no_classifier_can_score_is_refused(kern: Graph) -> None:
    from pyod.models.knn import KNN

    before = eq.get_refmodels(fmt="terse")
    with pytest.raises(ModelError, match=r"pyod\.models\.knn"):
        eq.create_refmodel(MODEL, methods=[KNN()], sanity_check=False)  # needs 6 jobs
    assert eq.get_refmodels(fmt="terse") == before
    assert mvod_model_scores(eq.get_jobs(MODEL, fmt="pandas"), [KNN()], ["duration"]) == {}


def test_without_pyod_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "pyod" or m.startswith("pyod.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyod", None)  # import pyod now raises ImportError
    for call in (mvod_classifiers, lambda: mvod_scores([[1.0, 2.0]]), lambda: mvod_scores()):
        with pytest.raises(MissingDependencyError, match=r"pip install epmt-graph\[pyod\]"):
            call()
    assert issubclass(MissingDependencyError, ImportError)


def test_classifiers_are_told_apart() -> None:
    from epmt_graph.api.stats import (
        classifier_name,
        is_classifier_mv,
        partition_classifiers,
        z_score,
    )

    cof, hbos = mvod_classifiers()[3:5]
    assert [is_classifier_mv(c) for c in (cof, "iqr", z_score, type(cof))] == [
        True,
        False,
        False,
        False,
    ]
    assert classifier_name(cof) == "pyod.models.cof"
    assert partition_classifiers(["iqr", cof, hbos, "iqr"]) == (["iqr"], [cof, hbos])
    with pytest.raises(QueryError, match="unknown classifier"):
        partition_classifiers([object()])


def test_refused_models_write_nothing(kern: Graph) -> None:
    before = eq.get_refmodels(fmt="terse")
    with pytest.raises(QueryError, match="n_components"):
        eq.create_refmodel(MODEL, features=[], pca=5, sanity_check=False)  # 3 jobs
    with pytest.raises(QueryError, match="pca"):
        eq.create_refmodel(MODEL, pca="many")
    assert eq.get_refmodels(fmt="terse") == before


@pytest.fixture
def epmt_test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings EPMT's test_outliers.py sets up: ``modified_z_score`` alone, its
    threshold 2.5 (and ``z_score``'s 1.5)."""
    monkeypatch.setattr(settings, "univariate_classifiers", ["modified_z_score"])
    monkeypatch.setattr(settings, "outlier_thresholds", {"modified_z_score": 2.5, "z_score": 1.5})


def _parts(parts: dict[str, Any]) -> dict[str, list[list[str]]]:
    return {k: [sorted(v[0]), sorted(v[1])] for k, v in parts.items()}


def test_detect_outlier_jobs_with_pca_as_epmt_test(
    jobs_df: pd.DataFrame, epmt_test_settings: None
) -> None:
    # EPMT's test_pca, its assertions as they are
    df_pca, variances, names, _ = eod.pca_feature_combine(jobs_df, desired=0.80)
    df_outl, _ = eod.detect_outlier_jobs(df_pca, features=names, sanity_check=False)
    df_outl = df_outl.sort_values("jobid")
    assert df_outl.shape == (4, 3)
    assert list(df_outl["jobid"]) == KERN
    assert list(df_outl["pca_01"]) == [0, 0, 1, 0]
    assert list(df_outl["pca_02"]) == [0, 0, 0, 0]
    weighted = eod._pca_weighted_score(df_outl, names, variances)[1]
    assert list(weighted) == [0.0, 0.0, 2.8, 0.0]
    df, variances, names, _ = eod.pca_feature_combine(jobs_df, desired=1)
    outl, _ = eod.detect_outlier_jobs(df, features=names, sanity_check=False)
    assert outl.shape == (4, 2)
    assert list(outl.sort_values("jobid")["pca_01"]) == [0, 0, 1, 0]
    outl, _ = eod.detect_outlier_jobs(jobs_df, features=[], pca=True, sanity_check=False)
    outl = outl.sort_values("jobid")
    assert outl.shape == (4, 4)
    assert list(outl["jobid"]) == KERN
    assert list(outl["pca_weighted"]) == [0.0, 0.0, 2.8, 0.0]
    assert list(outl["pca_01"]) == [0, 0, 1, 0]
    assert list(outl["pca_02"]) == [0, 0, 0, 0]


def test_detect_outlier_jobs_with_pca_and_default_settings(kern: Graph) -> None:
    # EPMT: eod.detect_outlier_jobs(KERN, features=[], pca=True) (and pca=2, the same
    # two components): iqr and modified_z_score flag the outlier on pca_01
    for pca in (True, 2):
        df, parts = eod.detect_outlier_jobs(KERN, features=[], pca=pca, sanity_check=False)
        assert list(df.columns) == ["jobid", "pca_weighted", *PCA_NAMES]
        assert df.values.tolist() == [
            [KERN[0], 0.0, 0, 0],
            [KERN[1], 0.0, 0, 0],
            [OUTLIER, 5.5, 2, 0],
            [KERN[3], 0.0, 0, 0],
        ]
        assert _parts(parts) == {"pca_01": [MODEL, [OUTLIER]], "pca_02": [KERN, []]}


def test_detect_outlier_ops_with_pca_as_epmt_test(kern: Graph, epmt_test_settings: None) -> None:
    # EPMT's test_pca_ops, its assertions as they are
    out_df = eod.detect_outlier_ops(KERN, features=[], pca=True, sanity_check=False)
    assert out_df.shape == (20, 5)
    flagged = out_df[out_df.pca_weighted > 0]
    assert flagged.shape == (5, 5)
    assert set(flagged.jobid) == {OUTLIER}
    assert list(flagged.pca_weighted) == [3.8, 3.8, 3.8, 3.8, 3.8]
    assert list(flagged.index) == [2, 6, 10, 14, 18]


def test_detect_outlier_ops_with_pca_and_default_settings(kern: Graph) -> None:
    # EPMT: eod.detect_outlier_ops(KERN, features=[], pca=True): with its default settings
    # the outlier's rows score 2 on both components (7.6), in the operations' order
    out_df = eod.detect_outlier_ops(KERN, features=[], pca=True, sanity_check=False)
    assert list(out_df.columns) == ["jobid", "tags", "pca_weighted", *PCA_NAMES]
    ops = ["build", "clean", "configure", "download", "extract"]
    assert [(r.jobid, r.tags["op"]) for r in out_df.itertuples()] == [
        (jobid, op) for op in ops for jobid in KERN
    ]
    flagged = out_df[out_df.pca_weighted > 0]
    assert flagged[["pca_weighted", *PCA_NAMES]].values.tolist() == [[7.6, 2, 2]] * 5
    assert list(flagged.index) == [2, 6, 10, 14, 18]


def test_detect_outlier_jobs_with_a_pca_model(
    kern: Graph, models: list[int], epmt_test_settings: None
) -> None:
    # EPMT's test_pca_trained_model (detection part), its assertions as they are: the
    # model's third job is added to fit the components, and left out of the counts
    model = eq.create_refmodel(MODEL, features=[], pca=True, fmt="orm", sanity_check=False)
    models.append(model.id)
    assert list(model.computed) == ["modified_z_score"]
    given = KERN[:3]
    df, parts = eod.detect_outlier_jobs(
        given, trained_model=model.id, features=[], pca=True, sanity_check=False
    )
    assert df.shape == (3, 4)
    assert list(df.columns) == ["jobid", "pca_weighted", "pca_01", "pca_02"]
    assert set(df.jobid) == set(given)
    assert list(df[df.jobid == OUTLIER].iloc[0].values) == [OUTLIER, 2.8, 1, 0]
    assert df[df.jobid != OUTLIER]["pca_weighted"].sum() == 0.0
    # EPMT: the partitions still have the added job (194024)
    assert _parts(parts) == {"pca_01": [MODEL, [OUTLIER]], "pca_02": [KERN, []]}
    # a model built with PCA turns it on (EPMT warns and does the same)
    again, _ = eod.detect_outlier_jobs(
        given, trained_model=model.id, features=[], sanity_check=False
    )
    assert again.equals(df)


def test_pca_models_with_default_settings(kern: Graph, models: list[int]) -> None:
    model = eq.create_refmodel(MODEL, features=[], pca=True, sanity_check=False)
    models.append(model["id"])
    # EPMT: eod.detect_outlier_jobs(KERN[:3], trained_model=<that model>, features=[],
    # pca=True): all three classifiers flag the outlier on pca_01
    df, _ = eod.detect_outlier_jobs(
        KERN[:3], trained_model=model["id"], features=[], pca=True, sanity_check=False
    )
    assert df.values.tolist() == [[KERN[0], 0.0, 0, 0], [KERN[1], 0.0, 0, 0], [OUTLIER, 8.3, 3, 0]]
    ops_model = eq.create_refmodel(MODEL, op_tags="*", features=[], pca=True, sanity_check=False)
    models.append(ops_model["id"])
    # EPMT: eod.detect_outlier_ops([KERN[0], OUTLIER], trained_model=<ops model>,
    # features=[], pca=True)
    out = eod.detect_outlier_ops(
        [KERN[0], OUTLIER], trained_model=ops_model["id"], features=[], pca=True,
        sanity_check=False,
    )  # fmt: skip
    assert list(out.index) == list(range(10))
    rows = [[r.jobid, r.tags["op"], r.pca_weighted, r.pca_01, r.pca_02] for r in out.itertuples()]
    assert rows == [
        [jobid, op, *([10.9, 3, 3] if jobid == OUTLIER else [0.0, 0, 0])]
        for op in ("build", "clean", "configure", "download", "extract")
        for jobid in (KERN[0], OUTLIER)
    ]


def test_detect_outlier_ops_with_a_pca_model_as_epmt_test(
    kern: Graph, models: list[int], epmt_test_settings: None
) -> None:
    # EPMT's test_pca_trained_model_ops (detection part), its assertions as they are
    model = eq.create_refmodel(
        MODEL, op_tags="*", features=[], pca=True, fmt="orm", sanity_check=False
    )
    models.append(model.id)
    df = eod.detect_outlier_ops(
        [KERN[0], OUTLIER], trained_model=model.id, features=[], pca=True, sanity_check=False
    )
    assert df.shape == (10, 5)
    assert set(df.jobid) == {KERN[0], OUTLIER}
    assert df[df.jobid == KERN[0]]["pca_weighted"].sum() == 0.0
    assert list(df[df.jobid == OUTLIER]["pca_weighted"]) == [3.6, 3.6, 3.6, 3.6, 3.6]


def test_detect_outlier_jobs_with_multivariate_classifiers(kern: Graph, models: list[int]) -> None:
    # EPMT's test_outlier_jobs_trained_mvod, its assertions as they are
    model = eq.create_refmodel(MODEL, methods=mvod_classifiers(), fmt="orm", sanity_check=False)
    models.append(model.id)
    df, vectors = eod.detect_outlier_jobs(
        KERN, trained_model=model.id, methods=mvod_classifiers(), sanity_check=False
    )
    assert df.name.endswith(" (cpu_time,duration,num_procs)")  # EPMT's attribute
    df = df.sort_values(by=["jobid"])
    outliers = list(df["outlier"].values)
    assert outliers[0:2] + outliers[3:] == [0, 0, 0]
    assert outliers[2] >= 2
    # EPMT (Python 3.11, its MCD scores too): 3, and per classifier of the model
    assert outliers[2] == 3
    assert list(df.columns) == ["jobid", "outlier"]
    assert vectors == {
        "pyod.models.mcd": [0, 0, 1, 0],
        "pyod.models.cof": [0, 0, 1, 0],
        "pyod.models.hbos": [0, 0, 1, 0],
        "pyod.models.ocsvm": [0, 0, 0, 0],
    }
    # one classifier: the frame alone (EPMT's answer)
    from pyod.models.cof import COF

    alone = eod.detect_outlier_jobs(KERN, trained_model=model.id, methods=[COF()])
    assert isinstance(alone, pd.DataFrame)
    assert list(alone["outlier"]) == [0, 0, 1, 0]


def test_detect_outlier_ops_with_multivariate_classifiers(kern: Graph, models: list[int]) -> None:
    # EPMT's test_outlier_ops_trained_mvod, its assertions as they are (it leaves MCD out;
    # EPMT 5.0.1 on Python 3.11 flags the outlier with it too: 3 a row)
    model = eq.create_refmodel(
        MODEL, op_tags="*", methods=mvod_classifiers(), fmt="orm", sanity_check=False
    )
    models.append(model.id)
    assert {j.jobid for j in model.jobs} == set(MODEL)
    df, part = eod.detect_outlier_ops(
        KERN, methods=mvod_classifiers(), trained_model=model.id, sanity_check=False
    )
    assert df.shape == (20, 3)
    outliers = df[df.outlier > 0]
    assert outliers.shape == (5, 3)
    assert set(outliers.jobid.values) == {OUTLIER}
    assert all(v >= 2 for v in outliers.outlier.values)
    assert list(outliers.outlier) == [3] * 5
    assert {json.dumps(x) for x in outliers.tags.values} == {
        '{"op": "build", "op_instance": "4", "op_sequence": "4"}',
        '{"op": "clean", "op_instance": "5", "op_sequence": "5"}',
        '{"op": "configure", "op_instance": "3", "op_sequence": "3"}',
        '{"op": "download", "op_instance": "1", "op_sequence": "1"}',
        '{"op": "extract", "op_instance": "2", "op_sequence": "2"}',
    }
    expected = {
        "pyod.models.cof": [0, 0, 1, 0],
        "pyod.models.hbos": [0, 0, 1, 0],
        "pyod.models.ocsvm": [0, 0, 0, 0],
        "pyod.models.mcd": [0, 0, 1, 0],
    }
    assert part == {tag: expected for tag in outliers.tags.map(json.dumps)}


def test_multivariate_detection_refuses_what_epmt_refuses(kern: Graph, models: list[int]) -> None:
    cof = mvod_classifiers()[3]
    with pytest.raises(QueryError, match="require a trained model"):
        eod.detect_outlier_jobs(KERN, methods=[cof], sanity_check=False)
    model = eq.create_refmodel(MODEL, methods=[cof], sanity_check=False)
    models.append(model["id"])
    with pytest.raises(QueryError, match="PCA"):
        eod.detect_outlier_jobs(KERN, trained_model=model["id"], methods=[cof], pca=True)
    with pytest.raises(QueryError, match="UV and MV"):
        eod.detect_outlier_jobs(KERN, trained_model=model["id"], methods=[cof, "z_score"])
    with pytest.raises(OutlierError, match="other features"):
        eod.detect_outlier_jobs(KERN, trained_model=model["id"], methods=[cof], features=["rssmax"])
    with pytest.raises(OutlierError, match=r"pyod\.models\.hbos"):
        eod.detect_outlier_jobs(KERN, trained_model=model["id"], methods=mvod_classifiers()[4:5])
    with pytest.raises(QueryError, match="pca"):
        eod.detect_outlier_jobs(KERN, features=[], pca=1.5, sanity_check=False)
