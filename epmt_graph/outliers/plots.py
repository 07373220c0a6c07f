"""``feature_scatter_plot``: jobs on two features (or on the two principal components of
more), drawn with matplotlib (imported by the function), as EPMT 5.0.1's picture (which it
draws with plotly)."""

from __future__ import annotations

from typing import Any

from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import OutlierError
from epmt_graph.outliers.features import choose_features
from epmt_graph.outliers.inputs import job_frame
from epmt_graph.outliers.pca import pca_feature_combine

__all__ = ["feature_scatter_plot"]


def feature_scatter_plot(
    jobs: Any,
    features: Any = None,
    outfile: str = "",
    annotate: bool = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """A scatter plot of jobs on two features, one colour a job.

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` takes, or their ``pandas`` DataFrame
    features : list of feature names, optional
        With more than two (the default ``[]`` means every feature), the jobs are drawn
        on the first two principal components (``pca_01``, whose axis says its weight:
        its variance ratio over the second's, and ``pca_02``).
    outfile : str, optional
        Also write the picture there (its format from the suffix: ``.png``, ``.svg``,
        ``.pdf``). EPMT 5.0.1 writes nothing and prints that it cannot.
    annotate : bool
        Label each point with its job id.

    Returns
    -------
    matplotlib.figure.Figure
        (EPMT returns a plotly figure.)

    Raises
    ------
    OutlierError
        Fewer than two features; ``QueryError`` for no jobs.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = pathlib.Path(folder) / "jobs.png"
    ...     figure = feature_scatter_plot(["685000", "685003", "685016"],
    ...                                   features=["cpu_time", "duration"], outfile=str(out))
    ...     out.stat().st_size > 0
    True
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['685000', '685003', '685016']
    >>> figure = feature_scatter_plot(["685000", "685003", "685016"],
    ...                               features=["cpu_time", "duration", "num_procs"])
    >>> figure.axes[0].get_xlabel(), figure.axes[0].get_ylabel()
    ('pca_01 (weight: 3.8)', 'pca_02')
    """
    from matplotlib.figure import Figure

    graph = graph or default_graph()
    frame = job_frame(graph, jobs)
    chosen = choose_features([] if features is None else features, frame)
    weight = ""
    if len(chosen) > 2:
        frame, variances, chosen, _ = pca_feature_combine(frame, chosen, desired=2)
        weight = f" (weight: {round(variances[0] / variances[1], 1)})"
    if len(chosen) != 2:
        raise OutlierError(f"a scatter plot needs two features, got {chosen}")
    x, y = chosen
    figure = Figure()
    axes = figure.subplots()
    for jobid, x_value, y_value in zip(frame["jobid"], frame[x], frame[y], strict=True):
        axes.scatter(x_value, y_value, label=str(jobid))
        if annotate:
            axes.annotate(
                str(jobid),
                (x_value, y_value),
                xytext=(0, 5),
                ha="center",
                textcoords="offset points",
            )
    axes.set_xlabel(x + weight)
    axes.set_ylabel(y)
    axes.set_title("2-feature plot")
    axes.legend(title="jobid")
    if outfile:
        figure.savefig(outfile)
    return figure
