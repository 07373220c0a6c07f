"""The digest of a parsed job: sha256 of a canonical serialisation, to know an archive again.

The serialisation is JSON, as :func:`json.dumps` writes it: the job's row and its keys, every
parent, then each process's values (in the order of its sorted keys) and its
``threads_json``. A process's JSON is made by one ``%``-format of a template written once
(integers as ``%d``, strings through :mod:`json`'s own C escaper), which gives the very bytes
:func:`json.dumps` gives, in a fifth of its time; a process whose values do not fit the
template (a key its file lacks) is written by :func:`json.dumps` itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from json.encoder import encode_basestring_ascii
from typing import Any

from epmt_graph.loader.keys import Parents
from epmt_graph.loader.metadata import dumps
from epmt_graph.loader.spill import ProcessRows
from epmt_graph.schema import Row

__all__ = ["LaterDigest", "job_digest", "row_json"]

#: The process fields that hold strings (and ``tag_pairs`` a list of them); the rest are ints.
_TEXTS = frozenset({"exename", "path", "args", "host", "tags", "jobid", "uid"})


def row_json(names: Sequence[str]) -> Callable[[Sequence[Any]], str]:
    """A function giving ``json.dumps(list(values))`` for values named ``names``.

    Examples
    --------
    >>> write = row_json(["args", "pid", "tag_pairs", "jobid"])
    >>> values = ['-c "x"\\u00e9', 7, ["op:a", "op:b"], "685000"]
    >>> write(values) == json.dumps(values), write(["x", None, [], "1"]) == '["x", null, [], "1"]'
    (True, True)
    """
    template = "[" + ", ".join("%s" if n in _TEXTS or n == "tag_pairs" else "%d" for n in names)
    template += "]"
    texts = [i for i, n in enumerate(names) if n in _TEXTS]
    lists = [i for i, n in enumerate(names) if n == "tag_pairs"]
    pairs: dict[tuple[str, ...], str] = {}

    def write(values: Sequence[Any]) -> str:
        if None in values:
            return json.dumps(list(values))
        args = list(values)
        try:
            for i in texts:
                args[i] = encode_basestring_ascii(args[i])
            for i in lists:
                key = tuple(args[i])
                if key not in pairs:
                    pairs[key] = json.dumps(list(key))
                args[i] = pairs[key]
            return template % tuple(args)
        except TypeError:
            return json.dumps(list(values))

    return write


def job_digest(job: Row, procs: ProcessRows, parents: Parents, keys: list[str]) -> str:
    """sha256 of a canonical serialisation of the parsed job: JSON, row by row.

    It begins with ``dumps([job, keys, list(parents)])``, made a slice of parents at a time.
    """
    digest = hashlib.sha256(dumps([job, keys])[:-1].encode() + b", [")
    for start in range(0, len(parents), 1 << 16):
        text = json.dumps(parents[start : start + (1 << 16)])[1:-1]
        digest.update(b", " + text.encode() if start else text.encode())
    digest.update(b"]]")
    scalars = [k for k in keys if k != "threads_json"]
    write = row_json(scalars)
    update = digest.update
    for *values, threads in procs.values([*scalars, "threads_json"]):
        update(write(values).encode())
        update(threads.encode())  # already canonical JSON
    return digest.hexdigest()


class LaterDigest:
    """A job's :func:`job_digest`, made later: on a thread of its own from :meth:`start`
    (a load starts it once the server is busy writing the job's first batch), or when asked
    for (:meth:`result`). A new job's digest is needed only on its Job node, at the end of
    the write.

    The job's row is copied first: the digest is that of the row as it is now.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from epmt_graph.loader import read_job
    >>> from epmt_graph.synthetic import write_archive
    >>> rows = read_job(write_archive(Path(tempfile.mkdtemp()) / "a.tgz", 30, jobid="a"))
    >>> job, keys = {"jobid": "a"}, ["idx", "jobid", "pid", "uid"]
    >>> later = LaterDigest(job, rows.processes, rows.parents, keys)
    >>> later.start()
    >>> later.result() == job_digest(job, rows.processes, rows.parents, keys)
    True
    """

    def __init__(self, job: Row, procs: ProcessRows, parents: Parents, keys: list[str]) -> None:
        self._made = functools.partial(job_digest, dict(job), procs, parents, keys)
        self._done: Future[str] | None = None
        self._starting = threading.Lock()

    def start(self) -> None:
        """Start making the digest on a thread of its own (once; later calls do nothing)."""
        with self._starting:
            if self._done is not None:
                return
            done: Future[str] = Future()
            self._done = done

        def make() -> None:
            try:
                done.set_result(self._made())
            except BaseException as exc:  # handed to whoever asks for the digest
                done.set_exception(exc)

        threading.Thread(target=make, name="epmt-graph-digest", daemon=True).start()

    def result(self) -> str:
        """The digest (started now if it was not: then made in this thread's time)."""
        self.start()
        assert self._done is not None
        return self._done.result()
