"""A walk through the demo city as each role, following the links the pages offer: every
link a page shows its reader opens (no refusal, no error), and every page's form fields are
labelled and its element ids unique (a label, an error message or a script that finds the
wrong element by its id is a form that cannot be used)."""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser

import pytest

from evalplatform.services import demo

#: Links the walk does not follow: assets, downloads (not pages) and signing out.
NOT_PAGES = re.compile(r"^/(static|logout|language)\b|\.xlsx\b|\.pdf\b|\.docx?\b|\.json\b"
                       r"|/download|/files/|/evidence/|/export|/report$")
#: Pages of one shape (ids replaced by N) visited per walk: enough to meet each template's
#: variants without visiting every record of the city.
PER_SHAPE = 2
ROLES = ["caizheng", "minzheng", "fukang", "pingjia", "zhuanjia1", "shenji", "admin"]


class _PageParts(HTMLParser):
    """The ids, the labels' targets and the fields of a page."""

    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()
        self.labelled: set[str] = set()
        self.fields: list[tuple[str, str | None, str | None, bool, bool]] = []
        self._in_label = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"]] += 1
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.labelled.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in (
                "hidden", "submit", "button", "reset", "image"):
            named = bool(a.get("aria-label") or a.get("aria-labelledby") or a.get("title"))
            self.fields.append((tag, a.get("name"), a.get("id"), named, self._in_label > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self._in_label -= 1

    def problems(self) -> list[str]:
        found = [f"id “{i}” {n} times" for i, n in self.ids.items() if n > 1]
        for tag, name, id_, named, wrapped in self.fields:
            if not (named or wrapped or (id_ and id_ in self.labelled)):
                found.append(f"{tag} “{name}” without a label")
        return found


@pytest.fixture
def demo_city(db):
    return {a.username: a.password for a in demo.load(db)}


def _walk(client, start: str = "/", limit: int = 150) -> tuple[int, list[str]]:
    seen: set[str] = set()
    shapes: Counter = Counter()
    queue = deque([(start, "—")])
    problems: list[str] = []
    while queue and len(seen) < limit:
        path, origin = queue.popleft()
        shape = re.sub(r"\d+", "N", path.split("?", 1)[0]) + ("?" if "?" in path else "")
        if path in seen or shapes[shape] >= PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape] += 1
        page = client.get(path, follow_redirects=True)
        if page.status_code != 200:
            problems.append(f"{path} (linked from {origin}): {page.status_code}")
            continue
        if "text/html" not in page.headers.get("content-type", ""):
            continue
        parts = _PageParts()
        parts.feed(page.text)
        problems += [f"{path}: {p}" for p in parts.problems()]
        for href in re.findall(r'href="([^"#]+)"', page.text):
            href = href.replace("&amp;", "&")
            if href.startswith("/") and not NOT_PAGES.search(href) and href not in seen:
                queue.append((href, path))
    return len(seen), problems


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_can_reach_opens_with_labelled_fields_and_unique_ids(
        client, demo_city, username):
    from tests.conftest import login

    login(client, username, demo_city[username])
    visited, problems = _walk(client)
    assert visited >= 10, visited  # the walk went somewhere
    assert problems == []


@pytest.mark.parametrize("username", ["caizheng", "minzheng", "fukang", "zhuanjia1"])
def test_the_walk_in_english_meets_the_same_pages_without_a_fault(client, demo_city, username):
    from tests.conftest import csrf_from, login

    login(client, username, demo_city[username])
    chosen = client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/")},
                         follow_redirects=True)
    assert chosen.status_code == 200 and 'lang="en"' in chosen.text
    visited, problems = _walk(client)
    assert visited >= 10, visited
    assert problems == []
