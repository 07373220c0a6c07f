"""An interactive picture of a process tree that works offline: one self-contained HTML page.

The page is an inline SVG with a few lines of inline script and style, and nothing else: no
external script, style sheet, font or image, and a Content-Security-Policy of
``default-src 'none'`` so a browser loads nothing even if asked. Processes are laid out
left to right by level, children by start time; a circle's area grows with inclusive CPU
time, its heat with exclusive CPU time. Scroll zooms, dragging pans, clicking a process
folds or unfolds its subtree, hovering shows its args, CPU times and tags. Subtrees below a
threshold fold into one grey "… N processes" node, as in the text tree. Given
``highlight`` (process id → score), those processes get a ring, red for a positive score
and blue for a negative one, labelled with it; their subtrees are outlined in the same
colour, a legend explains it, and nothing of theirs is folded away.

:meth:`Picture.save_png` takes a screenshot of the page with a headless Chromium;
:attr:`Picture.svg` is the drawing alone, a standalone SVG document.

Examples
--------
>>> from epmt_graph.tree.frame import ProcessTree
>>> tree = ProcessTree.from_rows([
...     {"id": "a", "parent": None, "pid": 1, "exename": "sh", "cpu_time": 5},
...     {"id": "b", "parent": "a", "pid": 2, "exename": "<cc>", "cpu_time": 7},
... ])
>>> page = picture(tree, title="tiny").html
>>> page.count('<g class="n'), "&lt;cc&gt; [2]" in page, "http://" in page
(2, True, False)
>>> marked = picture(tree, highlight={"b": 4.5})  # b's ring, and the legend's
>>> "score +4.5" in marked.svg, marked.svg.count(UP), marked.svg.startswith("<?xml")
(True, 2, True)
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from epmt_graph.errors import RenderError
from epmt_graph.tree.fold import Row, fold
from epmt_graph.tree.frame import ProcessTree

__all__ = ["BROWSERS", "DOWN", "UP", "Picture", "picture"]

#: Headless browsers :meth:`Picture.save_png` looks for on the PATH, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_DX, _DY, _LABEL_ROOM = 200, 18, 320
_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
#: The colours of highlighted subtrees: a positive score, a negative one.
UP, DOWN = "#d62728", "#1f77b4"
_SVG_NAMESPACE = "http://www.w3.org/2000/svg"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_PAGE_STYLE = """
html, body { margin: 0; height: 100%; overflow: hidden; font: 12px sans-serif; }
#head { position: fixed; top: 6px; left: 8px; background: #fffe; padding: 2px 6px; }
svg { width: 100vw; height: 100vh; cursor: grab; user-select: none; }
"""
_STYLE = """
svg { font: 12px sans-serif; }
path.e { fill: none; stroke: #999; stroke-width: 1; }
circle { stroke: #733; stroke-width: 1; cursor: pointer; }
g.fold > circle { fill: #ddd; stroke: #888; stroke-dasharray: 2 2; }
g.shut > circle { stroke-width: 4; }
g.shut > g.n { display: none; }
text { dominant-baseline: middle; }
"""

_SCRIPT = """
const svg = document.querySelector("svg");
let [x, y, w, h] = svg.getAttribute("viewBox").split(" ").map(Number);
let grab = null, moved = false;
const show = () => svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
function at(e) {
  const p = svg.createSVGPoint();
  p.x = e.clientX; p.y = e.clientY;
  return p.matrixTransform(svg.getScreenCTM().inverse());
}
svg.addEventListener("wheel", (e) => {
  e.preventDefault();
  const p = at(e), k = e.deltaY > 0 ? 1.2 : 1 / 1.2;
  x = p.x - (p.x - x) * k; y = p.y - (p.y - y) * k; w *= k; h *= k;
  show();
}, { passive: false });
svg.addEventListener("pointerdown", (e) => { grab = at(e); moved = false; });
svg.addEventListener("pointermove", (e) => {
  if (!grab) return;
  const p = at(e);
  if (Math.abs(p.x - grab.x) + Math.abs(p.y - grab.y) > 1) moved = true;
  x -= p.x - grab.x; y -= p.y - grab.y;
  show();
});
svg.addEventListener("pointerup", () => { grab = null; });
svg.addEventListener("click", (e) => {
  const node = e.target.closest("g.n");
  if (node && !moved && node.querySelector("g.n")) node.classList.toggle("shut");
});
"""


def _text(value: object) -> str:
    """``value`` escaped for HTML text and attributes; "/" as ``&#47;`` (renders the same) so
    a URL in the data cannot look like a reference in the page source; characters XML does
    not allow (C0 controls but tab and line ends) as U+FFFD, so the SVG stays well-formed."""
    return _NOT_XML.sub("\ufffd", html.escape(str(value)).replace("/", "&#47;"))


def _seconds(micros: int) -> str:
    return f"{micros / 1e6:.3f} s"


@dataclass(frozen=True)
class Picture:
    """A rendered picture: the HTML page, which Jupyter shows inline.

    Attributes
    ----------
    html : str
        The self-contained page.
    svg : str
        The drawing alone: a standalone SVG document with its style (no script).
    """

    html: str
    svg: str = ""

    def __repr__(self) -> str:
        return f"<Picture: {len(self.html):,} characters of self-contained HTML>"

    def _repr_html_(self) -> str:
        """The page in a sandboxed iframe, so its script and style stay inside."""
        page = html.escape(self.html, quote=True)
        return (
            f'<iframe srcdoc="{page}" sandbox="allow-scripts" '
            'style="width: 100%; height: 600px; border: 1px solid #ccc"></iframe>'
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def save_svg(self, path: str | Path) -> Path:
        """Write :attr:`svg` to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        path.write_text(self.svg, encoding="utf-8")
        return path

    def save_png(
        self,
        path: str | Path,
        *,
        size: tuple[int, int] = (1200, 800),
        browser: str | None = None,
        timeout: float = 120,
    ) -> Path:
        """A screenshot of the page, as first shown (the whole tree fitted), in ``path``.

        Parameters
        ----------
        path : str or Path
            The PNG to write.
        size : (int, int)
            Width and height of the window, in pixels.
        browser : str, optional
            A Chromium executable; default: the first of :data:`BROWSERS` on the PATH.
        timeout : float
            Seconds to wait for the browser.

        Raises
        ------
        RenderError
            If no browser is found, or it fails, times out or writes no PNG.
        """
        found = browser or next(filter(None, map(shutil.which, BROWSERS)), None)
        if found is None:
            raise RenderError(f"no headless browser for the PNG: install one of {BROWSERS}")
        path = Path(path).resolve()
        path.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="epmt-graph-picture-") as work:
            page = self.save(Path(work) / "tree.html")
            command = [
                found,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing leaves the machine
                "--hide-scrollbars",
                f"--user-data-dir={work}/profile",
                f"--window-size={size[0]},{size[1]}",
                f"--screenshot={path}",
                page.as_uri(),
            ]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            except (OSError, subprocess.TimeoutExpired) as error:
                raise RenderError(f"{found} could not take the screenshot: {error}") from error
        if done.returncode != 0 or not path.is_file():
            tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
            raise RenderError(f"{found} exited {done.returncode} without a PNG: {tail[0]}")
        return path


def _layout(rows: list[Row]) -> list[tuple[float, float]]:
    """(x, y) of each row: x by level; leaves on successive lines, parents centred."""
    kids: list[list[int]] = [[] for _ in rows]
    for index, row in enumerate(rows):
        if row.parent is not None:
            kids[row.parent].append(index)
    y = [0.0] * len(rows)
    line = 0
    for index in range(len(rows)):  # rows are in depth-first order: leaves top to bottom
        if not kids[index]:
            y[index], line = line * _DY, line + 1
    for index in reversed(range(len(rows))):  # children before parents
        if kids[index]:
            y[index] = (y[kids[index][0]] + y[kids[index][-1]]) / 2
    return [(row.level * _DX, y[i]) for i, row in enumerate(rows)]


def _node(row: Row, procs: dict[str, dict[str, Any]]) -> tuple[str, str, str]:
    """(class, label, tooltip) of a row; ``procs``: the processes' columns by id."""
    if row.proc is None:
        label = row.summary()
        return "n fold", label, f"{label} (each subtree below the threshold)"
    proc = procs[row.proc]
    name = f"{proc['exename']} [{proc['pid']}]"
    tags = proc.get("tags") or {}
    tip = [
        f"{name}  {row.proc}",
        str(proc.get("args") or "")[:300],
        f"inclusive {_seconds(row.cpu)}, exclusive {_seconds(proc['cpu_time'])}",
        ";".join(f"{k}:{v}" for k, v in sorted(tags.items())),
    ]
    return "n", f"{name}  {_seconds(row.cpu)}", "\n".join(t for t in tip if t)


def _tints(rows: list[Row], highlight: Mapping[str, float]) -> list[str | None]:
    """The colour of each row: its own score's if highlighted, else its parent row's."""
    tints: list[str | None] = []
    for row in rows:
        if row.proc is not None and row.proc in highlight:
            tints.append(UP if highlight[row.proc] >= 0 else DOWN)
        else:
            tints.append(None if row.parent is None else tints[row.parent])
    return tints


def _legend(y: float) -> list[str]:
    """What the colours mean, from ``y`` down."""
    lines = [
        (UP, "a subtree above the references (score > 0)"),
        (DOWN, "a subtree below the references (score < 0)"),
    ]
    parts = ['<g class="legend">']
    for step, (colour, words) in enumerate(lines):
        at = y + step * _DY
        parts.append(
            f'<circle cx="0" cy="{at}" r="6" style="fill: #fff; stroke: {colour}; '
            f'stroke-width: 4"/><text x="12" y="{at}">{_text(words)}</text>'
        )
    parts.append("</g>")
    return parts


def _svg(tree: ProcessTree, rows: list[Row], highlight: Mapping[str, float]) -> tuple[str, str]:
    """The SVG's viewBox and body: one nested group per row, so hiding a group hides its
    subtree; then the legend, if anything is highlighted."""
    spots = _layout(rows)
    frame = tree.frame
    procs = dict(zip(frame.index, frame.to_dict("records"), strict=True))
    cpu = tree.values("cpu_time")
    tints = _tints(rows, highlight)
    top = max((row.cpu for row in rows), default=0) or 1
    hottest = max((cpu[row.proc] for row in rows if row.proc is not None), default=0) or 1
    width = max((x for x, _ in spots), default=0) + _DX + _LABEL_ROOM
    bottom = max((y for _, y in spots), default=0)
    height = bottom + (7 if highlight else 4) * _DY
    parts = []
    for index, row in enumerate(rows):
        x, y = spots[index]
        kind, label, tip = _node(row, procs)
        heat = 0.0 if row.proc is None else cpu[row.proc] / hottest
        radius = 3 + 9 * (row.cpu / top) ** 0.5
        parts.append(f'<g class="{kind}">')
        if row.parent is not None:
            px, py = spots[row.parent]
            middle = (px + x) / 2
            stroke = f' style="stroke: {tints[row.parent]}"' if tints[row.parent] else ""
            parts.append(
                f'<path class="e" d="M{px},{py} C{middle},{py} {middle},{y} {x},{y}"{stroke}/>'
            )
        style = f"fill: hsl(15, 90%, {92 - 50 * heat:.0f}%)"
        if row.proc is not None and row.proc in highlight:
            style += f"; stroke: {tints[index]}; stroke-width: 4"
            label += f"  score {highlight[row.proc]:+.1f}"
        elif tints[index]:
            style += f"; stroke: {tints[index]}; stroke-width: 2"
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="{radius:.1f}" style="{style}">'
            f"<title>{_text(tip)}</title></circle>"
            f'<text x="{x + radius + 4:.1f}" y="{y}">{_text(label)}</text>'
        )
        following = rows[index + 1].level if index + 1 < len(rows) else 0
        parts.append("</g>" * (row.level - following + 1))
    if highlight:
        parts.extend(_legend(bottom + 3 * _DY))
    return f"-20 -{3 * _DY} {width} {height}", "\n".join(parts)


def picture(
    tree: ProcessTree,
    threshold: float = 0.0,
    title: str = "process tree",
    highlight: Mapping[str, float] | None = None,
) -> Picture:
    """The interactive, offline picture of a tree.

    Parameters
    ----------
    tree : ProcessTree
    threshold : float
        Seconds of inclusive CPU time; sibling subtrees below it are drawn as one grey node.
    title : str
        Shown at the top left, with the number of processes.
    highlight : mapping of process id to float, optional
        Processes whose subtrees to colour, each with its score (its sign picks the colour:
        :data:`UP` or :data:`DOWN`); they and their ancestors are never folded. Ids not in
        the tree are ignored.

    Returns
    -------
    Picture
        ``.html`` is the page, ``.svg`` the drawing alone; ``.save(path)``,
        ``.save_svg(path)``, ``.save_png(path)``; Jupyter shows it.
    """
    marked = {p: float(v) for p, v in (highlight or {}).items() if p in tree}
    rows = fold(tree, threshold, keep=marked)
    head = (
        f"{_text(title)}: {len(tree)} processes, {len(rows)} shown. "
        "Scroll: zoom; drag: pan; click: fold or unfold; hover: details."
    )
    box, body = _svg(tree, rows, marked)
    return Picture(
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        f"<title>{_text(title)}</title>\n<style>{_PAGE_STYLE}{_STYLE}</style></head>\n"
        f'<body><div id="head">{head}</div>\n<svg viewBox="{box}">\n{body}\n</svg>\n'
        f"<script>{_SCRIPT}</script></body></html>\n",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="{_SVG_NAMESPACE}" viewBox="{box}">\n<title>{_text(title)}</title>\n'
        f"<style>{_STYLE}</style>\n{body}\n</svg>\n",
    )
