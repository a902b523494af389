"""Invitation codes (邀请码), service sites (服务点) and their QR codes.

A code has 8 characters from 31 that cannot be confused on paper or a phone keyboard (no
0/O, 1/I/L): 31⁸ ≈ 8.5 × 10¹¹ codes, drawn with ``secrets``, so guessing one is hopeless
(and the application rate-limits wrong guesses). It is printed as ``ABCD-EFGH`` and read
back whatever the case, spaces or dashes. A code is used up only by the submitting POST,
with one conditional UPDATE, so two concurrent submissions cannot both use it.
"""

from __future__ import annotations

import secrets

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


def normalise(typed: str) -> str | None:
    """A typed code in its stored form, or None when it cannot be a code."""
    code = "".join(ch for ch in str(typed or "").upper() if ch not in " -_\t")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


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


def add_site(session: Session, survey_id: int, name: str, device_limit: int = 1) -> SurveySite:
    """A service site with its own open link (开放链接); flushes."""
    name = str(name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("A name is required.")
    elif len(name) > 100:
        errors["name"] = _("At most %(n)s characters.", n=100)
    if isinstance(device_limit, bool) or not isinstance(device_limit, int) \
            or not 1 <= device_limit <= 20:
        errors["device_limit"] = _("Answers per device: a whole number from 1 to 20.")
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
