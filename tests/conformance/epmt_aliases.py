"""A pytest plugin for the runs of EPMT's own test files: EPMT's modules, aliased.

Loaded with ``-p epmt_aliases`` in the subprocess that runs an unmodified test file
(``epmt_run.py`` starts it). Before the file is imported, each module name of
:data:`ALIASES` is made to be the ``epmt_graph`` module it names, in ``sys.modules``; the
``epmt`` package itself, with ``epmt.epmtlib`` and ``epmt.epmt_settings``, is the wheel's
own files, unpacked beside the test file. No other EPMT code is there to import.

An alias whose ``epmt_graph`` module is not built yet is left out, and importing its EPMT
name raises ``ModuleNotFoundError`` naming the missing module: the file that imports it
fails to import, the others run.

EPMT's settings: ``epmt.epmt_settings`` stays the wheel's module, but the names that
``epmt_graph.outliers.settings`` holds (``outlier_features``, ``outlier_thresholds``,
``univariate_classifiers``, read at each call) are that module's: reading them, assigning
them (``settings.univariate_classifiers = [...]``) or changing them in place
(``settings.outlier_thresholds['z_score'] = 1.5``) reads or changes epmt_graph's.

EPMT's test files were written for pandas 1.5; where one calls ``DataFrame.append``
(removed in pandas 2), :func:`pandas_append` gives the run that method back.

Importing this module does nothing: the aliases are installed by :func:`pytest_configure`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import pytest

__all__ = [
    "ALIASES",
    "SETTINGS",
    "MissingModules",
    "SharedSettings",
    "install",
    "pandas_append",
    "pytest_configure",
]

#: EPMT module -> the epmt_graph module that stands for it.
ALIASES = {
    "epmt.epmt_query": "epmt_graph.api",
    "epmt.orm": "epmt_graph.compat",
    "epmt.orm.sqlalchemy": "epmt_graph.compat",
    "epmt.orm.sqlalchemy.models": "epmt_graph.compat",
    "epmt.orm.sqlalchemy.general": "epmt_graph.compat",
    "epmt.epmt_cmds": "epmt_graph.compat",
    "epmt.epmt_job": "epmt_graph.compat",
    "epmt.epmt_outliers": "epmt_graph.outliers",
    "epmt.epmt_stat": "epmt_graph.outliers.stat",
    "epmt.epmt_exp_explore": "epmt_graph.explore",
}
#: EPMT's settings module (the wheel's) -> the epmt_graph module holding the names it shares.
SETTINGS = ("epmt.epmt_settings", "epmt_graph.outliers.settings")


class MissingModules(importlib.abc.MetaPathFinder):
    """Refuses to import an EPMT name whose epmt_graph module is not built, saying which."""

    def __init__(self, missing: dict[str, str]) -> None:
        self.missing = missing

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """None for any other name (the import goes on); for a missing one, the error."""
        if fullname not in self.missing:
            return None
        mine = self.missing[fullname]
        raise ModuleNotFoundError(f"No module named {mine!r} (EPMT's {fullname})", name=mine)


class SharedSettings(ModuleType):
    """The class given to EPMT's settings module: the names :attr:`shared` names live in
    :attr:`owner` (read and assigned there); every other name is the module's own."""

    owner: ModuleType
    shared: frozenset[str]

    def __getattribute__(self, name: str) -> Any:
        cls = type(self)
        if name in cls.shared:
            return getattr(cls.owner, name)
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        cls = type(self)
        if name in cls.shared:
            setattr(cls.owner, name, value)
        else:
            super().__setattr__(name, value)


def _import(target: str) -> ModuleType | None:
    """The module ``target``, or None if it (or a package above it) does not exist; any
    other import error (a missing dependency inside it) is raised."""
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if error.name is not None and (target + ".").startswith(error.name + "."):
            return None
        raise


def share_settings() -> None:
    """Make EPMT's settings module share :data:`SETTINGS`' names (if that module exists)."""
    name, target = SETTINGS
    owner = _import(target)
    if owner is None:
        return
    settings = importlib.import_module(name)
    shared = type(
        "SharedSettings",
        (SharedSettings,),
        {"owner": owner, "shared": frozenset(owner.__all__)},
    )
    for attr in owner.__all__:
        settings.__dict__.pop(attr, None)
    settings.__class__ = shared


def install() -> None:
    """Put every alias of :data:`ALIASES` in ``sys.modules`` (and on the ``epmt`` package),
    refuse the ones not built yet, and share the settings."""
    epmt = importlib.import_module("epmt")
    missing = {}
    for name, target in ALIASES.items():
        module = _import(target)
        if module is None:
            missing[name] = target
            continue
        sys.modules[name] = module
        parent, _, attr = name.rpartition(".")
        if parent == "epmt":
            setattr(epmt, attr, module)
    if missing:
        sys.meta_path.insert(0, MissingModules(missing))
    share_settings()


def pandas_append() -> None:
    """Give ``pandas.DataFrame`` pandas 1.5's ``append`` (the rows of ``other``, a frame, a
    list of frames or a row, after the frame's, as ``pd.concat``), if this pandas lacks it."""
    import pandas as pd

    def append(self: pd.DataFrame, other: Any, ignore_index: bool = False) -> pd.DataFrame:
        if isinstance(other, list) and all(isinstance(o, pd.DataFrame) for o in other):
            frames = other
        else:
            frames = [other if isinstance(other, pd.DataFrame) else pd.DataFrame([other])]
        return pd.concat([self, *frames], ignore_index=ignore_index)

    if not hasattr(pd.DataFrame, "append"):
        setattr(pd.DataFrame, "append", append)  # noqa: B010 (pandas 2 has no such name)


def pytest_configure(config: pytest.Config) -> None:
    """Install the aliases before any test file is imported."""
    install()
    pandas_append()
