#!/usr/bin/python3
"""Structured SQL fuzzing of every medfraud function (issue 13, item 2).

sqlsmith's random SQL reaches about half of the medfraud functions: it
cannot write a valid edges_sql, seeds_sql, options document or claims
table.  This generator knows the signatures and the documents
(sql/install/*.sql, docs/reference.md) and builds valid and nearly-valid
calls of every function of the extension -- the aggregates and the internal
'_' helpers included -- and puts them in the places real code puts them: a
medfraud call inside another's edges_sql / seeds_sql text, in a CTE, in a
view over the claims, per row through LATERAL, in a trigger fired by an
INSERT, in a PL/pgSQL exception block after an inner error, in cursors,
savepoints and prepared statements; with NULLs, odd id types and strings,
hostile option documents, tiny medfraud.max_graph_memory, short
statement_timeouts and pg_cancel_backend from a second connection at random
moments.

The runner counts statements and errors by SQLSTATE and measures what each
case really executed: after every case it reads the backend's function
counters (pg_stat_get_function_calls + pg_stat_get_xact_function_calls,
track_functions = all), so a function counts as reached in a case only if a
call of it ran to completion (PostgreSQL counts a call when it returns; a
call that raises is not counted).  Aggregates and their support functions
are not counted by PostgreSQL at all; for them the runner executes some
aggregate cases under EXPLAIN (ANALYZE, VERBOSE) and credits the support
functions from the executed plan nodes (see measure_aggregates()).

It fails (exit 1) when a backend is killed by a signal (server log, lost
connections, crash recovery) and when any function was never reached.  A
crash saves the statements that caused it to <out>/crash-*.sql (replayed
once more to find the smallest reproducing tail) with the server log
excerpt and, when a core file is there, a gdb backtrace.

  tools/fuzz-sql.py --setup --seed 1 --statements 100000 --server-log LOG --out DIR
  tools/fuzz-sql.py --replay DIR/crash-0001.sql          # does it still crash?

Connection: the usual PG* variables (a superuser for --setup, which creates
the non-superuser role "fuzz" every case runs as).  tools/run-fuzz-sql.sh
runs it in a throwaway pg_virtualenv cluster.
"""

import argparse
import csv
import glob
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import threading
import time

import psycopg2
import psycopg2.extensions
import psycopg2.errors

# results are read and thrown away: dates and times stay text (years like
# 294276 or BC do not fit Python's datetime)
for _oids, _name in (((1082, 1083, 1114, 1184, 1186, 1266), 'FZ_TIME'),
                     ((1182, 1183, 1115, 1185, 1187, 1270), 'FZ_TIME_ARRAY')):
    psycopg2.extensions.register_type(psycopg2.extensions.new_type(_oids, _name, lambda v, c: v))

FUZZ_DB = 'fuzz'
FUZZ_ROLE = 'fuzz'
FUZZ_PASSWORD = 'fuzz'
MAX_DEPTH = 3

# ---------------------------------------------------------------- quoting

# ids that break naive quoting, escaping and encoding: quotes, backslashes,
# CJK, emoji, combining marks, zero-width and BOM, XML/DOT specials, SQL
# and format() metacharacters, control characters (never NUL, which text
# cannot hold), an empty string and a long one
ODD_IDS = [
    '', ' ', "'", "''", '"', '\\', '\\\\', "O'Brien\\x", '张三', '患者李四', '\U0001F600',
    '\t', 'a\nb', '\r\n', '\x01', '\x1f', '\x7f', 'x' * 300, '%s', '%I%L', '$1', '$$',
    '$q$', ';', '-- c', '/*', 'NULL', '-0', '0', '00', '1e3', ' 1', 'e\u0301', '\u200b',
    '\ufeff', '\ufffe', '\U0010fffd', '&amp;<b>', ']]>', 'ring_1_2', '{a,b}', '\\N',
]

# suffixes for the odd-id copy of the demo city (a whole detect_rings run
# whose persons and providers carry them, so ring_graph and check_claim
# render hostile ids from real results)
ODD_SUFFIXES = ['', "'", '"', '\\', '张', '&<>', '\t', '\n', ' ', '\U0001F600', '\\"\'', ']]>--']


def lit(s):
    """A standard SQL string literal (standard_conforming_strings = on)."""
    if s is None:
        return 'NULL'
    return "'" + s.replace("'", "''") + "'"


def estr(s):
    """An E'' literal."""
    return "E'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


# ---------------------------------------------------------------- fixtures

def setup_statements():
    """The fixture statements, in order, run one by one as the fuzz role.
    Deterministic (fixed demo-city seed, no random()), so a reproducer saved
    by one run replays against the fixtures of any other."""
    S = []
    add = S.append
    add("SET client_min_messages = warning")
    # the demo city: small, but with rings, rules, cohorts and families
    add("SELECT medfraud.generate_demo_city('f', persons => 1000, days => 30, rings => 3, seed => 1)")
    add("CREATE SCHEMA fz")

    # ---- edge tables
    add("CREATE TABLE fz.e (src text, dst text, weight float8)")
    add("""INSERT INTO fz.e SELECT 'v' || (i % 40), 'v' || ((i * 7 + 3) % 43), 1 + (i % 5)
           FROM generate_series(1, 120) i""")
    add("CREATE TABLE public.e AS SELECT src, dst FROM fz.e")
    add("CREATE TABLE fz.e_int (src int8, dst int8, weight numeric)")
    add("INSERT INTO fz.e_int SELECT i % 50, (i * 13 + 5) % 53, (i % 7) / 2.0 FROM generate_series(1, 150) i")
    add("CREATE TABLE fz.e_int4 (src int4, dst int4, weight int4)")
    add("INSERT INTO fz.e_int4 SELECT i % 30, (i * 11 + 1) % 31, i % 4 FROM generate_series(1, 80) i")
    add("CREATE TABLE fz.e_int2 (src int2, dst int2)")
    add("INSERT INTO fz.e_int2 SELECT i % 20, (i * 3 + 2) % 21 FROM generate_series(1, 40) i")
    add("CREATE TABLE fz.e_star (src text, dst text, weight float4)")
    add("INSERT INTO fz.e_star SELECT 'hub', 'leaf' || i, 1 FROM generate_series(1, 60) i")
    add("CREATE TABLE fz.e_clique (src int8, dst int8)")
    add("INSERT INTO fz.e_clique SELECT a, b FROM generate_series(1, 12) a, generate_series(1, 12) b WHERE a < b")
    add("CREATE TABLE fz.e_self (src text, dst text)")
    add("INSERT INTO fz.e_self SELECT 's' || i, 's' || i FROM generate_series(1, 10) i")
    add("CREATE TABLE fz.e_dup (src text, dst text, weight float8)")
    add("""INSERT INTO fz.e_dup SELECT x, y, 0.5
           FROM (VALUES ('a', 'b'), ('b', 'a'), ('b', 'c'), ('c', 'a'), ('a', 'a')) v(x, y), generate_series(1, 5)""")
    add("CREATE TABLE fz.e_mixed (src int8, dst text)")
    add("INSERT INTO fz.e_mixed SELECT i, (i + 1)::text FROM generate_series(1, 20) i")
    add("CREATE TABLE fz.e_null (src text, dst text)")
    add("INSERT INTO fz.e_null VALUES ('a', 'b'), (NULL, 'c'), ('c', NULL), ('d', 'e'), (NULL, NULL)")
    add("CREATE TABLE fz.e_wbad (src text, dst text, weight float8)")
    add("""INSERT INTO fz.e_wbad VALUES ('a', 'b', 1), ('b', 'c', 'NaN'), ('c', 'd', 'Infinity'), ('d', 'e', -1),
           ('e', 'f', 1e101), ('f', 'g', NULL), ('g', 'h', 0), ('h', 'i', '-Infinity'), ('i', 'j', 1e-300)""")
    add("CREATE TABLE fz.e_wnum (src text, dst text, weight numeric)")
    add("""INSERT INTO fz.e_wnum VALUES ('a', 'b', 1e100), ('b', 'c', 1e-100), ('c', 'a', 0), ('c', 'd', 'NaN'),
           ('d', 'e', 12345678901234567890.123456789)""")
    add("CREATE TABLE fz.e_wtext (src text, dst text, weight text)")
    add("INSERT INTO fz.e_wtext VALUES ('a', 'b', '1'), ('b', 'c', 'x')")
    vals = []
    for i, a in enumerate(ODD_IDS):
        vals.append("(%s, %s)" % (lit(a), lit(ODD_IDS[(i * 7 + 3) % len(ODD_IDS)])))
        vals.append("(%s, %s)" % (lit(a), lit(ODD_IDS[(i + 1) % len(ODD_IDS)])))
    add("CREATE TABLE fz.e_odd (src text, dst text)")
    add("INSERT INTO fz.e_odd VALUES " + ", ".join(vals))
    add("CREATE TABLE fz.e_extreme (src int8, dst int8)")
    add("""INSERT INTO fz.e_extreme VALUES (-9223372036854775808, 9223372036854775807), (0, -1), (-1, 1),
           (9223372036854775807, 0), (-9223372036854775808, 0), (2147483648, -2147483649)""")
    add("CREATE TABLE fz.e_big (src int8, dst int8)")
    add("INSERT INTO fz.e_big SELECT i % 3000, (i * 7919 + 13) % 3001 FROM generate_series(1, 12000) i")
    add("CREATE TABLE fz.e_empty (src text, dst text, weight float8)")
    add("CREATE TABLE fz.e_varchar (src varchar(10), dst varchar(10))")
    add("INSERT INTO fz.e_varchar SELECT 'v' || (i % 15), 'v' || ((i * 4 + 1) % 17) FROM generate_series(1, 40) i")
    add("CREATE TABLE fz.e_char (src char(6), dst char(6))")
    add("INSERT INTO fz.e_char SELECT 'c' || (i % 12), 'c' || ((i * 5 + 2) % 13) FROM generate_series(1, 30) i")
    add("CREATE TABLE fz.e_covisit AS SELECT src, dst, weight, days FROM medfraud.covisit_edges('f.setl_d')")

    # ---- seeds
    add("CREATE TABLE fz.s (node text, label text)")
    add("INSERT INTO fz.s VALUES ('v0', 'A'), ('v1', 'A'), ('v20', 'B'), ('v33', 'C'), ('nowhere', 'D')")
    add("CREATE TABLE fz.s_int (node int8, label text)")
    add("INSERT INTO fz.s_int VALUES (0, 'A'), (1, 'A'), (25, 'B'), (-5, 'Z')")
    add("CREATE TABLE fz.s_conflict (node text, label text)")
    add("INSERT INTO fz.s_conflict VALUES ('v0', 'A'), ('v0', 'B')")
    add("CREATE TABLE fz.s_intlabel (node text, label int)")
    add("INSERT INTO fz.s_intlabel VALUES ('v0', 1)")
    add("CREATE TABLE fz.s_many AS SELECT 'v' || i AS node, 'L' || i AS label FROM generate_series(0, 39) i")
    add("CREATE TABLE fz.s_odd (node text, label text)")
    add("INSERT INTO fz.s_odd VALUES " + ", ".join(
        "(%s, %s)" % (lit(a), lit(ODD_IDS[(i * 5 + 1) % len(ODD_IDS)])) for i, a in enumerate(ODD_IDS[:12])))

    # ---- claims for covisit_edges / covisit_agg: many id and time types
    add("""CREATE TABLE fz.c_text AS
           SELECT s.psn_no, s.fixmedins_code, s.setl_time, s.setl_time::timestamptz AS at_tz,
                  substr(s.psn_no, 5)::int8 AS person_int, substr(s.fixmedins_code, 6)::int4 AS prov_int,
                  (substr(s.psn_no, 5)::int8 % 30000)::int2 AS person_small,
                  s.psn_no::varchar(20) AS person_vc, s.psn_no::char(20) AS person_char,
                  substr(s.psn_no, 5)::numeric AS person_num, s.med_type AS dept,
                  s.setl_time::date AS day, s.medfee_sumamt
           FROM f.setl_d s ORDER BY s.setl_time, s.setl_id LIMIT 600""")
    add("CREATE TABLE fz.c_null AS SELECT * FROM fz.c_text")
    add("UPDATE fz.c_null SET psn_no = NULL, person_int = NULL WHERE person_int % 7 = 0")
    add("UPDATE fz.c_null SET setl_time = NULL, at_tz = NULL WHERE person_int % 11 = 0")
    odd = []
    for i, a in enumerate(ODD_IDS):
        for d in range(3):
            for k in range(2):
                odd.append("(%s, %s, timestamp '2025-01-0%d 09:00' + interval '%d minutes')"
                           % (lit(a), lit(ODD_IDS[(i + k) % 3]), d + 1, i % 20 + k))
    add("CREATE TABLE fz.c_odd (psn_no text, fixmedins_code text, setl_time timestamp)")
    add("INSERT INTO fz.c_odd VALUES " + ", ".join(odd))
    add("""CREATE TABLE fz.c_dense AS
           SELECT 'p' || (i % 150) AS psn_no, 'H' || (i % 2) AS fixmedins_code,
                  timestamp '2025-02-01 08:00' + (i % 3) * interval '1 day' + (i % 17) * interval '1 minute' AS setl_time
           FROM generate_series(1, 900) i""")
    add("CREATE TABLE fz.c_part (psn_no text, fixmedins_code text, setl_time timestamp) PARTITION BY RANGE (setl_time)")
    add("CREATE TABLE fz.c_part_a PARTITION OF fz.c_part FOR VALUES FROM (MINVALUE) TO ('2025-01-15')")
    add("CREATE TABLE fz.c_part_b PARTITION OF fz.c_part FOR VALUES FROM ('2025-01-15') TO (MAXVALUE)")
    add("INSERT INTO fz.c_part SELECT psn_no, fixmedins_code, setl_time FROM fz.c_text")
    add("CREATE TABLE fz.c_empty (LIKE fz.c_text)")
    add("CREATE VIEW fz.v_valid AS SELECT * FROM f.setl_d WHERE refd_setl_flag = '0' AND vali_flag = '1'")
    # claims views that themselves call medfraud: a nested call inside the
    # claims read of covisit_edges, detect_rings, person_anomalies and the
    # 30-day history of check_claim
    add("""CREATE VIEW fz.v_nested_claims AS
           SELECT c.*, (SELECT count(*) FROM medfraud.connected_components('SELECT src, dst FROM fz.e')) AS n
           FROM fz.c_text c""")
    add("""CREATE VIEW fz.v_setl_nested AS
           SELECT s.* FROM f.setl_d s
           WHERE s.setl_time > (SELECT timestamp '2000-01-01' + count(*) * interval '1 second'
                                FROM medfraud.core_numbers('SELECT src, dst FROM fz.e_clique'))""")
    add("""CREATE VIEW fz.v_setl_check AS
           SELECT s.* FROM f.setl_d s
           WHERE s.psn_no NOT LIKE '%9' OR NOT EXISTS (
               SELECT 1 FROM medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time) x WHERE x.sev_deg > 3)""")
    add("""CREATE VIEW fz.v_setl_agg AS
           SELECT s.* FROM f.setl_d s
           WHERE s.fixmedins_code NOT IN (
               SELECT p.src FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') cv
                                  FROM fz.c_text GROUP BY fixmedins_code) g, medfraud.covisit_pairs(g.cv) p)""")
    # fee lines whose reading calls check_claim (the pre-payment trigger and
    # the 30-day history read items tables) or a graph function; claims whose
    # reading starts another run (the work-table guard must refuse it)
    add("""CREATE VIEW fz.v_items_check AS
           SELECT l.* FROM f.fee_list_d l
           WHERE hashtext(l.setl_id) % 40 <> 0 OR EXISTS (
               SELECT 1 FROM medfraud.check_claim(l.psn_no, l.fixmedins_code, l.fee_ocur_time, ARRAY[l.med_list_codg]::text[]) x
               WHERE x.sev_deg > 3)""")
    add("""CREATE VIEW fz.v_items_graph AS
           SELECT l.* FROM f.fee_list_d l
           WHERE (SELECT count(*) FROM medfraud.louvain('SELECT src, dst FROM fz.e_dup')) > 0""")
    add("""CREATE VIEW fz.v_setl_reenter AS
           SELECT s.* FROM f.setl_d s
           WHERE s.setl_id IS DISTINCT FROM (SELECT medfraud.person_anomalies('fz.v_valid')::text)""")
    # a row-level-security policy that calls medfraud
    add("CREATE TABLE fz.c_rls AS SELECT * FROM fz.c_text")
    add("ALTER TABLE fz.c_rls ENABLE ROW LEVEL SECURITY")
    add("ALTER TABLE fz.c_rls FORCE ROW LEVEL SECURITY")
    add("""CREATE POLICY fz_rls ON fz.c_rls USING (medfraud.amount_band(medfee_sumamt) <> '10000-'
           AND (SELECT count(*) FROM medfraud.triangles('SELECT src, dst FROM fz.e_dup')) >= 0)""")

    # ---- the odd-id copy of the city, for a run whose ids need quoting everywhere
    sfx = "(ARRAY[%s])" % ", ".join(lit(x) for x in ODD_SUFFIXES)
    add("""CREATE TABLE fz.setl_odd AS
           SELECT s.setl_id, s.mdtrt_id,
                  s.psn_no || %(a)s[1 + abs(hashtext(s.psn_no)) %% %(n)d] AS psn_no,
                  s.fixmedins_code || %(a)s[1 + abs(hashtext(s.fixmedins_code)) %% %(n)d] AS fixmedins_code,
                  s.setl_time, s.med_type, s.dise_codg, s.medfee_sumamt, s.hifp_pay, s.refd_setl_flag, s.vali_flag,
                  s.insutype
           FROM f.setl_d s""" % {'a': sfx, 'n': len(ODD_SUFFIXES)})
    add("""CREATE TABLE fz.prov_odd AS
           SELECT b.fixmedins_code || %(a)s[1 + abs(hashtext(b.fixmedins_code)) %% %(n)d] AS fixmedins_code,
                  b.fixmedins_name || %(a)s[1 + abs(hashtext(b.fixmedins_name)) %% %(n)d] || '&amp;<"x">' AS fixmedins_name
           FROM f.fixmedins_b b""" % {'a': sfx, 'n': len(ODD_SUFFIXES)})
    add("CREATE TABLE fz.prov_nocols (x int)")
    add("CREATE VIEW fz.prov_view AS SELECT fixmedins_code, fixmedins_name || ' 视图' AS fixmedins_name FROM f.fixmedins_b")

    # ---- runs: the odd one first, the plain one newest; anomaly scores; item limits
    add("""SELECT medfraud.detect_rings('fz.setl_odd', 'f.fee_list_d', '{"progress": false}')""")
    add("""SELECT medfraud.detect_rings('f.setl_d', 'f.fee_list_d', '{"progress": false}')""")
    add("""SELECT medfraud.person_anomalies('f.setl_d', '{"items": "f.fee_list_d", "persons": "f.psn_info_b"}')""")
    add("""INSERT INTO medfraud.item_limits(med_list_codg, item_name, max_qty_per_visit, max_qty_30d, gender,
                                           min_age, max_age, sev_deg, note)
           SELECT code, 'fz item ' || n, 1 + n % 3, 3 + n % 5, CASE WHEN n % 3 = 0 THEN '1' END,
                  CASE WHEN n % 4 = 0 THEN 18 END, CASE WHEN n % 5 = 0 THEN 60 END, 1 + n % 3, 'fz ' || n
           FROM (SELECT code, row_number() OVER (ORDER BY code) AS n
                 FROM (SELECT DISTINCT unnest(items) AS code FROM f.demo_truth_groups WHERE items IS NOT NULL
                       UNION SELECT med_list_codg FROM f.demo_items) i) q
           WHERE n <= 40""")

    # clinical knowledge (versions with medfraud.item_indications): the city's own
    add("""DO $f$ BEGIN
             IF to_regclass('medfraud.item_indications') IS NOT NULL AND to_regclass('f.demo_item_indications') IS NOT NULL THEN
               EXECUTE 'INSERT INTO medfraud.item_indications SELECT * FROM f.demo_item_indications';
             END IF;
           END $f$""")

    # ---- pre-payment: one table flagging, one rejecting (the fuzzer rolls its inserts back)
    add("CREATE TABLE fz.setl_flag (LIKE f.setl_d INCLUDING DEFAULTS)")
    add("CREATE TABLE fz.setl_reject (LIKE f.setl_d INCLUDING DEFAULTS)")
    add("CREATE TABLE fz.setl_plain (LIKE f.setl_d INCLUDING DEFAULTS)")
    add("""SELECT medfraud.enable_prepayment_check('fz.setl_flag', 'flag', '{"items": "f.fee_list_d"}')""")
    add("""SELECT medfraud.enable_prepayment_check('fz.setl_reject', 'reject', '{"items": "f.fee_list_d", "min_severity": 1}')""")

    # ---- co-visit sets, text and integer ids
    add("""CREATE TABLE fz.cv AS
           SELECT fixmedins_code AS k, medfraud.covisit_agg(psn_no, setl_time, '30 minutes') AS cv
           FROM f.setl_d GROUP BY 1 ORDER BY 1""")
    add("""CREATE TABLE fz.cv_int AS
           SELECT prov_int AS k, medfraud.covisit_agg(person_int, at_tz, '1 hour', 5) AS cv
           FROM fz.c_text GROUP BY 1 ORDER BY 1""")

    # ---- helpers: run a statement and catch its error; count its rows;
    # triggers that run the statements inserted into a table
    add("""CREATE FUNCTION fz.try(q text) RETURNS text LANGUAGE plpgsql AS $f$
           BEGIN EXECUTE q; RETURN 'ok';
           EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $f$""")
    add("""CREATE FUNCTION fz.n(q text) RETURNS bigint LANGUAGE plpgsql AS $f$
           DECLARE k bigint; BEGIN EXECUTE 'SELECT count(*) FROM (' || q || ') fz_n' INTO k; RETURN k; END $f$""")
    add("CREATE TABLE fz.trig_exec (q text)")
    add("""CREATE FUNCTION fz.trig_exec_fn() RETURNS trigger LANGUAGE plpgsql AS $f$
           DECLARE k bigint;
           BEGIN EXECUTE 'SELECT count(*) FROM (' || NEW.q || ') t' INTO k; RETURN NULL; END $f$""")
    add("CREATE TRIGGER fz_trig_exec BEFORE INSERT ON fz.trig_exec FOR EACH ROW EXECUTE FUNCTION fz.trig_exec_fn()")
    add("CREATE TABLE fz.trig_stmt (q text)")
    add("""CREATE FUNCTION fz.trig_stmt_fn() RETURNS trigger LANGUAGE plpgsql AS $f$
           DECLARE r record; k bigint;
           BEGIN
             FOR r IN SELECT q FROM fz_new LOOP
               BEGIN
                 EXECUTE 'SELECT count(*) FROM (' || r.q || ') t' INTO k;
               EXCEPTION WHEN OTHERS THEN
                 -- the inner error caught, then a medfraud call in the handler
                 PERFORM count(*) FROM medfraud.connected_components('SELECT src, dst FROM fz.e_dup');
               END;
             END LOOP;
             RETURN NULL;
           END $f$""")
    add("""CREATE TRIGGER fz_trig_stmt AFTER INSERT ON fz.trig_stmt REFERENCING NEW TABLE AS fz_new
           FOR EACH STATEMENT EXECUTE FUNCTION fz.trig_stmt_fn()""")
    # edge queries for per-row (LATERAL) calls, filled by the fuzzer (fixed seed)
    add("CREATE TABLE fz.q (id int PRIMARY KEY, ok bool, kind text, sql text)")
    add("CREATE TABLE fz.facts (facts jsonb)")
    return S


FACTS_SQL = r"""
SELECT jsonb_build_object(
  'runs', (SELECT jsonb_agg(run_id ORDER BY run_id) FROM medfraud.runs WHERE status = 'done'),
  'rings', (SELECT jsonb_agg(jsonb_build_array(run_id, ring_id) ORDER BY run_id, ring_id) FROM medfraud.rings),
  'members', (SELECT jsonb_agg(psn_no ORDER BY psn_no) FROM (SELECT DISTINCT psn_no FROM medfraud.ring_members) m),
  'providers', (SELECT jsonb_agg(fixmedins_code ORDER BY fixmedins_code) FROM f.fixmedins_b),
  'ring_providers', (SELECT jsonb_agg(DISTINCT p) FROM medfraud.rings, unnest(providers) p),
  'items', (SELECT jsonb_agg(med_list_codg ORDER BY med_list_codg) FROM f.demo_items),
  'limited_items', (SELECT jsonb_agg(med_list_codg ORDER BY med_list_codg) FROM medfraud.item_limits),
  'rule_items', (SELECT jsonb_agg(DISTINCT conditions ->> 'med_list_codg') FROM medfraud.rules
                 WHERE conditions ? 'med_list_codg'),
  'persons', (SELECT jsonb_agg(psn_no ORDER BY psn_no) FROM (SELECT psn_no FROM f.psn_info_b ORDER BY psn_no LIMIT 60) p),
  'dx', (SELECT jsonb_agg(DISTINCT dise_codg) FROM f.setl_d),
  'setl_ids', (SELECT jsonb_agg(setl_id ORDER BY setl_id) FROM (SELECT setl_id FROM f.setl_d ORDER BY setl_id LIMIT 40) s),
  'rule_ids', (SELECT jsonb_agg(jsonb_build_array(run_id, rule_id) ORDER BY run_id, rule_id) FROM medfraud.rules),
  'anomaly_runs', (SELECT jsonb_agg(anomaly_run_id) FROM medfraud.anomaly_runs),
  't_min', (SELECT min(setl_time)::text FROM f.setl_d),
  't_max', (SELECT max(setl_time)::text FROM f.setl_d),
  'cv', (SELECT count(*) FROM fz.cv),
  'cv_int', (SELECT count(*) FROM fz.cv_int),
  'shards', to_regclass('f.setl_d_sharded') IS NOT NULL
)"""


# ---------------------------------------------------------------- generator

GRAPH_COLS = {
    'connected_components': ['node', 'component'],
    'label_propagation': ['node', 'label'],
    'seeded_propagation': ['node', 'label', 'score'],
    'core_numbers': ['node', 'core'],
    'scan_clusters': ['node', 'cluster', 'role'],
    'triangles': ['node', 'triangles', 'clustering'],
    'louvain': ['node', 'community', 'level'],
    'graph_info': ['nodes', 'edges', 'input_rows', 'csr_bytes', 'peak_bytes'],
}
NODE_FNS = [f for f in GRAPH_COLS if f != 'graph_info']
CHECK_COLS = ['rule_id', 'rule_name', 'vola_cont', 'vola_amt', 'sev_deg', 'vola_bhvr_type', 'vola_evid']
COVISIT_COLS = ['src', 'dst', 'weight', 'covisits', 'days', 'first_at', 'last_at']
PAIRS_COLS = ['src', 'dst', 'first_day', 'weight', 'covisits', 'days', 'first_at', 'last_at']

# valid edge queries: (sql, id kind)
BASE_EDGES = [
    ("SELECT src, dst FROM fz.e", 'text'),
    ("SELECT src, dst, weight FROM fz.e", 'text'),
    ("SELECT src, dst, weight FROM fz.e_int", 'int'),
    ("SELECT src, dst FROM fz.e_int", 'int'),
    ("SELECT src, dst, weight FROM fz.e_int4", 'int'),
    ("SELECT src, dst FROM fz.e_int2", 'int'),
    ("SELECT src, dst, weight FROM fz.e_star", 'text'),
    ("SELECT src, dst FROM fz.e_clique", 'int'),
    ("SELECT src, dst FROM fz.e_self", 'text'),
    ("SELECT src, dst, weight FROM fz.e_dup", 'text'),
    ("SELECT src, dst FROM fz.e_odd", 'text'),
    ("SELECT src, dst FROM fz.e_extreme", 'int'),
    ("SELECT src, dst FROM fz.e_empty", 'text'),
    ("SELECT src, dst, weight FROM fz.e_empty", 'text'),
    ("SELECT src, dst FROM fz.e_varchar", 'text'),
    ("SELECT src, dst FROM fz.e_char", 'text'),
    ("SELECT src, dst, weight FROM fz.e_covisit", 'text'),
    ("SELECT src, dst, days AS weight FROM fz.e_covisit WHERE days >= 3", 'text'),
    ("SELECT src, dst FROM public.e", 'text'),
    ("SELECT src, dst FROM e", 'text'),
    ("TABLE fz.e", 'text'),
    ("(SELECT src, dst FROM fz.e_dup)", 'text'),
    ("SELECT src::text, dst::text FROM fz.e_int", 'text'),
    ("SELECT src::int8 AS src, dst FROM fz.e_int4", 'int'),
    ("SELECT dst AS src, src AS dst, 1 AS weight FROM fz.e", 'text'),
    ("SELECT src, dst, weight::float4 AS weight FROM fz.e", 'text'),
    ("SELECT src, dst, weight::numeric AS weight FROM fz.e", 'text'),
    ("SELECT src, dst, (weight * 0)::int2 AS weight FROM fz.e", 'text'),
    ("SELECT src, dst, weight FROM fz.e_wnum WHERE weight <> 'NaN' AND weight < 1e50", 'text'),
    ("SELECT src, dst, weight FROM fz.e_wbad WHERE weight >= 0 AND weight <= 1e100", 'text'),
    ("SELECT src, dst FROM fz.e UNION ALL SELECT dst, src FROM fz.e", 'text'),
    ("SELECT src, dst FROM fz.e ORDER BY random() LIMIT 30", 'text'),
    ("SELECT src, dst FROM fz.e WHERE false", 'text'),
    ("WITH x AS (SELECT * FROM fz.e) SELECT src, dst FROM x", 'text'),
    ("SELECT psn_no AS src, fixmedins_code AS dst FROM f.setl_d", 'text'),
    ("SELECT psn_no AS src, fixmedins_code AS dst FROM fz.c_rls", 'text'),
    ("SELECT psn_no AS src, fixmedins_code AS dst FROM fz.v_nested_claims", 'text'),
    ("SELECT src, dst FROM fz.e_null WHERE src IS NOT NULL AND dst IS NOT NULL", 'text'),
    ("SELECT src, dst FROM fz.e, pg_sleep(0.0001) LIMIT 40", 'text'),
    ("SELECT src, dst FROM fz.e WHERE set_config('medfraud.max_graph_memory', '1MB', true) IS NOT NULL", 'text'),
    ("SELECT i AS src, (i * 7 + 1) % 500 AS dst FROM generate_series(1, 2000) i", 'int'),
    ("SELECT 'n' || i AS src, 'n' || (i / 2) AS dst FROM generate_series(1, 300) i", 'text'),
    ("SELECT a AS src, b AS dst FROM generate_series(1, 30) a, generate_series(1, 30) b WHERE a < b", 'int'),
]
BIG_EDGES = [("SELECT src, dst FROM fz.e_big", 'int'),
             ("SELECT src::text AS src, dst::text AS dst FROM fz.e_big", 'text'),
             ("SELECT i AS src, i + 1 AS dst FROM generate_series(1, 60000) i", 'int')]

# edge queries that must be refused (or fail inside), each for its own reason
NEAR_EDGES = [
    "SELECT src FROM fz.e", "SELECT src AS a, dst AS b FROM fz.e", "SELECT src, dst, weight FROM fz.e_wbad",
    "SELECT src, dst, weight FROM fz.e_wtext", "SELECT src, dst FROM fz.e_mixed", "SELECT src, dst FROM fz.e_null",
    "SELECT src, dst, weight FROM fz.e_wnum", "SELECT src::numeric, dst::numeric FROM fz.e_int",
    "SELECT src, dst, src AS weight FROM fz.e", "SELECT src, src AS src, dst FROM fz.e",
    "SELECT src, dst, weight, weight FROM fz.e", "DELETE FROM fz.e_empty RETURNING src, dst",
    "WITH d AS (DELETE FROM fz.e_empty RETURNING *) SELECT src, dst FROM d", "SELECT src, dst FROM fz.e FOR UPDATE",
    "SELECT src, dst FROM fz.e FOR KEY SHARE", "SELECT src, dst FROM fz.e; SELECT src, dst FROM fz.e", "", " ",
    "-- nothing", ";", "SELECT", "EXPLAIN SELECT src, dst FROM fz.e", "SHOW work_mem", "VALUES (1, 2)",
    "SELECT 1/0 AS src, 2 AS dst", "SELECT src, CASE WHEN dst = 'v7' THEN (1/0)::text ELSE dst END AS dst FROM fz.e",
    "SELECT src, dst FROM fz.nope", "SELECT src, dst FROM fz.e WHERE", "INSERT INTO fz.e_empty VALUES ('a', 'b')",
    "CALL medfraud.run_scheduled(NULL)", "CREATE TABLE fz.x (a int)", "BEGIN", "COMMIT", "ROLLBACK",
    "SELECT $1 AS src, $1 AS dst", "SELECT src, dst FROM fz.e \\", "SELECT NULL AS src, NULL AS dst",
    "SELECT NULL::text AS src, NULL::text AS dst", "SELECT src, dst, NULL::float8 AS weight FROM fz.e",
    "SELECT 'a' AS src, repeat('x', 1100000) AS dst", "SELECT src, dst, 1e100::float8 AS weight FROM fz.e",
    "SELECT src, dst, 1.0000001e100::float8 AS weight FROM fz.e", "SELECT src, dst, -0.0::float8 AS weight FROM fz.e",
    "SELECT src, dst, '-0'::numeric AS weight FROM fz.e", "SELECT src, dst, 4.9e-324::float8 AS weight FROM fz.e",
    "SELECT ROW(src, dst) AS src, dst FROM fz.e", "SELECT ARRAY[src] AS src, ARRAY[dst] AS dst FROM fz.e",
    "SELECT src::bytea AS src, dst::bytea AS dst FROM fz.e", "SELECT src::name AS src, dst::name AS dst FROM fz.e",
    "SELECT true AS src, false AS dst", "SELECT 1::oid AS src, 2::oid AS dst", "SELECT src::json AS src, dst FROM fz.e",
    "SELECT 1::numeric AS src, 2::numeric AS dst", "SELECT src, dst, 'NaN'::numeric AS weight FROM fz.e",
    "SELECT medfraud.ring_graph(NULL) AS src, 'x' AS dst", "DO $$BEGIN END$$", "PREPARE fzx AS SELECT 1",
    "DECLARE fzc CURSOR FOR SELECT 1", "LISTEN fz", "COPY fz.e TO STDOUT", "SELECT src, dst INTO TEMP fz_tmp FROM fz.e",
    "SELECT src, dst FROM fz.e WHERE pg_cancel_backend(pg_backend_pid()) IS NOT NULL",
    "SELECT src, dst FROM fz.e WHERE set_config('statement_timeout', '1', true) IS NOT NULL",
    "SELECT src, dst FROM fz.e WHERE set_config('medfraud.max_graph_memory', '0', true) IS NOT NULL",
    "SELECT 'a'::text AS src, 1::int8 AS dst", "SELECT 1::int2 AS src, 2::int8 AS dst, 3 AS weight",
    "SELECT src, dst, weight FROM fz.e_int4 WHERE weight > 100", "SELECT * FROM fz.e_empty, fz.e",
    "SELECT src AS \"SRC\", dst AS \"DST\" FROM fz.e", "SELECT src AS \"src \", dst FROM fz.e",
    "SELECT src, dst FROM fz.e_big", "SELECT i AS src, i + 1 AS dst FROM generate_series(1, 60000) i",
    "SELECT src, dst, 1e300 * 1e300 AS weight FROM fz.e",
]


def pipeline_stages(src):
    """[(function, argument text)] of the medfraud._ring_* calls in
    _ring_pipeline's body, in order; calls whose arguments use a local
    variable other than the pipeline's parameters and its run/time/count
    variables are left out (they cannot be replayed by hand)."""
    decl = re.search(r'DECLARE(.*?)\bBEGIN\b', src, re.S | re.I)
    local = set(re.findall(r'^\s*(\w+)\s+\w', decl.group(1), re.M)) if decl else set()
    known = {'run', 'claims', 'items', 'o', 'win', 'wide', 't', 'n', 'nrings'}
    out = []
    for m in re.finditer(r'medfraud\.(_ring_\w+)\(', src):
        i, depth, j = m.end(), 0, m.end()
        while j < len(src):
            ch = src[j]
            if ch == "'":
                j = src.index("'", j + 1)
            elif ch == '(':
                depth += 1
            elif ch == ')':
                if depth == 0:
                    break
                depth -= 1
            j += 1
        args = src[i:j]
        words = set(re.findall(r"\b[a-z_]\w*\b", re.sub(r"'[^']*'", '', args)))
        if (words & local) - known:
            continue
        out.append((m.group(1), args))
    return out


class Case:
    __slots__ = ('target', 'shape', 'stmts', 'explain')

    def __init__(self, target, shape, stmts, explain=None):
        self.target = target
        self.shape = shape
        self.stmts = stmts if isinstance(stmts, list) else [stmts]
        self.explain = explain      # index of a statement whose aggregates can be measured


class Gen:
    """Seeded builder of cases.  mode: 'valid' (a call that should return),
    'near' (one thing wrong) or 'hostile' (anything)."""

    def __init__(self, seed, facts, csv_dir=''):
        self.csv_dir = csv_dir
        self.r = random.Random(seed)
        self.F = facts
        self.tagn = 0
        self.runs = facts.get('runs') or [1]
        self.stage_names = set(n for n, _ in facts.get('_stages') or [])
        self.rings = facts.get('rings') or [[1, 1]]
        self.shards = bool(facts.get('shards'))

    # ---- small helpers
    def ch(self, xs):
        return xs[self.r.randrange(len(xs))]

    def p(self, x):
        return self.r.random() < x

    def ri(self, a, b):
        return self.r.randint(a, b)

    def mode(self, forced=None):
        if forced:
            return forced
        k = self.r.random()
        return 'valid' if k < 0.55 else 'near' if k < 0.85 else 'hostile'

    def q(self, s):
        """A literal for python str s, in a random but equivalent quoting."""
        if s is None:
            return 'NULL'
        k = self.r.random()
        if k < 0.5:
            return lit(s)
        if k < 0.85:
            return self.dollar(s)
        return estr(s)

    def dollar(self, s):
        self.tagn += 1
        tag = 'q%d' % (self.tagn % 89)
        while ('$%s$' % tag) in s:
            tag += 'x'
        return '$%s$%s$%s$' % (tag, s, tag)

    def text(self):
        if self.p(0.6):
            return self.ch(ODD_IDS)
        alphabet = 'abcXYZ019 \'"\\%$;-_/*{}[]<>&\t\n\x01\x1f\x7f张三患😀é\u200b\ufeff'
        return ''.join(self.ch(alphabet) for _ in range(self.ri(0, 14)))

    def ival(self, mode, valid, near=()):
        if mode == 'valid':
            return str(self.ch(valid))
        pool = list(near) + ['0', '-1', '2147483647', '(-2147483647 - 1)', 'NULL', '1']
        if mode == 'hostile':
            pool += ['NULL::int', "'1'", '1.5', '9223372036854775807', "'x'", '(SELECT 3)', "(random() * 5)::int"]
        return self.ch(pool)

    def fval(self, mode, valid, near=()):
        if mode == 'valid':
            return str(self.ch(valid))
        pool = list(near) + ["'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8", '0', '-0.0',
                             '1e-308', '1e308', '4.9e-324', 'NULL', '-1']
        if mode == 'hostile':
            pool += ["'x'", 'NULL::float8', '1e400', "'1e400'::numeric", '(SELECT 0.5)']
        return self.ch(pool)

    def member(self):
        return self.ch(self.F.get('members') or ['3502000000000001'])

    def person(self):
        k = self.r.random()
        if k < 0.5:
            return self.member()
        if k < 0.8:
            return self.ch(self.F.get('persons') or ['3502000000000001'])
        return self.text()

    def provider(self):
        k = self.r.random()
        if k < 0.5:
            return self.ch(self.F.get('ring_providers') or ['H35020000001'])
        if k < 0.85:
            return self.ch(self.F.get('providers') or ['H35020000001'])
        return self.text()

    def item(self):
        k = self.r.random()
        if k < 0.35:
            return self.ch(self.F.get('limited_items') or ['X1'])
        if k < 0.6:
            return self.ch(self.F.get('rule_items') or self.F.get('items') or ['X1'])
        if k < 0.9:
            return self.ch(self.F.get('items') or ['X1'])
        return self.text()

    def ts(self, mode='valid'):
        if mode != 'valid' and self.p(0.5):
            return self.ch(["'infinity'::timestamptz", "'-infinity'::timestamptz", "'4713-01-01 BC'::timestamptz",
                            "'294276-12-31 23:59:59'::timestamptz", 'now()', 'NULL', "'2025-01-01'::date",
                            "'epoch'::timestamptz", "timestamp '2025-01-10 09:00'"])
        day = self.ri(1, 28)
        return "timestamptz '2025-01-%02d %02d:%02d:00'" % (day, self.ri(0, 23), self.ri(0, 59))

    def interval(self, mode):
        if mode == 'valid':
            return self.ch(["'30 minutes'", "'1 hour'", "'5 minutes'", "'1 second'", "'2 hours'",
                            "'20 minutes'", "interval '45 minutes'", "'1 day'"])
        return self.ch(["'0'", "'-1 minute'", "'1 month'", "'1 year'", "'1 mon 1 day'", "'1 microsecond'",
                        "'178000000 years'", "'-178000000 years'", 'NULL', "'1 day 25 hours'",
                        "'1000000 days'", "'23:59:59.999999'", "'P1DT1H'", "'x'", "'1 week'"])

    def run_id(self, mode):
        if mode == 'valid':
            return str(self.ch(self.runs))
        return self.ch(['NULL', '0', '-1', '9223372036854775807', str(max(self.runs) + 1000),
                        str(self.ch(self.runs))])

    def ring(self, mode):
        run, ring = self.ch(self.rings)
        if mode == 'valid':
            return str(run), str(ring)
        return (self.run_id(mode), self.ch(['NULL', '0', '-1', '2147483647', '9223372036854775807',
                                           str(ring), str(ring + 50)]))

    def gucs(self):
        """Session settings a case may start with."""
        out = []
        if self.p(0.08):
            out.append("SET medfraud.max_graph_memory = '%s'" % self.ch(['1MB', '1MB', '2MB', '8MB', '64MB', '1GB',
                                                                        '2147483647kB', '1025kB']))
        if self.p(0.03):
            out.append("SET TimeZone = '%s'" % self.ch(['UTC', 'Asia/Shanghai', 'America/St_Johns',
                                                        'Pacific/Chatham', 'Asia/Kathmandu', '+14', 'Etc/GMT+12']))
        if self.p(0.02):
            out.append("SET IntervalStyle = '%s'" % self.ch(['iso_8601', 'sql_standard', 'postgres_verbose']))
        if self.p(0.02):
            out.append("SET extra_float_digits = %d" % self.ri(-15, 3))
        if self.p(0.02):
            out.append("SET work_mem = '64kB'")
        if self.p(0.02):
            out.append("SET client_min_messages = debug1")
        if self.p(0.01):
            out.append("SET DateStyle = '%s'" % self.ch(['SQL, DMY', 'German', 'ISO, YMD', 'Postgres, MDY']))
        if self.p(0.01):
            out.append("SET plan_cache_mode = %s" % self.ch(['force_generic_plan', 'force_custom_plan']))
        if self.p(0.01):
            out.append("SET search_path = %s" % self.ch(['fz, medfraud, public', 'pg_temp, public', "''", 'medfraud']))
        if self.p(0.01):
            out.append('RESET ALL')
        return out

    def parallel(self):
        return ["SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0", "SET min_parallel_table_scan_size = 0",
                "SET max_parallel_workers_per_gather = %d" % self.ch([1, 2, 2])]

    # ---- edges_sql and seeds_sql texts
    def edges(self, depth, mode):
        """(edges_sql text, id kind 'text' | 'int' | 'bad')."""
        if mode == 'valid' or (mode == 'near' and self.p(0.3)):
            if depth < MAX_DEPTH and self.p(0.3):
                return self.nested_edges(depth)
            if self.p(0.04):
                return self.ch(BIG_EDGES)
            if self.p(0.1):
                return self.values_edges()
            return self.ch(BASE_EDGES)
        if mode == 'near' or self.p(0.6):
            if depth < MAX_DEPTH and self.p(0.2):
                # a nested call that fails inside the outer load
                s, _ = self.nested_edges(depth, inner_mode='near')
                return s, 'bad'
            return self.ch(NEAR_EDGES), 'bad'
        k = self.r.random()
        if k < 0.3:
            return self.text(), 'bad'
        if k < 0.5:
            s, kind = self.ch(BASE_EDGES)
            i = self.ri(0, len(s))
            return s[:i] + self.ch(["'", '"', '\\', ')', '(', ';', '$$', ' UNION ', '--', '/*', '\x01']) + s[i:], 'bad'
        if k < 0.65:
            n = self.ri(50, 400)
            return '(' * n + 'SELECT src, dst FROM fz.e' + ')' * n, 'text'
        if k < 0.8:
            return ' ' * self.ri(1000, 100000) + 'SELECT src, dst FROM fz.e', 'text'
        return 'SELECT ' + ', '.join('src AS c%d' % i for i in range(self.ri(100, 1700))) + ', src, dst FROM fz.e', 'text'

    def values_edges(self):
        n = self.ri(1, 12)
        if self.p(0.5):
            rows = ', '.join('(%s, %s)' % (lit(self.text()), lit(self.text())) for _ in range(n))
            return 'SELECT * FROM (VALUES %s) v(src, dst)' % rows, 'text'
        nums = ['0', '-1', '1', '9223372036854775807', '(-9223372036854775807 - 1)', '2147483647', '42']
        rows = ', '.join('(%s::int8, %s::int8)' % (self.ch(nums), self.ch(nums)) for _ in range(n))
        return 'SELECT * FROM (VALUES %s) v(src, dst)' % rows, 'int'

    def nested_edges(self, depth, inner_mode=None):
        """Edges read from another medfraud call: the composition that
        exercises per-call state (one call's load running another call)."""
        k = self.r.random()
        im = inner_mode or ('valid' if self.p(0.85) else 'near')
        if k < 0.3:
            fn = self.ch(NODE_FNS)
            call, cols = self.graph_call(fn, depth + 1, im)
            c2 = cols[1]
            form = self.ri(0, 4)
            if form == 0:
                return "SELECT c.node AS src, e.dst FROM %s c JOIN fz.e e ON e.src = c.node" % call, 'text'
            if form == 1:
                return "SELECT node AS src, %s::text AS dst FROM %s c" % (c2, call), 'text'
            if form == 2:
                return ("SELECT a.node AS src, b.node AS dst FROM %s a JOIN %s b ON a.%s = b.%s AND a.node < b.node"
                        % (call, call, c2, c2)), 'text'
            if form == 3:
                return "SELECT node AS src, 'x' || node AS dst, 1 AS weight FROM %s c" % call, 'text'
            return "SELECT src, dst FROM fz.e WHERE src IN (SELECT node FROM %s c)" % call, 'text'
        if k < 0.55:
            # an outer edge set of any size whose load runs the inner call: before
            # the rows stream (an initplan), per row, or through a join
            base, kind = self.ch(BASE_EDGES + BIG_EDGES * 4)
            fn = self.ch(list(GRAPH_COLS))
            call, cols = self.graph_call(fn, depth + 1, im)
            form = self.ri(0, 3)
            if form == 0:
                return "SELECT b.* FROM (%s) b WHERE (SELECT count(*) FROM %s c) >= 0" % (base, call), kind
            if form == 1:
                return ("SELECT b.* FROM (SELECT * FROM (%s) b0 LIMIT %d) b WHERE fz.try(%s) IS NOT NULL"
                        % (base, self.ri(1, 60), self.q('SELECT * FROM %s' % call))), kind
            if form == 2:
                return ("SELECT b.* FROM (%s) b CROSS JOIN (SELECT count(*) AS k FROM %s c) k WHERE k.k >= 0"
                        % (base, call)), kind
            return ("SELECT b.* FROM (%s) b WHERE b.src IS NOT NULL OR EXISTS (SELECT 1 FROM %s c)" % (base, call)), kind
        if k < 0.62:
            call = self.covisit_call(im)
            return "SELECT src, dst, weight FROM %s c" % call, 'text'
        if k < 0.67:
            return ("SELECT p.src, p.dst, p.weight FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, %s) AS cv "
                    "FROM fz.c_text GROUP BY fixmedins_code) g, medfraud.%s(g.cv) p"
                    % (self.interval('valid'), self.ch(['covisit_pairs', 'covisit_days']))), 'text'
        if k < 0.72:
            base, kind = self.ch(BIG_EDGES + BASE_EDGES)
            return ("SELECT b.* FROM (%s) b WHERE (SELECT count(*) FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, "
                    "'30 minutes') AS cv FROM fz.c_text GROUP BY fixmedins_code) g, medfraud.covisit_pairs(g.cv) p) >= 0"
                    % base), kind
        if k < 0.75:
            return "SELECT p.src, p.dst FROM fz.cv, medfraud.covisit_pairs(fz.cv.cv) p", 'text'
        if k < 0.8:
            return ("SELECT x.psn_no AS src, 'seed' AS dst FROM medfraud.expand_ring(ARRAY[%s]) x"
                    % lit(self.member())), 'text'
        if k < 0.85:
            return ("SELECT rule_id AS src, vola_bhvr_type AS dst FROM %s x" % self.check_claim_call(im)), 'text'
        if k < 0.9:
            base, kind = self.ch(BIG_EDGES + BASE_EDGES)
            return ("SELECT b.* FROM (SELECT * FROM (%s) b0 LIMIT %d) b WHERE fz.try(%s) IS NOT NULL"
                    % (base, self.ri(1, 40), self.q(self.any_statement(depth + 1)))), kind
        if k < 0.95:
            base, kind = self.ch(BIG_EDGES + BASE_EDGES)
            return ("SELECT b.* FROM (%s) b WHERE (SELECT count(*) FROM %s c) >= 0"
                    % (base, self.covisit_call(im))), kind
        run, ring = self.ring('valid')
        return ("SELECT src, dst FROM fz.e WHERE medfraud.ring_graph(%s, %s, %s) IS NOT NULL"
                % (ring, run, lit(self.ch(['dot', 'json', 'graphml'])))), 'text'

    def seeds(self, depth, mode, kind):
        """seeds_sql for edges of id kind."""
        if mode == 'valid':
            if kind == 'int':
                return self.ch(["SELECT node, label FROM fz.s_int",
                                "SELECT src AS node, 'A' AS label FROM fz.e_int LIMIT 3",
                                "SELECT 1::int8 AS node, 'only' AS label",
                                "SELECT src AS node, (src % 3)::text AS label FROM fz.e_clique WHERE src < 4"])
            if depth < MAX_DEPTH and self.p(0.2):
                fn = self.ch(['connected_components', 'label_propagation', 'louvain', 'core_numbers'])
                call, cols = self.graph_call(fn, depth + 1, 'valid', edges=("SELECT src, dst FROM fz.e", 'text'))
                return ("SELECT DISTINCT ON (node) node, %s::text AS label FROM %s c WHERE %s <= 3 ORDER BY node"
                        % (cols[1], call, cols[1]))
            return self.ch(["SELECT node, label FROM fz.s", "SELECT node, label FROM fz.s_many",
                            "SELECT node, label FROM fz.s_odd",
                            "SELECT src AS node, 'A' AS label FROM fz.e LIMIT 1",
                            "SELECT psn_no AS node, ring_id::text AS label FROM medfraud.ring_members WHERE run_id = %s"
                            % self.ch(self.runs),
                            "SELECT node, label FROM fz.s WHERE false",
                            "SELECT 'v3'::varchar AS node, 'V'::varchar AS label"])
        if mode == 'near' or self.p(0.5):
            return self.ch(["SELECT node, label FROM fz.s_conflict", "SELECT node, label FROM fz.s_intlabel",
                            "SELECT node FROM fz.s", "SELECT label FROM fz.s", "SELECT node, NULL::text AS label FROM fz.s",
                            "SELECT NULL::text AS node, 'A' AS label", "SELECT node, label FROM fz.s_int",
                            "SELECT node::text, label FROM fz.s_int", "DELETE FROM fz.e_empty RETURNING src AS node, dst AS label",
                            "SELECT node, label FROM fz.s FOR UPDATE", "", "SELECT node, label FROM fz.nope",
                            "SELECT 1/0 AS node, 'a' AS label", "SELECT node, label, label FROM fz.s",
                            "SELECT node, label FROM fz.s; SELECT 1", "SELECT node, repeat(label, 1100000) AS label FROM fz.s",
                            "SELECT 'v' || i AS node, 'L' || i AS label FROM generate_series(1, 5000) i"])
        return self.text()

    # ---- call builders: (expression, output columns)
    def graph_call(self, fn, depth, mode, edges=None, edges_expr=None):
        if edges_expr is None:
            if edges is None:
                edges = self.edges(depth, mode)
            sql, kind = edges
            e = 'NULL' if (mode == 'hostile' and self.p(0.1)) else self.q(sql)
            if self.p(0.05):
                e += '::varchar'
        else:
            e, kind = edges_expr
        a = [e]
        named = self.p(0.3)

        def arg(name, v):
            a.append('%s => %s' % (name, v) if named else v)

        if fn == 'label_propagation':
            if self.p(0.7):
                arg('max_iterations', self.ival(mode, [1, 2, 5, 20, 100], ['0', '-5']))
                if self.p(0.6):
                    arg('random_seed', self.ival(mode, [0, 1, 7, -1, 2147483647, -2147483648 + 1]))
        elif fn == 'seeded_propagation':
            a.append(self.q(self.seeds(depth, mode, kind)) if not (mode == 'hostile' and self.p(0.1)) else 'NULL')
            if self.p(0.6):
                arg('max_iterations', self.ival(mode, [1, 3, 50, 200], ['0']))
                if self.p(0.6):
                    arg('alpha', self.fval(mode, [0.01, 0.5, 0.85, 0.999999], ['0', '1', '1.5']))
                    if self.p(0.5):
                        arg('tolerance', self.fval(mode, [0, 1e-6, 0.1, 1e-300], ['-1e-9']))
        elif fn == 'scan_clusters':
            a.append(self.fval(mode, [0.0001, 0.3, 0.5, 0.7, 1.0], ['0', '1.0000001']))
            a.append(self.ival(mode, [2, 3, 4, 10, 1000], ['1']))
            named = False
        elif fn == 'louvain':
            if self.p(0.7):
                arg('resolution', self.fval(mode, [1e-6, 0.5, 1.0, 2.0, 100.0, 1e300], ['0']))
                if self.p(0.6):
                    arg('max_levels', self.ival(mode, [1, 2, 10, 100], ['0', '101']))
                    if self.p(0.5):
                        arg('random_seed', self.ival(mode, [0, 3, -7, 2147483647]))
        if named and len(a) > 1 and self.p(0.3):
            a[0] = 'edges_sql => ' + a[0]
        return 'medfraud.%s(%s)' % (fn, ', '.join(a)), GRAPH_COLS[fn]

    CLAIMS_VALID = [
        # (table, person columns, provider columns, time columns)
        ('fz.c_text', ['psn_no', 'person_int', 'person_small', 'person_vc', 'person_char'],
         ['fixmedins_code', 'prov_int', 'dept'], ['setl_time', 'at_tz']),
        ('f.setl_d', ['psn_no'], ['fixmedins_code', 'med_type', 'dise_codg'], ['setl_time']),
        ('fz.v_valid', ['psn_no'], ['fixmedins_code'], ['setl_time']),
        ('fz.c_odd', ['psn_no'], ['fixmedins_code'], ['setl_time']),
        ('fz.c_dense', ['psn_no'], ['fixmedins_code'], ['setl_time']),
        ('fz.c_part', ['psn_no'], ['fixmedins_code'], ['setl_time']),
        ('fz.c_empty', ['psn_no', 'person_int'], ['fixmedins_code'], ['setl_time', 'at_tz']),
        ('fz.c_rls', ['psn_no', 'person_int'], ['fixmedins_code'], ['setl_time']),
        ('fz.v_nested_claims', ['psn_no', 'person_int'], ['fixmedins_code', 'prov_int'], ['setl_time', 'at_tz']),
        ('fz.setl_odd', ['psn_no'], ['fixmedins_code'], ['setl_time']),
        ('fz.c_part_a', ['psn_no'], ['fixmedins_code'], ['setl_time']),
    ]

    def covisit_call(self, mode):
        t, ps, pv, ats = self.ch(self.CLAIMS_VALID)
        person, prov, at = self.ch(ps), self.ch(pv), self.ch(ats)
        if mode != 'valid':
            k = self.r.random()
            if k < 0.25:
                t = self.ch(['fz.c_null', 'fz.c_text', 'pg_catalog.pg_class', 'medfraud.runs', 'f.setl_d_pkey',
                             'medfraud.runs_run_id_seq', 'fz.e', 'fz.v_setl_nested'])
            elif k < 0.4:
                t = self.ch(['0', '1259', '99999999', '-1', '2147483647'])
                t = '%s::oid::regclass' % t
            elif k < 0.55:
                person = self.ch(['person_num', 'day', 'nope', 'setl_time', 'medfee_sumamt', 'ctid', 'xmin', 'tableoid',
                                  '', 'PSN_NO', 'x' * 80, '张三', "psn'no"])
            elif k < 0.65:
                at = self.ch(['day', 'psn_no', 'person_int', 'nope', 'medfee_sumamt', 'xmin'])
            elif k < 0.72:
                prov = self.ch(['at_tz', 'medfee_sumamt', 'nope', 'ctid', 'person_num'])
        tv = t if '::' in t else self.q(t)
        a = [tv]
        named = self.p(0.4)
        opts = [('person', self.q(person)), ('provider', self.q(prov)), ('at', self.q(at)),
                ('time_window', self.interval(mode if self.p(0.5) else 'valid')),
                ('min_days', self.ival(mode, [1, 2, 3], ['0'])), ('max_crowd', self.ival(mode, [2, 3, 5, 100, 100000], ['1']))]
        n = self.ri(0, 6)
        if named:
            for name, v in self.r.sample(opts, n):
                a.append('%s => %s' % (name, v))
        else:
            for name, v in opts[:n]:
                a.append(v)
            if n == 0 and (person != 'psn_no' or prov != 'fixmedins_code' or at != 'setl_time'):
                a += [self.q(person), self.q(prov), self.q(at)]
        return 'medfraud.covisit_edges(%s)' % ', '.join(a)

    def check_claim_call(self, mode, psn=None, prov=None, at=None):
        psn = psn or self.q(self.person())
        prov = prov or self.q(self.provider())
        at = at or self.ts('valid')
        if mode != 'valid' and self.p(0.3):
            which = self.ri(0, 2)
            if which == 0:
                psn = 'NULL'
            elif which == 1:
                prov = 'NULL'
            else:
                at = self.ts('near')
        args = [psn, prov, at]
        n = self.ri(0, 6)
        items = [self.item() for _ in range(self.ri(0, 6))]
        if n >= 1:
            if mode != 'valid' and self.p(0.3):
                args.append(self.ch(["'{}'::text[]", "'{NULL}'::text[]", "ARRAY[NULL, 'x']", "'{{a,b},{c,d}}'::text[]",
                                     "'[0:1]={a,b}'::text[]", 'NULL', "ARRAY(SELECT med_list_codg FROM f.demo_items)",
                                     "array_fill('X'::text, ARRAY[10000])", "ARRAY[''::text]"]))
                items = items or ['x']
            else:
                args.append('ARRAY[%s]::text[]' % ', '.join(lit(i) for i in items) if items else "'{}'::text[]")
        if n >= 2:
            args.append(self.ch(['NULL', str(self.ri(0, 5000)), '12345.67', "'NaN'::numeric", '-1', '0',
                                 '1e100', '0.000001']) if mode != 'valid' else str(self.ri(1, 20000)))
        if n >= 3:
            k = len(items)
            if mode != 'valid' and self.p(0.4):
                k = self.ch([0, k + 1, max(k - 1, 0), 3])
            vals = [self.ch(['1', '2', '5', '100', '0.5', '0']) if mode == 'valid' else
                    self.ch(['1', '-1', 'NULL', "'NaN'", '1e30', '0', '100000000000']) for _ in range(k)]
            args.append(self.ch(["ARRAY[%s]::numeric[]" % ', '.join(vals) if vals else "'{}'::numeric[]", 'NULL'])
                        if mode != 'valid' else ("ARRAY[%s]::numeric[]" % ', '.join(vals) if vals else 'NULL'))
        if n >= 4:
            k = len(items) if (mode == 'valid' or self.p(0.6)) else self.ri(0, 4)
            vals = [self.ch(['10', '99.5', '5000', '0', "'NaN'", 'NULL', '-3']) if mode != 'valid' else
                    self.ch(['10', '99.5', '5000', '0.01']) for _ in range(k)]
            args.append("ARRAY[%s]::numeric[]" % ', '.join(vals) if vals else 'NULL')
        if n >= 5:
            args.append(self.q(self.ch(['11', '14', '41', '13', '']) if mode == 'valid' or self.p(0.5) else self.text()))
            args.append(self.q(self.ch(self.F.get('dx') or ['A00'])) if self.p(0.8) else self.q(self.text()))
            if self.p(0.5):
                args.append(self.q(self.ch(self.F.get('setl_ids') or ['S1'])) if self.p(0.7) else self.q(self.text()))
        if self.p(0.2) and n >= 1:
            names = ['psn_no', 'fixmedins_code', 'at', 'items', 'amount', 'quantities', 'item_amounts',
                     'med_type', 'dise_codg', 'setl_id']
            args = ['%s => %s' % (names[i], v) for i, v in enumerate(args)]
        return 'medfraud.check_claim(%s)' % ', '.join(args)

    # ---- option documents
    RING_VALID = {
        'window': ['"30 minutes"', '"1 hour"', '"10 minutes"', '"1 day"', '"00:20:00"'],
        'min_days': ['1', '2', '3', '5'], 'max_crowd': ['2', '10', '100', '100000'],
        'algorithm': ['"scan"', '"louvain"', '"label_propagation"'], 'epsilon': ['0.1', '0.5', '0.9', '1'],
        'mu': ['2', '3', '4', '8'], 'min_ring_size': ['2', '4', '6', '20'], 'min_trips': ['1', '2', '3', '10'],
        'min_item_exclusivity': ['0', '0.3', '0.5', '1'], 'baseline_groups': ['2', '5', '30'],
        'seed': ['1', '2', '-5', '2147483647'], 'rules_per_ring': ['0', '1', '3', '10'],
        'rule_min_score': ['0', '20', '100'], 'min_rule_support': ['0', '0.3', '1'],
        'min_rule_confidence': ['0', '0.5', '1'], 'candidate_min_score': ['0', '0.3', '1'],
        'keep_runs': ['1000000', '1000', '10', '1'], 'raise_on_error': ['true', 'false'],
        'progress': ['false', 'true'], 'exclude_refunds': ['true', 'false'], 'valid_only': ['true', 'false'],
        'from': ['"2025-01-05"', 'null', '"2025-01-01 00:00:00+08"', '"2025-01-12"'],
        'to': ['"2025-01-25"', 'null', '"2025-01-20"'],
        'columns': ['{"psn_no": "psn_no"}', '{"setl_time": "setl_time", "med_type": "med_type"}', '{}'],
        'item_columns': ['{"setl_id": "setl_id"}', '{}'],
        'persons': ['"f.psn_info_b"', 'null'], 'person_columns': ['{"brdy": "brdy"}', '{}'],
    }
    RING_NEAR = {
        'window': ['"0"', '"2 days"', '"x"', '"1 month"', '"-5 minutes"', '30', '""'],
        'min_days': ['0', '367', '"3"', 'true', '2.5', '-1'], 'max_crowd': ['1', '100001', 'null'],
        'algorithm': ['"SCAN"', '"x"', '1', '""'], 'epsilon': ['0', '1.5', '-0.1', '"0.5"'],
        'mu': ['1', '1001', '2.5'], 'min_ring_size': ['1', '0'], 'min_trips': ['0'],
        'min_item_exclusivity': ['-0.1', '1.1'], 'baseline_groups': ['1', '1001'], 'seed': ['"1"', '2147483648', '1.5'],
        'rules_per_ring': ['-1', '101'], 'keep_runs': ['0', '1000001'], 'raise_on_error': ['"true"', '1'],
        'from': ['"x"', '1', '"infinity"', '"294277-01-01"', '"2025-02-30"'], 'to': ['"-infinity"', 'false'],
        'columns': ['{"psn_no": ""}', '{"psn_no": 1}', '{"nope": "x"}', '{"psn_no": "nope"}', '"psn_no"',
                    '{"psn_no": "setl_time"}', '{"setl_time": "psn_no"}', '{"mdtrt_id": "medfee_sumamt"}',
                    '{"refd_setl_flag": "hifp_pay"}', '{"psn_no": "ctid"}', '{"fixmedins_code": "xmin"}',
                    '{"setl_id": "tableoid"}', '{"psn_no": null}', '{"psn_no": ["a"]}', '[]'],
        'item_columns': ['{"med_list_codg": "cnt"}', '{"setl_id": "nope"}', '{"det_item_fee_sumamt": "med_list_codg"}',
                         '{"x": "y"}', 'null'],
        'persons': ['"fz.e"', '"nope"', 'true', '"f.setl_d"', '""'],
        'person_columns': ['{"brdy": "gend"}', '{"psn_no": "nope"}', '{"age": "age"}', 'null'],
    }
    ANOM_VALID = {
        'items': ['"f.fee_list_d"', 'null'], 'persons': ['"f.psn_info_b"', 'null'],
        'from': ['"2025-01-05"', 'null'], 'to': ['"2025-01-25"', 'null'],
        'exclude_refunds': ['true', 'false'], 'valid_only': ['true', 'false'],
        'night_start': ['0', '22', '23'], 'night_end': ['0', '6', '23'], 'costly_quantile': ['0.5', '0.9', '0.999'],
        'min_peers': ['2', '30', '1000000'], 'threshold': ['0.5', '3.5', '100'], 'keep_runs': ['1000', '3'],
        'columns': ['{"psn_no": "psn_no"}', '{}'], 'item_columns': ['{"cnt": "cnt"}'],
        'person_columns': ['{"brdy": "brdy"}', '{}'],
    }
    ANOM_NEAR = {
        'items': ['"nope"', '"fz.e"', '1', '"fz.c_text"', '""', '"pg_class"', '"f.setl_d_pkey"'],
        'persons': ['"fz.e"', '"nope"', 'true', '"f.setl_d"'],
        'night_start': ['24', '-1', '"22"'], 'costly_quantile': ['0.4', '1'], 'min_peers': ['1'],
        'threshold': ['0.4', '101', '"x"'], 'keep_runs': ['0', '1001'],
        'columns': ['{"insutype": "nope"}', '{"medfee_sumamt": "psn_no"}', '{"hifp_pay": "setl_time"}',
                    '{"setl_time": "medfee_sumamt"}', '{"psn_no": "ctid"}'],
        'person_columns': ['{"brdy": "gend"}', '{"gend": "brdy"}', '{"psn_no": "nope"}'],
        'item_columns': ['{"cnt": "med_list_codg"}', '{"setl_id": "cnt"}'],
    }
    PREPAY_VALID = {
        'items': ['"f.fee_list_d"', 'null', '"fz.v_items_check"', '"fz.v_items_graph"'], 'min_severity': ['1', '2', '3'],
        'columns': ['{"med_type": "med_type"}', '{}'], 'item_columns': ['{"cnt": "cnt"}', '{}'],
    }
    PREPAY_NEAR = {
        'items': ['"fz.e"', '"nope"', '2'], 'min_severity': ['0', '4', '"1"', '1.5'],
        'columns': ['{"setl_time": "psn_no"}', '{"medfee_sumamt": "psn_no"}', '{"psn_no": "nope"}',
                    '{"setl_id": "medfee_sumamt"}', '{"med_type": "setl_time"}'],
        'item_columns': ['{"cnt": "med_list_codg"}', '{"det_item_fee_sumamt": "psn_no"}', '{"setl_id": "cnt"}'],
    }

    def hostile_json(self, depth=0):
        k = self.r.random()
        if depth > 2 or k < 0.5:
            return self.ch(['null', 'true', 'false', '0', '-1', '1e308', '-1e308', '1e-400', '1e400', '-1e400',
                            '123456789012345678901234567890', '0.5', '"NaN"', '"Infinity"', '"-Infinity"', '""',
                            '"x"', json.dumps('y' * 5000), json.dumps('张三\u200b'), '"\\t\\n"', '"30 minutes"',
                            '"1 month"', '"-1 hour"', '"1000000 years"', '-0', '2147483648', '9223372036854775808',
                            '"\\ud83d\\ude00"', '"f.setl_d"', '"pg_catalog.pg_class"'])
        if k < 0.75:
            return '[' + ', '.join(self.hostile_json(depth + 1) for _ in range(self.ri(0, 3))) + ']'
        return '{' + ', '.join('%s: %s' % (json.dumps(self.ch(['a', '', 'columns', 'psn_no', 'min_days', '张'])),
                                           self.hostile_json(depth + 1)) for _ in range(self.ri(0, 3))) + '}'

    def options(self, mode, valid, near, keys_default):
        """An options document as SQL (a jsonb expression)."""
        if mode == 'hostile' and self.p(0.5):
            k = self.r.random()
            if k < 0.15:
                return self.ch(["'[]'", "'1'", "'\"x\"'", "'null'", "'true'", 'NULL', "'{}'::json::jsonb",
                                "'[{}]'"]) + '::jsonb'
            if k < 0.3:
                n = self.ri(50, 2000)
                return lit('{"columns": ' + '[' * n + ']' * n + '}') + '::jsonb'
            if k < 0.4:
                return lit('{"min_days": 2, "min_days": 3, "min_days": "x"}') + '::jsonb'
            if k < 0.5:
                return lit('{"%s": 1}' % self.ch(['\\u0000', '\\ud800', 'x\\u0000y'])) + '::jsonb'
            doc = '{' + ', '.join('%s: %s' % (json.dumps(self.ch(keys_default + ['nope', '', 'Columns', '张'])),
                                              self.hostile_json()) for _ in range(self.ri(1, 4))) + '}'
            return self.q(doc) + '::jsonb'
        parts = {}
        for key in self.r.sample(sorted(valid), self.ri(0, min(4, len(valid)))):
            parts[key] = self.ch(valid[key])
        if mode != 'valid':
            key = self.ch(sorted(near))
            parts[key] = self.ch(near[key])
            if self.p(0.2):
                parts[self.ch(['nope', 'Window', 'min-days', '', 'columns ', '张'])] = '1'
        doc = '{' + ', '.join('%s: %s' % (json.dumps(k), v) for k, v in parts.items()) + '}'
        if self.p(0.1):
            return 'jsonb_build_object(%s)' % ', '.join('%s, %s::jsonb' % (lit(k), lit(v)) for k, v in parts.items())
        return self.q(doc) + ('::jsonb' if self.p(0.7) else '')

    def ring_opts(self, mode):
        o = self.options(mode, self.RING_VALID, self.RING_NEAR, list(self.RING_VALID))
        return o

    def anom_opts(self, mode):
        return self.options(mode, self.ANOM_VALID, self.ANOM_NEAR, list(self.ANOM_VALID))

    def prepay_opts(self, mode):
        return self.options(mode, self.PREPAY_VALID, self.PREPAY_NEAR, list(self.PREPAY_VALID))

    def regclass(self, mode, valid):
        if mode == 'valid':
            return self.q(self.ch(valid))
        k = self.r.random()
        if k < 0.4:
            return self.q(self.ch(['fz.e', 'fz.c_text', 'pg_catalog.pg_class', 'medfraud.runs', 'f.setl_d_pkey',
                                   'medfraud.runs_run_id_seq', 'fz.v_setl_nested', 'fz.v_setl_check', 'fz.v_setl_agg',
                                   'fz.c_part', 'fz.setl_odd', 'f.demo_items', 'fz.c_empty', 'medfraud.latest_run']))
        if k < 0.6:
            return '%s::oid::regclass' % self.ch(['0', '1259', '99999999', '4294967295', '2147483647'])
        if k < 0.8:
            return 'NULL'
        return self.q(self.ch(['nope', '', 'f.', '"f"."setl_d"', 'F.SETL_D', 'f.setl_d; DROP TABLE fz.e']))

    # ---- compositions
    def other_srf(self, depth):
        """Another medfraud set-returning call, to put next to the first."""
        k = self.r.random()
        if k < 0.6:
            return self.graph_call(self.ch(list(GRAPH_COLS)), depth + 1, 'valid' if self.p(0.8) else 'near')
        if k < 0.8:
            return self.check_claim_call('valid'), CHECK_COLS
        return self.covisit_call('valid'), COVISIT_COLS

    def any_statement(self, depth=1):
        """A statement calling some medfraud function (for fz.try, triggers, nesting)."""
        k = self.r.random()
        m = 'valid' if self.p(0.7) else 'near'
        if k < 0.45:
            call, cols = self.graph_call(self.ch(list(GRAPH_COLS)), depth, m)
            return 'SELECT * FROM %s' % call
        if k < 0.6:
            return 'SELECT * FROM %s' % self.check_claim_call(m)
        if k < 0.7:
            return 'SELECT * FROM %s' % self.covisit_call(m)
        if k < 0.8:
            run, ring = self.ring(m)
            return 'SELECT medfraud.ring_graph(%s, %s, %s)' % (ring, run, lit(self.ch(['dot', 'json', 'graphml', 'x'])))
        if k < 0.9:
            return "SELECT * FROM medfraud.expand_ring(ARRAY[%s, %s])" % (lit(self.member()), lit(self.member()))
        return 'SELECT medfraud.ring_options(%s)' % self.ring_opts(m)

    def wrap_srf(self, target, call, cols, depth=0):
        """Put a set-returning call somewhere."""
        c0 = cols[0]
        shapes = [('plain', 20), ('rows', 8), ('cte', 6), ('tlist', 4), ('two', 5), ('subq', 4), ('exists', 2),
                  ('union', 2), ('cursor', 3), ('prepare', 2), ('do_exc', 5), ('trigger', 4), ('trigger_stmt', 2),
                  ('try', 4), ('n', 3), ('savepoint', 3), ('view', 2), ('explain', 2), ('lateral_series', 3)]
        shape = self.weighted(shapes)
        k = self.ri(1, 5)
        if shape == 'plain':
            s = 'SELECT count(*) FROM %s c' % call
        elif shape == 'rows':
            s = 'SELECT * FROM %s c ORDER BY 1 LIMIT %d' % (call, k)
        elif shape == 'cte':
            s = ('WITH x AS %s(SELECT * FROM %s) SELECT count(*), count(DISTINCT x.%s) FROM x'
                 % (self.ch(['', 'MATERIALIZED ', 'NOT MATERIALIZED ']), call, c0))
        elif shape == 'tlist':
            s = 'SELECT (%s).%s LIMIT %d' % (call, c0, k)
        elif shape == 'two':
            call2, cols2 = self.other_srf(depth)
            if self.p(0.5):
                s = 'SELECT count(*) FROM %s a, %s b' % (call, call2)
            else:
                s = 'SELECT (SELECT count(*) FROM %s a), (SELECT count(*) FROM %s b)' % (call, call2)
        elif shape == 'subq':
            s = 'SELECT (SELECT count(*) FROM %s c) AS n' % call
        elif shape == 'exists':
            s = 'SELECT EXISTS (SELECT 1 FROM %s c)' % call
        elif shape == 'union':
            s = 'SELECT %s::text FROM %s a UNION SELECT %s::text FROM %s b' % (c0, call, c0, call)
        elif shape == 'cursor':
            call2, _ = self.other_srf(depth)
            return Case(target, shape, ['BEGIN', 'DECLARE fzc %sCURSOR %sFOR SELECT * FROM %s'
                                        % (self.ch(['', 'SCROLL ', 'NO SCROLL ']), self.ch(['', 'WITH HOLD ']), call),
                                        'FETCH %d FROM fzc' % k, 'SELECT count(*) FROM %s' % call2,
                                        'FETCH ALL FROM fzc', 'CLOSE fzc', self.ch(['COMMIT', 'ROLLBACK'])])
        elif shape == 'prepare':
            return Case(target, shape, ['PREPARE fzp AS SELECT count(*) FROM %s c' % call, 'EXECUTE fzp',
                                        'EXECUTE fzp', 'DEALLOCATE fzp'])
        elif shape == 'do_exc':
            bad, _ = self.graph_call(self.ch(list(GRAPH_COLS)), depth + 1, self.ch(['near', 'hostile', 'valid']))
            body = ('BEGIN BEGIN PERFORM count(*) FROM %s; EXCEPTION WHEN OTHERS THEN PERFORM count(*) FROM %s; END; '
                    'PERFORM count(*) FROM %s; END' % (bad, call, call))
            return Case(target, shape, 'DO %s' % self.dollar(body))
        elif shape == 'trigger':
            rows = ', '.join('(%s)' % self.q(x) for x in
                             ['SELECT * FROM %s' % call] + [self.any_statement() for _ in range(self.ri(0, 2))])
            return Case(target, shape, 'INSERT INTO fz.trig_exec(q) VALUES %s' % rows)
        elif shape == 'trigger_stmt':
            rows = ', '.join('(%s)' % self.q(x) for x in
                             [self.any_statement() for _ in range(self.ri(0, 2))] + ['SELECT * FROM %s' % call])
            return Case(target, shape, ['BEGIN', 'INSERT INTO fz.trig_stmt(q) VALUES %s' % rows, 'ROLLBACK'])
        elif shape == 'try':
            s = 'SELECT fz.try(%s), fz.try(%s)' % (self.q(self.any_statement()), self.q('SELECT * FROM %s' % call))
        elif shape == 'n':
            s = 'SELECT fz.n(%s)' % self.q('SELECT * FROM %s' % call)
        elif shape == 'savepoint':
            bad = self.any_statement()
            return Case(target, shape, ['BEGIN', 'SAVEPOINT a', bad, 'ROLLBACK TO SAVEPOINT a',
                                        'SELECT count(*) FROM %s c' % call, 'RELEASE SAVEPOINT a',
                                        self.ch(['COMMIT', 'ROLLBACK'])])
        elif shape == 'view':
            return Case(target, shape, ['BEGIN', 'CREATE TEMP VIEW fzv AS SELECT * FROM %s c' % call,
                                        'SELECT count(*) FROM fzv', 'SELECT count(*) FROM fzv a, fzv b', 'ROLLBACK'])
        elif shape == 'explain':
            s = 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM %s c' % call
        else:   # lateral_series: the same call once per row
            s = ('SELECT g, (SELECT count(*) FROM %s c WHERE g > 0) FROM generate_series(1, %d) g'
                 % (call, self.ri(1, 4)))
        return Case(target, shape, s)

    def wrap_scalar(self, target, expr, depth=0, void=False, shape=None):
        shapes = [('plain', 30), ('rows', 5), ('do_exc', 4), ('trigger', 3), ('try', 4), ('lateral', 4),
                  ('prepare', 2), ('savepoint', 2)] + ([] if void else [('cte', 4), ('view', 1)])
        shape = shape or self.weighted(shapes)
        if shape == 'plain':
            s = 'SELECT %s' % expr
        elif shape == 'rows':
            s = 'SELECT g, %s FROM generate_series(1, %d) g' % (expr, self.ri(1, 3))
        elif shape == 'cte':
            s = 'WITH x AS MATERIALIZED (SELECT %s AS v) SELECT v IS NULL FROM x' % expr
        elif shape == 'do_exc':
            bad = self.any_statement()
            body = ('DECLARE v text; BEGIN BEGIN EXECUTE %s; EXCEPTION WHEN OTHERS THEN v := (%s)::text; END; '
                    'v := (%s)::text; END' % (lit(bad), expr, expr))
            return Case(target, shape, 'DO %s' % self.dollar(body))
        elif shape == 'trigger':
            return Case(target, shape, 'INSERT INTO fz.trig_exec(q) VALUES (%s)' % self.q('SELECT %s' % expr))
        elif shape == 'try':
            s = 'SELECT fz.try(%s), fz.try(%s)' % (self.q(self.any_statement()), self.q('SELECT %s' % expr))
        elif shape == 'lateral':
            s = 'SELECT x.v IS NULL FROM generate_series(1, 2) g, LATERAL (SELECT %s AS v) x' % expr
        elif shape == 'prepare':
            return Case(target, shape, ['PREPARE fzp AS SELECT %s' % expr, 'EXECUTE fzp', 'DEALLOCATE fzp'])
        elif shape == 'savepoint':
            return Case(target, shape, ['BEGIN', 'SAVEPOINT a', self.any_statement(), 'ROLLBACK TO SAVEPOINT a',
                                        'SELECT %s' % expr, 'COMMIT'])
        else:
            return Case(target, shape, ['BEGIN', 'CREATE TEMP VIEW fzv AS SELECT %s AS v' % expr,
                                        'SELECT * FROM fzv', 'ROLLBACK'])
        return Case(target, shape, s)

    def weighted(self, pairs):
        tot = sum(w for _, w in pairs)
        x = self.r.random() * tot
        for name, w in pairs:
            x -= w
            if x < 0:
                return name
        return pairs[-1][0]

    # ---- per-function case builders (target keys: see target_of())
    def t_graph(self, fn, mode):
        k = self.r.random()
        if k < 0.12:
            # per row through LATERAL, the edge queries from a table
            extra = ''
            if fn == 'scan_clusters':
                extra = ', 0.5, 2'
            elif fn == 'seeded_propagation':
                extra = ", CASE q.kind WHEN 'int' THEN 'SELECT node, label FROM fz.s_int' ELSE 'SELECT node, label FROM fz.s' END"
            m, r = self.ri(2, 7), 0
            r = self.ri(0, m - 1)
            s = ('SELECT q.id, count(c.*) FROM fz.q q LEFT JOIN LATERAL medfraud.%s(q.sql%s) c ON true '
                 'WHERE %sq.id %% %d = %d GROUP BY q.id' % (fn, extra, 'q.ok AND ' if mode == 'valid' else '', m, r))
            return Case(fn, 'lateral_table', s)
        if k < 0.18:
            # the edge query built per row
            call, cols = self.graph_call(fn, 1, mode, edges_expr=(
                "format('SELECT src, dst FROM fz.e WHERE src >= %L LIMIT %s', 'v' || g, g * 7)", 'text'))
            return Case(fn, 'lateral_format', 'SELECT g, (SELECT count(*) FROM %s c) FROM generate_series(1, %d) g'
                        % (call, self.ri(1, 5)))
        call, cols = self.graph_call(fn, 0, mode)
        return self.wrap_srf(fn, call, cols)

    def t_covisit_edges(self, mode):
        return self.wrap_srf('covisit_edges', self.covisit_call(mode), COVISIT_COLS)

    AGG_PERSON = {
        'text': ['psn_no', 'person_vc', 'person_char::text', 'fixmedins_code', "''::text", 'dept'],
        'int8': ['person_int', 'person_small', 'prov_int', '(person_int * -1)', '9223372036854775807::int8'],
    }

    def agg_call(self, kind, nargs, mode, tbl='fz.c_text', sure=False):
        person = self.ch(self.AGG_PERSON[kind])
        at = self.ch(['at_tz', 'setl_time', 'at_tz', "at_tz + interval '1 hour'"])
        win = self.interval(mode if self.p(0.3) else 'valid')
        a = [person, at, win]
        if nargs >= 4:
            a.append(self.ival(mode if self.p(0.3) else 'valid', [2, 3, 5, 100, 2147483647], ['1']))
        if nargs == 5:
            # a group of many providers (0.4.0): the provider as text
            a.append(self.ch(['fixmedins_code', 'fixmedins_code', 'prov_int::text', 'dept', "''::text"]))
        if nargs == 6:
            # the anchor range (0.4.0): constants or NULL (open); varying within a group is 22023
            lo = self.ch(["NULL::timestamptz", "'2025-01-01 08:00+00'::timestamptz", "'-infinity'::timestamptz",
                          "now() - interval '400 days'"])
            hi = self.ch(["NULL::timestamptz", "'2025-03-01 00:00+00'::timestamptz", "'infinity'::timestamptz",
                          "'2024-01-01'::timestamptz"])
            if mode != 'valid' and self.p(0.3):
                lo = self.ch(['at_tz', "date_trunc('hour', at_tz)"])
            a += [lo, hi]
        if mode != 'valid' and self.p(0.2):
            i = self.ri(0, len(a) - 1)
            if i == 0:
                a[0] = 'CASE WHEN person_int %% 5 = 0 THEN NULL ELSE %s END' % a[0]
            elif i == 1:
                a[1] = self.ch(["'infinity'::timestamptz", "CASE WHEN person_int % 3 = 0 THEN NULL ELSE at_tz END"])
            elif i == 2:
                a[2] = self.ch(["CASE WHEN person_int % 2 = 0 THEN interval '1 hour' ELSE interval '2 hours' END",
                                'NULL::interval'])
            elif i == 3:
                a[3] = self.ch(['NULL::int', '(person_int % 7)::int'])
            elif nargs == 5:
                a[4] = self.ch(["CASE WHEN person_int % 3 = 0 THEN NULL ELSE fixmedins_code END", 'NULL::text',
                                "repeat(fixmedins_code, 1000)"])
            else:
                a[i] = self.ch(['at_tz', "CASE WHEN person_int % 2 = 0 THEN NULL ELSE at_tz END"])
        agg = 'medfraud.covisit_agg(%s%s)' % ('DISTINCT ' if self.p(0.05) and not sure else '', ', '.join(a))
        if self.p(0.05):
            agg = agg[:-1] + ' ORDER BY at_tz)'
        if self.p(0.05) and not sure:
            agg += ' FILTER (WHERE person_int % 2 = 0)'
        return agg

    def t_covisit_agg(self, kind, nargs, mode, parallel=False, sure=False):
        """An aggregate query; measured through EXPLAIN ANALYZE by the runner.
        sure (the scheduled valid call): over rows the runner can credit (no
        FILTER, a table with rows visible)."""
        tbl = self.ch(['fz.c_text', 'fz.c_text', 'fz.c_null' if mode != 'valid' else 'fz.c_text', 'fz.c_rls',
                       'fz.v_nested_claims'])
        if sure:
            tbl = 'fz.c_text'
        agg = self.agg_call(kind, nargs, mode, sure=sure)
        grp = self.ch(['fixmedins_code', 'prov_int', 'day', 'fixmedins_code, day', 'dept'])
        k = self.r.random()
        if sure:
            k *= 0.3            # the plain GROUP BY shape
        unpack = self.ch(['covisit_pairs', 'covisit_days'])
        if k < 0.3:
            s = 'SELECT count(*), sum(length(g.cv)) FROM (SELECT %s, %s AS cv FROM %s GROUP BY %s) g' % (grp, agg, tbl, grp)
        elif k < 0.6:
            s = ('SELECT count(*), sum(p.weight) FROM (SELECT %s AS cv FROM %s GROUP BY %s) g, medfraud.%s(g.cv) p'
                 % (agg, tbl, grp, unpack))
        elif k < 0.7:
            s = 'SELECT length(%s) FROM %s' % (agg, tbl)
        elif k < 0.8:
            s = ('SELECT count(*) FROM (SELECT %s AS cv FROM %s GROUP BY ROLLUP (%s)) g, medfraud.%s(g.cv) p'
                 % (agg, tbl, grp.split(',')[0], unpack))
        elif k < 0.9:
            s = ('SELECT sum(length(w)) FROM (SELECT %s OVER (PARTITION BY fixmedins_code ORDER BY at_tz '
                 'ROWS BETWEEN %d PRECEDING AND CURRENT ROW) AS w FROM %s) x'
                 % (agg.split(' FILTER')[0].replace(' ORDER BY at_tz)', ')').replace('DISTINCT ', ''),
                    self.ri(0, 5), tbl))
        else:
            s = ('SELECT count(*) FROM (SELECT %s, %s AS cv FROM %s WHERE %s GROUP BY %s HAVING count(*) > %d) g'
                 % (grp, agg, tbl, self.ch(['true', "dept = '11'", 'person_int % 3 = 0']), grp, self.ri(0, 3)))
        stmts = []
        if (parallel or self.p(0.15)) and not sure:
            stmts = ['BEGIN'] + ['SET LOCAL ' + x[4:] for x in self.parallel()]
            if self.p(0.3):
                stmts.append('SET LOCAL enable_hashagg = off')
            stmts.append(s)
            stmts.append('COMMIT')
            return Case('covisit_agg', 'agg_parallel', stmts, explain=len(stmts) - 2)
        return Case('covisit_agg', 'agg', [s], explain=0)

    def t_agg_support_direct(self):
        """Support functions called directly, outside an aggregate (internal args can only be NULL)."""
        s = self.ch(["SELECT medfraud.covisit_agg_final(NULL)", "SELECT medfraud.covisit_agg_combine(NULL, NULL)",
                     "SELECT medfraud.covisit_agg_trans(NULL, 'a'::text, now(), '1 hour')",
                     "SELECT medfraud.covisit_agg_trans(NULL, 1::int8, now(), '1 hour', 3)",
                     "SELECT medfraud.covisit_agg_serial(NULL)", "SELECT medfraud.covisit_agg_deserial('\\x00'::bytea, NULL)",
                     "SELECT medfraud.covisit_agg_trans(NULL, NULL::text, NULL, NULL)",
                     "SELECT medfraud.covisit_agg_trans_providers(NULL, 'a'::text, now(), '1 hour', 3, 'H1')",
                     "SELECT medfraud.covisit_agg_trans_providers(NULL, 1::int8, now(), '1 hour', 3, NULL)"])
        return Case('covisit_agg', 'support_direct', s)

    SET_HEADER = struct.Struct('<4sBBHiiq')

    def cv_bytes(self, mode):
        """A co-visit set expression: stored, or damaged, or forged."""
        src = self.ch(['(SELECT cv FROM fz.cv ORDER BY k OFFSET %d LIMIT 1)' % self.ri(0, max(self.F.get('cv', 1) - 1, 0)),
                       '(SELECT cv FROM fz.cv_int ORDER BY k OFFSET %d LIMIT 1)' % self.ri(0, max(self.F.get('cv_int', 1) - 1, 0))])
        if mode == 'valid':
            return src
        k = self.r.random()
        if k < 0.2:
            return 'set_byte(%s, %d %% greatest(length(%s), 1), %d)' % (src, self.ri(0, 400), src, self.ri(0, 255))
        if k < 0.35:
            return 'substr(%s, 1, %d)' % (src, self.ri(0, 64))
        if k < 0.45:
            return "%s || '\\x%s'::bytea" % (src, ''.join('%02x' % self.ri(0, 255) for _ in range(self.ri(1, 40))))
        if k < 0.55:
            return "overlay(%s placing '\\xffffffff'::bytea from %d)" % (src, self.ri(1, 40))
        if k < 0.8:
            version = self.ch([1, 1, 0, 2, 2, 255])
            hdr = self.SET_HEADER.pack(self.ch([b'MFCV', b'MFCX', b'\0\0\0\0']), version,
                                       self.ch([0, 1, 2, 3, 255]), self.ch([0, 0, 1]),
                                       self.ch([0, 1, 2, 3, -1, 2147483647, 1000]), self.ch([0, 0, 7]),
                                       self.ch([0, 1, 2, -1, 9223372036854775807, 100, 2 ** 40]))
            body = bytes(self.ri(0, 255) for _ in range(self.ri(0, 120)))
            if self.p(0.5):
                # persons: lengths then bytes, then records
                if version == 2:
                    # packed records (covisit_set.h): varints, the weight's 8 bytes, varints
                    rec = (b''.join(bytes(self.ch([[0], [1], [0x80, 0x01], [0xff] * 10, [0x80]])) for _ in range(4)) +
                           struct.pack('<d', self.ch([0.5, float('nan'), float('inf'), -1.0])) +
                           b''.join(bytes(self.ch([[0], [2], [0xff] * 9 + [0x01], [0x80] * 11])) for _ in range(2)))
                else:
                    rec = struct.pack('<iiiidqq', self.ch([0, 1, -1, 2]), self.ch([0, 1, 5]), self.ri(-5, 5), 1,
                                      self.ch([0.5, float('nan'), float('inf'), -1.0]), 0, 0)
                body = struct.pack('<I', self.ch([1, 0, 5, 2 ** 31, 2 ** 32 - 1])) + b'ab' + rec + body
            return "'\\x%s'::bytea" % (hdr + body).hex()
        return self.ch(["'\\x'::bytea", 'NULL', "'MFCV'::bytea", "decode(repeat('00', 4096), 'hex')",
                        "convert_to('MFCV', 'UTF8')"])

    def t_covisit_merge(self, mode, with_parts=None, base64=False):
        """covisit_merge over the stored sets (whole, in parts, with damaged or mixed
        sets, varying or bad arguments), unpacked; or its support functions called
        directly."""
        if mode == 'hostile' and self.p(0.25):
            return Case('covisit_merge', 'support_direct', self.ch([
                "SELECT medfraud.covisit_merge_final(NULL)",
                "SELECT medfraud.covisit_merge_trans(NULL, '\\x00'::bytea, 2)",
                "SELECT medfraud.covisit_merge_trans(NULL, NULL::bytea, 2, 0, 1)",
                "SELECT medfraud._covisit_merge_base64_trans(NULL, 'QUJD', 2)"]))
        tbl = self.ch(['cv', 'cv_int'])
        cv = 'c.cv' if mode == 'valid' or self.p(0.5) else self.cv_bytes(mode)
        if mode == 'valid':
            md = str(self.ri(1, 4))
            parts = None if (self.p(0.5) if with_parts is None else not with_parts) else self.ri(1, 4)
        else:
            # one thing wrong: the set, min_days or the parts (the rest valid)
            bad = self.ch(['cv', 'md', 'parts']) if cv == 'c.cv' else 'cv'
            md = self.ch(['0', '-1', 'NULL', 'length(c.cv) % 3', '2147483647']) if bad == 'md' else '2'
            parts = self.ch([0, -1, 'NULL']) if bad == 'parts' else self.ch([None, 3])
        src = 'fz.%s c' % tbl
        if parts is None and base64:
            # the sets as shards send them: base64 text, or text that is not
            txt = ('medfraud._covisit_set_base64(%s)' % cv if mode == 'valid' or self.p(0.5)
                   else self.ch(["'===='", "'QUJD'", "'QU=J'", "'abc'", "repeat('A', 4097)", "NULL::text",
                                 "encode(%s, 'hex')" % cv, "'%s'" % ('\\' * 4)]))
            agg = 'medfraud._covisit_merge_base64(%s, %s)' % (txt, md)
        elif parts is None:
            agg = 'medfraud.covisit_merge(%s, %s)' % (cv, md)
        elif isinstance(parts, int) and parts > 0:
            agg = 'medfraud.covisit_merge(%s, %s, g.part, %d)' % (cv, md, parts)
            return Case('covisit_merge', 'parts',
                        'SELECT count(*), sum(p.weight) FROM generate_series(0, %d) g(part), LATERAL (SELECT %s AS m FROM %s) x, '
                        'medfraud.covisit_pairs(x.m) p' % (parts - 1 + (0 if mode == 'valid' else self.ri(0, 1)), agg, src),
                        explain=0)
        else:
            agg = 'medfraud.covisit_merge(%s, %s, %s, %s)' % (cv, md, self.ch(['0', '-1', 'NULL', '5']), parts)
        if mode != 'valid' and self.p(0.3):
            src = '(SELECT cv FROM fz.cv UNION ALL SELECT cv FROM fz.cv_int) c'
        return Case('covisit_merge', 'agg',
                    ['SELECT count(*), sum(p.weight) FROM (SELECT %s AS m FROM %s) x, medfraud.covisit_pairs(x.m) p' % (agg, src)],
                    explain=0)

    def t_merge_bytes(self, mode):
        """covisit_merge_bytes of a stored, damaged or forged set; or summed over the
        sets into a part count, then the merge in that many parts."""
        cv = self.cv_bytes(mode)
        if mode == 'valid' and self.p(0.4):
            return Case('covisit_merge_bytes', 'parts',
                        "SELECT count(*) FROM (SELECT greatest(1, ceil(sum(medfraud.covisit_merge_bytes(cv)) * 1.5 "
                        "/ pg_size_bytes(current_setting('medfraud.max_graph_memory'))))::int AS n FROM fz.cv) n, "
                        "generate_series(0, n.n - 1) k, LATERAL (SELECT medfraud.covisit_merge(c.cv, 2, k, n.n) AS m FROM fz.cv c) x, "
                        "medfraud.covisit_pairs(x.m) p", explain=0)
        return Case('covisit_merge_bytes', 'scalar', 'SELECT medfraud.covisit_merge_bytes(%s)' % cv)

    def t_pairs(self, fn, mode):
        cv = self.cv_bytes(mode)
        if fn == 'covisit_days':
            call = 'medfraud.covisit_days(%s%s)' % (cv, self.ch(['', ', true', ', false', ', NULL']) if mode != 'valid'
                                                     else self.ch(['', ', true', ', false']))
        else:
            call = 'medfraud.covisit_pairs(%s)' % cv
        if self.p(0.25):
            s = 'SELECT count(*) FROM fz.%s c, LATERAL medfraud.%s(c.cv) p' % (self.ch(['cv', 'cv_int']), fn)
            return Case(fn, 'lateral_table', s)
        return self.wrap_srf(fn, call, PAIRS_COLS)

    def t_demo_city(self, mode):
        if mode == 'valid':
            return Case('generate_demo_city', 'rollback', [
                'BEGIN', "SET LOCAL statement_timeout = '30s'", "SELECT medfraud.generate_demo_city('fz_city', persons => 1000, days => %d, rings => %d, seed => %d)"
                % (self.ri(7, 9), self.ri(0, 2), self.ri(-5, 99)), 'SELECT count(*) FROM fz_city.setl_d',
                'ROLLBACK'])
        schema = self.ch(["'f'", "'fz'", "''", "'pg_catalog'", "'张三'", "%s" % lit('x' * 80), 'NULL', "'public'",
                          "'fz_city'", "'pg_temp'", "'medfraud'", "'a\"b'"])
        persons = self.ival(mode, [1000], ['999', '20000001', '0'])
        days = self.ival(mode, [7], ['6', '3661'])
        rings = self.ival(mode, [0, 5], ['6', '-1'])
        args = [schema, 'persons => %s' % persons, 'days => %s' % days, 'rings => %s' % rings]
        if self.p(0.3):
            args.append('seed => %s' % self.ival(mode, [1]))
        return Case('generate_demo_city', 'rollback', ['BEGIN', "SET LOCAL statement_timeout = '30s'",
                                                       'SELECT medfraud.generate_demo_city(%s)' % ', '.join(args),
                                                       'ROLLBACK'])

    def t_demo_u(self, mode):
        key = self.ch(['(random() * 1e12)::int8', '(SELECT max(person_int) FROM fz.c_text)', 'g::int8 + (random() * 0)::int8',
                       '(-9223372036854775807 - 1) + (random() * 0)::int8', '9223372036854775807 - (random() * 0)::int8'])
        seed = self.ival(mode, [1, 7, -3, 2147483647], ['NULL'])
        if self.p(0.5):
            return Case('_demo_u', 'rows', 'SELECT sum(medfraud._demo_u(%s, %s)) FROM generate_series(1, %d) g'
                        % (key, seed, self.ri(1, 20)))
        return self.wrap_scalar('_demo_u', 'medfraud._demo_u(%s, %s)' % (key.replace('g::int8', '5::int8'), seed))

    def t_detect_rings(self, mode, proc=False):
        claims = self.regclass(mode, ['f.setl_d', 'fz.v_valid', 'fz.setl_odd', 'fz.v_setl_nested', 'fz.v_setl_check',
                                      'fz.v_setl_agg'] + (['fz.v_setl_reenter'] if mode != 'valid' else []))
        items = self.ch(["'f.fee_list_d'", "'f.fee_list_d'", 'NULL', "'fz.v_items_graph'"]) if mode == 'valid' else \
            self.regclass(mode, ['f.fee_list_d', 'fz.v_items_check'])
        opts = self.ring_opts(mode)
        if mode == 'valid' and self.p(0.9):
            # a few days of claims: the whole pipeline, in a fraction of the time
            d = self.ri(1, 24)
            opts = lit(json.dumps({'from': '2025-01-%02d' % d, 'to': '2025-01-%02d' % (d + self.ri(3, 7)),
                                   'progress': self.p(0.2), 'keep_runs': self.ch([1000000, 1000, 3]),
                                   'baseline_groups': self.ch([2, 5, 10]),
                                   'algorithm': self.ch(['scan', 'scan', 'louvain', 'label_propagation'])})) + '::jsonb'
        n = self.ri(1, 3)
        if proc and mode == 'valid':
            # (the procedure's scheduled call with the few days' options: the
            # whole fixture city can outlast the cases' statement_timeout)
            n = 3
        args = [claims, items, opts][:n] if mode != 'valid' or n > 1 else [claims]
        if self.p(0.2):
            args = ['claims => %s' % claims] + (['options => %s' % opts] if n > 1 else [])
        if proc:
            call = 'CALL medfraud.run_scheduled(%s)' % ', '.join(args)
        else:
            call = 'SELECT medfraud.detect_rings(%s)' % ', '.join(args)
        follow = []
        for _ in range(self.ri(0, 2)):
            follow.append(self.ch([
                'SELECT count(*) FROM %s' % self.check_claim_call('valid'),
                'SELECT length(medfraud.ring_graph(1))',
                "SELECT count(*) FROM medfraud.expand_ring(ARRAY[%s])" % lit(self.member()),
                'SELECT status, error_sqlstate FROM medfraud.runs ORDER BY run_id DESC LIMIT 1']))
        return Case('run_scheduled' if proc else 'detect_rings', 'rollback',
                    ['BEGIN'] + ([('SET LOCAL medfraud.max_graph_memory = %s' % self.ch(["'1MB'", "'2MB'"]))]
                                 if self.p(0.05) else []) + [call] + follow + ['ROLLBACK'])

    def t_ring_options(self, mode):
        return self.wrap_scalar('ring_options', 'medfraud.ring_options(%s)' % self.ring_opts(mode))

    def t_anomaly_options(self, mode):
        return self.wrap_scalar('anomaly_options', 'medfraud.anomaly_options(%s)' % self.anom_opts(mode))

    def t_default(self, fn, mode):
        e = self.ch(['medfraud.%s()' % fn, 'medfraud.%s() -> \'columns\'' % fn, 'jsonb_pretty(medfraud.%s())' % fn,
                     '(SELECT count(*) FROM jsonb_each(medfraud.%s()))' % fn])
        return self.wrap_scalar(fn, e)

    def t_merge_options(self, mode):
        d = self.ch(['medfraud.ring_options_default()', 'medfraud.anomaly_options_default()',
                     'medfraud.prepayment_options_default()'] + (["'{}'", "'[]'", 'NULL', "'{\"a\": {}}'"]
                                                               if mode != 'valid' else []))
        o = self.ch([self.ring_opts(mode), self.anom_opts(mode), self.prepay_opts(mode)])
        tk = self.ch(["'{items,persons}'", "'{}'", "'{items}'"] + (["NULL", "'{NULL}'", "'{columns}'", "'{min_days}'"]
                                                                  if mode != 'valid' else []))
        tm = self.ch(["'{from,to}'", "'{}'"] + (["NULL", "'{columns}'", "'{window}'"] if mode != 'valid' else []))
        ex = self.ch(["'{\"min_days\": 3}'", "''", 'NULL', lit(self.text())])
        return self.wrap_scalar('_merge_options', 'medfraud._merge_options(%s, %s, %s, %s, %s)' % (d, o, tk, tm, ex))

    def t_check_option(self, mode):
        doc = self.ch(['medfraud.ring_options_default()', "'{\"k\": 5}'", "'{\"k\": \"x\"}'", "'{\"k\": 1e400}'",
                       "'{\"k\": null}'", "'{}'", "'{\"k\": [1]}'", 'NULL', "'{\"k\": \"NaN\"}'"])
        key = self.ch(["'k'", "'min_days'", "'mu'", 'NULL', "''"])
        lo = self.fval(mode, [0, 1, -1e308])
        hi = self.fval(mode, [10, 1e308, 100])
        return self.wrap_scalar('_check_option', 'medfraud._check_option(%s, %s, %s, %s)' % (doc, key, lo, hi), void=True)

    def t_option_window(self, mode):
        w = self.ch(['"30 minutes"', '"1 day"', '"1 second"']) if mode == 'valid' else \
            self.ch(['"0"', '"x"', '"25 hours"', '"1 month"', '1', 'null', '"-1 hour"', '"1000000 years"', '""',
                     '"24:00:00.000001"', '"P1D"', '"@ 1 hour ago"'])
        doc = self.ch(['{"window": %s}' % w, '{"window": %s, "x": 1}' % w])
        e = 'medfraud._option_window(%s)' % self.ch([lit(doc), "medfraud.ring_options_default() || %s" % lit(doc)])
        if mode == 'hostile' and self.p(0.3):
            e = 'medfraud._option_window(NULL)'
        return self.wrap_scalar('_option_window', e)

    def t_ring_score(self, mode):
        vals = [self.fval(mode, [0, 1.5, 3, 10, -2, 0.2, 1]) for _ in range(6)]
        return self.wrap_scalar('ring_score', 'medfraud.ring_score(%s)' % ', '.join(vals))

    def t_amount_band(self, mode):
        v = self.ch(['0', '9.99', '10', '99.999', '1000', '9999.99', '10000', '1e20', '-5']) if mode == 'valid' else \
            self.ch(["'NaN'::numeric", "'Infinity'::numeric", "'-Infinity'::numeric", 'NULL', '1e1000', '-1e-1000',
                     "'x'", '(random() * 20000)::numeric'])
        if self.p(0.3):
            return Case('amount_band', 'rows', 'SELECT medfraud.amount_band(det_item_fee_sumamt), count(*) FROM '
                        'f.fee_list_d GROUP BY 1')
        if self.p(0.1):
            return Case('amount_band', 'gen_col', [
                'BEGIN', 'CREATE TEMP TABLE fzt (a numeric, b text GENERATED ALWAYS AS (medfraud.amount_band(a)) STORED)',
                'INSERT INTO fzt(a) VALUES (%s), (1), (NULL)' % v, 'CREATE INDEX ON fzt (medfraud.amount_band(a))',
                'SELECT * FROM fzt', 'ROLLBACK'])
        return self.wrap_scalar('amount_band', 'medfraud.amount_band(%s)' % v)

    def t_rule_predicate(self, mode):
        cond = self.ch(['{"fixmedins_code": "H1", "med_list_codg": "X1"}', '{"hour_band": "08"}',
                        '{"amount_band": "100-1000"}', '{"amount_band": "10000-"}', '{"dise_codg": "N18.5", "med_type": "11"}',
                        '{}']) if mode == 'valid' else \
            self.ch(['{"hour_band": "x"}', '{"hour_band": "2147483647"}', '{"hour_band": "-2147483648"}',
                     '{"amount_band": "abc"}', '{"amount_band": "1-2-3"}', '{"amount_band": ""}', '{"nope": "x"}',
                     '{"fixmedins_code": null}', '{"fixmedins_code": 1}', '{"med_list_codg": ["a"]}',
                     '{"med_list_codg": {"x": 1}}', '[]', '"x"', '{"fixmedins_code": "%s"}' % json.dumps(self.text())[1:-1],
                     '{"amount_band": "1e400-"}', '{"amount_band": "0-NaN"}'])
        c = self.ch(["medfraud.ring_options_default() -> 'columns'", "'{}'", 'NULL', "'{\"fixmedins_code\": \"a\\\"b\"}'"])
        ic = self.ch(["medfraud.ring_options_default() -> 'item_columns'", "'{}'", 'NULL'])
        internal = self.ch(['true', 'false', 'NULL'])
        return self.wrap_scalar('_rule_predicate', 'medfraud._rule_predicate(%s, %s, %s, %s)'
                                % (self.q(cond), c, ic, internal))

    def t_check_columns(self, mode):
        rel = self.regclass(mode, ['f.setl_d', 'fz.setl_odd', 'f.fee_list_d'])
        cols = self.ch(["medfraud.ring_options_default() -> 'columns'", "medfraud.ring_options_default() -> 'item_columns'",
                        "'{}'", "'{\"a\": \"psn_no\"}'"] + (["'{\"a\": \"nope\"}'", 'NULL', "'[]'", "'{\"a\": 1}'",
                                                            "'{\"a\": null}'", "'{\"a\": \"ctid\"}'"] if mode != 'valid' else []))
        what = self.ch(["'claims'", "'items'", 'NULL'])
        return self.wrap_scalar('_check_columns', 'medfraud._check_columns(%s, %s, %s)' % (rel, cols, what), void=True)

    def t_expand_ring(self, mode):
        if mode == 'valid':
            seeds = 'ARRAY[%s]' % ', '.join(lit(self.member()) for _ in range(self.ri(1, 4)))
        else:
            seeds = self.ch(["'{}'::text[]", 'NULL', "ARRAY[NULL]::text[]", "ARRAY[%s]" % lit(self.text()),
                             "ARRAY(SELECT psn_no FROM f.psn_info_b)", "'{{a,b},{c,d}}'::text[]",
                             "ARRAY[%s, NULL]" % lit(self.member()), "'[5:6]={a,b}'::text[]"])
        args = [seeds]
        if self.p(0.6):
            args.append(self.run_id(mode if self.p(0.5) else 'valid'))
            if self.p(0.5):
                args.append(self.ival(mode, [1, 5, 100, 100000], ['0', '-1']))
        call = 'medfraud.expand_ring(%s)' % ', '.join(args)
        if self.p(0.1):
            return Case('expand_ring', 'lateral_table',
                        'SELECT m.psn_no, x.* FROM (SELECT psn_no FROM medfraud.ring_members ORDER BY psn_no LIMIT %d) m, '
                        'LATERAL medfraud.expand_ring(ARRAY[m.psn_no], max_candidates => 3) x' % self.ri(1, 4))
        return self.wrap_srf('expand_ring', call, ['psn_no', 'score', 'evidence'])

    def t_pipeline_by_hand(self, target, mode):
        """detect_rings' stages called one by one, as _ring_pipeline calls
        them (the order and arguments are read from its source when the
        catalogue is loaded), on a run row of their own; out of order,
        repeated or cut short when not 'valid'."""
        stages = self.F.get('_stages') or []
        if not stages:
            return self.t_detect_rings('valid')
        d = self.ri(1, 24)
        o = 'medfraud.ring_options(%s)' % lit(json.dumps({'from': '2025-01-%02d' % d, 'to': '2025-01-%02d' % (d + self.ri(3, 6)),
                                                          'progress': False, 'baseline_groups': 5}))
        claims = self.ch(["'fz.v_valid'::regclass", "'f.setl_d'::regclass", "'fz.setl_odd'::regclass"])
        items = self.ch(["'f.fee_list_d'::regclass", "'f.fee_list_d'::regclass", 'NULL::regclass'])
        env = {'run': '-7', 'claims': claims, 'items': items, 'o': o, 'win': "interval '30 minutes'",
               'wide': "interval '1 day'" if items != 'NULL::regclass' else 'NULL::interval',
               't': 'clock_timestamp()', 'n': '0', 'nrings': '1'}
        calls = []
        for name, args in stages:
            a = re.sub(r'\b(run|claims|items|o|win|wide|t|n|nrings)\b', lambda m: env[m.group(1)], args)
            calls.append('SELECT medfraud.%s(%s)' % (name, a))
        if mode != 'valid':
            k = self.r.random()
            if k < 0.4:
                self.r.shuffle(calls)
            if k < 0.8:
                calls = calls[:self.ri(1, len(calls))]
            if self.p(0.3):
                i = self.ri(0, len(calls) - 1)
                calls.insert(i, calls[i])
            if self.p(0.3):
                calls.append('SELECT medfraud._ring_drop_temp()')
                calls.append(self.ch(calls[:-1]))
        elif target not in [n for n, _ in stages] and target != '_ring_pipeline':
            pass
        head = ["INSERT INTO medfraud.runs(run_id, claims, items, options) VALUES (-7, 'f.setl_d', 'f.fee_list_d', %s)" % o]
        if target == '_ring_pipeline':
            calls = ['SELECT medfraud._ring_pipeline(-7, %s, %s, %s)' % (claims, items, o)]
        return Case(target, 'by_hand', ['BEGIN', "SET LOCAL statement_timeout = '20s'"] + head + calls + ['ROLLBACK'])

    def t_person_anomalies(self, mode):
        claims = self.regclass(mode, ['f.setl_d', 'fz.v_valid', 'fz.setl_odd', 'fz.v_setl_nested', 'fz.v_setl_check'])
        opts = self.anom_opts(mode)
        if mode == 'valid' and self.p(0.5):
            opts = "'{\"items\": \"f.fee_list_d\", \"persons\": \"f.psn_info_b\"}'"
        call = 'SELECT medfraud.person_anomalies(%s%s)' % (claims, '' if self.p(0.2) else ', ' + opts)
        follow = ['SELECT count(*) FROM %s' % self.check_claim_call('valid') for _ in range(self.ri(0, 2))]
        return Case('person_anomalies', 'rollback', ['BEGIN', call] + follow + ['ROLLBACK'])

    def t_history_sql(self, mode):
        arun = self.ch([str(x) for x in (self.F.get('anomaly_runs') or [1])])
        if mode == 'valid':
            return self.wrap_scalar('_history_sql', 'length(medfraud._history_sql(%s))' % arun)
        mut = self.ch(["UPDATE medfraud.anomaly_runs SET options = options || %s" % self.anom_opts('hostile'),
                       "UPDATE medfraud.anomaly_runs SET claims = %s" % lit(self.ch(['nope', 'fz.e', 'pg_class', '', 'f.setl_d; x',
                                                                                   'fz.v_setl_check', 'fz.setl_odd'])),
                       "UPDATE medfraud.anomaly_runs SET items = %s" % lit(self.ch(['nope', 'fz.e', 'f.setl_d', '"f"."fee_list_d"'])),
                       "UPDATE medfraud.anomaly_runs SET options = jsonb_set(options, '{columns,psn_no}', %s)"
                       % lit(json.dumps(self.text())),
                       "UPDATE medfraud.anomaly_runs SET options = '{}'"])
        return Case('_history_sql', 'mutated', ['BEGIN', mut, 'SELECT length(medfraud._history_sql(%s))'
                                                % self.ch([arun, 'NULL', '-1', '0']), 'ROLLBACK'])

    def t_check_batch(self, mode):
        n = self.ri(0, 4)
        ids = [lit(self.ch(self.F.get('setl_ids') or ['S1'])) for _ in range(n)]
        psns = [lit(self.person()) for _ in range(n)]
        provs = [lit(self.provider()) for _ in range(n)]
        ats = [self.ts('valid') for _ in range(n)]
        mts = [lit(self.ch(['11', '14', '41'])) for _ in range(n)]
        dxs = [lit(self.ch(self.F.get('dx') or ['A00'])) for _ in range(n)]
        amts = [str(self.ri(1, 9000)) for _ in range(n)]
        m = self.ri(0, 5)
        lno = [str(self.ri(1, max(n, 1))) for _ in range(m)]
        litem = [lit(self.item()) for _ in range(m)]
        lqty = [self.ch(['1', '3', '10', '0.5']) for _ in range(m)]
        lamt = [self.ch(['10', '500.5', '20000']) for _ in range(m)]
        cols = [('text', ids), ('text', psns), ('text', provs), ('timestamptz', ats), ('text', mts), ('text', dxs),
                ('numeric', amts), ('int4', lno), ('text', litem), ('numeric', lqty), ('numeric', lamt)]
        args = ['ARRAY[%s]::%s[]' % (', '.join(v), t) for t, v in cols]
        if mode != 'valid':
            for _ in range(self.ri(1, 3)):
                i = self.ri(0, len(args) - 1)
                t = cols[i][0]
                args[i] = self.ch(['NULL', "'{}'::%s[]" % t, 'ARRAY[NULL]::%s[]' % t,
                                   'ARRAY[%s]::%s[]' % (', '.join(cols[i][1] + cols[i][1]), t) if cols[i][1] else 'NULL',
                                   "'{{1}}'::%s[]" % t if t in ('int4', 'numeric') else 'NULL'])
            if self.p(0.3):
                args[7] = 'ARRAY[%s]::int4[]' % ', '.join(self.ch(['0', '-1', '2147483647', '99', 'NULL']) for _ in range(m))
        call = 'medfraud._check_batch(%s)' % ', '.join(args)
        return self.wrap_srf('_check_batch', call, ['claim_no', 'rule_id', 'rule_name'])

    def cache_mutation(self):
        run = self.ch(self.runs)
        conds = ['{"hour_band": "x"}', '{"hour_band": "99"}', '{"hour_band": "-1"}', '{"amount_band": "abc"}',
                 '{"amount_band": ""}', '{"fixmedins_code": null}', '{"fixmedins_code": 1}', '{"med_list_codg": ["a"]}',
                 '{"med_list_codg": {"x": 1}}', '{}', '{"unknown": "x"}', '[]', 'null', '"x"',
                 json.dumps({'fixmedins_code': self.text(), 'med_list_codg': self.item()}),
                 json.dumps({'fixmedins_code': self.provider(), 'med_list_codg': self.item(), 'amount_band': '100-1000'}),
                 json.dumps({'hour_band': '%02d' % self.ri(0, 23), 'dise_codg': self.ch(self.F.get('dx') or ['A'])}),
                 json.dumps({'med_list_codg': 'y' * 3000})]
        return self.ch([
            "UPDATE medfraud.rules SET conditions = %s WHERE run_id = %d" % (lit(self.ch(conds)), run),
            "UPDATE medfraud.rules SET conditions = %s WHERE run_id = %d AND rule_id = (SELECT min(rule_id) FROM medfraud.rules WHERE run_id = %d)"
            % (lit(self.ch(conds)), run, run),
            "UPDATE medfraud.rules SET confidence = %s, lift = %s WHERE run_id = %d"
            % (self.ch(["'NaN'", "'Infinity'", '-1', '1e308']), self.ch(["'NaN'", "'-Infinity'", '0']), run),
            "UPDATE medfraud.rules SET ring_ids = %s WHERE run_id = %d" % (self.ch(["'{}'", "'{-1,0}'", "array_fill(1, ARRAY[500])"]), run),
            "INSERT INTO medfraud.rules(run_id, rule_id, ring_ids, conditions, predicate, ring_claims, matched_claims, support, confidence, lift) "
            "SELECT run_id, rule_id + 1000 + g, ring_ids, conditions, predicate, ring_claims, matched_claims, support, confidence, lift "
            "FROM medfraud.rules, generate_series(1, %d) g WHERE run_id = %d" % (self.ri(1, 300), run),
            "DELETE FROM medfraud.rules WHERE run_id = %d" % run,
            "DELETE FROM medfraud.runs WHERE run_id = %d" % run,
            "DELETE FROM medfraud.runs",
            "UPDATE medfraud.runs SET status = 'failed' WHERE run_id = %d" % run,
            "UPDATE medfraud.runs SET options = options || %s WHERE run_id = %d" % (
                self.ch(["'{\"rule_min_score\": \"x\"}'", "'{\"rule_min_score\": 1e400}'", "'{\"rule_min_score\": null}'",
                         "'{\"rule_min_score\": -1}'"]), run),
            "UPDATE medfraud.rings SET score = %s WHERE run_id = %d" % (self.ch(["'NaN'", '100', '-5', "'Infinity'"]), run),
            "UPDATE medfraud.anomaly_runs SET options = options || %s" % self.ch(
                ["'{\"threshold\": \"x\"}'", "'{\"threshold\": 1e400}'", "'{\"threshold\": -1}'", "'{\"items\": null}'",
                 "'{\"exclude_refunds\": \"maybe\"}'"]),
            "UPDATE medfraud.anomaly_runs SET claims = %s" % lit(self.ch(['fz.v_setl_check', 'fz.v_setl_nested', 'nope',
                                                                       'fz.setl_odd', 'pg_class', 'fz.e'])),
            "UPDATE medfraud.anomaly_runs SET items = %s" % self.ch(["'fz.e'", 'NULL', "'nope'", "'f.setl_d'",
                                                                    "'fz.v_items_check'", "'fz.v_items_graph'"]),
            "UPDATE medfraud.anomaly_scores SET score = %s, fee_median = %s" % (self.ch(["'NaN'", '100', "'Infinity'"]),
                                                                              self.ch(['0', '-1', "'NaN'", '1e-30'])),
            "DELETE FROM medfraud.anomaly_runs",
            "UPDATE medfraud.item_limits SET max_qty_30d = %s, max_qty_per_visit = %s" % (self.ch(['1', 'NULL', '1e30']),
                                                                                        self.ch(['1', 'NULL', '0.0001'])),
            "DELETE FROM medfraud.item_limits",
            "INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit) VALUES (%s, 1) ON CONFLICT DO NOTHING"
            % lit(self.text() or 'z'),
            "SET LOCAL extra_float_digits = %d" % self.ri(-15, 3),
            "SET LOCAL search_path = fz, public",
            "SET LOCAL TimeZone = 'Pacific/Chatham'",
            "SELECT medfraud.detect_rings('fz.v_valid', NULL, %s)" % lit(json.dumps(
                {'from': '2025-01-08', 'to': '2025-01-15', 'progress': False, 'rule_min_score': 0})),
            "DISCARD PLANS", "DEALLOCATE ALL",
        ])

    def t_check_claim(self, mode):
        if self.p(0.3):
            # the per-backend caches against results changing under them
            cc = lambda: 'SELECT count(*) FROM %s' % self.check_claim_call('valid' if self.p(0.7) else 'near')
            s = ['BEGIN', cc(), self.cache_mutation(), cc()]
            if self.p(0.5):
                s += ['SAVEPOINT a', self.cache_mutation(), cc(), 'ROLLBACK TO SAVEPOINT a', cc()]
            s += [self.ch(['ROLLBACK', 'ROLLBACK', 'COMMIT' if False else 'ROLLBACK']), cc()]
            return Case('check_claim', 'cache', s)
        if self.p(0.1):
            return Case('check_claim', 'lateral_table',
                        'SELECT c.psn_no, x.* FROM (SELECT * FROM %s ORDER BY setl_time LIMIT %d OFFSET %d) c, '
                        'LATERAL medfraud.check_claim(c.psn_no, c.fixmedins_code, c.setl_time, amount => c.medfee_sumamt) x'
                        % (self.ch(['fz.c_text', 'fz.setl_odd', 'fz.c_null']), self.ri(1, 20), self.ri(0, 500)))
        return self.wrap_srf('check_claim', self.check_claim_call(mode), CHECK_COLS)

    def claim_rows(self, mode, n):
        """INSERT source rows for a settlement table (the f.setl_d shape)."""
        if mode == 'valid' or self.p(0.5):
            who = self.ch(["psn_no IN (SELECT psn_no FROM medfraud.ring_members)", 'true', "med_type = '41'",
                           'setl_id IN (SELECT setl_id FROM f.fee_list_d WHERE med_list_codg IN (SELECT med_list_codg FROM medfraud.item_limits))'])
            return 'SELECT * FROM f.setl_d WHERE %s ORDER BY setl_id LIMIT %d OFFSET %d' % (who, n, self.ri(0, 50))
        return ("(setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, med_type, dise_codg, medfee_sumamt, hifp_pay, "
                "refd_setl_flag, vali_flag, insutype) "
                "SELECT 'FZ' || g || setl_id, 'M' || g, %s, %s, %s, med_type, dise_codg, %s, hifp_pay, %s, vali_flag, insutype "
                "FROM f.setl_d, generate_series(1, %d) g ORDER BY setl_id LIMIT %d"
                % (self.ch(['psn_no', 'NULL', lit(self.text()), "psn_no || g"]),
                   self.ch(['fixmedins_code', 'NULL', lit(self.text())]),
                   self.ch(['setl_time', 'NULL', "'infinity'::timestamp", "setl_time + interval '1000 years'"]),
                   self.ch(['medfee_sumamt', 'NULL', "'NaN'::numeric", '1e30', '-medfee_sumamt']),
                   self.ch(['refd_setl_flag', "'1'", 'NULL']), self.ri(1, 2), n))

    def t_prepayment_trigger(self, mode):
        tbl = self.ch(['fz.setl_flag', 'fz.setl_reject'])
        n = self.ri(0, 30)
        s = ['BEGIN']
        if self.p(0.2):
            s.append('SET LOCAL medfraud.max_graph_memory = \'1MB\'')
        ins = 'INSERT INTO %s %s' % (tbl, self.claim_rows(mode, n))
        if self.p(0.15):
            ins = 'WITH x AS (%s RETURNING psn_no) SELECT count(*) FROM x' % ins
        s.append(ins)
        if self.p(0.3):
            s.append('INSERT INTO %s %s' % (self.ch(['fz.setl_flag', 'fz.setl_reject']), self.claim_rows(mode, self.ri(1, 5))))
        s.append('SELECT count(*) FROM medfraud.claim_alerts')
        s.append('ROLLBACK')
        return Case('_prepayment_trigger', 'rollback', s)

    def t_enable_check(self, target, mode):
        t = self.ch(['fzt', 'fzt', 'fz.setl_plain'])
        s = ['BEGIN', 'CREATE TEMP TABLE fzt (LIKE f.setl_d INCLUDING DEFAULTS)']
        if mode != 'valid' and self.p(0.3):
            t = self.ch(['fz.v_valid', 'fz.e', 'fz.c_part', '99999999::oid::regclass', 'NULL', 'fz.c_rls', 'fz.setl_flag'])
        tv = t if ('::' in t or t == 'NULL') else lit(t)
        md = self.ch(["'flag'", "'reject'"]) if mode == 'valid' else self.ch(["'FLAG'", "''", 'NULL', "'flag '", "'x'", "'reject'"])
        args = [tv]
        if self.p(0.8):
            args.append(md)
            if self.p(0.7):
                args.append(self.prepay_opts(mode))
        s.append('SELECT medfraud.enable_prepayment_check(%s)' % ', '.join(args))
        if self.p(0.3):
            s.append('SELECT medfraud.enable_prepayment_check(%s)' % ', '.join(args))
        s.append('SELECT * FROM medfraud.prepayment_checks')
        if t in ('fzt', 'fz.setl_plain'):
            s.append('INSERT INTO %s %s' % (t, self.claim_rows(mode, self.ri(0, 20))))
        # (a case aimed at disable_prepayment_check always calls it: the
        # scheduled round must reach it whatever the random stream)
        if target == 'disable_prepayment_check' or self.p(0.8):
            s.append('SELECT medfraud.disable_prepayment_check(%s)'
                     % (tv if target == 'disable_prepayment_check' or self.p(0.9) else self.regclass('hostile', [])))
            if self.p(0.3):
                s.append('SELECT medfraud.disable_prepayment_check(%s)' % tv)
        s.append('ROLLBACK')
        return Case(target, 'rollback', s)

    def t_load_item_limits(self, mode, csv_dir):
        good = ['limits_ok.csv', 'limits_subset.csv', 'limits_cjk.csv']
        bad = ['limits_dup.csv', 'limits_empty.csv', 'limits_badheader.csv', 'limits_nocode.csv', 'limits_badvalues.csv',
               'limits_huge.csv', 'limits_quotes.csv', 'limits_crlf.csv', 'limits_nullcode.csv']
        if mode == 'valid':
            path = lit(os.path.join(csv_dir, self.ch(good)))
        elif self.p(0.7):
            path = lit(os.path.join(csv_dir, self.ch(bad + good)))
        else:
            path = self.ch(["'/nonexistent/x.csv'", "''", 'NULL', "'/etc/hostname'", "'/dev/null'", "'x.csv'", "'/tmp'",
                            lit(csv_dir + "/it's.csv"), lit('/' + 'a' * 2000), "'pg_hba.conf'"])
        ra = self.ch(['', ', true', ', false', ', NULL'] if mode != 'valid' else ['', ', true', ', false'])
        s = ['BEGIN', 'SELECT medfraud.load_item_limits(%s%s)' % (path, ra),
             'SELECT count(*) FROM %s' % self.check_claim_call('valid'), 'ROLLBACK']
        return Case('load_item_limits', 'rollback', s)

    def t_ring_graph(self, mode):
        run, ring = self.ring(mode if self.p(0.6) else 'valid')
        fmt = self.ch(["'dot'", "'graphml'", "'json'"]) if mode == 'valid' else \
            self.ch(["' JSON '", "'DOT\n'", "'xml'", "''", 'NULL', "'张'", "'graphml'", "'Json'"])
        prov = self.ch(['NULL', "'f.fixmedins_b'", "'fz.prov_odd'", "'fz.prov_view'"]) if mode == 'valid' else \
            self.ch(["'fz.prov_nocols'", "'fz.e'", '99999999::oid::regclass', "'nope'", "'fz.prov_odd'", 'NULL'])
        args = [ring]
        k = self.ri(0, 3)
        if k >= 1:
            args.append(run)
        if k >= 2:
            args.append(fmt)
        if k >= 3:
            args.append(prov)
        if self.p(0.2) and k >= 2:
            args = ['ring_id => %s' % ring, 'format => %s' % fmt] + (['providers => %s' % prov] if k >= 3 else [])
        e = 'medfraud.ring_graph(%s)' % ', '.join(args)
        kk = self.r.random()
        if kk < 0.15:
            # the documents must parse: a malformed one is an error of its own
            return Case('ring_graph', 'parse', self.ch([
                "SELECT xmlparse(document medfraud.ring_graph(%s, %s, 'graphml', %s)) IS NOT NULL" % (ring, run, prov),
                "SELECT jsonb_array_length((medfraud.ring_graph(%s, %s, 'json', %s))::jsonb -> 'elements' -> 'nodes')"
                % (ring, run, prov)]))
        if kk < 0.3:
            return Case('ring_graph', 'lateral_table',
                        'SELECT r.run_id, r.ring_id, length(medfraud.ring_graph(r.ring_id, r.run_id, %s, %s)) '
                        'FROM medfraud.rings r ORDER BY 1, 2 LIMIT %d' % (fmt, prov, self.ri(1, 10)))
        return self.wrap_scalar('ring_graph', 'length(%s)' % e)

    def t_ring_graph_parts(self, mode):
        run, ring = self.ring(mode if self.p(0.5) else 'valid')
        names = self.ch(["'{}'", "(SELECT jsonb_object_agg(fixmedins_code, fixmedins_name) FROM fz.prov_odd)"]) \
            if mode == 'valid' else self.ch(["'[]'", "'null'", 'NULL', "'{\"x\": {\"y\": 1}}'", "'\"s\"'", "'[1,2]'"])
        return self.wrap_srf('_ring_graph_parts', 'medfraud._ring_graph_parts(%s, %s, %s)' % (run, ring, names),
                             ['nodes', 'edges'])

    def t_escape(self, fn, mode):
        if self.p(0.3):
            return Case(fn, 'rows', 'SELECT count(medfraud.%s(src)), max(length(medfraud.%s(dst))) FROM fz.e_odd' % (fn, fn))
        s = self.text() if mode != 'valid' or self.p(0.5) else self.ch(ODD_IDS)
        v = self.q(s) if not (mode == 'hostile' and self.p(0.2)) else self.ch(['NULL', "repeat(E'\\\\\"&', 100000)",
                                                                              "chr(65535)", "chr(1114111)", "chr(127)"])
        return self.wrap_scalar(fn, 'medfraud.%s(%s)' % (fn, v))

    def typed_arg(self, name, typ, n, mode, fname):
        """An argument for a parameter known only by its name and type."""
        if mode == 'hostile' and self.p(0.15):
            return 'NULL'
        name = name or ''
        arr = typ.endswith('[]')
        if name in ('run', 'run_id'):
            return self.run_id(mode)
        if name in ('arun', 'anomaly_run_id'):
            return str(self.ch(self.F.get('anomaly_runs') or [1])) if mode == 'valid' else self.ch(['NULL', '-1', '0'])
        if name in ('psns', 'psn_no'):
            v = [lit(self.person()) for _ in range(n)]
        elif name in ('provs', 'fixmedins_code'):
            v = [lit(self.provider()) for _ in range(n)]
        elif name in ('items', 'line_item') and arr:
            v = [lit(self.item()) for _ in range(n)]
        elif name in ('ats', 'at'):
            v = [self.ts('valid') for _ in range(n)]
        elif name == 'line_no':
            v = [str(self.ri(1, max(n, 1))) for _ in range(n)]
        elif name in ('o', 'options'):
            if 'anomal' in fname or 'person' in fname:
                return self.anom_opts(mode) if mode != 'valid' else 'medfraud.anomaly_options(%s)' % lit('{}')
            return self.ring_opts(mode) if mode != 'valid' else 'medfraud.ring_options(%s)' % lit('{}')
        elif name in ('claims',):
            return self.regclass(mode, ['f.setl_d', 'fz.v_valid'])
        elif name in ('items',):
            return self.regclass(mode, ['f.fee_list_d'])
        elif name in ('win', 'time_window'):
            return self.interval(mode)
        elif name in ('min_ring',):
            return self.fval(mode, [0, 20, 100])
        elif name in ('thr', 'threshold'):
            return self.fval(mode, [0.5, 3.5, 100])
        elif name == 'hour':
            return self.ival(mode, [0, 3, 4, 11, 12, 23], ['24', '-1', '2147483647'])
        elif name == 'path':
            files = sorted(os.listdir(self.csv_dir)) if os.path.isdir(self.csv_dir) else []
            if mode == 'valid' and 'indications' in (fname or '') and 'indications_ok.csv' in files:
                return lit(os.path.join(self.csv_dir, 'indications_ok.csv'))
            if mode == 'valid' and 'limits' in (fname or ''):
                return lit(os.path.join(self.csv_dir, 'limits_ok.csv'))
            if mode == 'valid' or (files and self.p(0.7)):
                return lit(os.path.join(self.csv_dir, self.ch(files or ['limits_ok.csv'])))
            return self.ch(["'/nonexistent/x.csv'", "''", "'/etc/hostname'", "'/dev/null'", "'x.csv'", "'/tmp'"])
        elif name == 'target':
            return self.regclass(mode, ['medfraud.item_limits', 'medfraud.item_indications'])
        elif name == 'required':
            return self.ch(["'{med_list_codg}'", "'{med_list_codg,dise_codg}'", "'{}'"] +
                           (["'{nope}'", "'{NULL}'", 'NULL'] if mode != 'valid' else []))
        elif name in ('dxs', 'dise_codg', 'indication'):
            v = [lit(self.ch(self.F.get('dx') or ['N18.5']) if mode == 'valid' or self.p(0.5) else self.text())
                 for _ in range(n)]
        else:
            base = typ[:-2] if arr else typ
            one = {
                'integer': lambda: self.ival(mode, [0, 1, 2, 7, 23]),
                'bigint': lambda: self.ival(mode, [1, 2, 7]),
                'smallint': lambda: self.ival(mode, [1, 2]),
                'double precision': lambda: self.fval(mode, [0, 0.5, 1, 3.5]),
                'numeric': lambda: self.ch(['1', '2.5', '100', '0']) if mode == 'valid' else
                self.ch(["'NaN'", '-1', '1e30', 'NULL']),
                'text': lambda: lit(self.text() if mode != 'valid' else self.ch(['fz', 'x', self.item()])),
                'name': lambda: lit(self.ch(['psn_no', 'fixmedins_code', 'setl_time'])),
                'boolean': lambda: self.ch(['true', 'false']),
                'jsonb': lambda: self.ring_opts(mode),
                'regclass': lambda: self.regclass(mode, ['f.setl_d', 'f.fee_list_d', 'fz.v_valid']),
                'interval': lambda: self.interval(mode),
                'timestamp with time zone': lambda: self.ts(mode),
                'bytea': lambda: self.cv_bytes(mode),
            }.get(base)
            if one is None:
                return 'NULL'
            if not arr:
                return one()
            v = [one() for _ in range(n)]
        if not arr:
            return v[0] if v else 'NULL'
        if mode != 'valid' and self.p(0.3):
            v = v + v if self.p(0.5) else v[:max(len(v) - 1, 0)]
        return 'ARRAY[%s]::%s' % (', '.join(v), typ) if v else "'{}'::%s" % typ

    def t_cases(self, target, mode):
        """The case life cycle in a transaction rolled back: a case on a
        ring of the newest run, a person, an alert or an emerging ring (or
        on nothing), verdicts (for members, strangers, bad words, NULLs),
        status moves good and bad, and writes to the append-only history."""
        vals = ["'confirmed'", "'cleared'"] + ([] if mode == 'valid' else ["'guilty'", 'NULL', "''"])
        reason = self.ch(["'seen on the bus'", "'neighbour'"] + ([] if mode == 'valid' else ["''", 'NULL', "' '"]))
        opener = self.ch(['medfraud.open_case((SELECT ring_id FROM medfraud.latest_rings ORDER BY ring_id LIMIT 1))',
                          "medfraud.open_case_person('fz-p1', 'n')",
                          'medfraud.open_case_alert((SELECT max(alert_id) FROM medfraud.claim_alerts))'] +
                         ([] if mode == 'valid' else ['medfraud.open_case(NULL)', 'medfraud.open_case(-1, -1)',
                                                      'medfraud.open_case_emerging(-1)', "medfraud.open_case_person('')"]))
        persons = self.ch(['(SELECT persons FROM medfraud.cases ORDER BY case_id DESC LIMIT 1)',
                           '(SELECT persons[1:1] FROM medfraud.cases ORDER BY case_id DESC LIMIT 1)'] +
                          ([] if mode == 'valid' else ["ARRAY['stranger']", 'NULL', "'{}'::text[]", 'ARRAY[NULL::text]']))
        last = '(SELECT max(case_id) FROM medfraud.cases)'
        st = ["'investigating'", "'confirmed'", "'cleared'", "'referred'"] + ([] if mode == 'valid' else ["'closed'", 'NULL', "'open'"])
        ops = ['SELECT medfraud.record_verdict(%s, %s, %s, %s)' % (last, persons, self.ch(vals), reason)
               for _ in range(self.ri(1, 3))]
        ops += ['SELECT medfraud.set_case_status(%s, %s)' % (last, self.ch(st)) for _ in range(self.ri(1, 3))]
        if mode != 'valid':
            ops += [self.ch(["UPDATE medfraud.case_history SET action = 'x'", 'DELETE FROM medfraud.case_history',
                             'TRUNCATE medfraud.case_history', 'DELETE FROM medfraud.verdicts', "UPDATE medfraud.cases SET note = 'n'"])]
            self.r.shuffle(ops)
        pre = []
        if target == 'open_case_emerging' or self.p(0.2):
            pre = ["INSERT INTO medfraud.emerging_rings(claims_table, kind, members, size, first_trip, latest_trip, joint_days, "
                   "density, tipping_claims, evidence) VALUES ('f.setl_d', 'emerging', ARRAY['fz-e1', 'fz-e2'], 2, now(), now(), "
                   "3, 1, '{}', '{}')"]
            opener = self.ch(['medfraud.open_case_emerging((SELECT max(emerging_id) FROM medfraud.emerging_rings))'] +
                             ([] if mode == 'valid' else ['medfraud.open_case_emerging(NULL)']))
        stmts = ['BEGIN'] + pre + ['SELECT %s' % opener] + ops + ['SELECT count(*) FROM medfraud.case_history', 'ROLLBACK']
        return Case(target, 'rollback', stmts)

    def t_shards(self, target, mode):
        """The sharded co-visit graph and the shard helpers, on the loopback
        shard of the fixtures (f.setl_d_sharded): covisit_edges_sharded with
        good and bad arguments (a table not partitioned, NULLs, windows),
        claims_shards and shards_check on good and bad tables, shard_plan
        with good and hostile server lists and options, and now and then a
        whole detect_rings on the sharded tables."""
        t = self.ch(["'f.setl_d_sharded'"] * 3 + ([] if mode == 'valid' else ["'f.setl_d'", "'fz.e'", 'NULL', "'pg_class'"]))
        win = self.ch(["'30 minutes'", "'1 hour'", "'5 minutes'"] + ([] if mode == 'valid' else ["'0'", "'-1 hour'", 'NULL', "'2 days'"]))
        md = self.ch(['1', '2', '3'] + ([] if mode == 'valid' else ['0', '-1', 'NULL']))
        mc = self.ch(['100', '10', '1000'] + ([] if mode == 'valid' else ['1', '0', 'NULL']))
        srv = self.ch(['\'[{"name": "x1", "host": "h1", "port": "5432", "dbname": "d"}, {"name": "x2", "host": "h2"}]\'',
                       '\'["fz_s1"]\''] +
                      ([] if mode == 'valid' else ["'[]'", "'{}'", 'NULL', '\'[{"host": "h"}]\'', '\'["no_such_server"]\'',
                                                   '\'[{"name": "a\'\';drop", "host": "h"}]\'', "'[1, 2]'"]))
        opts = self.ch(["'{}'", '\'{"copy": false}\'', '\'{"suffix": "_s2"}\''] +
                       ([] if mode == 'valid' else ['NULL', '\'{"nope": 1}\'', '\'{"copy": "yes"}\'', '\'{"provider": "no_col"}\'']))
        if target in ('_shard_bound_sql', '_shard_time_sql') and mode == 'valid':
            st = ("SELECT medfraud.%s('f.setl_d_sharded', 'setl_time', %s)"
                  % (target, "now()" if target == '_shard_bound_sql' else "'8 hours'"))
        elif target == 'shard_plan':
            st = "SELECT count(*) FROM medfraud.shard_plan(%s, %s, %s, %s)" % (
                self.ch(["'f.setl_d'"] + ([] if mode == 'valid' else ['NULL', "'f.setl_d_sharded'"])), srv,
                self.ch(["'f.fee_list_d'", 'NULL']), opts)
        elif target == '_shard_leaf_buckets':
            # (the build calls it for partitions never analyzed; the fixture's are)
            st = 'SELECT medfraud._shard_leaf_buckets(%s, %s, %s)' % (
                self.ch(["ARRAY(SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'f.setl_d_sharded'::regclass ORDER BY 1)"]
                        + ([] if mode == 'valid' else ['NULL', "'{}'::regclass[]", "ARRAY['pg_class'::regclass]"])),
                self.ch(["'true'", "'s.psn_no IS NOT NULL'"] + ([] if mode == 'valid' else ['NULL', "'nope'", "'1 / 0 = 1'"])),
                self.ch(['100', '1000', '1'] + ([] if mode == 'valid' else ['0', '-1', 'NULL'])))
        elif target == 'claims_shards':
            st = 'SELECT count(*) FROM medfraud.claims_shards(%s)' % t
        elif target == 'shards_check':
            st = 'SELECT medfraud.shards_check(%s)' % t
        elif target in ('detect_rings', '_shard_dup_visits') or self.p(0.03):
            # (_shard_dup_visits is called by detect_rings' sharded build only)
            st = ("SELECT medfraud.detect_rings('f.setl_d_sharded', 'f.fee_list_d_sharded', "
                  "'{\"progress\": false, \"keep_runs\": 100}')")
        else:
            st = ('SELECT count(*), sum(days) FROM medfraud.covisit_edges_sharded(%s, %s, %s, %s, %s, %s, %s)'
                  % (t, self.ch(["'psn_no'"] + ([] if mode == 'valid' else ["'nope'", 'NULL'])), "'fixmedins_code'",
                     "'setl_time'", win, md, mc))
        return Case(target, 'autocommit', [st])

    def t_claim_queue(self, target, mode):
        """Queue mode end to end, autocommit (drain_claims_for commits): a
        table of its own put in queue mode (or refused: bad modes, options,
        bounds), INSERTs, drains with good and bad max_claims, pause, resume,
        retry, a table changed under its queued claims, the status view, a
        short drain_claims_for and, for the worker functions, a worker started
        with good and bad naptimes and stopped; then everything removed."""
        t = 'fz.cq%d' % self.ri(1, 3)
        mc = str(self.ri(1, 30)) if mode == 'valid' else self.ch(['0', '-1', 'NULL', '2147483647', '1'])
        opt = self.ch(["'{}'", '\'{"items": "f.fee_list_d"}\'', '\'{"max_queue": 25}\''] +
                      ([] if mode == 'valid' else ['\'{"max_queue": 0}\'', '\'{"columns": {"setl_id": "nope"}}\'', 'NULL']))
        qmode = "'queue'" if mode == 'valid' or self.p(0.6) else self.ch(["'queued'", 'NULL', "'flag'", "''"])
        ins = lambda: 'INSERT INTO %s SELECT * FROM f.setl_d ORDER BY setl_id OFFSET %d LIMIT %d' % (t, self.ri(0, 400), self.ri(0, 30))
        ops = ['SELECT medfraud.drain_claim_queue(%s)' % mc, "SELECT medfraud.pause_claim_queue('%s')" % t,
               'SELECT medfraud.drain_claim_queue(%s, %s)' % (mc, self.ch(['false', 'true'] + ([] if mode == 'valid' else ['NULL']))),
               'SELECT medfraud.fold_live_graphs()',
               "SELECT medfraud.resume_claim_queue(%s)" % self.ch(["'%s'" % t, 'NULL']),
               'SELECT medfraud.retry_claim_queue(%s)' % self.ch(['NULL', "'%s'" % t]), ins(), ins(),
               'SELECT * FROM medfraud.stream_status',
               'CALL medfraud.drain_claims_for(%s, %s, 0.01, %s)' % (self.ch(['0', '0.05'] + ([] if mode == 'valid' else ['-1', 'NULL'])), mc,
                                                                      self.ch(["'all'", "'checks'", "'graphs'"] + ([] if mode == 'valid' else ["'x'", 'NULL'])))]
        if mode != 'valid':
            ops += ['ALTER TABLE %s RENAME COLUMN psn_no TO psn_x' % t, 'ALTER TABLE %s RENAME COLUMN psn_x TO psn_no' % t,
                    'DROP TABLE %s' % t, 'BEGIN', 'ROLLBACK']
        if target in LIVE_FNS or self.p(0.2):
            lopt = self.ch(["'{}'", '\'{"window": "1 hour", "min_days": 1}\'', '\'{"max_crowd": 3}\''] +
                           ([] if mode == 'valid' else ['\'{"window": "1 month"}\'', '\'{"window": "x"}\'',
                                                        '\'{"columns": {"mdtrt_id": "nope"}}\'', 'NULL']))
            live = ['SELECT medfraud.enable_live_graph(%s, %s)' % ("'%s'" % t, lopt),
                    "UPDATE %s SET vali_flag = '0' WHERE setl_id IN (SELECT setl_id FROM %s ORDER BY setl_id LIMIT %d)" % (t, t, self.ri(0, 5)),
                    "UPDATE %s SET setl_time = setl_time + interval '%d minutes' WHERE setl_id IN (SELECT setl_id FROM %s LIMIT 3)" % (t, self.ri(-90, 90), t),
                    'DELETE FROM %s WHERE setl_id IN (SELECT setl_id FROM %s ORDER BY setl_id DESC LIMIT %d)' % (t, t, self.ri(0, 4)),
                    "INSERT INTO %s SELECT setl_id || 'R', mdtrt_id, psn_no, fixmedins_code, setl_time, begndate, enddate, med_type, "
                    "insutype, dise_codg, dise_name, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt, inscp_scp_amt, "
                    "hifp_pay, fund_pay_sumamt, acct_pay, psn_cash_pay, '1', vali_flag FROM %s LIMIT 2" % (t, t),
                    'SELECT count(*), sum(weight) FROM medfraud.live_covisit_edges',
                    "SELECT medfraud.disable_live_graph(%s)" % self.ch(["'%s'" % t, 'NULL'] if mode != 'valid' else ["'%s'" % t])]
            if target in LIVE_FNS and mode == 'valid':
                # built, changed, then drained (which folds)
                ops = live[:1] + ops + live[1:-1] + ['SELECT medfraud.drain_claim_queue(%s)' % mc]
            else:
                ops += live
        if target in ('start_drain_worker', 'stop_drain_worker'):
            work = self.ch(["'all'", "'checks'", "'graphs'"] + ([] if mode == 'valid' else ["'both'", 'NULL', "''"]))
            ops += ['SELECT medfraud.start_drain_worker(%s, work => %s)' % (self.ch(["'20 ms'", "'1 s'"] + ([] if mode == 'valid' else ["'0'", 'NULL', "'2 hours'", "'-1 s'"])), work),
                    'SELECT medfraud.stop_drain_worker(%s)' % self.ch(['NULL', '-1'] if mode != 'valid' else ['NULL'])]
        if not (target in LIVE_FNS and mode == 'valid'):
            self.r.shuffle(ops)
            ops = ops[:self.ri(2, len(ops))]
        # the target's own call is always among them
        own = [o for o in ops if ('medfraud.%s(' % target) in o]
        if not own:
            mine = ['SELECT medfraud.start_drain_worker(%s)' % self.ch(["'20 ms'", "'1 s'"]),
                    'SELECT medfraud.stop_drain_worker()', "SELECT medfraud.pause_claim_queue('%s')" % t,
                    "SELECT medfraud.resume_claim_queue('%s')" % t, 'SELECT medfraud.retry_claim_queue()',
                    'CALL medfraud.drain_claims_for(0, %s, 0.01)' % mc, 'SELECT medfraud.fold_live_graphs()']
            ops += [o for o in mine if ('medfraud.%s(' % target) in o]
        stmts = ['CREATE TABLE IF NOT EXISTS %s (LIKE f.setl_d)' % t,
                 'SELECT medfraud.enable_prepayment_check(%s, %s, %s)' % ("'%s'" % t, qmode, opt), ins()]
        stmts += ops + ['SELECT medfraud.drain_claim_queue(%s)' % mc]
        stmts += ['ROLLBACK', 'SELECT medfraud.stop_drain_worker()', 'DELETE FROM medfraud.claim_queue',
                  "SELECT medfraud.disable_live_graph('%s') WHERE to_regclass('%s') IS NOT NULL" % (t, t),
                  'DELETE FROM medfraud.live_graph_dirty', 'DROP TABLE IF EXISTS %s' % t]
        return Case(target, 'queue', stmts)

    def t_typed(self, f, mode, plain=False):
        """A function with no builder of its own: arguments from its parameter names and types.
        plain: a top-level SELECT of the call (how an inlined SQL function is credited)."""
        n = self.ri(1, 4) if mode == 'valid' else self.ri(0, 5)
        args = [self.typed_arg(nm, t, n, mode, f['name']) for nm, t in zip(f['argnames'], f['argtypes'])]
        call = 'medfraud.%s(%s)' % (f['name'], ', '.join(args))
        shape = 'plain' if plain else None
        if f['retset'] or f['outcols']:
            if not f['retset'] and len(f['outcols']) <= 1:
                return self.wrap_scalar(f['name'], call, shape=shape)
            if plain:
                # (an inlinable set-returning function is credited from a top-level SELECT)
                return Case(f['name'], 'plain', 'SELECT count(*) FROM %s c' % call)
            return self.wrap_srf(f['name'], call, f['outcols'] or ['1'])
        if f['kind'] == 'p':
            return Case(f['name'], 'call', ['BEGIN', 'CALL %s' % call, 'ROLLBACK'])
        return self.wrap_scalar(f['name'], call, void=f.get('rettype') == 'void', shape=shape)


GRAPH_FNS = set(GRAPH_COLS)
QUEUE_FNS = {'drain_claim_queue', 'drain_claims_for', 'fold_live_graphs', 'pause_claim_queue', 'resume_claim_queue', 'retry_claim_queue',
             'start_drain_worker', 'stop_drain_worker', '_enqueue_claims',
             'enable_live_graph', 'disable_live_graph', '_live_graph_fold', '_live_graph_mark', '_live_graph_recompute',
             '_live_graph_trigger', '_live_visit_sql', '_live_graph_emerging',
             '_live_column_type', '_live_merged_ranges_sql', '_live_dirty_sql'}
SHARD_FNS = {'covisit_edges_sharded', 'shard_plan', 'claims_shards', 'shards_check', '_shard_covisit_parts',
             '_shard_dup_visits', '_shard_covisit_sql', '_shard_merge_sql', '_shard_time_sql', '_shard_bound_sql',
             '_shard_fixed_offset', '_shard_columns_sql', '_claims_sharded', '_fdw_option', '_shard_leaf_buckets'}
CASE_FNS = {'open_case', 'open_case_person', 'open_case_alert', 'open_case_emerging', '_open_case', 'record_verdict',
            'set_case_status', '_case_audit', '_case_history_append_only'}
LIVE_FNS = {'enable_live_graph', 'disable_live_graph', '_live_graph_fold', '_live_graph_mark', '_live_graph_recompute',
            '_live_graph_trigger', '_live_visit_sql', '_live_graph_emerging',
             '_live_column_type', '_live_merged_ranges_sql', '_live_dirty_sql'}
PIPELINE_FNS = {'_ring_drop_temp', '_ring_stage', '_ring_pipeline', '_ring_defining_items', '_ring_trips',
                '_ring_load_lines', '_ring_features', '_ring_publish', '_ring_rules', '_ring_candidates'}
# relative weights of targets in the random part (the rest 1.0): the
# engine and the pre-payment check get most; whole pipelines are slow
WEIGHTS = {'check_claim': 4, 'covisit_edges': 2, 'covisit_pairs': 1.5, 'covisit_days': 1.5, 'expand_ring': 1.5,
           'ring_graph': 2, 'detect_rings': 0.2, 'run_scheduled': 0.05, 'person_anomalies': 0.15,
           'generate_demo_city': 0.03, 'load_item_limits': 0.5, 'enable_prepayment_check': 0.5,
           'disable_prepayment_check': 0.3, '_prepayment_trigger': 0.8, '_check_batch': 1.5,
           'covisit_agg_combine': 0.4, 'covisit_agg_serial': 0.4, 'covisit_agg_deserial': 0.4, 'covisit_agg_final': 0.5}
for _f in GRAPH_FNS:
    WEIGHTS[_f] = 3
WEIGHTS['covisit_agg'] = 0.5
WEIGHTS['covisit_agg_trans'] = 0.3
WEIGHTS['covisit_agg_trans_providers'] = 0.3
for _f in PIPELINE_FNS:
    WEIGHTS[_f] = 0.02
# a queue case is a dozen statements (and workers to start)
for _f in QUEUE_FNS:
    WEIGHTS[_f] = 0.1


def agg_overload(argtypes):
    """('text' | 'int8', nargs) of a covisit_agg / covisit_agg_trans signature."""
    kind = 'int8' if 'bigint' in argtypes else 'text'
    n = argtypes.count(',') + 1
    if argtypes.startswith('internal'):
        n -= 1
    return kind, n


def build_case(g, f, mode, csv_dir, forced=False):
    """One case aimed at function f (a catalogue entry)."""
    proname, argtypes = f['name'], f['args']
    if proname in GRAPH_FNS:
        return g.t_graph(proname, mode)
    if proname == 'covisit_edges':
        return g.t_covisit_edges(mode)
    if proname in ('covisit_agg', 'covisit_agg_trans', 'covisit_agg_trans_providers'):
        if mode == 'hostile' and g.p(0.3):
            return g.t_agg_support_direct()
        kind, n = agg_overload(argtypes)
        return g.t_covisit_agg(kind, n, mode, sure=forced and mode == 'valid')
    if proname in ('covisit_agg_combine', 'covisit_agg_serial', 'covisit_agg_deserial', 'covisit_agg_final'):
        if mode == 'hostile' and g.p(0.3):
            return g.t_agg_support_direct()
        return g.t_covisit_agg(g.ch(['text', 'int8']), g.ch([3, 4]), 'valid' if mode == 'valid' else 'near',
                               parallel=proname != 'covisit_agg_final')
    if proname in ('covisit_pairs', 'covisit_days'):
        return g.t_pairs(proname, mode)
    if proname == 'covisit_merge_bytes':
        return g.t_merge_bytes(mode)
    if proname in ('covisit_merge', 'covisit_merge_trans', 'covisit_merge_final'):
        n = len(argtypes.split(',')) - (proname == 'covisit_merge_trans')
        return g.t_covisit_merge(mode, with_parts=True if n == 4 else False if n == 2 else None)
    if proname in ('_covisit_merge_base64', '_covisit_merge_base64_trans'):
        return g.t_covisit_merge(mode, with_parts=False, base64=True)
    if proname == 'generate_demo_city':
        # a valid call takes seconds: mostly the refusals, valid when scheduled
        return g.t_demo_city(mode if forced or mode != 'valid' or g.p(0.2) else 'near')
    if proname == '_demo_u':
        return g.t_demo_u(mode)
    if proname in ('ring_options_default', 'anomaly_options_default', 'prepayment_options_default', 'live_graph_options_default'):
        return g.t_default(proname, mode)
    if proname == 'ring_options':
        return g.t_ring_options(mode)
    if proname == 'anomaly_options':
        return g.t_anomaly_options(mode)
    if proname == '_merge_options':
        return g.t_merge_options(mode)
    if proname in QUEUE_FNS:
        return g.t_claim_queue(proname, mode)
    if proname in CASE_FNS:
        return g.t_cases(proname, mode)
    if proname in SHARD_FNS and g.shards:
        return g.t_shards(proname, mode)
    if proname == '_check_option':
        return g.t_check_option(mode)
    if proname == '_option_window':
        return g.t_option_window(mode)
    if proname == 'ring_score':
        return g.t_ring_score(mode)
    if proname == 'amount_band':
        return g.t_amount_band(mode)
    if proname == '_rule_predicate':
        return g.t_rule_predicate(mode) if g.p(0.95) else g.t_detect_rings('valid')
    if proname == '_check_columns':
        return g.t_check_columns(mode)
    if proname == 'detect_rings':
        return g.t_detect_rings(mode)
    if proname == 'run_scheduled':
        return g.t_detect_rings(mode, proc=True)
    if proname in PIPELINE_FNS or proname in g.stage_names:
        if mode == 'valid' and g.p(0.3):
            return g.t_detect_rings('valid')
        return g.t_pipeline_by_hand(proname, mode)
    if proname == 'expand_ring':
        return g.t_expand_ring(mode)
    if proname == 'person_anomalies':
        return g.t_person_anomalies(mode)
    if proname == '_history_sql':
        return g.t_history_sql(mode)
    if proname == '_check_batch':
        return g.t_check_batch(mode) if g.p(0.8) else g.t_prepayment_trigger(mode)
    if proname == 'check_claim':
        return g.t_check_claim(mode)
    if proname == '_prepayment_trigger':
        return g.t_prepayment_trigger(mode)
    if proname in ('enable_prepayment_check', 'disable_prepayment_check'):
        return g.t_enable_check(proname, mode)
    if proname == 'load_item_limits':
        return g.t_load_item_limits(mode, csv_dir)
    if proname == 'ring_graph':
        return g.t_ring_graph(mode)
    if proname == '_ring_graph_parts':
        return g.t_ring_graph_parts(mode)
    if proname in ('_dot_str', '_dot_label', '_xml_str'):
        return g.t_escape(proname, mode)
    # (a scheduled call of a function the planner inlines is a plain SELECT:
    # other shapes run it where its statistics cannot credit it)
    return g.t_typed(f, mode, plain=forced and f['inlinable'])


def fill_q_table(facts):
    """Rows of fz.q (edge queries read per row through LATERAL), fixed seed."""
    g = Gen(12345, facts)
    rows = []
    for i in range(60):
        if i % 3 == 2:
            sql, kind = g.ch(NEAR_EDGES), 'bad'
            ok = False
        else:
            sql, kind = g.edges(1, 'valid')
            ok = True
        rows.append((i, ok, kind, sql))
    return rows


def write_csvs(d, facts):
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    items = (facts.get('limited_items') or ['X1'])[:10] + ['FZ-NEW-1', 'FZ-NEW-2']
    hdr = 'med_list_codg,item_name,max_qty_per_visit,max_qty_30d,gender,min_age,max_age,sev_deg,note\n'
    files = {
        'limits_ok.csv': hdr + ''.join('%s,item %d,%d,%d,%s,%s,%s,%d,ok\n' % (c, i, 1 + i % 3, 2 + i % 4,
                                                                              '12'[i % 2] if i % 3 == 0 else '',
                                                                              '' if i % 4 else '18', '' if i % 5 else '65',
                                                                              1 + i % 3) for i, c in enumerate(items)),
        'limits_subset.csv': 'med_list_codg,max_qty_30d\n' + ''.join('%s,%d\n' % (c, 1 + i) for i, c in enumerate(items)),
        'limits_cjk.csv': hdr + '%s,"药品, ""特殊""",2,3,,,,2,"注意\n多行"\n' % items[0] + 'FZ-张三,名,1,,,,,1,\n',
        'limits_dup.csv': 'med_list_codg,max_qty_per_visit\n%s,1\n%s,2\n' % (items[0], items[0]),
        'limits_empty.csv': '',
        'limits_badheader.csv': 'med_list_codg,nope\nX,1\n',
        'limits_nocode.csv': 'item_name,max_qty_30d\nx,1\n',
        'limits_badvalues.csv': 'med_list_codg,gender,max_qty_per_visit,min_age,max_age\nFZ-B,3,-1,90,10\n',
        'limits_huge.csv': 'med_list_codg,max_qty_per_visit\n' + ''.join('FZ-H%d,%d\n' % (i, 1 + i % 9) for i in range(5000)),
        'limits_quotes.csv': '"med_list_codg",max_qty_per_visit\nX,1\n',
        'limits_crlf.csv': 'med_list_codg,max_qty_per_visit\r\n%s,1\r\n' % items[1],
        'limits_nullcode.csv': 'med_list_codg,max_qty_per_visit\n,1\n',
        "it's.csv": 'med_list_codg\nFZ-Q\n',
    }
    for name, body in files.items():
        with open(os.path.join(d, name), 'w', encoding='utf-8') as f:
            f.write(body)
        os.chmod(os.path.join(d, name), 0o644)


# ---------------------------------------------------------------- runner

LOG_CRASH = re.compile(r'(server process|\w+ worker process|background worker "[^"]*") \(PID (\d+)\) was terminated by '
                       r'(signal \d+(?:: [^\n]*)?|exception [^\n]*)')
LOG_RECOVERY = re.compile(r'all server processes terminated; reinitializing|database system was interrupted|'
                          r'terminating any other active server processes')
LOG_FAILED_STMT = re.compile(r'DETAIL:\s+Failed process was running: (.*?)(?=\n\d{4}-\d\d-\d\d |\Z)', re.S)
LOG_PANIC = re.compile(r'^.*\b(PANIC|TRAP):.*$', re.M)
EXPLAIN_PREFIX = 'EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON, COSTS OFF, TIMING OFF, SUMMARY OFF) '
CONTROL = re.compile(r'^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|RESET|DEALLOCATE|CLOSE|DISCARD)\b', re.I)


def is_lost(e, conn):
    return conn is None or conn.closed != 0 or (getattr(e, 'pgcode', None) is None and
                                               isinstance(e, (psycopg2.OperationalError, psycopg2.InterfaceError)))


class Canceller(threading.Thread):
    """pg_cancel_backend from a second connection, at a moment the runner asks for."""

    def __init__(self, connect):
        super().__init__(daemon=True)
        self.connect = connect
        self.cond = threading.Condition()
        self.armed = None           # (deadline, pid, token)
        self.sending = False        # a pg_cancel_backend on its way
        self.stop = False
        self.sent = 0
        self.conn = None

    def arm(self, pid, delay, token):
        with self.cond:
            self.armed = (time.time() + delay, pid, token)
            self.cond.notify()

    def disarm(self):
        # (and wait for a cancel already on its way: sent late, it hit the
        # next case's statement, a forced call meant to succeed among them)
        with self.cond:
            self.armed = None
            while self.sending:
                self.cond.wait(0.1)

    def run(self):
        while True:
            with self.cond:
                while self.armed is None and not self.stop:
                    self.cond.wait(0.5)
                if self.stop:
                    return
                deadline, pid, token = self.armed
                while self.armed is not None and self.armed[2] == token and time.time() < deadline:
                    self.cond.wait(max(0.0, deadline - time.time()))
                if self.armed is None or self.armed[2] != token:
                    continue
                self.armed = None
                self.sending = True
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = self.connect()
                with self.conn.cursor() as c:
                    c.execute('SELECT pg_cancel_backend(%s)', (pid,))
                self.sent += 1
            except psycopg2.Error:
                self.conn = None
            finally:
                with self.cond:
                    self.sending = False
                    self.cond.notify_all()


class Runner:
    def __init__(self, args):
        self.a = args
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        os.chmod(self.out, 0o755)
        self.csv_dir = os.path.join(self.out, 'csv')
        self.log_path = args.server_log
        self.log_pos = os.path.getsize(self.log_path) if self.log_path and os.path.exists(self.log_path) else 0
        self.conn = None
        self.pid = None
        self.session = []           # statements sent in this session (for reproducers)
        self.rng = random.Random(args.seed * 7919 + 1)      # runner's own choices (cancels, EXPLAIN)
        self.statements = 0
        self.control = 0
        self.cases = 0
        self.ok = 0
        self.errors = {}
        self.skipped = 0
        self.cancels_armed = 0
        self.timeouts_set = 0
        self.crashes = []
        self.lost = []
        self.findings = []          # WARNINGs about leaks etc., malformed documents
        self.slow = []
        self.crash_sigs = {}
        self.funcs = []             # (oid, signature, proname, argtypes, prokind)
        self.reach_cases = {}
        self.calls = {}
        self.targeted = {}
        self.plan_reach = {}        # aggregates and support functions measured from plans
        self.inline_reach = {}      # inlined SQL functions: completed statements calling them
        self.case_plan = set()
        self.case_inline = set()
        self.target_seconds = {}
        self.shape_seconds = {}
        self.error_examples = {}
        self.overhead = {'generate': 0.0, 'credit': 0.0, 'probe': 0.0}
        self.explained = 0
        self.session_n = 0
        self.data_dir = None
        self.last_rows = 0

    # ---- connections
    def superconn(self, db=None):
        c = psycopg2.connect(dbname=db or os.environ.get('PGDATABASE', 'postgres'))
        c.autocommit = True
        return c

    def fuzzconn(self, app='fuzz-sql'):
        c = psycopg2.connect(dbname=FUZZ_DB, user=FUZZ_ROLE, password=FUZZ_PASSWORD,
                             host=os.environ.get('PGHOST', 'localhost'), port=os.environ.get('PGPORT', '5432'),
                             application_name=app, connect_timeout=10)
        c.autocommit = True
        c.set_client_encoding('UTF8')
        return c

    def prelude(self):
        return ["SET statement_timeout = '%dms'" % self.a.timeout_ms, 'SET stats_fetch_consistency = none']

    def connect(self):
        deadline = time.time() + 120
        while True:
            try:
                self.conn = self.fuzzconn()
                break
            except psycopg2.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.pid = self.conn.get_backend_pid()
        self.session = []
        self.session_n += 1
        with self.conn.cursor() as c:
            for s in self.prelude():
                c.execute(s)
                self.session.append(s)
        self.base = self.read_counters()

    def disconnect(self):
        if self.conn is not None and not self.conn.closed:
            try:
                with self.conn.cursor() as c:
                    c.execute('SELECT pg_stat_force_next_flush()')
                    c.execute('SELECT 1')
            except psycopg2.Error:
                pass
            self.conn.close()
        self.conn = None

    # ---- setup
    def setup(self):
        t0 = time.time()
        su = self.superconn()
        with su.cursor() as c:
            c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (FUZZ_ROLE,))
            if not c.fetchone():
                c.execute("CREATE ROLE %s LOGIN PASSWORD '%s'" % (FUZZ_ROLE, FUZZ_PASSWORD))
            c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (FUZZ_DB,))
            if c.fetchone():
                c.execute('DROP DATABASE %s' % FUZZ_DB)
            c.execute("CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" % FUZZ_DB)
        su.close()
        su = self.superconn(FUZZ_DB)
        with su.cursor() as c:
            c.execute('CREATE EXTENSION medfraud')
            c.execute('GRANT medfraud_admin, pg_read_server_files TO %s' % FUZZ_ROLE)
            # (versions with cases) the fuzzer is an investigator too
            c.execute("SELECT 1 FROM pg_roles WHERE rolname = 'medfraud_investigator'")
            if c.fetchone():
                c.execute('GRANT medfraud_investigator TO %s' % FUZZ_ROLE)
            c.execute('GRANT CREATE ON DATABASE %s TO %s' % (FUZZ_DB, FUZZ_ROLE))
            c.execute('GRANT CREATE ON SCHEMA public TO %s' % FUZZ_ROLE)
        su.close()
        conn = self.fuzzconn('fuzz-sql setup')
        with conn.cursor() as c:
            for s in setup_statements():
                try:
                    c.execute(s)
                except psycopg2.Error as e:
                    raise SystemExit('fixture statement failed: %s\n%s' % (e, s))
            self.setup_shard()
            c.execute(FACTS_SQL)
            facts = c.fetchone()[0]
            for row in fill_q_table(facts):
                c.execute('INSERT INTO fz.q VALUES (%s, %s, %s, %s)', row)
            c.execute('INSERT INTO fz.facts VALUES (%s)', (json.dumps(facts),))
            c.execute('ANALYZE')
        conn.close()
        write_csvs(self.csv_dir, facts)
        self.write_table_csv(conn_args=None)
        with open(os.path.join(self.out, 'fixtures.sql'), 'w', encoding='utf-8') as f:
            f.write('-- fixtures of tools/fuzz-sql.py, run as role fuzz in database fuzz (see --setup)\n')
            for s in setup_statements():
                f.write(s + ';\n')
        print('fuzz-sql: fixtures ready in %.1f s' % (time.time() - t0), flush=True)

    def setup_shard(self):
        """(versions with shard_plan) the demo city sharded over a loopback
        postgres_fdw server to database fuzz_shard of the same cluster, with
        medfraud.shard_plan: f.setl_d_sharded and f.fee_list_d_sharded, one
        foreign partition each.  The superuser runs the shard side and
        creates the server and the fuzz role's user mapping (its own login
        and password: the fuzz role connects over TCP); the fuzz role runs
        the rest, as a DBA's analyst would."""
        su = self.superconn(FUZZ_DB)
        with su.cursor() as c:
            c.execute("SELECT to_regprocedure('medfraud.shard_plan(regclass,jsonb,regclass,jsonb)') IS NOT NULL")
            if not c.fetchone()[0]:
                su.close()
                return
            c.execute("SELECT 1 FROM pg_database WHERE datname = 'fuzz_shard'")
            if c.fetchone():
                c.execute('DROP DATABASE fuzz_shard WITH (FORCE)')
            c.execute("CREATE DATABASE fuzz_shard TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
            servers = json.dumps([{'name': 'fz_s1', 'host': os.environ.get('PGHOST', 'localhost'),
                                   'port': os.environ.get('PGPORT', '5432'), 'dbname': 'fuzz_shard'}])
            c.execute("SELECT step, run_on, statement FROM medfraud.shard_plan('f.setl_d', %s, 'f.fee_list_d') ORDER BY n",
                      (servers,))
            plan = c.fetchall()
        shard = self.superconn('fuzz_shard')
        with shard.cursor() as c:
            for step, run_on, st in plan:
                if run_on != 'coordinator' and not st.startswith('--'):
                    c.execute(st)
            c.execute('GRANT USAGE ON SCHEMA f TO %s' % FUZZ_ROLE)
            c.execute('GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA f TO %s' % FUZZ_ROLE)
        shard.close()
        rest = []
        with su.cursor() as c:
            for step, run_on, st in plan:
                if run_on != 'coordinator' or st.startswith('--'):
                    continue
                if st.startswith(('CREATE EXTENSION', 'CREATE SERVER', 'ALTER SERVER')):
                    c.execute(st)
                else:
                    rest.append(st)
            c.execute('GRANT USAGE ON FOREIGN SERVER fz_s1 TO %s' % FUZZ_ROLE)
            c.execute("CREATE USER MAPPING FOR %s SERVER fz_s1 OPTIONS (user '%s', password '%s')"
                      % (FUZZ_ROLE, FUZZ_ROLE, FUZZ_PASSWORD))
        su.close()
        conn = self.fuzzconn('fuzz-sql setup')
        with conn.cursor() as c:
            for st in rest:
                try:
                    c.execute(st)
                except psycopg2.Error as e:
                    raise SystemExit('shard fixture statement failed: %s\n%s' % (e, st))
            c.execute('ANALYZE f.setl_d_sharded')
        conn.close()

    def write_table_csv(self, conn_args=None):
        """indications_ok.csv from the city's demo_item_indications, when this version has them."""
        conn = self.fuzzconn('fuzz-sql setup')
        with conn.cursor() as c:
            c.execute("SELECT to_regclass('f.demo_item_indications') IS NOT NULL")
            if c.fetchone()[0]:
                c.execute('SELECT * FROM f.demo_item_indications ORDER BY 1, 2')
                cols = [d[0] for d in c.description]
                rows = c.fetchall()
                path = os.path.join(self.csv_dir, 'indications_ok.csv')
                with open(path, 'w', encoding='utf-8', newline='') as f:
                    w = csv.writer(f)
                    w.writerow(cols)
                    for r in rows:
                        w.writerow(['' if v is None else v for v in r])
                os.chmod(path, 0o644)
        conn.close()

    def load_catalog(self):
        """Every function of the extension (pg_proc), how each is measured,
        and the stages of the ring pipeline (read from _ring_pipeline)."""
        conn = self.fuzzconn('fuzz-sql catalog')
        with conn.cursor() as c:
            c.execute('SELECT facts FROM fz.facts')
            self.facts = c.fetchone()[0]
            c.execute("""SELECT p.oid, p.oid::regprocedure::text, p.proname, p.prokind, l.lanname,
                                coalesce(a.aggtransfn::oid, 0), p.proretset,
                                l.lanname = 'sql' AND p.proconfig IS NULL AND NOT p.prosecdef AND p.prokind = 'f',
                                coalesce((SELECT array_agg(format_type(t, NULL) ORDER BY o)
                                          FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)), '{}'),
                                coalesce((SELECT array_agg(coalesce(n, '') ORDER BY o)
                                          FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY u(n, m, o)
                                          WHERE m IN ('i', 'b', 'v')), p.proargnames, '{}'),
                                coalesce((SELECT array_agg(n ORDER BY o)
                                          FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY u(n, m, o)
                                          WHERE m IN ('o', 't', 'b')), '{}'),
                                p.prosrc, format_type(p.prorettype, NULL)
                         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                         LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
                         WHERE p.pronamespace = 'medfraud'::regnamespace ORDER BY p.oid""")
            rows = c.fetchall()
        conn.close()
        self.funcs = []
        for r in rows:
            argtypes = list(r[8])
            argnames = list(r[9]) + [''] * (len(argtypes) - len(r[9]))
            self.funcs.append(dict(oid=r[0], sig=r[1], name=r[2], kind=r[3], lang=r[4], transfn=r[5], retset=r[6],
                                   inlinable=r[7], argtypes=argtypes, argnames=argnames[:len(argtypes)],
                                   outcols=list(r[10]), args=','.join(argtypes), rettype=r[12]))
            if r[2] == '_ring_pipeline':
                self.facts['_stages'] = pipeline_stages(r[11] or '')
        self.oids = [f['oid'] for f in self.funcs]
        self.by_oid = {f['oid']: f for f in self.funcs}
        # aggregates and their support functions: PostgreSQL counts neither
        self.plan_measured = set(f['oid'] for f in self.funcs
                                 if f['kind'] == 'a' or re.fullmatch(r'_?covisit_(agg|merge|merge_base64)_(trans|trans_providers|final|combine|serial|deserial)',
                                                                     f['name']))
        # SQL functions the planner may inline: an inlined call is not counted either
        self.inlinable = {f['name']: f['oid'] for f in self.funcs if f['inlinable']}
        for o in self.oids:
            self.reach_cases[o] = 0
            self.calls[o] = 0
            self.targeted[o] = 0
            self.plan_reach[o] = 0
            self.inline_reach[o] = 0

    def read_counters(self):
        for attempt in range(3):
            try:
                with self.conn.cursor() as c:
                    c.execute("""SELECT coalesce(pg_stat_get_function_calls(f), 0) + coalesce(pg_stat_get_xact_function_calls(f), 0)
                                 FROM unnest(%s::oid[]) WITH ORDINALITY u(f, o) ORDER BY o""", (self.oids,))
                    return [r[0] for r in c.fetchall()]
            except psycopg2.errors.QueryCanceled:
                continue
        raise RuntimeError('cannot read function counters')

    # ---- the server log
    def read_log(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ''
        with open(self.log_path, 'rb') as f:
            f.seek(self.log_pos)
            data = f.read()
        self.log_pos += len(data)
        return data.decode('utf-8', 'replace')

    def scan_log(self, text):
        """(crash lines, failed statements, recovery seen, panic lines)."""
        return ([m.group(0) for m in LOG_CRASH.finditer(text)], [m.group(1).strip() for m in LOG_FAILED_STMT.finditer(text)],
                bool(LOG_RECOVERY.search(text)), LOG_PANIC.findall(text) and [m.group(0) for m in LOG_PANIC.finditer(text)])

    def wait_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                c = self.fuzzconn('fuzz-sql probe')
                c.close()
                return True
            except psycopg2.OperationalError:
                time.sleep(0.3)
        return False

    # ---- running one case
    def exec1(self, sql, explain=False, quiet=False):
        """Run one statement on the fuzz connection.  Returns (status, info):
        ('ok', plan|None), ('error', sqlstate), ('lost', message)."""
        token = object()
        if not quiet and not self.a.no_cancel and self.rng.random() < self.a.cancel_rate:
            delay = self.rng.random() * (0.04 if self.rng.random() < 0.8 else 0.5)
            self.cancels_armed += 1
            self.canceller.arm(self.pid, delay, token)
        t0 = time.time()
        try:
            with self.conn.cursor() as c:
                c.execute((EXPLAIN_PREFIX + sql) if explain else sql)
                res = None
                self.last_rows = 0
                if c.description is not None:
                    try:
                        rows = c.fetchmany(50)
                    except (UnicodeDecodeError, ValueError) as e:
                        # text that is not valid UTF-8 (or a value the client cannot
                        # take): the server let an invalid datum out
                        rows = [None]
                        if len(self.findings) < 200:
                            self.findings.append(('invalid value in a result', repr(e)[:300], sql[:1500]))
                    self.last_rows = len(rows)
                    if explain and rows:
                        res = rows[0][0]
            return 'ok', res
        except psycopg2.Error as e:
            if is_lost(e, self.conn):
                return 'lost', str(e).strip()
            code = e.pgcode or 'XX???'
            self.note_error(code, e, sql)
            return 'error', code
        finally:
            self.canceller.disarm()
            dt = time.time() - t0
            if dt > 3:
                self.slow.append((round(dt, 1), sql[:300]))
            self.check_notices()

    def note_error(self, code, e, sql):
        msg = (getattr(e.diag, 'message_primary', None) or str(e)).strip()
        detail = getattr(e.diag, 'message_detail', None) or ''
        ex = self.error_examples.setdefault(code, [])
        if len(ex) < 3:
            ex.append({'message': msg[:300], 'detail': detail[:300], 'statement': sql[:1500]})
        bad = None
        if code.startswith('XX'):
            bad = 'internal error'
        m = re.search(r'([\d.]+) (kB|MB|GB|TB) already in use', detail)
        if m and float(m.group(1)) * {'kB': 1e3, 'MB': 1e6, 'GB': 1e9, 'TB': 1e12}[m.group(2)] > 1e13:
            bad = 'memory accounting gone wrong'
        if bad and len(self.findings) < 200:
            self.findings.append((bad, '%s %s (%s)' % (code, msg[:200], detail[:200]), sql[:1500]))

    def check_notices(self):
        if not self.conn or not self.conn.notices:
            return
        for n in self.conn.notices:
            if re.search(r'leak|not closed|was not released|still referenced|corrupt|unexpected', n, re.I) \
                    and len(self.findings) < 200:
                self.findings.append(('notice', n.strip()[:500], self.session[-1][:500] if self.session else ''))
        del self.conn.notices[:]

    def run_case(self, case, case_no, quiet=False):
        """quiet: no cancel and no short statement_timeout (the scheduled valid cases)."""
        in_failed = False
        tmo = None
        if not quiet and self.rng.random() < self.a.timeout_rate:
            tmo = self.rng.choice([1, 2, 5, 10, 20, 50, 100, 300])
            self.timeouts_set += 1
            st, _ = self.exec1("SET statement_timeout = '%dms'" % tmo)
            self.session.append("SET statement_timeout = '%dms'" % tmo)
            if st == 'lost':
                return ('lost', 0)
        for i, sql in enumerate(case.stmts):
            up = sql.lstrip()[:12].upper()
            if in_failed and not up.startswith('ROLLBACK'):
                self.skipped += 1
                continue
            # a scheduled valid call (quiet) is always measured: it is what
            # makes every function reached whatever the random draws
            explain = case.explain == i and (quiet or self.rng.random() < 0.6)
            self.session.append(sql)
            if len(self.session) > 400:
                del self.session[2:len(self.session) - 300]
            st, info = self.exec1(sql, explain, quiet)
            if CONTROL.match(sql):
                self.control += 1
            else:
                self.statements += 1
            if st == 'lost':
                return ('lost', i)
            if st == 'ok':
                if not CONTROL.match(sql):
                    self.ok += 1
                if explain and info is not None:
                    self.explained += 1
                    self.measure_aggregates(info, sql)
                elif self.last_rows > 0 and self.inlinable and 'medfraud.' in sql:
                    names = [n for n in self.inlinable if 'medfraud.%s(' % n in sql]
                    if names:
                        self.measure_inlined(sql, [self.inlinable[n] for n in names])
                if up.startswith('ROLLBACK'):
                    in_failed = False
            else:
                self.errors[info] = self.errors.get(info, 0) + 1
                if info in ('2200M', '2200N') or (info == '22P02' and 'ring_graph' in sql and 'jsonb' in sql):
                    if len(self.findings) < 200:
                        self.findings.append(('malformed document', info, sql[:800]))
                if self.conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
                    in_failed = True
        if self.conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            st, _ = self.exec1('ROLLBACK')
            self.session.append('ROLLBACK')
            if st == 'lost':
                return ('lost', len(case.stmts))
        if tmo is not None:
            st, _ = self.exec1("SET statement_timeout = '%dms'" % self.a.timeout_ms)
            self.session.append("SET statement_timeout = '%dms'" % self.a.timeout_ms)
            if st == 'lost':
                return ('lost', len(case.stmts))
        return ('ok', None)

    def credit(self, case_no):
        now = self.read_counters()
        for i, o in enumerate(self.oids):
            d = now[i] - self.base[i]
            if d > 0:
                self.reach_cases[o] += 1
                self.calls[o] += d
            elif o in self.case_inline:
                self.inline_reach[o] += 1
        for o in self.case_plan:
            self.plan_reach[o] += 1
        self.case_plan = set()
        self.case_inline = set()
        self.base = now

    def measure_inlined(self, sql, oids):
        """A SQL function the planner inlines is never counted by
        pg_stat_user_functions: its body runs inside the caller's plan.  It
        is credited when a top-level SELECT that references it (pg_depend of
        a temp view over the statement, so the server resolved the call)
        completed and returned rows."""
        if not re.match(r'\s*(SELECT|WITH|\(|VALUES|TABLE)\b', sql, re.I):
            return
        for o in self.statement_refs(sql, oids):
            self.case_inline.add(o)

    # ---- aggregates: credited from the executed plan
    def measure_aggregates(self, plan, sql):
        """PostgreSQL's function statistics never count aggregates or their
        support functions.  From an EXPLAIN ANALYZE VERBOSE plan: an
        Aggregate/WindowAgg node computing covisit_agg with input rows ran
        the transition function (overload told apart by the aggregates the
        statement references, read from pg_depend of a temp view over it);
        a Partial node with output serialized states; a Finalize node with
        input deserialized and combined them; output rows of a plain or
        Finalize node (or a WindowAgg) ran the final function."""
        try:
            root = plan[0]['Plan'] if isinstance(plan, list) else plan['Plan']
        except (KeyError, IndexError, TypeError):
            return
        hits = set()

        def rows(n):
            return (n.get('Actual Rows') or 0) * (n.get('Actual Loops') or 0)

        def child_rows(n):
            return sum(rows(c) for c in n.get('Plans', []) if c.get('Parent Relationship') in ('Outer', None))

        def walk(n):
            for agg in ('covisit_agg', 'covisit_merge', '_covisit_merge_base64'):
                outs = [o for o in n.get('Output', []) if agg + '(' in o]
                if not outs or n.get('Node Type') not in ('Aggregate', 'WindowAgg'):
                    continue
                mode = n.get('Partial Mode', 'Simple')
                filtered = any(' FILTER ' in o for o in outs)
                nargs = set(self.agg_nargs(o, agg) for o in outs)
                if child_rows(n) > 0 and mode in ('Simple', 'Partial') and not filtered:
                    hits.add((agg, 'trans', tuple(sorted(nargs))))
                if mode == 'Partial' and rows(n) > 0 and child_rows(n) > 0 and not filtered:
                    hits.add((agg, 'serial', None))
                if mode == 'Finalize' and child_rows(n) > 0:
                    hits.add((agg, 'deserial', None))
                    hits.add((agg, 'combine', None))
                if mode in ('Simple', 'Finalize') and rows(n) > 0:
                    hits.add((agg, 'final', None))
            for c in n.get('Plans', []):
                walk(c)

        walk(root)
        if not hits:
            return
        aggs = self.statement_refs(sql, [f['oid'] for f in self.funcs if f['kind'] == 'a'])
        credited = set()
        for agg, what, nargs in hits:
            if what == 'trans':
                cand = [a for a in aggs if self.by_oid[a]['name'] == agg and nargs
                        and self.by_oid[a]['args'].count(',') + 1 in nargs]
                if len(cand) == 1:
                    credited.add(cand[0])
                    credited.add(self.by_oid[cand[0]]['transfn'])
            else:
                name = agg + '_' + what
                credited.update(f['oid'] for f in self.funcs if f['name'] == name)
        self.case_plan.update(credited)

    @staticmethod
    def agg_nargs(out, agg='covisit_agg'):
        i = out.index(agg + '(') + len(agg + '(')
        depth, n, q = 0, 1, None
        for ch in out[i:]:
            if q:
                if ch == q:
                    q = None
                continue
            if ch in '\'"':
                q = ch
            elif ch == '(':
                depth += 1
            elif ch == ')':
                if depth == 0:
                    break
                depth -= 1
            elif ch == ',' and depth == 0:
                n += 1
        return n

    def statement_refs(self, sql, agg_oids):
        """Which of the functions agg_oids a SELECT references (pg_depend of a temp view over it)."""
        t0 = time.time()
        try:
            return self._statement_refs(sql, agg_oids)
        finally:
            self.overhead['probe'] += time.time() - t0

    def _statement_refs(self, sql, agg_oids):
        intx = self.conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        try:
            with self.conn.cursor() as c:
                c.execute('SAVEPOINT fz_probe' if intx else 'BEGIN')
                try:
                    c.execute('CREATE TEMP VIEW fz_probe AS SELECT 1 AS one FROM (%s) fz_s' % sql)
                    c.execute("""SELECT DISTINCT d.refobjid FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                                 WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class = 'fz_probe'::regclass
                                   AND d.refclassid = 'pg_proc'::regclass AND d.refobjid = ANY (%s::oid[])""", (agg_oids,))
                    return [r[0] for r in c.fetchall()]
                finally:
                    c.execute('ROLLBACK TO SAVEPOINT fz_probe' if intx else 'ROLLBACK')
        except psycopg2.Error:
            return []

    # ---- crashes
    def find_data_dir(self):
        """The data directory (core files) and medfraud.so of the server."""
        self.lib = None
        try:
            su = self.superconn()
            with su.cursor() as c:
                c.execute('SHOW data_directory')
                self.data_dir = c.fetchone()[0]
                c.execute("SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
                self.lib = os.path.join(c.fetchone()[0], 'medfraud.so')
            su.close()
        except psycopg2.Error:
            self.data_dir = None
        self.lib_stat = self.stat_lib()
        self.lib_changed_at = None

    def stat_lib(self):
        try:
            st = os.stat(self.lib)
            return (st.st_mtime, st.st_size)
        except (OSError, TypeError):
            return None

    def check_lib(self, case_no):
        """A medfraud.so replaced under a running server: new backends load it
        against the catalogue made by the old one (a mismatch, not a bug)."""
        if self.lib_changed_at is None and self.lib_stat is not None and self.stat_lib() != self.lib_stat:
            self.lib_changed_at = case_no
            print('fuzz-sql: %s changed at case %d; later results mix two builds' % (self.lib, case_no), flush=True)

    def take_core(self, since):
        """Backtrace of the newest core file written since `since` (then remove every core)."""
        if not self.data_dir or not os.path.isdir(self.data_dir):
            return None
        cores = sorted((p for p in glob.glob(os.path.join(self.data_dir, 'core*')) if os.path.isfile(p)),
                       key=os.path.getmtime)
        bt = None
        fresh = [p for p in cores if os.path.getmtime(p) >= since - 5]
        if fresh and shutil.which('gdb') and not self.a.no_gdb:
            binary = os.path.join(subprocess.run(['pg_config', '--bindir'], capture_output=True, text=True).stdout.strip(),
                                  'postgres')
            try:
                r = subprocess.run(['gdb', '-q', '-batch', '-ex', 'bt 40', binary, fresh[-1]], capture_output=True,
                                   text=True, timeout=120)
                seen, keep = set(), []
                for l in r.stdout.splitlines():
                    if (l.startswith('#') or 'signal' in l.lower()) and l not in seen:
                        seen.add(l)
                        keep.append(l)
                bt = '\n'.join(keep)[:6000]
            except (subprocess.TimeoutExpired, OSError):
                bt = None
        for p in cores:
            try:
                os.unlink(p)
            except OSError:
                pass
        return bt

    def replay(self, stmts):
        """Run statements on a fresh connection; True when a backend crashed."""
        self.read_log()     # what is there is not about this replay
        try:
            conn = self.fuzzconn('fuzz-sql replay')
        except psycopg2.OperationalError:
            return False
        in_failed = False
        lost = False
        for sql in stmts:
            if in_failed and not sql.lstrip().upper().startswith('ROLLBACK'):
                continue
            try:
                with conn.cursor() as c:
                    c.execute(sql)
                    if c.description is not None:
                        c.fetchmany(10)
            except psycopg2.Error as e:
                if is_lost(e, conn):
                    lost = True
                    break
                if conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
                    in_failed = True
        if not lost:
            try:
                conn.close()
            except psycopg2.Error:
                pass
            time.sleep(0.2)
        self.wait_ready()
        time.sleep(0.3)
        text = self.read_log()
        crash, _, recovery, panic = self.scan_log(text)
        return bool(crash or recovery or panic)

    def on_lost(self, case, case_no, stmt_idx, t_lost):
        session = list(self.session)
        self.conn = None
        time.sleep(0.3)
        self.wait_ready()
        time.sleep(0.3)
        text = self.read_log()
        crash, failed, recovery, panic = self.scan_log(text)
        if crash or recovery or panic:
            self.record_crash(case, case_no, stmt_idx, session, text, crash, failed, panic, t_lost)
        else:
            fatal = [l for l in text.splitlines() if 'FATAL' in l][:5]
            self.lost.append({'case': case_no, 'target': case.target, 'shape': case.shape, 'log': fatal,
                              'statement': session[-1][:2000] if session else ''})
        self.connect()

    def record_crash(self, case, case_no, stmt_idx, session, text, crash, failed, panic, t_lost):
        n = len(self.crashes) + 1
        bt = self.take_core(t_lost)
        # the signature: the first frames in medfraud's own sources (libc's abort path says little)
        frames = re.findall(r'^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(.* at src/', bt or '', re.M) or \
            re.findall(r'^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(', bt or '', re.M)
        sig = ' < '.join(frames[:3]) if frames else '%s/%s' % (case.target, case.shape)
        self.crash_sigs[sig] = self.crash_sigs.get(sig, 0) + 1
        stmt = case.stmts[stmt_idx] if stmt_idx < len(case.stmts) else session[-1]
        prelude = self.prelude()
        sets = [s for s in case.stmts[:stmt_idx] if s.upper().startswith('SET ') and 'LOCAL' not in s.upper()]
        attempts = []
        minimal = None
        if self.crash_sigs[sig] <= self.a.replays_per_signature:
            for label, stmts in (('the statement alone', prelude + sets + [stmt]),
                                 ('the case', prelude + case.stmts[:stmt_idx + 1]),
                                 ('the session', session)):
                ok = self.replay(stmts)
                attempts.append('%s: %s' % (label, 'crashed' if ok else 'no crash'))
                if ok:
                    minimal = (label, stmts)
                    break
            self.take_core(t_lost)
        path = os.path.join(self.out, 'crash-%04d.sql' % n)
        with open(path, 'w', encoding='utf-8') as f:
            f.write('-- medfraud tools/fuzz-sql.py crash %d: seed %d, case %d (target %s, shape %s), statement %d of the case\n'
                    % (n, self.a.seed, case_no, case.target, case.shape, stmt_idx + 1))
            f.write('-- replay (builds the fixtures in a throwaway cluster): tools/run-fuzz-sql.sh --replay %s\n' % path)
            f.write('-- or, on a database set up by tools/fuzz-sql.py --setup: psql -U fuzz -d fuzz -f %s\n' % path)
            if self.lib_changed_at is not None:
                f.write('-- NOTE: medfraud.so was replaced during the run (case %d): check it against a fresh cluster\n'
                        % self.lib_changed_at)
            for l in crash + (panic or []):
                f.write('-- server log: %s\n' % l)
            for l in failed[:2]:
                f.write('-- server log: failed process was running: %s\n' % l[:1000].replace('\n', '\n--   '))
            f.write('-- replayed: %s\n' % ('; '.join(attempts) if attempts else
                                           'not replayed (signature seen %d times)' % self.crash_sigs[sig]))
            if minimal is None and attempts:
                f.write('-- (no replay crashed: the crash may depend on a cancel or timeout at that moment;\n'
                        '--  the statements below are the whole session up to the crash)\n')
            if bt:
                f.write('-- backtrace (gdb, core file):\n' + ''.join('--   %s\n' % l for l in bt.splitlines()))
            f.write('\\set ON_ERROR_STOP off\n')
            stmts = minimal[1] if minimal else session
            for i, s in enumerate(stmts):
                f.write('-- stmt %d\n%s\n;\n' % (i + 1, s))
        self.crashes.append({'n': n, 'file': path, 'case': case_no, 'target': case.target, 'shape': case.shape,
                             'signature': sig, 'after_library_change': self.lib_changed_at is not None,
                             'statement': stmt[:4000], 'log': crash + (panic or []), 'minimal': minimal[0] if minimal else None,
                             'backtrace': bt})
        print('fuzz-sql: CRASH %d in case %d (%s/%s): %s -> %s' % (n, case_no, case.target, case.shape,
                                                                    (crash + (panic or []) or ['?'])[0], path), flush=True)

    # ---- the run
    def run(self):
        for p in glob.glob(os.path.join(self.out, 'crash-*.sql')) + glob.glob(os.path.join(self.out, 'report.*')):
            os.unlink(p)
        self.load_catalog()
        self.find_data_dir()
        self.take_core(0)
        self.canceller = Canceller(lambda: self.fuzzconn('fuzz-sql canceller'))
        self.canceller.start()
        g = Gen(self.a.seed, self.facts, self.csv_dir)
        targets = [(f['oid'], f['name'], f['args']) for f in self.funcs]
        weights = [WEIGHTS.get(name, 0.02 if name in g.stage_names else 1.0) for _, name, _ in targets]
        total_w = sum(weights)
        self.connect()
        with self.conn.cursor() as c:
            c.execute('SHOW track_functions')
            if c.fetchone()[0] != 'all':
                raise SystemExit('fuzz-sql: the server needs track_functions = all (it counts what each case ran)')
        self.read_log()
        t0 = time.time()
        case_no = 0
        # the scheduled valid calls: one round over every function, done within
        # the first half of the run (about 0.7 cases per statement), then rarer
        first = max(4, min(16, int(0.7 * self.a.statements / (2 * len(targets)))))
        warm = first * len(targets)
        last_report = t0
        while self.statements < self.a.statements and time.time() - t0 < self.a.seconds \
                and len(self.crashes) < self.a.max_crashes:
            case_no += 1
            period = first if case_no <= warm else 128
            if case_no % period == 0:
                # round robin over every function with a valid call, so each is tried
                idx = (case_no // period) % len(targets)
                forced = 'valid'
            else:
                x = g.r.random() * total_w
                idx = 0
                while idx < len(targets) - 1 and x >= weights[idx]:
                    x -= weights[idx]
                    idx += 1
                forced = None
            oid, name, args = targets[idx]
            t_gen = time.time()
            mode = g.mode(forced)
            pre = g.gucs()
            case = build_case(g, self.funcs[idx], mode, self.csv_dir, forced=bool(forced))
            if pre and not forced:
                case.stmts = pre + case.stmts
                if case.explain is not None:
                    case.explain += len(pre)
                if g.p(0.7):
                    case.stmts.append('RESET ALL')
            self.targeted[oid] += 1
            t_case = time.time()
            self.overhead['generate'] += t_case - t_gen
            status, idx_stmt = self.run_case(case, case_no, quiet=bool(forced))
            dt = time.time() - t_case
            self.target_seconds[oid] = self.target_seconds.get(oid, 0) + dt
            k = '%s/%s' % (case.target, case.shape)
            n0, s0 = self.shape_seconds.get(k, (0, 0.0))
            self.shape_seconds[k] = (n0 + 1, s0 + dt)
            if status == 'lost':
                self.on_lost(case, case_no, idx_stmt, t_case)
                continue
            if any(s.upper().startswith(('RESET ALL', 'DISCARD ALL')) for s in case.stmts):
                with self.conn.cursor() as c:
                    for s in self.prelude():
                        c.execute(s)
                        self.session.append(s)
            t_credit = time.time()
            try:
                self.credit(case_no)
                self.overhead['credit'] += time.time() - t_credit
            except (psycopg2.Error, RuntimeError):
                self.on_lost(case, case_no, len(case.stmts), t_case)
                continue
            self.cases += 1
            if case_no % self.a.reconnect_every == 0:
                self.disconnect()
                self.connect()
            if case_no % 200 == 0:
                self.check_lib(case_no)
                text = self.read_log()
                crash, failed, recovery, panic = self.scan_log(text)
                if crash or panic:
                    # a crash the fuzz connection did not see (a parallel worker, say)
                    self.record_crash(case, case_no, len(case.stmts) - 1, list(self.session), text, crash, failed,
                                      panic, t_case)
                    self.disconnect()
                    self.connect()
            if time.time() - last_report > self.a.progress_every:
                last_report = time.time()
                print('fuzz-sql: %d statements, %d cases, %.0f s, %d crashes, %d/%d functions reached' %
                      (self.statements, self.cases, time.time() - t0, len(self.crashes), self.reached_count(),
                       len(self.funcs)), flush=True)
        self.seconds = time.time() - t0
        self.canceller.stop = True
        self.disconnect()
        time.sleep(0.5)
        text = self.read_log()
        crash, failed, recovery, panic = self.scan_log(text)
        if crash or recovery or panic:
            self.crashes.append({'n': len(self.crashes) + 1, 'file': None, 'case': case_no, 'target': '?', 'shape': '?',
                                 'statement': (failed or [''])[0][:4000], 'log': crash + (panic or []),
                                 'minimal': None, 'backtrace': None})
        self.cases_total = case_no
        return self.report()

    def reached(self, o):
        if o in self.plan_measured:
            return self.plan_reach[o]
        return self.reach_cases[o] + self.inline_reach[o]

    def measured_by(self, o):
        if o in self.plan_measured:
            return 'executed plan (EXPLAIN ANALYZE)'
        if self.by_oid[o]['inlinable']:
            return 'pg_stat counters + completed statements (inlinable SQL)'
        return 'pg_stat counters'


    def reached_count(self):
        return sum(1 for o in self.oids if self.reached(o) > 0)

    def report(self):
        lines = []
        w = max(len(f['sig']) for f in self.funcs)
        lines.append('reached: cases (one statement, or a short transaction of them) in which a call of the function '
                     'returned; calls: returned calls counted by PostgreSQL; targeted: cases built for it; secs: their time')
        lines.append('%-*s  %8s  %10s  %8s  %6s  %s' % (w, 'function', 'reached', 'calls', 'targeted', 'secs',
                                                        'measured by'))
        for f in sorted(self.funcs, key=lambda f: f['sig']):
            o = f['oid']
            lines.append('%-*s  %8d  %10s  %8d  %6.0f  %s' % (w, f['sig'], self.reached(o),
                                                              '-' if o in self.plan_measured else self.calls[o],
                                                              self.targeted[o], self.target_seconds.get(o, 0),
                                                              self.measured_by(o)))
        unreached = [f['sig'] for f in self.funcs if self.reached(f['oid']) == 0]
        errs = sorted(self.errors.items(), key=lambda kv: -kv[1])
        nerr = sum(self.errors.values())
        lines.append('')
        lines.append('errors by SQLSTATE (%d): %s' % (nerr, ', '.join('%s %d' % kv for kv in errs)))
        lines.append('cancels sent: %d (armed %d); short statement_timeouts: %d; aggregate statements measured: %d'
                     % (self.canceller.sent, self.cancels_armed, self.timeouts_set, self.explained))
        for c in self.crashes:
            lines.append('CRASH %d: case %d %s/%s: %s; reproducer %s%s; at %s' % (
                c['n'], c['case'], c['target'], c['shape'], '; '.join(c['log'])[:300], c['file'],
                ' (%s)' % c['minimal'] if c['minimal'] else '', c.get('signature') or '?'))
        for l in self.lost:
            lines.append('lost connection without a crash: case %d %s/%s %s' % (l['case'], l['target'], l['shape'],
                                                                                  ' | '.join(l['log'])[:300]))
        for kind, a, b in self.findings[:20]:
            lines.append('finding (%s): %s -- in: %s' % (kind, a[:300], b[:300].replace('\n', ' ')))
        if unreached:
            lines.append('never reached: ' + ', '.join(unreached))
        if self.lib_changed_at is not None:
            lines.append('NOTE: %s was replaced during the run (case %d): backends started after it ran the new '
                         'library against the old catalogue' % (self.lib, self.lib_changed_at))
        ok = not self.crashes and not unreached
        lines.append('fuzz-sql: %s -- %d statements (+%d transaction/SET), %d cases, seed %d, %.0f s (%.0f statements/s); '
                     '%d ok, %d errors; %d crashes; %d lost connections; %d/%d functions reached'
                     % ('ok' if ok else 'FAIL', self.statements, self.control, self.cases, self.a.seed, self.seconds,
                        self.statements / max(self.seconds, 1e-9), self.ok, nerr, len(self.crashes), len(self.lost),
                        self.reached_count(), len(self.funcs)))
        text = '\n'.join(lines)
        if self.a.brief and ok:
            # the table only when something is wrong
            print('\n'.join(l for l in lines[len(self.funcs) + 2:]), flush=True)
        else:
            print(text, flush=True)
        with open(os.path.join(self.out, 'report.txt'), 'w', encoding='utf-8') as f:
            f.write(text + '\n')
        with open(os.path.join(self.out, 'report.json'), 'w', encoding='utf-8') as f:
            json.dump({'seed': self.a.seed, 'statements': self.statements, 'control_statements': self.control,
                       'cases': self.cases, 'seconds': round(self.seconds, 1), 'ok': self.ok, 'errors': self.errors,
                       'error_examples': self.error_examples,
                       'overhead_seconds': {k: round(v, 1) for k, v in self.overhead.items()}, 'cancels_sent': self.canceller.sent, 'timeouts_set': self.timeouts_set,
                       'crashes': self.crashes, 'lost': self.lost,
                       'time_by_shape': {k: [n, round(t, 2)] for k, (n, t) in
                                         sorted(self.shape_seconds.items(), key=lambda kv: -kv[1][1])}, 'findings': self.findings, 'slow': self.slow[:50],
                       'functions': [{'signature': f['sig'], 'reached_cases': self.reached(f['oid']),
                                      'calls': None if f['oid'] in self.plan_measured else self.calls[f['oid']],
                                      'targeted': self.targeted[f['oid']],
                                      'seconds_targeted': round(self.target_seconds.get(f['oid'], 0), 1),
                                      'measured_by': self.measured_by(f['oid'])}
                                     for f in self.funcs],
                       'unreached': unreached}, f, indent=1, ensure_ascii=False)
        return 0 if ok else 1


def parse_repro(path):
    text = open(path, encoding='utf-8').read()
    parts = re.split(r'^-- stmt \d+\n', text, flags=re.M)[1:]
    out = []
    for p in parts:
        p = p.rstrip('\n')
        if p.endswith('\n;'):
            p = p[:-2]
        elif p.endswith(';'):
            p = p[:-1]
        out.append(p)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--statements', type=int, default=5000, help='stop after this many statements (default 5000)')
    ap.add_argument('--seconds', type=float, default=1e9, help='stop after this many seconds')
    ap.add_argument('--setup', action='store_true', help='create role, database and fixtures first (needs a superuser)')
    ap.add_argument('--setup-only', action='store_true')
    ap.add_argument('--server-log', help='the server log file, read for crashes')
    ap.add_argument('--out', default='/tmp/medfraud-fuzz-sql', help='reports and reproducers go here')
    ap.add_argument('--timeout-ms', type=int, default=2000, help='statement_timeout of every statement')
    ap.add_argument('--timeout-rate', type=float, default=0.04, help='share of cases with a short statement_timeout')
    ap.add_argument('--cancel-rate', type=float, default=0.03, help='share of statements cancelled by pg_cancel_backend')
    ap.add_argument('--no-cancel', action='store_true')
    ap.add_argument('--max-crashes', type=int, default=10, help='stop after this many crashes')
    ap.add_argument('--replays-per-signature', type=int, default=2)
    ap.add_argument('--reconnect-every', type=int, default=300, help='cases per backend')
    ap.add_argument('--progress-every', type=float, default=60)
    ap.add_argument('--no-gdb', action='store_true')
    ap.add_argument('--brief', action='store_true', help='print the per-function table only when the run fails')
    ap.add_argument('--replay', metavar='FILE', help='run a saved reproducer; exit 1 if a backend crashes')
    ap.add_argument('--print-case', type=int, metavar='N', help='print the first N generated cases and exit (needs fixtures)')
    a = ap.parse_args()
    r = Runner(a)
    if a.setup or a.setup_only:
        r.setup()
        if a.setup_only:
            return 0
    if a.replay:
        stmts = parse_repro(a.replay)
        r.read_log()
        crashed = r.replay(stmts)
        print('fuzz-sql replay %s: %d statements, %s' % (a.replay, len(stmts), 'CRASHED' if crashed else 'no crash'))
        return 1 if crashed else 0
    if a.print_case:
        r.load_catalog()
        g = Gen(a.seed, r.facts, r.csv_dir)
        for i in range(a.print_case):
            f = r.funcs[g.r.randrange(len(r.funcs))]
            c = build_case(g, f, g.mode(), r.csv_dir)
            print('-- case %d: %s/%s' % (i + 1, c.target, c.shape))
            for s in c.stmts:
                print(s + ';')
        return 0
    return r.run()


if __name__ == '__main__':
    sys.exit(main())
