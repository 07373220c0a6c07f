"""Run one of EPMT 5.0.1's own test modules on EPMT itself, in its venv, on a fresh SQLite.

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/own_tests.py MODULE

``MODULE`` is a dotted name of the installed wheel (``epmt.test.test_outliers``,
``epmt.test.test_explore``), one per run: ``test_outliers`` sets ``EPMT_TZ=Asia/Kolkata``
for its jobs and leaves it set, and in the same process ``test_explore`` then fails to
load its (US/Eastern) jobs. The EPMT venv has no pytest, and EPMT's tests are unittest
cases, so unittest runs them, verbosely. EPMT's settings point at a new SQLite file in a
temporary folder (deleted at the end; ``epmt_db.scratch_epmt``), as ``answers.py`` does; the user's EPMT database is
never touched. Exits 0 when every test passed. This tells which of EPMT's tests pass on
EPMT itself, before ``tests/conformance`` holds epmt_graph to them.
"""

import sys
import unittest

from epmt_db import scratch_epmt


def main(module):
    with scratch_epmt(prefix="epmt_own_tests_"):
        suite = unittest.defaultTestLoader.loadTestsFromName(module)
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
