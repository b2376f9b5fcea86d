"""Headless Chromium for the project's tests: Debian's chromium, offline, and a small DOM over
its ``--dump-dom`` (the document after the browser parsed it). The ``chromium`` fixture
(tests/conftest.py) runs it; the report's browser tests and the README's main job read pages
with it. Imported by name (tests/conftest.py puts this folder on ``sys.path``)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--window-size=1280,1800",
         # chromium's own chatter (clock sync, accounts, updates) cannot leave the machine either
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


def chromium_runner(tmp_path: Path) -> Callable[..., tuple[str, list[str]]]:
    """What the ``chromium`` fixture gives: ``run(page, *flags)`` (skips without chromium)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is missing: run .ci/install-packages.sh")
        pytest.skip("chromium is not installed (.ci/install-packages.sh installs it)")

    def run(page: Path, *extra: str) -> tuple[str, list[str]]:
        """Load ``page``; return chromium's stdout and the URLs the page itself requested."""
        profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
        netlog = profile.with_suffix(".netlog.json")
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}",
             *extra, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert netlog.exists(), "chromium wrote no net log: the offline check would prove nothing"
        return proc.stdout, page_requests(json.loads(netlog.read_text(encoding="utf-8")))

    return run


def page_requests(netlog: dict) -> list[str]:
    """URLs of network requests a document started (chromium's own background requests carry
    the initiator 'not an origin'); local file: and data: loads are not requests."""
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in netlog["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "url" in params \
                and params.get("initiator") != "not an origin":
            url = str(params.get("url", ""))
            if not url.startswith(("file:", "data:")):
                urls.append(url)
    return urls


# -- a small DOM over chromium's --dump-dom (the document after the browser parsed it) --------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclasses.dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = dataclasses.field(default_factory=list)
    parent: Node | None = None

    @property
    def text(self) -> str:
        parts: list[str] = []
        for c in self.children:
            parts.append(c if isinstance(c, str) else c.text)
        return " ".join("".join(parts).split())

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, **attrs: str | Callable[[str], bool]
                 ) -> list[Node]:
        found = []
        for n in self.iter():
            if tag is not None and n.tag != tag:
                continue
            ok = True
            for k, want in attrs.items():
                key = k.rstrip("_").replace("_", "-")  # class_ -> class, data_field -> data-field
                have = n.attrs.get(key)
                if key == "class" and have is not None and isinstance(want, str):
                    have = want if want in have.split() else have  # one class among several
                if have is None or (not want(have) if callable(want) else have != want):
                    ok = False
                    break
            if ok:
                found.append(n)
        return found

    def find(self, tag: str | None = None, **attrs: str | Callable[[str], bool]) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}> in <{self.tag} {self.attrs}>"
        return found[0]

    def cells(self, field: str) -> list[str]:
        """Texts of the cells marked ``data-field=field`` below this node."""
        return [n.text for n in self.find_all(data_field=field)]

    def cell(self, field: str) -> str:
        texts = self.cells(field)
        assert len(texts) == 1, f"{len(texts)} cells {field!r}: {texts}"
        return texts[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_dom(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
