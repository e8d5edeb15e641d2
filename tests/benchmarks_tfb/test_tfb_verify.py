"""benchmarks/tfb: heron's TechEmpower app passes the reimplemented TechEmpower verifier.

Runs the app under uvicorn on a throwaway PostgreSQL (skipped without PostgreSQL's
binaries, failing under CI=true), with a smaller burst than TechEmpower's 512 and
a shorter wait for the fresh ``Date`` header, so that it stays a test.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from heron.testing.servers import start_or_skip

TFB = Path(__file__).resolve().parents[2] / "benchmarks" / "tfb"


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TFB / file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


verify = _load("tfb_verify", "verify.py")
database = _load("tfb_database", "_database.py")


def test_fortune_parser_accepts_the_reference_and_catches_unescaped_text() -> None:
    rows = sorted([*database.FORTUNES, (0, "Additional fortune added at request time.")],
                  key=lambda row: row[1])
    from html import escape

    def page(quote: bool) -> str:
        cells = "".join(f"<tr><td>{i}</td><td>{escape(m) if quote else m}</td></tr>\n"
                        for i, m in rows)
        return ("<!DOCTYPE html>\n<html><head><title>Fortunes</title></head><body><table>"
                f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>")

    parser = verify.FortuneParser()
    parser.feed(page(quote=True))
    assert parser.page() == verify.VALID_FORTUNES
    parser = verify.FortuneParser()
    parser.feed(page(quote=False))  # the <script> fortune runs instead of showing
    assert parser.page() != verify.VALID_FORTUNES


@pytest.fixture(scope="module")
def tfb_database() -> Iterator[str]:
    import psycopg

    server = start_or_skip(database.TfbPostgres())
    try:
        server.create_database(database.DATABASE)
        dsn = server.url_for(database.DATABASE, driver=None)
        with psycopg.connect(dsn, autocommit=True) as conn:
            database.seed(conn)
        yield dsn
    finally:
        server.stop()


def test_heron_app_passes_every_test_type(tfb_database: str) -> None:
    with verify.serve("heron_tfb:app", tfb_database, pool=8) as base:
        checker = verify.Verifier(base, tfb_database, concurrency=32, date_wait=1.1)
        results = verify.verify(checker)
    assert set(results) == set(verify.TYPES)
    problems = {name: found for name, found in results.items() if verify.verdict(found) != "pass"}
    assert problems == {}
