"""Static files under names carrying a hash of their contents, so that browsers may keep them for a year.

`url_for('static', filename='css/site.css')` gives `/static/css/site.<8 hex digits>.css`: the first eight hex
digits of the file's SHA-256, put before its last suffix. The names are computed once, when the app starts,
and a changed file gets a new name at the next start. A hashed name is served with
`Cache-Control: public, max-age=31536000, immutable`; the plain name keeps working with a short cache (a
page kept elsewhere may still name it). In debug mode files are edited while the server runs, so the plain
names are linked there.

The scheme is only a rename, so a web server in front can serve the files itself: strip the hash with
`^/static/(.+)\\.[0-9a-f]{8}(\\.[^./]+)$` and serve `$1$2` from static/ with the same header (README).
"""
from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from flask import Flask, send_from_directory

YEAR = 365 * 24 * 3600
UNHASHED_MAX_AGE = 300


def hashed_name(filename: str, data: bytes) -> str:
    """`css/site.css` -> `css/site.1a2b3c4d.css`, the hash taken from the file's contents."""
    path = PurePosixPath(filename)
    digest = hashlib.sha256(data).hexdigest()[:8]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def hashed_names(folder: Path) -> dict[str, str]:
    """Each file under the folder (hidden ones left out), by its name relative to it, to its hashed name."""
    names = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            filename = relative.as_posix()
            names[filename] = hashed_name(filename, path.read_bytes())
    return names


def init_assets(app: Flask) -> None:
    folder = Path(app.static_folder)
    names = {} if app.debug else hashed_names(folder)
    originals = {hashed: filename for filename, hashed in names.items()}

    @app.url_defaults
    def link_hashed_names(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = names.get(values["filename"], values["filename"])

    def static(filename: str):
        original = originals.get(filename)
        if original is None:
            return send_from_directory(folder, filename, max_age=UNHASHED_MAX_AGE)
        response = send_from_directory(folder, original, max_age=YEAR)
        response.cache_control.immutable = True  # max_age already made it public
        return response

    app.view_functions["static"] = static
