"""Every exception epmt_graph raises on purpose.

Callers catch :class:`EpmtGraphError` for anything of ours; the subclasses say what went wrong.
Lower-level errors are re-raised with ``raise ... from`` so the cause stays attached.
"""

__all__ = [
    "ArchiveError",
    "ConfigError",
    "DuplicateJobError",
    "EpmtGraphError",
    "QueryError",
    "RenderError",
    "ServerError",
    "UnsafePickleError",
]


class EpmtGraphError(Exception):
    """Base class of every error epmt_graph raises on purpose."""


class ConfigError(EpmtGraphError):
    """A setting (environment variable, flag, file) is missing or malformed."""


class ServerError(EpmtGraphError):
    """The local Neo4j server cannot be provisioned, started, reached or stopped."""


class ArchiveError(EpmtGraphError):
    """An EPMT archive or job directory is unreadable, malformed or unsafe.

    The message names the file (and the line, where there is one). Nothing is written
    to the graph when this is raised.
    """


class UnsafePickleError(ArchiveError):
    """A ``job_metadata`` pickle asks for a type outside the short allowed list."""


class DuplicateJobError(EpmtGraphError):
    """A different archive with the same jobid is already loaded (use ``replace=True``)."""


class QueryError(EpmtGraphError):
    """A query argument is invalid: an unknown field, a malformed tag, a string filter, ..."""


class RenderError(EpmtGraphError):
    """A picture cannot be made: no headless browser found, or it failed or timed out."""
