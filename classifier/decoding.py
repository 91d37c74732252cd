"""Bytes of a real-world text file in, lines of text out, in one streaming pass.

Exports from Excel, pandas, scrapers and databases arrive as UTF-8 with or without a byte
order mark, UTF-16 with a BOM (Excel's "Unicode text"), or cp1252 (Excel's "CSV" on Western
Windows). :class:`DecodedLines` picks the decoding from the BOM, else reads UTF-8 and, at the
first byte sequence that is not UTF-8, switches to cp1252 for the rest of the stream and says
where (:attr:`DecodedLines.encoding`). One pass, constant memory: it works on a pipe as well as
on a file.

Lines keep their ends (``\\n``, or ``\\r`` in files that use only carriage returns), which is
what :func:`csv.reader` expects from a file opened with ``newline=""``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from classifier.errors import UnusableInput

BLOCK = 1 << 20
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


class DecodedLines:
    """Iterate over the decoded lines of a binary stream.

    Args:
        stream: an open binary file or pipe; read in blocks of ``block_size`` bytes.
        name: what to call the input in messages.
        block_size: bytes per read.

    Raises (when iteration starts):
        UnusableInput: the bytes are a binary format (a workbook, a PDF), not text.
    """

    def __init__(self, stream: BinaryIO, name: str = "input", block_size: int = BLOCK) -> None:
        self.stream = stream
        self.name = name
        self.block_size = block_size
        self.bytes_read = 0
        self.encoding = "UTF-8"
        self._pending = b""
        self._fallback = False
        self._decoder: codecs.IncrementalDecoder | None = None

    def _check_binary(self, head: bytes) -> None:
        for magic, what in BINARY_MAGIC.items():
            if head.startswith(magic):
                raise UnusableInput(
                    f"{self.name} is {what}, not a text file; save it as CSV (UTF-8) and retry"
                )
        sample = head[:4096]
        if sample.count(0) * 8 > len(sample):  # UTF-16 without BOM, or a binary format
            raise UnusableInput(
                f"{self.name} holds NUL bytes and no byte order mark, so it is not text this "
                "tool can read; save it as CSV UTF-8 (or UTF-16 with BOM) and retry"
            )

    def _start(self, head: bytes) -> bytes:
        for bom, codec, label in BOMS:
            if head.startswith(bom):
                self.encoding = label
                self._decoder = codecs.getincrementaldecoder(codec)("replace")
                return head
        self._check_binary(head)
        return head

    def _decode(self, block: bytes, final: bool) -> str:
        if self._decoder is not None:
            return self._decoder.decode(block, final)
        if self._fallback:
            return block.decode("cp1252", "replace")
        data = self._pending + block
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            self._fallback = True
            at = self.bytes_read - len(data) + exc.start
            self.encoding = f"cp1252 (the bytes are not UTF-8 from byte {at:,} on)"
            self._pending = b""
            return data[: exc.start].decode("utf-8") + data[exc.start :].decode("cp1252", "replace")
        self._pending = data[used:]
        return text

    def _texts(self) -> Iterator[str]:
        block = self.stream.read(max(self.block_size, 4))  # a whole BOM, whatever the size
        self.bytes_read += len(block)
        block = self._start(block)
        while block:
            text = self._decode(block, final=False)
            if text:
                yield text
            block = self.stream.read(self.block_size)
            self.bytes_read += len(block)
        tail = self._decode(b"", final=True)
        if tail:
            yield tail

    def __iter__(self) -> Iterator[str]:
        newline = ""
        head = ""  # text read before the line end is known
        carry: list[str] = []
        for text in self._texts():
            if not newline:
                head += text
                newline = _line_end(head)
                if not newline:
                    continue
                text, head = head, ""
            if newline not in text:
                carry.append(text)
                continue
            parts = text.split(newline)
            if carry:
                parts[0] = "".join(carry) + parts[0]
                carry = []
            last = parts.pop()
            for part in parts:
                yield part + newline
            if last:
                carry.append(last)
        if head:
            yield head
        if carry:
            yield "".join(carry)


def _line_end(text: str) -> str:
    """``\n`` once one is seen; ``\r`` once a CR is followed by anything else; else ``""``."""
    if "\n" in text:
        return "\n"
    cr = text.find("\r")
    return "\r" if 0 <= cr < len(text) - 1 else ""
