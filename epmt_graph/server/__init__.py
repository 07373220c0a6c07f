"""The local Neo4j server: provisioned from Maven Central, started on loopback."""

from epmt_graph.server.local import LocalServer, ServerSettings, port_is_free
from epmt_graph.server.toolchain import find_java, provision

__all__ = ["LocalServer", "ServerSettings", "find_java", "port_is_free", "provision"]
