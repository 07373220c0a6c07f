"""A pytest plugin for the run of EPMT's own ``test_query.py``: EPMT's modules, aliased.

Loaded with ``-p epmt_aliases`` in the subprocess that runs the unmodified test file
(``test_epmt_conformance.py`` starts it). Before the file is imported, each module name of
:data:`ALIASES` is made to be the ``epmt_graph`` module it names, in ``sys.modules``; the
``epmt`` package itself, with ``epmt.epmtlib`` and ``epmt.epmt_settings``, is the wheel's
own files, unpacked beside the test file. No other EPMT code is there to import.

Importing this module does nothing: the aliases are installed by :func:`pytest_configure`.
"""

from __future__ import annotations

import importlib
import sys

import pytest

__all__ = ["ALIASES", "install", "pytest_configure"]

#: EPMT module -> the epmt_graph module that stands for it.
ALIASES = {
    "epmt.epmt_query": "epmt_graph.api",
    "epmt.orm": "epmt_graph.compat",
    "epmt.orm.sqlalchemy": "epmt_graph.compat",
    "epmt.orm.sqlalchemy.models": "epmt_graph.compat",
    "epmt.orm.sqlalchemy.general": "epmt_graph.compat",
    "epmt.epmt_cmds": "epmt_graph.compat",
    "epmt.epmt_job": "epmt_graph.compat",
}


def install() -> None:
    """Put every alias of :data:`ALIASES` in ``sys.modules`` (and on the ``epmt`` package)."""
    epmt = importlib.import_module("epmt")
    for name, target in ALIASES.items():
        module = importlib.import_module(target)
        sys.modules[name] = module
        parent, _, attr = name.rpartition(".")
        if parent == "epmt":
            setattr(epmt, attr, module)


def pytest_configure(config: pytest.Config) -> None:
    """Install the aliases before any test file is imported."""
    install()
