"""Read an EPMT ``job_metadata`` pickle without letting it run code.

EPMT writes ``job_metadata`` with :mod:`pickle`: protocol 0 from Python 2 in the older
archives, protocol 3 from Python 3 in the newer ones. A pickle can name any importable
callable, so the plain :func:`pickle.loads` would run whatever a hostile archive asks
for. :func:`load_metadata` uses an unpickler whose ``find_class`` admits only the three
classes these files need and refuses everything else with
:class:`~epmt_graph.errors.UnsafePickleError`.

Which globals the files need was found by unpickling every sample archive with a
recording ``find_class``: Python 2 files name only ``datetime.datetime``; Python 3 files
add ``datetime.timezone`` and ``datetime.timedelta`` (aware timestamps). Dicts, lists,
strings, numbers, booleans and ``None`` are built by pickle opcodes and need no global,
so no ``copy_reg``/``__builtin__`` reconstructor is admitted.

Python 2 ``str`` values are read as bytes (``encoding="bytes"``, which the datetime
constructor also accepts) and then decoded as UTF-8, falling back to Latin-1, as EPMT's
``conv_dict_byte2str`` does; the result holds only ``str`` for text.
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
from typing import Any

from epmt_graph.errors import ArchiveError, UnsafePickleError

__all__ = ["ALLOWED_GLOBALS", "MAX_DEPTH", "MAX_NODES", "load_metadata"]

#: The only globals a ``job_metadata`` pickle may name, keyed by (module, name) exactly
#: as written in the pickle.
ALLOWED_GLOBALS: dict[tuple[str, str], type] = {
    ("datetime", "datetime"): dt.datetime,
    ("datetime", "timedelta"): dt.timedelta,
    ("datetime", "timezone"): dt.timezone,
}

#: Deepest nesting of containers accepted in the unpickled value.
MAX_DEPTH = 32
#: Most container items visited while decoding (bounds shared-reference blow-ups).
MAX_NODES = 1_000_000


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`."""

    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(io.BytesIO(data), encoding="bytes")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        """Return an allowed class, or raise :class:`UnsafePickleError` for anything else."""
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafePickleError(
                f"{self._source}: job_metadata asks for {module}.{name}, which is not an "
                "allowed type (only dict, list, str, bytes, int, float, bool, None, "
                "datetime.datetime/timedelta/timezone)"
            )
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids: EPMT never writes them."""
        raise UnsafePickleError(f"{self._source}: job_metadata uses a persistent id")


class _Decoder:
    """Turn bytes into str throughout an unpickled value, bounding depth and size."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._nodes = 0

    def decode(self, value: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_NODES:
            raise ArchiveError(f"{self._source}: job_metadata is nested too deep or too large")
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return value.decode("latin-1")
        if isinstance(value, dict):
            return {self.decode(k, depth + 1): self.decode(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.decode(v, depth + 1) for v in value]
        if value is None or isinstance(
            value, str | int | float | dt.datetime | dt.timedelta | dt.timezone
        ):
            return value
        raise UnsafePickleError(
            f"{self._source}: job_metadata holds a {type(value).__name__}, which is not allowed"
        )


def load_metadata(data: bytes, *, source: str) -> dict[str, Any]:
    """Unpickle a ``job_metadata`` file safely.

    Parameters
    ----------
    data : bytes
        The raw pickle.
    source : str
        Where it came from (archive path and member), used in error messages.

    Returns
    -------
    dict
        The metadata with every key and text value as ``str`` (lists for tuples).

    Raises
    ------
    UnsafePickleError
        If the pickle names a global outside :data:`ALLOWED_GLOBALS` (message names
        ``module.name``) or uses a persistent id.
    ArchiveError
        If the pickle is corrupt or truncated, is not a dict, or is absurdly nested.

    Examples
    --------
    >>> load_metadata(b"(dp0\\nS'job_pl_id'\\np1\\nS'42'\\np2\\ns.", source="x")
    {'job_pl_id': '42'}
    >>> load_metadata(b"cos\\nsystem\\n(S'true'\\ntR.", source="x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    epmt_graph.errors.UnsafePickleError: x: job_metadata asks for os.system, ...
    """
    try:
        raw = _RestrictedUnpickler(data, source).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # any malformed pickle: EOFError, UnpicklingError, ValueError...
        raise ArchiveError(f"{source}: job_metadata is not a readable pickle: {exc!r}") from exc
    if not isinstance(raw, dict):
        raise ArchiveError(f"{source}: job_metadata holds a {type(raw).__name__}, not a dict")
    decoded: dict[Any, Any] = _Decoder(source).decode(raw)
    if not all(isinstance(k, str) for k in decoded):
        raise ArchiveError(f"{source}: job_metadata has non-string keys")
    return decoded
