"""Stateful decoders for ``COPY … FROM STDIN`` data (text, CSV, binary).

CopyData message boundaries have nothing to do with rows, so each decoder keeps the
unfinished tail between calls. Common API::

    dec = TextCopyDecoder(3, columns=["a", "b", "c"], table="t")
    rows = dec.feed(chunk)      # complete rows so far
    rows += dec.finish()        # at CopyDone: the last row (raises on a partial row)

Text/CSV rows are ``list[str | None]`` (un-escaped, not type-converted); binary rows
are ``list[bytes | None]`` (decode them with :mod:`pggw.wire.codecs`). ``line`` is the
number of input lines (text: physical lines; CSV: records, incl. the header) seen so
far; when an error is raised it is the number of the offending line, and the
``PgError.where`` is ``COPY <table>, line <N>`` when a table name was given.
``done`` becomes True at the ``\\.`` end marker (text/CSV) or the binary trailer;
later data is ignored.

Errors are :class:`PgError` with SQLSTATE 22P04 (bad_copy_file_format) or 22021
(invalid UTF-8). After an error the decoder must be discarded.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Collection, Sequence
from typing import Any, cast

from pggw.wire.errors import BAD_COPY_FILE_FORMAT, PgError

__all__ = ["BINARY_SIGNATURE", "BinaryCopyDecoder", "CsvCopyDecoder", "TextCopyDecoder"]

BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

Row = list[str | None]
BinRow = list[bytes | None]


class _Base:
    def __init__(self, ncols: int, columns: Sequence[str] | None, table: str | None) -> None:
        if columns is not None and len(columns) != ncols:
            raise ValueError("columns must have ncols names")
        self.ncols = ncols
        self.columns = list(columns) if columns is not None else [
            f"column{i + 1}" for i in range(ncols)]
        self.table = table
        self.line = 0
        self.done = False

    def _error(self, message: str, line: int | None = None, sqlstate: str = BAD_COPY_FILE_FORMAT,
               column: str | None = None) -> PgError:
        if line is not None:
            self.line = line
        where = None
        if self.table is not None:
            where = f"COPY {self.table}, line {self.line}"
            if column is not None:
                where += f", column {column}"
        return PgError(sqlstate, message, where=where)

    def _count_error(self, nfields: int, line: int) -> PgError:
        if nfields < self.ncols:
            return self._error(f'missing data for column "{self.columns[nfields]}"', line)
        return self._error("extra data after last expected column", line)

    def _decode(self, data: bytes | memoryview, first_line: int) -> str:
        try:
            return str(data, "utf-8")
        except UnicodeDecodeError as e:
            raw = bytes(data)
            line = first_line + raw.count(b"\n", 0, e.start)
            bad = " ".join(f"0x{b:02x}" for b in raw[e.start:e.start + 2])
            raise self._error(f'invalid byte sequence for encoding "UTF8": {bad}', line,
                              sqlstate="22021") from None


class _LineDecoder(_Base):
    """Splits the byte stream into complete lines and hands them to ``_lines``."""

    def __init__(self, ncols: int, columns: Sequence[str] | None, table: str | None) -> None:
        super().__init__(ncols, columns, table)
        self._pending: list[bytes] = []

    def feed(self, chunk: bytes | memoryview) -> list[Any]:
        if self.done:
            return []
        b = chunk if isinstance(chunk, bytes) else bytes(chunk)
        nl = b.rfind(b"\n")
        if nl < 0:
            if b:
                self._pending.append(b)
            return []
        if self._pending:
            self._pending.append(b[:nl])
            block: bytes | memoryview = b"".join(self._pending)
            self._pending = []
        else:
            block = memoryview(b)[:nl]
        if nl + 1 < len(b):
            self._pending.append(b[nl + 1:])
        return self._decode_lines(block, False)

    def finish(self) -> list[Any]:
        if self.done:
            return []
        rest = b"".join(self._pending)
        self._pending = []
        return self._decode_lines(rest, True) if rest else self._lines(None, True)

    def _decode_lines(self, block: bytes | memoryview, final: bool) -> list[Any]:
        start = self.line
        try:
            text = self._decode(block, start + 1)
        except PgError:
            # Lines after the end marker are ignored even when they are not UTF-8 (had they
            # come in a later CopyData message they would never be decoded): parse the
            # complete lines before the bad byte first; an error there comes first anyway.
            bad_line = self.line
            raw = bytes(block)
            bad = len(raw)
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                bad = e.start
            nl = raw.rfind(b"\n", 0, bad)
            if nl >= 0:
                self.line = start
                rows = self._lines(raw[:nl].decode("utf-8"), False)
                if self.done:
                    return rows
                self.line = bad_line
            raise
        return self._lines(text, final)

    def _lines(self, text: str | None, final: bool) -> list[Any]:
        raise NotImplementedError


# --------------------------------------------------------------------------- text

_ESCAPE_RE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_SIMPLE_ESCAPES = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def _unescape_sub(m: re.Match[bytes]) -> bytes:
    octal, hexa, other = m.groups()
    if octal is not None:
        return bytes((int(octal, 8) & 0xFF,))
    if hexa is not None:
        return bytes((int(hexa, 16),))
    return _SIMPLE_ESCAPES.get(other, other)


def unescape_text_field(field: str) -> str:
    """Undo COPY text-format backslash escapes (``\\n``, ``\\t``, ``\\NNN``, ``\\xHH``, ``\\c``)."""
    if "\\" not in field:
        return field
    raw = _ESCAPE_RE.sub(_unescape_sub, field.encode("utf-8"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PgError("22021", 'invalid byte sequence for encoding "UTF8"') from None


class TextCopyDecoder(_LineDecoder):
    """COPY text format: one row per line, fields split by ``delimiter``, ``\\N`` = NULL."""

    def __init__(self, ncols: int, delimiter: str = "\t", null: str = "\\N", *,
                 header: bool = False, columns: Sequence[str] | None = None,
                 table: str | None = None) -> None:
        super().__init__(ncols, columns, table)
        if len(delimiter) != 1 or delimiter in "\\\r\n":
            raise PgError("22023", "COPY delimiter must be a single one-byte character")
        self.delimiter = delimiter
        self.null = null
        self._skip_header = header

    def _lines(self, text: str | None, final: bool) -> list[Any]:
        if text is None:
            return []
        if "\r" in text and text[-1] == "\r":
            # CRLF line ends: strip them up front so the fast path still applies.
            crlf = text[:-1].replace("\r\n", "\n")
            if "\r" not in crlf:
                text = crlf
        lines = text.split("\n")
        if self._skip_header:
            self._skip_header = False
            self.line += 1
            del lines[0]
            if not lines:
                return []
        delim = self.delimiter
        ncols = self.ncols
        null = self.null
        if "\\" not in text and "\r" not in text:
            # Fast path: no escapes and no end marker.
            rows: list[Row]
            if "\\" in null:  # the default \N cannot occur without a backslash
                rows = cast(list[Row], [ln.split(delim) for ln in lines])
            elif null == "":
                rows = [[f or None for f in ln.split(delim)] for ln in lines]
            else:
                rows = [[None if f == null else f for f in ln.split(delim)] for ln in lines]
            if len(set(map(len, rows))) != 1 or len(rows[0]) != ncols:
                for k, r in enumerate(rows):
                    if len(r) != ncols:
                        raise self._count_error(len(r), self.line + k + 1)
            self.line += len(rows)
            return rows
        out: list[Row] = []
        append = out.append
        line_no = self.line
        esc_delim = "\\" + delim
        for ln in lines:
            line_no += 1
            if ln and ln[-1] == "\r":
                ln = ln[:-1]
            if "\\" not in ln:
                fields: Row = cast(Row, ln.split(delim))
                if null in fields:
                    fields = [None if f == null else f for f in fields]
            elif ln == "\\.":
                self.line = line_no
                self.done = True
                self._pending = []
                return out
            elif esc_delim in ln:
                fields = self._split_escaped(ln)
            else:
                fields = [None if f == null else f if "\\" not in f else unescape_text_field(f)
                          for f in ln.split(delim)]
            if len(fields) != ncols:
                raise self._count_error(len(fields), line_no)
            append(fields)
        self.line = line_no
        return out

    def _split_escaped(self, ln: str) -> Row:
        """Split a line where a backslash may escape the delimiter itself."""
        delim = self.delimiter
        raw_fields: list[str] = []
        start = 0
        i = 0
        n = len(ln)
        while i < n:
            c = ln[i]
            if c == "\\":
                i += 2
                continue
            if c == delim:
                raw_fields.append(ln[start:i])
                start = i + 1
            i += 1
        raw_fields.append(ln[start:])
        null = self.null
        return [None if f == null else unescape_text_field(f) for f in raw_fields]


# --------------------------------------------------------------------------- CSV

class CsvCopyDecoder(_LineDecoder):
    """COPY CSV format.

    An unquoted field equal to ``null`` (default: empty) is NULL; a quoted one is a
    string (``""`` is ``''``) unless its column is in ``force_null``. Columns in
    ``force_not_null`` are never NULL. Quoted fields may contain delimiters and
    newlines; ``escape`` (default: the quote) escapes the quote and itself inside
    quotes. A line ``\\.`` alone ends the data.
    """

    def __init__(self, ncols: int, delimiter: str = ",", quote: str = '"', escape: str = '"',
                 null: str = "", header: bool = False,
                 force_null: Collection[int] = (), force_not_null: Collection[int] = (), *,
                 columns: Sequence[str] | None = None, table: str | None = None) -> None:
        super().__init__(ncols, columns, table)
        for what, v in (("delimiter", delimiter), ("quote", quote), ("escape", escape)):
            if len(v) != 1 or v in "\r\n":
                raise PgError("22023", f"COPY {what} must be a single one-byte character")
        if delimiter == quote:
            raise PgError("22023", "COPY delimiter and quote must be different")
        self.delimiter = delimiter
        self.quote = quote
        self.escape = escape
        self.null = null
        self.force_null = frozenset(force_null)
        self.force_not_null = frozenset(force_not_null)
        self._skip_header = header
        self._rec: list[str] = []  # lines of a record still inside quotes
        self._rec_quotes = 0
        self._field_re: re.Pattern[str] | None = None
        if escape == quote:
            d, q = re.escape(delimiter), re.escape(quote)
            nd = "\\" + delimiter if delimiter in "]\\^-" else delimiter
            nq = "\\" + quote if quote in "]\\^-" else quote
            self._field_re = re.compile(
                f"(?:{q}((?:[^{nq}]|{q}{q})*){q}|([^{nd}{nq}]*))({d})?")

    def _lines(self, text: str | None, final: bool) -> list[Any]:
        out: list[Row] = []
        if text is not None:
            q = self.quote
            if "\r" in text and text[-1] == "\r" and q not in text and not self._rec:
                crlf = text[:-1].replace("\r\n", "\n")
                if "\r" not in crlf:
                    text = crlf
            lines = text.split("\n")
            if (not self._rec and q not in text and "\r" not in text and "\\." not in text
                    and not self._skip_header):
                out = self._fast(lines)
            else:
                self._slow(lines, out)
        if final and self._rec:
            raise self._error("unterminated CSV quoted field", self.line + 1)
        return out

    def _fast(self, lines: list[str]) -> list[Row]:
        delim = self.delimiter
        null = self.null
        ncols = self.ncols
        rows: list[Row]
        if null == "":
            rows = [[f or None for f in ln.split(delim)] for ln in lines]
        else:
            rows = [[None if f == null else f for f in ln.split(delim)] for ln in lines]
        if len(set(map(len, rows))) != 1 or len(rows[0]) != ncols:
            for k, r in enumerate(rows):
                if len(r) != ncols:
                    raise self._count_error(len(r), self.line + k + 1)
        if self.force_not_null:
            for r in rows:
                for c in self.force_not_null:
                    if r[c] is None:
                        r[c] = null
        self.line += len(rows)
        return rows

    def _slow(self, lines: list[str], out: list[Row]) -> None:
        q = self.quote
        parity = self.escape == q
        for ln in lines:
            if self._rec:
                self._rec.append(ln)
                if parity:
                    self._rec_quotes += ln.count(q)
                    if self._rec_quotes & 1:
                        continue
                    rec = "\n".join(self._rec)
                    fields = self._parse(rec)
                else:
                    rec = "\n".join(self._rec)
                    fields = self._parse(rec)
                    if fields is None:
                        continue
                self._rec = []
                self._rec_quotes = 0
            elif q not in ln:
                if ln and ln[-1] == "\r":
                    ln = ln[:-1]
                if ln == "\\.":
                    self.line += 1
                    self.done = True
                    self._pending = []
                    return
                delim = self.delimiter
                null = self.null
                fields = [None if f == null else f for f in ln.split(delim)]
                if self.force_not_null:
                    for c in self.force_not_null:
                        if c < len(fields) and fields[c] is None:
                            fields[c] = null
            else:
                if parity:
                    nq = ln.count(q)
                    if nq & 1:
                        self._rec = [ln]
                        self._rec_quotes = nq
                        continue
                    fields = self._parse(ln)
                else:
                    fields = self._parse(ln)
                    if fields is None:
                        self._rec = [ln]
                        continue
            assert fields is not None
            self.line += 1
            if self._skip_header:
                self._skip_header = False
                continue
            if len(fields) != self.ncols:
                raise self._count_error(len(fields), self.line)
            out.append(fields)

    def _parse_re(self, rec: str, pattern: re.Pattern[str]) -> Row | None:
        """Regex fast path for well-formed fields (quote == escape); None → use _parse."""
        match = pattern.match
        null = self.null
        force_null = self.force_null
        force_not_null = self.force_not_null
        qq = self.quote * 2
        q = self.quote
        fields: Row = []
        pos = 0
        n = len(rec)
        col = 0
        while True:
            m = match(rec, pos)
            if m is None:
                return None
            qv, uv, sep = m.groups()
            if qv is not None:
                if qq in qv:
                    qv = qv.replace(qq, q)
                fields.append(None if qv == null and col in force_null else qv)
            else:
                fields.append(None if uv == null and col not in force_not_null else uv)
            pos = m.end()
            col += 1
            if sep is None:
                return fields if pos == n else None

    def _parse(self, rec: str) -> Row | None:
        """Parse one complete record; None if it ends inside quotes."""
        if rec and rec[-1] == "\r":
            # The line terminator's CR (a CR inside quotes is never last here).
            rec = rec[:-1]
        if self._field_re is not None:
            row = self._parse_re(rec, self._field_re)
            if row is not None:
                return row
        delim, q, esc, null = self.delimiter, self.quote, self.escape, self.null
        fields: Row = []
        n = len(rec)
        i = 0
        col = 0
        while True:
            parts: list[str] = []
            quoted = False
            while True:
                # unquoted run
                jd = rec.find(delim, i)
                jq = rec.find(q, i)
                if jq < 0 or (0 <= jd < jq):
                    end = jd if jd >= 0 else n
                    parts.append(rec[i:end])
                    i = end
                    break
                parts.append(rec[i:jq])
                quoted = True
                i = jq + 1
                # quoted run
                while True:
                    jq = rec.find(q, i)
                    je = rec.find(esc, i) if esc != q else -1
                    if jq < 0 and je < 0:
                        return None
                    if je >= 0 and (jq < 0 or je < jq):
                        parts.append(rec[i:je])
                        nxt = rec[je + 1:je + 2]
                        if nxt in (q, esc):
                            parts.append(nxt)
                            i = je + 2
                        else:
                            parts.append(esc)
                            i = je + 1
                        continue
                    parts.append(rec[i:jq])
                    if esc == q and rec[jq + 1:jq + 2] == q:
                        parts.append(q)
                        i = jq + 2
                        continue
                    i = jq + 1
                    break
            value = "".join(parts)
            if quoted:
                if col in self.force_null and value == null:
                    fields.append(None)
                else:
                    fields.append(value)
            elif value == null and col not in self.force_not_null:
                fields.append(None)
            else:
                fields.append(value)
            col += 1
            if i >= n:
                return fields
            # rec[i] is the delimiter
            i += 1
            if i == n:
                # trailing delimiter: one more (empty, unquoted) field
                fields.append(None if null == "" and col not in self.force_not_null else "")
                return fields


# --------------------------------------------------------------------------- binary

_h = struct.Struct("!h")
_i = struct.Struct("!i")
_ii = struct.Struct("!ii")


class BinaryCopyDecoder(_Base):
    """COPY binary format: signature, flags, header extension, tuples, ``-1`` trailer."""

    def __init__(self, ncols: int, *, columns: Sequence[str] | None = None,
                 table: str | None = None, require_trailer: bool = True) -> None:
        super().__init__(ncols, columns, table)
        self._buf = bytearray()
        self._header_done = False
        self.require_trailer = require_trailer

    def feed(self, chunk: bytes | memoryview) -> list[Any]:
        if self.done:
            if len(chunk):
                raise self._error("received copy data after EOF marker", self.line)
            return []
        buf = self._buf
        buf += chunk
        if not self._header_done:
            if len(buf) < 19:
                if BINARY_SIGNATURE[:len(buf)] != buf[:11]:
                    raise self._error("COPY file signature not recognized", 0)
                return []
            if buf[:11] != BINARY_SIGNATURE:
                raise self._error("COPY file signature not recognized", 0)
            flags, ext = _ii.unpack_from(buf, 11)
            if flags & (1 << 16):
                raise PgError("0A000", "COPY with OIDs is not supported")
            if flags & 0xFFFE0000:
                raise self._error("unrecognized critical flags in COPY file header", 0)
            if ext < 0:
                raise self._error("invalid COPY file header (missing length)", 0)
            if len(buf) < 19 + ext:
                return []
            del buf[:19 + ext]
            self._header_done = True
        rows: list[BinRow] = []
        off = self._tuples(buf, rows)
        if off:
            del buf[:off]
        if self.done and buf:
            raise self._error("received copy data after EOF marker", self.line)
        return rows

    def _tuples(self, buf: bytearray, rows: list[BinRow]) -> int:
        ncols = self.ncols
        size = len(buf)
        off = 0
        unpack_h = _h.unpack_from
        unpack_i = _i.unpack_from
        line = self.line
        mv = memoryview(buf)
        try:
            while off + 2 <= size:
                (cnt,) = unpack_h(mv, off)
                if cnt != ncols:
                    if cnt == -1:
                        self.done = True
                        off += 2
                        break
                    raise self._error(f"row field count is {cnt}, expected {ncols}", line + 1)
                pos = off + 2
                row: BinRow = []
                append = row.append
                for _ in range(ncols):
                    if pos + 4 > size:
                        break
                    (ln,) = unpack_i(mv, pos)
                    pos += 4
                    if ln < 0:
                        if ln != -1:
                            raise self._error(f"invalid field size {ln}", line + 1)
                        append(None)
                    else:
                        end = pos + ln
                        if end > size:
                            break
                        append(bytes(mv[pos:end]))
                        pos = end
                else:
                    rows.append(row)
                    line += 1
                    off = pos
                    continue
                break
        finally:
            mv.release()
        self.line = line
        return off

    def finish(self) -> list[Any]:
        if self.done:
            return []
        if not self._header_done:
            raise self._error("COPY file signature not recognized", 0)
        if self._buf:
            raise self._error("unexpected EOF in COPY data", self.line + 1)
        if self.require_trailer:
            raise self._error("unexpected EOF in COPY data (missing file trailer)",
                              self.line + 1)
        self.done = True
        return []
