"""Reading postings out of request bodies, with a 4xx that says what to fix for each mistake.

The JSON shapes are :mod:`service.contract`'s; this module reads the bytes (415 and 400) and
checks what the shapes cannot: a posting's words and this server's length limits.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any

from flask import Request

from service.contract import BatchRequest, ClassifyRequest, parse
from service.errors import ApiProblem, limit_problem

JSON_EXAMPLE = '{"text": "We deploy models with Kubernetes...", "title": "ML Engineer"}'
BATCH_EXAMPLE = '{"postings": [{"id": "job-1", "text": "..."}]}'
# Codecs Python lists as text encodings that are not character sets of documents.
NOT_CHARSETS = frozenset({"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape"})


@dataclass(frozen=True)
class Posting:
    """One posting to classify: the text as the model reads it, and the client's id."""

    text: str
    id: str | int | None = None


def read_json(request: Request, example: str) -> Any:
    """The parsed JSON body; 415 for another content type, 400 for malformed JSON."""
    if not request.is_json:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            f"Content-Type {request.mimetype or '(none)'} is not accepted here; send "
            f"Content-Type: application/json with a body like {example}",
        )
    try:
        return json.loads(request.get_data())
    except UnicodeDecodeError as exc:
        raise ApiProblem(
            400,
            "malformed_json",
            f"the body is not UTF-8 ({exc.reason} at byte {exc.start}); send JSON encoded as UTF-8",
        ) from None
    except json.JSONDecodeError as exc:
        raise ApiProblem(
            400,
            "malformed_json",
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}); send an object like {example}",
        ) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ApiProblem(
            400,
            "malformed_json",
            f"the body could not be read as JSON ({exc}); send numbers of at most a few "
            f"digits, in an object like {example}",
        ) from None
    except RecursionError:  # the decoder recurses once per level of [ or {
        raise ApiProblem(
            400,
            "malformed_json",
            f"the body nests arrays or objects too deeply to read; send a flat object like "
            f"{example}",
        ) from None


def _charset(name: str) -> str:
    """``name`` if it is a character set for text that Python decodes, else a 415."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not info._is_text_encoding or info.name in NOT_CHARSETS:
        raise ApiProblem(
            415,
            "unsupported_charset",
            f"charset {name!r} is not a character set this server reads; send the text as "
            "UTF-8 (Content-Type: text/plain; charset=utf-8)",
        )
    return info.name


def check_posting(text: str, field: str, max_chars: int, setting: str) -> str:
    """``text`` if it has words and fits the limit; 422 when blank, 413 when too long."""
    if not text.strip():
        raise ApiProblem(
            422, "invalid_field", f"{field} is empty; paste the job posting's text", field=field
        )
    if len(text) > max_chars:
        raise limit_problem(
            setting,
            max_chars,
            f"{field} is {len(text)} characters; the limit is {max_chars} "
            f"({setting} sets it): send the job description without attachments or boilerplate",
        )
    return text


def classify_body(request: Request, max_chars: int, setting: str) -> Posting:
    """The posting of ``POST /classify``: JSON ``{"text", "title"?}`` or ``text/plain``.

    A title is put before the text, separated by a blank line, and spans index that text.
    """
    if request.mimetype == "text/plain":
        charset = _charset(request.mimetype_params.get("charset", "utf-8"))
        try:
            text = request.get_data().decode(charset)
        except (UnicodeError, ValueError) as exc:
            raise ApiProblem(
                400,
                "undecodable_text",
                f"the body could not be read as {charset} ({exc}); send UTF-8 "
                "text or name its charset in Content-Type",
            ) from None
        return Posting(check_posting(text, "text", max_chars, setting))
    body = parse(ClassifyRequest, read_json(request, JSON_EXAMPLE), JSON_EXAMPLE)
    text, title = check_posting(body.text, "text", max_chars, setting), body.title
    if title and title.strip():
        text = check_posting(f"{title.strip()}\n\n{text}", "title + text", max_chars, setting)
    return Posting(text)


def batch_body(
    request: Request, max_chars: int, max_batch: int, settings: tuple[str, str]
) -> list[Posting]:
    """The postings of ``POST /classify/batch``: JSON ``{"postings": [{"id", "text"}]}``."""
    items = parse(BatchRequest, read_json(request, BATCH_EXAMPLE), BATCH_EXAMPLE).postings
    if len(items) > max_batch:
        raise limit_problem(
            settings[1],
            max_batch,
            f"postings holds {len(items)} items; the limit is {max_batch} per request "
            f"({settings[1]} sets it): split the batch into several requests",
        )
    return [
        Posting(check_posting(item.text, f"postings[{n}].text", max_chars, settings[0]), item.id)
        for n, item in enumerate(items)
    ]
