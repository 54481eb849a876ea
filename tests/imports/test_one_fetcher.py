"""Nothing but the guarded fetcher fetches a URL a person gave.

Every place in app/ that opens an HTTP client is listed here with the reason it may: a
new one fails this test until someone decides it does not fetch user-given URLs.
"""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
CLIENT = re.compile(
    r"httpx\.(?:Async)?Client\(|urlopen\(|urllib\.request|http\.client|aiohttp|"
    r"import requests|pycurl|socket\.create_connection|\.getaddrinfo\(")
ALLOWED = {
    "imports/fetcher.py": "the guarded fetcher itself",
    "auth/clerk.py": "Clerk's API and JWKS, at URLs from Settings only",
    "ops/clerk_checks.py": "validate_setup reaching Clerk, at URLs from Settings only",
}


def test_only_the_guarded_fetcher_opens_clients_for_user_urls() -> None:
    found = {str(path.relative_to(APP)) for path in APP.rglob("*.py")
             if CLIENT.search(path.read_text(encoding="utf-8"))}
    assert found == set(ALLOWED)


def test_recipe_scrapers_is_never_asked_to_go_online() -> None:
    text = (APP / "imports" / "extract.py").read_text(encoding="utf-8")
    assert not re.search(r"online\s*=\s*True\s*[,)]", text) and "scrape_me(" not in text
    assert '"rdfa"' not in text  # RDFa vocabulary expansion could fetch
