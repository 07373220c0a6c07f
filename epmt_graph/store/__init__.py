"""A job as stored on the server, for every side that changes it: the loader and the API.

:mod:`~epmt_graph.store.versions` holds who may change a job's unpublished versions (leases)
and publishes them; :mod:`~epmt_graph.store.jobs` deletes jobs and keeps the batch and
transaction sizes; :mod:`~epmt_graph.store.trees` walks a stored tree again in the server.
The loader writes new versions through them, and the API deletes and re-walks jobs
through them without importing the loader.
"""

from epmt_graph.store.jobs import BATCH, TX_PROCESSES, delete_job, published
from epmt_graph.store.trees import compute_trees

__all__ = ["BATCH", "TX_PROCESSES", "compute_trees", "delete_job", "published"]
