"""Invitation codes (邀请码), service sites (服务点) and their QR codes.

A code has 8 characters from 31 that cannot be confused on paper or a phone keyboard (no
0/O, 1/I/L): 31⁸ ≈ 8.5 × 10¹¹ codes, drawn with ``secrets``, so guessing one is hopeless
(and the application rate-limits wrong guesses). It is printed as ``ABCD-EFGH`` and read
back whatever the case, spaces or dashes. A code is used up only by the submitting POST,
with one conditional UPDATE, so two concurrent submissions cannot both use it.
"""

from __future__ import annotations

import secrets
import unicodedata

import segno
from sqlalchemy import update
from sqlmodel import Session, col, select

from surveys.errors import InvalidInput
from surveys.i18n import _
from surveys.models import Invitation, InvitationBatch, SurveySite

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_BATCH = 2000


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display(code: str) -> str:
    """``ABCDEFGH`` → ``ABCD-EFGH`` (easier to read aloud and type)."""
    return f"{code[:4]}-{code[4:]}"


#: What may sit between a code's characters as typed: spaces (a full-width one too), dashes of
#: any kind a phone keyboard or an input method offers, an underscore.
SEPARATORS = frozenset(" \t\u3000-_\u2010\u2011\u2012\u2013\u2014\u2212\uff0d\uff3f")
#: Letters and digits a code never contains: they are too easily taken for one another.
LEFT_OUT = "01OIL"


def _compact(typed: str) -> str:
    text = unicodedata.normalize("NFKC", str(typed or ""))  # full-width ＡＢＣ２ → ABC2
    return "".join(ch for ch in text.upper() if ch not in SEPARATORS)


def normalise(typed: str) -> str | None:
    """A typed code in its stored form, or None when it cannot be a code.

    Capitals or not, spaces and dashes anywhere, and the full-width letters and digits of a
    Chinese input method (ＡＢＣＤ－２３４５) all read as the same code."""
    code = _compact(typed)
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def rule_text() -> str:
    """How a code is made, for a hint or a refusal."""
    return _("An invitation code has 8 letters and digits, never 0, 1, O, I or L, e.g. "
             "ABCD-2345. Capitals or not, with or without the dash.")


def problem(typed: str) -> str | None:
    """Why ``typed`` cannot be an invitation code, naming the rule it breaks (a character no
    code contains, named; else what a code is made of); None when it can be one."""
    if normalise(typed) is not None:
        return None
    code = _compact(typed)
    if not code:
        return _("Type the code printed on your slip: 8 letters and digits, never 0, 1, O, I "
                 "or L, e.g. ABCD-2345.")
    found = [ch for ch in LEFT_OUT if ch in code]
    if found:
        return _("An invitation code never contains 0, 1, O, I or L, and the code typed has "
                 "%(found)s. Please check it against your slip.", found=" ".join(found))
    if len(code) < CODE_LENGTH:
        return _("The code typed is too short: an invitation code has 8 letters and digits, "
                 "never 0, 1, O, I or L, e.g. ABCD-2345.")
    if len(code) > CODE_LENGTH:
        return _("The code typed is too long: an invitation code has 8 letters and digits, "
                 "never 0, 1, O, I or L, e.g. ABCD-2345.")
    return rule_text()


def issue_batch(session: Session, survey_id: int, size: int, label: str = "",
                created_by: int | None = None) -> InvitationBatch:
    """Generate ``size`` new single-use codes in one batch (flushes, does not commit)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
        raise InvalidInput({"size": _("Generate between 1 and %(n)s codes at a time.", n=MAX_BATCH)})
    label = str(label or "").strip()
    if len(label) > 100:
        raise InvalidInput({"label": _("At most %(n)s characters.", n=100)})
    batch = InvitationBatch(survey_id=survey_id, label=label, size=size, created_by=created_by)
    session.add(batch)
    session.flush()
    codes: set[str] = set()
    while len(codes) < size:
        wanted = {new_code() for _ in range(size - len(codes))} - codes
        taken = set(session.exec(select(Invitation.code).where(col(Invitation.code).in_(wanted))))
        codes |= wanted - taken
    session.add_all(Invitation(survey_id=survey_id, batch_id=batch.id, code=code)
                    for code in sorted(codes))
    session.flush()
    return batch


def find(session: Session, typed: str) -> Invitation | None:
    code = normalise(typed)
    if code is None:
        return None
    return session.exec(select(Invitation).where(Invitation.code == code)).first()


def use(session: Session, invitation_id: int) -> bool:
    """Mark the invitation used, once: True for the one call that did it, False after."""
    result = session.connection().execute(  # Core, not the ORM: the hot path
        update(Invitation).where(Invitation.id == invitation_id, col(Invitation.used).is_(False))
        .values(used=True))
    return result.rowcount == 1


def codes_of(session: Session, batch_id: int) -> list[Invitation]:
    return list(session.exec(select(Invitation).where(Invitation.batch_id == batch_id)
                             .order_by(Invitation.code)))


#: The most answers one device may give at a site: a tablet at a service counter, shared by
#: the residents who come by, takes many (one network address still takes at most the hourly
#: cap of ``surveys_app.ADDRESS_LIMIT``); a resident's own phone 1.
MAX_DEVICE_LIMIT = 500


def add_site(session: Session, survey_id: int, name: str, device_limit: int = 1) -> SurveySite:
    """A service site with its own open link (开放链接); flushes."""
    name = str(name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("A name is required.")
    elif len(name) > 100:
        errors["name"] = _("At most %(n)s characters.", n=100)
    if isinstance(device_limit, bool) or not isinstance(device_limit, int) \
            or not 1 <= device_limit <= MAX_DEVICE_LIMIT:
        errors["device_limit"] = _("Answers per device: a whole number from 1 to %(max)s.",
                                   max=MAX_DEVICE_LIMIT)
    if errors:
        raise InvalidInput(errors)
    site = SurveySite(survey_id=survey_id, name=name, device_limit=device_limit,
                      token=secrets.token_urlsafe(9))
    session.add(site)
    session.flush()
    return site


def site_by_token(session: Session, token: str) -> SurveySite | None:
    if not token or len(token) > 24:
        return None
    return session.exec(select(SurveySite).where(SurveySite.token == token)).first()


def qr_svg(url: str, *, title: str = "") -> str:
    """The URL as an inline SVG QR code (medium error correction, drawn by segno, offline).

    It has a ``viewBox`` and no size of its own: the page's style sizes it (a slip's
    30 mm, a poster's 110 mm), and the whole code, quiet zone included, fills that box."""
    return segno.make(url, error="m").svg_inline(border=2, title=title or url, omitsize=True)
