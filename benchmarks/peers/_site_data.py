"""Data for the server-rendered-site scenarios (``template``, ``session``), shared by the peers.

Every ``*_site.py`` app renders the same context into its own copy of the page
template (Jinja2 in ``templates/``, the Django template language in
``templates_dtl/``), so the pages differ only by the escaping style of each
engine.  Several values contain ``<``, ``>``, ``&`` and quotes, so autoescaping
has real work to do.
"""

from __future__ import annotations

SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

TITLE = "Spring catalogue & offers"
USER = "Ann <ann@example.com>"
FOOTER = 'Prices include VAT. "Free" shipping above 50 EUR; terms & conditions apply.'
ITEMS: list[dict[str, object]] = [
    {
        "id": 1000 + i,
        "name": f"Widget #{i} <{['small', 'medium', 'large'][i % 3]}>",
        "note": f'Ann\'s pick & "best seller" in week {i + 10}' if i % 2 else "In stock",
        "price": f"{9.99 + i * 2.5:.2f}",
    }
    for i in range(10)
]
