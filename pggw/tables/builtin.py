"""The built-in tables: one per CDF resource type, as Cognite's gateway 2.0 names them.

Each table is one declarative :class:`Table`.  Column names and types follow
the 2.0 gateway where it names them; the remaining columns are the CDF
resource's JSON fields in snake_case (``cdf=`` is the camelCase field, dotted
when nested).  Limits come from the CDF OpenAPI spec; what does not fit on a
column (metadata sizes, cross-column rules, per-request limits, the meaning
of each ``check=`` tag) is in :mod:`pggw.tables.limits`.

Conventions:

* ``read_only`` means an INSERT may never set the column (server-assigned:
  ``id``, ``created_time`` …).  Filtering on it (``UPDATE … WHERE id = 1``,
  ``DELETE … WHERE id = 1``) is still fine.
* ``*_external_id`` columns CDF does not accept natively have ``cdf=None``
  and ``resolves=`` naming the id column their value is resolved into
  (through ``/byids``) before upload; ``parent_external_id`` and the
  relationship/datapoint/sequence-row external ids are native CDF fields.
* ``min_value``/``max_value`` of ``timestamptz`` columns are epoch ms.
* ``batch_limit`` counts table rows: datapoints per request for the
  datapoint tables, rows per request for ``sequence_rows`` and ``raw_rows``.
"""

from __future__ import annotations

from pggw.tables.limits import (
    MAX_DATAPOINT_TIMESTAMP_MS,
    MAX_DATAPOINT_VALUE,
    MAX_ID,
    MIN_DATAPOINT_TIMESTAMP_MS,
    MIN_ID,
    RAW,
)
from pggw.tables.model import Column, Op, Table
from pggw.wire import types as T

# ---------------------------------------------------------------------------
# Operation sets

#: Resources with create, update and delete endpoints.  UPSERT is create, then
#: update on 409 "duplicated"; INSERT_IGNORE is create, 409 counted as done.
_CRUD = frozenset({Op.INSERT, Op.UPSERT, Op.INSERT_IGNORE, Op.UPDATE, Op.DELETE})
#: Writes that overwrite by key (datapoints, sequence rows, RAW rows): INSERT
#: and UPSERT are the same request; no update endpoint, no "do nothing".
_OVERWRITE = frozenset({Op.INSERT, Op.UPSERT, Op.DELETE})

_EXTERNAL_ID_MAX = 255
_RESOURCE_TYPES = ("asset", "timeSeries", "file", "event", "sequence")


# ---------------------------------------------------------------------------
# Column helpers for the fields many resources share


def _id(description: str = "CDF's internal id, assigned by CDF.") -> Column:
    return Column("id", T.INT8, cdf="id", read_only=True, description=description)


def _external_id(
    *, required: bool = False, references: str | None = None, description: str = ""
) -> Column:
    return Column(
        "external_id", T.VARCHAR, cdf="externalId", required=required,
        max_length=_EXTERNAL_ID_MAX, references=references,
        description=description or "The client's unique id of the item.",
    )


def _text(
    name: str, cdf: str, max_length: int | None, *, required: bool = False,
    updatable: bool = True, check: str | None = None, description: str = "",
) -> Column:
    return Column(
        name, T.VARCHAR, cdf=cdf, required=required, max_length=max_length,
        updatable=updatable, check=check, description=description,
    )


def _name(max_length: int, *, required: bool = False, updatable: bool = True) -> Column:
    return _text("name", "name", max_length, required=required, updatable=updatable)


def _description(max_length: int) -> Column:
    return _text("description", "description", max_length)


def _source(max_length: int = 128) -> Column:
    return _text("source", "source", max_length, description="The source system of the item.")


def _metadata() -> Column:
    return Column(
        "metadata", T.JSON, cdf="metadata", check="metadata",
        description="String → string map; limits in pggw.tables.limits.METADATA.",
    )


def _ref_id(name: str, cdf: str, table: str, *, min_value: int = MIN_ID) -> Column:
    """A reference by internal id (``asset_id`` → ``assetId``)."""
    return Column(
        name, T.INT8, cdf=cdf, references=table, min_value=min_value, max_value=MAX_ID,
        description=f"Internal id of the referenced {table} item.",
    )


def _ref_ids(name: str, cdf: str, table: str | None, *, max_items: int | None) -> Column:
    """A list of internal ids (``asset_ids`` → ``assetIds``)."""
    return Column(
        name, T.INT8_ARRAY, cdf=cdf, references=table, max_items=max_items,
        min_value=MIN_ID, max_value=MAX_ID,
    )


def _ref_external_id(name: str, table: str, resolves: str) -> Column:
    """A reference by external id that pggw resolves into the ``resolves`` column."""
    return Column(
        name, T.VARCHAR, max_length=_EXTERNAL_ID_MAX, references=table, resolves=resolves,
        description=f"External id of the referenced {table} item; resolved into {resolves}.",
    )


def _ref_external_ids(name: str, table: str, resolves: str, *, max_items: int | None) -> Column:
    return Column(
        name, T.VARCHAR_ARRAY, max_length=_EXTERNAL_ID_MAX, max_items=max_items,
        references=table, resolves=resolves,
        description=f"External ids of the referenced {table} items; resolved into {resolves}.",
    )


def _data_set() -> tuple[Column, Column]:
    return (
        _ref_id("data_set_id", "dataSetId", "data_sets"),
        _ref_external_id("data_set_external_id", "data_sets", "data_set_id"),
    )


def _asset() -> tuple[Column, Column]:
    return (
        _ref_id("asset_id", "assetId", "assets"),
        _ref_external_id("asset_external_id", "assets", "asset_id"),
    )


def _assets(max_items: int) -> tuple[Column, Column]:
    return (
        _ref_ids("asset_ids", "assetIds", "assets", max_items=max_items),
        _ref_external_ids("asset_external_ids", "assets", "asset_ids", max_items=max_items),
    )


def _labels() -> Column:
    return Column(
        "labels", T.VARCHAR_ARRAY, cdf="labels", max_length=_EXTERNAL_ID_MAX, max_items=10,
        references="labels", check="labels", description="External ids of label definitions.",
    )


def _geo_location() -> Column:
    return Column(
        "geo_location", T.JSON, cdf="geoLocation", check="geojson",
        description="A GeoJSON Feature.",
    )


def _time(name: str, cdf: str, *, min_value: int | None = 0, description: str = "") -> Column:
    """A writable epoch-ms time; CDF's ``EpochTimestamp`` is ≥ 1970-01-01."""
    return Column(name, T.TIMESTAMPTZ, cdf=cdf, min_value=min_value, description=description)


def _server_time(name: str, cdf: str, description: str = "") -> Column:
    return Column(name, T.TIMESTAMPTZ, cdf=cdf, read_only=True, description=description)


def _created_time() -> Column:
    return _server_time("created_time", "createdTime", "When CDF created the item.")


def _last_updated_time() -> Column:
    return _server_time("last_updated_time", "lastUpdatedTime", "When CDF last changed the item.")


def _created_and_updated() -> tuple[Column, Column]:
    return _created_time(), _last_updated_time()


# ---------------------------------------------------------------------------
# Resource tables

DATA_SETS = Table(
    name="data_sets",
    resource="datasets",
    description="Data sets (CDF has no delete; at most 10 per create request).",
    columns=(
        _id(),
        _external_id(),
        _name(50),
        _description(500),
        _metadata(),
        Column(
            "write_protected", T.BOOL, cdf="writeProtected",
            description="Writes need datasets:owner when true (default false).",
        ),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.INSERT_IGNORE, Op.UPDATE}),
    batch_limit=10,
)

LABELS = Table(
    name="labels",
    resource="labels",
    description="Label definitions (no update in CDF: change = delete and insert).",
    columns=(
        _external_id(required=True),
        _name(140, required=True),
        _description(500),
        # The 2.0 gateway types data_set_id BIGINT[]; CDF holds a single id.
        Column(
            "data_set_id", T.INT8_ARRAY, cdf="dataSetId", references="data_sets", max_items=1,
            min_value=MIN_ID, max_value=MAX_ID,
            description="The data set's internal id, as a one-element array.",
        ),
        Column(
            "data_set_external_id", T.VARCHAR_ARRAY, max_length=_EXTERNAL_ID_MAX, max_items=1,
            references="data_sets", resolves="data_set_id",
            description="The data set's external id, as a one-element array; "
            "resolved into data_set_id.",
        ),
        _created_time(),
    ),
    key=("external_id",),
    ops=frozenset({Op.INSERT, Op.INSERT_IGNORE, Op.DELETE}),
)

ASSETS = Table(
    name="assets",
    resource="assets",
    description="Assets: the hierarchy of equipment and places.",
    columns=(
        _id(),
        _external_id(),
        _name(140, required=True),
        _ref_id("parent_id", "parentId", "assets"),
        Column(
            "parent_external_id", T.VARCHAR, cdf="parentExternalId",
            max_length=_EXTERNAL_ID_MAX, references="assets",
            description="The parent asset's external id (CDF resolves it).",
        ),
        _description(500),
        *_data_set(),
        _metadata(),
        _source(),
        _labels(),
        _geo_location(),
        Column(
            "root_id", T.INT8, cdf="rootId", read_only=True, references="assets",
            description="The root of the asset's hierarchy, set by CDF.",
        ),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=_CRUD,
)

EVENTS = Table(
    name="events",
    resource="events",
    description="Events: things that happen over a time span, linked to assets.",
    columns=(
        _id(),
        _external_id(),
        *_data_set(),
        _time("start_time", "startTime"),
        _time("end_time", "endTime", description="Not before start_time."),
        _text("type", "type", 64),
        _text("subtype", "subtype", 64),
        _description(500),
        _metadata(),
        *_assets(max_items=10_000),
        _source(),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=_CRUD,
)

TIME_SERIES = Table(
    name="time_series",
    resource="timeseries",
    description="Time series metadata (the datapoints are in double_/string_datapoints).",
    columns=(
        _id(),
        _external_id(),
        _name(255),
        Column(
            "is_string", T.BOOL, cdf="isString", updatable=False,
            description="String (true) or numeric (false, the default) values; fixed at create.",
        ),
        _metadata(),
        _text("unit", "unit", 32, description="Free-text physical unit."),
        _text(
            "unit_external_id", "unitExternalId", 64,
            description="Unit from CDF's unit catalog (numeric time series only).",
        ),
        *_asset(),
        Column("is_step", T.BOOL, cdf="isStep", description="Step (true) or linear (false)."),
        _description(1000),
        _ref_ids("security_categories", "securityCategories", None, max_items=None),
        *_data_set(),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=_CRUD,
)


def _datapoints(name: str, value: Column, description: str) -> Table:
    return Table(
        name=name,
        resource="timeseries/data",
        description=description,
        columns=(
            Column(
                "id", T.INT8, cdf="id", references="time_series",
                min_value=MIN_ID, max_value=MAX_ID, description="The time series' internal id.",
            ),
            _external_id(references="time_series", description="The time series' external id."),
            Column(
                "timestamp", T.TIMESTAMPTZ, cdf="timestamp", required=True,
                min_value=MIN_DATAPOINT_TIMESTAMP_MS, max_value=MAX_DATAPOINT_TIMESTAMP_MS,
                check="datapoint_timestamp", description="Years 1900–2099, millisecond precision.",
            ),
            value,
            Column(
                "status_code", T.INT8, cdf="status.code", check="datapoint_status",
                description="Datapoint status code: 0 Good (default), 0x40000000 Uncertain, "
                "0x80000000 Bad.",
            ),
            Column(
                "status_symbol", T.VARCHAR, cdf="status.symbol", check="datapoint_status",
                description="Datapoint status name, e.g. 'Good'; must match status_code.",
            ),
        ),
        key=("external_id", "timestamp"),
        ops=_OVERWRITE,
        batch_limit=100_000,
    )


DOUBLE_DATAPOINTS = _datapoints(
    "double_datapoints",
    Column(
        "value", T.FLOAT8, cdf="value", check="datapoint_value",
        min_value=-MAX_DATAPOINT_VALUE, max_value=MAX_DATAPOINT_VALUE,
        description="Numeric value in (-1e100, 1e100); required unless the status is bad.",
    ),
    "Numeric datapoints; a write overwrites the point at the same timestamp; "
    "DELETE removes a time range.",
)

STRING_DATAPOINTS = _datapoints(
    "string_datapoints",
    Column(
        "value", T.VARCHAR, cdf="value", max_length=255, check="string_datapoint_value",
        description="String value; required unless the status is bad.",
    ),
    "String datapoints; a write overwrites the point at the same timestamp; "
    "DELETE removes a time range.",
)

#: Bytes pggw accepts per ``files.content`` value. CDF takes up to 5 GiB through one
#: upload URL, but pggw holds each value in memory (coercion, WAL chunk, upload) and in
#: SQLite (whose blobs stop at 1 GB), so it keeps values well below that; larger files go
#: through CDF's files API directly. A larger value is refused with SQLSTATE 54000.
MAX_FILE_CONTENT_BYTES = 64 * 2**20

FILES = Table(
    name="files",
    resource="files",
    description="Files: CDF creates one file per request, then pggw uploads the content "
    "column's bytes (if any) to the file's upload URL.",
    columns=(
        _id(),
        _external_id(),
        _name(256, required=True, updatable=False),
        _text(
            "directory", "directory", 512,
            description="Absolute, unix-style path of the directory holding the file.",
        ),
        _source(),
        _text("mime_type", "mimeType", 256, description="e.g. text/plain, application/pdf."),
        _metadata(),
        *_assets(max_items=1000),
        *_data_set(),
        _time("source_created_time", "sourceCreatedTime"),
        _time("source_modified_time", "sourceModifiedTime"),
        _ref_ids("security_categories", "securityCategories", None, max_items=100),
        _labels(),
        _geo_location(),
        Column(
            "uploaded", T.BOOL, cdf="uploaded", read_only=True,
            description="Whether the file's content has been uploaded.",
        ),
        _server_time("uploaded_time", "uploadedTime", "When the content was uploaded."),
        *_created_and_updated(),
        Column(
            "content", T.BYTEA, max_length=MAX_FILE_CONTENT_BYTES, updatable=False,
            description="The file's bytes (at most 64 MiB), uploaded after CDF created the "
            "file (PUT to its upload URL, Content-Type from mime_type). NULL: metadata only; "
            "CDF deletes a file whose content is not uploaded within one week.",
        ),
    ),
    key=("external_id",),
    ops=_CRUD,
    batch_limit=1,
)

SEQUENCES = Table(
    name="sequences",
    resource="sequences",
    description="Sequences: tables of rows indexed by row number (rows in sequence_rows).",
    columns=(
        _id(),
        _external_id(),
        _name(255),
        _description(1000),
        *_asset(),
        *_data_set(),
        _metadata(),
        Column(
            "columns", T.JSON, cdf="columns", required=True, max_items=400,
            check="sequence_columns",
            description="JSON array of {externalId, name, description, valueType, metadata}.",
        ),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=_CRUD,
)

SEQUENCE_ROWS = Table(
    name="sequence_rows",
    resource="sequences/data",
    description="Rows of sequences; a write overwrites the row with the same number.",
    columns=(
        Column(
            "id", T.INT8, cdf="id", references="sequences", min_value=MIN_ID, max_value=MAX_ID,
            description="The sequence's internal id.",
        ),
        _external_id(references="sequences", description="The sequence's external id."),
        Column(
            "row_number", T.INT8, cdf="rowNumber", required=True, min_value=0,
            description="The row's number (≥ 0).",
        ),
        Column(
            "values", T.JSON, cdf="values", required=True, check="sequence_row_values",
            description="JSON object: column external id → value.",
        ),
    ),
    key=("external_id", "row_number"),
    ops=_OVERWRITE,
    batch_limit=10_000,
)

RELATIONSHIPS = Table(
    name="relationships",
    resource="relationships",
    description="Relationships between assets, time series, files, events and sequences.",
    columns=(
        _external_id(required=True),
        _text(
            "source_external_id", "sourceExternalId", _EXTERNAL_ID_MAX, required=True,
            description="External id of the source item (of source_type).",
        ),
        Column(
            "source_type", T.VARCHAR, cdf="sourceType", required=True, choices=_RESOURCE_TYPES,
        ),
        _text(
            "target_external_id", "targetExternalId", _EXTERNAL_ID_MAX, required=True,
            description="External id of the target item (of target_type).",
        ),
        Column(
            "target_type", T.VARCHAR, cdf="targetType", required=True, choices=_RESOURCE_TYPES,
        ),
        _time("start_time", "startTime", description="When the relationship became active."),
        _time(
            "end_time", "endTime",
            description="When the relationship became inactive; after start_time.",
        ),
        Column(
            "confidence", T.FLOAT4, cdf="confidence", min_value=0, max_value=1,
            description="Confidence in the relationship, 0…1.",
        ),
        *_data_set(),
        _labels(),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=_CRUD,
)

RAW_ROWS = Table(
    name="raw_rows",
    resource="raw",
    description="Rows of any CDF RAW table; a write replaces the row with the same key.",
    columns=(
        Column(
            "_raw_database", T.VARCHAR, required=True, max_length=RAW.max_database_chars,
            description="RAW database (created when missing).",
        ),
        Column(
            "_raw_table", T.VARCHAR, required=True, max_length=RAW.max_table_chars,
            description="RAW table (created when missing).",
        ),
        Column(
            "_raw_key", T.TEXT, cdf="key", required=True, max_length=RAW.max_key_chars,
            description="The row key.",
        ),
        Column(
            "_raw_columns", T.JSON, cdf="columns", required=True, check="raw_columns",
            description="The row: a JSON object.",
        ),
        _server_time(
            "_raw_last_updated_time", "lastUpdatedTime", "When the row's content last changed.",
        ),
    ),
    key=("_raw_database", "_raw_table", "_raw_key"),
    ops=_OVERWRITE,
    batch_limit=RAW.max_rows_per_request,
)

EXTRACTION_PIPELINES = Table(
    name="extraction_pipelines",
    resource="extpipes",
    description="Extraction pipelines: registered data integrations and their contacts.",
    columns=(
        _id(),
        _external_id(required=True),
        _name(140, required=True),
        _description(500),
        # CDF requires dataSetId; data_set_external_id may stand in (limits.ROW_RULES).
        _ref_id("data_set_id", "dataSetId", "data_sets", min_value=0),
        _ref_external_id("data_set_external_id", "data_sets", "data_set_id"),
        Column(
            "raw_tables", T.JSON, cdf="rawTables", check="extpipe_raw_tables",
            description="JSON array of {dbName, tableName} the pipeline writes.",
        ),
        _text(
            "schedule", "schedule", None, check="extpipe_schedule",
            description="'On trigger', 'Continuous' or a cron expression.",
        ),
        Column(
            "contacts", T.JSON, cdf="contacts", check="extpipe_contacts",
            description="JSON array of {name, email, role, sendNotification}.",
        ),
        _metadata(),
        _source(255),
        _text("documentation", "documentation", 10_000, description="Markdown."),
        Column(
            "notification_config", T.JSON, cdf="notificationConfig",
            check="extpipe_notification_config",
            description="JSON object {allowedNotSeenRangeInMinutes}.",
        ),
        _text(
            "created_by", "createdBy", 255, updatable=False,
            description="Who created the pipeline, usually an email.",
        ),
        _server_time("last_success", "lastSuccess", "Time of the last successful run."),
        _server_time("last_failure", "lastFailure", "Time of the last failed run."),
        Column(
            "last_message", T.VARCHAR, cdf="lastMessage", read_only=True,
            description="Message of the last failed run.",
        ),
        _server_time("last_seen", "lastSeen", "Time of the last run of any status."),
        *_created_and_updated(),
    ),
    key=("external_id",),
    ops=_CRUD,
)

EXTRACTION_PIPELINE_RUNS = Table(
    name="extraction_pipeline_runs",
    resource="extpipes/runs",
    description="Status reports of extraction pipeline runs (insert only, one per request).",
    columns=(
        _id("The run's internal id, assigned by CDF."),
        _external_id(
            required=True, references="extraction_pipelines",
            description="The extraction pipeline's external id.",
        ),
        Column(
            "status", T.VARCHAR, cdf="status", required=True,
            choices=("success", "failure", "seen"),
        ),
        _text("message", "message", 1000),
        _time(
            "created_time", "createdTime", min_value=None,
            description="When the run happened (default: when CDF receives it).",
        ),
    ),
    key=("id",),
    ops=frozenset({Op.INSERT}),
    batch_limit=1,
)

# Parents before the tables that refer to them.
BUILTIN_TABLES: tuple[Table, ...] = (
    DATA_SETS,
    LABELS,
    ASSETS,
    EVENTS,
    TIME_SERIES,
    DOUBLE_DATAPOINTS,
    STRING_DATAPOINTS,
    FILES,
    SEQUENCES,
    SEQUENCE_ROWS,
    RELATIONSHIPS,
    RAW_ROWS,
    EXTRACTION_PIPELINES,
    EXTRACTION_PIPELINE_RUNS,
)
