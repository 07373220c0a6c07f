"""A pytest plugin: every skip of the session listed with its reason, after the tests.

With ``EPMT_GRAPH_STRICT_SKIPS=1`` (``./dev test``, and so CI, sets it), a skip whose
reason does not start with :data:`ALLOWED_SKIP` fails the session: only a missing optional
tool excuses a test from running. Registered by the root ``conftest.py``;
``-p skip_ledger`` elsewhere.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

#: How the reason of an allowed skip starts.
ALLOWED_SKIP = "missing optional tool:"
#: Set to 1 to fail the session on any other skip.
STRICT_SKIPS = "EPMT_GRAPH_STRICT_SKIPS"


class SkipLedger:
    """Every skip of the session with its reason; the session fails on a disallowed one
    when ``strict``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.skips: list[tuple[str, str]] = []

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            longrepr: Any = report.longrepr
            reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
            self.skips.append((report.nodeid, reason.removeprefix("Skipped: ")))

    def disallowed(self) -> list[tuple[str, str]]:
        """The skips whose reason is not a missing optional tool."""
        return [(node, why) for node, why in self.skips if not why.startswith(ALLOWED_SKIP)]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.strict and self.disallowed() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.skips:
            return
        bad = self.disallowed()
        terminalreporter.section(f"{len(self.skips)} skipped, and why")
        for node, why in self.skips:
            flag = "  <- not a missing optional tool" if (node, why) in bad else ""
            terminalreporter.line(f"{node}: {why}{flag}", red=bool(flag))
        if self.strict and bad:
            terminalreporter.line(
                f"{STRICT_SKIPS}=1: {len(bad)} skipped for a reason other than "
                f"'{ALLOWED_SKIP} ...': the session fails",
                red=True,
            )


def pytest_configure(config: pytest.Config) -> None:
    """Register a :class:`SkipLedger`, strict as ``EPMT_GRAPH_STRICT_SKIPS`` says."""
    strict = os.environ.get(STRICT_SKIPS) == "1"
    config.pluginmanager.register(SkipLedger(strict), "epmt-graph-skip-ledger")
