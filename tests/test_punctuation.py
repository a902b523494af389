"""On a Chinese page a label is followed by the full-width colon (：), never by an ASCII ":"
(a time such as 12:00, a URL or a typed format such as 下限:得分 is not a label)."""

import re
from html.parser import HTMLParser

import pytest

from tests.builders import contracted_world
from tests.conftest import login
from tests.settlement_builders import final_evaluation


class VisibleText(HTMLParser):
    """The text nodes a reader sees: not scripts, styles or attributes."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.texts.append(data)


def label_colons(html: str) -> list[str]:
    """Each text ending in, or with whitespace after, an ASCII colon: a label's colon."""
    parser = VisibleText()
    parser.feed(html)
    return [t.strip() for t in parser.texts if re.search(r":(\s|$)", t)]


def test_the_checker_tells_a_labels_colon_from_a_time_or_a_url():
    assert label_colons("<p>金额: <b>¥1</b></p><h1>合同:<a>x</a></h1>") == ["金额:", "合同:"]
    assert label_colons("<p>12:00 https://a.cn/x 下限:得分 合同：<a>x</a></p>"
                        "<script>a ? b: c</script>") == []


def spaced_parentheses(html: str) -> list[str]:
    """Each place where the visible text has white space before a full-width parenthesis
    (“88.00 （中性值）”): Chinese typography puts none there."""
    parser = VisibleText()
    parser.feed(html)
    text = re.sub(r"\s+", " ", "".join(parser.texts))
    return re.findall(r".{0,12}\s（.{0,8}", text)


def test_the_checker_finds_a_space_before_a_full_width_parenthesis():
    assert spaced_parentheses("<td>88.00 <span>（中性值）</span></td>") == ["88.00 （中性值）"]
    assert spaced_parentheses("<td>88.00（<span>中性值</span>）</td><p>a (b)</p>") == []


@pytest.fixture
def world(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    world.evaluation = final_evaluation(db, world, "86.35", "良")
    return world


def test_chinese_pages_put_a_full_width_colon_after_their_labels(client, db, world):
    evaluation = world.evaluation.id
    login(client, world.purchaser.username)
    pages = [f"/contracts/{world.contract.id}", f"/contracts/{world.contract.id}/evaluations/new",
             f"/evaluations/{evaluation}/panel", f"/evaluations/{evaluation}/acceptance",
             f"/evaluations/{evaluation}/result", f"/evaluations/{evaluation}/scoring",
             f"/projects/{world.project.id}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="zh-CN">' in response.text
        assert label_colons(response.text) == [], path
        assert spaced_parentheses(response.text) == [], path
    contract = client.get(f"/contracts/{world.contract.id}").text
    assert re.search(r"<h1>合同：<a ", contract)
    assert re.search(r"≥90：100%", contract)  # the payment rule's bands
    assert re.search(r"<h1>专家组：<a ", client.get(f"/evaluations/{evaluation}/panel").text)
