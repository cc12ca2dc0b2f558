#!/usr/bin/env bash
# The BI contract (docs/bi.md), against the running test cluster:
#   1. every view of the extension, and the claim_alerts table, is
#      documented in docs/bi.md with exactly its columns, in order, with
#      their types (and nothing documented is missing from the database);
#   2. a login role in medfraud_analyst, connected over TCP with psycopg2
#      (libpq, what most BI tools wrap) as docs/bi.md says, reads every view
#      with rows in them, and can neither write a result table nor read the
#      claims.
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=mf_bi
dropdb --if-exists $db 2>/dev/null; createdb $db
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "not ok - $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; psql -X -q -d postgres -c "DROP ROLE IF EXISTS mf_bi_reader" 2>/dev/null || true' EXIT
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('bi', persons => 5000, days => 60, rings => 3, seed => 2)" \
  -c "SELECT medfraud.detect_rings('bi.setl_d', 'bi.fee_list_d', '{\"progress\": false}')" \
  -c "SELECT medfraud.open_case(1)" \
  -c "SELECT medfraud.record_verdict(1, (SELECT persons FROM medfraud.cases WHERE case_id = 1), 'confirmed', 'resold')" \
  -c "SELECT medfraud.set_case_status(1, 'confirmed')" \
  -c "SELECT medfraud.person_anomalies('bi.setl_d', '{\"items\": \"bi.fee_list_d\", \"persons\": \"bi.psn_info_b\"}')" \
  -c "CREATE TABLE bi.new_claims (LIKE bi.setl_d)" \
  -c "SELECT medfraud.enable_prepayment_check('bi.new_claims', 'flag', '{\"items\": \"bi.fee_list_d\"}')" \
  -c "INSERT INTO bi.new_claims SELECT * FROM bi.setl_d WHERE psn_no IN (SELECT psn_no FROM medfraud.latest_ring_members) LIMIT 30" \
  -c "CREATE TABLE bi.queued (LIKE bi.setl_d INCLUDING INDEXES)" -c "CREATE INDEX ON bi.queued (fixmedins_code, setl_time)" \
  -c "CREATE INDEX ON bi.queued (mdtrt_id)" -c "SELECT medfraud.enable_prepayment_check('bi.queued', 'queue', '{\"items\": \"bi.fee_list_d\"}')" \
  -c "INSERT INTO bi.queued SELECT * FROM bi.setl_d" -c "SELECT medfraud.enable_live_graph('bi.queued')" >/dev/null

# 1. docs/bi.md vs the catalog
q -F '|' -c "SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod)
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.relnamespace = 'medfraud'::regnamespace
               AND (c.relkind = 'v' OR c.oid = 'medfraud.claim_alerts'::regclass) ORDER BY 1, 2" > $tmp/db.txt
/usr/bin/python3 - docs/bi.md $tmp/db.txt <<'PY'
import collections, re, sys
doc = collections.OrderedDict()
view = None
for line in open(sys.argv[1], encoding='utf-8'):
    m = re.match(r'### `medfraud\.(\w+)`', line)
    if m:
        view = m.group(1); doc[view] = []; continue
    m = re.match(r'\| `(\w+)` \| `([^`]+)` \|', line)
    if view and m:
        doc[view].append((m.group(1), m.group(2)))
db = collections.OrderedDict()
for line in open(sys.argv[2]):
    v, _, col, typ = line.rstrip('\n').split('|')
    db.setdefault(v, []).append((col, typ))
bad = [] if doc and db else ['nothing to compare: %d documented, %d in the database' % (len(doc), len(db))]
for v in db:
    if v not in doc:
        bad.append('view %s is not documented' % v)
    elif doc[v] != db[v]:
        bad.append('view %s: documented %s, database %s' % (v, doc[v], db[v]))
for v in doc:
    if v not in db:
        bad.append('documented view %s does not exist' % v)
if bad:
    print('\n'.join(bad)); sys.exit(1)
print('%d views and tables, %d columns' % (len(db), sum(map(len, db.values()))))
PY
echo "ok - docs/bi.md lists every view with exactly its columns and types"

# 2. a BI login over TCP
q -c "DROP ROLE IF EXISTS mf_bi_reader" -c "CREATE ROLE mf_bi_reader LOGIN PASSWORD 'bi-test-pw' IN ROLE medfraud_analyst" \
  -c "ALTER ROLE mf_bi_reader SET default_transaction_read_only = on"
PGPASSWORD=bi-test-pw /usr/bin/python3 - $db <<'PY'
import sys, psycopg2
conn = psycopg2.connect(host='127.0.0.1', port=__import__('os').environ.get('PGPORT', '5432'), dbname=sys.argv[1],
                        user='mf_bi_reader', password='bi-test-pw', application_name='bi-test')
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'medfraud'::regnamespace AND c.relkind = 'v' ORDER BY 1")
views = [r[0] for r in cur.fetchall()]
assert views, 'medfraud_analyst sees no view of the extension'
empty = []
for v in views:
    cur.execute('SELECT * FROM medfraud.%s LIMIT 50' % v)
    rows = cur.fetchall()
    assert len(cur.description) > 0
    if not rows:
        empty.append(v)
# (rule_hits holds members' matching claims too, so every view has rows)
assert not empty, 'views without rows: %s' % empty
def refused(sql, code):
    try:
        cur.execute(sql)
    except psycopg2.Error as e:
        assert e.pgcode == code, (sql, e.pgcode, code)
    else:
        raise AssertionError('allowed: ' + sql)
# the role's default: read-only transactions
refused("DELETE FROM medfraud.runs", '25006')
# and without that belt, the privileges alone refuse writes and the claims
cur.execute("SET default_transaction_read_only = off")
refused("INSERT INTO medfraud.item_limits (med_list_codg) VALUES ('X')", '42501')
refused("DELETE FROM medfraud.runs", '42501')
refused("UPDATE medfraud.rings SET score = 0", '42501')
refused("SELECT count(*) FROM bi.setl_d", '42501')
print('%d views read' % len(views))
PY
echo "ok - a medfraud_analyst login over TCP (psycopg2) reads every view; read-only by default (25006), and without that the privileges refuse writes and the claims (42501)"
dropdb $db
