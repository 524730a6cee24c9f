"""The API's OpenAPI 3.1 document. Every object is closed (`additionalProperties: false`), so the tests that
validate every response against it also fail on any field the API does not mean to give, such as an e-mail."""
from __future__ import annotations

from contest.api.common import MAX_PER_PAGE, PER_PAGE
from contest.models.entries import Channel
from contest.services.results.stored import RESULTS_PAGE
from contest.services.search import COUNT_CAP
from contest.text import DESCRIPTION, PICTURE_DESCRIPTION, TITLE

VERSION = "1.0.0"
NAME = "People's City Design Calls: open data"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, description: str | None = None) -> dict:
    out = {"type": "object", "additionalProperties": False, "properties": properties, "required": list(properties)}
    if description:
        out["description"] = description
    return out


def _null(schema: dict) -> dict:
    if "type" in schema and "$ref" not in schema and isinstance(schema["type"], str):
        nullable = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            nullable["enum"] = [*schema["enum"], None]
        return nullable
    return {"anyOf": [schema, {"type": "null"}]}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
COUNT = {"type": "integer", "minimum": 0}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
MOMENT = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}
CHANNELS = ("web", "mobile", "paper", "meeting", "questionnaire", "poster")
STAGES = ("adopted", "refining", "building", "implemented")


def _page(item: str) -> dict:
    return _obj({
        "items": _array(_ref(item)), "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "total": COUNT,
        "next": _null(URL), "prev": _null(URL),
    }, f"One page of {item} items, newest or first in order.")


def _seek_page(item: str) -> dict:
    return _obj({
        "items": _array(_ref(item)),
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "total": {**COUNT, "description": f"The entries listed, or found by a search or a filter; a search counts up "
                                          f"to {COUNT_CAP:,} only (then total is {COUNT_CAP:,} and total_capped "
                                          f"is true)."},
        "total_capped": {**BOOLEAN, "description": f"More than total were found (a search counts up to "
                                                   f"{COUNT_CAP:,}); every one of them is still in the pages."},
        "next": _null(URL), "prev": _null(URL),
    }, f"One page of {item} items. The pages follow one another by a seek, not by numbers: follow next and prev.")


def _keyed(key: dict) -> dict:
    return _array(_obj({"key": key, "count": COUNT}))


SCHEMAS = {
    "Error": _obj({"error": _obj({
        "code": {"type": "string", "description": "A stable code, e.g. not_found, unauthorized, refused, "
                                                  "rate_limited, already_voted, not_eligible."},
        "message": {"type": "string", "description": "For people, in the caller's language."}})}),
    "Text": _obj({"zh": STRING, "en": _null(STRING)}, "A department's text in both languages: the Chinese text of "
                 "record, and its English text, null when none was given (show the Chinese one, marked as Chinese)."),
    "Department": _obj({"id": ID, "name": _ref("Text")}),
    "Image": _obj({
        "alt_text": STRING, "width": COUNT, "height": COUNT, "gallery": URL, "page": URL, "zoom": URL,
        "original": {**_null(URL), "description": "Only when the call publishes its originals."},
    }),
    "Call": _obj({
        "id": ID, "title": _ref("Text"), "summary": _ref("Text"),
        "brief": {**_ref("Text"), "description": "Markdown, in each language."},
        "kind": _enum("design", "idea"), "state": _enum("upcoming", "open", "closed"),
        "themes": _array(_ref("Text")), "departments": {**_array(_ref("Department")),
                                                        "description": "The lead department first."},
        "topics": _array(_obj({"id": ID, "title": _ref("Text"), "description": _ref("Text")})),
        "cover": _null(_ref("Image")), "opens_at": MOMENT, "closes_at": MOMENT, "published_at": MOMENT,
        "rules": _obj({"image_formats": _array(STRING), "images_min": COUNT, "images_max": COUNT,
                       "image_max_mb": COUNT, "entries_per_person": COUNT, "licence_text": _ref("Text"),
                       "originality_text": _ref("Text"), "originals_public": BOOLEAN}),
        "entries": {**COUNT, "description": "Approved entries."},
        "results": _enum("not_published", "notice_period", "notice_over", "final"),
        "links": _obj({"self": URL, "html": URL, "entries": URL, "rounds": URL, "results": _null(URL),
                       "follow_ups": URL, "submit": _null(URL)}),
    }),
    "Entry": _obj({
        "id": ID, "call_id": ID, "title": STRING, "description": STRING, "channel": _enum(*CHANNELS),
        "topic": _null(_obj({"id": ID, "title": _ref("Text")})),
        "theme": _null(_obj({"id": ID, "name": _ref("Text")})),
        "place": _null(_ref("Department")), "created_at": MOMENT, "images": _array(_ref("Image")),
        "links": _obj({"self": URL, "html": URL, "call": URL}),
    }, "An approved entry. Who sent it is never part of the open data."),
    "Round": _obj({
        "id": ID, "call_id": ID, "position": ID, "kind": _enum("expert", "public"), "title": _ref("Text"),
        "opens_at": MOMENT, "closes_at": MOMENT, "state": _enum("upcoming", "open", "closed", "decided"),
        "decided_at": _null(MOMENT), "mode": _null(_enum("votes", "pairwise")),
        "votes_per_citizen": _null(COUNT), "blind": _null(BOOLEAN),
        "scale": _null(_obj({"low": NUMBER, "high": NUMBER, "step": NUMBER})),
        "criteria": _array(_obj({"name": _ref("Text"), "description": _ref("Text"), "weight": COUNT})),
        "links": _obj({"html": _null(URL)}),
    }, "A round of judging: no scores here (they are in the results once published)."),
    "Place": _obj({"score": _null(NUMBER), "rank": _null(INTEGER), "percentile": _null(NUMBER),
                   "advanced": BOOLEAN, "rank_low": _null(INTEGER), "rank_high": _null(INTEGER),
                   "jurors": _null(COUNT)}),
    "PublicPlace": _obj({"score": _null(NUMBER), "rank": _null(INTEGER), "percentile": _null(NUMBER),
                         "advanced": BOOLEAN}),
    "Award": _obj({"prize": _ref("Text"), "reward": _ref("Text"), "position": COUNT}),
    "Figures": _obj({"received": COUNT, "approved": COUNT, "by_group": _keyed(STRING),
                     "by_channel": _keyed(_enum(*CHANNELS))}),
    "Results": _obj({
        "call_id": ID, "state": _enum("notice_period", "notice_over", "final"), "published_at": MOMENT,
        "notice_ends_at": MOMENT, "final_at": _null(MOMENT), "notice_days": COUNT, "top_n": _null(ID),
        "formula": _obj({"expert_weight": COUNT, "public_weight": COUNT, "combine_on": _enum("ranks", "percentiles"),
                         "expert_round": _null(STRING), "public_round": _null(STRING),
                         "public_mode": _null(_enum("votes", "pairwise")), "counted": _array(_enum("expert",
                                                                                                  "public"))}),
        "page": {**ID, "description": f"The page of the ranking, {RESULTS_PAGE} rows a page."},
        "pages": COUNT, "next": _null(URL),
        "ranking": _array(_obj({
            "entry_id": ID, "title": STRING, "rank": _null(ID), "value": _null(NUMBER), "finalist": BOOLEAN,
            "out_in": {**_null(STRING), "description": "The round an entry stopped in."},
            "unsure": {**BOOLEAN, "description": "Too close to its neighbour to tell apart."},
            "close_to": _array(ID), "expert": _null(_ref("Place")), "public": _null(_ref("PublicPlace")),
            "award": _null(_ref("Award")),
        })),
        "awards": _array(_obj({"entry_id": ID, "title": STRING, "prize": _ref("Text"), "reward": _ref("Text"),
                               "position": COUNT})),
        "award_statement": _ref("Text"),
        "rounds": _array(_obj({
            "id": ID, "title": STRING, "kind": _enum("expert", "public"), "entries": COUNT, "advanced": COUNT,
            "decided": BOOLEAN,
            "criteria": _array(_obj({"name": STRING, "weight": COUNT, "description": STRING})),
            "jurors": _null(COUNT), "sheets": _null(COUNT), "alpha": _null(NUMBER), "kendall_w": _null(NUMBER),
            "cutoff": _null(NUMBER), "mode": _null(_enum("votes", "pairwise")), "ballots": _null(COUNT),
            "voters": _null(COUNT), "voided": _array(_obj({"reason": STRING, "count": COUNT})),
        })),
        "figures": _ref("Figures"),
        "objections": _array(_obj({"id": ID, "entry_id": _null(ID), "reason": STRING, "created_at": MOMENT,
                                   "answer": _null(_ref("Text")), "answered_at": _null(MOMENT)},
                                  "An objection and the organisers' answer; never who objected.")),
        "links": _obj({"html": URL, "call": URL}),
    }, "The ranking as published, with the entries that are public now."),
    "FollowUp": _obj({
        "id": ID, "call_id": ID, "entry_id": ID, "entry_title": STRING, "stage": _enum(*STAGES),
        "progress": {"type": "integer", "minimum": 0, "maximum": 100}, "created_at": MOMENT, "updated_at": MOMENT,
        "updates": _array(_obj({"happened_on": MOMENT, "stage": _enum(*STAGES), "progress": COUNT, "text": STRING,
                                "photo": _null(_ref("Image"))})),
        "links": _obj({"entry": URL, "html": URL}),
    }),
    "Statistics": _obj({
        "department": _null(_ref("Department")), "calls": COUNT, "received": COUNT, "approved": COUNT,
        "answered": COUNT, "decided": COUNT, "adopted": COUNT, "implemented": COUNT,
        "answered_share": _null(NUMBER), "adoption_rate": _null(NUMBER), "implementation_rate": _null(NUMBER),
        "by_channel": _keyed(_enum(*CHANNELS)), "by_group": _keyed(STRING),
        "by_place": _array(_obj({"department": _null(_ref("Department")), "count": COUNT})),
        "by_organiser": _array(_obj({"department": _null(_ref("Department")), "count": COUNT})),
        "by_month": _keyed({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
    }, "Figures of the published calls: approved entries by channel, group, place, organiser and month."),
    "SubmittedEntry": _obj({
        "id": ID, "call_id": ID, "title": STRING, "status": _enum("submitted"), "channel": _enum("mobile"),
        "created_at": MOMENT, "message": STRING, "links": _obj({"my_entries": URL}),
    }, "The entry is received and waits for moderation."),
    "VoteOutcome": _obj({"round_id": ID, "entry_id": ID, "outcome": _enum("counted", "already", "taken_back"),
                         "message": STRING}),
    "Index": _obj({"name": STRING, "version": STRING, "openapi": URL,
                   "links": _obj({"calls": URL, "follow_ups": URL, "statistics": URL})},
                  "Where the reads begin, and the address of this document."),
    "OpenAPI": {"type": "object", "description": "This document."},
}
POINT = _obj({"type": _enum("Point"), "coordinates": {**_array(NUMBER), "minItems": 2, "maxItems": 2,
                                                      "description": "Longitude, latitude (WGS-84)."}})
SCHEMAS |= {
    "EntryFeature": _obj({"type": _enum("Feature"), "geometry": POINT, "properties": {
        **_obj({"id": ID, "title": STRING, "address": STRING, "url": URL,
                "distance_m": {**COUNT, "description": "Metres from the point asked (with near= only)."}}),
        "required": ["id", "title", "address", "url"]}}, "A public entry placed on the map."),
    "EntryCollection": {**_obj({
        "type": _enum("FeatureCollection"), "features": _array(_ref("EntryFeature")),
        "total": COUNT, "next": _null(URL),
        "near": {**_array(NUMBER), "description": "The walk's centre, longitude first (with near= only)."},
        "minutes": ID, "radius_m": COUNT,
        "truncated": {**BOOLEAN, "description": "More lie within the walk than the nearest listed."}}),
        "required": ["type", "features"]},
    "ClusterFeature": _obj({"type": _enum("Feature"), "geometry": POINT, "properties": {
        **_obj({"count": ID, "id": ID, "title": STRING, "url": URL}), "required": ["count"]}},
        "Entries of one cell of the viewport, at their mean position; id, title and url when there is one."),
    "ClusterCollection": _obj({"type": _enum("FeatureCollection"), "features": _array(_ref("ClusterFeature"))}),
    "BuiltFeature": _obj({"type": _enum("Feature"), "geometry": POINT, "properties": {
        **_obj({"follow_up_id": ID, "entry_id": ID, "title": STRING, "stage": _enum(*STAGES), "address": STRING,
                "url": URL, "distance_m": {**COUNT, "description": "Metres from the point asked (with near= only)."}}),
        "required": ["follow_up_id", "entry_id", "title", "stage", "address", "url"]}},
        "Where a follow-up's built object stands: the adopted entry's title and the follow-up's stage."),
    "BuiltCollection": {**_obj({
        "type": _enum("FeatureCollection"), "features": _array(_ref("BuiltFeature")),
        "near": {**_array(NUMBER), "description": "The walk's centre, longitude first (with near= only)."},
        "minutes": ID, "radius_m": COUNT}), "required": ["type", "features"]},
}
CLOSED_SCHEMAS = [name for name, schema in SCHEMAS.items() if schema.get("additionalProperties") is False]


def _param(name: str, where: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


PAGE_PARAMS = [
    _param("page", "query", {"type": "integer", "minimum": 1, "default": 1}, "The page, from 1."),
    _param("per_page", "query", {"type": "integer", "minimum": 1, "default": PER_PAGE},
           f"Items per page; more than {MAX_PER_PAGE} are given as {MAX_PER_PAGE}."),
]
SEEK_PARAMS = [
    _param("after", "query", ID, "The page after this entry (what a next link holds)."),
    _param("before", "query", ID, "The page before this entry (what a prev link holds)."),
    _param("last", "query", _enum("1"), "The last page."),
    _param("page", "query", {"type": "integer", "minimum": 1, "maximum": 1, "default": 1},
           "No page numbers: a page past the first is refused with 400."),
    PAGE_PARAMS[1],
]
CALL_ID = _param("call_id", "path", ID, "The call.")


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _read(summary: str, schema: str, params=(), paged: bool = False, not_found: str | None = None) -> dict:
    responses = {"200": _ok(schema)}
    if paged or params:
        responses["400"] = _error("A parameter is not valid.")
    if not_found:
        responses["404"] = _error(not_found)
    responses["503"] = _error("The database is out of reach just now: try again after the seconds the Retry-After "
                              "header gives.")
    return {"get": {"summary": summary, "operationId": summary.lower().replace(" ", "_").replace("'", ""),
                    "tags": ["open data"], "parameters": list(params) + (PAGE_PARAMS if paged else []),
                    "responses": responses}}


WRITE_ERRORS = {
    "400": _error("A field is not valid."), "401": _error("No valid token: missing, unknown or revoked, or the "
                                                          "account is disabled."),
    "403": _error("Not allowed (e.g. not eligible to vote here)."), "404": _error("No such call, round or entry."),
    "413": _error("Too large."), "415": _error("Not sent as multipart/form-data."),
    "422": _error("A rule refused it (the deadline, the quota, the image rules ...): nothing was stored. The "
                  "message says which."),
    "429": _error("Too many requests for this account: wait and try again."),
    "503": _error("The database or the file storage is out of reach just now: nothing was stored. Send the same "
                  "request again after the seconds the Retry-After header gives."),
}


def _write(summary: str, params: list, responses: dict, body: dict | None = None, drop=()) -> dict:
    operation = {"summary": summary, "operationId": summary.lower().replace(" ", "_"), "tags": ["mobile client"],
                 "security": [{"bearerToken": []}], "parameters": params,
                 "responses": responses | {k: v for k, v in WRITE_ERRORS.items() if k not in drop}}
    if body:
        operation["requestBody"] = body
    return operation


IMAGE_SLOTS = 4  # described here; the API reads up to 24 as the web form does
ENTRY_FORM = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["title", "accept_terms"],
        "properties": {
            "title": {"type": "string", "maxLength": TITLE.max},
            "description": {"type": "string", "maxLength": DESCRIPTION.max, "description": "Required for an idea."},
            "topic_id": {"type": "integer", "description": "One of the call's topics; required for an idea."},
            "place_id": {"type": "integer", "description": "A department the idea is about (optional)."},
            "theme_id": {"type": "integer", "description": "One of the call's themes, which the entry answers "
                                                           "(optional)."},
            "accept_terms": {"type": "boolean", "description": "Accepts the licence terms and declares the work "
                                                               "original: required."},
        } | {f"image-{n}": {"type": "string", "contentMediaType": "application/octet-stream",
                            "description": "An image file, with a file name."} for n in range(1, IMAGE_SLOTS + 1)}
          | {f"image-{n}-alt": {"type": "string", "maxLength": PICTURE_DESCRIPTION.max,
                                "description": f"What image {n} shows, for people who cannot see it: required "
                                               "with each image."} for n in range(1, IMAGE_SLOTS + 1)},
    }}},
}


def document(server: str) -> dict:
    round_param = _param("round_id", "path", ID, "A public round (votes).")
    entry_param = _param("entry_id", "path", ID, "An entry in the round.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": NAME, "version": VERSION,
            "description": "Published calls, their approved entries, rounds, published results, follow-up and "
                           "statistics, without personal data. Lists are paged (`page`, `per_page`; a call's "
                           "entries by a seek, `after` or `before`, through their next and prev links). A mobile "
                           "client sends entries and votes with a token its user makes on the account page "
                           "/account/api-tokens, as `Authorization: Bearer <token>`. Errors are "
                           "`{\"error\": {\"code\", \"message\"}}`, the message in the account's language or "
                           "the one Accept-Language asks for. What a department writes (a call's title, "
                           "summary and brief, its themes, topics, rules and prizes, rounds and criteria, the "
                           "results' statement, answers to objections, department names) comes in both "
                           "languages as `{\"zh\": ..., \"en\": ...}` (see Text); what citizens write comes as "
                           "they wrote it.",
        },
        "servers": [{"url": server}],
        "paths": {
            "/": _read("Get the front door", "Index"),
            "/calls": _read("List calls", "CallPage", [
                _param("state", "query", _enum("upcoming", "open", "closed"), "Only calls in this state."),
                _param("department", "query", ID, "Only calls this department runs or co-organises."),
                _param("theme", "query", STRING, "Only calls with this theme."),
                _param("q", "query", STRING, "Words in the title or summary."),
            ], paged=True),
            "/calls/{call_id}": _read("Get a call", "Call", [CALL_ID], not_found="No published call."),
            "/calls/{call_id}/entries": _read("List a call's entries", "EntryPage", [
                CALL_ID,
                _param("q", "query", STRING, "Words of the entry (Chinese is segmented into words): each must be "
                                             "there."),
                _param("topic", "query", ID, "Only entries on this topic."),
                _param("theme", "query", ID, "Only entries answering this theme of the call."),
                _param("place", "query", ID, "Only entries about this place (a department's id)."),
                _param("tag", "query", ID, "Only entries the organisers gave this tag (a common issue)."),
                _param("channel", "query", _enum(*[c.value for c in Channel]), "Only entries sent this way."),
                *SEEK_PARAMS,
            ],
                                              not_found="No published call.") | {
                "post": _write("Send an entry", [CALL_ID], {"201": _ok("SubmittedEntry", "Received.")},
                               ENTRY_FORM) | {"description": "Through the same rules as the web form; channel "
                                                             "`mobile`. Needs a confirmed e-mail address."}},
            "/calls/{call_id}/entries.geojson": _read("List a call's placed entries as GeoJSON", "EntryCollection", [
                CALL_ID,
                _param("near", "query", STRING, "latitude,longitude of a point in the city: only the entries "
                                                "within the walk, nearest first, each with its distance."),
                _param("minutes", "query", {**ID, "maximum": 60}, "Minutes of walking (with near; 15 by default)."),
                _param("page", "query", ID, "Without near: the page (500 features a page)."),
                _param("per_page", "query", {**ID, "maximum": 1000}, "Without near: features a page."),
            ], not_found="No published call."),
            "/calls/{call_id}/built.geojson": _read("List the built objects of a call's follow-ups as GeoJSON",
                                                    "BuiltCollection", [
                CALL_ID,
                _param("near", "query", STRING, "latitude,longitude of a point in the city: only the built objects "
                                                "within the walk, nearest first, each with its distance."),
                _param("minutes", "query", {**ID, "maximum": 60}, "Minutes of walking (with near; 15 by default)."),
            ], not_found="No published call."),
            "/calls/{call_id}/clusters.geojson": _read("Get a viewport of a call's map", "ClusterCollection", [
                CALL_ID, _param("bbox", "query", STRING, "south,west,north,east of the view.", required=True),
            ], not_found="No published call."),
            "/entries/{entry_id}": _read("Get an entry", "Entry", [_param("entry_id", "path", ID, "The entry.")],
                                         not_found="No approved entry."),
            "/calls/{call_id}/rounds": _read("List a call's rounds", "RoundPage", [CALL_ID], paged=True,
                                             not_found="No published call."),
            "/calls/{call_id}/results": _read("Get a call's results", "Results", [CALL_ID, PAGE_PARAMS[0]],
                                              not_found="No published call, or its results are not published."),
            "/calls/{call_id}/follow-ups": _read("List a call's follow-ups", "FollowUpPage", [CALL_ID], paged=True,
                                                 not_found="No published call."),
            "/follow-ups": _read("List follow-ups", "FollowUpPage", paged=True),
            "/statistics": _read("Get statistics", "Statistics", [
                _param("department", "query", ID, "Only the calls of this department and those under it.")],
                not_found="No such department."),
            "/openapi.json": _read("Get this document", "OpenAPI"),
            "/rounds/{round_id}/votes/{entry_id}": {
                "post": _write("Vote", [round_param, entry_param], {
                    "201": _ok("VoteOutcome", "Counted."),
                    "200": _ok("VoteOutcome", "Already counted before: nothing changed."),
                }, drop=("413", "415")),
                "delete": _write("Take back a vote", [round_param, entry_param], {
                    "200": _ok("VoteOutcome", "Taken back."),
                }, drop=("413", "415")),
            },
        },
        "components": {
            "schemas": SCHEMAS | {f"{name}Page": _page(name) for name in ("Call", "Round", "FollowUp")}
                       | {"EntryPage": _seek_page("Entry")},
            "securitySchemes": {"bearerToken": {
                "type": "http", "scheme": "bearer",
                "description": "A token made on /account/api-tokens (shown once; revocable there)."}},
        },
    }
