"""What the graph stores, described once: the loader writes it and the API reads it.

Neither side describes a node on its own: labels, properties and their types, the
fields a Process node packs in lists (its metrics, ...) and their slots
(:mod:`~epmt_graph.schema.fields`), the row ↔ node conversion
(:mod:`~epmt_graph.schema.rows`), tag parsing and canonical form
(:mod:`~epmt_graph.schema.tags`) and the tree values (:mod:`~epmt_graph.schema.trees`)
live here. This package imports nothing else of epmt_graph.

Examples
--------
>>> from epmt_graph import schema
>>> schema.tag_string(schema.parse_tags("op:hsmget")), len(schema.PROCESS_METRICS)
('op:hsmget', 24)
"""

from epmt_graph.schema.fields import (
    EDGES,
    JOB_PROPERTIES,
    LABELS,
    METRIC_SLOTS,
    PACKED_SLOTS,
    PAPIEX_FIELDS,
    PAPIEX_PROCESS_COLUMNS,
    PROCESS_METRICS,
    PROCESS_PACKED,
    PROCESS_PROPERTIES,
    REFMODEL_EDGE,
    REFMODEL_LABEL,
    REFMODEL_PROPERTIES,
)
from epmt_graph.schema.rows import Row, node_properties, row_properties, thread_rows
from epmt_graph.schema.tags import parse_tags, tag_pairs, tag_string
from epmt_graph.schema.trees import tree_values

__all__ = [
    "EDGES",
    "JOB_PROPERTIES",
    "LABELS",
    "METRIC_SLOTS",
    "PACKED_SLOTS",
    "PAPIEX_FIELDS",
    "PAPIEX_PROCESS_COLUMNS",
    "PROCESS_METRICS",
    "PROCESS_PACKED",
    "PROCESS_PROPERTIES",
    "REFMODEL_EDGE",
    "REFMODEL_LABEL",
    "REFMODEL_PROPERTIES",
    "Row",
    "node_properties",
    "parse_tags",
    "row_properties",
    "tag_pairs",
    "tag_string",
    "thread_rows",
    "tree_values",
]
