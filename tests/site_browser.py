"""Headless Chromium with the network off, driven over the Chrome DevTools protocol.

Used by tests/test_site.py. One Chromium process (``Browser``) with one tab; ``check_page(url)``
loads a page, waits for its images, for MathJax's queue to empty and for reveal.js to be ready,
and returns what it found (maths typeset, TeX left over, slides, navigation links and whether
they resolve, table of contents, broken images) plus every request the page made that did not
stay on 127.0.0.1 or that failed. The network is off for the browser whatever the machine has:
``--host-resolver-rules`` makes every host name but 127.0.0.1 unresolvable.

The DevTools client is ~40 lines over ``websocket-client`` (a Jupyter dependency already).
"""
from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--window-size=1200,800",
    # The network is off: nothing but 127.0.0.1 resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """A headless Chromium with one tab, spoken to over its DevTools websocket."""

    def __init__(self, binary: str, profile: Path, timeout: float = 30.0):
        import websocket  # websocket-client

        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                error = self.process.stderr.read()[-2000:]
                raise RuntimeError(f"Chromium did not start: {error!r}")
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        browser = websocket.create_connection(f"ws://127.0.0.1:{port}{port_file.read_text().split()[1]}",
                                              timeout=timeout)
        self._ids = itertools.count(1)
        self.events: list[dict] = []
        self.ws = browser
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        browser.close()
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/devtools/page/{target}",
                                              timeout=timeout)
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable")
        self.send("Network.setCacheDisabled", cacheDisabled=True)
        self.send("Emulation.setDeviceMetricsOverride", width=1200, height=800, deviceScaleFactor=1,
                  mobile=False)

    def send(self, method: str, timeout: float = 60.0, **params) -> dict:
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def wait_for_event(self, method: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def open(self, url: str, timeout: float = 60.0) -> None:
        self.events.clear()
        self.loader_id = self.send("Page.navigate", url=url).get("loaderId")
        self.wait_for_event("Page.loadEventFired", timeout)

    def evaluate(self, expression: str, timeout: float = 60.0):
        result = self.send("Runtime.evaluate", timeout=timeout, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        png = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(png))
        return path

    def network_problems(self, base_url: str) -> list[str]:
        """Requests of the last page that left 127.0.0.1, failed, or got an HTTP error."""
        problems, ours = [], set()
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Network.requestWillBeSent":
                if params.get("loaderId") != getattr(self, "loader_id", None):
                    continue  # a late request of the page before (e.g. JupyterLab's polling)
                ours.add(params["requestId"])
                url = params["request"]["url"]
                if not url.startswith((base_url, "data:", "blob:", "about:")):
                    problems.append(f"request to {url[:120]}")
            elif params.get("requestId") not in ours:
                continue
            elif event["method"] == "Network.loadingFailed" and not params.get("canceled"):
                problems.append(f"failed: {params.get('errorText')} ({params.get('requestId')})")
            elif (event["method"] == "Network.responseReceived"
                  and params["response"]["status"] >= 400):
                response = params["response"]
                problems.append(f"HTTP {response['status']}: {response['url'][:120]}")
        return problems

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Runs in the page: waits (at most `budget` ms) and reports. MathJax 2 leaves its TeX in
# <script type="math/tex"> and draws .MathJax / .MathJax_Display; code (pre, code) is not maths.
PAGE_CHECK = r"""
(async (budget) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + budget;
  const loading = () => Array.from(document.images).some(i => !i.complete);
  while (loading() && Date.now() < deadline) await sleep(50);
  let mathjax = null;
  while (!(window.MathJax && (MathJax.startup || MathJax.Hub)) && document.readyState !== 'complete'
         && Date.now() < deadline) await sleep(50);
  const left = () => sleep(Math.max(0, deadline - Date.now())).then(() => false);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {           // MathJax 3
    mathjax = (await Promise.race([MathJax.startup.promise.then(() => true), left()]))
              ? MathJax.version : 'timeout';
  } else if (window.MathJax && MathJax.Hub && MathJax.Hub.Queue) {            // MathJax 2
    mathjax = (await Promise.race([new Promise(r => MathJax.Hub.Queue(() => r(true))), left()]))
              ? MathJax.version : 'timeout';
  }
  let reveal = null;
  if (document.querySelector('.reveal')) {
    const ready = () => !!(window.Reveal && Reveal.isReady && Reveal.isReady());
    // reveal.js is a plain <script> at the end of the body: after the load event it is there
    // or it failed.
    while (window.Reveal && !ready() && Date.now() < deadline) await sleep(50);
    reveal = {ready: ready(), slides: ready() ? Reveal.getTotalSlides() : 0, moved: false};
    if (reveal.ready && reveal.slides > 1) {
      const before = JSON.stringify(Reveal.getIndices());
      Reveal.next(); await sleep(50);
      reveal.moved = JSON.stringify(Reveal.getIndices()) !== before;
      Reveal.slide(0, 0);
    }
  }
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('script, style, pre, code, textarea, .MathJax_Preview, mjx-assistive-mml')
       .forEach(e => e.remove());
  const text = clone.textContent;
  const tex = (text.match(/\$\$[\s\S]+?\$\$|\$[^$\n]+\$|\\\([\s\S]+?\\\)|\\\[[\s\S]+?\\\]/g) || [])
                .map(s => s.slice(0, 80));
  const resolve = async a => {
    try { return (await fetch(a.href, {method: 'HEAD'})).ok; } catch (e) { return false; }
  };
  // sphinx-book-theme's navigation: the previous / next links under the page, the home link
  // (the site's title) at the top of the sidebar, the sidebar's list of every page, and the
  // page's contents ("On this page") in the right-hand sidebar.
  const link = async selector => {
    const a = document.querySelector(selector);
    if (!a) return null;
    return {href: a.getAttribute('href'), url: a.href.split('#')[0], ok: await resolve(a)};
  };
  const nav = {prev: await link('a.left-prev'), next: await link('a.right-next'),
               index: await link('a.navbar-brand')};
  const toc = Array.from(document.querySelectorAll('#pst-page-toc-nav a[href^="#"]')).map(a => {
    const id = a.getAttribute('href').slice(1);
    let decoded = id; try { decoded = decodeURIComponent(id); } catch (e) {}
    return {id: id, ok: !!(document.getElementById(id) || document.getElementById(decoded))};
  });
  const unique = urls => urls.filter((u, i) => urls.indexOf(u) === i);
  const urls = selector => unique(Array.from(document.querySelectorAll(selector))
                                  .map(a => a.href.split('#')[0]));
  const sidebar = urls('nav.bd-docs-nav a.reference.internal');
  const searchForm = document.querySelector('form.bd-search');
  const images = Array.from(document.images);
  return {
    url: location.href, title: document.title, mathjax: mathjax,
    typeset: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML, mjx-container')
             .length,
    math_errors: document.querySelectorAll('.MathJax_Error, .merror, mjx-merror').length
                 + (text.includes('Math Processing Error') ? 1 : 0),
    tex_left: tex, reveal: reveal, nav: nav, toc: toc, sidebar: sidebar,
    search: searchForm && searchForm.querySelector('input[name="q"]') ? searchForm.action : null,
    images: images.length,
    broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 100)),
    // the index's list of notebooks: the section "The notebooks, in lecture order" (site.py)
    links: urls('section#the-notebooks-in-lecture-order a.reference.internal'),
  };
})
"""

# Runs on Sphinx's search page (search.html?q=...): waits for the search to finish and reports
# every hit with whether its link resolves.
SEARCH_CHECK = r"""
(async (budget) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + budget;
  const done = () => {
    const status = document.querySelector('#search-results p.search-summary');
    return status && /finished|did not match/i.test(status.innerText) ? status.innerText : null;
  };
  while (!done() && Date.now() < deadline) await sleep(50);
  const results = [];
  for (const a of document.querySelectorAll('#search-results ul.search > li > a:first-of-type')) {
    let ok = false;
    try { ok = (await fetch(a.href, {method: 'HEAD'})).ok; } catch (e) {}
    results.push({href: a.getAttribute('href'), ok: ok});
  }
  return {status: done(), results: results};
})
"""


def check_page(browser: Browser, url: str, base_url: str, budget_ms: int = 20000,
               screenshot: Path | None = None) -> dict:
    """Load ``url``, run PAGE_CHECK, add the network problems, optionally save a screenshot."""
    browser.open(url)
    found = browser.evaluate(f"{PAGE_CHECK}({budget_ms})", timeout=budget_ms / 1000 + 30)
    found["network"] = browser.network_problems(base_url)
    if screenshot is not None:
        browser.screenshot(screenshot)
    return found


def search(browser: Browser, action: str, query: str, budget_ms: int = 20000) -> dict:
    """Submit ``query`` to the site's search page ``action`` (the search box's form) and return
    ``{"status": Sphinx's summary line or None, "results": [{"href", "ok"}, ...]}``."""
    browser.open(f"{action}?q={urllib.parse.quote(query)}")
    return browser.evaluate(f"{SEARCH_CHECK}({budget_ms})", timeout=budget_ms / 1000 + 30)
