"""Visits of an NHSA claims table, as the baselines see them.

The same visit set as medfraud.detect_rings' first stage (sql/install/60_detect_rings.sql,
"1. visits"), so that every method is scored on the same input:

  * valid rows only: vali_flag = '1';
  * refunds left out: rows with refd_setl_flag = '1' are refunds, and the visit they reverse
    (same mdtrt_id) is left out too, not only the negative row;
  * one row per visit: duplicates of a settlement share its mdtrt_id; the earliest
    (setl_time, setl_id) is kept;
  * rows with a NULL person, provider or time are left out.

A table without mdtrt_id (or setl_id) still loads: then each row is a visit.

The flags are compared as `vali_flag = '1'` (the literal takes the column's type), not
`vali_flag::text = '1'`: for a char(1) column the cast is a function call that hides the
column's statistics, the planner then expects one row, and the refund anti-join becomes a
nested loop over the whole table (minutes on a zoo city of 20,000 persons, where this form
takes 0.3 s).  Both select the same rows for char, varchar, text and integer flags.

load(conn, schema) returns a Visits with integer codes, ready for numpy:
    person[i], provider[i], t[i]  (t: seconds since 1970-01-01 of the wall-clock time for a
    `timestamp` column, of the absolute time for `timestamptz`), and the names behind the codes.
"""
import csv
import io

import numpy as np
from psycopg2 import sql


class Visits:
    def __init__(self, person_names, person, provider_names, provider, t):
        self.person_names = person_names      # np.ndarray of str (object), index = person code
        self.person = person                  # int64 codes, one per visit
        self.provider_names = provider_names
        self.provider = provider
        self.t = t                            # int64 seconds

    def __len__(self):
        return len(self.t)

    @classmethod
    def from_rows(cls, rows):
        """rows: iterable of (psn_no, fixmedins_code, seconds).  For tests and other sources."""
        rows = list(rows)
        if not rows:
            e = np.zeros(0, dtype=np.int64)
            return cls(np.array([], dtype=str), e, np.array([], dtype=str), e.copy(), e.copy())
        p, f, t = zip(*rows)
        pn, pc = np.unique(np.array(p, dtype=str), return_inverse=True)
        fn, fc = np.unique(np.array(f, dtype=str), return_inverse=True)
        return cls(pn, pc.astype(np.int64), fn, fc.astype(np.int64), np.array(t, dtype=np.int64))


def _columns(conn, schema, table):
    with conn.cursor() as cur:
        cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                    "AND NOT attisdropped", (f'{_q(schema)}.{_q(table)}',))
        return {r[0] for r in cur.fetchall()}


def _q(name):
    return '"' + name.replace('"', '""') + '"'


def visits_sql(conn, schema, table="setl_d"):
    """A SELECT (text) of the visits: columns psn_no, fixmedins_code, setl_time."""
    cols = _columns(conn, schema, table)
    need = {"psn_no", "fixmedins_code", "setl_time"}
    if not need <= cols:
        raise ValueError(f"{schema}.{table} lacks columns {sorted(need - cols)}")
    rel = f"{_q(schema)}.{_q(table)}"
    where = ["s.psn_no IS NOT NULL", "s.fixmedins_code IS NOT NULL", "s.setl_time IS NOT NULL"]
    if "vali_flag" in cols:
        where.append("s.vali_flag = '1'")
    if "refd_setl_flag" in cols:
        where.append("s.refd_setl_flag = '0'")
        if "mdtrt_id" in cols:
            where.append(f"NOT EXISTS (SELECT 1 FROM {rel} r WHERE r.refd_setl_flag = '1' "
                         f"AND r.mdtrt_id = s.mdtrt_id)")
    w = " AND ".join(where)
    if "mdtrt_id" in cols:
        tie = ", s.setl_id" if "setl_id" in cols else ""
        return (f"SELECT DISTINCT ON (s.mdtrt_id) s.psn_no::text AS psn_no, s.fixmedins_code::text AS fixmedins_code, "
                f"s.setl_time FROM {rel} s WHERE {w} ORDER BY s.mdtrt_id, s.setl_time{tie}")
    return (f"SELECT s.psn_no::text AS psn_no, s.fixmedins_code::text AS fixmedins_code, s.setl_time "
            f"FROM {rel} s WHERE {w}")


def load(conn, schema, table="setl_d"):
    q = visits_sql(conn, schema, table)
    buf = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert(sql.SQL("COPY (SELECT psn_no, fixmedins_code, "
                                "floor(extract(epoch FROM setl_time))::bigint FROM ({}) v) TO STDOUT WITH (FORMAT csv)")
                        .format(sql.SQL(q)), buf)
    buf.seek(0)
    pcode, fcode = {}, {}
    pc, fc, t = [], [], []
    for p, f, s in csv.reader(buf):
        pc.append(pcode.setdefault(p, len(pcode)))
        fc.append(fcode.setdefault(f, len(fcode)))
        t.append(int(s))
    return Visits(np.array(list(pcode), dtype=object), np.array(pc, dtype=np.int64),
                  np.array(list(fcode), dtype=object), np.array(fc, dtype=np.int64), np.array(t, dtype=np.int64))
