-- Ring detection: detect_rings, its options, and the pipeline that runs its
-- stages (70_ring_stages.sql, 80_rules_expand.sql).  The stages are
-- PL/pgSQL over the C primitives (covisit_edges, scan_clusters, ...), each
-- working on temp tables of the run; docs/design.md explains every step
-- and default.

-- Options: defaults, and validation that names every valid key.
CREATE FUNCTION medfraud.ring_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "mdtrt_id": "mdtrt_id", "psn_no": "psn_no",
              "fixmedins_code": "fixmedins_code", "setl_time": "setl_time",
              "med_type": "med_type", "dise_codg": "dise_codg",
              "medfee_sumamt": "medfee_sumamt", "hifp_pay": "hifp_pay",
              "refd_setl_flag": "refd_setl_flag", "vali_flag": "vali_flag"},
  "item_columns": {"setl_id": "setl_id", "med_list_codg": "med_list_codg",
                   "det_item_fee_sumamt": "det_item_fee_sumamt", "cnt": "cnt"},
  "persons": null,
  "person_columns": {"psn_no": "psn_no", "gend": "gend", "brdy": "brdy"},
  "from": null, "to": null,
  "exclude_refunds": true, "valid_only": true,
  "window": "30 minutes", "item_window": "1 day", "min_days": 2, "max_crowd": 100,
  "algorithm": "scan", "epsilon": 0.5, "mu": 4,
  "min_ring_size": 6, "min_trips": 3, "min_item_exclusivity": 0.5,
  "baseline_groups": 30, "seed": 1,
  "rules_per_ring": 3, "rule_min_score": 20, "min_rule_support": 0.3, "min_rule_confidence": 0.5,
  "candidate_min_score": 0.3, "trip_days": 3,
  "feedback": true, "same_members": 0.8, "same_behaviour": 0.8, "same_rhythm": 1.5, "like_similarity": 0.5,
  "keep_runs": 10, "raise_on_error": false, "progress": true
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.ring_options_default() IS
'The options detect_rings uses when a key is not given (reasons for each default: docs/reference.md).';

CREATE FUNCTION medfraud.ring_options(options pg_catalog.jsonb)
RETURNS pg_catalog.jsonb LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb := medfraud._merge_options(medfraud.ring_options_default(), options, '{persons}', '{from,to}',
                                       '{"min_days": 3}');
BEGIN
    -- ranges
    PERFORM medfraud._check_option(d, 'min_days', 1, 366);
    PERFORM medfraud._check_option(d, 'max_crowd', 2, 100000);
    PERFORM medfraud._check_option(d, 'mu', 2, 1000);
    PERFORM medfraud._check_option(d, 'min_ring_size', 2, 100000);
    PERFORM medfraud._check_option(d, 'min_trips', 1, 100000);
    PERFORM medfraud._check_option(d, 'min_item_exclusivity', 0, 1);
    PERFORM medfraud._check_option(d, 'baseline_groups', 2, 1000);
    PERFORM medfraud._check_option(d, 'rules_per_ring', 0, 100);
    PERFORM medfraud._check_option(d, 'rule_min_score', 0, 100);
    PERFORM medfraud._check_option(d, 'min_rule_support', 0, 1);
    PERFORM medfraud._check_option(d, 'min_rule_confidence', 0, 1);
    PERFORM medfraud._check_option(d, 'candidate_min_score', 0, 1);
    PERFORM medfraud._check_option(d, 'trip_days', 1, 14);
    PERFORM medfraud._check_option(d, 'keep_runs', 1, 1000000);
    PERFORM medfraud._check_option(d, 'same_members', 0.5, 1);
    PERFORM medfraud._check_option(d, 'same_behaviour', 0, 1);
    PERFORM medfraud._check_option(d, 'same_rhythm', 1, 100);
    PERFORM medfraud._check_option(d, 'like_similarity', 0, 1);
    IF (d ->> 'epsilon')::float8 <= 0 OR (d ->> 'epsilon')::float8 > 1 THEN
        RAISE EXCEPTION 'option "epsilon" must lie in (0, 1]' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d -> 'epsilon');
    END IF;
    IF d ->> 'algorithm' NOT IN ('scan', 'louvain', 'label_propagation') THEN
        RAISE EXCEPTION 'option "algorithm" must be scan, louvain or label_propagation' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d -> 'algorithm');
    END IF;
    PERFORM medfraud._option_window(d);
    PERFORM medfraud._option_window(d, 'item_window');
    RETURN d;
END
$$;
COMMENT ON FUNCTION medfraud.ring_options(pg_catalog.jsonb) IS
'Validate detect_rings options and merge them over ring_options_default(); unknown keys, wrong types and out-of-range values raise 22023 naming the valid choices.';

CREATE FUNCTION medfraud._option_window(o pg_catalog.jsonb, k pg_catalog.text DEFAULT 'window')
RETURNS pg_catalog.interval LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w interval;
BEGIN
    BEGIN
        w := (o ->> k)::interval;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'option "%" is not an interval', k USING ERRCODE = '22023',
            DETAIL = format('Got %s.', o -> k), HINT = 'For example "30 minutes".';
    END;
    IF w <= interval '0' OR w > interval '1 day' THEN
        RAISE EXCEPTION 'option "%" must be positive and at most a day', k USING ERRCODE = '22023',
            DETAIL = format('Got %s.', o -> k);
    END IF;
    RETURN w;
END
$$;

-- The entry point.
CREATE FUNCTION medfraud.detect_rings(claims pg_catalog.regclass, items pg_catalog.regclass DEFAULT NULL,
                                      options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    o jsonb;
    run bigint;
    nrings int;
    st text;
    msg text;
    det text;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004',
            HINT = 'Pass the settlement table, e.g. ''setl_d''::regclass.';
    END IF;
    -- privilege errors are the caller's to see, not a failed run to record
    IF NOT has_table_privilege(claims, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', claims USING ERRCODE = '42501',
            HINT = 'detect_rings reads the claims with your privileges; ask for SELECT on them.';
    END IF;
    IF items IS NOT NULL AND NOT has_table_privilege(items, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', items USING ERRCODE = '42501',
            HINT = 'detect_rings reads the items with your privileges; ask for SELECT on them.';
    END IF;
    o := medfraud.ring_options(options);
    PERFORM medfraud._check_columns(claims, o -> 'columns', 'claims');
    IF items IS NOT NULL THEN
        PERFORM medfraud._check_columns(items, o -> 'item_columns', 'items');
    END IF;
    IF o ->> 'persons' IS NOT NULL THEN
        IF NOT has_table_privilege((o ->> 'persons')::regclass, 'SELECT') THEN
            RAISE EXCEPTION 'permission denied for table %', o ->> 'persons' USING ERRCODE = '42501',
                HINT = 'detect_rings reads the persons with your privileges; ask for SELECT on them.';
        END IF;
        PERFORM medfraud._check_columns((o ->> 'persons')::regclass, o -> 'person_columns', 'persons');
    END IF;
    -- one run at a time: overlapping runs would fight over the same temp names and results
    IF NOT pg_try_advisory_xact_lock(hashtext('medfraud.detect_rings'), 0) THEN
        RAISE EXCEPTION 'another medfraud.detect_rings run is in progress' USING ERRCODE = '55P03',
            HINT = 'Wait for it to finish; schedule runs so they do not overlap.';
    END IF;
    PERFORM medfraud._work_begin('medfraud.detect_rings');
    INSERT INTO medfraud.runs(claims, items, options)
    VALUES (claims::text, items::text, o) RETURNING run_id INTO run;
    BEGIN
        nrings := medfraud._ring_pipeline(run, claims, items, o);
        UPDATE medfraud.runs SET status = 'done', finished_at = clock_timestamp(), rings_found = nrings
        WHERE run_id = run;
    EXCEPTION WHEN OTHERS THEN
        -- the subtransaction's rows are gone; the run is recorded as failed
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        IF (o ->> 'raise_on_error')::bool THEN
            RAISE;
        END IF;
        UPDATE medfraud.runs SET status = 'failed', finished_at = clock_timestamp(),
                                 error_sqlstate = st, error_message = msg
        WHERE run_id = run;
        IF coalesce(det, '') = '' THEN
            RAISE WARNING 'medfraud.detect_rings run % failed: %', run, msg
                USING HINT = 'See medfraud.runs; earlier runs are untouched.';
        ELSE
            RAISE WARNING 'medfraud.detect_rings run % failed: %', run, msg
                USING DETAIL = det, HINT = 'See medfraud.runs; earlier runs are untouched.';
        END IF;
        PERFORM medfraud._work_end();
        RETURN run;
    END;
    PERFORM medfraud._work_end();
    -- retention: keep the newest keep_runs finished runs (failed runs count
    -- too), and every run a case is open on (the evidence of a case stays)
    DELETE FROM medfraud.runs WHERE run_id IN (
        SELECT run_id FROM medfraud.runs WHERE status <> 'running'
        ORDER BY run_id DESC OFFSET (o ->> 'keep_runs')::int)
      AND run_id NOT IN (SELECT c.run_id FROM medfraud.cases c WHERE c.run_id IS NOT NULL);
    RETURN run;
END
$fn$;
COMMENT ON FUNCTION medfraud.detect_rings(pg_catalog.regclass, pg_catalog.regclass, pg_catalog.jsonb) IS
'Find rings in an NHSA settlement table (and its fee-detail table): co-visit graph, clusters, joint trips, consistency against random groups, score, rules. Writes one run into medfraud.runs, rings, ring_members, ring_events, rules, rule_hits, covisit_graph and returns its run_id. Options: medfraud.ring_options_default().';

-- The run's scratch tables (pg_temp._mf_*), left over from an earlier run
-- in the same transaction.
CREATE FUNCTION medfraud._ring_drop_temp()
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r' AND c.relname LIKE '\_mf\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS pg_temp.%I CASCADE', t);
    END LOOP;
END
$$;

-- Progress: a NOTICE per stage, and the stage's seconds into runs.
CREATE FUNCTION medfraud._ring_stage(run pg_catalog.int8, stage pg_catalog.text, t0 pg_catalog.timestamptz,
                                     rows pg_catalog.int8, o pg_catalog.jsonb)
RETURNS pg_catalog.timestamptz LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s numeric := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3);
BEGIN
    UPDATE medfraud.runs SET stage_seconds = stage_seconds || jsonb_build_object(stage, s),
                             input_rows = input_rows || jsonb_build_object(stage, rows)
    WHERE run_id = run;
    IF (o ->> 'progress')::bool THEN
        RAISE NOTICE 'medfraud.detect_rings run %: % done, % rows, % s', run, stage, rows, s;
    END IF;
    RETURN clock_timestamp();
END
$$;

-- The pipeline proper (called by detect_rings inside a subtransaction):
-- the stages in order, each timed; the stages work on the run's temp
-- tables (pg_temp._mf_*), dropped first in case an earlier run of the same
-- transaction left them.
CREATE FUNCTION medfraud._ring_pipeline(run pg_catalog.int8, claims pg_catalog.regclass,
                                        items pg_catalog.regclass, o pg_catalog.jsonb)
RETURNS pg_catalog.int4 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- dozens of mid-sized queries: compiling each costs more than it saves
SET jit = off
AS $fn$
DECLARE
    win interval := medfraud._option_window(o);
    -- joint trips: the members' visits chained within window, or, for a
    -- group that never travels together that closely, within item_window
    -- (a ring arriving over a day or two) when fee lines show what they claimed
    wide interval := CASE WHEN items IS NOT NULL THEN medfraud._option_window(o, 'item_window') END;
    t timestamptz := clock_timestamp();
    n bigint;
    nrings int;
BEGIN
    PERFORM medfraud._ring_drop_temp();
    n := medfraud._ring_visits(run, claims, o);
    t := medfraud._ring_stage(run, 'visits', t, n, o);
    n := medfraud._ring_covisit_graph(run, items, o, win);
    t := medfraud._ring_stage(run, 'covisit_graph', t, n, o);
    n := medfraud._ring_clusters(o);
    t := medfraud._ring_stage(run, 'clusters', t, n, o);
    n := medfraud._ring_cluster_trips(items, o, win, wide);
    t := medfraud._ring_stage(run, 'cluster_trips', t, n, o);
    n := medfraud._ring_assemble(items, o, win, wide);
    t := medfraud._ring_stage(run, 'rings', t, n, o);

    -- 6. features of each ring and of random groups of its size at its providers
    PERFORM medfraud._ring_features(run, items, o);
    t := medfraud._ring_stage(run, 'consistency', t, (SELECT count(*) FROM _mf_feat), o);

    -- 6a. what investigators' verdicts say of each ring (99_cases.sql)
    n := medfraud._case_feedback(run, o);
    t := medfraud._ring_stage(run, 'feedback', t, n, o);

    -- 7. publish rings, members, events
    nrings := medfraud._ring_publish(run, o, items IS NOT NULL);
    t := medfraud._ring_stage(run, 'publish', t, nrings, o);

    -- 8. rules distilled from the rings, and who else matches them
    IF items IS NOT NULL AND nrings > 0 AND (o ->> 'rules_per_ring')::int > 0 THEN
        n := medfraud._ring_rules(run, claims, items, o);
        t := medfraud._ring_stage(run, 'rules', t, n, o);
    END IF;

    -- 9. expansion candidates: propagation from every scored ring's members
    IF nrings > 0 THEN
        n := medfraud._ring_candidates(run, o);
        t := medfraud._ring_stage(run, 'candidates', t, n, o);
    END IF;

    -- 10. the case loop: expansion from every case's confirmed persons
    n := medfraud._case_candidates(run, o);
    t := medfraud._ring_stage(run, 'case_candidates', t, n, o);
    RETURN nrings;
END
$fn$;
