"""A Neo4j Browser guide that walks one job's process tree, built from the named queries.

A guide is an HTML page of ``<slide>`` sections that the Browser shows as a carousel
after ``:play <url>``; a click on a ``<pre class="runnable">`` block copies the block into
the editor. The first slide's block applies epmt_graph's style
(:mod:`epmt_graph.browser.style`), which captions every node. Each step of this guide has
two such blocks: its ``:param`` commands, then the body of a named ``.cypher`` file, read
from the package when the page is built, so the guide never diverges from the files. (One
block holding both would run as a script, whose frame lists the statements instead of
showing the table or the graph.) The prose of a step is the header comment of its file.

Examples
--------
>>> step = steps(GuideSpec())[0]
>>> step.query
'job-roots'
>>> param_command(step)
":param {jobids: ['685000']}"
>>> query_body(step.query).splitlines()[0]
'MATCH (h:JobHead)'
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from epmt_graph import cypher
from epmt_graph.browser.style import style_command
from epmt_graph.errors import ConfigError
from epmt_graph.schema import parse_tags, tag_pairs

__all__ = [
    "GUIDE_PATH",
    "GuideSpec",
    "Step",
    "cypher_literal",
    "description",
    "guide_html",
    "param_command",
    "query_body",
    "steps",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Characters the Browser's ``:param`` parser (jsonic) refuses raw inside a string.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Where the guide server serves the page.
GUIDE_PATH = "/epmt-guide.html"


@dataclass(frozen=True)
class GuideSpec:
    """The job (and the operation and process within it) that the guide walks.

    Attributes
    ----------
    jobid : str
        The job.
    op : str
        An operation's tag, ``"k:v"`` pairs separated by ``;`` (EPMT's notation).
    uid : str
        The process whose subtree is drawn (``"jobid:idx"``); the default is the first
        ``op:hsmget`` root of the sample job 685000, a ``perl`` with 85 descendants.
    top : int
        How many processes the last step lists.
    """

    jobid: str = "685000"
    op: str = "op:hsmget"
    uid: str = "685000:78"
    top: int = 10

    def __post_init__(self) -> None:
        if not tag_pairs(parse_tags(self.op)):
            raise ConfigError(f"operation tag {self.op!r} has no key:value pair")
        if self.top < 1:
            raise ConfigError(f"the number of top processes must be positive, not {self.top}")


@dataclass(frozen=True)
class Step:
    """One slide: a named query and the parameters it runs with."""

    title: str
    intro: str
    query: str
    params: Mapping[str, Any]


def steps(spec: GuideSpec) -> list[Step]:
    """The guide's steps: roots, an operation's roots, a subtree, the top CPU processes."""
    jobids = [spec.jobid]
    return [
        Step(
            "The job's roots",
            f"Job {spec.jobid} as EPMT's get_roots sees it: every process without a parent.",
            "job-roots",
            {"jobids": jobids},
        ),
        Step(
            "An operation's roots",
            f"The processes of {spec.op} whose parent is not in that operation (EPMT's op_roots).",
            "job-op-roots",
            {"jobids": jobids, "pairs": tag_pairs(parse_tags(spec.op))},
        ),
        Step(
            "A subtree, drawn",
            f"Process {spec.uid} and everything it started: paths, so the Browser draws "
            "the tree. Double-click a node to expand it; any uid from the tables above works.",
            "process-subtree",
            {"uid": spec.uid},
        ),
        Step(
            "Where the CPU went",
            f"The {spec.top} processes of the job with the most inclusive CPU time (their "
            "own plus their descendants', in microseconds), through the query behind "
            "get_procs.",
            "processes",
            {
                "jobids": jobids,
                "tags": None,
                "filter": [[]],
                "when": None,
                "hosts": None,
                "order": [{"f": "inclusive_cpu_time", "desc": True}],
                "skip": 0,
                "limit": spec.top,
            },
        ),
    ]


def cypher_literal(value: Any) -> str:
    """``value`` written as a Cypher literal, for a ``:param`` command.

    Strings escape ``\\`` and ``'``, and write control characters (line breaks included)
    as ``\\uXXXX``, which both Cypher and the Browser's ``:param`` parser read back; so the
    command stays on one line whatever the value.

    Examples
    --------
    >>> cypher_literal({"jobids": ["685000"], "when": None, "order": [{"desc": True}]})
    "{jobids: ['685000'], when: null, order: [{desc: true}]}"
    >>> cypher_literal({"a b": 1.5})
    '{`a b`: 1.5}'
    >>> cypher_literal("it's")
    "'it\\\\'s'"
    >>> print(cypher_literal("two\\nlines"))
    'two\\u000alines'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        escaped = _CONTROL.sub(lambda char: f"\\u{ord(char[0]):04x}", escaped)
        return f"'{escaped}'"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(key)}: {cypher_literal(item)}" for key, item in value.items())
        return "{" + items + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(cypher_literal(item) for item in value) + "]"
    raise TypeError(f"no Cypher literal for {type(value).__name__}")


def _key(name: str) -> str:
    if _NAME.fullmatch(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def query_body(name: str) -> str:
    """The statement of ``<name>.cypher`` without its ``//`` header lines."""
    lines = cypher.query(name).splitlines()
    return "\n".join(line for line in lines if not line.startswith("//")).strip()


def description(name: str) -> str:
    """What ``<name>.cypher`` answers: its header comment up to ``Parameters:``."""
    text = []
    for line in cypher.query(name).splitlines():
        if not line.startswith("//") or line.startswith("// Parameters"):
            break
        text.append(line.removeprefix("//").strip())
    return " ".join(text)


def param_command(step: Step) -> str:
    """The ``:param`` command that sets a step's parameters in the Browser.

    The map form replaces every parameter, but the Browser reads it as JSON, so its
    numbers become floats, which ``SKIP`` and ``LIMIT`` refuse: integers are then set one
    by one with ``name => value``, which Cypher evaluates, in the same block.

    Examples
    --------
    >>> print(param_command(Step("", "", "processes", {"jobids": ["1"], "limit": 10})))
    :param {jobids: ['1']};
    :param limit => 10
    """
    integers = {
        key: value
        for key, value in step.params.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }
    rest = {key: value for key, value in step.params.items() if key not in integers}
    commands = [f":param {cypher_literal(rest)}"]
    commands += [f":param {_key(key)} => {value}" for key, value in integers.items()]
    return ";\n".join(commands)


def guide_html(spec: GuideSpec | None = None) -> str:
    """The guide page for ``spec`` (default: the sample job 685000)."""
    spec = spec or GuideSpec()
    slides = [_intro_slide(spec)]
    for number, step in enumerate(steps(spec), 1):
        slides.append(
            "<slide>\n"
            f"<h3>{number}. {html.escape(step.title)}</h3>\n"
            f"<p>{html.escape(step.intro)}</p>\n"
            f"<p><code>{step.query}.cypher</code>: {html.escape(description(step.query))}</p>\n"
            f'<pre mode="cypher" class="runnable">{html.escape(param_command(step))}</pre>\n'
            f'<pre mode="cypher" class="runnable">{html.escape(query_body(step.query))}</pre>\n'
            "</slide>\n"
        )
    title = f"Walk the process tree of job {spec.jobid}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f'<article class="guide">\n{"".join(slides)}</article>\n</body>\n</html>\n'
    )


def _intro_slide(spec: GuideSpec) -> str:
    return (
        "<slide>\n"
        f"<h3>Walk the process tree of job {html.escape(spec.jobid)}</h3>\n"
        "<p>epmt_graph stores each EPMT process as a <code>(:Process)</code> node, linked "
        "to its children by <code>[:PARENT_OF]</code> and to its job by "
        "<code>[:BELONGS_TO]</code>.</p>\n"
        "<p>Each step is a named query of epmt_graph, as it ships in "
        "<code>epmt_graph/cypher/</code>, and its parameters. Click a block to copy it "
        "into the editor, then run it: first the <code>:param</code> line, which sets the "
        "parameters, then the query, which uses them.</p>\n"
        "<p>First run this block once: a style for the drawings (GRASS), so that a process "
        "shows its pid and executable, a job its id. The Browser keeps it; "
        "<code>:style reset</code> undoes it.</p>\n"
        f'<pre mode="cypher" class="runnable">{html.escape(style_command())}</pre>\n'
        "</slide>\n"
    )
