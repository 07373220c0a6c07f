"""Every exception epmt_graph raises on purpose.

Callers catch :class:`EpmtGraphError` for anything of ours; the subclasses say what went wrong.
Lower-level errors are re-raised with ``raise ... from`` so the cause stays attached.
"""

__all__ = [
    "ArchiveError",
    "CommitError",
    "ConfigError",
    "DatabaseError",
    "DuplicateJobError",
    "EpmtGraphError",
    "FieldError",
    "FieldTypeError",
    "MissingDependencyError",
    "ModelError",
    "NotFoundError",
    "OutlierError",
    "QueryError",
    "QueryTypeError",
    "RenderError",
    "ServerError",
    "ServerUnavailableError",
    "SourceError",
    "UnknownExperimentError",
    "UnknownJobError",
    "UnknownModelError",
    "UnknownProcessError",
    "UnsafePickleError",
]


class EpmtGraphError(Exception):
    """Base class of every error epmt_graph raises on purpose."""


class ConfigError(EpmtGraphError):
    """A setting (environment variable, flag, file) is missing or malformed."""


class ServerError(EpmtGraphError):
    """A Neo4j server cannot be provisioned, started, reached or stopped, or runs out of room."""


class ServerUnavailableError(ServerError):
    """A Neo4j server cannot be reached, or refuses the user name or password.

    The message names the URI and what to do: start the local server with
    ``epmt-graph server start``, or check ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``.
    """


class DatabaseError(EpmtGraphError):
    """The Neo4j server (or its driver) failed a query; the message has Neo4j's code and words."""


class ArchiveError(EpmtGraphError):
    """An EPMT archive or job directory is unreadable, malformed or unsafe.

    The message names the file (and the line, where there is one). Nothing is written
    to the graph when this is raised.
    """


class UnsafePickleError(ArchiveError):
    """A ``job_metadata`` pickle asks for a type outside the short allowed list."""


class DuplicateJobError(EpmtGraphError):
    """A different archive with the same jobid is already loaded (use ``replace=True``)."""


class QueryError(EpmtGraphError, ValueError):
    """A query argument is invalid: an unknown field, a malformed tag, a string filter, ...

    It is also a :class:`ValueError` (what EPMT raises for some bad arguments, e.g. an
    unknown ``op_duration_method``), so code catching that catches it too.
    """


class QueryTypeError(QueryError, TypeError):
    """A query argument is of a type the call cannot take, where EPMT raises ``TypeError``
    (``retire_jobs(ndays='x')``, ``delete_jobs(..., offset='x')``).

    It is a :class:`QueryError` (so a :class:`ValueError`) and a :class:`TypeError`.
    """


class NotFoundError(QueryError, KeyError):
    """Something an argument names is not there: a job, a process, a column.

    It is a :class:`QueryError` (so a :class:`ValueError`) and a :class:`KeyError`, which is
    what EPMT raises for an unknown job id (``Job['x']``, ``get_procs('x')``, ``root('x')``),
    so code written for EPMT that catches either catches it. Unlike a plain ``KeyError``,
    its message is shown as written, without quotes.

    Examples
    --------
    >>> error = UnknownJobError("job 'x' is not loaded")
    >>> isinstance(error, KeyError), isinstance(error, ValueError), str(error)
    (True, True, "job 'x' is not loaded")
    """

    def __str__(self) -> str:
        return Exception.__str__(self)


class UnknownJobError(NotFoundError):
    """A job id names no loaded job (where EPMT raises ``KeyError``, or fails on ``None``)."""


class UnknownExperimentError(NotFoundError):
    """No loaded job is tagged with the experiment named (``exp_name``), or with one of the
    components of it asked for (``exp_component``); the Explore API's, where EPMT returns
    ``False`` or nothing, or fails on an empty selection."""


class UnknownProcessError(NotFoundError):
    """A process id names no loaded process."""


class RenderError(EpmtGraphError):
    """A picture cannot be made: no headless browser found, or it failed or timed out."""


class UnknownModelError(QueryError, KeyError):
    """No reference model has the id given.

    It is also a :class:`KeyError`, what EPMT raises for ``ReferenceModel[id]``.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ModelError(EpmtGraphError, RuntimeError):
    """A reference model cannot be built or used: no usable feature, or the model is disabled.

    It is also a :class:`RuntimeError`, what EPMT raises in those cases.
    """


class MissingDependencyError(EpmtGraphError, ImportError):
    """An optional package a call needs is not installed (pyod for EPMT's multivariate
    classifiers); the message names the extra that installs it.

    It is also an :class:`ImportError`, what EPMT raises when pyod is missing.
    """


class OutlierError(QueryError, RuntimeError):
    """Outlier detection cannot run on what it was given: too few jobs for its classifiers
    without a reference model, a feature that is not numeric, a model built on other
    features or without the operations asked for.

    It is a :class:`QueryError` (so a :class:`ValueError`) and a :class:`RuntimeError`,
    what EPMT raises for too few jobs and for no usable feature.
    """


class FieldError(QueryError, AttributeError):
    """A record has no field of that name that can be changed (``j.no_such_field = 1``).

    It is also an :class:`AttributeError`, what Python raises for an unknown attribute.
    """


class FieldTypeError(QueryError, TypeError):
    """A value of the wrong type for a record's field (``j.start = "noon"``).

    It is also a :class:`TypeError` (and, as every :class:`QueryError`, a ``ValueError``).
    """


class CommitError(EpmtGraphError, RuntimeError):
    """Changed records could not be written: a delete or a load of one of their jobs came
    first. Nothing of the commit was written; its pending changes are dropped."""


class SourceError(EpmtGraphError):
    """An EPMT database to migrate from cannot be used: a malformed URL, a database that is
    not there or refuses the connection, one that is not EPMT's, or a job whose rows cannot
    make a job (the message names the job)."""
