"""Seeded generator of synthetic EPMT job archives of any size, for scale tests and benchmarks.

The jobs imitate the GFDL post-processing jobs of the sample data: one host, one top ``tcsh``
whose children are a few untagged setup commands, then tagged operations (``op:hsmget``,
``op:cp``, ...) whose subtrees inherit their tag; depth up to 7; a few multi-threaded
processes (extra rows with the same pid and other tids); transfer daemons detached to
``ppid 1`` (extra roots); pids from a wrapping pid space (32768) shared with the node's other
activity, so that big jobs reuse pids. Every child lies within its parent's lifetime and every
process within the job's window. Rows are written in end order, like papiex, and streamed:
memory stays small whatever the size. The same seed gives the same bytes.

Examples
--------
>>> import io
>>> buf = io.StringIO()
>>> job = generate_job(500, buf, seed=3)
>>> job.n_procs, buf.getvalue().count("\\n") == job.n_rows + 1
(500, True)
"""

from epmt_graph.synthetic.archive import main, write_archive
from epmt_graph.synthetic.catalog import HEADER
from epmt_graph.synthetic.generate import SyntheticJob, generate_job

__all__ = ["HEADER", "SyntheticJob", "generate_job", "main", "write_archive"]
