"""CDF's rules that do not fit on one column: metadata limits, cross-column
rules, per-request limits, and the catalogue of ``Column.check`` tags.

Everything here is keyed by registry table name and taken from the CDF
OpenAPI spec (``cog-api.json``) unless a comment says otherwise.  Pure data:
the validators (and the uploader's batcher) read it, nothing here does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# ---------------------------------------------------------------------------
# Numbers shared by many columns

#: CDF internal ids (``CogniteInternalId``): 1 … 2**53 - 1.
MIN_ID = 1
MAX_ID = 9_007_199_254_740_991

#: Datapoint timestamps: 1900-01-01T00:00:00Z … 2099-12-31T23:59:59.999Z, epoch ms.
MIN_DATAPOINT_TIMESTAMP_MS = -2_208_988_800_000
MAX_DATAPOINT_TIMESTAMP_MS = 4_102_444_799_999

#: Numeric datapoint values lie in the *open* interval (-1e100, 1e100); as
#: inclusive bounds that is the largest double below 1e100.
MAX_DATAPOINT_VALUE = math.nextafter(1e100, 0.0)

#: Sequence DOUBLE values: the *closed* interval [-1e100, 1e100].
MAX_SEQUENCE_DOUBLE = 1e100

#: Extraction pipeline ``schedule``: "On trigger", "Continuous" or a cron
#: expression (the spec's pattern, verbatim).
EXTPIPE_SCHEDULE_PATTERN = (
    r"^(On trigger|Continuous)|(@(annually|yearly|monthly|weekly|daily|hourly|reboot))"
    r"|(@every (\d+(ns|us|µs|ms|s|m|h))+)"
    r"|((((\d+,)+\d+|(\d+([/\-])\d+)|\d+|\*(/\d+)?) ?){5,7})$"
)


# ---------------------------------------------------------------------------
# Metadata (check="metadata")


@dataclass(frozen=True)
class MetadataLimits:
    """Limits of a ``metadata`` object (string → string).

    Sizes are in UTF-8 bytes, as CDF states them; ``max_value_bytes`` is
    ``None`` where CDF only bounds the total.
    """

    max_pairs: int = 256
    max_key_bytes: int = 128
    max_value_bytes: int | None = 10_240
    max_total_bytes: int = 10_240


_STANDARD = MetadataLimits()  # assets, files, data sets, extraction pipelines
_TEN_THOUSAND = MetadataLimits(max_value_bytes=None, max_total_bytes=10_000)

#: Per table with a ``metadata`` column.
METADATA: Mapping[str, MetadataLimits] = MappingProxyType({
    "assets": _STANDARD,
    "events": MetadataLimits(max_value_bytes=128_000, max_total_bytes=200_000),
    "time_series": _TEN_THOUSAND,
    "files": _STANDARD,
    "sequences": _TEN_THOUSAND,
    "data_sets": _STANDARD,
    "extraction_pipelines": _STANDARD,
})

#: The ``metadata`` of each column inside ``sequences.columns``.
SEQUENCE_COLUMN_METADATA = _TEN_THOUSAND


# ---------------------------------------------------------------------------
# Rules spanning columns of one row


@dataclass(frozen=True)
class RowRules:
    """Cross-column rules of one table.

    ``one_of``: groups of columns of which an INSERT must set at least one
    (e.g. the time series a datapoint belongs to, by id or external id).
    ``at_most_one_of``: groups of columns of which a row may set only one.
    ``ordered``: ``(earlier, later, strict)``: when both are set, ``later`` must
    be ≥ ``earlier`` (> when ``strict``).
    """

    one_of: tuple[tuple[str, ...], ...] = ()
    at_most_one_of: tuple[tuple[str, ...], ...] = ()
    ordered: tuple[tuple[str, str, bool], ...] = ()


def _by_id_or_external_id(ref: str) -> tuple[str, ...]:
    return (f"{ref}_id", f"{ref}_external_id")


_DATASET = _by_id_or_external_id("data_set")
_IDENTITY = ("id", "external_id")
# Datapoints and sequence rows name their time series / sequence by one of these.
_DATAPOINT_RULES = RowRules(one_of=(_IDENTITY,), at_most_one_of=(_IDENTITY,))

ROW_RULES: Mapping[str, RowRules] = MappingProxyType({
    "assets": RowRules(at_most_one_of=(_by_id_or_external_id("parent"), _DATASET)),
    "events": RowRules(
        at_most_one_of=(_DATASET, ("asset_ids", "asset_external_ids")),
        ordered=(("start_time", "end_time", False),),
    ),
    "time_series": RowRules(at_most_one_of=(_DATASET, _by_id_or_external_id("asset"))),
    "double_datapoints": _DATAPOINT_RULES,
    "string_datapoints": _DATAPOINT_RULES,
    "files": RowRules(at_most_one_of=(_DATASET, ("asset_ids", "asset_external_ids"))),
    "sequences": RowRules(at_most_one_of=(_DATASET, _by_id_or_external_id("asset"))),
    "sequence_rows": _DATAPOINT_RULES,
    "labels": RowRules(at_most_one_of=(_DATASET,)),
    "relationships": RowRules(
        at_most_one_of=(_DATASET,), ordered=(("start_time", "end_time", True),)
    ),
    # CDF requires dataSetId; the external id may stand in for it.
    "extraction_pipelines": RowRules(one_of=(_DATASET,), at_most_one_of=(_DATASET,)),
})


def row_rules(table: str) -> RowRules:
    """The cross-column rules of ``table`` (none for tables not listed)."""
    return ROW_RULES.get(table, RowRules())


# ---------------------------------------------------------------------------
# Per-request limits beyond Table.batch_limit (the uploader's batcher)


@dataclass(frozen=True)
class DatapointLimits:
    max_points_per_request: int = 100_000  # across all series (= Table.batch_limit)
    max_series_per_request: int = 10_000
    max_delete_ranges_per_request: int = 10_000


@dataclass(frozen=True)
class SequenceRowLimits:
    max_rows_per_request: int = 10_000  # (= Table.batch_limit)
    max_values_per_request: int = 100_000  # nulls included
    max_sequences_per_request: int = 1_000
    max_columns_per_item: int = 200
    max_string_chars: int = 256
    max_abs_double: float = MAX_SEQUENCE_DOUBLE


@dataclass(frozen=True)
class SequenceColumnLimits:
    max_columns: int = 400
    max_string_columns: int = 200
    max_external_id_chars: int = 255
    max_name_chars: int = 255
    max_description_chars: int = 1000
    value_types: tuple[str, ...] = ("STRING", "DOUBLE", "LONG")  # default DOUBLE


@dataclass(frozen=True)
class RawLimits:
    max_rows_per_request: int = 10_000  # (= Table.batch_limit)
    max_key_chars: int = 1024
    max_row_bytes: int = 5 * 1024 * 1024  # all columns of a row
    max_column_name_chars: int = 2_621_440
    max_column_value_chars: int = 2_621_440
    max_database_chars: int = 32
    max_table_chars: int = 64


DATAPOINTS = DatapointLimits()
SEQUENCE_ROWS = SequenceRowLimits()
SEQUENCE_COLUMNS = SequenceColumnLimits()
RAW = RawLimits()


# ---------------------------------------------------------------------------
# The catalogue of check tags: every ``Column.check`` value the registry uses.

CHECKS: Mapping[str, str] = MappingProxyType({
    "metadata": "JSON object of string → string within METADATA[table] limits",
    "geojson": "GeoJSON Feature whose geometry is a Point, LineString, Polygon or Multi*",
    "labels": "array of label external ids (1–255 chars each, unique), sent as "
    '[{"externalId": …}]',
    "sequence_columns": "JSON array of {externalId, name, description, valueType, metadata} "
    "within SEQUENCE_COLUMNS limits",
    "sequence_row_values": "JSON object column external id → number | string | null, "
    "within SEQUENCE_ROWS limits; sent as columns[] + values[]",
    "datapoint_timestamp": "epoch ms within MIN/MAX_DATAPOINT_TIMESTAMP_MS",
    "datapoint_value": "finite, |v| < 1e100; null/NaN/±Infinity only with a bad status code",
    "string_datapoint_value": "≤ 255 characters; null only with a bad status code",
    "datapoint_status": "status code (int) / symbol (str); when both are given they must match",
    "raw_columns": "JSON object within RAW limits (row ≤ 5 MiB, names/values ≤ 2,621,440 chars)",
    "extpipe_raw_tables": "JSON array of {dbName, tableName} (both non-empty strings)",
    "extpipe_contacts": "JSON array of {name, email (≤254), role, sendNotification (bool)}",
    "extpipe_schedule": "matches EXTPIPE_SCHEDULE_PATTERN",
    "extpipe_notification_config": "JSON object {allowedNotSeenRangeInMinutes: int ≥ 0}",
    "json": "any JSON value",
})
