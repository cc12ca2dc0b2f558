-- Hand-written part of the upgrade from 0.3.0 (what CREATE OR REPLACE
-- cannot do); the Makefile appends the replaced and new install files.

-- expand_ring gained a parameter (same_ring_bonus): the three-argument
-- form is dropped so that calls are not ambiguous between two overloads
DROP FUNCTION medfraud.expand_ring(pg_catalog.text[], pg_catalog.int8, pg_catalog.int4);


-- ring_score gained a parameter (clinical): the six-argument form goes
DROP FUNCTION medfraud.ring_score(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8,
                                  pg_catalog.float8, pg_catalog.float8);

-- rings: what dx_fit measured
ALTER TABLE medfraud.rings ADD COLUMN dx_basis pg_catalog.text;
COMMENT ON COLUMN medfraud.rings.dx_basis IS 'What dx_fit measured: clinical (item_indications, or what closed cleared cases teach, covers the ring''s defining items) or proxy (the item and diagnosis claimed at three or more other providers); NULL without fee lines.';
COMMENT ON COLUMN medfraud.rings.dx_fit IS 'Legitimacy of the ring''s defining items, 0-1. Clinical (dx_basis): share of spend by members who use the item as indicated (diagnosis, weekly quantity, course length; item_indications). Proxy: share of joint-trip item spend whose (item, diagnosis) pair is also claimed at other providers by non-members.';
-- rings: their items, and what the case loop (verdicts) did to their score
ALTER TABLE medfraud.rings ADD COLUMN items pg_catalog.text[];
-- (NULL in the rings already there: their score had no feedback, and the
-- rows of earlier runs stay as they were)
ALTER TABLE medfraud.rings ADD COLUMN base_score pg_catalog.float8;
ALTER TABLE medfraud.rings ADD COLUMN feedback pg_catalog.jsonb;
COMMENT ON COLUMN medfraud.rings.items IS 'The ring''s items: those claimed on a quarter or more of its joint trips (NULL without fee lines). With providers, members and rhythm, what "the same behaviour" compares (docs/design.md, "The case loop").';
COMMENT ON COLUMN medfraud.rings.base_score IS 'The score before the case loop''s feedback (score = base_score unless feedback says otherwise); NULL for rings of runs before 0.4.0, which had none.';
COMMENT ON COLUMN medfraud.rings.feedback IS 'What investigators'' verdicts did to this ring, NULL when nothing: effect suppressed (a cleared group, behaviour unchanged: score 0), returned (a cleared group whose behaviour changed: changes lists what), confirmed (a confirmed group seen again), like_cleared / like_confirmed (resembles a cleared or confirmed group: similarity, factor), with the case ids.';
COMMENT ON COLUMN medfraud.rings.score IS 'Suspicion score 0-100 = 100 x collusion x gain x (1 - legitimacy) (base_score), times what investigators'' verdicts say of groups like it (feedback); see docs/design.md.';
COMMENT ON COLUMN medfraud.ring_members.joined_by IS 'graph (a cluster of the co-visit graph, or strongly tied to half of its members or more) or trips (took part in joint trips claiming the ring''s distinctive items as the ring does: two of them, or its only one, more often on its trips than off them).';
-- the view lists the table's columns as they were when it was made
CREATE OR REPLACE VIEW medfraud.latest_rings AS
    SELECT r.* FROM medfraud.rings r JOIN medfraud.latest_run l USING (run_id);

-- rule_hits: members' matching claims too (expand_ring weighs everyone's
-- claims alike), told apart by in_ring
ALTER TABLE medfraud.rule_hits ADD COLUMN in_ring pg_catalog.bool NOT NULL DEFAULT false;
COMMENT ON TABLE medfraud.rule_hits IS 'Claims that match a rule, wherever the rule''s providers and items were read: those of persons outside every ring are candidates for expansion (in_ring false); members'' are kept so that expand_ring weighs everyone''s claims alike.';
COMMENT ON COLUMN medfraud.rule_hits.psn_no IS 'Person.';
COMMENT ON COLUMN medfraud.rule_hits.in_ring IS 'The person is a member of a ring of the run.';
CREATE OR REPLACE VIEW medfraud.latest_rule_hits AS
    SELECT h.* FROM medfraud.rule_hits h JOIN medfraud.latest_run l USING (run_id);

-- _option_window names the option it reads (window, item_window)
DROP FUNCTION medfraud._option_window(pg_catalog.jsonb);

-- joint trips at two scales (window, item_window): _ring_trips takes the
-- wide one, _ring_features reads each ring's window from _ring_trips
DROP FUNCTION medfraud._ring_trips(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.int4);
DROP FUNCTION medfraud._ring_features(pg_catalog.int8, pg_catalog.regclass, pg_catalog.jsonb, pg_catalog.interval);
