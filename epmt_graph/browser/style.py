"""The Neo4j Browser style (GRASS) for epmt_graph's graph: a caption on every node.

Without it the Browser picks one property per label by its name (a process shows its
executable, not which of the job's many ``tcsh`` it is). With it a process shows its pid
and executable (``6253 perl``; a name too wide for the circle is cut with "…"), a job and
its head their job id, a reference model its name; each label has its own colour. GRASS
picks a style by label only (never by a property's value), so depth and operation are not
colours: a process's ``depth`` and ``tags`` are in the Browser's details pane, a click away.

The guide applies it (a ``:style`` block on its first slide); ``epmt-graph browser
--style FILE`` writes it, to drop on the Browser; ``--serve-guide`` also serves it at
:data:`STYLE_PATH`, for ``:style http://localhost:7480/epmt-graph.grass``.

Examples
--------
>>> print(grass().splitlines()[0])
node {
>>> NODE_STYLES["Process"]["caption"]
'{pid} {exename}'
>>> style_command().startswith(":style node {")
True
"""

from __future__ import annotations

from collections.abc import Mapping

from epmt_graph.schema.fields import REFMODEL_LABEL

__all__ = ["NODE_STYLES", "STYLE_FILE", "STYLE_PATH", "grass", "style_command"]

#: The style's file name, and where the guide server serves it.
STYLE_FILE = "epmt-graph.grass"
STYLE_PATH = f"/{STYLE_FILE}"

#: Every node, then every relationship, unless a label's rule says otherwise (the
#: Browser's own defaults, which a ``:style`` replaces with what it is given).
_NODE = {
    "diameter": "50px",
    "color": "#A5ABB6",
    "border-color": "#9AA1AC",
    "border-width": "2px",
    "text-color-internal": "#FFFFFF",
    "font-size": "10px",
}
_RELATIONSHIP = {
    "color": "#A5ABB6",
    "shaft-width": "1px",
    "font-size": "8px",
    "padding": "3px",
    "text-color-external": "#000000",
    "text-color-internal": "#FFFFFF",
    "caption": "<type>",
}
#: Each label of a stored job, and a reference model: its caption (``{property}``
#: placeholders) and colours.
NODE_STYLES: Mapping[str, Mapping[str, str]] = {
    "Process": {
        # the pid first: the Browser cuts a caption too wide for the circle at its end
        "caption": "{pid} {exename}",
        "diameter": "60px",
        "font-size": "9px",
        "color": "#68BDF6",
        "border-color": "#5CA8DB",
        "text-color-internal": "#FFFFFF",
    },
    "Job": {
        "caption": "{jobid}",
        "diameter": "65px",
        "color": "#F79767",
        "border-color": "#F36924",
        "text-color-internal": "#FFFFFF",
    },
    "JobHead": {
        "caption": "{jobid}",
        "diameter": "65px",
        "color": "#FFD86E",
        "border-color": "#EDBA39",
        "text-color-internal": "#604A0E",
    },
    REFMODEL_LABEL: {
        "caption": "{name}",
        "diameter": "65px",
        "color": "#C990C0",
        "border-color": "#B261A5",
        "text-color-internal": "#FFFFFF",
    },
}


def _rule(selector: str, properties: Mapping[str, str]) -> str:
    lines = "".join(f"  {key}: {_value(key, value)};\n" for key, value in properties.items())
    return f"{selector} {{\n{lines}}}\n"


def _value(key: str, value: str) -> str:
    return f'"{value}"' if key == "caption" else value


def grass() -> str:
    """The style as GRASS text: a ``.grass`` file's content."""
    rules = [_rule("node", _NODE), _rule("relationship", _RELATIONSHIP)]
    rules += [_rule(f"node.{label}", style) for label, style in NODE_STYLES.items()]
    return "\n".join(rules)


def style_command() -> str:
    """The Browser command that applies the style: ``:style`` and the GRASS text."""
    return f":style {grass()}"
