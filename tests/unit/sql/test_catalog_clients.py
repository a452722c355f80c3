# ruff: noqa: E501  (captured client queries are kept verbatim)
"""Catalog emulation against the catalog queries real clients send (captured from PostgreSQL 15).

The queries were captured with ``log_statement=all`` from psql 15 (``\\dt``, ``\\d``,
``\\d assets``, ``\\d+ assets``, ``\\dn``, ``\\di``, ``\\dt+``), SQLAlchemy 2.1 inspection with
psycopg2 and psycopg 3, psycopg 3 ``TypeInfo.fetch`` and pgjdbc 42.5 ``DatabaseMetaData``; the
Npgsql type-loading batch is rebuilt from npgsql's ``PostgresDatabaseInfo.cs``.
``test_catalog_vs_pg.py`` runs the same queries against a real PostgreSQL 15 and compares.
"""

from __future__ import annotations

from typing import Any

import pytest

from pggw.sql.catalog import Catalog, split_statements
from pggw.sql.result import Result
from pggw.sql.settings import Settings
from pggw.tables.registry import builtin_registry
from pggw.wire.errors import PgError

# (name, client, sql with {assets_oid} for the OID psql/SQLAlchemy got from an earlier query, params)
QUERIES: list[tuple[str, str, str, list[Any]]] = [
    ('psql_dt', 'psql',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      '     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n'
      "WHERE c.relkind IN ('r','p','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;'),
     []),
    ('psql_d', 'psql',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      '     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n'
      "WHERE c.relkind IN ('r','p','v','m','S','f','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;'),
     []),
    ('psql_d_lookup', 'psql',
     ('SELECT c.oid,\n'
      '  n.nspname,\n'
      '  c.relname\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      "WHERE c.relname OPERATOR(pg_catalog.~) '^(assets)$' COLLATE pg_catalog.default\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 2, 3;'),
     []),
    ('psql_d_table', 'psql',
     ('SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, '
      "c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', "
      "c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE "
      'c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, '
      'am.amname\n'
      'FROM pg_catalog.pg_class c\n'
      ' LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)\n'
      'LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)\n'
      "WHERE c.oid = '{assets_oid}';"),
     []),
    ('psql_d_columns', 'psql',
     ('SELECT a.attname,\n'
      '  pg_catalog.format_type(a.atttypid, a.atttypmod),\n'
      '  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n'
      '   FROM pg_catalog.pg_attrdef d\n'
      '   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n'
      '  a.attnotnull,\n'
      '  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n'
      '   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) '
      'AS attcollation,\n'
      '  a.attidentity,\n'
      '  a.attgenerated\n'
      'FROM pg_catalog.pg_attribute a\n'
      "WHERE a.attrelid = '{assets_oid}' AND a.attnum > 0 AND NOT a.attisdropped\n"
      'ORDER BY a.attnum;'),
     []),
    ('psql_d_indexes', 'psql',
     ('SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, '
      'pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),\n'
      '  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, '
      'i.indisreplident, c2.reltablespace\n'
      'FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i\n'
      '  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = '
      "i.indexrelid AND contype IN ('p','u','x'))\n"
      "WHERE c.oid = '{assets_oid}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid\n"
      'ORDER BY i.indisprimary DESC, c2.relname;'),
     []),
    ('psql_d_policies', 'psql',
     ('SELECT pol.polname, pol.polpermissive,\n'
      "  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select "
      "rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,\n"
      '  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),\n'
      '  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),\n'
      '  CASE pol.polcmd\n'
      "    WHEN 'r' THEN 'SELECT'\n"
      "    WHEN 'a' THEN 'INSERT'\n"
      "    WHEN 'w' THEN 'UPDATE'\n"
      "    WHEN 'd' THEN 'DELETE'\n"
      '    END AS cmd\n'
      'FROM pg_catalog.pg_policy pol\n'
      "WHERE pol.polrelid = '{assets_oid}' ORDER BY 1;"),
     []),
    ('psql_d_statistics', 'psql',
     ('SELECT oid, stxrelid::pg_catalog.regclass, '
      'stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,\n'
      'pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,\n'
      "  'd' = any(stxkind) AS ndist_enabled,\n"
      "  'f' = any(stxkind) AS deps_enabled,\n"
      "  'm' = any(stxkind) AS mcv_enabled,\n"
      'stxstattarget\n'
      'FROM pg_catalog.pg_statistic_ext\n'
      "WHERE stxrelid = '{assets_oid}'\n"
      'ORDER BY nsp, stxname;'),
     []),
    ('psql_d_publications', 'psql',
     ('SELECT pubname\n'
      '     , NULL\n'
      '     , NULL\n'
      'FROM pg_catalog.pg_publication p\n'
      '     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid\n'
      '     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid\n'
      "WHERE pc.oid ='{assets_oid}' and pg_catalog.pg_relation_is_publishable('{assets_oid}')\n"
      'UNION\n'
      'SELECT pubname\n'
      '     , pg_get_expr(pr.prqual, c.oid)\n'
      '     , (CASE WHEN pr.prattrs IS NOT NULL THEN\n'
      "         (SELECT string_agg(attname, ', ')\n"
      '           FROM pg_catalog.generate_series(0, '
      'pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,\n'
      '                pg_catalog.pg_attribute\n'
      '          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])\n'
      '        ELSE NULL END) FROM pg_catalog.pg_publication p\n'
      '     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid\n'
      '     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid\n'
      "WHERE pr.prrelid = '{assets_oid}'\n"
      'UNION\n'
      'SELECT pubname\n'
      '     , NULL\n'
      '     , NULL\n'
      'FROM pg_catalog.pg_publication p\n'
      "WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('{assets_oid}')\n"
      'ORDER BY 1;'),
     []),
    ('psql_d_parents', 'psql',
     ('SELECT c.oid::pg_catalog.regclass\n'
      'FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\n'
      "WHERE c.oid = i.inhparent AND i.inhrelid = '{assets_oid}'\n"
      "  AND c.relkind != 'p' AND c.relkind != 'I'\n"
      'ORDER BY inhseqno;'),
     []),
    ('psql_d_partitions', 'psql',
     ('SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, '
      'pg_catalog.pg_get_expr(c.relpartbound, c.oid)\n'
      'FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\n'
      "WHERE c.oid = i.inhrelid AND i.inhparent = '{assets_oid}'\n"
      "ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', "
      'c.oid::pg_catalog.regclass::pg_catalog.text;'),
     []),
    ('psql_dplus_table', 'psql',
     ('SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, '
      'c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '
      "pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from "
      "pg_catalog.unnest(tc.reloptions) x), ', ')\n"
      ", c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE "
      'c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, '
      'am.amname\n'
      'FROM pg_catalog.pg_class c\n'
      ' LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)\n'
      'LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)\n'
      "WHERE c.oid = '{assets_oid}';"),
     []),
    ('psql_dplus_columns', 'psql',
     ('SELECT a.attname,\n'
      '  pg_catalog.format_type(a.atttypid, a.atttypmod),\n'
      '  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n'
      '   FROM pg_catalog.pg_attrdef d\n'
      '   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n'
      '  a.attnotnull,\n'
      '  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n'
      '   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) '
      'AS attcollation,\n'
      '  a.attidentity,\n'
      '  a.attgenerated,\n'
      '  a.attstorage,\n'
      '  a.attcompression AS attcompression,\n'
      '  CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS attstattarget,\n'
      '  pg_catalog.col_description(a.attrelid, a.attnum)\n'
      'FROM pg_catalog.pg_attribute a\n'
      "WHERE a.attrelid = '{assets_oid}' AND a.attnum > 0 AND NOT a.attisdropped\n"
      'ORDER BY a.attnum;'),
     []),
    ('psql_dn', 'psql',
     ('SELECT n.nspname AS "Name",\n'
      '  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"\n'
      'FROM pg_catalog.pg_namespace n\n'
      "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'\n"
      'ORDER BY 1;'),
     []),
    ('psql_di', 'psql',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",\n'
      '  c2.relname as "Table"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      '     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n'
      '     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid\n'
      '     LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid\n'
      "WHERE c.relkind IN ('i','I','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;'),
     []),
    ('psql_dtplus', 'psql',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",\n'
      "  CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' WHEN 'u' THEN "
      '\'unlogged\' END as "Persistence",\n'
      '  am.amname as "Access method",\n'
      '  pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) as "Size",\n'
      '  pg_catalog.obj_description(c.oid, \'pg_class\') as "Description"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      '     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n'
      "WHERE c.relkind IN ('r','p','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;\n'),
     []),
    ('sa_psycopg2_hstore', 'sa2',
     ('SELECT t.oid, typarray\n'
      'FROM pg_type t JOIN pg_namespace ns\n'
      '    ON typnamespace = ns.oid\n'
      "WHERE typname = 'hstore';\n"),
     []),
    ('sa_version', 'sa2',
     'select pg_catalog.version()',
     []),
    ('sa_current_schema', 'sa2',
     'select current_schema()',
     []),
    ('sa_show_isolation', 'sa2',
     'show transaction isolation level',
     []),
    ('sa_show_scs', 'sa2',
     'show standard_conforming_strings',
     []),
    ('sa_has_table', 'sa2',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relname IN ('assets') AND pg_catalog.pg_class.relkind = ANY "
      "(ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
      "AND pg_catalog.pg_namespace.nspname != 'pg_catalog'"),
     []),
    ('sa_get_columns', 'sa2',
     ('SELECT pg_catalog.pg_attribute.attname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) '
      'AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT '
      'pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS '
      'pg_get_expr_1 \n'
      'FROM pg_catalog.pg_attrdef \n'
      'WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = '
      'pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = '
      'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
      'pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, '
      'pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS '
      "generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != '') THEN (SELECT "
      "json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', "
      "pg_catalog.pg_sequence.seqstart, 'increment', pg_catalog.pg_sequence.seqincrement, "
      "'minvalue', pg_catalog.pg_sequence.seqmin, 'maxvalue', pg_catalog.pg_sequence.seqmax, "
      "'cache', pg_catalog.pg_sequence.seqcache, 'cycle', pg_catalog.pg_sequence.seqcycle) AS "
      'json_build_object_1 \n'
      'FROM pg_catalog.pg_sequence \n'
      "WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = "
      'CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS '
      'REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS '
      'identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != 0 AND (SELECT '
      'pg_catalog.pg_type.typcollation \n'
      'FROM pg_catalog.pg_type \n'
      'WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != '
      "pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object('name', "
      "pg_catalog.pg_collation.collname, 'schema', CASE WHEN "
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n'
      'FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace \n'
      'WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS '
      'collation \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT '
      'pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND '
      'pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum'),
     []),
    ('sa_table_oids', 'sa2',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_get_pk_constraint', 'sa2',
     ('SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, '
      'attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, '
      'bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct \n'
      'FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS '
      'description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname \n'
      'FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, '
      'pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, '
      'generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts '
      'AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, '
      'pg_catalog.pg_description.description AS description \n'
      'FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid '
      '= pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      "pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) \n"
      "WHERE pg_catalog.pg_constraint.contype = 'p' AND pg_catalog.pg_constraint.conrelid IN "
      '({assets_oid})) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND '
      'pg_catalog.pg_attribute.attrelid = con.conrelid \n'
      'WHERE con.conrelid IN ({assets_oid})) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY '
      'attr.conrelid, attr.conname'),
     []),
    ('sa_get_unique_constraints', 'sa2',
     ('SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, '
      'attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, '
      'bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct \n'
      'FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS '
      'description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname \n'
      'FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, '
      'pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, '
      'generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts '
      'AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, '
      'pg_catalog.pg_description.description AS description \n'
      'FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid '
      '= pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      "pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) \n"
      "WHERE pg_catalog.pg_constraint.contype = 'u' AND pg_catalog.pg_constraint.conrelid IN "
      '({assets_oid})) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND '
      'pg_catalog.pg_attribute.attrelid = con.conrelid \n'
      'WHERE con.conrelid IN ({assets_oid})) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY '
      'attr.conrelid, attr.conname'),
     []),
    ('sa_am', 'sa2',
     ('SELECT pg_catalog.pg_am.oid, pg_catalog.pg_am.amname \n'
      'FROM pg_catalog.pg_am \n'
      "WHERE pg_catalog.pg_am.amname = 'btree'"),
     []),
    ('sa_opclass', 'sa2',
     ('SELECT pg_catalog.pg_opclass.oid, pg_catalog.pg_opclass.opcname \n'
      'FROM pg_catalog.pg_opclass \n'
      'WHERE NOT pg_catalog.pg_opclass.opcdefault'),
     []),
    ('sa_get_indexes', 'sa2',
     ('SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, '
      'pg_catalog.pg_index.indisunique, pg_catalog.pg_index.indisvalid, '
      'pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, '
      'pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, pg_catalog.pg_class.relam, '
      'CASE WHEN (pg_catalog.pg_index.indpred IS NOT NULL) THEN '
      'pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, pg_catalog.pg_index.indrelid) END AS '
      'filter_definition, pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, '
      'idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass \n'
      'FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON pg_catalog.pg_index.indexrelid = '
      'pg_catalog.pg_class.oid LEFT OUTER JOIN (SELECT idx_attr.indexrelid AS indexrelid, '
      'min(idx_attr.indrelid) AS min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS '
      'elements, array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, '
      'array_agg(idx_attr.att_opclass ORDER BY idx_attr.ord) AS elements_opclass \n'
      'FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, idx.ord AS ord, CASE '
      'WHEN (idx.attnum = 0) THEN pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + 1, true) '
      'ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, idx.attnum = 0 AS '
      'is_expr, CAST(idx.att_opclass AS BIGINT) AS att_opclass \n'
      'FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, pg_catalog.pg_index.indrelid AS '
      'indrelid, unnest(pg_catalog.pg_index.indkey) AS attnum, unnest(pg_catalog.pg_index.indclass) '
      'AS att_opclass, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord \n'
      'FROM pg_catalog.pg_index \n'
      'WHERE NOT pg_catalog.pg_index.indisprimary AND pg_catalog.pg_index.indrelid IN '
      '({assets_oid})) AS idx LEFT OUTER JOIN pg_catalog.pg_attribute ON '
      'pg_catalog.pg_attribute.attnum = idx.attnum AND pg_catalog.pg_attribute.attrelid = '
      'idx.indrelid \n'
      'WHERE idx.indrelid IN ({assets_oid})) AS idx_attr GROUP BY idx_attr.indexrelid) AS idx_cols '
      'ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT OUTER JOIN '
      'pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = pg_catalog.pg_constraint.conrelid '
      'AND pg_catalog.pg_index.indexrelid = pg_catalog.pg_constraint.conindid AND '
      "pg_catalog.pg_constraint.contype = ANY (ARRAY['p', 'u', 'x']) \n"
      'WHERE pg_catalog.pg_index.indrelid IN ({assets_oid}) AND NOT '
      'pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, '
      'pg_catalog.pg_class.relname'),
     []),
    ('sa_get_table_names', 'sa2',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND "
      "pg_catalog.pg_class.relpersistence != 't' AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog'"),
     []),
    ('sa_psycopg3_hstore', 'sa3',
     ('SELECT\n'
      '    typname AS name, oid, typarray AS array_oid,\n'
      '    oid::regtype::text AS regtype, typdelim AS delimiter\n'
      'FROM pg_type t\n'
      'WHERE t.oid = to_regtype($1)\n'
      'ORDER BY t.oid\n'),
     ['hstore']),
    ('sa_psycopg3_has_table', 'sa3',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relname IN ($1::VARCHAR) AND pg_catalog.pg_class.relkind = ANY '
      '(ARRAY[$2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR, $6::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $7::VARCHAR'),
     ['assets', 'r', 'p', 'f', 'v', 'm', 'pg_catalog']),
    ('sa_psycopg3_get_columns', 'sa3',
     ('SELECT pg_catalog.pg_attribute.attname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) '
      'AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT '
      'pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS '
      'pg_get_expr_1 \n'
      'FROM pg_catalog.pg_attrdef \n'
      'WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = '
      'pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = '
      'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
      'pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, '
      'pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS '
      'generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != $1::VARCHAR) THEN (SELECT '
      'json_build_object($2::VARCHAR, pg_catalog.pg_attribute.attidentity = $3::VARCHAR, '
      '$4::VARCHAR, pg_catalog.pg_sequence.seqstart, $5::VARCHAR, '
      'pg_catalog.pg_sequence.seqincrement, $6::VARCHAR, pg_catalog.pg_sequence.seqmin, '
      '$7::VARCHAR, pg_catalog.pg_sequence.seqmax, $8::VARCHAR, pg_catalog.pg_sequence.seqcache, '
      '$9::VARCHAR, pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 \n'
      'FROM pg_catalog.pg_sequence \n'
      'WHERE pg_catalog.pg_attribute.attidentity != $10::VARCHAR AND '
      'pg_catalog.pg_sequence.seqrelid = '
      'CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS '
      'REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS '
      'identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != $11::INTEGER AND '
      '(SELECT pg_catalog.pg_type.typcollation \n'
      'FROM pg_catalog.pg_type \n'
      'WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != '
      'pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object($12::VARCHAR, '
      'pg_catalog.pg_collation.collname, $13::VARCHAR, CASE WHEN '
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n'
      'FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace \n'
      'WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS '
      'collation \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > $14::SMALLINT AND '
      'NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND '
      'pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$15::VARCHAR, $16::VARCHAR, $17::VARCHAR, '
      '$18::VARCHAR, $19::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $20::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($21::VARCHAR) ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum'),
     ['', 'always', 'a', 'start', 'increment', 'minvalue', 'maxvalue', 'cache', 'cycle', '', '0', 'name', 'schema', '0', 'r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
    ('psycopg_typeinfo_hstore', 'psycopg',
     ('SELECT\n'
      '    typname AS name, oid, typarray AS array_oid,\n'
      '    oid::regtype::text AS regtype, typdelim AS delimiter\n'
      'FROM pg_type t\n'
      'WHERE t.oid = to_regtype($1)\n'
      'ORDER BY t.oid\n'),
     ['hstore']),
    ('psycopg_typeinfo_int4', 'psycopg',
     ('SELECT\n'
      '    typname AS name, oid, typarray AS array_oid,\n'
      '    oid::regtype::text AS regtype, typdelim AS delimiter\n'
      'FROM pg_type t\n'
      'WHERE t.oid = to_regtype($1)\n'
      'ORDER BY t.oid\n'),
     ['int4']),
    ('jdbc_get_tables', 'jdbc',
     ('SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname '
      "~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = "
      "'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM "
      "TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN "
      "n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' "
      "THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY "
      "TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN "
      "'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false "
      "THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN "
      "'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  "
      "WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE "
      "NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as "
      "TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM "
      'pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON '
      "(c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE "
      "c.relnamespace = n.oid  AND n.nspname LIKE 'public' AND c.relname LIKE 'assets' AND (false  "
      "OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) )  "
      'ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME '),
     []),
    ('jdbc_get_columns', 'jdbc',
     ('SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = '
      "'d' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER "
      "(PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as "
      "attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, "
      'def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace '
      'n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON '
      '(a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN '
      'pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN '
      'pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN '
      "pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN "
      "pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE "
      "c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname "
      "LIKE 'public' AND c.relname LIKE 'assets') c WHERE true  AND attname LIKE '%' ORDER BY "
      'nspname,c.relname,attnum '),
     []),
    ('jdbc_get_primary_keys', 'jdbc',
     ('SELECT        result.TABLE_CAT,        result.TABLE_SCHEM,        result.TABLE_NAME,        '
      'result.COLUMN_NAME,        result.KEY_SEQ,        result.PK_NAME FROM      (SELECT NULL AS '
      'TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,   '
      '(information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,   '
      'information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM FROM '
      'pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   JOIN '
      'pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON ( '
      'a.attrelid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE '
      "true  AND n.nspname = 'public' AND ct.relname = 'assets' AND i.indisprimary  ) result where  "
      'result.A_ATTNUM = (result.KEYS).x  ORDER BY result.table_name, result.pk_name, '
      'result.key_seq'),
     []),
    ('jdbc_get_index_info', 'jdbc',
     ('SELECT     tmp.TABLE_CAT,     tmp.TABLE_SCHEM,     tmp.TABLE_NAME,     tmp.NON_UNIQUE,     '
      'tmp.INDEX_QUALIFIER,     tmp.INDEX_NAME,     tmp.TYPE,     tmp.ORDINAL_POSITION,     '
      'trim(both \'"\' from pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS '
      "COLUMN_NAME,   CASE tmp.AM_NAME     WHEN 'btree' THEN CASE "
      "tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint       WHEN 1 THEN 'D'       ELSE "
      "'A'     END     ELSE NULL   END AS ASC_OR_DESC,     tmp.CARDINALITY,     tmp.PAGES,     "
      'tmp.FILTER_CONDITION FROM (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname '
      'AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE,   NULL AS INDEX_QUALIFIER, ci.relname AS '
      'INDEX_NAME,   CASE i.indisclustered     WHEN true THEN 1    ELSE CASE am.amname       WHEN '
      "'hash' THEN 2      ELSE 3    END   END AS TYPE,   "
      '(information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION,   ci.reltuples AS '
      'CARDINALITY,   ci.relpages AS PAGES,   pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS '
      'FILTER_CONDITION,   ci.oid AS CI_OID,   i.indoption AS I_INDOPTION,   am.amname AS AM_NAME '
      'FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   '
      'JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid '
      '= i.indexrelid)   JOIN pg_catalog.pg_am am ON (ci.relam = am.oid) WHERE true  AND n.nspname '
      "= 'public' AND ct.relname = 'assets' AND i.indisunique ) AS tmp ORDER BY NON_UNIQUE, TYPE, "
      'INDEX_NAME, ORDINAL_POSITION '),
     []),
    ('jdbc_get_schemas', 'jdbc',
     ('SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace  WHERE '
      "nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = "
      "(pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = "
      "replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY "
      'TABLE_SCHEM'),
     []),
    ('jdbc_get_all_tables', 'jdbc',
     ('SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname '
      "~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = "
      "'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM "
      "TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN "
      "n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' "
      "THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY "
      "TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN "
      "'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false "
      "THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN "
      "'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  "
      "WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE "
      "NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as "
      "TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM "
      'pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON '
      "(c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE "
      "c.relnamespace = n.oid  AND c.relname LIKE '%' ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME \n"),
     []),
    # more psql 15 meta-commands: \\l \\du \\dx \\dv \\dT \\dn+ \\dt public.* \\ds \\dm \\db \\dp \\dd \\dC \\df
    ('psql_l', 'psql2',
     ('SELECT d.datname as "Name",\n'
      '       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",\n'
      '       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",\n'
      '       d.datcollate as "Collate",\n'
      '       d.datctype as "Ctype",\n'
      '       d.daticulocale as "ICU Locale",\n'
      '       CASE d.datlocprovider WHEN \'c\' THEN \'libc\' WHEN \'i\' THEN \'icu\' END AS "Locale '
      'Provider",\n'
      '       pg_catalog.array_to_string(d.datacl, E\'\\n\') AS "Access privileges"\n'
      'FROM pg_catalog.pg_database d\n'
      'ORDER BY 1;'),
     []),
    ('psql_du', 'psql2',
     ('SELECT r.rolname, r.rolsuper, r.rolinherit,\n'
      '  r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,\n'
      '  r.rolconnlimit, r.rolvaliduntil,\n'
      '  ARRAY(SELECT b.rolname\n'
      '        FROM pg_catalog.pg_auth_members m\n'
      '        JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid)\n'
      '        WHERE m.member = r.oid) as memberof\n'
      ', r.rolreplication\n'
      ', r.rolbypassrls\n'
      'FROM pg_catalog.pg_roles r\n'
      "WHERE r.rolname !~ '^pg_'\n"
      'ORDER BY 1;'),
     []),
    ('psql_dx', 'psql2',
     ('SELECT e.extname AS "Name", e.extversion AS "Version", n.nspname AS "Schema", c.description '
      'AS "Description"\n'
      'FROM pg_catalog.pg_extension e LEFT JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace '
      'LEFT JOIN pg_catalog.pg_description c ON c.objoid = e.oid AND c.classoid = '
      "'pg_catalog.pg_extension'::pg_catalog.regclass\n"
      'ORDER BY 1;'),
     []),
    ('psql_dv', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      "WHERE c.relkind IN ('v','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;'),
     []),
    ('psql_dT', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  pg_catalog.format_type(t.oid, NULL) AS "Name",\n'
      '  pg_catalog.obj_description(t.oid, \'pg_type\') as "Description"\n'
      'FROM pg_catalog.pg_type t\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace\n'
      "WHERE (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = "
      't.typrelid))\n'
      '  AND NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = t.typelem AND '
      'el.typarray = t.oid)\n'
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_type_is_visible(t.oid)\n'
      'ORDER BY 1, 2;'),
     []),
    ('psql_dn_plus', 'psql2',
     ('SELECT n.nspname AS "Name",\n'
      '  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner",\n'
      '  pg_catalog.array_to_string(n.nspacl, E\'\\n\') AS "Access privileges",\n'
      '  pg_catalog.obj_description(n.oid, \'pg_namespace\') AS "Description"\n'
      'FROM pg_catalog.pg_namespace n\n'
      "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'\n"
      'ORDER BY 1;'),
     []),
    ('psql_dt_pattern', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      '     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n'
      "WHERE c.relkind IN ('r','p','t','s','')\n"
      "  AND n.nspname OPERATOR(pg_catalog.~) '^(public)$' COLLATE pg_catalog.default\n"
      'ORDER BY 1,2;'),
     []),
    ('psql_ds', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      "WHERE c.relkind IN ('S','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;'),
     []),
    ('psql_dm', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' "
      "THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END "
      'as "Type",\n'
      '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      '     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n'
      "WHERE c.relkind IN ('m','')\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname !~ '^pg_toast'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'ORDER BY 1,2;'),
     []),
    ('psql_db', 'psql2',
     ('SELECT spcname AS "Name",\n'
      '  pg_catalog.pg_get_userbyid(spcowner) AS "Owner",\n'
      '  pg_catalog.pg_tablespace_location(oid) AS "Location"\n'
      'FROM pg_catalog.pg_tablespace\n'
      'ORDER BY 1;'),
     []),
    ('psql_dp', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  c.relname as "Name",\n'
      "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized "
      "view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned "
      'table\' END as "Type",\n'
      '  pg_catalog.array_to_string(c.relacl, E\'\\n\') AS "Access privileges",\n'
      '  pg_catalog.array_to_string(ARRAY(\n'
      "    SELECT attname || E':\\n  ' || pg_catalog.array_to_string(attacl, E'\\n  ')\n"
      '    FROM pg_catalog.pg_attribute a\n'
      '    WHERE attrelid = c.oid AND NOT attisdropped AND attacl IS NOT NULL\n'
      '  ), E\'\\n\') AS "Column privileges",\n'
      '  pg_catalog.array_to_string(ARRAY(\n'
      '    SELECT polname\n'
      '    || CASE WHEN NOT polpermissive THEN\n'
      "       E' (RESTRICTIVE)'\n"
      "       ELSE '' END\n"
      "    || CASE WHEN polcmd != '*' THEN\n"
      "           E' (' || polcmd::pg_catalog.text || E'):'\n"
      "       ELSE E':'\n"
      '       END\n'
      '    || CASE WHEN polqual IS NOT NULL THEN\n'
      "           E'\\n  (u): ' || pg_catalog.pg_get_expr(polqual, polrelid)\n"
      "       ELSE E''\n"
      '       END\n'
      '    || CASE WHEN polwithcheck IS NOT NULL THEN\n'
      "           E'\\n  (c): ' || pg_catalog.pg_get_expr(polwithcheck, polrelid)\n"
      "       ELSE E''\n"
      "       END    || CASE WHEN polroles <> '{0}' THEN\n"
      "           E'\\n  to: ' || pg_catalog.array_to_string(\n"
      '               ARRAY(\n'
      '                   SELECT rolname\n'
      '                   FROM pg_catalog.pg_roles\n'
      '                   WHERE oid = ANY (polroles)\n'
      '                   ORDER BY 1\n'
      "               ), E', ')\n"
      "       ELSE E''\n"
      '       END\n'
      '    FROM pg_catalog.pg_policy pol\n'
      "    WHERE polrelid = c.oid), E'\\n')\n"
      '    AS "Policies"\n'
      'FROM pg_catalog.pg_class c\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      "WHERE c.relkind IN ('r','v','m','S','f','p')\n"
      "  AND c.relname OPERATOR(pg_catalog.~) '^(assets)$' COLLATE pg_catalog.default\n"
      "  AND n.nspname !~ '^pg_' AND pg_catalog.pg_table_is_visible(c.oid)\n"
      'ORDER BY 1, 2;'),
     []),
    ('psql_dd', 'psql2',
     ('SELECT DISTINCT tt.nspname AS "Schema", tt.name AS "Name", tt.object AS "Object", '
      'd.description AS "Description"\n'
      'FROM (\n'
      '  SELECT pgc.oid as oid, pgc.tableoid AS tableoid,\n'
      '  n.nspname as nspname,\n'
      "  CAST(pgc.conname AS pg_catalog.text) as name,  CAST('table constraint' AS pg_catalog.text) "
      'as object\n'
      '  FROM pg_catalog.pg_constraint pgc\n'
      '    JOIN pg_catalog.pg_class c ON c.oid = pgc.conrelid\n'
      '    LEFT JOIN pg_catalog.pg_namespace n     ON n.oid = c.relnamespace\n'
      "WHERE n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'UNION ALL\n'
      '  SELECT pgc.oid as oid, pgc.tableoid AS tableoid,\n'
      '  n.nspname as nspname,\n'
      "  CAST(pgc.conname AS pg_catalog.text) as name,  CAST('domain constraint' AS "
      'pg_catalog.text) as object\n'
      '  FROM pg_catalog.pg_constraint pgc\n'
      '    JOIN pg_catalog.pg_type t ON t.oid = pgc.contypid\n'
      '    LEFT JOIN pg_catalog.pg_namespace n     ON n.oid = t.typnamespace\n'
      "WHERE n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_type_is_visible(t.oid)\n'
      'UNION ALL\n'
      '  SELECT o.oid as oid, o.tableoid as tableoid,\n'
      '  n.nspname as nspname,\n'
      '  CAST(o.opcname AS pg_catalog.text) as name,\n'
      "  CAST('operator class' AS pg_catalog.text) as object\n"
      '  FROM pg_catalog.pg_opclass o\n'
      '    JOIN pg_catalog.pg_am am ON o.opcmethod = am.oid\n'
      '    JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace\n'
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_opclass_is_visible(o.oid)\n'
      'UNION ALL\n'
      '  SELECT opf.oid as oid, opf.tableoid as tableoid,\n'
      '  n.nspname as nspname,\n'
      '  CAST(opf.opfname AS pg_catalog.text) AS name,\n'
      "  CAST('operator family' AS pg_catalog.text) as object\n"
      '  FROM pg_catalog.pg_opfamily opf\n'
      '    JOIN pg_catalog.pg_am am ON opf.opfmethod = am.oid\n'
      '    JOIN pg_catalog.pg_namespace n ON opf.opfnamespace = n.oid\n'
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_opfamily_is_visible(opf.oid)\n'
      'UNION ALL\n'
      '  SELECT r.oid as oid, r.tableoid as tableoid,\n'
      '  n.nspname as nspname,\n'
      "  CAST(r.rulename AS pg_catalog.text) as name,  CAST('rule' AS pg_catalog.text) as object\n"
      '  FROM pg_catalog.pg_rewrite r\n'
      '       JOIN pg_catalog.pg_class c ON c.oid = r.ev_class\n'
      '       LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      "  WHERE r.rulename != '_RETURN'\n"
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      'UNION ALL\n'
      '  SELECT t.oid as oid, t.tableoid as tableoid,\n'
      '  n.nspname as nspname,\n'
      "  CAST(t.tgname AS pg_catalog.text) as name,  CAST('trigger' AS pg_catalog.text) as object\n"
      '  FROM pg_catalog.pg_trigger t\n'
      '       JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid\n'
      '       LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n'
      "WHERE n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      '  AND pg_catalog.pg_table_is_visible(c.oid)\n'
      ') AS tt\n'
      '  JOIN pg_catalog.pg_description d ON (tt.oid = d.objoid AND tt.tableoid = d.classoid AND '
      'd.objsubid = 0)\n'
      'ORDER BY 1, 2, 3;'),
     []),
    ('psql_dC', 'psql2',
     ('SELECT pg_catalog.format_type(castsource, NULL) AS "Source type",\n'
      '       pg_catalog.format_type(casttarget, NULL) AS "Target type",\n'
      "       CASE WHEN c.castmethod = 'b' THEN '(binary coercible)'\n"
      "            WHEN c.castmethod = 'i' THEN '(with inout)'\n"
      '            ELSE p.proname\n'
      '       END AS "Function",\n'
      "       CASE WHEN c.castcontext = 'e' THEN 'no'\n"
      "            WHEN c.castcontext = 'a' THEN 'in assignment'\n"
      "            ELSE 'yes'\n"
      '       END AS "Implicit?"\n'
      'FROM pg_catalog.pg_cast c LEFT JOIN pg_catalog.pg_proc p\n'
      '     ON c.castfunc = p.oid\n'
      '     LEFT JOIN pg_catalog.pg_type ts\n'
      '     ON c.castsource = ts.oid\n'
      '     LEFT JOIN pg_catalog.pg_namespace ns\n'
      '     ON ns.oid = ts.typnamespace\n'
      '     LEFT JOIN pg_catalog.pg_type tt\n'
      '     ON c.casttarget = tt.oid\n'
      '     LEFT JOIN pg_catalog.pg_namespace nt\n'
      '     ON nt.oid = tt.typnamespace\n'
      'WHERE ( (true  AND pg_catalog.pg_type_is_visible(ts.oid)\n'
      ') OR (true  AND pg_catalog.pg_type_is_visible(tt.oid)\n'
      ') )\n'
      'ORDER BY 1, 2;'),
     []),
    ('psql_df', 'psql2',
     ('SELECT n.nspname as "Schema",\n'
      '  p.proname as "Name",\n'
      '  pg_catalog.pg_get_function_result(p.oid) as "Result data type",\n'
      '  pg_catalog.pg_get_function_arguments(p.oid) as "Argument data types",\n'
      ' CASE p.prokind\n'
      "  WHEN 'a' THEN 'agg'\n"
      "  WHEN 'w' THEN 'window'\n"
      "  WHEN 'p' THEN 'proc'\n"
      "  ELSE 'func'\n"
      ' END as "Type"\n'
      'FROM pg_catalog.pg_proc p\n'
      '     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n'
      'WHERE pg_catalog.pg_function_is_visible(p.oid)\n'
      "      AND n.nspname <> 'pg_catalog'\n"
      "      AND n.nspname <> 'information_schema'\n"
      'ORDER BY 1, 2, 4;\n'),
     []),
    # SQLAlchemy 2.1 MetaData.reflect() and the other Inspector methods (psycopg2 and psycopg)
    ('sa_reflect_1', 'sqlalchemy',
     ('SELECT t.oid, typarray\n'
      'FROM pg_type t JOIN pg_namespace ns\n'
      '    ON typnamespace = ns.oid\n'
      "WHERE typname = 'hstore';\n"),
     []),
    ('sa_reflect_2', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND "
      "pg_catalog.pg_class.relpersistence != 't' AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog'"),
     []),
    ('sa_reflect_3', 'sqlalchemy',
     ('SELECT pg_catalog.pg_attribute.attname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) '
      'AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT '
      'pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS '
      'pg_get_expr_1 \n'
      'FROM pg_catalog.pg_attrdef \n'
      'WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = '
      'pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = '
      'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
      'pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, '
      'pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS '
      "generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != '') THEN (SELECT "
      "json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', "
      "pg_catalog.pg_sequence.seqstart, 'increment', pg_catalog.pg_sequence.seqincrement, "
      "'minvalue', pg_catalog.pg_sequence.seqmin, 'maxvalue', pg_catalog.pg_sequence.seqmax, "
      "'cache', pg_catalog.pg_sequence.seqcache, 'cycle', pg_catalog.pg_sequence.seqcycle) AS "
      'json_build_object_1 \n'
      'FROM pg_catalog.pg_sequence \n'
      "WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = "
      'CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS '
      'REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS '
      'identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != 0 AND (SELECT '
      'pg_catalog.pg_type.typcollation \n'
      'FROM pg_catalog.pg_type \n'
      'WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != '
      "pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object('name', "
      "pg_catalog.pg_collation.collname, 'schema', CASE WHEN "
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n'
      'FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace \n'
      'WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS '
      'collation \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT '
      'pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND '
      'pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum'),
     []),
    ('sa_reflect_4', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_reflect_5', 'sqlalchemy',
     ('SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, '
      'attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, '
      'bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct \n'
      'FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS '
      'description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname \n'
      'FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, '
      'pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, '
      'generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts '
      'AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, '
      'pg_catalog.pg_description.description AS description \n'
      'FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid '
      '= pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      "pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) \n"
      "WHERE pg_catalog.pg_constraint.contype = 'p' AND pg_catalog.pg_constraint.conrelid IN "
      '({assets_oid})) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND '
      'pg_catalog.pg_attribute.attrelid = con.conrelid \n'
      'WHERE con.conrelid IN ({assets_oid})) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY '
      'attr.conrelid, attr.conname'),
     []),
    ('sa_reflect_6', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, '
      'nsp_ref.nspname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      "= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'f' LEFT OUTER "
      'JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = pg_catalog.pg_constraint.confrelid LEFT '
      'OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid LEFT '
      'OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = '
      'pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = '
      "CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     []),
    ('sa_reflect_7', 'sqlalchemy',
     ('SELECT pg_catalog.pg_am.oid, pg_catalog.pg_am.amname \n'
      'FROM pg_catalog.pg_am \n'
      "WHERE pg_catalog.pg_am.amname = 'btree'"),
     []),
    ('sa_reflect_8', 'sqlalchemy',
     ('SELECT pg_catalog.pg_opclass.oid, pg_catalog.pg_opclass.opcname \n'
      'FROM pg_catalog.pg_opclass \n'
      'WHERE NOT pg_catalog.pg_opclass.opcdefault'),
     []),
    ('sa_reflect_9', 'sqlalchemy',
     ('SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, '
      'pg_catalog.pg_index.indisunique, pg_catalog.pg_index.indisvalid, '
      'pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, '
      'pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, pg_catalog.pg_class.relam, '
      'CASE WHEN (pg_catalog.pg_index.indpred IS NOT NULL) THEN '
      'pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, pg_catalog.pg_index.indrelid) END AS '
      'filter_definition, pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, '
      'idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass \n'
      'FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON pg_catalog.pg_index.indexrelid = '
      'pg_catalog.pg_class.oid LEFT OUTER JOIN (SELECT idx_attr.indexrelid AS indexrelid, '
      'min(idx_attr.indrelid) AS min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS '
      'elements, array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, '
      'array_agg(idx_attr.att_opclass ORDER BY idx_attr.ord) AS elements_opclass \n'
      'FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, idx.ord AS ord, CASE '
      'WHEN (idx.attnum = 0) THEN pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + 1, true) '
      'ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, idx.attnum = 0 AS '
      'is_expr, CAST(idx.att_opclass AS BIGINT) AS att_opclass \n'
      'FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, pg_catalog.pg_index.indrelid AS '
      'indrelid, unnest(pg_catalog.pg_index.indkey) AS attnum, unnest(pg_catalog.pg_index.indclass) '
      'AS att_opclass, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord \n'
      'FROM pg_catalog.pg_index \n'
      'WHERE NOT pg_catalog.pg_index.indisprimary AND pg_catalog.pg_index.indrelid IN '
      '({assets_oid})) AS idx LEFT OUTER JOIN pg_catalog.pg_attribute ON '
      'pg_catalog.pg_attribute.attnum = idx.attnum AND pg_catalog.pg_attribute.attrelid = '
      'idx.indrelid \n'
      'WHERE idx.indrelid IN ({assets_oid})) AS idx_attr GROUP BY idx_attr.indexrelid) AS idx_cols '
      'ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT OUTER JOIN '
      'pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = pg_catalog.pg_constraint.conrelid '
      'AND pg_catalog.pg_index.indexrelid = pg_catalog.pg_constraint.conindid AND '
      "pg_catalog.pg_constraint.contype = ANY (ARRAY['p', 'u', 'x']) \n"
      'WHERE pg_catalog.pg_index.indrelid IN ({assets_oid}) AND NOT '
      'pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, '
      'pg_catalog.pg_class.relname'),
     []),
    ('sa_reflect_10', 'sqlalchemy',
     ('SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, '
      'attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, '
      'bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct \n'
      'FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS '
      'description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname \n'
      'FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, '
      'pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, '
      'generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts '
      'AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, '
      'pg_catalog.pg_description.description AS description \n'
      'FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid '
      '= pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      "pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) \n"
      "WHERE pg_catalog.pg_constraint.contype = 'u' AND pg_catalog.pg_constraint.conrelid IN "
      '({assets_oid})) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND '
      'pg_catalog.pg_attribute.attrelid = con.conrelid \n'
      'WHERE con.conrelid IN ({assets_oid})) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY '
      'attr.conrelid, attr.conname'),
     []),
    ('sa_reflect_11', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_class.oid = pg_catalog.pg_description.objoid AND '
      'pg_catalog.pg_description.objsubid = 0 AND pg_catalog.pg_description.classoid = '
      "CAST('pg_catalog.pg_class' AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_reflect_12', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, '
      'pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      "= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'c' LEFT OUTER "
      'JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = '
      'pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = '
      "CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     []),
    ('sa_reflect_13', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname, pg_catalog.pg_class.reloptions, '
      'NULL AS relhasoids, CASE WHEN (pg_catalog.pg_am.amname IS NOT NULL AND '
      "pg_catalog.pg_am.amname != current_setting('default_table_access_method')) THEN "
      'pg_catalog.pg_am.amname ELSE NULL END AS access_method_name, '
      'pg_catalog.pg_tablespace.spcname AS tablespace_name, inherits.parent_table_names \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_am ON pg_catalog.pg_class.relam = '
      'pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT pg_catalog.pg_inherits.inhrelid AS inhrelid, '
      'array_agg(pg_catalog.pg_class.relname ORDER BY pg_catalog.pg_inherits.inhseqno) AS '
      'parent_table_names \n'
      'FROM pg_catalog.pg_inherits JOIN pg_catalog.pg_class ON pg_catalog.pg_inherits.inhparent = '
      'pg_catalog.pg_class.oid GROUP BY pg_catalog.pg_inherits.inhrelid) AS inherits ON '
      'pg_catalog.pg_class.oid = inherits.inhrelid LEFT OUTER JOIN pg_catalog.pg_tablespace ON '
      'pg_catalog.pg_tablespace.oid = pg_catalog.pg_class.reltablespace JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_reflect_14', 'sqlalchemy',
     ('SELECT pg_catalog.pg_namespace.nspname \n'
      'FROM pg_catalog.pg_namespace \n'
      "WHERE (pg_catalog.pg_namespace.nspname NOT LIKE 'pg/_' || '%' ESCAPE '/') ORDER BY "
      'pg_catalog.pg_namespace.nspname'),
     []),
    ('sa_reflect_15', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['v']) AND pg_catalog.pg_class.relpersistence "
      "!= 't' AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
      "pg_catalog.pg_namespace.nspname != 'pg_catalog'"),
     []),
    ('sa_reflect_16', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['S']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog'"),
     []),
    ('sa_reflect_17', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, '
      'nsp_ref.nspname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      "= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'f' LEFT OUTER "
      'JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = pg_catalog.pg_constraint.confrelid LEFT '
      'OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid LEFT '
      'OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = '
      'pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = '
      "CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     []),
    ('sa_reflect_18', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, '
      'pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      "= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'c' LEFT OUTER "
      'JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = '
      'pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = '
      "CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     []),
    ('sa_reflect_19', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_class.oid = pg_catalog.pg_description.objoid AND '
      'pg_catalog.pg_description.objsubid = 0 AND pg_catalog.pg_description.classoid = '
      "CAST('pg_catalog.pg_class' AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_reflect_20', 'sqlalchemy',
     ('SELECT pg_catalog.pg_type.typname AS name, '
      'pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AS visible, '
      'pg_catalog.pg_namespace.nspname AS schema, lbl_agg.labels AS labels \n'
      'FROM pg_catalog.pg_type JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_type.typnamespace LEFT OUTER JOIN (SELECT pg_catalog.pg_enum.enumtypid AS '
      'enumtypid, array_agg(CAST(pg_catalog.pg_enum.enumlabel AS TEXT) ORDER BY '
      'pg_catalog.pg_enum.enumsortorder) AS labels \n'
      'FROM pg_catalog.pg_enum GROUP BY pg_catalog.pg_enum.enumtypid) AS lbl_agg ON '
      'pg_catalog.pg_type.oid = lbl_agg.enumtypid \n'
      "WHERE pg_catalog.pg_type.typtype = 'e' AND "
      'pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AND pg_catalog.pg_namespace.nspname != '
      "'pg_catalog' ORDER BY pg_catalog.pg_namespace.nspname, pg_catalog.pg_type.typname"),
     []),
    ('sa_reflect_21', 'sqlalchemy',
     ('SELECT pg_catalog.pg_type.typname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_type.typbasetype, pg_catalog.pg_type.typtypmod) AS '
      'attype, NOT pg_catalog.pg_type.typnotnull AS nullable, pg_catalog.pg_type.typdefault AS '
      '"default", pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AS visible, '
      'pg_catalog.pg_namespace.nspname AS schema, domain_constraints.condefs, '
      'domain_constraints.connames, pg_catalog.pg_collation.collname, CASE WHEN '
      '(pg_catalog.pg_collation.oid IS NULL) THEN NULL WHEN '
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'collation_namespace.nspname END AS collation_schema \n'
      'FROM pg_catalog.pg_type JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_type.typnamespace LEFT OUTER JOIN pg_catalog.pg_collation ON '
      'pg_catalog.pg_type.typcollation = pg_catalog.pg_collation.oid LEFT OUTER JOIN '
      'pg_catalog.pg_namespace AS collation_namespace ON collation_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace LEFT OUTER JOIN (SELECT '
      'pg_catalog.pg_constraint.contypid AS contypid, '
      'array_agg(pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true)) AS condefs, '
      'array_agg(CAST(pg_catalog.pg_constraint.conname AS TEXT)) AS connames \n'
      'FROM pg_catalog.pg_constraint \n'
      'WHERE pg_catalog.pg_constraint.contypid != 0 GROUP BY pg_catalog.pg_constraint.contypid) AS '
      'domain_constraints ON pg_catalog.pg_type.oid = domain_constraints.contypid \n'
      "WHERE pg_catalog.pg_type.typtype = 'd' AND "
      'pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AND pg_catalog.pg_namespace.nspname != '
      "'pg_catalog' ORDER BY pg_catalog.pg_namespace.nspname, pg_catalog.pg_type.typname"),
     []),
    ('sa_reflect_22', 'sqlalchemy',
     ('SELECT pg_catalog.pg_namespace.nspname \n'
      'FROM pg_catalog.pg_namespace \n'
      "WHERE pg_catalog.pg_namespace.nspname = 'public'"),
     []),
    ('sa_reflect_23', 'sqlalchemy',
     ('SELECT pg_catalog.pg_attribute.attname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) '
      'AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT '
      'pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS '
      'pg_get_expr_1 \n'
      'FROM pg_catalog.pg_attrdef \n'
      'WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = '
      'pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = '
      'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
      'pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, '
      'pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS '
      "generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != '') THEN (SELECT "
      "json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', "
      "pg_catalog.pg_sequence.seqstart, 'increment', pg_catalog.pg_sequence.seqincrement, "
      "'minvalue', pg_catalog.pg_sequence.seqmin, 'maxvalue', pg_catalog.pg_sequence.seqmax, "
      "'cache', pg_catalog.pg_sequence.seqcache, 'cycle', pg_catalog.pg_sequence.seqcycle) AS "
      'json_build_object_1 \n'
      'FROM pg_catalog.pg_sequence \n'
      "WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = "
      'CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS '
      'REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS '
      'identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != 0 AND (SELECT '
      'pg_catalog.pg_type.typcollation \n'
      'FROM pg_catalog.pg_type \n'
      'WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != '
      "pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object('name', "
      "pg_catalog.pg_collation.collname, 'schema', CASE WHEN "
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n'
      'FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace \n'
      'WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS '
      'collation \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT '
      'pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND '
      'pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets') ORDER BY "
      'pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum'),
     []),
    ('sa_reflect_24', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_reflect_25', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname, pg_catalog.pg_class.reloptions, '
      'NULL AS relhasoids, CASE WHEN (pg_catalog.pg_am.amname IS NOT NULL AND '
      "pg_catalog.pg_am.amname != current_setting('default_table_access_method')) THEN "
      'pg_catalog.pg_am.amname ELSE NULL END AS access_method_name, '
      'pg_catalog.pg_tablespace.spcname AS tablespace_name, inherits.parent_table_names \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_am ON pg_catalog.pg_class.relam = '
      'pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT pg_catalog.pg_inherits.inhrelid AS inhrelid, '
      'array_agg(pg_catalog.pg_class.relname ORDER BY pg_catalog.pg_inherits.inhseqno) AS '
      'parent_table_names \n'
      'FROM pg_catalog.pg_inherits JOIN pg_catalog.pg_class ON pg_catalog.pg_inherits.inhparent = '
      'pg_catalog.pg_class.oid GROUP BY pg_catalog.pg_inherits.inhrelid) AS inherits ON '
      'pg_catalog.pg_class.oid = inherits.inhrelid LEFT OUTER JOIN pg_catalog.pg_tablespace ON '
      'pg_catalog.pg_tablespace.oid = pg_catalog.pg_class.reltablespace JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND "
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      "!= 'pg_catalog' AND pg_catalog.pg_class.relname IN ('assets')"),
     []),
    ('sa_reflect_26', 'sqlalchemy',
     ('SELECT\n'
      '    typname AS name, oid, typarray AS array_oid,\n'
      '    oid::regtype::text AS regtype, typdelim AS delimiter\n'
      'FROM pg_type t\n'
      'WHERE t.oid = to_regtype($1)\n'
      'ORDER BY t.oid\n'),
     ['hstore']),
    ('sa_reflect_27', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR]) AND '
      'pg_catalog.pg_class.relpersistence != $3::VARCHAR AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $4::VARCHAR'),
     ['r', 'p', 't', 'pg_catalog']),
    ('sa_reflect_28', 'sqlalchemy',
     ('SELECT pg_catalog.pg_attribute.attname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) '
      'AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT '
      'pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS '
      'pg_get_expr_1 \n'
      'FROM pg_catalog.pg_attrdef \n'
      'WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = '
      'pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = '
      'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
      'pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, '
      'pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS '
      'generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != $1::VARCHAR) THEN (SELECT '
      'json_build_object($2::VARCHAR, pg_catalog.pg_attribute.attidentity = $3::VARCHAR, '
      '$4::VARCHAR, pg_catalog.pg_sequence.seqstart, $5::VARCHAR, '
      'pg_catalog.pg_sequence.seqincrement, $6::VARCHAR, pg_catalog.pg_sequence.seqmin, '
      '$7::VARCHAR, pg_catalog.pg_sequence.seqmax, $8::VARCHAR, pg_catalog.pg_sequence.seqcache, '
      '$9::VARCHAR, pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 \n'
      'FROM pg_catalog.pg_sequence \n'
      'WHERE pg_catalog.pg_attribute.attidentity != $10::VARCHAR AND '
      'pg_catalog.pg_sequence.seqrelid = '
      'CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS '
      'REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS '
      'identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != $11::INTEGER AND '
      '(SELECT pg_catalog.pg_type.typcollation \n'
      'FROM pg_catalog.pg_type \n'
      'WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != '
      'pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object($12::VARCHAR, '
      'pg_catalog.pg_collation.collname, $13::VARCHAR, CASE WHEN '
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n'
      'FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace \n'
      'WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS '
      'collation \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > $14::SMALLINT AND '
      'NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND '
      'pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$15::VARCHAR, $16::VARCHAR, $17::VARCHAR]) '
      'AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $18::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($19::VARCHAR) ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum'),
     ['', 'always', 'a', 'start', 'increment', 'minvalue', 'maxvalue', 'cache', 'cycle', '', '0', 'name', 'schema', '0', 'r', 'p', 'f', 'pg_catalog', 'assets']),
    ('sa_reflect_29', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, $3::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $4::VARCHAR AND pg_catalog.pg_class.relname IN ($5::VARCHAR)'),
     ['r', 'p', 'f', 'pg_catalog', 'assets']),
    ('sa_reflect_30', 'sqlalchemy',
     ('SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, '
      'attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, '
      'bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct \n'
      'FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS '
      'description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname \n'
      'FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, '
      'pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, '
      'generate_subscripts(pg_catalog.pg_index.indkey, $1::INTEGER) AS ord, '
      'pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_description.description AS description \n'
      'FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid '
      '= pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      'pg_catalog.pg_description.classoid = CAST($2 AS REGCLASS) \n'
      'WHERE pg_catalog.pg_constraint.contype = $3::VARCHAR AND pg_catalog.pg_constraint.conrelid '
      'IN ($4)) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND '
      'pg_catalog.pg_attribute.attrelid = con.conrelid \n'
      'WHERE con.conrelid IN ($4)) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY '
      'attr.conrelid, attr.conname'),
     ['1', 'pg_constraint', 'p', '{assets_oid}']),
    ('sa_reflect_31', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS anon_1, '
      'nsp_ref.nspname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT '
      'OUTER JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = '
      'pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON '
      'cls_ref.relnamespace = nsp_ref.oid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      'pg_catalog.pg_description.classoid = CAST($3 AS REGCLASS) JOIN pg_catalog.pg_namespace ON '
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, $6::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $7::VARCHAR AND pg_catalog.pg_class.relname IN ($8::VARCHAR) ORDER BY '
      'pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     ['t', 'f', 'pg_constraint', 'r', 'p', 'f', 'pg_catalog', 'assets']),
    ('sa_reflect_32', 'sqlalchemy',
     ('SELECT pg_catalog.pg_am.oid, pg_catalog.pg_am.amname \n'
      'FROM pg_catalog.pg_am \n'
      'WHERE pg_catalog.pg_am.amname = $1::VARCHAR'),
     ['btree']),
    ('sa_reflect_33', 'sqlalchemy',
     ('SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, '
      'pg_catalog.pg_index.indisunique, pg_catalog.pg_index.indisvalid, '
      'pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, '
      'pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, pg_catalog.pg_class.relam, '
      'CASE WHEN (pg_catalog.pg_index.indpred IS NOT NULL) THEN '
      'pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, pg_catalog.pg_index.indrelid) END AS '
      'filter_definition, pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, '
      'idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass \n'
      'FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON pg_catalog.pg_index.indexrelid = '
      'pg_catalog.pg_class.oid LEFT OUTER JOIN (SELECT idx_attr.indexrelid AS indexrelid, '
      'min(idx_attr.indrelid) AS min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS '
      'elements, array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, '
      'array_agg(idx_attr.att_opclass ORDER BY idx_attr.ord) AS elements_opclass \n'
      'FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, idx.ord AS ord, CASE '
      'WHEN (idx.attnum = $1::INTEGER) THEN pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + '
      '$2::INTEGER, $3) ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, '
      'idx.attnum = $4::INTEGER AS is_expr, CAST(idx.att_opclass AS BIGINT) AS att_opclass \n'
      'FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, pg_catalog.pg_index.indrelid AS '
      'indrelid, unnest(pg_catalog.pg_index.indkey) AS attnum, unnest(pg_catalog.pg_index.indclass) '
      'AS att_opclass, generate_subscripts(pg_catalog.pg_index.indkey, $5::INTEGER) AS ord \n'
      'FROM pg_catalog.pg_index \n'
      'WHERE NOT pg_catalog.pg_index.indisprimary AND pg_catalog.pg_index.indrelid IN ($6)) AS idx '
      'LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_attribute.attnum = idx.attnum AND '
      'pg_catalog.pg_attribute.attrelid = idx.indrelid \n'
      'WHERE idx.indrelid IN ($6)) AS idx_attr GROUP BY idx_attr.indexrelid) AS idx_cols ON '
      'pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT OUTER JOIN '
      'pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = pg_catalog.pg_constraint.conrelid '
      'AND pg_catalog.pg_index.indexrelid = pg_catalog.pg_constraint.conindid AND '
      'pg_catalog.pg_constraint.contype = ANY (ARRAY[$7::VARCHAR, $8::VARCHAR, $9::VARCHAR]) \n'
      'WHERE pg_catalog.pg_index.indrelid IN ($6) AND NOT pg_catalog.pg_index.indisprimary ORDER BY '
      'pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname'),
     ['0', '1', 't', '0', '1', '{assets_oid}', 'p', 'u', 'x']),
    ('sa_reflect_34', 'sqlalchemy',
     ('SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, '
      'attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, '
      'bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct \n'
      'FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS '
      'description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname \n'
      'FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, '
      'pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, '
      'generate_subscripts(pg_catalog.pg_index.indkey, $1::INTEGER) AS ord, '
      'pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS '
      'indnullsnotdistinct, pg_catalog.pg_description.description AS description \n'
      'FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid '
      '= pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      'pg_catalog.pg_description.classoid = CAST($2 AS REGCLASS) \n'
      'WHERE pg_catalog.pg_constraint.contype = $3::VARCHAR AND pg_catalog.pg_constraint.conrelid '
      'IN ($4)) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND '
      'pg_catalog.pg_attribute.attrelid = con.conrelid \n'
      'WHERE con.conrelid IN ($4)) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY '
      'attr.conrelid, attr.conname'),
     ['1', 'pg_constraint', 'u', '{assets_oid}']),
    ('sa_reflect_35', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_class.oid = pg_catalog.pg_description.objoid AND '
      'pg_catalog.pg_description.objsubid = $1::INTEGER AND pg_catalog.pg_description.classoid = '
      'CAST($2 AS REGCLASS) JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$3::VARCHAR, $4::VARCHAR, $5::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $6::VARCHAR AND pg_catalog.pg_class.relname IN ($7::VARCHAR)'),
     ['0', 'pg_class', 'r', 'p', 'f', 'pg_catalog', 'assets']),
    ('sa_reflect_36', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS anon_1, '
      'pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT '
      'OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = '
      'pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST($3 AS REGCLASS) '
      'JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, $6::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $7::VARCHAR AND pg_catalog.pg_class.relname IN ($8::VARCHAR) ORDER BY '
      'pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     ['t', 'c', 'pg_constraint', 'r', 'p', 'f', 'pg_catalog', 'assets']),
    ('sa_reflect_37', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname, pg_catalog.pg_class.reloptions, '
      'NULL AS relhasoids, CASE WHEN (pg_catalog.pg_am.amname IS NOT NULL AND '
      'pg_catalog.pg_am.amname != current_setting($1::VARCHAR)) THEN pg_catalog.pg_am.amname ELSE '
      'NULL END AS access_method_name, pg_catalog.pg_tablespace.spcname AS tablespace_name, '
      'inherits.parent_table_names \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_am ON pg_catalog.pg_class.relam = '
      'pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT pg_catalog.pg_inherits.inhrelid AS inhrelid, '
      'array_agg(pg_catalog.pg_class.relname ORDER BY pg_catalog.pg_inherits.inhseqno) AS '
      'parent_table_names \n'
      'FROM pg_catalog.pg_inherits JOIN pg_catalog.pg_class ON pg_catalog.pg_inherits.inhparent = '
      'pg_catalog.pg_class.oid GROUP BY pg_catalog.pg_inherits.inhrelid) AS inherits ON '
      'pg_catalog.pg_class.oid = inherits.inhrelid LEFT OUTER JOIN pg_catalog.pg_tablespace ON '
      'pg_catalog.pg_tablespace.oid = pg_catalog.pg_class.reltablespace JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$2::VARCHAR, $3::VARCHAR, $4::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $5::VARCHAR AND pg_catalog.pg_class.relname IN ($6::VARCHAR)'),
     ['default_table_access_method', 'r', 'p', 'f', 'pg_catalog', 'assets']),
    ('sa_reflect_38', 'sqlalchemy',
     ('SELECT pg_catalog.pg_namespace.nspname \n'
      'FROM pg_catalog.pg_namespace \n'
      "WHERE (pg_catalog.pg_namespace.nspname NOT LIKE $1::VARCHAR || '%' ESCAPE '/') ORDER BY "
      'pg_catalog.pg_namespace.nspname'),
     ['pg/_']),
    ('sa_reflect_39', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR]) AND '
      'pg_catalog.pg_class.relpersistence != $2::VARCHAR AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $3::VARCHAR'),
     ['v', 't', 'pg_catalog']),
    ('sa_reflect_40', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR]) AND '
      'pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname '
      '!= $2::VARCHAR'),
     ['S', 'pg_catalog']),
    ('sa_reflect_41', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS anon_1, '
      'nsp_ref.nspname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT '
      'OUTER JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = '
      'pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON '
      'cls_ref.relnamespace = nsp_ref.oid LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND '
      'pg_catalog.pg_description.classoid = CAST($3 AS REGCLASS) JOIN pg_catalog.pg_namespace ON '
      'pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, $6::VARCHAR, '
      '$7::VARCHAR, $8::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $9::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($10::VARCHAR) ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     ['t', 'f', 'pg_constraint', 'r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
    ('sa_reflect_42', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN '
      '(pg_catalog.pg_constraint.oid IS NOT NULL) THEN '
      'pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS anon_1, '
      'pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT '
      'OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = '
      'pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST($3 AS REGCLASS) '
      'JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, $6::VARCHAR, '
      '$7::VARCHAR, $8::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $9::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($10::VARCHAR) ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname'),
     ['t', 'c', 'pg_constraint', 'r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
    ('sa_reflect_43', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.relname, pg_catalog.pg_description.description \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_class.oid = pg_catalog.pg_description.objoid AND '
      'pg_catalog.pg_description.objsubid = $1::INTEGER AND pg_catalog.pg_description.classoid = '
      'CAST($2 AS REGCLASS) JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$3::VARCHAR, $4::VARCHAR, $5::VARCHAR, '
      '$6::VARCHAR, $7::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $8::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($9::VARCHAR)'),
     ['0', 'pg_class', 'r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
    ('sa_reflect_44', 'sqlalchemy',
     ('SELECT pg_catalog.pg_type.typname AS name, '
      'pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AS visible, '
      'pg_catalog.pg_namespace.nspname AS schema, lbl_agg.labels AS labels \n'
      'FROM pg_catalog.pg_type JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_type.typnamespace LEFT OUTER JOIN (SELECT pg_catalog.pg_enum.enumtypid AS '
      'enumtypid, array_agg(CAST(pg_catalog.pg_enum.enumlabel AS TEXT) ORDER BY '
      'pg_catalog.pg_enum.enumsortorder) AS labels \n'
      'FROM pg_catalog.pg_enum GROUP BY pg_catalog.pg_enum.enumtypid) AS lbl_agg ON '
      'pg_catalog.pg_type.oid = lbl_agg.enumtypid \n'
      'WHERE pg_catalog.pg_type.typtype = $1::VARCHAR AND '
      'pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AND pg_catalog.pg_namespace.nspname != '
      '$2::VARCHAR ORDER BY pg_catalog.pg_namespace.nspname, pg_catalog.pg_type.typname'),
     ['e', 'pg_catalog']),
    ('sa_reflect_45', 'sqlalchemy',
     ('SELECT pg_catalog.pg_type.typname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_type.typbasetype, pg_catalog.pg_type.typtypmod) AS '
      'attype, NOT pg_catalog.pg_type.typnotnull AS nullable, pg_catalog.pg_type.typdefault AS '
      '"default", pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AS visible, '
      'pg_catalog.pg_namespace.nspname AS schema, domain_constraints.condefs, '
      'domain_constraints.connames, pg_catalog.pg_collation.collname, CASE WHEN '
      '(pg_catalog.pg_collation.oid IS NULL) THEN NULL WHEN '
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'collation_namespace.nspname END AS collation_schema \n'
      'FROM pg_catalog.pg_type JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_type.typnamespace LEFT OUTER JOIN pg_catalog.pg_collation ON '
      'pg_catalog.pg_type.typcollation = pg_catalog.pg_collation.oid LEFT OUTER JOIN '
      'pg_catalog.pg_namespace AS collation_namespace ON collation_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace LEFT OUTER JOIN (SELECT '
      'pg_catalog.pg_constraint.contypid AS contypid, '
      'array_agg(pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1)) AS condefs, '
      'array_agg(CAST(pg_catalog.pg_constraint.conname AS TEXT)) AS connames \n'
      'FROM pg_catalog.pg_constraint \n'
      'WHERE pg_catalog.pg_constraint.contypid != $2::INTEGER GROUP BY '
      'pg_catalog.pg_constraint.contypid) AS domain_constraints ON pg_catalog.pg_type.oid = '
      'domain_constraints.contypid \n'
      'WHERE pg_catalog.pg_type.typtype = $3::VARCHAR AND '
      'pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AND pg_catalog.pg_namespace.nspname != '
      '$4::VARCHAR ORDER BY pg_catalog.pg_namespace.nspname, pg_catalog.pg_type.typname'),
     ['t', '0', 'd', 'pg_catalog']),
    ('sa_reflect_46', 'sqlalchemy',
     ('SELECT pg_catalog.pg_namespace.nspname \n'
      'FROM pg_catalog.pg_namespace \n'
      'WHERE pg_catalog.pg_namespace.nspname = $1::VARCHAR'),
     ['public']),
    ('sa_reflect_47', 'sqlalchemy',
     ('SELECT pg_catalog.pg_attribute.attname AS name, '
      'pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) '
      'AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT '
      'pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS '
      'pg_get_expr_1 \n'
      'FROM pg_catalog.pg_attrdef \n'
      'WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = '
      'pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = '
      'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
      'pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, '
      'pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS '
      'generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != $1::VARCHAR) THEN (SELECT '
      'json_build_object($2::VARCHAR, pg_catalog.pg_attribute.attidentity = $3::VARCHAR, '
      '$4::VARCHAR, pg_catalog.pg_sequence.seqstart, $5::VARCHAR, '
      'pg_catalog.pg_sequence.seqincrement, $6::VARCHAR, pg_catalog.pg_sequence.seqmin, '
      '$7::VARCHAR, pg_catalog.pg_sequence.seqmax, $8::VARCHAR, pg_catalog.pg_sequence.seqcache, '
      '$9::VARCHAR, pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 \n'
      'FROM pg_catalog.pg_sequence \n'
      'WHERE pg_catalog.pg_attribute.attidentity != $10::VARCHAR AND '
      'pg_catalog.pg_sequence.seqrelid = '
      'CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS '
      'REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS '
      'identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != $11::INTEGER AND '
      '(SELECT pg_catalog.pg_type.typcollation \n'
      'FROM pg_catalog.pg_type \n'
      'WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != '
      'pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object($12::VARCHAR, '
      'pg_catalog.pg_collation.collname, $13::VARCHAR, CASE WHEN '
      'pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE '
      'pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n'
      'FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_collation.collnamespace \n'
      'WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS '
      'collation \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid '
      '= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > $14::SMALLINT AND '
      'NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON '
      'pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND '
      'pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$15::VARCHAR, $16::VARCHAR, $17::VARCHAR, '
      '$18::VARCHAR, $19::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $20::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($21::VARCHAR) ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum'),
     ['', 'always', 'a', 'start', 'increment', 'minvalue', 'maxvalue', 'cache', 'cycle', '', '0', 'name', 'schema', '0', 'r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
    ('sa_reflect_48', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n'
      'FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = '
      'pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, $3::VARCHAR, '
      '$4::VARCHAR, $5::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $6::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($7::VARCHAR)'),
     ['r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
    ('sa_reflect_49', 'sqlalchemy',
     ('SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname, pg_catalog.pg_class.reloptions, '
      'NULL AS relhasoids, CASE WHEN (pg_catalog.pg_am.amname IS NOT NULL AND '
      'pg_catalog.pg_am.amname != current_setting($1::VARCHAR)) THEN pg_catalog.pg_am.amname ELSE '
      'NULL END AS access_method_name, pg_catalog.pg_tablespace.spcname AS tablespace_name, '
      'inherits.parent_table_names \n'
      'FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_am ON pg_catalog.pg_class.relam = '
      'pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT pg_catalog.pg_inherits.inhrelid AS inhrelid, '
      'array_agg(pg_catalog.pg_class.relname ORDER BY pg_catalog.pg_inherits.inhseqno) AS '
      'parent_table_names \n'
      'FROM pg_catalog.pg_inherits JOIN pg_catalog.pg_class ON pg_catalog.pg_inherits.inhparent = '
      'pg_catalog.pg_class.oid GROUP BY pg_catalog.pg_inherits.inhrelid) AS inherits ON '
      'pg_catalog.pg_class.oid = inherits.inhrelid LEFT OUTER JOIN pg_catalog.pg_tablespace ON '
      'pg_catalog.pg_tablespace.oid = pg_catalog.pg_class.reltablespace JOIN '
      'pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n'
      'WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$2::VARCHAR, $3::VARCHAR, $4::VARCHAR, '
      '$5::VARCHAR, $6::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND '
      'pg_catalog.pg_namespace.nspname != $7::VARCHAR AND pg_catalog.pg_class.relname IN '
      '($8::VARCHAR)'),
     ['default_table_access_method', 'r', 'p', 'f', 'v', 'm', 'pg_catalog', 'assets']),
]

NPGSQL_LOAD_TYPES = """
SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid
FROM (
    -- Arrays have typtype=b - this subquery identifies them by their typreceive and converts their typtype to a
    -- We first do this for the type (innerest-most subquery), and then for its element type
    -- This also returns the array element, range subtype and domain base type as elemtypoid
    SELECT
        typ.oid, typ.typnamespace, typ.typname, typ.typtype, typ.typrelid, typ.typnotnull, typ.relkind,
        elemtyp.oid AS elemtypoid, elemtyp.typname AS elemtypname, elemcls.relkind AS elemrelkind,
        CASE WHEN elemproc.proname='array_recv' THEN 'a' ELSE elemtyp.typtype END AS elemtyptype
    FROM (
        SELECT typ.oid, typnamespace, typname, typrelid, typnotnull, relkind, typelem AS elemoid,
            CASE WHEN proc.proname='array_recv' THEN 'a' ELSE typ.typtype END AS typtype,
            CASE
                WHEN proc.proname='array_recv' THEN typ.typelem
                WHEN typ.typtype='r' THEN rngsubtype
                WHEN typ.typtype='m' THEN (SELECT rngtypid FROM pg_range WHERE rngmultitypid = typ.oid)
                WHEN typ.typtype='d' THEN typ.typbasetype
            END AS elemtypoid
        FROM pg_type AS typ
        LEFT JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
        LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive
        LEFT JOIN pg_range ON (pg_range.rngtypid = typ.oid)
    ) AS typ
    LEFT JOIN pg_type AS elemtyp ON elemtyp.oid = elemtypoid
    LEFT JOIN pg_class AS elemcls ON (elemcls.oid = elemtyp.typrelid)
    LEFT JOIN pg_proc AS elemproc ON elemproc.oid = elemtyp.typreceive
) AS t
JOIN pg_namespace AS ns ON (ns.oid = typnamespace)
WHERE
    typtype IN ('b', 'r', 'm', 'e', 'd') OR -- Base, range, multirange, enum, domain
    (typtype = 'c' AND relkind='c') OR -- User-defined free-standing composites (not table composites) by default
    (typtype = 'p' AND typname IN ('record', 'void')) OR -- Some special supported pseudo-types
    (typtype = 'a' AND (  -- Array of...
        elemtyptype IN ('b', 'r', 'm', 'e', 'd') OR -- Array of base, range, multirange, enum, domain
        (elemtyptype = 'p' AND elemtypname IN ('record', 'void')) OR -- Arrays of special supported pseudo-types
        (elemtyptype = 'c' AND elemrelkind='c') -- Array of user-defined free-standing composites (not table composites) by default
    ))
ORDER BY CASE
       WHEN typtype IN ('b', 'e', 'p') THEN 0           -- First base types, enums, pseudo-types
       WHEN typtype = 'r' THEN 1                        -- Ranges after
       WHEN typtype = 'm' THEN 2                        -- Multiranges after
       WHEN typtype = 'c' THEN 3                        -- Composites after
       WHEN typtype = 'd' AND elemtyptype <> 'a' THEN 4 -- Domains over non-arrays after
       WHEN typtype = 'a' THEN 5                        -- Arrays after
       WHEN typtype = 'd' AND elemtyptype = 'a' THEN 6  -- Domains over arrays last
END;"""

NPGSQL_LOAD_COMPOSITES = """
-- Load field definitions for (free-standing) composite types
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  attnum > 0 AND     -- Don't load system attributes
  NOT attisdropped
ORDER BY typ.oid, att.attnum;"""

NPGSQL_LOAD_ENUMS = """
-- Load enum fields
SELECT pg_type.oid, enumlabel
FROM pg_enum
JOIN pg_type ON pg_type.oid=enumtypid
ORDER BY oid, enumsortorder;"""


def npgsql_batch(newline: str = "\n") -> str:
    """The one simple Query Npgsql (and so Azure Data Factory) sends on its first connection:
    StringBuilder.AppendLine of four statements (src/Npgsql/PostgresDatabaseInfo.cs)."""
    parts = ["SELECT version();", NPGSQL_LOAD_TYPES, NPGSQL_LOAD_COMPOSITES, NPGSQL_LOAD_ENUMS]
    return "".join(p.replace("\n", newline) + newline for p in parts)


def asyncpg_lookup_types() -> str | None:
    """asyncpg's type introspection query (sent for OIDs it has no codec for)."""
    try:
        from asyncpg import introspection
    except ImportError:
        return None
    return str(introspection.INTRO_LOOKUP_TYPES)


@pytest.fixture()
def catalog() -> Catalog:
    return Catalog(builtin_registry(), user="alice", database="alice",
                   settings=Settings(user="alice"))


def with_oid(sql: str, params: list[Any], oid: int) -> tuple[str, list[Any]]:
    """Put the OID of assets where the captured query had it (in the text or a parameter)."""
    return (sql.replace("{assets_oid}", str(oid)),
            [str(oid) if p == "{assets_oid}" else p for p in params])


def _run(catalog: Catalog, sql: str, params: list[Any] | None = None) -> Result:
    return catalog.query(*with_oid(sql, params or [], catalog.registry["assets"].oid))


@pytest.mark.parametrize(("name", "client", "sql", "params"), QUERIES,
                         ids=[q[0] for q in QUERIES])
def test_client_query_runs(catalog: Catalog, name: str, client: str, sql: str,
                           params: list[Any]) -> None:
    res = _run(catalog, sql, params)
    sql, params = with_oid(sql, params, catalog.registry["assets"].oid)
    assert res.columns
    assert res.tag == f"SELECT {len(res.rows)}" or res.tag == "SHOW"
    for row in res.rows:
        assert len(row) == len(res.columns)
    # describe agrees with execution and never needs parameter values
    if not sql.lower().startswith("show"):
        _, cols = catalog.describe(sql, [])
        assert cols == res.columns


def _by_name(queries: list[tuple[str, str, str, list[Any]]], name: str) -> tuple[str, list[Any]]:
    for n, _c, sql, params in queries:
        if n == name:
            return sql, params
    raise KeyError(name)


def test_psql_dt_lists_every_public_table(catalog: Catalog) -> None:
    res = _run(catalog, *_by_name(QUERIES, "psql_dt"))
    assert [c.name for c in res.columns] == ["Schema", "Name", "Type", "Owner"]
    public = sorted(t.name for t in catalog.registry.values() if t.schema == "public")
    assert [r[1] for r in res.rows] == public
    assert {r[0] for r in res.rows} == {"public"}
    assert {r[2] for r in res.rows} == {"table"}
    assert {r[3] for r in res.rows} == {"alice"}


def test_psql_describe_assets_follows_the_registry(catalog: Catalog) -> None:
    assets = catalog.registry["assets"]
    lookup = _run(catalog, *_by_name(QUERIES, "psql_d_lookup"))
    assert lookup.rows == [(assets.oid, "public", "assets")]
    assert [c.type_oid for c in lookup.columns] == [26, 19, 19]
    cols = _run(catalog, *_by_name(QUERIES, "psql_d_columns"))
    assert [r[0] for r in cols.rows] == [c.name for c in assets.columns]
    by_name = {r[0]: r for r in cols.rows}
    for c in assets.columns:
        assert by_name[c.name][3] is c.required
        if c.type.name == "varchar" and c.max_length:
            assert by_name[c.name][1] == f"character varying({c.max_length})"
    idx = _run(catalog, *_by_name(QUERIES, "psql_d_indexes"))
    keys = ", ".join(assets.key)
    assert idx.rows[0][0] == f"assets_{'_'.join(assets.key)}_key"
    assert idx.rows[0][2] is True  # indisunique
    assert idx.rows[0][5].endswith(f"USING btree ({keys})")
    assert idx.rows[0][6] == f"UNIQUE ({keys})"


def test_sqlalchemy_has_table_and_get_columns(catalog: Catalog) -> None:
    sql, params = _by_name(QUERIES, "sa_psycopg3_has_table")
    assert _run(catalog, sql, params).rows == [("assets",)]
    assert _run(catalog, sql, ["no_such_table", *params[1:]]).rows == []
    cols = _run(catalog, *_by_name(QUERIES, "sa_get_columns"))
    names = [r[0] for r in cols.rows]
    assert names == [c.name for c in catalog.registry["assets"].columns]
    uniq = _run(catalog, *_by_name(QUERIES, "sa_get_unique_constraints"))
    assert uniq.rows[0][1] == list(catalog.registry["assets"].key)


def test_jdbc_get_tables_and_columns(catalog: Catalog) -> None:
    tables = _run(catalog, *_by_name(QUERIES, "jdbc_get_tables"))
    assert [(r[1], r[2], r[3]) for r in tables.rows] == [("public", "assets", "TABLE")]
    cols = _run(catalog, *_by_name(QUERIES, "jdbc_get_columns"))
    assert [r[2] for r in cols.rows] == [c.name for c in catalog.registry["assets"].columns]
    assert [r[8] for r in cols.rows] == list(range(1, len(cols.rows) + 1))


def test_jdbc_escapes_underscores_in_patterns(catalog: Catalog) -> None:
    sql, _ = _by_name(QUERIES, "jdbc_get_tables")
    res = _run(catalog, sql.replace("LIKE 'assets'", "LIKE 'double\\_datapoints'"))
    assert [r[2] for r in res.rows] == ["double_datapoints"]
    res = _run(catalog, sql.replace("LIKE 'assets'", "LIKE 'double_datapoint_'"))
    assert [r[2] for r in res.rows] == ["double_datapoints"]
    res = _run(catalog, sql.replace("LIKE 'assets'", "LIKE 'ASSETS'"))
    assert res.rows == []  # LIKE is case-sensitive, as in PostgreSQL


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_npgsql_type_loading_batch(catalog: Catalog, newline: str) -> None:
    stmts = split_statements(npgsql_batch(newline))
    assert len(stmts) == 4
    version, types, composites, enums = (catalog.query(s) for s in stmts)
    assert version.rows[0][0].startswith("PostgreSQL 15.")
    assert [c.name for c in types.columns] == ["nspname", "oid", "typname", "typtype",
                                               "typnotnull", "elemtypoid"]
    assert [c.type_oid for c in types.columns] == [19, 26, 19, 18, 16, 26]
    by_name = {r[2]: r for r in types.rows}
    assert by_name["int4"][3] == "b" and by_name["int4"][5] is None
    assert by_name["_int4"][3] == "a" and by_name["_int4"][5] == 23
    assert by_name["int4range"][3] == "r"
    seen: set[int] = set()
    for _ns, oid, _name, typtype, _nn, elem in types.rows:
        assert typtype in "barmedpc"
        if typtype == "a":
            assert elem in seen  # element types come first, as Npgsql requires
        seen.add(oid)
    assert composites.rows == [] and len(composites.columns) == 3
    assert enums.rows == [] and len(enums.columns) == 2


def test_asyncpg_type_introspection(catalog: Catalog) -> None:
    sql = asyncpg_lookup_types()
    if sql is None:
        pytest.skip("asyncpg not installed")
    res = catalog.query(sql, [[23, 1007, 3904]])
    by_oid = {r[0]: r for r in res.rows}
    assert by_oid[23][2] == "int4"
    assert by_oid[1007][5] == 23  # elemtype
    assert by_oid[3904][7] == 23  # range_subtype


def test_version_and_session_functions(catalog: Catalog) -> None:
    res = catalog.query("SELECT version(), current_schema(), current_database(), current_user")
    assert res.rows == [(res.rows[0][0], "public", "alice", "alice")]
    assert [c.type_oid for c in res.columns] == [25, 19, 19, 19]
    assert catalog.query("select pg_catalog.version()").rows[0][0].startswith(
        "PostgreSQL 15.8 ")
    assert catalog.query("SHOW server_version").rows == [("15.8",)]


def test_current_setting_and_set_config(catalog: Catalog) -> None:
    res = catalog.query("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) "
                        "AS new")
    assert [c.name for c in res.columns] == ["cur", "new"]
    assert res.rows == [("off", "off")]
    catalog.query("select set_config('application_name', 'etl', false)")
    assert catalog.settings.get("application_name") == "etl"
    assert catalog.settings.changed_parameters() == [("application_name", "etl")]
    with pytest.raises(PgError) as e:
        catalog.query("SELECT current_setting('no_such_thing')")
    assert e.value.sqlstate == "42704"
    assert catalog.query("SELECT current_setting('no_such_thing', true)").rows == [(None,)]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM assets LIMIT 0",
    "SELECT * FROM public.assets WHERE 1=0",
    "SELECT id, name FROM assets WHERE false",
    "SELECT a.name FROM assets a WHERE 1 = 0 AND a.id > 5",
    "select external_id from assets limit 0",
])
def test_provably_empty_reads_describe_data_tables(catalog: Catalog, sql: str) -> None:
    res = catalog.query(sql)
    assert res.rows == [] and res.tag == "SELECT 0"
    assets = catalog.registry["assets"]
    for col in res.columns:
        c = assets.column(col.name)
        assert c is not None and col.type_oid == c.type.oid
        assert col.type_modifier == c.atttypmod
        assert col.table_oid == assets.oid


@pytest.mark.parametrize("sql", [
    "SELECT * FROM assets",
    "SELECT count(*) FROM assets",
    'SELECT "external_id", "name" FROM "assets" LIMIT 1',
    "SELECT * FROM pg_class WHERE EXISTS (SELECT 1 FROM assets)",
])
def test_reading_rows_from_data_tables_is_refused(catalog: Catalog, sql: str) -> None:
    with pytest.raises(PgError) as e:
        catalog.query(sql)
    assert e.value.sqlstate == "0A000"
    assert "write-only" in e.value.message and "assets" in e.value.message
    # …but describing it (asyncpg's copy_records_to_table does) works
    _, cols = catalog.describe(sql, [])
    assert cols


@pytest.mark.parametrize(("sql", "state"), [
    ("SELECT * FROM no_such_table", "42P01"),
    ("SELECT nope FROM pg_class", "42703"),
    ("SELECT no_such_function(1)", "42883"),
    ("SELECT 'no_such'::regclass", "42P01"),
    ("SELECT * FROM pg_class WHERE", "42601"),
    ("SELECT x FROM pg_class WHERE relname SIMILAR TO 'a'", "0A000"),
])
def test_errors_have_postgres_sqlstates(catalog: Catalog, sql: str, state: str) -> None:
    with pytest.raises(PgError) as e:
        catalog.query(sql)
    assert e.value.sqlstate == state


def test_parameters_and_describe(catalog: Catalog) -> None:
    sql = "SELECT c.oid, c.relname FROM pg_class c WHERE c.relname = $1 AND c.relkind = ANY($2)"
    params, cols = catalog.describe(sql, [])
    assert params == [19, 1002]
    assert [(c.name, c.type_oid) for c in cols] == [("oid", 26), ("relname", 19)]
    res = catalog.query(sql, ["assets", ["r", "p"]])
    assert res.rows == [(catalog.registry["assets"].oid, "assets")]
    params, _ = catalog.describe(sql, [25, 0])
    assert params == [25, 1002]


def test_information_schema(catalog: Catalog) -> None:
    res = catalog.query("SELECT table_name, table_type FROM information_schema.tables "
                        "WHERE table_schema = 'public' ORDER BY 1")
    assert ("assets", "BASE TABLE") in res.rows
    res = catalog.query("SELECT column_name, data_type, character_maximum_length, is_nullable "
                        "FROM information_schema.columns WHERE table_name = 'assets' "
                        "ORDER BY ordinal_position")
    assets = catalog.registry["assets"]
    assert [r[0] for r in res.rows] == [c.name for c in assets.columns]
    name = next(r for r in res.rows if r[0] == "name")
    assert name[1:] == ("character varying", assets.column("name").max_length,  # type: ignore
                        "NO")


def test_catalog_is_cheap_per_connection() -> None:
    import time

    reg = builtin_registry()
    Catalog(reg, user="a", database="a", settings=Settings(user="a"))  # build once
    t0 = time.perf_counter()
    for i in range(100):
        c = Catalog(reg, user=f"u{i}", database=f"u{i}", settings=Settings(user=f"u{i}"))
    per = (time.perf_counter() - t0) / 100
    assert per < 0.002, per
    c.query("SELECT 1")


def test_sessions_share_the_database_but_not_the_answers() -> None:
    reg = builtin_registry()
    a = Catalog(reg, user="a", database="a", settings=Settings(user="a"))
    b = Catalog(reg, user="b", database="b", settings=Settings(user="b"))
    assert a.query("SELECT current_user").rows == [("a",)]
    assert b.query("SELECT current_user").rows == [("b",)]
    b.settings.set("search_path", "pggw")
    assert a.query("SELECT current_schema()").rows == [("public",)]
    assert b.query("SELECT current_schema()").rows == [("pggw",)]
    sql = "SELECT count(*) FROM pg_class c WHERE c.relname = 'assets' AND " \
          "pg_table_is_visible(c.oid)"
    assert a.query(sql).rows == [(1,)]
    assert b.query(sql).rows == [(0,)]


@pytest.mark.parametrize("sql", [
    "select", "select (", "select 1 from", "select 'abc'::foo", "select x.* from pg_class",
    "select * from (values (1,2)) v(a,b)", "select interval '1 day'",
    "select extract(year from now())", "select 1 \\gexec", "VALUES (1)", "select row(1,2)",
    "select distinct on (relname) relname from pg_class", "select (select 1, 2)",
    "select pg_sleep(100)", "insert into assets values (1)", "SELECT $1", "",
    "select * from pg_class c join lateral (select 1) x on true",
    "select relname from pg_class where relname similar to 'a%'",
    "select 1 " + "+ 1 " * 3000,
    "select " + "(" * 500 + "1" + ")" * 500,
    "SELECT a FROM t WHERE a OPERATOR(pg_catalog.@@) 'x'",
])
def test_unsupported_or_bad_sql_gives_a_postgres_error(catalog: Catalog, sql: str) -> None:
    try:
        catalog.query(sql, [1])
    except PgError as e:
        assert len(e.sqlstate) == 5
        assert e.message


def test_runaway_query_is_stopped(catalog: Catalog) -> None:
    catalog.settings.set("statement_timeout", "200ms")
    with pytest.raises(PgError) as e:
        catalog.query("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) "
                      "SELECT count(*) FROM t")
    assert e.value.sqlstate == "57014"
    assert catalog.query("SELECT 1").rows == [(1,)]


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT generate_series(1, 3)", [(1,), (2,), (3,)]),
    ("SELECT unnest(ARRAY['a', 'b'])", [("a",), ("b",)]),
    ("SELECT x FROM unnest(ARRAY[3, 4]) x", [(3,), (4,)]),
    ("SELECT '{1,2}'::int[]", [([1, 2],)]),
    ("SELECT array_agg(x ORDER BY x DESC) FROM unnest(ARRAY[1, 3, 2]) x", [([3, 2, 1],)]),
    ("SELECT string_agg(x, '-' ORDER BY x) FROM unnest(ARRAY['b', 'a']) x", [("a-b",)]),
    ("SELECT (ARRAY[5, 6, 7])[2], ARRAY[1] || ARRAY[2]", [(6, [1, 2])]),
    ("SELECT 'a' || 'b', coalesce(NULL, 2), nullif(1, 1), greatest(1, 5)", [("ab", 2, None, 5)]),
    ("SELECT E'x\\ty', 'it''s'", [("x\ty", "it's")]),
    ("SELECT 'ABC' ~* 'b', 'ABC' ~ 'b', 'abc' !~ '^z'", [(True, False, True)]),
    ("SELECT 1 WHERE 'x' = ANY(ARRAY['x', 'y']) AND 3 <> ALL(ARRAY[1, 2])", [(1,)]),
    ("SELECT current_setting('server_version_num')::int", [(150008,)]),
    ("SELECT pg_backend_pid() > 0, has_table_privilege('assets', 'INSERT')", [(True, True)]),
    ("SELECT quote_ident('Foo'), quote_ident('timestamp'), format('%I.%L', 'a b', 'x')",
     [('"Foo"', '"timestamp"', "\"a b\".'x'")]),
])
def test_expressions(catalog: Catalog, sql: str, expected: list[tuple[Any, ...]]) -> None:
    assert catalog.query(sql).rows == expected


def test_describe_has_no_side_effects(catalog: Catalog) -> None:
    assert catalog.describe("SET application_name = 'x'", []) == ([], [])
    params, cols = catalog.describe("SHOW DateStyle", [])
    assert params == [] and [(c.name, c.type_oid) for c in cols] == [("DateStyle", 25)]
    catalog.describe("SELECT set_config('application_name', 'described', false)", [])
    assert catalog.settings.get("application_name") == ""
    catalog.describe("RESET ALL", [])


def test_translations_are_cached(catalog: Catalog) -> None:
    sql = "SELECT relname FROM pg_class WHERE relname = 'assets'"
    first = catalog.translate(sql)
    assert catalog.translate(sql) is first
    catalog.settings.set("search_path", "pggw")  # a different search path translates anew
    assert catalog.translate(sql) is not first


def test_row_sources_make_a_table_readable() -> None:
    reg = builtin_registry()
    cols = reg["assets"].columns
    row = tuple("a1" if c.name == "external_id" else "Pump" if c.name == "name" else None
                for c in cols)
    c = Catalog(reg, user="a", database="a", settings=Settings(user="a"),
                row_sources={"public.assets": lambda: [row]})
    assert c.query("SELECT external_id, name FROM assets").rows == [("a1", "Pump")]
    assert c.query("SELECT count(*) FROM assets").rows == [(1,)]
    other = Catalog(reg, user="b", database="b", settings=Settings(user="b"))
    with pytest.raises(PgError):
        other.query("SELECT count(*) FROM assets")
    assert other.query("SELECT count(*) FROM assets WHERE false").rows == [(0,)]
