"""The named queries as Neo4j Browser favorites.

The Browser imports favorites by drag and drop: one ``.cypher`` file (it offers "Save to
favorites"), or a ``.zip`` of them, each file becoming a favorite in the folder its path
names. A favorite is called by its first line, minus ``//``; each favorite here starts
with ``// <name>`` so it keeps its file's name, followed by the file as it ships.
Only the questions are exported: the statements that write (loading, deleting, the tree
walks) stay out of the Browser.

Examples
--------
>>> "job-roots" in favorite_names() and "load-job" not in favorite_names()
True
>>> favorite_text("job-roots").splitlines()[0]
'// job-roots'
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from epmt_graph import cypher
from epmt_graph.browser.guide import query_body
from epmt_graph.errors import ConfigError

__all__ = ["FAVORITES_FOLDER", "favorite_names", "favorite_text", "write_favorites"]

#: The favorites folder the zip's files land in.
FAVORITES_FOLDER = "epmt-graph"
_WRITES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|DETACH|REMOVE)\b", re.IGNORECASE)


def favorite_names() -> list[str]:
    """The named queries that only read: the ones worth a favorite."""
    return [name for name in cypher.names() if not _WRITES.search(query_body(name))]


def favorite_text(name: str) -> str:
    """The favorite for ``<name>.cypher``: a ``// <name>`` line, then the file."""
    return f"// {name}\n{cypher.query(name)}"


def write_favorites(folder: Path) -> Path:
    """Write every favorite into ``folder``, as ``.cypher`` files and as one zip.

    Parameters
    ----------
    folder : Path
        Created if missing; files of the same names are replaced.

    Returns
    -------
    Path
        The zip (``epmt-graph-favorites.zip``): drop it on the Browser to import every
        favorite into the folder ``epmt-graph``.

    Raises
    ------
    ConfigError
        If ``folder`` cannot be created or written.
    """
    archive = folder / "epmt-graph-favorites.zip"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name in favorite_names():
                text = favorite_text(name)
                (folder / f"{name}.cypher").write_text(text)
                bundle.writestr(f"{FAVORITES_FOLDER}/{name}.cypher", text)
    except OSError as exc:
        raise ConfigError(f"cannot write the favorites into {folder}: {exc.strerror}") from exc
    return archive
