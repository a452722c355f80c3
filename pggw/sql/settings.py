"""Session settings (GUCs): PostgreSQL 15 defaults, SET/RESET/SHOW, and ParameterStatus reporting.

A :class:`Settings` holds one session's configuration parameters.  It validates and
normalises values the way PostgreSQL does for the parameters clients actually touch
(``client_encoding``, ``DateStyle``, ``TimeZone``, booleans, time units …), remembers
which *reported* parameters changed so the protocol adapter can send ParameterStatus,
and supports ``SET LOCAL`` and transaction rollback of ``SET``.

:func:`execute_settings_statement` recognises the settings statements
(``SET``, ``RESET``, ``SHOW``, ``SET TIME ZONE``, ``SET NAMES``, ``SET SESSION
CHARACTERISTICS``, ``SET TRANSACTION``) and answers them with a :class:`Result`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

from pggw import __version__ as _pggw_version
from pggw.sql.result import Result, ResultColumn
from pggw.wire.errors import FEATURE_NOT_SUPPORTED, INVALID_PARAMETER_VALUE, SYNTAX_ERROR, PgError

SERVER_VERSION = "15.8"
SERVER_VERSION_NUM = "150008"
VERSION_STRING = (
    f"PostgreSQL {SERVER_VERSION} (pggw {_pggw_version}) on x86_64-pc-linux-gnu, "
    "compiled by gcc, 64-bit"
)

CANT_CHANGE_RUNTIME_PARAM = "55P02"
TEXT_OID = 25

# Parameters PostgreSQL 15 reports with ParameterStatus, in the order it sends them after auth.
REPORTED = (
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
)

Normaliser = Callable[[str], str]


@dataclass(frozen=True)
class Guc:
    name: str  # canonical spelling (SHOW's column name)
    default: str
    description: str = ""
    kind: str = "string"  # string | bool | integer | real | enum | time | memory
    fixed: bool = False  # cannot be changed after startup (PGC_INTERNAL / PGC_POSTMASTER)
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    normalise: Normaliser | None = None
    category: str = "Client Connection Defaults"


def _bool(name: str, value: str) -> str:
    v = value.strip().lower()
    if v in ("on", "true", "yes", "1", "t", "y", "tr", "tru", "ye"):
        return "on"
    if v in ("off", "false", "no", "0", "f", "n", "of", "fa", "fal", "fals"):
        return "off"
    raise PgError(INVALID_PARAMETER_VALUE, f'parameter "{name}" requires a Boolean value')


def _client_encoding(value: str) -> str:
    v = value.strip().lower().replace("-", "").replace("_", "")
    if v in ("utf8", "unicode"):
        return "UTF8"
    if v == "sqlascii":
        # psql in a C-locale terminal asks for SQL_ASCII: no conversion, bytes pass as sent.
        return "SQL_ASCII"
    raise PgError(
        INVALID_PARAMETER_VALUE,
        f'invalid value for parameter "client_encoding": "{value}"',
        detail="pggw only speaks UTF8.",
        hint="Use client_encoding UTF8.",
    )


def _datestyle(value: str, current: str = "ISO, MDY") -> str:
    style, order = (p.strip() for p in current.split(","))
    for tok in (t.strip().lower() for t in value.split(",")):
        if tok == "iso":
            style = "ISO"
        elif tok in ("postgres", "sql", "german"):
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                f'DateStyle "{tok}" is not supported by pggw; only ISO output is',
            )
        elif tok in ("mdy", "us", "noneuropean", "non-european"):
            order = "MDY"
        elif tok in ("dmy", "euro", "european"):
            order = "DMY"
        elif tok == "ymd":
            order = "YMD"
        elif tok == "default":
            style, order = "ISO", "MDY"
        else:
            raise PgError(INVALID_PARAMETER_VALUE,
                          f'invalid value for parameter "DateStyle": "{value}"',
                          detail=f'Unrecognized key word: "{tok}".')
    return f"{style}, {order}"


_TZ_NAMES: dict[str, str] | None = None
_OFFSET_RE = re.compile(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$")


def _timezone(value: str) -> str:
    global _TZ_NAMES
    v = value.strip()
    if v.upper() in ("UTC", "GMT", "Z", "ZULU"):
        return "UTC" if v.upper() != "GMT" else "GMT"
    m = _OFFSET_RE.match(v)
    if m:
        # A bare number is hours *east* of UTC (SET TIME ZONE 2), shown POSIX style as PG does.
        sign, hh, mm = m.groups()
        h, mi = int(hh), int(mm or 0)
        if h > 15:
            raise PgError(INVALID_PARAMETER_VALUE,
                          f'invalid value for parameter "TimeZone": "{value}"')
        east = sign != "-"
        label = f"{'+' if east else '-'}{h:02d}" + (f":{mi:02d}" if mi else "")
        posix = f"{'-' if east else '+'}{h:02d}" + (f":{mi:02d}" if mi else "")
        return f"<{label}>{posix}"
    if _TZ_NAMES is None:
        _TZ_NAMES = {n.lower(): n for n in available_timezones()}
    name = _TZ_NAMES.get(v.lower())
    if name is None:
        try:
            ZoneInfo(v)
            name = v
        except (ValueError, OSError, KeyError):
            raise PgError(INVALID_PARAMETER_VALUE,
                          f'invalid value for parameter "TimeZone": "{value}"') from None
    return name


_TIME_HINT = 'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".'
_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_TIME_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)


def _time(name: str, value: str, base: str = "ms") -> str:
    m = _TIME_RE.match(value)
    if not m:
        raise PgError(INVALID_PARAMETER_VALUE, f'invalid value for parameter "{name}": "{value}"',
                      hint=_TIME_HINT)
    num, unit = float(m.group(1)), (m.group(2) or base).lower()
    if unit not in _UNITS_MS:
        raise PgError(INVALID_PARAMETER_VALUE, f'invalid value for parameter "{name}": "{value}"',
                      hint=_TIME_HINT)
    ms = round(num * _UNITS_MS[unit] / _UNITS_MS[base]) * _UNITS_MS[base]
    if ms < 0:
        raise PgError(INVALID_PARAMETER_VALUE,
                      f'{int(ms)} ms is outside the valid range for parameter "{name}"')
    if ms == 0:
        return "0"
    for u in ("d", "h", "min", "s", "ms"):
        if ms % _UNITS_MS[u] == 0:
            return f"{int(ms // _UNITS_MS[u])}{u}"
    return f"{int(ms)}ms"


def _app_name(value: str) -> str:
    # PostgreSQL 15 replaces each byte that is not printable ASCII with '?' (pg_clean_ascii)
    # and truncates to NAMEDATALEN-1.
    out = "".join(chr(b) if 32 <= b < 127 else "?" for b in value.encode("utf-8"))
    return out[:63]


_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_$]*$")


def _quote_ident(s: str) -> str:
    return s if _IDENT_RE.match(s) else '"' + s.replace('"', '""') + '"'


def _isolation(value: str) -> str:
    v = " ".join(value.lower().replace("_", " ").split())
    if v in ("read committed", "read uncommitted", "repeatable read", "serializable"):
        return v
    if v == "default":
        return "read committed"
    raise PgError(INVALID_PARAMETER_VALUE,
                  f'invalid value for parameter "transaction_isolation": "{value}"')


def _ack(value: str) -> str:
    v = value.strip().lower()
    if v not in ("wal", "cdf"):
        raise PgError(INVALID_PARAMETER_VALUE, f'invalid value for parameter "pggw.ack": "{value}"',
                      hint='Available values: wal, cdf.')
    return v


_C = "Client Connection Defaults / Statement Behavior"
_L = "Client Connection Defaults / Locale and Formatting"
_P = "Preset Options"

_GUCS: tuple[Guc, ...] = (
    Guc("application_name", "", "Sets the application name to be reported in statistics and logs.",
        normalise=_app_name, category="Reporting and Logging / What to Log"),
    Guc("client_encoding", "UTF8", "Sets the client's character set encoding.",
        normalise=_client_encoding, category=_L),
    Guc("DateStyle", "ISO, MDY", "Sets the display format for date and time values.", category=_L),
    Guc("IntervalStyle", "postgres", "Sets the display format for interval values.", kind="enum",
        choices=("postgres", "postgres_verbose", "sql_standard", "iso_8601"), category=_L),
    Guc("TimeZone", "UTC", "Sets the time zone for displaying and interpreting time stamps.",
        normalise=_timezone, category=_L),
    Guc("timezone_abbreviations", "Default", "Selects a file of time zone abbreviations.",
        category=_L),
    Guc("extra_float_digits", "1", "Sets the number of digits displayed for floating-point values.",
        kind="integer", minimum=-15, maximum=3, category=_L),
    Guc("lc_messages", "C.UTF-8", "Sets the language in which messages are displayed.",
        category=_L),
    Guc("lc_monetary", "C.UTF-8", "Sets the locale for formatting monetary amounts.", category=_L),
    Guc("lc_numeric", "C.UTF-8", "Sets the locale for formatting numbers.", category=_L),
    Guc("lc_time", "C.UTF-8", "Sets the locale for formatting date and time values.", category=_L),
    Guc("lc_collate", "C.UTF-8", "Shows the collation order locale.", fixed=True, category=_P),
    Guc("lc_ctype", "C.UTF-8", "Shows the character classification and case conversion locale.",
        fixed=True, category=_P),
    Guc("default_text_search_config", "pg_catalog.english",
        "Sets default text search configuration.", category=_L),
    Guc("integer_datetimes", "on", "Shows whether datetimes are integer based.", kind="bool",
        fixed=True, category=_P),
    Guc("server_encoding", "UTF8", "Shows the server (database) character set encoding.",
        fixed=True, category=_P),
    Guc("server_version", SERVER_VERSION, "Shows the server version.", fixed=True, category=_P),
    Guc("server_version_num", SERVER_VERSION_NUM, "Shows the server version as an integer.",
        fixed=True, category=_P),
    Guc("max_identifier_length", "63", "Shows the maximum identifier length.", fixed=True,
        category=_P),
    Guc("max_function_args", "100", "Shows the maximum number of function arguments.", fixed=True,
        category=_P),
    Guc("max_index_keys", "32", "Shows the maximum number of index keys.", fixed=True,
        category=_P),
    Guc("block_size", "8192", "Shows the size of a disk block.", fixed=True, category=_P),
    Guc("segment_size", "1GB", "Shows the number of pages per disk file.", fixed=True,
        category=_P),
    Guc("data_checksums", "off", "Shows whether data checksums are turned on for this cluster.",
        fixed=True, category=_P),
    Guc("in_hot_standby", "off", "Shows whether hot standby is currently active.", kind="bool",
        fixed=True, category=_P),
    Guc("is_superuser", "off", "Shows whether the current user is a superuser.", kind="bool",
        fixed=True, category=_P),
    Guc("session_authorization", "", "Sets the session user name.", fixed=True,
        category=_P),
    Guc("standard_conforming_strings", "on", "Causes '...' strings to treat backslashes literally.",
        kind="bool", category="Version and Platform Compatibility"),
    Guc("escape_string_warning", "on", "Warn about backslash escapes in ordinary string literals.",
        kind="bool", category="Version and Platform Compatibility"),
    Guc("backslash_quote", "safe_encoding", 'Sets whether "\\\'" is allowed in string literals.',
        kind="enum", choices=("safe_encoding", "on", "off"),
        category="Version and Platform Compatibility"),
    Guc("search_path", '"$user", public', "Sets the schema search order for names that are not "
        "schema-qualified.", category=_C),
    Guc("transaction_isolation", "read committed",
        "Sets the current transaction's isolation level.", normalise=_isolation, category=_C),
    Guc("default_transaction_isolation", "read committed",
        "Sets the transaction isolation level of each new transaction.", normalise=_isolation,
        category=_C),
    Guc("transaction_read_only", "off", "Sets the current transaction's read-only status.",
        kind="bool", category=_C),
    Guc("default_transaction_read_only", "off",
        "Sets the default read-only status of new transactions.", kind="bool", category=_C),
    Guc("transaction_deferrable", "off", "Whether to defer a read-only serializable transaction "
        "until it can be executed with no possible serialization failures.", kind="bool",
        category=_C),
    Guc("default_transaction_deferrable", "off",
        "Sets the default deferrable status of new transactions.", kind="bool", category=_C),
    Guc("statement_timeout", "0", "Sets the maximum allowed duration of any statement.",
        kind="time", category=_C),
    Guc("lock_timeout", "0", "Sets the maximum allowed duration of any wait for a lock.",
        kind="time", category=_C),
    Guc("idle_in_transaction_session_timeout", "0",
        "Sets the maximum allowed idle time between queries, when in a transaction.",
        kind="time", category=_C),
    Guc("idle_session_timeout", "0",
        "Sets the maximum allowed idle time between queries, when not in a transaction.",
        kind="time", category=_C),
    Guc("client_min_messages", "notice", "Sets the message levels that are sent to the client.",
        kind="enum", choices=("debug5", "debug4", "debug3", "debug2", "debug1", "debug", "log",
                              "notice", "warning", "error", "info"), category=_C),
    Guc("bytea_output", "hex", "Sets the output format for bytea.", kind="enum",
        choices=("hex", "escape"), category=_C),
    Guc("xmloption", "content", "Sets whether XML data in implicit parsing and serialization "
        "operations is to be considered as documents or content fragments.", kind="enum",
        choices=("content", "document"), category=_C),
    Guc("xmlbinary", "base64", "Sets how binary values are to be encoded in XML.", kind="enum",
        choices=("base64", "hex"), category=_C),
    Guc("check_function_bodies", "on", "Check routine bodies during CREATE FUNCTION and CREATE "
        "PROCEDURE.", kind="bool", category=_C),
    Guc("default_tablespace", "", "Sets the default tablespace to create tables and indexes in.",
        category=_C),
    Guc("default_table_access_method", "heap", "Sets the default table access method for new "
        "tables.", category=_C),
    Guc("row_security", "on", "Enable row security.", kind="bool", category=_C),
    Guc("session_replication_role", "origin", "Sets the session's behavior for triggers and "
        "rewrite rules.", kind="enum", choices=("origin", "replica", "local"), category=_C),
    Guc("array_nulls", "on", "Enable input of NULL elements in arrays.", kind="bool",
        category="Version and Platform Compatibility"),
    Guc("quote_all_identifiers", "off", "When generating SQL fragments, quote all identifiers.",
        kind="bool", category="Version and Platform Compatibility"),
    Guc("synchronous_commit", "on", "Sets the current transaction's synchronization level.",
        kind="enum", choices=("local", "remote_write", "remote_apply", "on", "off"),
        category="Write-Ahead Log / Settings"),
    Guc("jit", "off", "Allow JIT compilation.", kind="bool",
        category="Query Tuning / Other Planner Options"),
    Guc("work_mem", "4MB", "Sets the maximum memory to be used for query workspaces.",
        category="Resource Usage / Memory"),
    Guc("maintenance_work_mem", "64MB",
        "Sets the maximum memory to be used for maintenance operations.",
        category="Resource Usage / Memory"),
    Guc("max_connections", "100", "Sets the maximum number of concurrent connections.",
        fixed=True, category="Connections and Authentication / Connection Settings"),
    Guc("password_encryption", "scram-sha-256", "Chooses the algorithm for encrypting passwords.",
        kind="enum", choices=("md5", "scram-sha-256"),
        category="Connections and Authentication / Authentication"),
    Guc("ssl", "off", "Enables SSL connections.", kind="bool", fixed=True,
        category="Connections and Authentication / SSL"),
    Guc("pggw.ack", "wal", "When a commit is acknowledged: wal (durable in pggw's write-ahead log) "
        "or cdf (accepted by CDF).", normalise=_ack, category="pggw"),
    Guc("pggw.ack_timeout", "0", "With pggw.ack = cdf, how long a commit waits for CDF before "
        "failing (0: forever).", kind="time", category="pggw"),
)

GUCS: dict[str, Guc] = {g.name.lower(): g for g in _GUCS}
_ALIASES = {"datestyle": "datestyle", "timezone": "timezone", "intervalstyle": "intervalstyle"}


class Settings:
    """One session's configuration parameters."""

    def __init__(self, *, user: str = "", defaults: Mapping[str, str] | None = None) -> None:
        self._defaults: dict[str, str] = {k: g.default for k, g in GUCS.items()}
        self._defaults["session_authorization"] = user
        self._custom_defaults: dict[str, str] = {}
        for k, v in (defaults or {}).items():
            self._defaults[self._key(k)] = v
        self._values: dict[str, str] = dict(self._defaults)
        self._local: dict[str, str] = {}
        self._snapshot: dict[str, str] | None = None
        self._pending: dict[str, None] = {}
        self._reported: dict[str, str] = {}

    def copy(self) -> Settings:
        """An independent copy (for describing a statement without side effects)."""
        other = Settings.__new__(Settings)
        other.__dict__.update({k: (dict(v) if isinstance(v, dict) else v)
                               for k, v in self.__dict__.items()})
        return other

    # -- lookups ---------------------------------------------------------------------------
    @staticmethod
    def _key(name: str) -> str:
        return name.strip().lower()

    def _guc(self, name: str) -> Guc | None:
        return GUCS.get(self._key(name))

    def canonical_name(self, name: str) -> str:
        g = self._guc(name)
        return g.name if g else self._key(name)

    def _check_known(self, name: str) -> str:
        key = self._key(name)
        if key in GUCS or key in self._values:
            return key
        if "." in key:  # placeholder ("custom") variables, like PostgreSQL's myext.option
            return key
        raise PgError("42704", f'unrecognized configuration parameter "{name}"')

    def get(self, name: str) -> str:
        key = self._check_known(name)
        if key in self._local:
            return self._local[key]
        if key in self._values:
            return self._values[key]
        raise PgError("42704", f'unrecognized configuration parameter "{name}"')

    def get_or_none(self, name: str) -> str | None:
        try:
            return self.get(name)
        except PgError:
            return None

    def __getitem__(self, name: str) -> str:
        return self.get(name)

    # -- changes -----------------------------------------------------------------------------
    def normalise(self, name: str, value: str) -> str:
        """Validate ``value`` for ``name`` and return it as SHOW would print it."""
        key = self._check_known(name)
        g = GUCS.get(key)
        if g is None:
            return value
        if g.name == "DateStyle":
            return _datestyle(value, self.get("DateStyle"))
        if g.normalise is not None:
            return g.normalise(value)
        if g.kind == "bool":
            return _bool(g.name, value)
        if g.kind == "time":
            return _time(g.name, value)
        if g.kind == "enum":
            v = value.strip().lower()
            if v not in g.choices:
                raise PgError(INVALID_PARAMETER_VALUE,
                              f'invalid value for parameter "{g.name}": "{value}"',
                              hint="Available values: " + ", ".join(g.choices) + ".")
            return v
        if g.kind == "integer":
            try:
                n = int(value.strip())
            except ValueError:
                raise PgError(INVALID_PARAMETER_VALUE,
                              f'invalid value for parameter "{g.name}": "{value}"') from None
            too_small = g.minimum is not None and n < g.minimum
            if too_small or (g.maximum is not None and n > g.maximum):
                raise PgError(INVALID_PARAMETER_VALUE,
                              f'{n} is outside the valid range for parameter "{g.name}" '
                              f"({int(g.minimum or 0)} .. {int(g.maximum or 0)})")
            return str(n)
        return value

    def set(self, name: str, value: str | None, local: bool = False) -> str:
        """SET name = value (``None`` means DEFAULT).  Returns the new value as SHOW prints it."""
        key = self._check_known(name)
        g = GUCS.get(key)
        if g is not None and g.fixed:
            raise PgError(CANT_CHANGE_RUNTIME_PARAM, f'parameter "{g.name}" cannot be changed')
        new = self._defaults.get(key, "") if value is None else self.normalise(name, value)
        if local:
            if self._snapshot is None:
                # SET LOCAL outside a transaction block has no effect (PostgreSQL warns).
                return new
            self._local[key] = new
        else:
            self._local.pop(key, None)
            self._values[key] = new
        self._note_change(key)
        return new

    def reset(self, name: str) -> None:
        key = self._check_known(name)
        g = GUCS.get(key)
        if g is not None and g.fixed:
            raise PgError(CANT_CHANGE_RUNTIME_PARAM, f'parameter "{g.name}" cannot be changed')
        self.set(name, None)

    def reset_all(self) -> None:
        for key, g in GUCS.items():
            if not g.fixed:
                self._local.pop(key, None)
                if self._values.get(key) != self._defaults.get(key):
                    self._values[key] = self._defaults[key]
                    self._note_change(key)
        for key in list(self._values):
            if key not in GUCS:
                self._values.pop(key)

    def _note_change(self, key: str) -> None:
        g = GUCS.get(key)
        if g is not None and g.name in REPORTED:
            self._pending[g.name] = None

    # -- transactions ------------------------------------------------------------------------
    def begin_transaction(self) -> None:
        """Call at BEGIN: SETs inside the block are undone by ROLLBACK, SET LOCALs end with it."""
        self._snapshot = dict(self._values)

    def end_transaction(self, commit: bool) -> None:
        if self._snapshot is None:
            return
        changed = set(self._local)
        if not commit:
            changed |= {k for k in self._values if self._values[k] != self._snapshot.get(k)}
            self._values = self._snapshot
        self._local.clear()
        self._snapshot = None
        for key in changed:
            self._note_change(key)

    # -- ParameterStatus ---------------------------------------------------------------------
    def apply_startup(self, params: Mapping[str, str]) -> None:
        """Apply the StartupMessage's parameters (not user/database/options/replication)."""
        user = params.get("user")
        if user and not self._defaults.get("session_authorization"):
            self._defaults["session_authorization"] = self._values["session_authorization"] = user
        for name, value in params.items():
            key = self._key(name)
            if key in ("user", "database", "replication") or key.startswith("_pq_."):
                continue
            if key == "session_authorization":  # set by the server from the authenticated user
                self._defaults[key] = self._values[key] = value
                continue
            if key == "options":
                for opt_name, opt_value in _parse_options(value):
                    self._apply_default(opt_name, opt_value)
                continue
            self._apply_default(name, value)
        self._pending.clear()
        self._reported = {n: self.get(n) for n in REPORTED}

    def _apply_default(self, name: str, value: str) -> None:
        key = self._check_known(name)
        g = GUCS.get(key)
        if g is not None and g.fixed:
            if key == "session_authorization":
                return
            raise PgError(CANT_CHANGE_RUNTIME_PARAM, f'parameter "{g.name}" cannot be changed')
        new = self.normalise(name, value)
        self._values[key] = new
        self._defaults[key] = new  # RESET returns to the connection's startup value, as in PG

    def startup_parameter_status(self) -> list[tuple[str, str]]:
        self._reported = {n: self.get(n) for n in REPORTED}
        self._pending.clear()
        return list(self._reported.items())

    def changed_parameters(self) -> list[tuple[str, str]]:
        """Reported parameters whose value changed since last asked (for ParameterStatus)."""
        out = []
        for name in self._pending:
            v = self.get(name)
            if self._reported.get(name) != v:
                self._reported[name] = v
                out.append((name, v))
        self._pending.clear()
        return out

    # -- helpers used by the catalog ---------------------------------------------------------
    def search_path(self) -> list[str]:
        """The search_path entries, unquoted (``$user`` kept literally)."""
        out = []
        for tok in _split_list(self.get("search_path")):
            out.append(tok[1:-1].replace('""', '"') if tok.startswith('"') else tok.lower())
        return out

    def show_all(self) -> list[tuple[str, str, str]]:
        rows = [(g.name, self.get(g.name), g.description) for g in _GUCS]
        rows.extend((k, v, "") for k, v in self._values.items() if k not in GUCS)
        rows.sort(key=lambda r: r[0].lower())
        return rows

    def pg_settings_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(name, setting, category, short_desc, vartype) for every known parameter."""
        out = []
        for g in _GUCS:
            vartype = {"time": "integer", "enum": "enum", "bool": "bool", "integer": "integer",
                       "real": "real"}.get(g.kind, "string")
            out.append((g.name, self.get(g.name), g.category, g.description, vartype))
        return out


def _parse_options(options: str) -> list[tuple[str, str]]:
    """``-c name=value`` / ``--name=value`` pairs of the startup ``options`` parameter."""
    out = []
    toks = re.findall(r"(?:\\.|\S)+", options)
    toks = [re.sub(r"\\(.)", r"\1", t) for t in toks]
    i = 0
    while i < len(toks):
        t = toks[i]
        arg = None
        if t == "-c" and i + 1 < len(toks):
            arg = toks[i + 1]
            i += 1
        elif t.startswith("-c") or t.startswith("--"):
            arg = t[2:]
        if arg and "=" in arg:
            n, v = arg.split("=", 1)
            out.append((n.replace("-", "_"), v))
        i += 1
    return out


def _split_list(value: str) -> list[str]:
    out, cur, q = [], "", False
    for ch in value:
        if ch == '"':
            q = not q
            cur += ch
        elif ch == "," and not q:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


# ---------------------------------------------------------------------------------------------
# SET / RESET / SHOW statements
# ---------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<estr>[eE]'(?:[^'\\]|\\.|'')*')
      | (?P<str>'(?:[^']|'')*')
      | (?P<qid>"(?:[^"]|"")*")
      | (?P<num>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*)
      | (?P<op>[=,])
    )""",
    re.X,
)
_COMMENT_RE = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


@dataclass
class _Tok:
    kind: str
    text: str  # raw
    value: str  # unquoted / case-folded


def _unescape_e(body: str) -> str:
    def rep(m: re.Match[str]) -> str:
        c = m.group(1)
        return {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(c, c)

    return re.sub(r"\\(.)", rep, body).replace("''", "'")


def _tokenize(sql: str) -> list[_Tok] | None:
    s = _COMMENT_RE.sub(" ", sql).strip().rstrip(";").strip()
    toks: list[_Tok] = []
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            if s[pos:].strip() == "":
                break
            return None
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "estr":
            toks.append(_Tok("str", text, _unescape_e(text[2:-1])))
        elif kind == "str":
            toks.append(_Tok("str", text, text[1:-1].replace("''", "'")))
        elif kind == "qid":
            toks.append(_Tok("qid", text, text[1:-1].replace('""', '"')))
        elif kind == "word":
            toks.append(_Tok("word", text, text.lower()))
        else:
            toks.append(_Tok(kind, text, text))
    return toks


_STARTS = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(set|reset|show)\b", re.I | re.S)


def is_settings_statement(sql: str) -> bool:
    return _STARTS.match(sql) is not None


def _words(toks: list[_Tok], i: int, *words: str) -> bool:
    if i + len(words) > len(toks):
        return False
    return all(toks[i + k].kind == "word" and toks[i + k].value == w for k, w in enumerate(words))


def _value_text(name: str, toks: list[_Tok]) -> str | None:
    """The SET value list as PostgreSQL flattens it; None for DEFAULT."""
    if len(toks) == 1 and toks[0].kind == "word" and toks[0].value == "default":
        return None
    parts: list[str] = []
    expect_value = True
    list_quote = name.lower() == "search_path"
    for t in toks:
        if t.kind == "op" and t.text == ",":
            if expect_value:
                raise PgError(SYNTAX_ERROR, 'syntax error at or near ","')
            expect_value = True
            continue
        if not expect_value or t.kind == "op":
            raise PgError(SYNTAX_ERROR, f'syntax error at or near "{t.text}"')
        if t.kind == "str" or t.kind == "qid" or t.kind == "word":
            parts.append(_quote_ident(t.value) if list_quote else t.value)
        else:
            parts.append(t.text)
        expect_value = False
    if expect_value:
        raise PgError(SYNTAX_ERROR, "syntax error at end of input")
    if len(parts) > 1 and name.lower() not in ("search_path", "datestyle") and "." not in name:
        raise PgError(INVALID_PARAMETER_VALUE, f"SET {name} takes only one argument")
    return ", ".join(parts)


def _transaction_modes(settings: Settings, toks: list[_Tok], prefix: str, local: bool) -> None:
    i = 0
    while i < len(toks):
        if toks[i].kind == "op" and toks[i].text == ",":
            i += 1
        elif _words(toks, i, "isolation", "level"):
            i += 2
            for lvl in (("read", "committed"), ("read", "uncommitted"), ("repeatable", "read"),
                        ("serializable",)):
                if _words(toks, i, *lvl):
                    settings.set(f"{prefix}transaction_isolation", " ".join(lvl), local=local)
                    i += len(lvl)
                    break
            else:
                raise PgError(SYNTAX_ERROR, "syntax error in transaction isolation level")
        elif _words(toks, i, "read", "only") or _words(toks, i, "read", "write"):
            settings.set(f"{prefix}transaction_read_only",
                         "on" if toks[i + 1].value == "only" else "off", local=local)
            i += 2
        elif _words(toks, i, "not", "deferrable"):
            settings.set(f"{prefix}transaction_deferrable", "off", local=local)
            i += 2
        elif _words(toks, i, "deferrable"):
            settings.set(f"{prefix}transaction_deferrable", "on", local=local)
            i += 1
        else:
            t = toks[i].text if i < len(toks) else ""
            raise PgError(SYNTAX_ERROR, f'syntax error at or near "{t}"')


def _show(settings: Settings, name: str) -> Result:
    if name.lower() == "all":
        cols = [ResultColumn("name", TEXT_OID), ResultColumn("setting", TEXT_OID),
                ResultColumn("description", TEXT_OID)]
        rows: list[tuple[object, ...]] = list(settings.show_all())
        return Result(cols, rows, "SHOW")
    value = settings.get(name)
    col = settings.canonical_name(name)
    return Result([ResultColumn(col, TEXT_OID)], [(value,)], "SHOW")


def execute_settings_statement(settings: Settings, sql: str) -> Result | None:
    """Answer SET/RESET/SHOW; ``None`` when ``sql`` is not a settings statement."""
    if not is_settings_statement(sql):
        return None
    toks = _tokenize(sql)
    if toks is None or not toks:
        return None
    head = toks[0].value
    rest = toks[1:]
    if head == "show":
        if not rest:
            raise PgError(SYNTAX_ERROR, "syntax error at end of input")
        if _words(rest, 0, "time", "zone") and len(rest) == 2:
            return _show(settings, "TimeZone")
        if _words(rest, 0, "transaction", "isolation", "level") and len(rest) == 3:
            return _show(settings, "transaction_isolation")
        if _words(rest, 0, "session", "authorization") and len(rest) == 2:
            return _show(settings, "session_authorization")
        if len(rest) == 1 and rest[0].kind in ("word", "qid"):
            return _show(settings, rest[0].value)
        raise PgError(SYNTAX_ERROR, f'syntax error at or near "{rest[-1].text}"')
    if head == "reset":
        if _words(rest, 0, "all") and len(rest) == 1:
            settings.reset_all()
        elif _words(rest, 0, "time", "zone") and len(rest) == 2:
            settings.reset("TimeZone")
        elif _words(rest, 0, "transaction", "isolation", "level") and len(rest) == 3:
            settings.reset("transaction_isolation")
        elif (_words(rest, 0, "session", "authorization") and len(rest) == 2) or (
            _words(rest, 0, "role") and len(rest) == 1
        ):
            pass  # nothing to reset: pggw has no SET ROLE / SET SESSION AUTHORIZATION
        elif len(rest) == 1 and rest[0].kind in ("word", "qid"):
            settings.reset(rest[0].value)
        else:
            raise PgError(SYNTAX_ERROR, "syntax error in RESET")
        return Result([], [], "RESET")
    # SET
    local = False
    if (rest and rest[0].kind == "word" and rest[0].value in ("session", "local")
            and not _words(rest, 0, "session", "characteristics")
            and not _words(rest, 0, "session", "authorization")):
        local = rest[0].value == "local"
        rest = rest[1:]
    if not rest:
        raise PgError(SYNTAX_ERROR, "syntax error at end of input")
    if _words(rest, 0, "session", "characteristics", "as", "transaction"):
        _transaction_modes(settings, rest[4:], "default_", False)
        return Result([], [], "SET")
    if _words(rest, 0, "transaction"):
        if _words(rest, 1, "snapshot"):
            raise PgError(FEATURE_NOT_SUPPORTED,
                          "SET TRANSACTION SNAPSHOT is not supported by pggw")
        _transaction_modes(settings, rest[1:], "", True)
        return Result([], [], "SET")
    if _words(rest, 0, "session", "authorization") or _words(rest, 0, "role"):
        raise PgError(FEATURE_NOT_SUPPORTED,
                      "SET ROLE and SET SESSION AUTHORIZATION are not supported by pggw")
    if _words(rest, 0, "time", "zone"):
        vt = rest[2:]
        if len(vt) == 1 and vt[0].kind == "word" and vt[0].value in ("local", "default"):
            settings.set("TimeZone", None, local=local)
        elif vt and vt[0].kind == "word" and vt[0].value == "interval":
            # INTERVAL '+02:00' [HOUR TO MINUTE]
            if len(vt) < 2 or vt[1].kind != "str" or any(t.kind != "word" for t in vt[2:]):
                raise PgError(SYNTAX_ERROR, "syntax error in SET TIME ZONE INTERVAL")
            m = re.match(r"^\s*([+-]?\d{1,2})(?::(\d{2}))?(?::00)?\s*$", vt[1].value)
            if not m:
                raise PgError(INVALID_PARAMETER_VALUE,
                              f'invalid interval value for time zone: "{vt[1].value}"')
            settings.set("TimeZone", m.group(1) + (":" + m.group(2) if m.group(2) else ""),
                         local=local)
        elif len(vt) == 1:
            settings.set("TimeZone", vt[0].value if vt[0].kind != "num" else vt[0].text,
                         local=local)
        else:
            raise PgError(SYNTAX_ERROR, "syntax error in SET TIME ZONE")
        return Result([], [], "SET")
    if _words(rest, 0, "names"):
        vt = rest[1:]
        settings.set("client_encoding", None if not vt else _value_text("client_encoding", vt),
                     local=local)
        return Result([], [], "SET")
    if _words(rest, 0, "schema"):
        if len(rest) != 2 or rest[1].kind != "str":
            raise PgError(SYNTAX_ERROR, "syntax error in SET SCHEMA")
        settings.set("search_path", _quote_ident(rest[1].value), local=local)
        return Result([], [], "SET")
    if _words(rest, 0, "seed"):
        raise PgError(FEATURE_NOT_SUPPORTED, "SET SEED is not supported by pggw")
    name_tok = rest[0]
    if name_tok.kind not in ("word", "qid"):
        raise PgError(SYNTAX_ERROR, f'syntax error at or near "{name_tok.text}"')
    name = name_tok.value
    if len(rest) < 2:
        raise PgError(SYNTAX_ERROR, "syntax error at end of input")
    sep = rest[1]
    if not ((sep.kind == "op" and sep.text == "=") or (sep.kind == "word" and sep.value == "to")):
        raise PgError(SYNTAX_ERROR, f'syntax error at or near "{sep.text}"')
    settings.set(name, _value_text(name, rest[2:]), local=local)
    return Result([], [], "SET")
