"""What the API says about each thing: plain dicts of public facts, never a person's address, name or account.

Each function takes rows already loaded with what it reads (see the `*_options` beside it), so a page of a list
costs a fixed number of queries whatever its length.
"""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from sqlalchemy.orm import joinedload, selectinload

from contest.models import (
    Call,
    CallState,
    Department,
    Entry,
    EntryImage,
    FollowUp,
    FollowUpUpdate,
    Image,
    Round,
    RoundKind,
)
from contest.models.types import utcnow
from contest.services.visibility import public_counts
from contest.snapshot import Figures, Place, RoundSummary, Row, Snapshot

DERIVED = ("gallery", "page", "zoom")


def moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def department(d: Department | None) -> dict | None:
    if d is None:
        return None
    return {"id": d.id, "name": d.both("name")}


def image(img: Image, alt_text: str, original: bool = False) -> dict:
    """An image's addresses: the derived sizes always, the original only when its call publishes originals."""
    out = {"alt_text": alt_text, "width": img.width, "height": img.height}
    for name in DERIVED:
        out[name] = url_for("media.image", image_id=img.id, name=name, _external=True)
    out["original"] = url_for("media.image", image_id=img.id, name="original", _external=True) if original else None
    return out


def results_state(call: Call, now: datetime) -> str:
    if call.results_published_at is None:
        return "not_published"
    if call.results_final_at is not None:
        return "final"
    return "notice_period" if call.notice_ends_at is not None and now < call.notice_ends_at else "notice_over"


CALL_OPTIONS = (selectinload(Call.department), selectinload(Call.co_departments), selectinload(Call.themes),
                selectinload(Call.topics), selectinload(Call.cover_image).lazyload(Image.files))


def calls(rows: list[Call]) -> list[dict]:
    counts = public_counts([c.id for c in rows])
    now = utcnow()
    return [call(c, counts.get(c.id, 0), now) for c in rows]


def call(c: Call, count: int, now: datetime | None = None) -> dict:
    now = now or utcnow()
    published = c.results_published_at is not None
    return {
        "id": c.id, "title": c.both("title"), "summary": c.both("summary"), "brief": c.both("brief"),
        "kind": c.kind.value, "state": c.state_at(now).value, "themes": [t.both("name") for t in c.themes],
        "departments": [department(d) for d in c.departments],
        "topics": [{"id": t.id, "title": t.both("title"), "description": t.both("description")} for t in c.topics],
        "cover": image(c.cover_image, c.cover_alt) if c.cover_image is not None else None,
        "opens_at": moment(c.opens_at), "closes_at": moment(c.closes_at), "published_at": moment(c.published_at),
        "rules": {"image_formats": list(c.image_formats), "images_min": c.images_min, "images_max": c.images_max,
                  "image_max_mb": c.image_max_mb, "entries_per_person": c.entries_per_person,
                  "licence_text": c.both("licence_text"), "originality_text": c.both("originality_text"),
                  "originals_public": c.originals_public},
        "entries": count, "results": results_state(c, now),
        "links": {
            "self": url_for("api.call", call_id=c.id, _external=True),
            "html": url_for("public.call", call_id=c.id, _external=True),
            "entries": url_for("api.call_entries", call_id=c.id, _external=True),
            "rounds": url_for("api.call_rounds", call_id=c.id, _external=True),
            "results": url_for("api.call_results", call_id=c.id, _external=True) if published else None,
            "follow_ups": url_for("api.call_follow_ups", call_id=c.id, _external=True),
            "submit": url_for("api.submit_entry", call_id=c.id, _external=True)
            if c.state_at(now) is CallState.OPEN else None,
        },
    }


ENTRY_OPTIONS = (joinedload(Entry.call), joinedload(Entry.topic), joinedload(Entry.theme), joinedload(Entry.place),
                 selectinload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files))


def entries(rows: list[Entry]) -> list[dict]:
    return [entry(e) for e in rows]


def entry(e: Entry) -> dict:
    # Never the author: not their account, not their name (the API is for everyone, and rounds may be blind).
    originals = e.call.originals_public and e.call.published_at is not None
    return {
        "id": e.id, "call_id": e.call_id, "title": e.title, "description": e.description,
        "channel": e.channel.value,
        "topic": {"id": e.topic.id, "title": e.topic.both("title")} if e.topic is not None else None,
        "theme": {"id": e.theme.id, "name": e.theme.both("name")} if e.theme is not None else None,
        "place": department(e.place), "created_at": moment(e.created_at),
        "images": [image(p.image, p.alt_text, originals) for p in e.images],  # never a scan of a paper original
        "links": {"self": url_for("api.entry", entry_id=e.id, _external=True),
                  "html": url_for("public.entry", entry_id=e.id, _external=True),
                  "call": url_for("api.call", call_id=e.call_id, _external=True)},
    }


ROUND_OPTIONS = (selectinload(Round.criteria),)


def rounds(rows: list[Round]) -> list[dict]:
    now = utcnow()
    return [round_(r, now) for r in rows]


def round_(r: Round, now: datetime) -> dict:
    expert = r.kind is RoundKind.EXPERT
    return {
        "id": r.id, "call_id": r.call_id, "position": r.position, "kind": r.kind.value, "title": r.both("title"),
        "opens_at": moment(r.opens_at), "closes_at": moment(r.closes_at), "state": r.state_at(now).value,
        "decided_at": moment(r.decided_at),
        "mode": r.public_mode.value if not expert and r.public_mode is not None else None,
        "votes_per_citizen": r.votes_per_citizen if not expert else None,
        "blind": r.blind if expert else None,
        "scale": {"low": r.scale_low, "high": r.scale_high, "step": r.scale_step} if expert else None,
        "criteria": [{"name": c.both("name"), "description": c.both("description"), "weight": c.weight}
                     for c in r.criteria]
        if expert else [],
        "links": {"html": url_for("vote.round", round_id=r.id, _external=True) if not expert else None},
    }


FOLLOW_UP_OPTIONS = (
    selectinload(FollowUp.entry).load_only(Entry.id, Entry.title, Entry.call_id),
    selectinload(FollowUp.updates).joinedload(FollowUpUpdate.image).lazyload(Image.files),
)


def follow_ups(rows: list[FollowUp]) -> list[dict]:
    return [follow_up(f) for f in rows]


def follow_up(f: FollowUp) -> dict:
    return {
        "id": f.id, "call_id": f.call_id, "entry_id": f.entry_id, "entry_title": f.entry.title,
        "stage": f.stage.value, "progress": f.progress, "created_at": moment(f.created_at),
        "updated_at": moment(f.updated_at),
        "updates": [{"happened_on": moment(u.happened_on), "stage": u.stage.value, "progress": u.progress,
                     "text": u.text, "photo": image(u.image, u.image_alt) if u.image is not None else None}
                    for u in f.updates],
        "links": {"entry": url_for("api.entry", entry_id=f.entry_id, _external=True),
                  "html": url_for("followup.call", call_id=f.call_id, _external=True)},
    }


def number(value) -> float | None:
    """A figure as JSON allows it: no NaN or infinity (an agreement of one juror is not a number)."""
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _place(place: Place | None, expert: bool) -> dict | None:
    if place is None or place == Place():  # no place in that round
        return None
    out = {"score": number(place.score), "rank": place.rank,
           "percentile": number(place.percentile), "advanced": bool(place.advanced)}
    if expert:
        out.update({"rank_low": place.low, "rank_high": place.high, "jurors": place.jurors})
    return out


def _round_summary(summary: RoundSummary) -> dict:
    expert = summary.is_expert
    return {
        "id": summary.id, "title": summary.title, "kind": summary.kind,
        "entries": summary.entries, "advanced": summary.advanced,
        "decided": bool(summary.decided),
        "criteria": [{"name": c.name, "weight": c.weight, "description": c.description}
                     for c in summary.criteria] if expert else [],
        "jurors": summary.jurors if expert else None,
        "sheets": summary.sheets if expert else None,
        "alpha": number(summary.alpha) if expert else None,
        "kendall_w": number(summary.kendall_w) if expert else None,
        "cutoff": number(summary.cutoff) if expert else None,
        "mode": summary.mode if not expert else None,
        "ballots": summary.ballots if not expert else None,
        "voters": summary.voters if not expert else None,
        "voided": [{"reason": reason, "count": count} for reason, count in summary.voided]
        if not expert else [],
    }


def figures(value: Figures) -> dict:
    return {"received": value.received, "approved": value.approved,
            "by_group": [{"key": key or "none", "count": n} for key, n in value.by_group],
            "by_channel": [{"key": key, "count": n} for key, n in value.by_channel]}


def results(c: Call, snap: Snapshot, rows: list[Row], titles: dict[int, str], awards: dict, objections: list) -> dict:
    """The published ranking as it was published, with only the entries that are public now."""
    def award(entry_id):
        a = awards.get(entry_id)
        return {"prize": a.prize.both("name"), "reward": a.prize.both("reward"), "position": a.prize.position} \
            if a else None

    ranking = [{
        "entry_id": r.entry, "title": titles[r.entry], "rank": r.rank, "value": number(r.value),
        "finalist": r.finalist, "out_in": r.out_in, "unsure": r.unsure,
        "close_to": [e for e in r.close_to if e in titles],
        "expert": _place(r.expert, True), "public": _place(r.public, False),
        "award": award(r.entry),
    } for r in rows if r.entry in titles]
    formula = snap.formula.to_json()
    return {
        "call_id": c.id, "state": results_state(c, utcnow()),
        "published_at": moment(c.results_published_at), "notice_ends_at": moment(c.notice_ends_at),
        "final_at": moment(c.results_final_at), "notice_days": c.notice_days, "top_n": c.results_top_n,
        "formula": {key: formula.get(key) for key in ("expert_weight", "public_weight", "combine_on",
                                                      "expert_round", "public_round", "public_mode")}
        | {"counted": list(formula.get("counted", []))},
        "ranking": ranking,
        "awards": sorted(({"entry_id": e, "title": titles[e]} | award(e) for e in awards if e in titles),
                         key=lambda a: (a["position"], a["entry_id"])),
        "award_statement": c.both("award_statement"),
        "rounds": [_round_summary(s) for s in snap.rounds],
        "figures": figures(snap.figures),
        # Objections and their answers, never who objected.
        "objections": [{"id": o.id, "entry_id": o.entry_id if o.entry_id in titles else None, "reason": o.reason,
                        "created_at": moment(o.created_at), "answer": o.both("answer") if o.answer else None,
                        "answered_at": moment(o.answered_at)} for o in objections],
        "links": {"html": url_for("public.results", call_id=c.id, _external=True),
                  "call": url_for("api.call", call_id=c.id, _external=True)},
    }


def statistics(stats) -> dict:
    """The figures of contest.services.statistics, keyed by stable codes (the page shows the labels)."""
    def rows(items):
        return [{"key": r.key, "count": r.count} for r in items]

    def places(items):
        return [{"department": department(r.department), "count": r.count} for r in items]

    return {
        "calls": stats.calls, "received": stats.received, "approved": stats.approved, "answered": stats.answered,
        "decided": stats.decided, "adopted": stats.adopted, "implemented": stats.implemented,
        "answered_share": number(stats.answered_share), "adoption_rate": number(stats.adoption_rate),
        "implementation_rate": number(stats.implementation_rate),
        "by_channel": rows(stats.by_channel), "by_group": rows(stats.by_group),
        "by_place": places(stats.by_place), "by_organiser": places(stats.by_organiser),
        "by_month": rows(stats.by_month),
    }
