"""Checking API responses against the API's own OpenAPI document, and against what must never be in them."""
from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

PREFIX = "/api/v1"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
ORIGINAL = re.compile(r"/media/(\d+)/original")
MEDIA = re.compile(r"/media/(\d+)/")


_VALID_DOCUMENTS: set[bytes] = set()  # the digests of the documents found valid in this run


def _validated(document: dict) -> None:
    """Validate the OpenAPI document, once per distinct document in a run: each API test fetches it again from its
    own app, and checking the same bytes again (a tenth of those tests' time) cannot find anything new."""
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).digest()
    if digest not in _VALID_DOCUMENTS:
        validate_spec(document)
        _VALID_DOCUMENTS.add(digest)


class Contract:
    """The document, checked once; then `check(response)` validates one response against the operation and
    status it documents, and remembers which operations were seen."""

    def __init__(self, document: dict):
        _validated(document)
        self.document = document
        self.registry = Registry().with_resource(
            "urn:api", Resource.from_contents(document, default_specification=DRAFT202012))
        self.templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", path) + "$"), path)
                          for path in document["paths"]]
        self.seen: set[tuple[str, str, str]] = set()

    def operation(self, path: str) -> str:
        assert path.startswith(PREFIX), path
        path = path[len(PREFIX):]
        matches = [template for pattern, template in self.templates if pattern.match(path)]
        assert matches, f"{path} is not in the OpenAPI document"
        return matches[0]

    def check(self, response, method: str = "get") -> dict:
        request = response.request
        template = self.operation(request.path)
        operation = self.document["paths"][template].get(method)
        assert operation is not None, f"{method.upper()} {template} is not documented"
        status = str(response.status_code)
        assert status in operation["responses"], f"{method.upper()} {template}: {status} is not documented"
        assert response.mimetype == "application/json", (template, response.mimetype)
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({"$ref": "urn:api" + schema["$ref"]}, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        body = response.get_json()
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{method.upper()} {request.path} ({status}): " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        self.seen.add((method, template, status))
        return body


def entry_ids(body) -> set[int]:
    """Every entry a body names: items of entry lists, entry_id fields and neighbours in a ranking."""
    found: set[int] = set()

    def walk(value):
        if isinstance(value, dict):
            is_entry = "channel" in value and "images" in value  # an Entry
            for key, item in value.items():
                if key == "entry_id" and isinstance(item, int):
                    found.add(item)
                elif key == "id" and is_entry and isinstance(item, int):
                    found.add(item)
                elif key == "close_to" and isinstance(item, list):
                    found.update(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return found


def private_leaks(text: str) -> list[str]:
    """What a body must never hold: an e-mail address, a password or its hash."""
    problems = [match.group(0) for match in EMAIL.finditer(text)]
    lowered = text.lower()
    problems += [word for word in ("password", "scrypt:", "pbkdf2:", "token_hash", "session_token")
                 if word in lowered]
    return problems


def media_ids(text: str) -> tuple[set[int], set[int]]:
    """(every image id a body links to, the ids whose original it links to)."""
    return {int(i) for i in MEDIA.findall(text)}, {int(i) for i in ORIGINAL.findall(text)}


def body_text(response) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
