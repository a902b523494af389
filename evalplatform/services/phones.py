"""Telephone numbers typed as contacts (联系电话): a mobile, a landline with its area code, an
extension — checked loosely, for a slip of the keyboard, not for a carrier's numbering plan."""

from __future__ import annotations

import re

from evalplatform.i18n import _

MAX_LENGTH = 40
#: digits with the separators people write: spaces, hyphens, parentheses, a leading +, and
#: an extension after 转, "ext" or "x"
_PHONE = re.compile(r"^\+?[0-9()\- ]+(?:\s*(?:转|ext\.?|x)\s*[0-9]+)?$", re.IGNORECASE)


def problem(text: str) -> str | None:
    """Why ``text`` is no telephone number, in the reader's language; None when it is one (or
    is empty: whether one is required is the caller's rule)."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_LENGTH:
        return _("The phone number must be at most 40 characters.")
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 7:
        return _("Enter a telephone number of digits, e.g. 13800001234 or 0571-87654321 "
                 "转 8001.")
    return None
