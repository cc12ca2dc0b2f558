-- Hand-written part of the upgrade from 0.3.0 (what CREATE OR REPLACE
-- cannot do); the Makefile appends the replaced and new install files.

-- expand_ring gained a parameter (same_ring_bonus): the three-argument
-- form is dropped so that calls are not ambiguous between two overloads
DROP FUNCTION medfraud.expand_ring(pg_catalog.text[], pg_catalog.int8, pg_catalog.int4);

