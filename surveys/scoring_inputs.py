"""What the survey gives the scoring package (计分输入): responses and the survey leaves' rules.

For every survey leaf of the scheme, its rule gets the ids of the scale questions mapped to
it, an inline scale of their options (Chinese label → score; 不了解/不适用 → null, which
counts as no answer) and, for a ``survey_rate`` leaf, the options that count as satisfied.
Each response becomes ``{question id: option label}`` over those questions, so the trace
of a result reads "满意或较满意" rather than option codes.
"""

from __future__ import annotations

from collections.abc import Iterable

from surveys.questionnaire import SurveyLeaf, options, satisfied_of, scale_of, scale_questions, text


def leaf_rules(doc: dict, leaves: list[SurveyLeaf]) -> dict[str, dict]:
    """``{leaf id: rule patch}`` for each survey leaf that has questions mapped to it."""
    rules: dict[str, dict] = {}
    for leaf in leaves:
        mapped = [q for q in scale_questions(doc) if q.get("leaf") == leaf.id]
        if not mapped:
            continue
        patch = {"questions": [q["id"] for q in mapped], "scale": scale_of(mapped[0])}
        if leaf.rule == "survey_rate":
            patch["satisfied"] = satisfied_of(mapped[0])
        rules[leaf.id] = patch
    return rules


def responses(doc: dict, answers: Iterable[dict], leaves: list[SurveyLeaf]) -> list[dict]:
    """One object per response: the mapped scale questions' answers as option labels."""
    ids = {leaf.id for leaf in leaves}
    mapped = [q for q in scale_questions(doc) if q.get("leaf") in ids]
    labels = {q["id"]: {o["name"]: text(o["label"], "zh-CN") for o in options(q)} for q in mapped}
    found = []
    for given in answers:
        item = {}
        for qid, names in labels.items():
            value = given.get(qid)
            if isinstance(value, str) and value in names:
                item[qid] = names[value]
        found.append(item)
    return found
