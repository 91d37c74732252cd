"""Protections every response and request gets: security headers, no compressed bodies.

- Every response, the page, the API, static files and errors alike, carries a
  ``Content-Security-Policy`` that allows only this origin's own script, style and images
  (no inline script, no framing), ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer``.
- A request whose body is compressed (any ``Content-Encoding`` but ``identity``) is refused
  with a 415 before anything reads the body: a small gzip body can inflate to gigabytes, so
  the server never inflates one.
"""

from __future__ import annotations

from flask import Flask, Response, request

from service.errors import ApiProblem

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


def refuse_compressed_body() -> None:
    """Raise a 415 problem when the request body is compressed, without reading it."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding and encoding != "identity":
        raise ApiProblem(
            415,
            "compressed_body",
            f"Content-Encoding {encoding} is not accepted: compressed request bodies are "
            "never inflated here; send the body uncompressed, without a Content-Encoding "
            "header",
        )


def add_headers(response: Response) -> Response:
    """Put the security headers on ``response`` (a view's own values are kept)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Install the request check and the response headers on ``app``; force debug off.

    Debug mode would turn an unexpected error into a traceback for the client, so it is
    off whatever ``FLASK_DEBUG`` or ``ROLELENS_DEBUG`` say: gunicorn serves this app, and
    nothing here needs Flask's debugger.
    """
    app.debug = False
    app.config["DEBUG"] = False
    app.before_request(refuse_compressed_body)
    app.after_request(add_headers)
