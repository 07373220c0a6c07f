"""A real Neo4j Community server on loopback, run from Maven Central jars.

The server's home folder holds ``conf/neo4j.conf``, ``data/``, ``logs/``, ``server.pid``
and, with authentication on, ``credentials`` (mode 0600): the generated password of the
``neo4j`` user. The password is written into Neo4j's ``auth.ini`` before the first start,
so it never appears on a command line and the server never runs with a default password.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import neo4j
from neo4j.exceptions import AuthError, ServiceUnavailable

from epmt_graph.config import Connection
from epmt_graph.errors import ServerError
from epmt_graph.server.toolchain import find_java, provision

__all__ = ["LocalServer", "ServerSettings", "port_is_free"]

_HASH_ITERATIONS = 1024
_JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be bound now, as a server binds it (``SO_REUSEADDR``): a
    port with a live listener is taken, one left in TIME_WAIT by a killed server is not.

    Examples
    --------
    >>> with socket.socket() as s:
    ...     s.bind(("127.0.0.1", 0))
    ...     s.listen()
    ...     port_is_free(s.getsockname()[1])
    False
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class ServerSettings:
    """What a local server is started with; kept in ``<home>/settings.json``.

    Attributes
    ----------
    bolt_port, http_port : int
        Loopback ports for Bolt and for HTTP (which also serves the Neo4j Browser).
    auth : bool
        Authentication on (the default) with a generated password, or off for throwaway
        test servers.
    heap, pagecache : str
        JVM heap and page cache sizes, in Neo4j's notation (``"2g"``, ``"512m"``).
    """

    bolt_port: int = 7687
    http_port: int = 7474
    auth: bool = True
    heap: str = "2g"
    pagecache: str = "1g"

    def neo4j_conf(self, home: Path) -> str:
        """The text of ``neo4j.conf`` for a server whose home is ``home``."""
        lines = {
            "server.default_listen_address": "127.0.0.1",
            "server.default_advertised_address": "127.0.0.1",
            "server.bolt.listen_address": f"127.0.0.1:{self.bolt_port}",
            "server.bolt.advertised_address": f"127.0.0.1:{self.bolt_port}",
            "server.http.listen_address": f"127.0.0.1:{self.http_port}",
            "server.http.advertised_address": f"127.0.0.1:{self.http_port}",
            "server.https.enabled": "false",
            "server.directories.data": str(home / "data"),
            "server.directories.logs": str(home / "logs"),
            "server.directories.run": str(home / "run"),
            "dbms.security.auth_enabled": str(self.auth).lower(),
            "server.memory.heap.initial_size": self.heap,
            "server.memory.heap.max_size": self.heap,
            "server.memory.pagecache.size": self.pagecache,
            # nothing leaves the machine: no usage reports from the server, no product
            # analytics from the Neo4j Browser (nor its consent banner), no driver telemetry
            # (5.26's names; clients.allow_telemetry is the deprecated spelling)
            "dbms.usage_report.enabled": "false",
            "client.allow_telemetry": "false",
            "server.bolt.telemetry.enabled": "false",
            "db.tx_log.rotation.retention_policy": "2 files",
            # Cypher's query cache keys a plan by the parameters' types and, by default,
            # their sizes in powers of ten too (a jobid of 6 characters and one of 18, a
            # batch of 3,000 rows and one of 500, are planned apart), so the warm-up's plans
            # would serve only jobs of its own sizes: keyed by types only, they serve every
            # job (docs/performance.md, "A warm first load")
            "internal.cypher.use_parameter_size": "false",
        }
        return "".join(f"{key}={value}\n" for key, value in lines.items())


class LocalServer:
    """A Neo4j server living in one home folder.

    Parameters
    ----------
    home : Path
        Its folder: config, data, logs, pid file and credentials.
    """

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    @property
    def settings(self) -> ServerSettings:
        """The settings it was last started with (defaults if never started)."""
        path = self.home / "settings.json"
        if not path.exists():
            return ServerSettings()
        return ServerSettings(**json.loads(path.read_text()))

    @property
    def credentials_file(self) -> Path:
        """The file holding the ``neo4j`` user's password (readable by its owner only)."""
        return self.home / "credentials"

    def connection(self, database: str = "neo4j") -> Connection:
        """How to reach this server over Bolt."""
        settings = self.settings
        password = None
        if settings.auth:
            if not self.credentials_file.exists():
                raise ServerError(
                    f"no local server has been started in {self.home} "
                    "(run `epmt-graph server start`, or set NEO4J_URI)"
                )
            password = self.credentials_file.read_text().strip()
        return Connection(
            uri=f"bolt://127.0.0.1:{settings.bolt_port}", password=password, database=database
        )

    def pid(self) -> int | None:
        """The server's process id, or None when it is not running."""
        try:
            pid = int((self.home / "server.pid").read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        except PermissionError:
            return pid
        return pid

    def is_running(self) -> bool:
        """Whether the server process is alive and Bolt answers."""
        return self.pid() is not None and self._bolt_answers()

    def start(self, settings: ServerSettings | None = None, *, timeout: float = 180.0) -> bool:
        """Start the server and wait until Bolt answers.

        Parameters
        ----------
        settings : ServerSettings, optional
            Ports, auth and memory; default: the last ones used in this home.
        timeout : float
            Seconds to wait for Bolt.

        Returns
        -------
        bool
            True if it was started, False if it was already running.

        Raises
        ------
        ServerError
            Java or Maven missing, a port in use, or the server failing to come up
            (the end of its log is included).
        """
        if self.pid() is not None:
            return False
        settings = settings or self.settings
        for port in (settings.bolt_port, settings.http_port):
            if not port_is_free(port):
                raise ServerError(
                    f"port {port} on 127.0.0.1 is already in use by another program; "
                    "choose free ports with --bolt-port/--http-port"
                )
        java = find_java()
        lib = provision()
        self._prepare(settings)
        console = self.home / "logs" / "console.log"
        with console.open("ab") as out:
            process = subprocess.Popen(
                [
                    java,
                    *_JVM_OPTIONS,
                    # neo4j.conf's heap sizes reach the JVM only through Neo4j's launcher
                    # script, which is not used here: the JVM takes them as flags
                    f"-Xms{settings.heap}",
                    f"-Xmx{settings.heap}",
                    "-cp",
                    f"{self.home / 'plugins'}/*:{self.home / 'conf'}/*:{lib}/*",
                    "org.neo4j.server.CommunityEntryPoint",
                    f"--home-dir={self.home}",
                    f"--config-dir={self.home / 'conf'}",
                    "--console-mode",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.home,
            )
        (self.home / "server.pid").write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerError(
                    f"Neo4j exited with code {process.returncode} while starting; "
                    f"the end of {console}:\n{_tail(console)}"
                )
            if self._bolt_answers():
                return True
            time.sleep(0.5)
        self.stop()
        raise ServerError(f"Neo4j did not answer on Bolt within {timeout:.0f}s; see {console}")

    def stop(self, *, timeout: float = 60.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` seconds).

        Returns
        -------
        bool
            True if a running server was stopped, False if none was running.
        """
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            (self.home / "server.pid").unlink()
        return True

    def collect_garbage(self, *, timeout: float = 120.0) -> bool:
        """Have the server's JVM collect its whole heap now (``jcmd PID GC.run``).

        After the warm-up, so that the first load does not pay for collecting the warm-up's
        garbage: measured, the first load then spent no GC time, against 0.05-0.26 s of GC
        CPU without it. ``jcmd`` comes with a JDK: the one beside the server's own ``java``
        is used (else one on ``PATH``); with a bare JRE this does nothing.

        Returns
        -------
        bool
            Whether the heap was collected (False: the server is not running, or no
            ``jcmd`` was found, or it failed).

        Examples
        --------
        >>> import tempfile
        >>> LocalServer(Path(tempfile.mkdtemp())).collect_garbage()  # not running
        False
        """
        pid = self.pid()
        if pid is None or (jcmd := _jcmd(pid)) is None:
            return False
        try:
            done = subprocess.run(
                [jcmd, str(pid), "GC.run"], capture_output=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def _prepare(self, settings: ServerSettings) -> None:
        for folder in ("conf", "data", "logs", "plugins", "run"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        (self.home / "settings.json").write_text(json.dumps(settings.__dict__, indent=2) + "\n")
        (self.home / "conf" / "neo4j.conf").write_text(settings.neo4j_conf(self.home))
        auth_ini = self.home / "data" / "dbms" / "auth.ini"
        if settings.auth and not self.credentials_file.exists():
            password = secrets.token_urlsafe(24)
            _write_private(self.credentials_file, password + "\n")
            auth_ini.parent.mkdir(parents=True, exist_ok=True)
            _write_private(auth_ini, _auth_ini_line("neo4j", password))

    def _bolt_answers(self) -> bool:
        try:
            connection = self.connection()
        except ServerError:
            return False
        auth = None if connection.password is None else (connection.user, connection.password)
        try:
            with neo4j.GraphDatabase.driver(connection.uri, auth=auth) as driver:
                driver.verify_connectivity()
        except (ServiceUnavailable, OSError):
            return False
        except AuthError as exc:
            raise ServerError(
                f"the server in {self.home} refuses the password in {self.credentials_file}"
            ) from exc
        return True


def _jcmd(pid: int) -> str | None:
    """``jcmd`` beside the ``java`` that runs process ``pid``, else the one on ``PATH``."""
    try:
        beside = Path(os.readlink(f"/proc/{pid}/exe")).parent / "jcmd"
    except OSError:
        return shutil.which("jcmd")
    return str(beside) if beside.exists() else shutil.which("jcmd")


def _auth_ini_line(user: str, password: str) -> str:
    """Neo4j's stored credential: iterated salted SHA-256, as ``neo4j-admin`` writes it."""
    salt = secrets.token_bytes(32)
    digest = hashlib.sha256(salt + password.encode()).digest()
    for _ in range(_HASH_ITERATIONS - 1):
        digest = hashlib.sha256(digest).digest()
    return f"{user}:SHA-256,{digest.hex()},{salt.hex()},{_HASH_ITERATIONS}:\n"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
