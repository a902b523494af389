"""The audit trail (全程留痕、全程可溯): append and verify the hash chain.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON
(sorted keys, no spaces, UTF-8). Appending first updates the single ``audit_head`` row, which
takes its row lock (PostgreSQL) or the write lock (SQLite), so concurrent appends from many
processes queue up and the chain stays linear. Services call :func:`record` inside their own
transaction, so the entry commits or rolls back with the change it describes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from evalplatform.models import AuditEntry, AuditHead
from evalplatform.services.clock import LOCAL_TZ, as_utc, now

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who acted: a user, or the system (CLI, migrations, demo loader)."""

    id: int | None
    name: str


SYSTEM = Actor(id=None, name="system")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers."""
    return {
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "change": json.loads(entry.change),
    }


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    data = (prev_hash + canonical_json(entry_payload(entry))).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def ensure_head(session: Session) -> None:
    """The migration seeds the head row; recreate it if an empty database lacks it."""
    if session.get(AuditHead, 1) is not None:
        return
    try:
        with session.begin_nested():
            session.add(AuditHead(id=1, seq=0, hash=GENESIS_HASH))
    except IntegrityError:
        pass  # another process created it first


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any,
    change: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits)."""
    ensure_head(session)
    # Taking the head's lock first serialises appends across processes.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.exec(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).one()
    entry = AuditEntry(
        seq=head.seq,
        at=now(),
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        change=canonical_json(change or {}),
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = entry_hash(head.hash, entry)
    head.hash = entry.hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of walking the chain: ``reason`` in English (the command line's, the
    API's); ``problem`` and ``detail`` say the same for :meth:`explanation`, in the reader's
    language."""

    ok: bool
    entries: int
    broken_seq: int | None = None
    reason: str = ""
    problem: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def explanation(self) -> str:
        """Why the chain is broken, in the reader's language."""
        from evalplatform.i18n import _

        messages = {
            "missing": lambda: _("Entry %(missing)s is missing (the next one is %(next)s).",
                                 **self.detail),
            "prev_hash": lambda: _("Its previous-hash does not match the entry before it "
                                   "(removed, inserted or reordered)."),
            "edited": lambda: _("Its content does not match its hash (edited)."),
            "unreadable": lambda: _("It cannot be read (its stored content was damaged or "
                                    "edited)."),
            "head_missing": lambda: _("The chain head is missing, so no further entry can "
                                      "be appended."),
            "head_ahead": lambda: _("The chain head says %(head)s entries, but only %(found)s "
                                    "were found: the last ones were removed.", **self.detail),
            "head_behind": lambda: _("The chain head says %(head)s entries, but %(found)s were "
                                     "found: entries were added past it.", **self.detail),
            "head_hash": lambda: _("The chain head's hash does not match the last entry "
                                   "(the entry or the head was rewritten)."),
        }
        return messages[self.problem]() if self.problem in messages else self.reason


def _broken(count: int, seq: int, problem: str, reason: str, **detail) -> ChainVerification:
    return ChainVerification(False, count, seq, reason, problem, detail)


#: Entries verified at a time by :func:`verify`.
VERIFY_BATCH = 1000


def _stored_entries(session: Session):
    """Every entry, oldest first, read a batch at a time; an entry that cannot be read (a
    damaged moment, say) is yielded as its number alone, so that the walk can name it."""
    last = None
    while True:
        statement = select(AuditEntry).order_by(AuditEntry.seq).limit(VERIFY_BATCH)
        if last is not None:
            statement = statement.where(AuditEntry.seq > last)
        try:
            batch = list(session.exec(statement).all())
        except (ValueError, TypeError):
            # Read the batch one entry at a time to find the one that cannot be read.
            seqs = session.exec(select(AuditEntry.seq).order_by(AuditEntry.seq)
                                .where(AuditEntry.seq > (last if last is not None else -2**62))
                                .limit(VERIFY_BATCH)).all()
            batch = []
            for seq in seqs:
                try:
                    batch.append(session.exec(select(AuditEntry)
                                              .where(AuditEntry.seq == seq)).one())
                except (ValueError, TypeError):
                    batch.append(seq)
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        last = batch[-1] if isinstance(batch[-1], int) else batch[-1].seq
        for entry in batch:  # read once: not kept in the session (the caller's objects are)
            if not isinstance(entry, int):
                session.expunge(entry)


def verify(session: Session) -> ChainVerification:
    """Walk the chain from the start; report the first entry that does not hold."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in _stored_entries(session):
        if isinstance(entry, int):
            return _broken(count, entry, "unreadable", "it cannot be read (damaged or edited)")
        if entry.seq != expected_seq:
            return _broken(count, expected_seq, "missing",
                           f"entry {expected_seq} is missing (next is {entry.seq})",
                           missing=expected_seq, next=entry.seq)
        if entry.prev_hash != prev:
            return _broken(count, entry.seq, "prev_hash",
                           "its previous-hash does not match the entry before it")
        try:
            canonical = canonical_json(json.loads(entry.change))
            matches = entry.change == canonical and entry_hash(prev, entry) == entry.hash
        except (ValueError, TypeError):
            return _broken(count, entry.seq, "unreadable", "it cannot be read (damaged or edited)")
        if not matches:
            return _broken(count, entry.seq, "edited",
                           "its content does not match its hash (edited)")
        prev = entry.hash
        expected_seq += 1
        count += 1
    head = session.get(AuditHead, 1)
    if head is None:
        if count:
            return _broken(count, count + 1, "head_missing", "the chain head is missing")
    elif head.seq > count:
        return _broken(count, count + 1, "head_ahead",
                       f"the chain head says {head.seq} entries, found {count}",
                       head=head.seq, found=count)
    elif head.seq < count:
        return _broken(count, head.seq + 1, "head_behind",
                       f"the chain head says {head.seq} entries, found {count}",
                       head=head.seq, found=count)
    elif head.hash != prev:
        return _broken(max(count - 1, 0), count if count else None, "head_hash",
                       "the chain head's hash does not match the last entry")
    return ChainVerification(True, count)


def _day_start(day: date) -> datetime:
    """The moment (UTC) a day begins in China."""
    return as_utc(datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ))


def _day(text: str) -> date | None:
    """A day written YYYY-MM-DD in the years the platform knows, or None."""
    from evalplatform.services import years

    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
    return day if years.within(day) else None


@dataclass
class AuditFilters:
    """审计日志筛选: who acted (username), the action, the kind of object, and the days the
    entries were made, ``since`` and ``until`` inclusive (YYYY-MM-DD, China time)."""

    action: str = ""
    entity_type: str = ""
    actor: str = ""
    since: str = ""
    until: str = ""

    def __post_init__(self):
        for f in fields(self):
            setattr(self, f.name, str(getattr(self, f.name) or "").strip())

    def problems(self) -> dict[str, str]:
        """Filter → why it is not applied, in the reader's language."""
        from evalplatform.i18n import _

        found: dict[str, str] = {}
        for key in ("since", "until"):
            text = getattr(self, key)
            if text and _day(text) is None:
                found[key] = _("Enter a date as YYYY-MM-DD, e.g. 2026-01-31.")
        since, until = _day(self.since), _day(self.until)
        if since and until and since > until and "until" not in found:
            found["until"] = _("The last day is before the first day.")
        return found

    def apply(self, statement):
        """``statement`` narrowed to the entries these filters keep (a filter with a problem
        is left out, as the page says)."""
        if self.action:
            statement = statement.where(AuditEntry.action == self.action)
        if self.entity_type:
            statement = statement.where(AuditEntry.entity_type == self.entity_type)
        if self.actor:
            statement = statement.where(AuditEntry.actor_name == self.actor)
        problems = self.problems()
        since = None if "since" in problems else _day(self.since)
        until = None if "until" in problems else _day(self.until)
        if since:
            statement = statement.where(AuditEntry.at >= _day_start(since))
        if until:
            statement = statement.where(AuditEntry.at < _day_start(until + timedelta(days=1)))
        return statement

    def query(self) -> dict[str, str]:
        """The filters applied, as query parameters: the export link's, so that the file
        holds what the table shows (a filter with a problem is not applied to either)."""
        problems = self.problems()
        return {k: v for k, v in vars(self).items() if v and k not in problems}


def page_entries(session: Session, *, sort=None, page=1, per_page=50,
                 filters: AuditFilters | None = None):
    from evalplatform.services.paging import paginate

    return paginate(
        session,
        (filters or AuditFilters()).apply(select(AuditEntry)),
        sort_columns={"seq": AuditEntry.seq, "action": AuditEntry.action,
                      "actor_name": AuditEntry.actor_name, "entity_type": AuditEntry.entity_type},
        sort=sort,
        default_sort="-seq",
        page=page,
        per_page=per_page,
    )


#: Entries read at a time by :func:`export_rows`, so that a log of any length is written out
#: in constant memory.
EXPORT_BATCH = 1000


#: Characters that make a spreadsheet read a cell as a formula (CSV injection): a text column
#: meant for people that starts with one is written with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value: str) -> str:
    """A cell meant for people, never run as a formula when the file is opened in a
    spreadsheet (a project called "=HYPERLINK(…)"). The columns the hash covers are written as
    stored: they start with a digit, a letter or "{"."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_header() -> list[str]:
    """The export's column titles, in the reader's language: first the columns to read (time in
    China time, the actor's name, the action and the object in words, the change in words),
    each column the hash chain is checked with named by its field in brackets."""
    from evalplatform.i18n import _

    return [_("No. (seq)"), _("Time (China time)"), _("Actor"), _("Username (actor_name)"),
            _("Action"), _("Action code (action)"), _("Entity"),
            _("Entity type (entity_type)"), _("Entity ID (entity_id)"), _("Change"),
            _("Time in UTC (at)"), _("Change as stored, JSON (change)"),
            _("Previous hash (prev_hash)"), _("Hash (hash)"),
            _("Content the hash covers (payload)")]


def export_rows(session: Session, filters: AuditFilters,
                details: Callable[[AuditEntry], str] | None = None):
    """The entries the filters keep, oldest first, as CSV rows after a header row
    (:func:`export_header`), in the reader's language where they are read and as stored
    where they are checked: number; moment in China time as the log's page shows it; the
    actor's name (姓名, "the system" for the platform) and username; the action in words and
    its code; the object in words (its kind, its name where it has one) and its kind and id;
    the change in words (``details``, the log page's wording, given by the caller); then the
    moment in UTC as the hash covers it, the change as stored (canonical JSON), the previous
    hash, the hash, and the payload the hash covers, so that anyone can check
    hash = SHA-256(prev_hash + payload) and each entry's prev_hash against the entry before,
    outside the platform. Read in batches by number."""
    from evalplatform.i18n import _
    from evalplatform.labels import ACTION_LABELS, ENTITY_LABELS
    from evalplatform.services.accounts import display_names

    yield export_header()
    last = 0
    while True:
        batch = session.exec(filters.apply(select(AuditEntry)).where(AuditEntry.seq > last)
                             .order_by(AuditEntry.seq).limit(EXPORT_BATCH)).all()
        names = display_names(session, batch)
        objects = entity_names(session, batch)
        for entry in batch:
            payload = entry_payload(entry)
            if entry.actor_id is None and entry.actor_name == SYSTEM.name:
                actor = _("the system")
            else:
                actor = names.get(entry.actor_id, "")
            kind = str(ENTITY_LABELS.get(entry.entity_type, entry.entity_type))
            name = objects.get((entry.entity_type, entry.entity_id))
            entity = f"{kind}「{name}」" if name else f"{kind} #{entry.entity_id}"
            yield [entry.seq,
                   as_utc(entry.at).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                   _as_text(actor), entry.actor_name,
                   str(ACTION_LABELS.get(entry.action, entry.action)), entry.action,
                   _as_text(entity), entry.entity_type, entry.entity_id,
                   _as_text(details(entry) if details else ""),
                   payload["at"], entry.change, entry.prev_hash, entry.hash,
                   canonical_json(payload)]
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].seq
        session.expunge_all()  # let the rows written go


@dataclass(frozen=True)
class FilterChoices:
    """What the audit log can be filtered by: the actions and entity types it holds."""

    actions: list[str]
    entity_types: list[str]


def filter_choices(session: Session) -> FilterChoices:
    """The distinct actions and entity types in the log (both columns indexed), sorted."""
    def distinct(column) -> list[str]:
        return sorted(v for v in session.exec(select(column).distinct()).all() if v)

    return FilterChoices(distinct(AuditEntry.action), distinct(AuditEntry.entity_type))


def _named_kinds():
    """The kinds of object the log names, each with its table and the column that names it
    (an empty name: the object exists but goes by its number; an expert's name is personal
    data and stays off the log's pages)."""
    from evalplatform.models import (
        Appeal,
        CatalogueEntry,
        Contract,
        Evaluation,
        Expert,
        IndicatorScheme,
        NegativeListEntry,
        Organisation,
        Project,
        Settlement,
    )

    return {"project": (Project, Project.name), "evaluation": (Evaluation, Evaluation.title),
            "indicator_scheme": (IndicatorScheme, IndicatorScheme.name),
            "organisation": (Organisation, Organisation.name),
            "catalogue_entry": (CatalogueEntry, CatalogueEntry.name),
            "negative_list_entry": (NegativeListEntry, NegativeListEntry.name),
            "contract": (Contract, Project.name), "expert": (Expert, None),
            "appeal": (Appeal, None), "settlement": (Settlement, None)}


def load_objects(session: Session, keys) -> list:
    """The objects ``(kind, id)`` of the kinds the log names, read in one query per kind, so
    that checking each one's access afterwards (``session.get``) finds it in the session
    instead of reading it again. The caller keeps the list while it checks: the session
    holds its objects only as long as someone else does."""
    kinds = _named_kinds()
    wanted: dict[str, set[int]] = {}
    for kind, object_id in keys:
        if kind in kinds and str(object_id).isdigit():
            wanted.setdefault(kind, set()).add(int(object_id))
    loaded: list = []
    for kind, ids in wanted.items():
        model = kinds[kind][0]
        loaded.extend(session.exec(select(model).where(model.id.in_(sorted(ids)))).all())
    return loaded


def entity_names(session: Session, entries) -> dict[tuple[str, str], str]:
    """The objects a page of entries is about that still exist, with their names where they
    have one (a project's name, an evaluation's title; a contract goes by its project's
    name): one query per kind of object on the page. Kinds the log does not name, and
    objects since gone, are left out."""
    from evalplatform.models import Contract, Project

    wanted: dict[str, set[int]] = {}
    kinds = _named_kinds()
    for entry in entries:
        if entry.entity_type in kinds and str(entry.entity_id).isdigit():
            wanted.setdefault(entry.entity_type, set()).add(int(entry.entity_id))
    found: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        model, name = kinds[kind]
        if kind == "contract":
            statement = (select(Contract.id, Project.name)
                         .join(Project, Contract.project_id == Project.id))
        elif name is None:
            statement = select(model.id, model.id)
        else:
            statement = select(model.id, name)
        for object_id, value in session.exec(statement.where(model.id.in_(sorted(ids)))):
            found[(kind, str(object_id))] = "" if name is None else str(value or "")
    return found


def activity_by_day(session: Session, days: int = 30) -> list[tuple[str, int]]:
    """Entries per day (China time) over the last ``days`` days, oldest first, zeros included."""
    today = now().astimezone(LOCAL_TZ).date()
    start = today - timedelta(days=days - 1)
    counts: dict[str, int] = {}
    for at in session.exec(select(AuditEntry.at).where(AuditEntry.at >= _day_start(start))).all():
        day = as_utc(at).astimezone(LOCAL_TZ).date().isoformat()
        counts[day] = counts.get(day, 0) + 1
    return [((start + timedelta(days=i)).isoformat(), counts.get((start + timedelta(days=i))
             .isoformat(), 0)) for i in range(days)]
