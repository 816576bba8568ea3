"""CORS: browser scripts on other origins may read the endpoint's answers (any origin by
default, never with credentials), and the query fast path does not skip it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from kg_builder.pipeline import BuildResult
from server import create_app
from server.cli import main
from server.sparql import QueryFastPath

ASK = "/sparql?query=ASK%20%7B%7D"
ORIGIN = "https://analyst.example.org"


@contextmanager
def make(seed_build: BuildResult, **config: object) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent, **config}
    )
    try:
        yield app
    finally:
        app.extensions["osce_kg_executor"].close()


@pytest.fixture
def app(seed_build: BuildResult) -> Iterator[Flask]:
    with make(seed_build) as app:
        yield app


def test_any_origin_may_read_an_answer_without_credentials(app: Flask) -> None:
    answer = app.test_client().get(ASK, headers={"Origin": ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert "Warning" in answer.headers["Access-Control-Expose-Headers"]


def test_errors_carry_the_headers_too(app: Flask) -> None:
    answer = app.test_client().get("/sparql?query=SELEKT", headers={"Origin": ORIGIN})
    assert answer.status_code == 400
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_preflight_allows_posting_a_query(app: Flask) -> None:
    answer = app.test_client().options(
        "/sparql",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "PUT" not in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(answer.headers["Access-Control-Max-Age"]) > 0


def test_every_answer_has_the_headers_and_the_fast_path_stays_on(app: Flask) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, QueryFastPath) and fast.applies()  # CORS does not switch it off
    answer = app.test_client().get(ASK)  # no Origin: a cache may hand it to a browser later
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Origin" not in answer.headers.get("Vary", "")


def test_listed_origins_only(seed_build: BuildResult) -> None:
    with make(seed_build, CORS_ORIGINS=[ORIGIN]) as app:
        client = app.test_client()
        listed = client.get(ASK, headers={"Origin": ORIGIN})
        assert listed.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "Origin" in listed.headers["Vary"]
        other = client.get(ASK, headers={"Origin": "https://elsewhere.example"})
        assert other.status_code == 200
        assert "Access-Control-Allow-Origin" not in other.headers
        assert "Origin" in client.get(ASK).headers["Vary"]
        assert not app.wsgi_app.applies()  # type: ignore[attr-defined]


def test_none_turns_cors_off(seed_build: BuildResult) -> None:
    with make(seed_build, CORS_ORIGINS=[]) as app:
        answer = app.test_client().get(ASK, headers={"Origin": ORIGIN})
        assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("value", ["example.org", "https://example.org/path", "ftp://x.org"])
def test_a_cors_origin_that_is_not_an_origin_is_a_usage_error(value: str, tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["--out-dir", str(tmp_path), "--cors-origin", value])
    assert done.exit_code == 2
    assert "--cors-origin" in done.output and value in done.output


def test_origins_from_the_environment_are_one_string(seed_build: BuildResult) -> None:
    with make(seed_build, CORS_ORIGINS=f"{ORIGIN}, https://other.example") as app:
        assert app.config["CORS_ORIGINS"] == [ORIGIN, "https://other.example"]
        answer = app.test_client().get(ASK, headers={"Origin": "https://other.example"})
        assert answer.headers["Access-Control-Allow-Origin"] == "https://other.example"


def test_a_setting_that_is_not_an_origin_stops_the_app(seed_build: BuildResult) -> None:
    with pytest.raises(ValueError, match=r"CORS_ORIGINS: 'example\.org' is not an origin"):
        create_app(
            {"KG_OUT_DIR": seed_build.release.root.parent.parent, "CORS_ORIGINS": "example.org"}
        )
