"""EPMT 5.0.1's multivariate outlier classifiers (``epmt_stat``'s ``mvod_*``), on pyod.

pyod is optional: ``pip install epmt-graph[pyod]``; without it these functions raise
:class:`~epmt_graph.errors.MissingDependencyError` (also an ``ImportError``). A classifier is
a pyod object (``COF()``, ``HBOS()``, ...), named by its module as EPMT names it
(``pyod.models.cof``); its anomaly scores are rounded to 4 places, higher meaning more of
an outlier. A classifier that cannot score the data (too few rows for ``KNN``'s neighbours,
NaN or infinite scores) is skipped with a warning, as EPMT skips it.

``warnopts`` (a :mod:`warnings` action: ``'ignore'``, ``'default'``, ...) applies to the
warnings of the call only, where EPMT sets it for the whole process.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from epmt_graph.api.stats import classifier_name, is_classifier_mv
from epmt_graph.errors import MissingDependencyError, QueryError

__all__ = [
    "CONTAMINATION",
    "PYOD_EXTRA",
    "is_classifier_mv",
    "mvod_classifiers",
    "mvod_model_scores",
    "mvod_scores",
    "mvod_scores_using_model",
]

_log = logging.getLogger(__name__)

#: The share of outliers the classifiers assume; it sets only their ``predict`` cut, never
#: the scores (EPMT's 0.1).
CONTAMINATION = 0.1
#: What installs pyod.
PYOD_EXTRA = "pip install epmt-graph[pyod]"
#: Random data for ``mvod_scores()`` without ``X``: rows and features (EPMT's).
_RANDOM_SHAPE = (100, 16)

_Scores = dict[str, npt.NDArray[np.float64]]


def _pyod_models() -> Any:
    """``pyod.models``, or a clear error naming the extra that installs it."""
    try:
        import pyod.models
    except ImportError as exc:
        raise MissingDependencyError(
            f"EPMT's multivariate classifiers need pyod: {PYOD_EXTRA}"
        ) from exc
    return pyod.models


@contextmanager
def _warnings(warnopts: Any) -> Iterator[None]:
    """``warnopts`` for the warnings raised inside (none: as they are)."""
    with warnings.catch_warnings():
        if warnopts:
            warnings.simplefilter(warnopts)
        yield


def mvod_classifiers(contamination: float = CONTAMINATION, warnopts: Any = "ignore") -> list[Any]:
    """EPMT's multivariate classifiers: pyod's ``ABOD``, ``KNN``, ``MCD``, ``COF``, ``HBOS``,
    ``PCA`` and ``OCSVM``, new objects, in that order.

    Raises
    ------
    MissingDependencyError
        If pyod is not installed.

    Examples
    --------
    >>> [classifier_name(c) for c in mvod_classifiers()]  # doctest: +NORMALIZE_WHITESPACE
    ['pyod.models.abod', 'pyod.models.knn', 'pyod.models.mcd', 'pyod.models.cof',
     'pyod.models.hbos', 'pyod.models.pca', 'pyod.models.ocsvm']
    """
    _pyod_models()
    with _warnings(warnopts):
        from pyod.models.abod import ABOD
        from pyod.models.cof import COF
        from pyod.models.hbos import HBOS
        from pyod.models.knn import KNN
        from pyod.models.mcd import MCD
        from pyod.models.ocsvm import OCSVM
        from pyod.models.pca import PCA

        kinds = (ABOD, KNN, MCD, COF, HBOS, PCA, OCSVM)
        return [kind(contamination=contamination) for kind in kinds]


def _random_data() -> npt.NDArray[np.float64]:
    """EPMT's random input: pyod's ``generate_data``, drawn again while its outliers are 0."""
    from pyod.utils.data import generate_data

    rows, features = _RANDOM_SHAPE
    tail = int(rows * CONTAMINATION)
    while True:
        data = generate_data(
            n_train=rows, train_only=True, n_features=features, contamination=CONTAMINATION
        )[0]
        if data[-tail:-1].sum() != 0.0:
            return np.asarray(data, dtype=float)


def _score(clf: Any, data: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """One classifier's scores of ``data`` to 4 places, or None (with a warning) if it
    cannot score it."""
    name = classifier_name(clf)
    try:
        clf.fit(data)
        scores = np.asarray(clf.decision_function(data), dtype=float).round(4)
    except Exception as exc:  # pyod's classifiers fail in many ways; EPMT skips them alike
        _log.warning("Could not score using classifier %s: %s", name, exc)
        return None
    if not np.isfinite(scores).all():
        _log.warning("Could not score using classifier %s: got NaN or Inf", name)
        return None
    return scores


def mvod_scores(
    X: Any = None, classifiers: Any = None, warnopts: Any = "ignore"
) -> tuple[_Scores, dict[str, float]] | Literal[False]:
    """EPMT's ``mvod_scores``: each classifier's anomaly score of each row of ``X``.

    Parameters
    ----------
    X : 2-D array, optional
        One row per job (or operation), one column per feature; without it, random data
        (100 rows of 16 features, 10% outliers), as EPMT.
    classifiers : list of pyod classifier objects, optional
        Default: :func:`mvod_classifiers`.
    warnopts : str
        A :mod:`warnings` action for the call's warnings.

    Returns
    -------
    (dict, dict) or False
        By classifier name, the scores (an array as long as ``X``) and their maximum; False
        if no classifier could score ``X`` (EPMT's answer).

    Raises
    ------
    MissingDependencyError
        If pyod is not installed.
    QueryError
        For a classifier that is not a pyod object, or ``X`` not 2-D.

    Examples
    --------
    >>> from pyod.models.hbos import HBOS
    >>> X = [[1.0, 2.0], [1.2, 2.1], [0.9, 1.9], [1.1, 2.2], [8.0, 9.0]]
    >>> scores, highest = mvod_scores(X, [HBOS()])
    >>> scores["pyod.models.hbos"].tolist(), highest
    ([-0.5897, -0.5897, -0.5897, -0.5897, 2.7791], {'pyod.models.hbos': 2.7791})
    """
    _pyod_models()
    with _warnings(warnopts):
        chosen = list(classifiers) if classifiers else mvod_classifiers(CONTAMINATION, warnopts)
        wrong = [c for c in chosen if not is_classifier_mv(c)]
        if wrong:
            raise QueryError(f"not multivariate (pyod) classifiers: {wrong}")
        if X is None:
            _log.warning("No input data for MVOD: random data will be used")
            data = _random_data()
        else:
            data = np.asarray(X, dtype=float)
        if data.ndim != 2:
            raise QueryError(f"multivariate scoring needs a 2-D array, got shape {data.shape}")
        _log.debug("mvod: input length %s, dimensions %s", *data.shape)
        scores: _Scores = {}
        for clf in chosen:
            found = _score(clf, data)
            if found is not None:
                scores[classifier_name(clf)] = found
    if not scores:
        return False
    return scores, {name: float(values.max()) for name, values in scores.items()}


def mvod_scores_using_model(
    inp: Any, model_inp: Any, classifier: Any, threshold: float | None = None
) -> npt.NDArray[Any] | Literal[False]:
    """EPMT's ``mvod_scores_using_model``: score each row of ``inp`` against a model's rows,
    one at a time (the row appended to ``model_inp``, its score among them).

    Parameters
    ----------
    inp : 2-D array, the rows to score
    model_inp : 2-D array, the model's rows (same columns)
    classifier : a pyod classifier object
    threshold : float, optional
        The model's score (its highest): a row scoring above it is an outlier. EPMT warns
        when the model's rows, scored again, do not give it (within 1%).

    Returns
    -------
    numpy.ndarray or False
        Without ``threshold``, the rows' scores; with it, 1 for a row scoring above it and 0
        for the others. False if the classifier cannot score (EPMT's answer).

    Raises
    ------
    MissingDependencyError
        If pyod is not installed.

    Examples
    --------
    >>> from pyod.models.cof import COF
    >>> model = [[1.0, 2.0], [1.2, 2.1], [0.9, 1.9], [1.1, 2.2]]
    >>> mvod_scores(model, [COF()])[1]
    {'pyod.models.cof': 1.0}
    >>> mvod_scores_using_model([[1.05, 2.05], [9.0, 9.0]], model, COF()).tolist()
    [0.9365, 3.5756]
    >>> mvod_scores_using_model([[1.05, 2.05], [9.0, 9.0]], model, COF(), threshold=1.0)
    array([0, 1])
    """
    rows = np.asarray(inp, dtype=float)
    model = np.asarray(model_inp, dtype=float)
    name = classifier_name(classifier)
    answer = mvod_scores(model, [classifier])
    if answer is False:
        return False
    highest = answer[1][name]
    if threshold is not None and not math.isclose(highest, threshold, rel_tol=1e-2):
        _log.warning(
            "MVOD %s is not stable: the model's rows score %s, the saved model %s",
            name,
            highest,
            threshold,
        )
    scores = []
    for row in rows:
        scored = mvod_scores(np.append(model, [row], axis=0), [classifier])
        if scored is False:
            return False
        scores.append(scored[0][name][-1])
    values = np.array(scores)
    return values if threshold is None else (values > threshold) * 1


def mvod_model_scores(
    frame: pd.DataFrame, classifiers: list[Any], features: list[str]
) -> dict[str, dict[str, list[Any]]]:
    """What a reference model keeps of multivariate classifiers (EPMT's
    ``_refmodel_scores``): per classifier that can score the rows of ``frame``, under the
    sorted features joined by commas, ``[highest score, rows as lists of floats]``.

    Examples
    --------
    >>> from pyod.models.cof import COF
    >>> from pyod.models.knn import KNN
    >>> frame = pd.DataFrame({"y": [2, 3, 1, 2], "x": [1, 1, 0, 2]})
    >>> mvod_model_scores(frame, [COF(), KNN()], ["y", "x"])  # KNN needs 6 rows
    {'pyod.models.cof': {'x,y': [1.1292, [[1.0, 2.0], [1.0, 3.0], [0.0, 1.0], [2.0, 2.0]]]}}
    """
    columns = sorted(features)
    rows = frame[columns].to_numpy(dtype=float)
    kept = {}
    for clf in classifiers:
        answer = mvod_scores(rows, [clf])
        if answer is False:
            _log.warning("Skipped mvod classifier %s: it cannot score", classifier_name(clf))
            continue
        name = classifier_name(clf)
        kept[name] = {",".join(columns): [answer[1][name], rows.tolist()]}
    return kept
