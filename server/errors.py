"""One JSON shape for every HTTP error: ``{"error": {"status", "title", "message", "hint"}}``."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class HttpError(Exception):
    """A failure the client should see, with the status and a hint on what to change."""

    def __init__(self, status: int, message: str, hint: str = "", title: str | None = None):
        super().__init__(message)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.message = message
        self.hint = hint


def error_response(status: int, title: str, message: str, hint: str = "") -> Response:
    """The JSON error document."""
    body = {"error": {"status": status, "title": title, "message": message, "hint": hint}}
    return Response(json.dumps(body) + "\n", status=status, content_type="application/json")


def _http_error(error: HttpError) -> Response:
    g.osce_kg_error_kind = error.title  # for the metrics, by kind
    return error_response(error.status, error.title, error.message, error.hint)


def _werkzeug_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, InternalServerError):
        log.error("internal error", exc_info=error.original_exception or error)
        return error_response(
            status,
            error.name,
            "The server failed while answering this request.",
            "This is a bug in osce-kg, not in your request; please report it.",
        )
    response = error_response(status, error.name, error.description or error.name)
    for name, value in error.get_headers():  # keeps Allow on 405
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HttpError, _http_error)
    app.register_error_handler(HTTPException, _werkzeug_error)
