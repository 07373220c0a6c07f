"""What the tests share: where the sample jobs are, which of them load, hostile strings.

``EPMT_SAMPLES`` names the sample archives (as for ``epmt-graph demo``); without it they are
read from ``../shared/data/epmt-samples`` beside the repository. Nothing is copied.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["GOOD_FOLDERS", "HOSTILE", "HOSTILE_VALUES", "SAMPLES"]

SAMPLES = Path(
    os.environ.get("EPMT_SAMPLES")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "epmt-samples"
)
#: Sample folders whose jobs must load (the shared test graph loads them all).
GOOD_FOLDERS = ("query", "submit", "daemon", "tsv")
#: Strings shaped like Cypher (and SQL) injection, odd quoting and odd characters: every
#: one of them must reach the server as data only.
HOSTILE = [
    "x' OR '1'='1",
    'x" OR "1"="1',
    "' OR 1=1 //",
    '"}) DETACH DELETE n //',
    "685000'}) MATCH (n) DETACH DELETE n //",
    "MATCH (n) DETACH DELETE n",
    "`Job`) DETACH DELETE n //",
    "685000', '685003",
    "}",
    "{",
    "{jobid: '685000'}",
    "//",
    "/*",
    "*/ RETURN 1 /*",
    "\\",
    "back\\slash\\'",
    "$jobid",
    "$param",
    "x\n MATCH (n) DETACH DELETE n",
    "tab\tand\r\nCRLF",
    "ünïcødé ✓ 🙂 \u202e\u200d",
    "\u2028",
    "CALL db.clearQueryCaches()",
    "; DROP CONSTRAINT job_jobid",
    "x" * 100_000,
]
#: A few of them, for loops over many API calls.
HOSTILE_VALUES = [
    "x' OR '1'='1",
    'x" OR "1"="1',
    "back\\slash\\",
    "`tick` }) //",
    "685000'}) MATCH (n) DETACH DELETE n //",
    "MATCH (n) DETACH DELETE n",
]
