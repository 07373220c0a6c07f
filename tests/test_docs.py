"""Every module of ``epmt_graph`` has ``__all__``; every public function and class in it, and
every public method of a public class, has a docstring (the first statement of its body, read
from the source with ``ast``, so a dataclass's generated ``__doc__`` does not count); no
doctest is skipped with ``+SKIP``."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import epmt_graph

PACKAGE = Path(epmt_graph.__file__).parent
#: Importing these runs a program.
SCRIPTS = ("__main__",)
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(epmt_graph.__path__, "epmt_graph.")
    if info.name.rsplit(".", 1)[-1] not in SCRIPTS
)

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@cache
def syntax(module: str) -> ast.Module:
    """The parsed source of ``module``."""
    return ast.parse(Path(inspect.getfile(importlib.import_module(module))).read_text())


def definition(module: str, qualname: str) -> Definition:
    """The ``def``/``class`` statement of ``qualname`` (``Class.method`` too) in ``module``."""
    body: list[ast.stmt] = syntax(module).body
    found: Definition | None = None
    for name in qualname.split("."):
        found = next(
            (node for node in body if isinstance(node, Definition) and node.name == name),
            None,
        )
        assert found is not None, f"{module}: no def or class {qualname}"
        body = found.body
    assert found is not None
    return found


def public_methods(node: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The methods a class defines whose names do not start with ``_``, without the
    ``@x.setter``/``@x.deleter`` halves of properties and ``@overload`` signatures."""

    def extra(decorator: ast.expr) -> bool:
        if isinstance(decorator, ast.Attribute):
            return decorator.attr in ("setter", "deleter", "overload")
        return isinstance(decorator, ast.Name) and decorator.id == "overload"

    return [
        item
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and not item.name.startswith("_")
        and not any(map(extra, item.decorator_list))
    ]


def undocumented(module: ModuleType) -> list[str]:
    """The public functions, classes and methods reached from ``module.__all__`` that have
    no docstring, each named where it is defined."""
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__.split(".")[0] != module.__name__.split(".")[0]:
            continue  # not ours
        node = definition(obj.__module__, obj.__qualname__)
        where = f"{obj.__module__}.{obj.__qualname__}"
        if ast.get_docstring(node) is None:
            missing.append(where)
        if isinstance(node, ast.ClassDef):
            missing += [
                f"{where}.{method.name}"
                for method in public_methods(node)
                if ast.get_docstring(method) is None
            ]
    return missing


def test_walks_every_module() -> None:
    files = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
        if path.stem not in SCRIPTS
    }
    assert set(MODULES) == files - {"epmt_graph"}


@pytest.mark.parametrize("name", MODULES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
    assert module.__doc__, f"{name} has no module docstring"
    assert undocumented(module) == []


def test_no_doctest_is_skipped() -> None:
    skipped = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "+SKIP" in line
    ]
    assert skipped == []


PROBE = """
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

__all__ = ["Good", "LIMIT", "Late", "Path", "bare"]
LIMIT = 3


@dataclass
class Late:
    noun: ClassVar[str] = "x"
    "Not the docstring."

    def size(self):
        return 1


class Good:
    "Documented."

    @property
    def value(self):
        "Documented."

    @value.setter
    def value(self, v):
        pass

    def _hidden(self):
        pass


def bare():
    pass
"""


def test_the_check_finds_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself, on a module made here: a dataclass whose docstring sits below a
    ``ClassVar`` (its generated ``__doc__`` is set, yet it has none), an undocumented method
    and function; documented, private, setter, imported and constant names pass."""
    (tmp_path / "docs_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(tmp_path)
    probe = importlib.import_module("docs_probe")
    assert probe.Late.__doc__
    assert undocumented(probe) == ["docs_probe.Late", "docs_probe.Late.size", "docs_probe.bare"]
