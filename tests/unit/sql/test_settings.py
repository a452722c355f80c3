"""Session settings: PostgreSQL 15 defaults, SET/RESET/SHOW and ParameterStatus reporting."""

from __future__ import annotations

import pytest

from pggw.sql.settings import (
    REPORTED,
    SERVER_VERSION,
    VERSION_STRING,
    Settings,
    execute_settings_statement,
    is_settings_statement,
)
from pggw.wire.errors import PgError


@pytest.fixture()
def s() -> Settings:
    st = Settings(user="alice")
    st.apply_startup({"user": "alice", "database": "alice"})
    return st


def run(s: Settings, sql: str) -> list[tuple[object, ...]]:
    r = execute_settings_statement(s, sql)
    assert r is not None
    return r.rows


def test_startup_parameter_status_matches_postgres_15(s: Settings) -> None:
    params = s.startup_parameter_status()
    assert [n for n, _ in params] == list(REPORTED)
    d = dict(params)
    assert d == {
        "application_name": "", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
        "default_transaction_read_only": "off", "in_hot_standby": "off",
        "integer_datetimes": "on", "IntervalStyle": "postgres", "is_superuser": "off",
        "server_encoding": "UTF8", "server_version": SERVER_VERSION,
        "session_authorization": "alice", "standard_conforming_strings": "on",
        "TimeZone": "UTC",
    }
    assert VERSION_STRING.startswith(f"PostgreSQL {SERVER_VERSION} ")
    assert s.get("server_version_num") == "150008"


@pytest.mark.parametrize("enc", ["utf-8", "UTF8", "unicode", "utf8", "UTF-8"])
def test_client_encoding_utf8_spellings(enc: str) -> None:
    s = Settings(user="u")
    s.apply_startup({"client_encoding": enc})
    assert s.get("client_encoding") == "UTF8"


@pytest.mark.parametrize("enc", ["LATIN1", "win1252", "EUC_JP"])
def test_other_client_encodings_are_refused(enc: str) -> None:
    with pytest.raises(PgError) as e:
        Settings(user="u").apply_startup({"client_encoding": enc})
    assert e.value.sqlstate == "22023"


def test_pgjdbc_startup_and_sets() -> None:
    s = Settings(user="u")
    s.apply_startup({"user": "u", "database": "u", "client_encoding": "UTF8",
                     "DateStyle": "ISO", "TimeZone": "Etc/UTC", "extra_float_digits": "2"})
    assert s.get("DateStyle") == "ISO, MDY"
    assert s.get("TimeZone") == "Etc/UTC"
    s.startup_parameter_status()
    run(s, "SET extra_float_digits = 3")
    run(s, "SET application_name = 'PostgreSQL JDBC Driver'")
    assert s.get("extra_float_digits") == "3"
    assert s.changed_parameters() == [("application_name", "PostgreSQL JDBC Driver")]
    assert s.changed_parameters() == []


def test_set_reported_parameter_reports_once(s: Settings) -> None:
    s.startup_parameter_status()
    run(s, "SET DateStyle = ISO, DMY")
    assert s.changed_parameters() == [("DateStyle", "ISO, DMY")]
    run(s, "SET DateStyle TO 'ISO, DMY'")
    assert s.changed_parameters() == []  # unchanged value: nothing to send
    run(s, "SET statement_timeout = 1000")  # not a reported parameter
    assert s.changed_parameters() == []


@pytest.mark.parametrize(("sql", "name", "value"), [
    ("SET search_path TO public, pggw", "search_path", "public, pggw"),
    ("SET search_path = \"$user\", public", "search_path", '"$user", public'),
    ("SET SCHEMA 'pggw'", "search_path", "pggw"),
    ("SET TIME ZONE 'Europe/Oslo'", "TimeZone", "Europe/Oslo"),
    ("SET TIME ZONE 'utc'", "TimeZone", "UTC"),
    ("SET TIME ZONE -5", "TimeZone", "<-05>+05"),
    ("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE", "TimeZone", "<+02>-02"),
    ("SET timezone = 'America/New_York'", "TimeZone", "America/New_York"),
    ("SET NAMES 'UTF8'", "client_encoding", "UTF8"),
    ("SET statement_timeout = 5000", "statement_timeout", "5s"),
    ("SET statement_timeout = '90s'", "statement_timeout", "90s"),
    ("SET lock_timeout TO '2min'", "lock_timeout", "2min"),
    ("SET SESSION application_name = myapp", "application_name", "myapp"),
    ("set application_name = 'Ünïcode app'", "application_name", "??n??code app"),
    ("SET standard_conforming_strings = on", "standard_conforming_strings", "on"),
    ("SET jit = false", "jit", "off"),
    ("SET client_min_messages TO WARNING", "client_min_messages", "warning"),
    ("SET bytea_output = 'hex'", "bytea_output", "hex"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
     "default_transaction_isolation", "serializable"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
     "default_transaction_read_only", "on"),
    ("SET pggw.ack = 'cdf'", "pggw.ack", "cdf"),
    ("SET pggw.ack_timeout = '30s'", "pggw.ack_timeout", "30s"),
    ("SET myext.option = 'x'", "myext.option", "x"),
    ("/* c */ SET -- x\n extra_float_digits = 2;", "extra_float_digits", "2"),
])
def test_set_forms(s: Settings, sql: str, name: str, value: str) -> None:
    r = execute_settings_statement(s, sql)
    assert r is not None and r.tag == "SET" and r.columns == []
    assert s.get(name) == value


@pytest.mark.parametrize(("sql", "state"), [
    ("SET no_such_param = 1", "42704"),
    ("SHOW no_such_param", "42704"),
    ("RESET no_such_param", "42704"),
    ("SET server_version = '16'", "55P02"),
    ("SET integer_datetimes = off", "55P02"),
    ("SET jit = maybe", "22023"),
    ("SET extra_float_digits = 9", "22023"),
    ("SET TimeZone = 'Mars/Olympus'", "22023"),
    ("SET client_encoding = 'LATIN1'", "22023"),
    ("SET DateStyle = 'German'", "0A000"),
    ("SET pggw.ack = 'never'", "22023"),
    ("SET statement_timeout = 'soon'", "22023"),
    ("SET ROLE admin", "0A000"),
    ("SET application_name", "42601"),
    ("SET application_name = ", "42601"),
])
def test_set_errors(s: Settings, sql: str, state: str) -> None:
    with pytest.raises(PgError) as e:
        execute_settings_statement(s, sql)
    assert e.value.sqlstate == state


def test_unknown_parameter_message(s: Settings) -> None:
    with pytest.raises(PgError) as e:
        s.get("x")
    assert e.value.message == 'unrecognized configuration parameter "x"'


@pytest.mark.parametrize(("sql", "column", "value"), [
    ("SHOW transaction isolation level", "transaction_isolation", "read committed"),
    ("show standard_conforming_strings", "standard_conforming_strings", "on"),
    ("SHOW DateStyle", "DateStyle", "ISO, MDY"),
    ("show datestyle", "DateStyle", "ISO, MDY"),
    ("SHOW TIME ZONE", "TimeZone", "UTC"),
    ("SHOW server_version_num", "server_version_num", "150008"),
    ("SHOW max_identifier_length", "max_identifier_length", "63"),
    ("SHOW is_superuser", "is_superuser", "off"),
    ("SHOW session authorization", "session_authorization", "alice"),
    ("SHOW search_path", "search_path", '"$user", public'),
    ("SHOW integer_datetimes;", "integer_datetimes", "on"),
    ("SHOW jit", "jit", "off"),
    ("SHOW pggw.ack", "pggw.ack", "wal"),
    ("SHOW lc_collate", "lc_collate", "C.UTF-8"),
])
def test_show(s: Settings, sql: str, column: str, value: str) -> None:
    r = execute_settings_statement(s, sql)
    assert r is not None
    assert r.tag == "SHOW"
    assert [(c.name, c.type_oid) for c in r.columns] == [(column, 25)]
    assert r.rows == [(value,)]


def test_show_all(s: Settings) -> None:
    r = execute_settings_statement(s, "SHOW ALL")
    assert r is not None
    assert [c.name for c in r.columns] == ["name", "setting", "description"]
    names = [row[0] for row in r.rows]
    assert "DateStyle" in names and "server_version" in names and "pggw.ack" in names
    assert names == sorted(names, key=str.lower)


def test_reset_and_reset_all(s: Settings) -> None:
    s.apply_startup({"application_name": "psql"})
    s.startup_parameter_status()
    run(s, "SET application_name = 'other'")
    run(s, "SET TimeZone = 'Europe/Oslo'")
    assert dict(s.changed_parameters()) == {"application_name": "other",
                                            "TimeZone": "Europe/Oslo"}
    run(s, "RESET application_name")
    assert s.changed_parameters() == [("application_name", "psql")]
    assert s.get("application_name") == "psql"  # back to the startup value, as in PostgreSQL
    run(s, "RESET ALL")
    assert s.get("TimeZone") == "UTC"
    assert dict(s.changed_parameters()) == {"TimeZone": "UTC"}
    r = execute_settings_statement(s, "RESET TIME ZONE")
    assert r is not None and r.tag == "RESET"
    s.set("search_path", "pggw")
    s.reset_all()
    assert s.get("search_path") == '"$user", public'


def test_set_local_and_rollback(s: Settings) -> None:
    s.startup_parameter_status()
    run(s, "SET LOCAL TimeZone = 'Europe/Oslo'")  # outside a transaction: no effect
    assert s.get("TimeZone") == "UTC"
    s.begin_transaction()
    run(s, "SET LOCAL TimeZone = 'Europe/Oslo'")
    run(s, "SET application_name = 'in-tx'")
    assert s.get("TimeZone") == "Europe/Oslo"
    s.end_transaction(commit=True)
    assert s.get("TimeZone") == "UTC"
    assert s.get("application_name") == "in-tx"
    s.begin_transaction()
    run(s, "SET application_name = 'rolled-back'")
    run(s, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert s.get("transaction_isolation") == "repeatable read"
    s.end_transaction(commit=False)
    assert s.get("application_name") == "in-tx"
    assert s.get("transaction_isolation") == "read committed"
    changed = dict(s.changed_parameters())
    assert changed == {"application_name": "in-tx"}


def test_startup_options_parameter() -> None:
    s = Settings(user="u")
    s.apply_startup({"options": "-c search_path=pggw -c statement_timeout=10s "
                                "--application-name=x"})
    assert s.get("search_path") == "pggw"
    assert s.get("statement_timeout") == "10s"
    assert s.get("application_name") == "x"
    assert s.search_path() == ["pggw"]


def test_search_path_helper(s: Settings) -> None:
    assert s.search_path() == ["$user", "public"]
    s.set("search_path", '"My Schema", public')
    assert s.search_path() == ["My Schema", "public"]


@pytest.mark.parametrize("sql", ["SELECT 1", "INSERT INTO t VALUES (1)", "setx", "BEGIN",
                                 "SELECT set_config('a', 'b', false)"])
def test_not_a_settings_statement(s: Settings, sql: str) -> None:
    assert not is_settings_statement(sql)
    assert execute_settings_statement(s, sql) is None


def test_session_authorization_from_startup() -> None:
    s = Settings()
    s.apply_startup({"user": "bob", "database": "bob"})
    assert s.get("session_authorization") == "bob"
    s = Settings()
    s.apply_startup({"application_name": "x", "session_authorization": "carol"})
    assert dict(s.startup_parameter_status())["session_authorization"] == "carol"
    with pytest.raises(PgError):
        execute_settings_statement(s, "SET session_authorization = 'mallory'")
