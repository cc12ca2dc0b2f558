-- Views for dashboards (version 0.4.0).  BI tools connect as a login role
-- in medfraud_analyst and read views whose column names and types are a
-- contract: docs/bi.md lists them, and test/shell/bi.sh fails when a view
-- and that list disagree.  The latest_* views of 0.2.0/0.3.0
-- (rings, members, events, rules, rule hits, candidates, anomaly scores)
-- are part of the same contract; these add run history, a ring's providers
-- and alert counts.

CREATE VIEW medfraud.run_history AS
SELECT r.run_id,
       r.status,
       r.started_at,
       r.finished_at,
       pg_catalog.date_part('epoch', r.finished_at - r.started_at) AS seconds,
       r.run_by::pg_catalog.text AS run_by,
       r.claims,
       r.items,
       (r.input_rows ->> 'visits')::pg_catalog.int8 AS visits_read,
       (r.input_rows ->> 'covisit_graph')::pg_catalog.int8 AS covisit_edges,
       r.rings_found,
       (SELECT pg_catalog.count(*) FROM medfraud.ring_members m WHERE m.run_id = r.run_id) AS ring_members,
       (SELECT pg_catalog.count(*) FROM medfraud.rules u WHERE u.run_id = r.run_id) AS rules,
       (SELECT pg_catalog.count(*) FROM medfraud.ring_candidates c WHERE c.run_id = r.run_id) AS candidates,
       r.error_sqlstate,
       r.error_message,
       coalesce(r.run_id OPERATOR(pg_catalog.=) (SELECT l.run_id FROM medfraud.latest_run l), false) AS is_latest
FROM medfraud.runs r;
COMMENT ON VIEW medfraud.run_history IS 'One row per detect_rings run: status, duration, what it read and found; is_latest marks the run the latest_* views show.';

CREATE VIEW medfraud.latest_ring_providers AS
SELECT t.run_id,
       t.ring_id,
       t.fixmedins_code,
       t.joint_trips,
       t.trip_days,
       (SELECT pg_catalog.count(DISTINCT x.psn_no)::pg_catalog.int4
        FROM medfraud.ring_events e2 CROSS JOIN LATERAL pg_catalog.unnest(e2.members) AS x(psn_no)
        WHERE e2.run_id = t.run_id AND e2.ring_id = t.ring_id
          AND e2.fixmedins_code OPERATOR(pg_catalog.=) t.fixmedins_code) AS members,
       t.first_trip,
       t.last_trip,
       t.medfee,
       t.hifp
FROM (SELECT e.run_id, e.ring_id, e.fixmedins_code,
             pg_catalog.count(*)::pg_catalog.int4 AS joint_trips,
             pg_catalog.count(DISTINCT e.day)::pg_catalog.int4 AS trip_days,
             pg_catalog.min(e.started_at) AS first_trip,
             pg_catalog.max(e.started_at) AS last_trip,
             pg_catalog.sum(e.medfee) AS medfee,
             pg_catalog.sum(e.hifp) AS hifp
      FROM medfraud.latest_ring_events e
      GROUP BY e.run_id, e.ring_id, e.fixmedins_code) t;
COMMENT ON VIEW medfraud.latest_ring_providers IS 'Each ring of the newest finished run by provider: joint trips there, members on them, amounts.';

CREATE VIEW medfraud.alert_summary AS
SELECT a.alerted_at::pg_catalog.date AS day,
       a.claims_table,
       pg_catalog.substring(a.rule_id, '^MF-[A-Z]+') AS source,
       a.vola_bhvr_type,
       a.sev_deg,
       pg_catalog.count(*) AS alerts,
       pg_catalog.count(DISTINCT a.claim_id) AS claims,
       pg_catalog.count(DISTINCT a.psn_no) AS persons,
       pg_catalog.sum(a.vola_amt) AS vola_amt
FROM medfraud.claim_alerts a
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW medfraud.alert_summary IS 'Pre-payment alerts per day (session time zone), claims table, source (MF-RING, MF-RULE, MF-CAND, MF-ANOM, MF-AMT, MF-LIM), behaviour type and severity.';

GRANT SELECT ON medfraud.run_history, medfraud.latest_ring_providers, medfraud.alert_summary TO medfraud_analyst;

COMMENT ON COLUMN medfraud.run_history.run_id IS 'Run number.';
COMMENT ON COLUMN medfraud.run_history.status IS 'done or failed (a run in progress is invisible until it commits).';
COMMENT ON COLUMN medfraud.run_history.started_at IS 'When the run started.';
COMMENT ON COLUMN medfraud.run_history.finished_at IS 'When it finished or failed.';
COMMENT ON COLUMN medfraud.run_history.seconds IS 'Wall-clock duration in seconds.';
COMMENT ON COLUMN medfraud.run_history.run_by IS 'Role that ran it.';
COMMENT ON COLUMN medfraud.run_history.claims IS 'Settlement table read.';
COMMENT ON COLUMN medfraud.run_history.items IS 'Fee-detail table read, or NULL.';
COMMENT ON COLUMN medfraud.run_history.visits_read IS 'Settlements kept after the filters (valid, not refunded, in the period).';
COMMENT ON COLUMN medfraud.run_history.covisit_edges IS 'Co-visit pairs on min_days or more (covisit_graph rows).';
COMMENT ON COLUMN medfraud.run_history.rings_found IS 'Rings published (scored or not).';
COMMENT ON COLUMN medfraud.run_history.ring_members IS 'ring_members rows of the run.';
COMMENT ON COLUMN medfraud.run_history.rules IS 'Rules distilled by the run.';
COMMENT ON COLUMN medfraud.run_history.candidates IS 'Expansion candidates (ring_candidates rows).';
COMMENT ON COLUMN medfraud.run_history.error_sqlstate IS 'SQLSTATE of the error that failed the run.';
COMMENT ON COLUMN medfraud.run_history.error_message IS 'Message of that error.';
COMMENT ON COLUMN medfraud.run_history.is_latest IS 'true for the run the latest_* views show.';
COMMENT ON COLUMN medfraud.latest_ring_providers.run_id IS 'Run (the newest finished one).';
COMMENT ON COLUMN medfraud.latest_ring_providers.ring_id IS 'Ring.';
COMMENT ON COLUMN medfraud.latest_ring_providers.fixmedins_code IS 'Provider of some of the ring''s joint trips.';
COMMENT ON COLUMN medfraud.latest_ring_providers.joint_trips IS 'The ring''s joint trips there.';
COMMENT ON COLUMN medfraud.latest_ring_providers.trip_days IS 'Distinct days of those trips.';
COMMENT ON COLUMN medfraud.latest_ring_providers.members IS 'Members who were on at least one of them.';
COMMENT ON COLUMN medfraud.latest_ring_providers.first_trip IS 'Start of the first trip there.';
COMMENT ON COLUMN medfraud.latest_ring_providers.last_trip IS 'Start of the last trip there.';
COMMENT ON COLUMN medfraud.latest_ring_providers.medfee IS 'medfee of the trips'' claims.';
COMMENT ON COLUMN medfraud.latest_ring_providers.hifp IS 'Pooled-fund payout of those claims.';
COMMENT ON COLUMN medfraud.alert_summary.day IS 'Day the alerts were raised (alerted_at in the session time zone).';
COMMENT ON COLUMN medfraud.alert_summary.claims_table IS 'Table the claims were inserted into.';
COMMENT ON COLUMN medfraud.alert_summary.source IS 'MF-RING, MF-RULE, MF-CAND, MF-ANOM, MF-AMT or MF-LIM (rule_id without its numbers).';
COMMENT ON COLUMN medfraud.alert_summary.vola_bhvr_type IS 'Behaviour type (ring_member, ring_rule, ring_candidate, person_anomaly, amount_outlier, item_limit).';
COMMENT ON COLUMN medfraud.alert_summary.sev_deg IS 'Severity: 1 notice, 2 review, 3 hold.';
COMMENT ON COLUMN medfraud.alert_summary.alerts IS 'Alerts (claim_alerts rows).';
COMMENT ON COLUMN medfraud.alert_summary.claims IS 'Distinct claims alerted.';
COMMENT ON COLUMN medfraud.alert_summary.persons IS 'Distinct persons alerted.';
COMMENT ON COLUMN medfraud.alert_summary.vola_amt IS 'Sum of the amounts involved.';
COMMENT ON COLUMN medfraud.prepayment_checks.claims_table IS 'Table with the pre-payment trigger.';
COMMENT ON COLUMN medfraud.prepayment_checks.mode IS 'flag or reject.';
COMMENT ON COLUMN medfraud.prepayment_checks.options IS 'Options given to enable_prepayment_check.';
