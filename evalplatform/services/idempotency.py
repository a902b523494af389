"""Idempotency keys (幂等键): a program that retries a POST or PATCH under /api after a timeout
sends the same ``Idempotency-Key`` header, and the platform answers the retry with the first
request's answer instead of running it twice (a second project, a second settlement).

The rules, after Stripe's and the IETF draft "The Idempotency-Key HTTP Header Field":

* A key is 1–255 printable ASCII characters, sent once; the draft's quoted form
  (``"8e03978e-…"``, a Structured Field string) is read as the key inside the quotes. Anything
  else is refused (422 naming the header).
* Keys belong to the signed-in user who sent them: one user's key never answers another's
  request.
* The first request with a key claims it (:func:`claim`): a row "in progress" under the unique
  (user, key) constraint, committed before the request runs, so that of two processes that
  receive the same retry at once only one runs it; the other is told it is still running (409).
* When it has run, its answer is kept (:func:`finish`) — status, Content-Type, Location and
  body — if it is an answer the same request would get again: a success (2xx) or a refusal
  of what was sent (4xx). A server error (5xx), and the refusals that themselves say "try
  again" (408, 409, 425, 429: a conflict with a change made at the same moment, a throttle),
  are not kept: the claim is given up (:func:`abandon`) and a retry runs again.
* A retry with the key and the same method, path and body (its SHA-256) gets the kept answer
  again, and nothing runs; the same key with another method, path or body is refused (422).
* A key is kept for :data:`KEY_LIFETIME` (24 hours) from its first request. An expired key is
  as if never used; expired rows are deleted as new keys are claimed, a batch at a time
  (:func:`purge_expired`), so no scheduled job is needed.

A request that is still running when its process dies leaves its claim "in progress": a retry
with that key is answered 409 until the key expires (whether the first one's change was saved
cannot be told), and a new key runs it again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from evalplatform.i18n import _
from evalplatform.models import IdempotencyKey
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import Conflict, ValidationFailed

log = logging.getLogger(__name__)

#: The request header that carries the key, and the name a refusal gives it.
HEADER = "Idempotency-Key"
#: The header of a replayed answer.
REPLAYED_HEADER = "Idempotent-Replayed"
#: The methods a key applies to: the ones that are not idempotent by themselves.
METHODS = frozenset({"POST", "PATCH"})
#: How long a key is kept from its first request.
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
#: The answer's headers a replay repeats (lower case).
KEPT_HEADERS = ("content-type", "location")
#: Refusals that say "try again" rather than "this request is wrong": never kept.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
#: Expired keys deleted at most per claim (the rest go with the next claims).
PURGE_BATCH = 500


@dataclass(frozen=True)
class Claim:
    """The request holds the key: it runs, then :func:`finish` keeps its answer (or
    :func:`abandon` gives the key up)."""

    id: int


@dataclass(frozen=True)
class StoredAnswer:
    """The answer kept for a key, to be sent again as it was."""

    status_code: int
    headers: dict[str, str]
    body: bytes


def _printable_ascii(text: str) -> bool:
    return all(" " <= c <= "~" for c in text)


def _unquoted(value: str) -> str | None:
    """The text of a Structured Field string (``"…"`` with ``\\"`` and ``\\\\`` escapes), or
    None when ``value`` is quoted but not a well-formed one."""
    inner, text, escaped = value[1:-1], [], False
    for char in inner:
        if escaped:
            if char not in '"\\':
                return None
            text.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return None
        else:
            text.append(char)
    return None if escaped else "".join(text)


def read_key(values: list[str]) -> str:
    """The key the request's ``Idempotency-Key`` header values carry. Refused (422 naming the
    header): more than one header, an empty one, one longer than 255 characters or with any
    character but printable ASCII (letters, digits, punctuation, spaces)."""
    if len(values) != 1:
        raise ValidationFailed({HEADER: _(
            "%(header)s was sent %(count)s times: send it once per request.",
            header=HEADER, count=len(values))})
    value = values[0].strip(" \t")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = _unquoted(value)
    if not value or len(value) > MAX_KEY_LENGTH or not _printable_ascii(value):
        raise ValidationFailed({HEADER: _(
            "%(header)s must be 1 to %(limit)s printable ASCII characters (letters, digits, "
            "punctuation), e.g. a UUID.", header=HEADER, limit=MAX_KEY_LENGTH)})
    return value


def fingerprint(body: bytes) -> str:
    """The request body's fingerprint: its SHA-256 in hex."""
    return hashlib.sha256(body).hexdigest()


def keeps(status_code: int) -> bool:
    """Whether an answer with this status is kept for the key's retries."""
    return 200 <= status_code < 500 and status_code not in RETRYABLE_STATUSES


@dataclass(frozen=True)
class _Used:
    """What is kept of a key already used, read in one statement."""

    id: int
    method: str
    path: str
    fingerprint: str
    status_code: int | None
    response_headers: dict | None
    response_body: bytes | None
    expires_at: datetime


def _used(session: Session, user_id: int, key: str) -> _Used | None:
    """The key's row as plain values, the read's transaction ended: a write after a read in one
    SQLite transaction fails at once (not after the busy timeout) when another process wrote
    in between, so each write here starts a transaction of its own."""
    found = session.exec(select(
        IdempotencyKey.id, IdempotencyKey.method, IdempotencyKey.path, IdempotencyKey.fingerprint,
        IdempotencyKey.status_code, IdempotencyKey.response_headers, IdempotencyKey.response_body,
        IdempotencyKey.expires_at,
    ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)).first()
    session.rollback()
    return None if found is None else _Used(*found)


def _still_running() -> Conflict:
    return Conflict(_(
        "The first request with this %(header)s is still being processed: wait for its "
        "answer, or send the same request again in a moment to get it.", header=HEADER))


def _answer_for(used: _Used, method: str, path: str, body_print: str) -> StoredAnswer:
    if (used.method, used.path, used.fingerprint) != (method, path, body_print):
        raise ValidationFailed({HEADER: _(
            "This %(header)s was already used for another request (%(method)s %(path)s, or "
            "another body) in the last 24 hours: send a new key with each new request, and the "
            "same key only to repeat the same request.",
            header=HEADER, method=used.method, path=used.path)})
    if used.status_code is None:
        raise _still_running()
    return StoredAnswer(used.status_code, dict(used.response_headers or {}),
                        bytes(used.response_body or b""))


def claim(session: Session, *, user_id: int, key: str, method: str, path: str, body: bytes,
          at: datetime | None = None) -> Claim | StoredAnswer:
    """Claim ``key`` for this request of ``user_id``, or give the answer already kept for it.

    Returns a :class:`Claim` when the request is the first with the key (the request then
    runs; the claim is committed already), or the :class:`StoredAnswer` of the first one when
    this repeats it. Raises ``ValidationFailed`` when the key was used for another request,
    ``Conflict`` while the first request with the key is still running.
    """
    at = at or now()
    body_print = fingerprint(body)
    for _attempt in range(3):
        used = _used(session, user_id, key)
        if used is not None and as_utc(used.expires_at) <= at:
            # expired: as if never used (another process may delete it at the same moment)
            session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.id == used.id, IdempotencyKey.expires_at <= at))
            session.commit()
            used = None
        if used is not None:
            return _answer_for(used, method, path, body_print)
        purge_expired(session, at)
        row = IdempotencyKey(user_id=user_id, key=key, method=method, path=path,
                             fingerprint=body_print, created_at=at, expires_at=at + KEY_LIFETIME)
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            # another process claimed the key between the read and the write: its row decides
            session.rollback()
            continue
        return Claim(row.id)
    raise _still_running()


def finish(session: Session, claimed: Claim, *, status_code: int, headers: dict[str, str],
           body: bytes) -> bool:
    """Keep the answer of the request that holds ``claimed``, if :func:`keeps` says so, and
    return True; else give the key up (:func:`abandon`) and return False. ``headers`` are the
    answer's, lower-case names; only :data:`KEPT_HEADERS` are kept."""
    if not keeps(status_code):
        abandon(session, claimed)
        return False
    session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claimed.id).values(
        status_code=status_code,
        response_headers={name: value for name, value in headers.items()
                          if name in KEPT_HEADERS},
        response_body=body))
    session.commit()
    return True


def abandon(session: Session, claimed: Claim) -> None:
    """Give the key up: the request ended without an answer to keep (a server error, a
    conflict, a throttle), so that a retry with the key runs again."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claimed.id,
                                                 IdempotencyKey.status_code.is_(None)))
    session.commit()


def purge_expired(session: Session, at: datetime | None = None,
                  limit: int = PURGE_BATCH) -> int:
    """Delete up to ``limit`` keys that have expired, in a transaction of its own; returns how
    many. Best effort: when it fails (another process deleting the same rows at the same
    moment) it is left for the next claim."""
    at = at or now()
    expired = (select(IdempotencyKey.id).where(IdempotencyKey.expires_at <= at)
               .order_by(IdempotencyKey.expires_at).limit(limit))
    try:
        deleted = session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.id.in_(expired.scalar_subquery()))).rowcount
        session.commit()
    except DBAPIError:
        session.rollback()
        log.warning("expired idempotency keys were not deleted this time", exc_info=True)
        return 0
    return deleted or 0
