"""Bytes of a real-world text file in, lines of text out, in one streaming pass.

Exports from Excel, pandas, scrapers and databases arrive as UTF-8 with or without a byte
order mark, UTF-16 with a BOM (Excel's "Unicode text"), or cp1252 (Excel's "CSV" on Western
Windows). :class:`DecodedLines` picks the codec from the BOM, else reads UTF-8 and hands each
byte sequence that is not UTF-8 to cp1252 (the error handler :data:`CP1252_FALLBACK`),
noting where the first one was (:attr:`DecodedLines.encoding`). The decoding and the line
splitting are :class:`io.TextIOWrapper`'s: one pass, constant memory, a pipe as well as a file.

Lines keep their ends (``\\n``, or ``\\r`` in files that use only carriage returns), which is
what :func:`csv.reader` expects from a file opened with ``newline=""``.
"""

from __future__ import annotations

import codecs
import io
import threading
from collections.abc import Iterator
from typing import BinaryIO, cast

from service.batch.errors import UnusableInput

BLOCK = 1 << 20
HEAD = 4096  # bytes looked at for a byte order mark or a binary format
CP1252_FALLBACK = "rolelens-cp1252"
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an Office document (an .xls workbook?)",
    b"%PDF": "a PDF",
}

# The source whose bytes are being decoded in this thread. TextIOWrapper decodes each block
# right after reading it, so the source's read1 sets this and the error handler reads it.
_decoding = threading.local()


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as cp1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    source: _Source | None = getattr(_decoding, "source", None)
    if source is not None and source.first_fallback is None:
        source.first_fallback = source.handed - len(error.object) + error.start
    bad = bytes(error.object[error.start : error.end])
    return bad.decode("cp1252", "replace"), error.end


class _Source(io.BufferedIOBase):
    """The head already read, then the rest of the stream; counts the bytes handed out."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self.head = head
        self.stream = stream
        self.handed = 0
        self.first_fallback: int | None = None

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        _decoding.source = self
        if self.head:
            block, self.head = self.head, b""
        else:
            block = self.stream.read(size if size > 0 else BLOCK)
        self.handed += len(block)
        return block


class DecodedLines:
    """Iterate over the decoded lines of a binary stream.

    Args:
        stream: an open binary file or pipe.
        name: what to call the input in messages.
        block_size: bytes decoded at a time.

    Raises (when iteration starts):
        UnusableInput: the bytes are a binary format (a workbook, a PDF), not text.
    """

    def __init__(self, stream: BinaryIO, name: str = "input", block_size: int = BLOCK) -> None:
        self.name = name
        self.block_size = block_size
        self._source = _Source(b"", stream)
        self._label = "UTF-8"

    @property
    def bytes_read(self) -> int:
        """Input bytes decoded so far."""
        return self._source.handed

    @property
    def encoding(self) -> str:
        """The encoding read, for the summary: ``UTF-8``, ``UTF-16``, or cp1252 from where."""
        at = self._source.first_fallback
        if at is None:
            return self._label
        return f"cp1252 (the bytes are not UTF-8 from byte {at:,} on)"

    def __iter__(self) -> Iterator[str]:
        head = self._source.stream.read(max(self.block_size, HEAD))
        codec, errors = "utf-8", CP1252_FALLBACK
        for bom, name, label in BOMS:
            if head.startswith(bom):
                codec, errors, self._label = name, "replace", label
                break
        else:
            for magic, what in BINARY_MAGIC.items():
                if head.startswith(magic):
                    raise UnusableInput(
                        f"{self.name} is {what}, not a text file; save it as CSV (UTF-8) and retry"
                    )
            if head[:HEAD].count(0) * 8 > len(head[:HEAD]):  # UTF-16 without BOM, or binary
                raise UnusableInput(
                    f"{self.name} holds NUL bytes and no byte order mark, so it is not text "
                    "this tool can read; save it as CSV UTF-8 (or UTF-16 with BOM) and retry"
                )
        codecs.register_error(CP1252_FALLBACK, _cp1252_fallback)  # the same each time
        # A file with \n line ends keeps a lone \r inside its line (the CSV reader then
        # says the row is broken); only files without any \n split at \r (old Mac exports).
        newline = "\n" if "\n" in head.decode(codec, "replace") else ""
        self._source.head = head
        text = io.TextIOWrapper(
            cast(BinaryIO, self._source), encoding=codec, errors=errors, newline=newline
        )
        text._CHUNK_SIZE = self.block_size  # type: ignore[attr-defined]
        return iter(text)
