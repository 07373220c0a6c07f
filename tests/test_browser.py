"""The Neo4j Browser surface: the guide, the favorites, ``epmt-graph browser``, and a real
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, through Selenium) that
connects the test server's Browser, runs the roots query of job 685000 and walks the guide.

Chromium may resolve no host but loopback; every wait is bounded. Screenshots are kept in
``test-artifacts/``.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port

from epmt_graph import cypher
from epmt_graph.browser import GuideServer, GuideSpec, favorite_names, guide_html
from epmt_graph.browser.favorites import favorite_text, write_favorites
from epmt_graph.browser.guide import param_command, query_body, steps
from epmt_graph.browser.style import NODE_STYLES, grass, style_command
from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.schema.fields import (
    JOB_PROPERTIES,
    LABELS,
    PACKED_SLOTS,
    PROCESS_PROPERTIES,
    REFMODEL_LABEL,
    REFMODEL_PROPERTIES,
)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SPEC = GuideSpec()
WAIT = 60.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    # loopback only: the Browser's fonts, telemetry and fallback guide hosts resolve nowhere
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


def expected_rows(graph: Graph, name: str, params: dict[str, Any]) -> list[Any]:
    return list(graph.driver.execute_query(cypher.query(name), params).records)


def test_each_step_runs_its_named_query_as_shipped() -> None:
    page = guide_html(SPEC)
    for step in steps(SPEC):
        assert query_body(step.query) in cypher.query(step.query)
        assert html.escape(query_body(step.query)) in page
        assert html.escape(param_command(step)) in page
        used = set(re.findall(r"\$([A-Za-z_]\w*)", query_body(step.query)))
        assert used == set(step.params), step.query
    assert page.count("<slide>") == 1 + len(steps(SPEC))


def test_the_steps_answer_on_the_sample_job(loaded_graph: Graph) -> None:
    roots, op_roots, subtree, top = (
        expected_rows(loaded_graph, step.query, dict(step.params)) for step in steps(SPEC)
    )
    assert len(roots) == 32
    assert SPEC.uid in {row["p"]["uid"] for row in op_roots}
    assert len({node.element_id for row in subtree for node in row["path"].nodes}) == 86
    cpu = [row["p"]["inclusive_cpu_time"] for row in top]
    assert len(cpu) == SPEC.top and cpu == sorted(cpu, reverse=True)


def test_the_style_captions_every_label_with_its_own_properties() -> None:
    properties = {
        "Process": PROCESS_PROPERTIES,
        "Job": JOB_PROPERTIES,
        "JobHead": {"jobid": str, "version": int},  # schema/fields.py's docstring
        REFMODEL_LABEL: REFMODEL_PROPERTIES,
    }
    assert set(NODE_STYLES) == {*LABELS, REFMODEL_LABEL} == set(properties)
    for label, style in NODE_STYLES.items():
        shown = re.findall(r"\{(\w+)\}", style["caption"])
        assert shown and set(shown) <= set(properties[label]), label
        assert not set(shown) & set(PACKED_SLOTS), "the Browser shows properties, not slots"
        assert f'node.{label} {{\n  caption: "{style["caption"]}";\n' in grass()


def test_favorites_zip_imports_into_one_folder(tmp_path: Path) -> None:
    archive = write_favorites(tmp_path)
    names = favorite_names()
    assert {"job-roots", "job-op-roots", "process-subtree", "processes"} <= set(names)
    assert not {"load-job", "delete-job-batch", "tree-depths", "schema"} & set(names)
    with zipfile.ZipFile(archive) as bundle:
        assert sorted(bundle.namelist()) == sorted(f"epmt-graph/{n}.cypher" for n in names)
        for name in names:
            text = bundle.read(f"epmt-graph/{name}.cypher").decode()
            assert text == favorite_text(name) == (tmp_path / f"{name}.cypher").read_text()
            assert text == f"// {name}\n{cypher.query(name)}"


def browser_cli(
    *args: str, home: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env |= {"EPMT_GRAPH_HOME": str(home), **(extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", "browser", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A local server's home as `server start` leaves it (never started: no pid file)."""
    (tmp_path / "settings.json").write_text(
        '{"bolt_port": 17687, "http_port": 17474, "auth": true, "heap": "1g", "pagecache": "1g"}'
    )
    (tmp_path / "credentials").write_text("s3cret-never-shown\n")
    return tmp_path


def test_cli_prints_where_and_never_the_password(home: Path) -> None:
    result = browser_cli(home=home)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "browser:     http://127.0.0.1:17474/browser/\n" in out
    assert "connect URL: bolt://127.0.0.1:17687\n" in out
    assert f"user:        neo4j, password in {home / 'credentials'}\n" in out
    assert "server:      not running" in out
    assert ":play http://localhost:7480/epmt-guide.html" in out
    assert "s3cret" not in out + result.stderr


def test_cli_describes_the_server_at_neo4j_uri(home: Path) -> None:
    extra = {"NEO4J_URI": "bolt://db.example:7687", "NEO4J_PASSWORD": "s3cret-never-shown"}
    result = browser_cli(home=home, extra=extra)
    assert result.returncode == 0, result.stderr
    assert "connect URL: bolt://db.example:7687\n" in result.stdout
    assert "password in NEO4J_PASSWORD" in result.stdout
    assert "s3cret" not in result.stdout


def test_cli_writes_favorites(home: Path, tmp_path: Path) -> None:
    result = browser_cli("--favorites", str(tmp_path / "fav"), home=home)
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(favorite_names())} queries" in result.stdout
    assert (tmp_path / "fav" / "job-roots.cypher").read_text() == favorite_text("job-roots")
    assert zipfile.is_zipfile(tmp_path / "fav" / "epmt-graph-favorites.zip")


def test_cli_writes_the_style(home: Path, tmp_path: Path) -> None:
    result = browser_cli("--style", str(tmp_path / "epmt.grass"), home=home)
    assert result.returncode == 0, result.stderr
    assert f"style:       wrote {tmp_path / 'epmt.grass'}; drop it on the Browser" in result.stdout
    assert (tmp_path / "epmt.grass").read_text() == grass()


def test_cli_serves_the_guide_until_stopped(home: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    command = [sys.executable, "-m", "epmt_graph.cli", "browser", "--serve-guide"]
    command += ["--guide-port", str(port), "--job", "685003"]
    with subprocess.Popen(
        command, env=env | {"EPMT_GRAPH_HOME": str(home)}, stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            page = fetch(f"http://localhost:{port}/epmt-guide.html")
            style = fetch(f"http://localhost:{port}/epmt-graph.grass")
        finally:
            server.terminate()
            out, _ = server.communicate(timeout=30)
    assert "<title>Walk the process tree of job 685003</title>" in page
    assert html.escape(":param {uid: '685003:0'}") in page
    assert f"guide:       in the Browser, :play http://localhost:{port}/epmt-guide.html" in out
    assert f"?cmd=play&arg=http://localhost:{port}/epmt-guide.html" in out
    assert style == grass()
    style_line = f"style:       the guide applies it, or :style http://localhost:{port}/"
    assert f"{style_line}epmt-graph.grass\n" in out


def fetch(url: str) -> str:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return str(answer.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--serve-guide", "--guide-port", "99999"], "cannot serve the guide on 127.0.0.1:99999"),
        (["--op", " ; "], "operation tag ' ; ' has no key:value pair"),
    ],
)
def test_cli_mistakes_are_one_line(home: Path, args: list[str], message: str) -> None:
    result = browser_cli(*args, home=home)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"epmt-graph: error: {message}")


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, with a fresh profile for each test."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        binary = None
    if binary is None or driver is None:
        message = (
            "missing optional tool: Debian's chromium and chromium-driver (apt-get install "
            "chromium chromium-driver) and selenium (pip install -e '.[test]')"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


class BrowserPage:
    """The Neo4j Browser in Chromium, used as a person would: editor, run button, frames."""

    FRAME = '[data-testid="frame"]'

    def __init__(self, driver: Any) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.by = driver, By
        self.wait = WebDriverWait(driver, WAIT).until

    def css(self, selector: str, within: Any = None) -> list[Any]:
        return list((within or self.driver).find_elements(self.by.CSS_SELECTOR, selector))

    def connect(self, http_url: str, connection: Connection) -> None:
        """Open the Browser and log in to the test server (no authentication if it has none)."""
        self.driver.get(f"{http_url}/browser/")
        self.wait(lambda _: self.css('[data-testid="authenticationMethod"]'))
        # the form fills the address in from the server's discovery answer, and may draw
        # itself again meanwhile: each step is retried until the form holds still
        self.settle(lambda: self.css('[data-testid="boltaddress"]')[0].get_attribute("value"))
        self.settle(lambda: self.fill_form(connection))
        self.settle(lambda: self.css('[data-testid="connect"]')[0].click() or True)
        # once connected, the Browser plays its start page
        self.wait(lambda _: ":play start" in self.commands())

    def fill_form(self, connection: Connection) -> bool:
        """Type the test server's address and credentials into the connect form."""
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import Select

        address = self.css('[data-testid="boltaddress"]')[0]
        wanted = connection.uri.partition("://")[2]
        if address.get_attribute("value") != wanted:
            address.send_keys(Keys.CONTROL, "a")
            address.send_keys(wanted)
        Select(self.css('[data-testid="bolt-scheme-select"]')[0]).select_by_value("bolt://")
        method = Select(self.css('[data-testid="authenticationMethod"]')[0])
        if connection.password is None:
            method.select_by_value("NO_AUTH")
        else:
            method.select_by_value("NATIVE")
            for field, value in (("username", connection.user), ("password", connection.password)):
                box = self.css(f'[data-testid="{field}"]')[0]
                box.clear()
                box.send_keys(value)
        return bool(address.get_attribute("value") == wanted)

    def settle(self, step: Callable[[], object]) -> None:
        """Run ``step`` until it returns a true value, while the page redraws under it."""
        from selenium.common.exceptions import (
            ElementNotInteractableException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        redrawn = (IndexError, ElementNotInteractableException, StaleElementReferenceException)
        WebDriverWait(self.driver, WAIT, ignored_exceptions=redrawn).until(lambda _: step())

    def text(self) -> str:
        """The text of the whole page."""
        return str(self.driver.find_element(self.by.TAG_NAME, "body").text)

    def commands(self) -> list[str]:
        return [e.text for e in self.css('[data-testid="frameCommand"]')]

    def run(self, text: str | None = None) -> Any:
        """Type ``text`` into the editor (else run what is there); returns the new frame."""
        before = len(self.css(self.FRAME))
        if text is not None:
            self.css('[data-testid="activeEditor"] textarea')[0].click()
            self.driver.execute_cdp_cmd("Input.insertText", {"text": text})
        self.css('[data-testid="editor-Run"]')[0].click()
        self.wait(lambda _: len(self.css(self.FRAME)) > before)
        return self.css(self.FRAME)[0]

    def set_params(self, text: str | None = None) -> None:
        """Run ``:param`` commands and wait until every one succeeded."""
        frame = self.run(text)

        def done(_: Any) -> bool:
            if "Successfully set your parameters" in frame.text:
                return True
            statements = self.css('[data-testid="multi-statement-list-title"]', frame)
            succeeded = self.css('[title="Status: success"]', frame)
            return bool(statements) and len(succeeded) == len(statements)

        self.wait(done)

    def status(self, frame: Any) -> str:
        """The frame's status line, once the query has streamed its records."""
        self.wait(lambda _: "records" in frame.text or "ERROR" in frame.text)
        bars = self.css('[data-testid="frameStatusbar"]', frame)
        return str(bars[0].text) if bars else str(frame.text)

    def drawing(self, frame: Any, count: int) -> dict[str, tuple[str, str]]:
        """The nodes a graph frame draws, by id: their caption (its lines joined by spaces)
        and fill colour; once ``count`` nodes are drawn and the layout holds still (the
        frame says how many nodes it displays before it has drawn them)."""
        drawn = self.still(DRAWN_NODES, frame, ready=lambda nodes: len(nodes) == count)
        return {node: (caption, fill) for node, _, caption, fill in drawn}

    @contextlib.contextmanager
    def enlarged(self, frame: Any) -> Iterator[None]:
        """Within the block, a graph frame fills the page, zoomed to fit (for a screenshot)."""
        self.css('button[title="Fullscreen"]', frame)[0].click()
        self.css('[aria-label="zoom-to-fit"]', frame)[0].click()
        self.still("return arguments[0].querySelector('svg > g').getAttribute('transform')", frame)
        yield
        self.css('button[title="Close fullscreen"]', frame)[0].click()

    def still(self, script: str, frame: Any, ready: Callable[[Any], bool] = lambda _: True) -> Any:
        """What ``script`` returns about ``frame`` once it is ``ready`` and the same twice
        half a second apart (a layout or a zoom has ended)."""
        from selenium.webdriver.support.ui import WebDriverWait

        last: list[Any] = [None]

        def settled(_: Any) -> bool:
            now = self.driver.execute_script(script, frame)
            done = ready(now) and now == last[0]
            last[0] = now
            return done

        WebDriverWait(self.driver, WAIT, poll_frequency=0.5).until(settled)
        return last[0]

    def rows(self, frame: Any) -> list[Any]:
        return self.css("tr.relatable__table-body-row", frame)

    def screenshot(self, name: str, frame: Any) -> Path:
        """Save the page with ``frame`` in view, its table scrolled to its last row number."""
        numbers = self.css(".relatable__table-row-number", frame)
        if numbers:
            self.driver.execute_script(
                "arguments[0].scrollIntoView({block: 'center'})", numbers[-1]
            )
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", frame)
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        assert self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def page(
    chromium: Any, loaded_graph: Graph, neo4j_connection: Connection, neo4j_http_url: str
) -> BrowserPage:
    """The test server's Browser, connected."""
    browser = BrowserPage(chromium)
    browser.connect(neo4j_http_url, neo4j_connection)
    return browser


def test_browser_shows_the_32_roots_of_job_685000(page: BrowserPage) -> None:
    page.set_params(":param jobids => ['685000']")
    frame = page.run(cypher.query("job-roots"))
    assert page.status(frame).startswith("Started streaming 32 records")
    assert len(page.rows(frame)) == 32
    assert [n.text for n in page.css(".relatable__table-row-number", frame)][-1] == "32"
    assert page.screenshot("browser-roots.png", frame).stat().st_size > 10_000


#: The Browser's consent banner, drawn when the server lets it send product analytics (as a
#: server started with Neo4j's defaults does: checked by hand with this test's steps).
USAGE_BANNER = "To help make Neo4j Browser better we collect information on product usage"
#: What the Browser's settings say when the server forbids its analytics.
ANALYTICS_OFF = "Your database is not configured to send product analytics data in neo4j.conf."


def test_the_browser_sends_no_usage_data(page: BrowserPage) -> None:
    page.css('[data-testid="navigationSettings"]')[0].click()
    # shown once the Browser has read the server's settings, which decide the banner too
    page.wait(lambda _: ANALYTICS_OFF in page.text())
    assert USAGE_BANNER not in page.text()
    # with analytics allowed, the drawer offers crash reports and usage statistics to turn off
    assert not page.css('[data-testid="setting-allowCrashReports"]')
    assert not page.css('[data-testid="setting-allowUserStats"]')


def test_the_guide_walks_the_job_in_the_browser(page: BrowserPage, loaded_graph: Graph) -> None:
    with GuideServer(SPEC, port=0) as server:
        guide = page.run(f":play {server.url}")
        page.wait(lambda _: "Walk the process tree of job 685000" in guide.text)
    (style,) = page.css("pre.runnable", guide)
    assert style.text == style_command().strip()
    style.click()
    applied = page.run()
    page.wait(lambda _: "node.Process {" in applied.text)
    expected = [expected_rows(loaded_graph, s.query, dict(s.params)) for s in steps(SPEC)]
    for step, rows in zip(steps(SPEC), expected, strict=True):
        page.css('[data-testid="nextSlide"]', guide)[0].click()
        page.wait(lambda _, step=step: step.title in guide.text)
        params, query = page.css("pre.runnable", guide)
        assert params.text == param_command(step) and query.text == query_body(step.query)
        params.click()  # a click copies the block into the editor
        page.set_params()
        query.click()
        frame = page.run()
        if step.query == "process-subtree":
            nodes = {n.element_id: n for row in rows for n in row["path"].nodes}
            drawn = f"Displaying {len(nodes)} nodes"
            page.wait(lambda _, frame=frame, drawn=drawn: drawn in frame.text)
            # each process captioned by the style: its pid, then its executable (cut with
            # an ellipsis where it is too wide for the circle)
            drawing = page.drawing(frame, len(nodes))
            assert set(drawing) == {element_id.rsplit(":", 1)[1] for element_id in nodes}
            for element_id, node in nodes.items():
                caption, fill = drawing[element_id.rsplit(":", 1)[1]]
                assert caption.split()[0] == str(node["pid"])
                whole = f"{node['pid']} {node['exename']}"
                assert caption == whole or (
                    caption.endswith("…") and whole.startswith(caption[:-1])
                ), (caption, whole)
                assert fill == NODE_STYLES["Process"]["color"]
            with page.enlarged(frame):
                page.screenshot("browser-guide-subtree.png", frame)
        else:
            assert page.status(frame).startswith(f"Started streaming {len(rows)} records")
            assert len(page.rows(frame)) == len(rows)


#: Each node a graph frame draws: its id (the Browser's ``graph-node<id>``), where it is,
#: its caption's lines and its fill.
DRAWN_NODES = """
return Array.from(arguments[0].querySelectorAll('g.node')).map(node => [
  node.getAttribute('aria-label').replace('graph-node', ''),
  node.getAttribute('transform'),
  Array.from(node.querySelectorAll('text.caption'), line => line.textContent.trim()).join(' '),
  node.querySelector('circle.b-outline').getAttribute('fill'),
]);
"""

DROP_FILE = """
const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], arguments[1]));
const target = document.querySelector('.filedrop');
target.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));
"""


def test_favorites_zip_dropped_on_the_browser(page: BrowserPage, tmp_path: Path) -> None:
    archive = write_favorites(tmp_path)
    # what a drag and drop of the file delivers: one File in a drop event's DataTransfer
    encoded = base64.b64encode(archive.read_bytes()).decode()
    page.driver.execute_script(DROP_FILE, encoded, archive.name)
    page.css('[data-testid="navigationFavorites"]')[0].click()
    folder = page.wait(lambda _: page.css('[data-testid="savedScriptsFolder-epmt-graph"]'))[0]
    folder.click()
    titles = page.wait(lambda _: page.css('[data-testid^="scriptTitle-"]', folder))
    assert sorted(title.text for title in titles) == favorite_names()
    page.screenshot("browser-favorites.png", folder)
