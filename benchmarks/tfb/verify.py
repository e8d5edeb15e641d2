"""TechEmpower's verification of the six test types (and cached queries), reimplemented.

A faithful reimplementation of the checks in TechEmpower/FrameworkBenchmarks'
``toolset/test_types/verifications.py`` and ``toolset/test_types/*/*.py`` (read
from a snapshot of the repository, written anew here, run without Docker):

- every response: status 200; ``Server``, ``Date``, ``Content-Type`` and a
  ``Content-Length`` or ``Transfer-Encoding``; the ``Date`` in RFC 7231 form
  (a warning otherwise) and fresh: a second request after ``--date-wait``
  seconds (TechEmpower waits 3) must carry another one; the Content-Type of the
  type (``application/json``, ``text/plain``, ``text/html; charset=utf-8``,
  charset optional where TechEmpower allows it);
- json: ``{"message": "Hello, World!"}`` (keys and values compared in lower case,
  a warning for extra keys); plaintext: ``hello, world!`` in the body, a warning
  for extra bytes;
- db: one object with integer ``id`` (1..10000, else a warning) and
  ``randomNumber`` (a warning above 10000), a warning for a one-element list;
- queries, updates, cached queries: the cases ``2``, ``0``, ``foo``, ``501`` and
  ``""`` give 2, 1, 1, 500 and 1 objects (``501`` only warns, as TechEmpower has it);
- updates: the World table read before and after the cases holds changed numbers
  for at least 90% of the 500 updated rows (a warning under 95%);
- fortunes: TechEmpower's HTML normalisation (tags, entities, character
  references, whitespace) compared with its reference page;
- the database work, as TechEmpower counts it with ``pg_stat_statements``: a burst
  of ``--concurrency`` requests (TechEmpower uses 512 with siege) must execute
  exactly one query per request on ``/db``, 20 on ``/queries?queries=20``, one on
  ``/fortunes`` (12 rows read), and 20 SELECTs plus 20 UPDATEs on
  ``/updates?queries=20`` (or one bulk statement), with the rows read and updated
  within 1.1% and no failed request.

    python benchmarks/tfb/verify.py                  # PostgreSQL + heron's app, all types
    python benchmarks/tfb/verify.py --app raw        # the raw psycopg app
    python benchmarks/tfb/verify.py --url http://127.0.0.1:8000 --dsn postgresql://...

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from difflib import unified_diff
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
Problem = tuple[str, str, str]  # ("pass" | "warn" | "fail", message, url)
Fetch = Callable[[str], tuple[httpx.Headers, bytes, int]]

ACCEPT = {
    "json": "application/json,text/html;q=0.9,application/xhtml+xml;q=0.9,"
            "application/xml;q=0.8,*/*;q=0.7",
    "html": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "plaintext": "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,"
                 "application/xml;q=0.8,*/*;q=0.7",
}
CONTENT_TYPES = {
    "json": r"^application/json(; ?charset=(UTF|utf)-8)?$",
    "html": r"^text/html; ?charset=(UTF|utf)-8$",
    "plaintext": r"^text/plain(; ?charset=(UTF|utf)-8)?$",
}
QUERY_CASES = [("2", "fail"), ("0", "fail"), ("foo", "fail"), ("501", "warn"), ("", "fail")]
ROW_MARGIN = 1.011  # TechEmpower's tolerance on rows read or updated

VALID_FORTUNES = """<!doctype html><html>
<head><title>Fortunes</title></head>
<body><table>
<tr><th>id</th><th>message</th></tr>
<tr><td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed in a browser alert box.&quot;);&lt;/script&gt;</td></tr>
<tr><td>4</td><td>A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1</td></tr>
<tr><td>5</td><td>A computer program does what you tell it to do, not what you want it to do.</td></tr>
<tr><td>2</td><td>A computer scientist is someone who fixes things that aren&apos;t broken.</td></tr>
<tr><td>8</td><td>A list is only as strong as its weakest link. — Donald Knuth</td></tr>
<tr><td>0</td><td>Additional fortune added at request time.</td></tr>
<tr><td>3</td><td>After enough decimal places, nobody gives a damn.</td></tr>
<tr><td>7</td><td>Any program that runs right is obsolete.</td></tr>
<tr><td>10</td><td>Computers make very fast, very accurate mistakes.</td></tr>
<tr><td>6</td><td>Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen</td></tr>
<tr><td>9</td><td>Feature: A bug with seniority.</td></tr>
<tr><td>1</td><td>fortune: No such file or directory</td></tr>
<tr><td>12</td><td>フレームワークのベンチマーク</td></tr>
</table></body></html>"""  # noqa: E501 (TechEmpower's reference page, line for line)


@dataclass
class Verifier:
    """Runs the checks against ``base_url``; ``dsn`` reaches the app's database."""

    base_url: str
    dsn: str | None = None
    concurrency: int = 512
    date_wait: float = 3.0

    def fetch_as(self, kind: str) -> Fetch:
        def fetch(url: str) -> tuple[httpx.Headers, bytes, int]:
            response = httpx.get(url, headers={"Accept": ACCEPT[kind]}, timeout=15)
            return response.headers, response.content, response.status_code

        return fetch

    # -- shared checks (verifications.py) ------------------------------------

    def headers(self, fetch: Fetch, headers: httpx.Headers, url: str,
                should_be: str = "json") -> list[Problem]:
        problems: list[Problem] = [
            ("fail", f"Required response header missing: {name}", url)
            for name in ("Server", "Date", "Content-Type") if name not in headers
        ]
        if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            problems.append(("fail", "Required response size header missing, please include "
                                     "either \"Content-Length\" or \"Transfer-Encoding\"", url))
        date = headers.get("Date")
        if date is not None:
            try:
                datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %Z")
            except ValueError:
                problems.append(("warn", f"Invalid Date header, found {date!r}", url))
        time.sleep(self.date_wait)  # the Date must not be cached
        second = fetch(url)[0].get("Date")
        if date == second:
            problems.append(("fail", f"Invalid Cached Date. Found {date!r} and {second!r} on "
                                     "separate requests.", url))
        content_type = headers.get("Content-Type")
        if content_type is not None and not re.match(CONTENT_TYPES[should_be], content_type):
            problems.append(("fail", f"Invalid Content-Type header, found {content_type!r}, "
                                     f"did not match {CONTENT_TYPES[should_be]!r}.", url))
        return problems

    @staticmethod
    def status(status: int, url: str) -> list[Problem]:
        if status != 200:
            return [("fail", f"Invalid response status, found {status}, did not match 200", url)]
        return []

    @staticmethod
    def body(body: bytes | None, url: str, is_json: bool = True) -> tuple[Any, list[Problem]]:
        if body is None:
            return None, [("fail", "No response", url)]
        if not body:
            return None, [("fail", "Empty response", url)]
        if is_json:
            try:
                return json.loads(body), []
            except ValueError as exc:
                return None, [("fail", f"Invalid JSON: {exc}", url)]
        return None, []

    @staticmethod
    def world(obj: Any, url: str, level: str = "fail") -> list[Problem]:
        """A ``{"id": int, "randomNumber": int}`` object (keys in any case)."""
        if type(obj) is not dict:
            return [(level, f"Expected a JSON object, got {str(obj)[:20]!r} instead", url)]
        obj = {str(k).lower(): v for k, v in obj.items()}
        required = {"id", "randomnumber"}
        problems: list[Problem] = [
            (level, f"Response object was missing required key: {key}", url)
            for key in sorted(required - obj.keys())
        ]
        if len(obj) > len(required):
            extra = ", ".join(sorted(set(obj) - required))
            problems.append(("warn", f"An extra key(s) is being included with the db object: "
                                     f"{extra}", url))
        if problems and problems[0][0] != "warn":
            return problems
        for key in ("id", "randomnumber"):
            try:
                value = int(obj[key])
            except (TypeError, ValueError) as exc:
                problems.append((level, f"Response key {key!r} does not map to an integer - "
                                        f"{exc}", url))
                continue
            if key == "id" and not 1 <= value <= 10_000:
                problems.append(("warn", f"Response key id should be between 1 and 10,000: "
                                         f"{value}", url))
            if key == "randomnumber" and value > 10_000:
                problems.append(("warn", "Response key `randomNumber` is over 10,000.", url))
        return problems

    def world_list(self, expected: int, body: bytes, url: str, level: str) -> list[Problem]:
        response, problems = self.body(body, url)
        if problems:
            return problems
        if type(response) is not list:
            return [(level, "Top-level JSON is an object, not an array", url),
                    *self.world(response, url, level)]
        if any(type(item) is not dict for item in response):
            problems.append((level, "Not all items in the JSON array were JSON objects", url))
        if len(response) != expected:
            problems.append((level, f"JSON array length of {len(response)} != expected length "
                                    f"of {expected}", url))
        bad = 0
        for item in response:  # stop after 5 bad objects, as TechEmpower does
            found = self.world(item, url, level)
            if found:
                problems += found
                bad += 1
                if bad == 5:
                    break
        return problems

    def world_table(self) -> dict[str, int]:
        import psycopg

        assert self.dsn is not None
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return {str(i): n for i, n in conn.execute("SELECT id, randomnumber FROM world")}

    @staticmethod
    def updated(before: dict[str, int], after: dict[str, int], expected: int,
                url: str) -> list[Problem]:
        changed = sum(1 for key, value in before.items() if after.get(key, value) != value)
        if changed == 0:
            return [("fail", "No items were updated in the database.", url)]
        if changed <= expected * 0.90:
            return [("fail", f"Only {changed} items were updated in the database out of "
                             f"roughly {expected} expected.", url)]
        if changed <= expected * 0.95:
            return [("warn", f"Only {changed} items were updated in the database out of the "
                             f"roughly {expected} expected.", url)]
        return []

    def query_cases(self, path: str, table: str | None, check_updates: bool = False
                    ) -> list[Problem]:
        url = self.base_url + path
        fetch = self.fetch_as("json")
        before = self.world_table() if check_updates else {}
        problems: list[Problem] = []
        for case, level in QUERY_CASES:
            case_url = url + case
            headers, body, _ = fetch(case_url)
            try:
                expected = min(max(int(case), 1), 500)
            except ValueError:
                expected = 1  # TechEmpower: a warning today, "a failure in future rounds"
            problems += self.world_list(expected, body, case_url, level)
            problems += self.headers(fetch, headers, case_url)
            if check_updates and case.isdigit() and int(case) >= 500:
                problems += self.updated(before, self.world_table(), 500, case_url)
        if table is not None:
            problems += self.queries_count(table, url + "20", 20, 20, check_updates)
        return problems

    # -- the database work (pg_stat_statements, as TechEmpower counts it) ----

    def _statements(self, table: str) -> tuple[int, int, int]:
        import psycopg

        assert self.dsn is not None
        word = rf"\m{table}\M"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(calls), 0), "
                "coalesce(sum(rows) FILTER (WHERE query ~* 'select'), 0), "
                "coalesce(sum(rows) FILTER (WHERE query ~* 'update'), 0) "
                "FROM pg_stat_statements WHERE query ~* %s", (word,)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    def _burst(self, url: str) -> int:
        """``concurrency`` requests at once (siege -c N -r 1); the failed ones."""
        async def run() -> int:
            limits = httpx.Limits(max_connections=self.concurrency)
            async with httpx.AsyncClient(limits=limits, timeout=60) as client:
                async def one() -> bool:
                    try:
                        return (await client.get(url)).status_code < 400
                    except httpx.HTTPError:
                        return False

                results = await asyncio.gather(*(one() for _ in range(self.concurrency)))
            return results.count(False)

        return asyncio.run(run())

    def queries_count(self, table: str, url: str, per_request: int, rows_per_request: int,
                      check_updates: bool = False) -> list[Problem]:
        """TechEmpower's ``verify_queries_count``: one burst, the statements it caused."""
        if self.dsn is None:
            return [("warn", "No database URL: queries not counted", url)]
        queries0, rows0, updated0 = self._statements(table)
        failures = self._burst(url)
        queries1, rows1, updated1 = self._statements(table)
        queries, rows, updated = queries1 - queries0, rows1 - rows0, updated1 - updated0
        n = self.concurrency
        expected_queries = per_request * n
        expected_rows = rows_per_request * n
        if check_updates:
            # Bulk updates: one statement per request; else one UPDATE per World.
            bulk = 0.999 * (expected_queries + n) < queries < 1.001 * (expected_queries + n)
            expected_queries = expected_queries + n if bulk else expected_queries * 2
        problems: list[Problem] = []
        if failures:
            problems.append(("fail", f"{failures} failed transactions.", url))
        problems.append(_count(queries, expected_queries, queries, "executed queries", url))
        problems.append(_count(rows, expected_rows, int(rows / ROW_MARGIN), "rows read", url))
        if check_updates:
            margin = 1.05 if expected_queries == per_request * n + n else 1
            problems.append(_count(updated * margin, expected_rows, int(updated / ROW_MARGIN),
                                   "rows updated", url))
        return problems

    # -- the test types ---------------------------------------------------------

    def json(self, path: str = "/json") -> list[Problem]:
        url = self.base_url + path
        fetch = self.fetch_as("json")
        headers, body, status = fetch(url)
        response, problems = self.body(body, url)
        if problems:
            return problems
        try:
            obj = {k.lower(): v.lower() for k, v in response.items()}
        except (AttributeError, TypeError):
            return [("fail", "Not a valid JSON object", url)]
        if "message" not in obj:
            return [("fail", "Missing required key 'message'", url)]
        if len(obj) > 1:
            extra = ", ".join(k for k in obj if k != "message")
            problems.append(("warn", f"Too many JSON key/value pairs, consider removing: {extra}",
                             url))
        if obj["message"] != "hello, world!":
            return [("fail", f"Expected message of 'hello, world!', got {obj['message']!r}", url)]
        return problems + self.status(status, url) + self.headers(fetch, headers, url, "json")

    def plaintext(self, path: str = "/plaintext") -> list[Problem]:
        url = self.base_url + path
        fetch = self.fetch_as("plaintext")
        headers, body, status = fetch(url)
        _, problems = self.body(body, url, is_json=False)
        if problems:
            return problems
        if b"hello, world!" not in body.lower():
            return [("fail", "Could not find 'Hello, World!' in response.", url)]
        if len(body) > len(b"hello, world!"):
            problems.append(("warn", f"Server is returning {len(body) - 13} more bytes than are "
                                     "required.", url))
        return problems + self.status(status, url) + self.headers(fetch, headers, url,
                                                                  "plaintext")

    def db(self, path: str = "/db") -> list[Problem]:
        url = self.base_url + path
        fetch = self.fetch_as("json")
        headers, body, status = fetch(url)
        response, problems = self.body(body, url)
        if problems:
            return problems
        if type(response) is list:
            problems.append(("warn", "Response is a JSON array. Expected JSON object", url))
            response = response[0] if response else None
            if type(response) is not dict:
                return [*problems, ("fail", "Response is not a JSON object or an array of "
                                            "JSON objects", url)]
        problems += self.world(response, url)
        problems += self.status(status, url)
        problems += self.headers(fetch, headers, url, "json")
        if not problems:
            problems += self.queries_count("world", url, 1, 1)
        return problems

    def queries(self, path: str = "/queries?queries=") -> list[Problem]:
        return self._query_type(path, "world", False)

    def updates(self, path: str = "/updates?queries=") -> list[Problem]:
        return self._query_type(path, "world", True)

    def cached_queries(self, path: str = "/cached-queries?count=") -> list[Problem]:
        return self._query_type(path, None, False)

    def _query_type(self, path: str, table: str | None, check_updates: bool) -> list[Problem]:
        problems = self.query_cases(path, table, check_updates)
        url = self.base_url + path
        fetch = self.fetch_as("json")
        headers, _, status = fetch(url)
        return problems + self.status(status, url) + self.headers(fetch, headers, url)

    def fortunes(self, path: str = "/fortunes") -> list[Problem]:
        url = self.base_url + path
        fetch = self.fetch_as("html")
        headers, body, _ = fetch(url)
        _, problems = self.body(body, url, is_json=False)
        if problems:
            return problems
        parser = FortuneParser()
        parser.feed(body.decode())
        page = parser.page()
        if page != VALID_FORTUNES:
            diff = unified_diff(VALID_FORTUNES.splitlines(), page.splitlines(), "Valid",
                                "Response", lineterm="", n=0)
            return [("fail", "Invalid according to FortuneHTMLParser", url),
                    *(("fail", line, url) for line in list(diff)[2:] if line[:1] in "+-")]
        problems += self.headers(fetch, headers, url, "html")
        if not problems:
            problems += self.queries_count("fortune", url, 1, 12)
        return problems


def _count(result: float, expected: int, shown: int, caption: str, url: str) -> Problem:
    if result > expected * 1.05:
        return ("warn", f"{shown} {caption} in the database instead of {expected} expected. "
                        "This number is excessively high.", url)
    if result < expected:
        return ("fail", f"Only {shown} {caption} in the database out of roughly {expected} "
                        "expected.", url)
    return ("pass", f"{caption.capitalize()}: {shown}/{expected}", url)


class FortuneParser(HTMLParser):
    """TechEmpower's normalisation of a fortunes page: tags without attributes, one
    spelling per entity, whitespace-only text dropped, a line break after ``html``,
    ``table``, ``tr`` and ``head``; ``meta``, ``link``, ``thead``, ``tbody`` and
    scripts ignored."""

    IGNORED = frozenset({"<meta>", "</meta>", "<link>", "</link>", "<script>", "</script>",
                         "<thead>", "</thead>", "<tbody>", "</tbody>"})
    CHARREFS = {"34": "&quot;", "39": "&apos;", "43": "+", "62": "&gt;", "60": "&lt;",
                "47": "/", "40": "(", "41": ")"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.in_script = False

    def handle_decl(self, decl: str) -> None:
        self._add(f"<!{decl.lower()}>")

    def handle_charref(self, name: str) -> None:
        name = name.lower()
        number = str(int(name[1:], 16)) if name.startswith("x") else str(int(name))
        if number in self.CHARREFS:
            self._add(self.CHARREFS[number])

    def handle_entityref(self, name: str) -> None:
        self._add("—" if name == "mdash" else f"&{name};")

    def handle_starttag(self, tag: str, attrs: Sequence[tuple[str, str | None]]) -> None:
        self._add(f"<{tag}>")
        if tag.lower() in ("table", "html"):
            self._add("\n")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self._add(data.replace("'", "&apos;").replace('"', "&quot;").replace(">", "&gt;"))

    def handle_endtag(self, tag: str) -> None:
        self._add(f"</{tag}>")
        if tag.lower() in ("tr", "head"):
            self._add("\n")

    def _add(self, item: str) -> None:
        self.in_script = item == "<script>" or (self.in_script and item != "</script>")
        if not self.in_script and item not in self.IGNORED:
            self.parts.append(item)

    def page(self) -> str:
        return "".join(self.parts)


TYPES = ("json", "plaintext", "db", "queries", "updates", "fortunes", "cached_queries")


def verify(verifier: Verifier, types: Sequence[str] = TYPES) -> dict[str, list[Problem]]:
    """Run each test type; its problems, or one ``pass`` line per URL checked."""
    results = {}
    for name in types:
        try:
            problems = getattr(verifier, name)()
        except httpx.HTTPError as exc:  # a timeout or a closed connection fails the type
            problems = [("fail", f"{type(exc).__name__}: {exc}", verifier.base_url)]
        bad = [p for p in problems if p[0] != "pass"]
        results[name] = bad or [p for p in problems if p[0] == "pass"] or [
            ("pass", "", verifier.base_url)]
    return results


def verdict(problems: list[Problem]) -> str:
    levels = {p[0] for p in problems}
    return "fail" if "fail" in levels else "warn" if "warn" in levels else "pass"


# -- running a server -----------------------------------------------------------------

APPS = {"heron": "heron_tfb:app", "raw": "raw_app:app"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(target: str, dsn: str, pool: int = 16) -> Iterator[str]:
    """uvicorn (one worker, uvloop, httptools) serving ``target``; yields its base URL."""
    port = free_port()
    env = {**os.environ, "TFB_DATABASE_URL": dsn, "TFB_POOL": str(pool),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE / "peers")])}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-access-log",
         "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"],
        cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/plaintext", timeout=2)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not start: "
                                       f"{server.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still answering a burst: no need to wait
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="heron", choices=sorted(APPS))
    parser.add_argument("--url", help="a running server (then --dsn reaches its database)")
    parser.add_argument("--dsn")
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--date-wait", type=float, default=3.0)
    args = parser.parse_args()
    types = args.types.split(",")

    def run(base: str, dsn: str | None) -> dict[str, list[Problem]]:
        return verify(Verifier(base, dsn, args.concurrency, args.date_wait), types)

    if args.url:
        results = run(args.url.rstrip("/"), args.dsn)
    else:
        sys.path.insert(0, str(HERE))
        from _database import postgres

        with postgres() as (_, dsn), serve(APPS[args.app], dsn) as base:
            results = run(base, dsn)
    print("| test type | result | details |")
    print("|---|---|---|")
    for name, problems in results.items():
        details = "; ".join(f"{p[1]} ({p[2].split('/', 3)[-1]})" if p[0] != "pass" else p[1]
                            for p in problems if p[1])
        print(f"| {name} | {verdict(problems)} | {details} |")
    sys.exit(1 if any(verdict(p) == "fail" for p in results.values()) else 0)


if __name__ == "__main__":
    main()
