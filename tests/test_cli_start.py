"""``epmt-graph`` imports only what the command runs: ``--version`` and ``--help`` no
subcommand's module, a subcommand its own module alone; and the parser it builds that way
says exactly what the parser with every subcommand says (speed: benchmarks/bench_cli_start.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from epmt_graph.cli import build_parser
from epmt_graph.cli.commands import MODULES, SUMMARY

#: Packages no command needs to start: only the subcommands that use them import them.
HEAVY = ("matplotlib", "scipy", "sklearn", "pyod", "sqlalchemy", "networkx")


def _imported_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _cli_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("epmt_graph.cli.")}


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_subcommand(flag: str) -> None:
    modules = _imported_by(
        f"from epmt_graph.cli import main\ntry:\n    main([{flag!r}])\nexcept SystemExit:\n    pass"
    )
    assert _cli_modules(modules) == {"epmt_graph.cli.commands", "epmt_graph.cli.terminal"}
    assert not modules & {"neo4j", "numpy", "pandas", "tqdm", *HEAVY}


def test_load_imports_its_own_module_alone() -> None:
    modules = _imported_by("from epmt_graph.cli import build_parser\nbuild_parser({'load'})")
    assert _cli_modules(modules) == {
        "epmt_graph.cli.commands",
        "epmt_graph.cli.load",
        "epmt_graph.cli.terminal",
    }
    assert not modules & set(HEAVY)
    assert not {m for m in modules if m.startswith(("epmt_graph.api", "epmt_graph.outliers"))}


def _help(declared: set[str] | None, *argv: str) -> str:
    """What ``epmt-graph ARGV`` prints (a help) with a parser declaring ``declared``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser(declared).parse_args(argv)
    return out.getvalue()


def test_the_listing_is_the_one_every_module_declares() -> None:
    # every subcommand listed, in the same order, with the same line, as when each module
    # declares its own: the table names each module's subcommands, no more, no fewer
    assert _help(set(), "--help") == _help(None, "--help")
    assert sum(len(names) for names in MODULES.values()) == len(SUMMARY)


@pytest.mark.parametrize("command", list(SUMMARY))
def test_a_subcommand_declared_alone_is_declared_as_among_all(command: str) -> None:
    assert _help({command}, command, "--help") == _help(None, command, "--help")
    assert _help({command}, "--help") == _help(None, "--help")
