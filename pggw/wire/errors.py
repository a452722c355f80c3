"""PostgreSQL errors as Python exceptions, carrying the fields of an ErrorResponse."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PgError(Exception):
    """An error to report to the client with PostgreSQL's SQLSTATE.

    ``severity`` is ``ERROR`` (the connection stays usable) or ``FATAL``
    (the connection is closed after the ErrorResponse).
    """

    sqlstate: str
    message: str
    detail: str | None = None
    hint: str | None = None
    severity: str = "ERROR"
    table: str | None = None
    column: str | None = None
    where: str | None = None
    position: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.sqlstate}: {self.message}"

    def fields(self) -> list[tuple[str, str]]:
        """The ErrorResponse fields as (code, value) pairs, in PostgreSQL's order."""
        out = [
            ("S", self.severity), ("V", self.severity), ("C", self.sqlstate), ("M", self.message),
        ]
        if self.detail:
            out.append(("D", self.detail))
        if self.hint:
            out.append(("H", self.hint))
        if self.position is not None:
            out.append(("P", str(self.position)))
        if self.where:
            out.append(("W", self.where))
        if self.table:
            out.append(("s", "public"))
            out.append(("t", self.table))
        if self.column:
            out.append(("c", self.column))
        out.extend(self.extra.items())
        return out


# SQLSTATEs used across the code base, by the names PostgreSQL's errcodes.txt gives them.
PROTOCOL_VIOLATION = "08P01"
INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"
INVALID_CATALOG_NAME = "3D000"
FEATURE_NOT_SUPPORTED = "0A000"
SYNTAX_ERROR = "42601"
UNDEFINED_TABLE = "42P01"
UNDEFINED_COLUMN = "42703"
UNDEFINED_FUNCTION = "42883"
UNDEFINED_OBJECT = "42704"
DUPLICATE_OBJECT = "42710"
DUPLICATE_TABLE = "42P07"
DUPLICATE_PREPARED_STATEMENT = "42P05"
INVALID_SQL_STATEMENT_NAME = "26000"
INVALID_CURSOR_NAME = "34000"
INSUFFICIENT_PRIVILEGE = "42501"
INVALID_TEXT_REPRESENTATION = "22P02"
NUMERIC_VALUE_OUT_OF_RANGE = "22003"
STRING_DATA_RIGHT_TRUNCATION = "22001"
INVALID_DATETIME_FORMAT = "22007"
DATETIME_FIELD_OVERFLOW = "22008"
BAD_COPY_FILE_FORMAT = "22P04"
INVALID_PARAMETER_VALUE = "22023"
NOT_NULL_VIOLATION = "23502"
UNIQUE_VIOLATION = "23505"
CARDINALITY_VIOLATION = "21000"
IN_FAILED_SQL_TRANSACTION = "25P02"
ACTIVE_SQL_TRANSACTION = "25001"
NO_ACTIVE_SQL_TRANSACTION = "25P01"
QUERY_CANCELED = "57014"
ADMIN_SHUTDOWN = "57P01"
DISK_FULL = "53100"
OUT_OF_MEMORY = "53200"
TOO_MANY_CONNECTIONS = "53300"
PROGRAM_LIMIT_EXCEEDED = "54000"
STATEMENT_TOO_COMPLEX = "54001"
CHARACTER_NOT_IN_REPERTOIRE = "22021"
UNDEFINED_PARAMETER = "42704"
INTERNAL_ERROR = "XX000"
IO_ERROR = "58030"
DATATYPE_MISMATCH = "42804"
INVALID_PARAMETER_TYPE = "42P18"
PROTOCOL_ERROR = PROTOCOL_VIOLATION
