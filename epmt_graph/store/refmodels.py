"""Reference models written whole from elsewhere: the migrator's, with their own ids.

The API builds and numbers its models itself (``epmt_graph.api.refmodels``); a model
migrated from an EPMT database keeps EPMT's id, name, scores and stamps. :func:`put_model`
writes one in one transaction, through the same named queries (``refmodel-create``, then
``refmodel-set`` for its ``updated`` stamp), linked to the JobHeads of its jobs, unless the
id or the name is taken: by the same model (a migration run again), which is left as it is,
or by another, which is refused.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

import neo4j

from epmt_graph import cypher
from epmt_graph.db import Graph

__all__ = ["Put", "put_model"]

#: The properties that make a model the same model.
_SAME = ("name", "tags", "op_tags_json", "computed_json", "info_json", "enabled", "created")


class Put(enum.Enum):
    """What :func:`put_model` did."""

    CREATED = "created"
    UNCHANGED = "unchanged"
    #: The id or the name is another model's; nothing was written.
    TAKEN = "taken"
    #: A job of the model is not loaded; nothing was written.
    JOBS_MISSING = "jobs missing"


class _Refused(Exception):
    def __init__(self, why: Put) -> None:
        super().__init__(why.value)
        self.why = why


def _same(node: Mapping[str, Any], jobs: list[str], props: Mapping[str, Any]) -> bool:
    mine = {k: props[k] for k in _SAME}
    theirs = {k: node.get(k) for k in _SAME}
    if json.loads(mine["computed_json"]) == json.loads(theirs["computed_json"] or "null"):
        mine["computed_json"] = theirs["computed_json"]
    return mine == theirs and sorted(jobs) == sorted(props["jobids"])


def put_model(graph: Graph, props: dict[str, Any], updated: int | None) -> Put:
    """Write a model with the given ``id`` (and the other ``refmodel-create`` parameters),
    then its ``updated`` stamp (None: never updated), in one transaction.

    Returns
    -------
    Put
        ``CREATED``; ``UNCHANGED`` when that model is there already; ``TAKEN`` when its id or
        name is another model's, ``JOBS_MISSING`` when one of its jobs is not loaded (then
        nothing is written).
    """

    def work(tx: neo4j.ManagedTransaction) -> Put:
        found = tx.run(cypher.query("refmodel"), model=props["id"]).single()
        if found is not None:
            return Put.UNCHANGED if _same(found["r"], found["jobs"], props) else Put.TAKEN
        named = props["name"] is not None
        if named and tx.run(cypher.query("refmodel-by-name"), name=props["name"]).single():
            return Put.TAKEN
        record = tx.run(cypher.query("refmodel-create"), props).single()
        if record is None or record["linked"] != len(props["jobids"]):
            raise _Refused(Put.JOBS_MISSING)  # rolls the model back
        if updated is not None:
            params = {"model": props["id"], "enabled": None, "info_json": None, "updated": updated}
            tx.run(cypher.query("refmodel-set"), params).consume()
        return Put.CREATED

    graph.ensure_schema()
    try:
        return graph.execute_write(work)
    except _Refused as refused:
        return refused.why
