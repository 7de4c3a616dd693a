"""`datasets report` in a real browser: Debian's headless Chromium opens the site from file:// and is driven
over the Chrome DevTools protocol (websocket-client). Checked: no console errors or failed loads, the
filters change the visible list as the index says they should, links between pages resolve, the
chat-template view highlights learned spans; screenshots go to .cache/artifacts/report/.

The browser is part of the test setup (scripts/test.sh installs `chromium` when /usr/bin/chromium is
missing): a missing browser FAILS these tests, it never skips them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / ".cache" / "artifacts" / "report"
CHROMIUM = os.environ.get("OPENTOOLLAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--allow-file-access-from-files", "--window-size=1400,1000",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


class Browser:
    """One headless Chromium with a fresh profile, and one page driven over its DevTools websocket."""

    def __init__(self) -> None:
        import websocket  # websocket-client (dev extra)

        if not Path(CHROMIUM).is_file():
            pytest.fail(f"{CHROMIUM} not found: the report browser tests need Debian's chromium "
                        f"(scripts/test.sh installs it: apt-get install -y chromium chromium-driver)")
        self.profile = tempfile.mkdtemp(prefix="otl-chromium-")
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                pytest.fail("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port = port_file.read_text().splitlines()[0]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{port_file.read_text().splitlines()[1]}", timeout=60)
        self.counter = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self.counter += 1
        message = {"id": self.counter, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.counter:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self, method: str, **params) -> dict:
        return self.call(method, session=True, **params)

    def evaluate(self, expression: str):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.page("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'")

    def wait(self, condition: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self._holds(condition):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {condition}")
            time.sleep(0.05)

    def _holds(self, condition: str) -> bool:
        try:
            return bool(self.evaluate(f"!!({condition})"))
        except RuntimeError as exc:  # asked while the page navigates (a slow machine): ask again
            if "navigated or closed" in str(exc) or "context" in str(exc).lower():
                return False
            raise

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads seen so far."""
        self.evaluate("1")  # drain pending events
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params.get("exceptionDetails"))[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.page("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    instance = Browser()
    yield instance
    instance.close()


# ----------------------------------------------------------------------------- the sites under test
from test_report import bfcl_site, bfcl_tagged, chunks_of, index_of, read_js, slices_store  # noqa: E402,F401


def url(site: Path, page: str) -> str:
    return (site / page).resolve().as_uri().replace("%23", "#")


def local_file(href: str) -> Path:
    return Path(unquote(urlparse(href).path))


def expected(index: dict, group=None, sub=None, cat=None, lang=None, flag=None, texts=None, q=None) -> list[str]:
    """The ids the browser should list for these filters, computed from data/index.js here."""
    out = []
    for i, sid in enumerate(index["id"]):
        k = index["sub"][i]
        if group is not None and index["subsetGroup"][k] != group:
            continue
        if sub is not None and index["subsets"][k] != sub:
            continue
        if cat is not None and not index["cat"][i] & (1 << index["categories"].index(cat)):
            continue
        if lang is not None and index["languages"][index["lang"][i]] != lang:
            continue
        if flag is not None and index["flags"].index(flag) not in (index["flag"][i] or []):
            continue
        if q is not None and q.lower() not in texts[i]:
            continue
        out.append(sid)
    return out


def listed(browser: Browser) -> list[str]:
    return browser.evaluate("[...document.querySelectorAll('#list li')].map(li => li.dataset.id)")


def choose(browser: Browser, select: str, value: str) -> None:
    browser.evaluate(f"(() => {{ const s = document.getElementById({json.dumps(select)}); s.value = {json.dumps(value)};"
                     f" s.dispatchEvent(new Event('change')); }})()")


def test_overview_opens_cleanly_and_every_link_resolves(browser, bfcl_site):
    browser.open(url(bfcl_site, "index.html"))
    assert browser.errors() == []
    assert browser.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert browser.evaluate("document.images.length") == 7
    links = browser.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    fragments = {}
    for href in links:
        if not href.startswith("file://"):
            continue
        assert local_file(href).is_file(), href
        page, _, fragment = href.partition("#")
        if page.endswith("rejects.html") and fragment:
            fragments.setdefault(page, set()).add(fragment)
    assert len(links) > 50 and fragments
    for page, wanted in fragments.items():
        browser.open(page)
        assert browser.evaluate(f"{json.dumps(sorted(wanted))}.every(id => document.getElementById(id))")
    browser.open(url(bfcl_site, "index.html"))
    browser.screenshot(ARTIFACTS / "overview.png")
    # the subset link opens the browser filtered to that subset
    browser.evaluate("setTimeout(() => document.querySelector('a.subset-link[href*=\"BFCL%2Fparallel\"]').click(), 0)")
    browser.wait("location.pathname.endsWith('samples.html') && document.querySelectorAll('#list li').length > 0")
    index = index_of(bfcl_site)
    assert browser.evaluate("OTL.shown().length") == len(expected(index, 0, "BFCL/parallel")) == 200
    assert all(sid.startswith("BFCL_parallel_") for sid in listed(browser))
    assert browser.errors() == []


def test_filters_change_the_visible_list_as_the_index_says(browser, bfcl_site):
    index = index_of(bfcl_site)
    _call, (texts,) = read_js(bfcl_site / "data" / "search.js")
    browser.open(url(bfcl_site, "samples.html"))
    browser.wait("document.querySelectorAll('#list li').length === 50")
    assert browser.evaluate("OTL.shown().length") == len(index["id"]) == 4438
    assert listed(browser) == index["id"][:50]
    steps = [("f-cat", "parallel", dict(cat="parallel")),
             ("f-lang", "en", dict(cat="parallel", lang="en")),
             ("f-cat", "", dict(lang="en")),
             ("f-flag", "enum_mismatch", dict(lang="en", flag="enum_mismatch")),
             ("f-lang", "", dict(flag="enum_mismatch")),
             ("f-flag", "", dict())]
    previous = None
    for select, value, filters in steps:
        choose(browser, select, value)
        want = expected(index, **filters)
        browser.wait(f"OTL.shown().length === {len(want)}")
        assert listed(browser) == want[:50] and want != previous
        previous = want
    assert browser.evaluate("location.hash") == ""
    # free text: the search file is loaded on the first query
    browser.evaluate("(() => { const q = document.getElementById('f-q'); q.value = 'weather'; q.dispatchEvent(new Event('input')); })()")
    want = expected(index, texts=texts, q="weather")
    browser.wait(f"document.getElementById('count').textContent.startsWith('{len(want)} of')")
    assert 0 < len(want) < 4438 and listed(browser) == want[:50]
    # subset select, then the next page
    choose(browser, "f-sub", "0|BFCL/live_multiple")
    want = expected(index, 0, "BFCL/live_multiple", texts=texts, q="weather")
    browser.wait(f"OTL.shown().length === {len(want)}")
    choose(browser, "f-q", "")
    browser.evaluate("(() => { const q = document.getElementById('f-q'); q.value = ''; q.dispatchEvent(new Event('input')); })()")
    want = expected(index, 0, "BFCL/live_multiple")
    browser.wait(f"OTL.shown().length === {len(want)}")
    browser.evaluate("document.getElementById('next').click()")
    browser.wait("document.getElementById('pageinfo').textContent.startsWith('page 2')")
    assert listed(browser) == want[50:100]
    assert browser.errors() == []


def test_sample_page_shows_calls_and_the_chat_template_with_learned_spans(browser, bfcl_site, bfcl_tagged):
    views = chunks_of(bfcl_site, "render-0")
    index = index_of(bfcl_site)
    position = index["id"].index("BFCL_parallel_3")
    browser.open(url(bfcl_site, "samples.html") + "#id=BFCL_parallel_3")
    browser.wait("document.getElementById('sample-id') && document.getElementById('sample-id').textContent === 'BFCL_parallel_3'")
    assert browser.evaluate("document.querySelectorAll('#body .card').length") == 3
    assert browser.evaluate("[...document.querySelectorAll('#body .card .cid')].map(c => c.textContent)") == [
        f"protein_info.get_sequence_and_3D.{k}" for k in range(3)]
    assert browser.evaluate("document.querySelector('#list li.current').dataset.id") == "BFCL_parallel_3"
    browser.screenshot(ARTIFACTS / "sample.png")
    browser.evaluate("document.querySelector('button.show-template').click()")
    browser.wait("document.querySelector('pre.rendered')")
    view = views[position]
    assert browser.evaluate("document.querySelector('pre.rendered').textContent") == view["t"]
    assert browser.evaluate("[...document.querySelectorAll('pre.rendered mark')].map(m => m.textContent)") == [
        view["t"][a:b] for a, b in view["s"]]
    assert f"{view['l']} learned" in browser.evaluate("document.getElementById('tokens').textContent")
    browser.screenshot(ARTIFACTS / "template.png")
    # a flagged sample says which rule it breaks; the nav goes back to the overview
    flagged = next(i for i, f in enumerate(index["flag"]) if f)
    browser.evaluate(f"location.hash = 'id={index['id'][flagged]}'")
    browser.wait(f"document.getElementById('sample-id').textContent === '{index['id'][flagged]}'")
    assert browser.evaluate("[...document.querySelectorAll('#detail .chip.flag')].map(c => c.textContent)") == [
        index["flags"][f] for f in index["flag"][flagged]]
    browser.evaluate("setTimeout(() => document.getElementById('nav-overview').click(), 0)")  # navigates after
    browser.wait("location.pathname.endsWith('index.html') && document.readyState === 'complete'")
    assert browser.errors() == []


def test_every_input_of_the_slices_site_opens_and_links_show_their_source(browser, slices_store, tmp_path):
    from click.testing import CliRunner

    from opentoollab.cli.datasets import datasets

    out = tmp_path / "site"
    names = ["generated", *sorted(n for n in slices_store.processed_names() if n != "generated")]
    result = CliRunner().invoke(datasets, ["report", *names, "--model", "Llama-3.1", "--out", str(out), "-q",
                                           "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0, result.output
    index = index_of(out)
    firsts = [index["id"][index["sub"].index(k)] for k in range(len(index["subsets"]))]
    browser.open(url(out, "samples.html"))
    browser.wait("document.querySelectorAll('#list li').length > 0")
    for sid in firsts:  # one sample of every subset of every input, conversation and template
        browser.evaluate(f"location.hash = {json.dumps('id=' + sid)}")
        browser.wait(f"document.getElementById('sample-id') && document.getElementById('sample-id').textContent === {json.dumps(sid)}")
    items = chunks_of(out)
    linked = next(item for item in items if item["a"].get("links") and item["id"].startswith("generated"))
    browser.evaluate(f"location.hash = {json.dumps('id=' + linked['id'])}")
    browser.wait(f"document.getElementById('sample-id').textContent === {json.dumps(linked['id'])} && document.querySelector('.link')")
    sources = browser.evaluate("[...document.querySelectorAll('.link .from')].map(f => f.textContent)")
    assert sources and all(s.startswith("← ") for s in sources)
    first = next(iter(linked["a"]["links"].values()))
    assert sources[0] == f"← {first['from']}" + (f" · {first['path']}" if first["path"] else "")
    browser.evaluate("document.querySelector('.link').scrollIntoView()")
    browser.screenshot(ARTIFACTS / "links.png")
    browser.evaluate("document.querySelector('button.show-template').click()")
    browser.wait("document.querySelector('pre.rendered') || document.querySelector('#body .error')")
    assert browser.errors() == []
