"""Protections every response and request gets: security headers, Host check, no compressed bodies.

- Every response, the page, the API, static files and errors alike, carries a
  ``Content-Security-Policy`` that allows only this origin's own script, style and images
  (no inline script, no framing), ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer``.
- A request whose ``Host`` is not the loopback, the address it arrived on, or a name in
  ``ROLELENS_ALLOWED_HOSTS`` is refused with a 400 (no DNS rebinding onto the open reads).
- A request whose body is compressed (any ``Content-Encoding`` but ``identity``) is refused
  with a 415 before anything reads the body: a small gzip body can inflate to gigabytes, so
  the server never inflates one.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

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

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _names(setting: object) -> set[str]:
    if isinstance(setting, str):
        setting = setting.split(",")
    if not isinstance(setting, list | tuple | set):
        return set()
    return {str(name).strip().lower().strip("[]") for name in setting if str(name).strip()}


def _local_address() -> str | None:
    """The address the connection came in on (the bound one), when the server tells it."""
    sock = request.environ.get("gunicorn.socket")
    try:
        return str(sock.getsockname()[0]).lower() if sock is not None else None
    except (OSError, AttributeError, IndexError):
        return None


def check_host() -> None:
    """Raise a 400 problem when the Host header names no host this server answers for.

    Allowed: the loopback names, the address the request arrived on, and the names in
    ``ROLELENS_ALLOWED_HOSTS`` (comma-separated; ``*`` allows any). A page on another site
    whose name resolves to this machine (DNS rebinding) sends its own name, and is refused.
    """
    allowed = LOOPBACK | _names(current_app.config.get("ALLOWED_HOSTS"))
    if "*" in allowed:
        return
    host = request.host.lower()
    name = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    if name in allowed or name == _local_address():
        return
    raise ApiProblem(
        400,
        "host_not_allowed",
        f"Host {request.host!r} is not a name this server answers for; use "
        f"http://127.0.0.1 or the server's address, or have the operator add the name to "
        "ROLELENS_ALLOWED_HOSTS (comma-separated)",
    )


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
    app.before_request(check_host)
    app.before_request(refuse_compressed_body)
    app.after_request(add_headers)
