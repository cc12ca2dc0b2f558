-- The pre-payment check: check_claim (C) for one claim, a statement-level
-- trigger for a whole INSERT (through _check_batch); both take every answer
-- from the same SQL functions below, so the answer for a claim cannot
-- depend on how it came.
-- Answers in the shape of the national platform's 3101 audit interface.
--
-- Violation sources (rule_id prefix; docs/reference.md has the table):
--   MF-RING      member of a scored ring of the newest finished run
--   MF-RULE-r-n  matches rule n distilled by run r
--   MF-CAND      expansion candidate of a ring (ring_candidates)
--   MF-ANOM      person's robust anomaly score at or over the threshold
--   MF-AMT       this claim's fee far above the person's usual fee
--   MF-LIM-QTY / MF-LIM-30D / MF-LIM-GEND / MF-LIM-AGE   item_limits
--   MF-DX        an item outside its indications (item_indications)

-- The 30-day item quantity statement over anomaly run arun's tables (the
-- person's history, read as the caller): $1..$4 fee lines (claim number,
-- item, quantity, amount), $5..$7 claims (person, time, id); returns one
-- row per violation with the claim's number.  _check_batch runs it, and
-- check_claim keeps it as a prepared plan per anomaly run's tables.
CREATE FUNCTION medfraud._history_sql(arun pg_catalog.int8)
RETURNS pg_catalog.text LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ao jsonb;
    a_claims text;
    a_items text;
    flt text := 'true';
    qtext text;
BEGIN
    -- the table names are stored as text; they reach the statement only
    -- through regclass, which accepts nothing but an existing relation's name
    -- and prints it quoted (a name edited into SQL by a role that may update
    -- anomaly_runs is an error, not code)
    SELECT a.options, a.claims, a.items INTO ao, a_claims, a_items
    FROM medfraud.anomaly_runs a WHERE a.anomaly_run_id = arun;
    IF (ao ->> 'exclude_refunds')::bool THEN
        flt := flt || format(' AND s.%I::text IS DISTINCT FROM %L', ao #>> '{columns,refd_setl_flag}', '1');
    END IF;
    IF (ao ->> 'valid_only')::bool THEN
        flt := flt || format(' AND s.%I::text IS DISTINCT FROM %L', ao #>> '{columns,vali_flag}', '0');
    END IF;
    qtext := format($q$
        WITH ql AS (
            SELECT x.no, x.item, sum(coalesce(x.qty, 1)) AS qty, sum(x.amt) AS amt
            FROM unnest($1, $2, $3, $4) AS x(no, item, qty, amt)
            JOIN medfraud.item_limits il ON il.med_list_codg = x.item AND il.max_qty_30d IS NOT NULL
            GROUP BY 1, 2),
        q AS (
            SELECT ql.*, c.psn, c.at, c.claim_id
            FROM ql JOIN unnest($5, $6, $7) WITH ORDINALITY AS c(psn, at, claim_id, no) ON c.no = ql.no),
        -- each person's history read once for all their claims in the batch
        -- (the union of their 30-day windows), then summed per claim and item
        p AS (SELECT q.psn, min(q.at - interval '30 days') AS lo, max(q.at) AS hi FROM q GROUP BY 1),
        hs AS (
            SELECT p.psn, s.%5$I::text AS id, s.%4$I AS t
            FROM p JOIN %2$s s ON s.%3$I::text = p.psn AND s.%4$I >= p.lo AND s.%4$I < p.hi AND %6$s),
        hl AS (
            SELECT hs.psn, hs.id, hs.t, l.%9$I::text AS item, l.%1$I AS qty
            FROM hs JOIN %7$s l ON l.%8$I::text = hs.id),
        h AS (
            SELECT q.no, q.item, coalesce(sum(hl.qty), 0) AS past
            FROM q LEFT JOIN hl ON hl.psn = q.psn AND hl.item = q.item AND hl.t >= q.at - interval '30 days' AND hl.t < q.at
                 AND hl.id IS DISTINCT FROM q.claim_id
            GROUP BY 1, 2)
        SELECT q.no::int, 'MF-LIM-30D'::text, 'Item quantity over the 30-day limit'::text,
               format('Item %%s: %%s in the 30 days before this claim and %%s on it, limit %%s',
                      q.item, h.past, q.qty, il.max_qty_30d),
               q.amt, il.sev_deg, 'item_limit'::text,
               jsonb_build_object('item', q.item, 'quantity_before', h.past, 'quantity', q.qty,
                                  'max_qty_30d', il.max_qty_30d, 'note', il.note)
        FROM q JOIN h USING (no, item) JOIN medfraud.item_limits il ON il.med_list_codg = q.item
        WHERE h.past + q.qty > il.max_qty_30d$q$,
        ao #>> '{item_columns,cnt}', a_claims::regclass, ao #>> '{columns,psn_no}', ao #>> '{columns,setl_time}',
        ao #>> '{columns,setl_id}', flt, a_items::regclass, ao #>> '{item_columns,setl_id}', ao #>> '{item_columns,med_list_codg}');
    RETURN qtext;
END
$fn$;

-- The sources, each written once as an SQL-standard function body (bound
-- when created, so no search_path can redirect it, and inlined into the
-- caller's statement by the planner).  _check_batch runs them over a batch
-- of claims; check_claim (C) runs the same functions over a batch of one.

-- What has been learned: the newest finished run and the newest anomaly run.
CREATE FUNCTION medfraud._check_state()
RETURNS TABLE(run_id pg_catalog.int8, min_ring pg_catalog.float8, anomaly_run_id pg_catalog.int8,
              threshold pg_catalog.float8, anomaly_options pg_catalog.jsonb,
              anomaly_claims pg_catalog.text, anomaly_items pg_catalog.text)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT r.run_id, (r.options ->> 'rule_min_score')::pg_catalog.float8, a.anomaly_run_id,
           (a.options ->> 'threshold')::pg_catalog.float8, a.options, a.claims, a.items
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT * FROM medfraud.runs r WHERE r.status = 'done' ORDER BY r.run_id DESC LIMIT 1) r ON true
    LEFT JOIN LATERAL (SELECT * FROM medfraud.anomaly_runs a ORDER BY a.anomaly_run_id DESC LIMIT 1) a ON true;
END;
COMMENT ON FUNCTION medfraud._check_state() IS
'Internal: the newest finished detect_rings run and the newest anomaly run, as the pre-payment check reads them.';

-- Person-level sources (ring membership, expansion candidate, standing
-- anomaly score, this claim's fee against the person's usual) for claims
-- numbered 1..n: one statement, since a single check costs mostly per
-- statement run.
CREATE FUNCTION medfraud._person_sources(psns pg_catalog.text[], provs pg_catalog.text[], amounts pg_catalog.numeric[],
    run pg_catalog.int8, min_ring pg_catalog.float8, arun pg_catalog.int8, thr pg_catalog.float8)
RETURNS TABLE(claim_no pg_catalog.int4, rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH c AS (SELECT * FROM unnest(psns, provs, amounts) WITH ORDINALITY AS u(psn, prov, amount, no))
        SELECT c.no::int, 'MF-RING'::text, 'Member of a suspected fraud ring'::text,
               format('Person %s is a %s member of ring %s (score %s, %s members) found by run %s%s',
                      c.psn, m.role, r.ring_id, round(r.score::numeric, 1), r.size, run,
                      CASE WHEN c.prov = ANY (r.providers) THEN ', and this provider is one of the ring''s' ELSE '' END),
               c.amount,
               least(3, CASE WHEN r.score >= 60 THEN 3 WHEN r.score >= 40 THEN 2 ELSE 1 END
                        + (c.prov = ANY (r.providers))::int),
               'ring_member'::text,
               jsonb_build_object('run_id', run, 'ring_id', r.ring_id, 'ring_score', r.score, 'role', m.role,
                                  'recruiter_like', m.recruiter_like, 'member_score', m.member_score,
                                  'ring_provider', c.prov = ANY (r.providers), 'reason', r.reason)
        FROM c
        JOIN medfraud.ring_members m ON m.run_id = run AND m.psn_no = c.psn
        JOIN medfraud.rings r ON r.run_id = run AND r.ring_id = m.ring_id
        WHERE r.score >= min_ring
    UNION ALL
        SELECT c.no::int, 'MF-CAND'::text, 'Likely member of a suspected fraud ring'::text,
               format('Person %s co-visits with %s member(s) of ring %s of run %s on %s day(s); propagation score %s',
                      c.psn, k.members_linked, k.ring_id, run, k.covisit_days, round(k.score::numeric, 3)),
               c.amount, CASE WHEN k.score >= 0.6 THEN 2 ELSE 1 END, 'ring_candidate'::text,
               jsonb_build_object('run_id', run, 'ring_id', k.ring_id, 'score', k.score,
                                  'members_linked', k.members_linked, 'covisit_days', k.covisit_days)
        FROM c
        JOIN medfraud.ring_candidates k ON k.run_id = run AND k.psn_no = c.psn
    UNION ALL
        SELECT c.no::int, 'MF-ANOM'::text, 'Person far out of line with peers'::text,
               format('Person %s scores %s against %s peers (%s): %s',
                      c.psn, round(s.score::numeric, 1), s.peers, s.peer_group, array_to_string(s.flags, ', ')),
               c.amount, CASE WHEN s.score >= 2 * thr THEN 2 ELSE 1 END, 'person_anomaly'::text,
               jsonb_build_object('anomaly_run_id', arun, 'score', s.score, 'flags', to_jsonb(s.flags),
                                  'peer_group', s.peer_group, 'z_visits', s.z_visits, 'z_hifp', s.z_hifp,
                                  'z_providers', s.z_providers, 'z_night', s.z_night, 'z_costly', s.z_costly)
        FROM c
        JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun AND s.psn_no = c.psn
        WHERE s.score >= thr
    UNION ALL
        SELECT c.no::int, 'MF-AMT'::text, 'Claim amount far above the person''s usual'::text,
               format('Fee %s is %s times person %s''s median fee %s', c.amount,
                      round(c.amount / s.fee_median, 1), c.psn, s.fee_median),
               c.amount - s.fee_median, CASE WHEN c.amount >= 20 * s.fee_median THEN 2 ELSE 1 END, 'amount_outlier'::text,
               jsonb_build_object('anomaly_run_id', arun, 'fee_median', s.fee_median, 'fee_mad', s.fee_mad,
                                  'z', CASE WHEN s.fee_mad > 0 THEN round(0.6745 * (c.amount - s.fee_median) / s.fee_mad, 2) END)
        FROM c
        JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun AND s.psn_no = c.psn
        -- ten times the usual fee: on the demo city 0.8% of ordinary claims
        -- (costly visits happen) and nearly every ring claim; twenty times: 0.3%
        WHERE c.amount IS NOT NULL AND s.fee_median > 0 AND c.amount >= 10 * s.fee_median
          AND (s.fee_mad = 0 OR 0.6745 * (c.amount - s.fee_median) / s.fee_mad >= thr);
END;
COMMENT ON FUNCTION medfraud._person_sources(pg_catalog.text[], pg_catalog.text[], pg_catalog.numeric[], pg_catalog.int8,
    pg_catalog.float8, pg_catalog.int8, pg_catalog.float8) IS
'Internal: the MF-RING, MF-CAND, MF-ANOM and MF-AMT answers for claims numbered 1..n (used by _check_batch and check_claim).';

-- Every rule of run with its conditions (k_*) and its answer but the
-- amount.  A rule holds for a claim when each of its non-null conditions
-- equals the claim's attribute (hour band and amount band as
-- medfraud.hour_band and medfraud.amount_band give them); an attribute the
-- claim does not carry (NULL) does not hold.
CREATE FUNCTION medfraud._rule_answers(run pg_catalog.int8)
RETURNS TABLE(rid pg_catalog.int4, k_prov pg_catalog.text, k_dx pg_catalog.text, k_mt pg_catalog.text,
              k_hb pg_catalog.text, k_item pg_catalog.text, k_ab pg_catalog.text, rule_id pg_catalog.text,
              rule_name pg_catalog.text, vola_cont pg_catalog.text, sev_deg pg_catalog.int4,
              vola_bhvr_type pg_catalog.text, vola_evid pg_catalog.jsonb)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT q.rule_id, q.conditions ->> 'fixmedins_code', q.conditions ->> 'dise_codg', q.conditions ->> 'med_type',
           q.conditions ->> 'hour_band', q.conditions ->> 'med_list_codg', q.conditions ->> 'amount_band',
           format('MF-RULE-%s-%s', run, q.rule_id), 'Claim matches a rule distilled from fraud rings',
           format('Claim matches rule %s of run %s (from ring%s %s; confidence %s, lift %s): %s',
                  q.rule_id, run, CASE WHEN cardinality(q.ring_ids) > 1 THEN 's' ELSE '' END,
                  array_to_string(q.ring_ids, ', '), round(q.confidence::numeric, 2), round(q.lift::numeric, 1),
                  q.conditions::text),
           CASE WHEN q.confidence >= 0.8 AND q.lift >= 5 THEN 3 ELSE 2 END, 'ring_rule',
           jsonb_build_object('run_id', run, 'rule_id', q.rule_id, 'ring_ids', to_jsonb(q.ring_ids),
                              'conditions', q.conditions, 'confidence', q.confidence, 'lift', q.lift,
                              'predicate', q.predicate)
    FROM medfraud.rules q WHERE q.run_id = run;
END;
COMMENT ON FUNCTION medfraud._rule_answers(pg_catalog.int8) IS
'Internal: the rules of a run as conditions and the MF-RULE answer each gives (used by _check_batch and check_claim).';

-- Which kinds of limit the items have (most claims: none), and whether any
-- has clinical indications.
CREATE FUNCTION medfraud._limit_kinds(items pg_catalog.text[])
RETURNS TABLE(has_qty pg_catalog.bool, has_30d pg_catalog.bool, has_ga pg_catalog.bool, has_ind pg_catalog.bool)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT bool_or(il.max_qty_per_visit IS NOT NULL), bool_or(il.max_qty_30d IS NOT NULL),
           bool_or(il.gender IS NOT NULL OR il.min_age IS NOT NULL OR il.max_age IS NOT NULL),
           EXISTS (SELECT 1 FROM medfraud.item_indications ii WHERE ii.med_list_codg = ANY (items))
    FROM medfraud.item_limits il WHERE il.med_list_codg = ANY (items);
END;
COMMENT ON FUNCTION medfraud._limit_kinds(pg_catalog.text[]) IS
'Internal: whether any of the items has a per-visit, a 30-day, or a gender/age limit, and whether any has indications.';

-- Items claimed outside their indications (item_indications): under a
-- diagnosis none of them covers, or for a sex or age they exclude (gender
-- and birth date as the newest anomaly run read them).  A claim without a
-- diagnosis cannot be checked against them: a notice (severity 1).
CREATE FUNCTION medfraud._indication_sources(line_no pg_catalog.int4[], line_item pg_catalog.text[],
    line_amt pg_catalog.numeric[], dxs pg_catalog.text[], psns pg_catalog.text[], ats pg_catalog.timestamptz[],
    arun pg_catalog.int8)
RETURNS TABLE(claim_no pg_catalog.int4, rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH l AS (
        SELECT x.no, x.item, sum(x.amt) AS amt
        FROM unnest(line_no, line_item, line_amt) AS x(no, item, amt)
        WHERE x.item IN (SELECT ii.med_list_codg FROM medfraud.item_indications ii)
        GROUP BY 1, 2),
    p AS (
        SELECT l.no, l.item, l.amt, c.dx, c.psn, s.gend, extract(year FROM age(c.at::date, s.brdy))::int AS age
        FROM l JOIN unnest(dxs, psns, ats) WITH ORDINALITY AS c(dx, psn, at, no) ON c.no = l.no
        LEFT JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun AND s.psn_no = c.psn),
    m AS (
        SELECT p.no, p.item, p.amt, p.dx, p.gend, p.age,
               bool_or(medfraud.dx_matches(p.dx, ii.dise_codg)) AS dx_ok,
               bool_or(medfraud.dx_matches(p.dx, ii.dise_codg)
                       AND medfraud._indication_admits(ii.gender, ii.min_age, ii.max_age, p.gend, p.age)) AS ok,
               string_agg(ii.dise_codg, ', ' ORDER BY ii.dise_codg) AS indicated
        FROM p JOIN medfraud.item_indications ii ON ii.med_list_codg = p.item
        GROUP BY 1, 2, 3, 4, 5, 6)
    SELECT m.no::int, 'MF-DX'::text,
           CASE WHEN m.dx IS NULL THEN 'Item needs a diagnosis to be checked'
                WHEN NOT coalesce(m.dx_ok, false) THEN 'Item not indicated for the diagnosis'
                ELSE 'Item not indicated for the person''s sex or age' END,
           CASE WHEN m.dx IS NULL THEN format('Item %s is indicated for %s; the claim gives no diagnosis', m.item, m.indicated)
                WHEN NOT coalesce(m.dx_ok, false) THEN format('Item %s is indicated for %s, not for diagnosis %s', m.item, m.indicated, m.dx)
                ELSE format('Item %s under diagnosis %s is not indicated for a person of sex %s, age %s', m.item, m.dx,
                            coalesce(m.gend, '?'), coalesce(m.age::text, '?')) END,
           m.amt, CASE WHEN m.dx IS NULL THEN 1 ELSE 2 END, 'item_indication'::text,
           jsonb_build_object('item', m.item, 'dise_codg', m.dx, 'indicated_for', string_to_array(m.indicated, ', '),
                              'gender', m.gend, 'age', m.age)
    FROM m WHERE NOT coalesce(m.ok, false);
END;
COMMENT ON FUNCTION medfraud._indication_sources(pg_catalog.int4[], pg_catalog.text[], pg_catalog.numeric[], pg_catalog.text[],
    pg_catalog.text[], pg_catalog.timestamptz[], pg_catalog.int8) IS
'Internal: the MF-DX answers (item outside its indications) for fee lines of claims numbered 1..n.';

-- Quantity per claim, gender and age (gender and birth date as the newest
-- anomaly run read them from its person table), for fee lines (claim
-- number, item, quantity, amount) of claims (person, time) numbered 1..n.
CREATE FUNCTION medfraud._limit_sources(line_no pg_catalog.int4[], line_item pg_catalog.text[],
    line_qty pg_catalog.numeric[], line_amt pg_catalog.numeric[], psns pg_catalog.text[],
    ats pg_catalog.timestamptz[], arun pg_catalog.int8)
RETURNS TABLE(claim_no pg_catalog.int4, rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH q AS (
        SELECT x.no, x.item, sum(coalesce(x.qty, 1)) AS qty, sum(x.amt) AS amt
        FROM unnest(line_no, line_item, line_qty, line_amt) AS x(no, item, qty, amt)
        WHERE x.item IN (SELECT il.med_list_codg FROM medfraud.item_limits il)
        GROUP BY 1, 2),
    p AS (
        SELECT q.*, c.psn, c.at, il.max_qty_per_visit, il.gender, il.min_age, il.max_age, il.sev_deg, il.note,
               s.gend, extract(year FROM age(c.at::date, s.brdy))::int AS age
        FROM q JOIN medfraud.item_limits il ON il.med_list_codg = q.item
        JOIN unnest(psns, ats) WITH ORDINALITY AS c(psn, at, no) ON c.no = q.no
        LEFT JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun AND s.psn_no = c.psn
        -- only lines that can break one of the three (the person is
        -- looked up for gender- and age-limited items only)
        WHERE q.qty > il.max_qty_per_visit OR il.gender IS NOT NULL OR il.min_age IS NOT NULL
           OR il.max_age IS NOT NULL)
    SELECT p.no::int, 'MF-LIM-QTY'::text, 'Item quantity over the per-visit limit'::text,
           format('Item %s: quantity %s on one claim, limit %s', p.item, p.qty, p.max_qty_per_visit),
           p.amt, p.sev_deg, 'item_limit'::text,
           jsonb_build_object('item', p.item, 'quantity', p.qty, 'max_qty_per_visit', p.max_qty_per_visit, 'note', p.note)
    FROM p WHERE p.qty > p.max_qty_per_visit
    UNION ALL
    SELECT p.no::int, 'MF-LIM-GEND'::text, 'Item not allowed for the person''s gender'::text,
           format('Item %s is limited to gender %s; person %s is %s', p.item, p.gender, p.psn, p.gend),
           NULL::numeric, p.sev_deg, 'item_limit'::text,
           jsonb_build_object('item', p.item, 'gender_allowed', p.gender, 'gender', p.gend, 'note', p.note)
    FROM p WHERE p.gender IS NOT NULL AND p.gend IS NOT NULL AND p.gend <> p.gender
    UNION ALL
    SELECT p.no::int, 'MF-LIM-AGE'::text, 'Item not allowed at the person''s age'::text,
           format('Item %s is limited to ages %s-%s; person %s is %s', p.item, coalesce(p.min_age::text, ''),
                  coalesce(p.max_age::text, ''), p.psn, p.age),
           NULL::numeric, p.sev_deg, 'item_limit'::text,
           jsonb_build_object('item', p.item, 'min_age', p.min_age, 'max_age', p.max_age, 'age', p.age, 'note', p.note)
    FROM p WHERE p.age < p.min_age OR p.age > p.max_age;
END;
COMMENT ON FUNCTION medfraud._limit_sources(pg_catalog.int4[], pg_catalog.text[], pg_catalog.numeric[], pg_catalog.numeric[],
    pg_catalog.text[], pg_catalog.timestamptz[], pg_catalog.int8) IS
'Internal: the MF-LIM-QTY, MF-LIM-GEND and MF-LIM-AGE answers for fee lines of claims numbered 1..n.';

CREATE FUNCTION medfraud._check_batch(
    claim_ids pg_catalog.text[], psns pg_catalog.text[], provs pg_catalog.text[], ats pg_catalog.timestamptz[],
    med_types pg_catalog.text[], dxs pg_catalog.text[], amounts pg_catalog.numeric[],
    line_no pg_catalog.int4[], line_item pg_catalog.text[], line_qty pg_catalog.numeric[], line_amt pg_catalog.numeric[])
RETURNS TABLE(claim_no pg_catalog.int4, rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
-- VOLATILE only because it may PREPARE (a session-level statement, see the
-- 30-day limit below); it writes nothing
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    st record;
    has_qty bool;
    has_30d bool;
    has_ga bool;
    has_ind bool;
    qtext text;
    pname text;
    prev_mode text;
BEGIN
    SELECT * INTO st FROM medfraud._check_state();

    RETURN QUERY SELECT * FROM medfraud._person_sources(psns, provs, amounts, st.run_id, st.min_ring,
                                                        st.anomaly_run_id, st.threshold);

    IF st.run_id IS NOT NULL THEN
        -- distilled rules, matched by joins, smallest side first (a bulk
        -- INSERT checks 100k claims): rules with an item start from the
        -- claim's lines that have it (few); the others join claims on
        -- provider, or on diagnosis (every template has an item, a
        -- provider or a diagnosis)
        RETURN QUERY
        WITH c AS (
            SELECT u.*, medfraud.hour_band(extract(hour FROM u.at)::int) AS hour_band
            FROM unnest(provs, ats, med_types, dxs, amounts) WITH ORDINALITY AS u(prov, at, med_type, dx, amount, no)),
        ru AS (SELECT * FROM medfraud._rule_answers(st.run_id)),
        l AS (SELECT * FROM unnest(line_no, line_item, line_amt) AS x(no, item, amt)),
        hit AS (
            SELECT DISTINCT ON (c.no, ru.rid) c.no, c.amount, ru.*
            FROM l JOIN ru ON ru.k_item = l.item JOIN c ON c.no = l.no
            WHERE (ru.k_ab IS NULL OR medfraud.amount_band(l.amt) = ru.k_ab)
              AND (ru.k_prov IS NULL OR ru.k_prov = c.prov) AND (ru.k_dx IS NULL OR ru.k_dx = c.dx)
              AND (ru.k_mt IS NULL OR ru.k_mt = c.med_type) AND (ru.k_hb IS NULL OR ru.k_hb = c.hour_band)
            UNION ALL
            SELECT c.no, c.amount, ru.* FROM c JOIN ru ON ru.k_prov = c.prov
            WHERE ru.k_item IS NULL AND ru.k_ab IS NULL
              AND (ru.k_dx IS NULL OR ru.k_dx = c.dx) AND (ru.k_mt IS NULL OR ru.k_mt = c.med_type)
              AND (ru.k_hb IS NULL OR ru.k_hb = c.hour_band)
            UNION ALL
            SELECT c.no, c.amount, ru.* FROM c JOIN ru ON ru.k_prov IS NULL AND ru.k_dx = c.dx
            WHERE ru.k_item IS NULL AND ru.k_ab IS NULL
              AND (ru.k_mt IS NULL OR ru.k_mt = c.med_type) AND (ru.k_hb IS NULL OR ru.k_hb = c.hour_band))
        SELECT k.no::int, k.rule_id, k.rule_name, k.vola_cont, k.amount, k.sev_deg, k.vola_bhvr_type, k.vola_evid
        FROM hit k;
    END IF;

    IF line_no IS NOT NULL AND cardinality(line_no) > 0 THEN
        SELECT * INTO has_qty, has_30d, has_ga, has_ind FROM medfraud._limit_kinds(line_item);
        IF has_qty OR has_ga THEN
            RETURN QUERY SELECT * FROM medfraud._limit_sources(line_no, line_item, line_qty, line_amt, psns, ats,
                                                               st.anomaly_run_id);
        END IF;
        IF has_ind THEN
            RETURN QUERY SELECT * FROM medfraud._indication_sources(line_no, line_item, line_amt, dxs, psns, ats,
                                                                    st.anomaly_run_id);
        END IF;
        -- quantity over the 30 days ending with the claim: the person's
        -- history in the newest anomaly run's tables (read as the caller)
        IF st.anomaly_run_id IS NOT NULL AND st.anomaly_items IS NOT NULL AND has_30d THEN
            qtext := medfraud._history_sql(st.anomaly_run_id);
            IF cardinality(psns) <= 16 THEN
                -- a few claims: dynamic SQL would be planned on every call;
                -- a prepared statement per session and anomaly run is
                -- planned once (arguments passed as literals: the EXECUTE
                -- command takes no parameters through SPI)
                pname := 'medfraud_hist_' || st.anomaly_run_id;
                IF NOT EXISTS (SELECT 1 FROM pg_prepared_statements p WHERE p.name = pname) THEN
                    EXECUTE format('PREPARE %I(int[], text[], numeric[], numeric[], text[], timestamptz[], text[]) AS %s',
                                   pname, qtext);
                END IF;
                -- and its generic plan used: left to choose, PostgreSQL keeps
                -- re-planning (0.5 ms) a query that runs in 0.15 ms
                prev_mode := current_setting('plan_cache_mode');
                PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
                RETURN QUERY EXECUTE format('EXECUTE %I(%L, %L, %L, %L, %L, %L, %L)', pname,
                                            line_no, line_item, line_qty, line_amt, psns, ats, claim_ids);
                PERFORM set_config('plan_cache_mode', prev_mode, true);
            ELSE
                RETURN QUERY EXECUTE qtext USING line_no, line_item, line_qty, line_amt, psns, ats, claim_ids;
            END IF;
        END IF;
    END IF;
END
$fn$;

CREATE FUNCTION medfraud.check_claim(psn_no pg_catalog.text, fixmedins_code pg_catalog.text, at pg_catalog.timestamptz,
    items pg_catalog.text[] DEFAULT NULL, amount pg_catalog.numeric DEFAULT NULL,
    quantities pg_catalog.numeric[] DEFAULT NULL, item_amounts pg_catalog.numeric[] DEFAULT NULL,
    med_type pg_catalog.text DEFAULT NULL, dise_codg pg_catalog.text DEFAULT NULL,
    setl_id pg_catalog.text DEFAULT NULL)
RETURNS TABLE(rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
-- C (src/pg/check_claim.c): the source functions above called for one
-- claim through plans saved per backend, and the newest run's rules matched
-- in memory; VOLATILE for its session caches, it writes nothing
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'medfraud_check_claim';
COMMENT ON FUNCTION medfraud.check_claim(pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.text[],
    pg_catalog.numeric, pg_catalog.numeric[], pg_catalog.numeric[], pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
'Check one claim before payment against what medfraud has learned: ring membership, distilled rules and expansion candidates (newest finished detect_rings run), the person''s anomaly scores and usual fee (newest person_anomalies), and item_limits. One row per violation in the 3101 audit shape, none when clean.';

-- Options of the pre-payment trigger.
CREATE FUNCTION medfraud.prepayment_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "psn_no": "psn_no", "fixmedins_code": "fixmedins_code",
              "setl_time": "setl_time", "med_type": "med_type", "dise_codg": "dise_codg",
              "medfee_sumamt": "medfee_sumamt"},
  "items": null,
  "item_columns": {"setl_id": "setl_id", "med_list_codg": "med_list_codg", "cnt": "cnt",
                   "det_item_fee_sumamt": "det_item_fee_sumamt"},
  "min_severity": 1,
  "max_queue": 10000000
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.prepayment_options_default() IS
'The options enable_prepayment_check uses when a key is not given.';

-- What the flag and reject triggers and the queue's drain do with a batch of
-- claims (parallel arrays, one element per claim): read their fee lines,
-- check them with _check_batch, and record the violations (flag) or refuse
-- the batch (reject).  Returns the number of alerts written.
CREATE FUNCTION medfraud._record_checks(tbl pg_catalog.text, mode pg_catalog.text, o pg_catalog.jsonb,
    ids pg_catalog.text[], psns pg_catalog.text[], provs pg_catalog.text[], ats pg_catalog.timestamptz[],
    mts pg_catalog.text[], dxs pg_catalog.text[], amts pg_catalog.numeric[])
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- _check_batch's cached generic plans assume a handful of claims; a bulk
-- batch needs plans made for its real array sizes (hash joins, not loops)
SET plan_cache_mode = force_custom_plan
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    ic jsonb := o -> 'item_columns';
    lno int[]; litem text[]; lqty numeric[]; lamt numeric[];
    bad text;
    nbad bigint;
BEGIN
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    IF array_position(psns, NULL) IS NOT NULL OR array_position(provs, NULL) IS NOT NULL
       OR array_position(ats, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'claim with NULL %, % or % cannot be checked before payment',
            c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time' USING ERRCODE = '23502',
            HINT = 'Every settlement needs a person, a provider and a time; or disable the check with medfraud.disable_prepayment_check.';
    END IF;
    IF o ->> 'items' IS NOT NULL THEN
        -- fee lines are uploaded (2204) before the settlement (2207): read them by claim id.
        -- With a btree index led by a text claim-id column, probe it per claim: left to
        -- choose, the planner hashes the whole fee-detail table for a 100k-row INSERT
        -- (1.6 s on the 1M-visit city, against 0.27 s of probes; it grows with the table)
        IF EXISTS (SELECT 1 FROM pg_index i
                   JOIN pg_class ic_rel ON ic_rel.oid = i.indexrelid
                   JOIN pg_am am ON am.oid = ic_rel.relam AND am.amname = 'btree'
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   WHERE i.indrelid = (o ->> 'items')::regclass AND i.indisvalid AND i.indpred IS NULL
                     AND a.attname = ic ->> 'setl_id' AND a.atttypid IN ('text'::regtype, 'varchar'::regtype)) THEN
            EXECUTE format($q$
                SELECT array_agg(b.no::int), array_agg(l.item), array_agg(l.qty), array_agg(l.amt)
                FROM unnest($1) WITH ORDINALITY AS b(id, no)
                CROSS JOIN LATERAL (SELECT l.%I::text AS item, l.%I::numeric AS qty, l.%I::numeric AS amt
                                    FROM %s l WHERE l.%I::text = b.id OFFSET 0) l$q$,
                ic ->> 'med_list_codg', ic ->> 'cnt', ic ->> 'det_item_fee_sumamt', (o ->> 'items')::regclass, ic ->> 'setl_id')
            INTO lno, litem, lqty, lamt USING ids;
        ELSE
            EXECUTE format($q$
                SELECT array_agg(b.no::int), array_agg(l.%I::text), array_agg(l.%I::numeric), array_agg(l.%I::numeric)
                FROM unnest($1) WITH ORDINALITY AS b(id, no) JOIN %s l ON l.%I::text = b.id$q$,
                ic ->> 'med_list_codg', ic ->> 'cnt', ic ->> 'det_item_fee_sumamt', (o ->> 'items')::regclass, ic ->> 'setl_id')
            INTO lno, litem, lqty, lamt USING ids;
        END IF;
    END IF;
    IF mode = 'reject' THEN
        SELECT count(*), string_agg(format('claim %s of %s: %s %s (severity %s)', coalesce(k.id, '(no id)'), k.psn,
                                           b.rule_id, b.vola_cont, b.sev_deg),
                                    E'\n' ORDER BY b.claim_no, b.sev_deg DESC, b.rule_id)
        INTO nbad, bad
        FROM medfraud._check_batch(ids, psns, provs, ats, mts, dxs, amts, lno, litem, lqty, lamt) b
        JOIN unnest(ids, psns) WITH ORDINALITY AS k(id, psn, no) ON k.no = b.claim_no
        WHERE b.sev_deg >= (o ->> 'min_severity')::int;
        IF nbad > 0 THEN
            RAISE EXCEPTION 'claim rejected by the medfraud pre-payment check: % violation(s)', nbad
                USING ERRCODE = '23514', DETAIL = bad,
                      HINT = 'Review the claim; the check is set up by medfraud.enable_prepayment_check (mode reject).';
        END IF;
        RETURN 0;
    END IF;
    WITH ins AS (
        INSERT INTO medfraud.claim_alerts(claims_table, claim_id, psn_no, fixmedins_code, at, rule_id, rule_name,
                                          vola_cont, vola_amt, sev_deg, vola_bhvr_type, vola_evid)
        SELECT tbl, k.id, k.psn, k.prov, k.at, b.rule_id, b.rule_name,
               b.vola_cont, b.vola_amt, b.sev_deg, b.vola_bhvr_type, b.vola_evid
        FROM medfraud._check_batch(ids, psns, provs, ats, mts, dxs, amts, lno, litem, lqty, lamt) b
        -- a join, not ids[claim_no]: subscripting a text[] walks it from the start
        JOIN unnest(ids, psns, provs, ats) WITH ORDINALITY AS k(id, psn, prov, at, no) ON k.no = b.claim_no
        WHERE b.sev_deg >= (o ->> 'min_severity')::int
        RETURNING alert_id, sev_deg, claim_id)
    SELECT count(*), json_build_object('kind', 'claim_alerts', 'claims_table', tbl, 'alerts', count(*),
                                       'claims', count(DISTINCT claim_id), 'max_severity', max(sev_deg),
                                       'held', count(DISTINCT claim_id) FILTER (WHERE sev_deg >= 2),
                                       'first_alert_id', min(alert_id), 'last_alert_id', max(alert_id))::text
    INTO nbad, bad FROM ins;
    -- one notification per batch, not per alert: a bulk load may flag thousands
    IF nbad > 0 THEN
        PERFORM pg_notify('medfraud_alerts', bad);
    END IF;
    RETURN nbad;
END
$fn$;

-- The claims of one table as _record_checks' arrays, read by SQL over a
-- relation (the trigger's transition table, or the claims table itself for
-- the queue's drain) whose FROM/WHERE text the caller gives: one aggregate
-- pass, every array in the same row order.
CREATE FUNCTION medfraud._claim_arrays_sql(c pg_catalog.jsonb, from_where pg_catalog.text)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('SELECT array_agg(%I::text), array_agg(%I::text), array_agg(%I::text), array_agg(%I::timestamptz),
                      array_agg(%I::text), array_agg(%I::text), array_agg(%I::numeric) FROM %s',
              c ->> 'setl_id', c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time', c ->> 'med_type',
              c ->> 'dise_codg', c ->> 'medfee_sumamt', from_where)
$$;

-- The trigger: statement level, over the INSERT's transition table, so a
-- bulk load is checked in one set-based pass rather than row by row; in
-- queue mode it only records the statement's claim ids (95_claim_queue.sql).
CREATE FUNCTION medfraud._prepayment_trigger()
RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    mode text := TG_ARGV[0];
    o jsonb := TG_ARGV[1]::jsonb;
    tbl text := format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    ids text[]; psns text[]; provs text[]; ats timestamptz[]; mts text[]; dxs text[]; amts numeric[];
    anynull bool;
BEGIN
    IF mode = 'queue' THEN
        -- the transition table is visible here only, so the ids are read here
        EXECUTE format('SELECT array_agg(%1$I::text), bool_or(%1$I IS NULL OR %2$I IS NULL OR %3$I IS NULL OR %4$I IS NULL)
                        FROM mf_new', o #>> '{columns,setl_id}', o #>> '{columns,psn_no}',
                       o #>> '{columns,fixmedins_code}', o #>> '{columns,setl_time}')
        INTO ids, anynull;
        IF anynull THEN
            RAISE EXCEPTION 'claim with NULL %, %, % or % cannot be queued for the pre-payment check',
                o #>> '{columns,setl_id}', o #>> '{columns,psn_no}', o #>> '{columns,fixmedins_code}',
                o #>> '{columns,setl_time}' USING ERRCODE = '23502',
                HINT = 'Every settlement needs an id, a person, a provider and a time; or disable the check with medfraud.disable_prepayment_check.';
        END IF;
        PERFORM medfraud._enqueue_claims(TG_RELID, o, ids);
        RETURN NULL;
    END IF;
    EXECUTE medfraud._claim_arrays_sql(o -> 'columns', 'mf_new')
    INTO ids, psns, provs, ats, mts, dxs, amts;
    PERFORM medfraud._record_checks(tbl, mode, o, ids, psns, provs, ats, mts, dxs, amts);
    RETURN NULL;
END
$fn$;

CREATE FUNCTION medfraud.enable_prepayment_check(claims pg_catalog.regclass, mode pg_catalog.text DEFAULT 'flag',
                                                 options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.text LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    d jsonb;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF mode IS NULL OR mode NOT IN ('flag', 'reject', 'queue') THEN
        RAISE EXCEPTION 'mode must be flag, reject or queue' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', coalesce(quote_literal(mode), 'NULL')),
            HINT = 'flag records violations in medfraud.claim_alerts and lets the claim in; reject refuses the INSERT; queue records the claims'' ids for medfraud.drain_claim_queue, which flags them seconds later.';
    END IF;
    d := medfraud._merge_options(medfraud.prepayment_options_default(), options, '{items}', '{}',
                                 '{"min_severity": 2}');
    PERFORM medfraud._check_option(d, 'min_severity', 1, 3);
    PERFORM medfraud._check_option(d, 'max_queue', 1, 2147483647);
    PERFORM medfraud._check_columns(claims, d -> 'columns', 'claims');
    IF mode = 'queue' AND NOT EXISTS (
           SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid = claims AND i.indisvalid AND i.indpred IS NULL AND a.attname = d #>> '{columns,setl_id}') THEN
        RAISE WARNING 'no index on %(%): the queue''s drain reads each claim by its id and will scan the whole table',
            claims, d #>> '{columns,setl_id}'
            USING HINT = format('CREATE INDEX ON %s (%I);', claims, d #>> '{columns,setl_id}');
    END IF;
    IF d ->> 'items' IS NOT NULL THEN
        PERFORM medfraud._check_columns((d ->> 'items')::regclass, d -> 'item_columns', 'items');
    END IF;
    -- replacing in one transaction: enabling twice leaves one trigger
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_prepayment_check ON %s', claims);
    EXECUTE format('CREATE TRIGGER medfraud_prepayment_check AFTER INSERT ON %s
                    REFERENCING NEW TABLE AS mf_new FOR EACH STATEMENT
                    EXECUTE FUNCTION medfraud._prepayment_trigger(%L, %L)', claims, mode, d::text);
    RETURN format('pre-payment check on %s: %s', claims, mode);
END
$fn$;
COMMENT ON FUNCTION medfraud.enable_prepayment_check(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb) IS
'Install the pre-payment check on a settlement table (idempotent): mode flag records violations in medfraud.claim_alerts and lets the INSERT through; reject makes the INSERT fail with SQLSTATE 23514 listing the violations; queue only records the inserted claims'' ids in medfraud.claim_queue, and medfraud.drain_claim_queue (a drain worker or a pg_cron job) checks them seconds later into claim_alerts. Options: medfraud.prepayment_options_default().';

CREATE FUNCTION medfraud.disable_prepayment_check(claims pg_catalog.regclass)
RETURNS pg_catalog.text LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_prepayment_check ON %s', claims);
    RETURN format('pre-payment check on %s: off', claims);
END
$fn$;
COMMENT ON FUNCTION medfraud.disable_prepayment_check(pg_catalog.regclass) IS
'Remove the pre-payment check from a settlement table (idempotent).';

CREATE VIEW medfraud.prepayment_checks AS
SELECT t.tgrelid::regclass AS claims_table,
       split_part(encode(t.tgargs, 'escape'), '\000', 1) AS mode,
       split_part(encode(t.tgargs, 'escape'), '\000', 2)::jsonb AS options
FROM pg_catalog.pg_trigger t
WHERE t.tgname = 'medfraud_prepayment_check' AND t.tgfoid = 'medfraud._prepayment_trigger()'::regprocedure;
COMMENT ON VIEW medfraud.prepayment_checks IS 'Tables with the pre-payment check on, with its mode and options.';
GRANT SELECT ON medfraud.prepayment_checks TO medfraud_analyst;

-- Item limits from a CSV file on the server (header row; columns named as
-- in medfraud.item_limits, any subset that includes med_list_codg).
-- Rows replace those with the same code; the whole file loads or nothing.
CREATE FUNCTION medfraud.load_item_limits(path pg_catalog.text, replace_all pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
    bad text;
BEGIN
    PERFORM medfraud._csv_stage(path, 'medfraud.item_limits', '{med_list_codg}');
    SELECT string_agg(DISTINCT med_list_codg, ', ') INTO bad
    FROM (SELECT med_list_codg FROM pg_temp._mf_csv_in GROUP BY 1 HAVING count(*) > 1) d;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'item(s) listed twice in %: %', path, bad USING ERRCODE = '23505';
    END IF;
    IF replace_all THEN
        DELETE FROM medfraud.item_limits;
    END IF;
    INSERT INTO medfraud.item_limits SELECT * FROM pg_temp._mf_csv_in
    ON CONFLICT (med_list_codg) DO UPDATE SET item_name = EXCLUDED.item_name,
        max_qty_per_visit = EXCLUDED.max_qty_per_visit, max_qty_30d = EXCLUDED.max_qty_30d,
        gender = EXCLUDED.gender, min_age = EXCLUDED.min_age, max_age = EXCLUDED.max_age,
        sev_deg = EXCLUDED.sev_deg, note = EXCLUDED.note;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE pg_temp._mf_csv_in;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION medfraud.load_item_limits(pg_catalog.text, pg_catalog.bool) IS
'Load medfraud.item_limits from a CSV file on the database server (header row naming columns of item_limits; med_list_codg required). Rows replace those with the same code; replace_all empties the table first. All or nothing. Needs pg_read_server_files (COPY FROM a file); from a client use psql \copy medfraud.item_limits FROM ... WITH (FORMAT csv, HEADER).';
