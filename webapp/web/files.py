"""Sending an uploaded file (stored under its SHA-256 outside the web root) to someone already authorised."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, send_file

from webapp.applications.uploads import open_stored

INLINE_KINDS = {"application/pdf", "image/jpeg", "image/png"}
# A viewed file may not run script, load anything or be framed into another page of ours.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def send_stored(sha256: str, *, mime: str, name: str, inline: bool = False):
    """The file as a download (or inline for PDF and images), never sniffed, never cached; 404 if missing."""
    try:
        path = open_stored(Path(current_app.config["UPLOAD_DIR"]), sha256)
    except FileNotFoundError:
        abort(404)
    response = send_file(path, mimetype=mime, as_attachment=not (inline and mime in INLINE_KINDS),
                         download_name=name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response
