"""The subcommands of ``epmt-graph``: the module of this package that declares and runs
each, and its line in ``epmt-graph --help``.

A command imports only what it runs: ``epmt-graph --version`` and ``--help`` import none of
these modules, ``epmt-graph load`` only :mod:`epmt_graph.cli.load` (the loader, the driver),
never the outlier detection, the tree renderers or the Browser guide.
:func:`epmt_graph.cli.build_parser` lists every command from this table and imports the
module of the one that runs, which declares its arguments (its ``register``) and runs it.
This module imports nothing, so that listing costs nothing.

Examples
--------
>>> MODULES["jobs"]
{'list': 'list loaded jobs', 'show': "a job's summary and top processes", 'delete': 'delete jobs'}
>>> SUMMARY["load"]
'load EPMT job archives or job directories'
"""

from __future__ import annotations

__all__ = ["MODULES", "SUMMARY"]

#: Module (under :mod:`epmt_graph.cli`) -> its subcommands and their line in ``--help``, in
#: the order ``--help`` lists them.
MODULES: dict[str, dict[str, str]] = {
    "server": {"server": "run the local Neo4j server"},
    "load": {"load": "load EPMT job archives or job directories"},
    "watch": {"watch": "load each job archive dropped into a folder, as a daemon"},
    "migrate": {"migrate": "migrate an EPMT 5.x database (SQLite or PostgreSQL) into the graph"},
    "jobs": {
        "list": "list loaded jobs",
        "show": "a job's summary and top processes",
        "delete": "delete jobs",
    },
    "trees": {
        "tree": "a job's process tree as indented text",
        "export": "a job's process tree as GraphML or JSON",
    },
    "outliers": {"outliers": "which jobs are outliers, and why (by their process trees)"},
    "demo": {
        "demo": "start the server, load the EPMT sample jobs, answer the workbook's questions"
    },
    "browser": {
        "browser": "the Neo4j Browser: its URL, the login, a guide that walks a job, favorites"
    },
}

#: Subcommand -> its line in ``epmt-graph --help``.
SUMMARY: dict[str, str] = {
    command: line for commands in MODULES.values() for command, line in commands.items()
}
