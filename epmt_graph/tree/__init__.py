"""Tree views of a job: a process-tree frame, a text tree, exports and an offline picture.

After LLNL hatchet: one result object (:class:`ProcessTree`, a frame indexed by process
id, fetched with one named query) and separate renderers that take it:
:func:`render_text` (indented, folded below a CPU threshold), :func:`export_text` and
:func:`write_export` (GraphML, JSON) and :func:`picture` (a self-contained interactive
HTML page, and a PNG of it).

Examples
--------
>>> from epmt_graph.tree import ProcessTree, render_text, write_export
>>> tree = ProcessTree.of_job("685000")
>>> print(render_text(tree, threshold=10.0))
  inclusive   exclusive  process
  112.023 s     0.555 s  tcsh [6098]
                            … 3448 processes, 111.468 s
                          … 31 processes, 1.113 s
>>> hottest = tree.subtree(tree.critical_path()[1])  # the root's busiest child, and below it
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     path = write_export(hottest, "graphml", f"{folder}/hottest.graphml")
...     path.read_text().count("<node ")
86
"""

from epmt_graph.tree.export import EXPORT_FORMATS, export_text, graphml_graph, to_json, write_export
from epmt_graph.tree.fold import Row, fold
from epmt_graph.tree.frame import ProcessTree
from epmt_graph.tree.picture import Picture, picture
from epmt_graph.tree.text import render_text

__all__ = [
    "EXPORT_FORMATS",
    "Picture",
    "ProcessTree",
    "Row",
    "export_text",
    "fold",
    "graphml_graph",
    "picture",
    "render_text",
    "to_json",
    "write_export",
]
