"""pytest hooks for tests that run node processes: a failed test shows its nodes' stacks and output.

Imported into test/ros/conftest.py and test/e2e/conftest.py (pytest takes hooks from a conftest's
names). The report of a failed test gets one section per node process the test started (or that
still runs): each running one's thread stacks, then the tail of what it printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from robot_agent.testing import NodeProcess, failure_report

_FIRST_PROCESS = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_FIRST_PROCESS] = len(NodeProcess.started)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed:
        first = item.stash.get(_FIRST_PROCESS, len(NodeProcess.started))
        ours = [p for i, p in enumerate(NodeProcess.started) if i >= first or p.running]
        for title, text in failure_report(ours):
            report.sections.append((title, text))
