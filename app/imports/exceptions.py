"""The import domain's problems.

Fetch refusals are 422s whose ``code`` names the reason class. Their detail never names
an address the server resolved: the person typed a URL, and that is all they may learn.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import ServiceUnavailable, Unprocessable


class FetchRefused(Unprocessable):
    """Base of every refused or failed fetch; ``reason`` goes into the security event."""

    code = "import-fetch-failed"
    title = "The page could not be fetched"
    detail = "The server could not fetch that address."
    #: A short, stable reason class for logs and metrics.
    reason = "fetch_failed"


class UrlNotAllowed(FetchRefused):
    code, reason = "import-url-not-allowed", "url_not_allowed"
    title = "URL not allowed"
    detail = ("Only http and https addresses on the standard ports, without a user name or "
              "password, can be imported.")


class AddressNotAllowed(FetchRefused):
    code, reason = "import-address-not-allowed", "address_not_allowed"
    title = "Address not allowed"
    detail = "That address is not on the public internet, so the server will not fetch it."


class HostNotFound(FetchRefused):
    code, reason = "import-host-not-found", "host_not_found"
    title = "Host not found"
    detail = "The site's name could not be found. Check the address."


class TooManyRedirects(FetchRefused):
    code, reason = "import-too-many-redirects", "too_many_redirects"
    title = "Too many redirects"
    detail = "The site redirected too many times."


class TooLarge(FetchRefused):
    code, reason = "import-too-large", "too_large"
    title = "Too large"
    detail = "The response is larger than the server will read."


class TimedOut(FetchRefused):
    code, reason = "import-timed-out", "timed_out"
    title = "Timed out"
    detail = "The site took too long to answer."


class NotAWebPage(FetchRefused):
    code, reason = "import-not-a-web-page", "not_a_web_page"
    title = "Not a web page"
    detail = "The address does not lead to a web page (HTML or JSON)."


class NotAnImage(FetchRefused):
    code, reason = "import-not-an-image", "not_an_image"
    title = "Not an image"
    detail = "The address does not lead to a JPEG, PNG or WebP image."


class SiteRefused(FetchRefused):
    """The site would not serve the server (403, 429, a bot wall): pasting still works."""

    code, reason = "import-site-refused", "site_refused"
    title = "The site refused the server"
    detail = ("The site would not send the page to our server. Open the page on your device "
              "and share or paste it instead (POST /api/v1/recipe-imports/html).")

    def extra(self) -> dict[str, Any]:
        return {"paste_instead": True}


class NoRecipeFound(Unprocessable):
    code = "import-no-recipe"
    title = "No recipe on this page"
    detail = "No recipe was found on this page."


class ImportBusy(ServiceUnavailable):
    code = "import-busy"
    detail = "Too many imports are running right now; retry in a few seconds."
