"""EPMT's outlier-detection settings, under the names of EPMT's ``epmt_settings``.

Every function of :mod:`epmt_graph.outliers` (and ``create_refmodel``,
``analyze_comparable_jobs``) reads these attributes when it is called, never when it is
imported, so a change here applies to the next call, as EPMT's own tests change EPMT's
settings (``settings.univariate_classifiers = ['modified_z_score']``,
``settings.outlier_thresholds['modified_z_score'] = 2.5``). This module imports nothing.

Examples
--------
>>> from epmt_graph.outliers import settings
>>> settings.outlier_features, settings.univariate_classifiers
(['duration', 'cpu_time', 'num_procs'], ['iqr', 'modified_z_score', 'z_score'])
>>> settings.outlier_thresholds
{'modified_z_score': 3.5, 'z_score': 3.0}
"""

__all__ = ["outlier_features", "outlier_thresholds", "univariate_classifiers"]

#: The features outlier detection uses when none are given.
outlier_features: list[str] = ["duration", "cpu_time", "num_procs"]
#: Per classifier, the score above which a value is an outlier without a reference model
#: (``iqr`` returns a 0/1 mask: its threshold is 0).
outlier_thresholds: dict[str, float] = {"modified_z_score": 3.5, "z_score": 3.0}
#: The classifiers used when none are given, by name (those of :mod:`epmt_graph.api.stats`).
univariate_classifiers: list[str] = ["iqr", "modified_z_score", "z_score"]
