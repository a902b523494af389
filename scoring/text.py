"""Sentences the engine writes (计分说明与提示的文字), in Chinese, that can be read again in
another language.

A :class:`Text` *is* its Chinese sentence (a ``str``: stored, compared and printed as
such), and it keeps the template it was made from and the values that filled it. An
application that shows a result in another language renders it again with its own
translation of the templates::

    text = Text("总分 {total} ≥ {lower}，等级 {grade}", total="91.50", lower="90", grade="优")
    text                      # '总分 91.50 ≥ 90，等级 优'
    text.render(english)      # 'Total 91.50 ≥ 90, grade 优'

``translate`` maps a template to its translation and returns the template itself when it
has none (as ``gettext`` does), so a missing translation reads Chinese, never breaks.
Values are put in as they are: a number either already written by the engine ("88.99") or
written by the template's own format ("{w:.3f}", "{amount:,}", the same in every
language); names typed by people (indicators, scorers, grades, tiers, reasons) are never
translated; a value that is itself a :class:`Text` is rendered in the same language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Translate = Callable[[str], str]


class Text(str):
    """A sentence of the engine: its Chinese words, with ``template`` and ``values`` kept."""

    __slots__ = ("template", "values")

    def __new__(cls, template: str, /, **values) -> Text:
        self = str.__new__(cls, template.format_map(values) if values else template)
        self.template = template
        self.values = values
        return self

    def __reduce__(self):
        return _text, (self.template, self.values)

    def render(self, translate: Translate) -> str:
        """The sentence in the language of ``translate`` (template → translated template)."""
        template = translate(self.template) or self.template
        if not self.values:
            return template
        return template.format(**{k: v.render(translate) if isinstance(v, Text) else v
                                  for k, v in self.values.items()})


def _text(template: str, values: dict) -> Text:
    return Text(template, **values)


class Joined(Text):
    """Items written one after another, with a separator that is translated when it is a
    :class:`Text` ("、" between Chinese items, ", " between English ones) and kept as it is
    when it is a plain string ("; ", " + ", or "" to write pieces one after another)."""

    __slots__ = ("separator", "items")

    def __new__(cls, separator: str, items: Iterable) -> Joined:
        items = tuple(items)
        self = str.__new__(cls, separator.join(items))
        self.template = str(separator)
        self.values = {}
        self.separator = separator
        self.items = items
        return self

    def __reduce__(self):
        return Joined, (self.separator, self.items)

    def render(self, translate: Translate) -> str:
        return render(self.separator, translate).join(render(i, translate) for i in self.items)


def joined(*pieces) -> Joined:
    """Pieces of a sentence written one after another (each translated on its own)."""
    return Joined("", pieces)


def N_(template: str) -> str:
    """Marks a template for the translation catalogue where it is written apart from the
    :class:`Text` that fills it (gettext's "no-op" marker)."""
    return template


#: Between the items of a list: "E1、E2" (in English "E1, E2").
AND = Text("、")
#: Between alternatives: "满意或非常满意".
OR = Text("或")
#: Between the clauses of a list whose items have words of their own.
COMMA = Text("，")
SEMI = Text("；")


def render(value, translate: Translate) -> str:
    """``value`` in the language of ``translate``: a :class:`Text` rendered again, anything
    else as it is written."""
    return value.render(translate) if isinstance(value, Text) else str(value)
