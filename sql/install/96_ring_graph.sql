-- Investigator outputs (version 0.4.0): one ring as a graph document that
-- Graphviz, Gephi / Cytoscape desktop or Cytoscape.js opens directly.
--
-- Everything comes from a run's stored results, so a picture can be drawn
-- long after the claims it came from were archived:
--   members    ring_members (role, recruiter_like, score, trips, visits, amounts)
--   co-visits  covisit_graph rows with both ends in the ring (weight, days)
--   providers  ring_events: every provider of a joint trip, linked to the
--              members who were on trips there (trips per member)
-- Recruiter-like members are drawn as double octagons with a thick red line
-- (DOT), carry recruiter_like=true (GraphML) and the class "recruiter"
-- (JSON); hubs are coloured apart from core and border members.
-- Node ids are "p:<psn_no>" and "h:<fixmedins_code>" so a person and a
-- provider with the same code cannot collide.

-- Quoting for the three formats.  DOT: inside "..." only \" is an escape,
-- but labels also interpret \n \l \r \N \G, so every backslash is doubled;
-- line breaks become \n.  XML 1.0 forbids most control characters even as
-- references (as are U+FFFE and U+FFFF), so they are dropped (PostgreSQL
-- text never holds NUL); tab,
-- line feed and carriage return are written as references, because a
-- parser turns them into spaces inside attribute values.
CREATE FUNCTION medfraud._dot_str(s pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
RETURN '"' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(s, '[\x01-\x09\x0b\x0c\x0e-\x1f\x7f]', ' ', 'g'),
           E'\\', E'\\\\'), '"', E'\\"'), E'\r\n', E'\\n'), E'\n', E'\\n') || '"';
COMMENT ON FUNCTION medfraud._dot_str(pg_catalog.text) IS 'A string as a quoted Graphviz DOT ID (internal to ring_graph).';

-- Labels and tooltips: Graphviz also decodes HTML entities there (&amp; is
-- shown as &), so & is written as &amp; to show a name as it is.
CREATE FUNCTION medfraud._dot_label(s pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
RETURN medfraud._dot_str(pg_catalog.replace(s, '&', '&amp;'));
COMMENT ON FUNCTION medfraud._dot_label(pg_catalog.text) IS 'A string as a quoted Graphviz label, & written as &amp; (internal to ring_graph).';

CREATE FUNCTION medfraud._xml_str(s pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
       pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(s, '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]', '', 'g'),
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&apos;'),
           E'\t', '&#9;'), E'\n', '&#10;'), E'\r', '&#13;');
COMMENT ON FUNCTION medfraud._xml_str(pg_catalog.text) IS 'A string escaped for XML text and attribute values (internal to ring_graph).';

-- The ring as rows: one node list and one edge list shared by every format,
-- so the three formats cannot disagree on what the ring is.
CREATE FUNCTION medfraud._ring_graph_parts(run bigint, ring integer, names jsonb,
    OUT nodes jsonb, OUT edges jsonb)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH mem AS (
        SELECT m.psn_no, m.role, m.recruiter_like, m.joined_by, m.degree, m.trips, m.visits,
               m.medfee, m.hifp, m.member_score
        FROM medfraud.ring_members m
        WHERE m.run_id = _ring_graph_parts.run AND m.ring_id = _ring_graph_parts.ring),
    trip AS (
        SELECT e.fixmedins_code, x.psn_no, e.medfee, e.hifp, e.day, e.event_no
        FROM medfraud.ring_events e
        CROSS JOIN LATERAL pg_catalog.unnest(e.members) AS x(psn_no)
        WHERE e.run_id = _ring_graph_parts.run AND e.ring_id = _ring_graph_parts.ring
          AND x.psn_no IN (SELECT mem.psn_no FROM mem)),
    prov AS (
        SELECT e.fixmedins_code, pg_catalog.count(*)::int AS trips, pg_catalog.sum(e.medfee) AS medfee,
               pg_catalog.sum(e.hifp) AS hifp, pg_catalog.min(e.day) AS first_day, pg_catalog.max(e.day) AS last_day
        FROM medfraud.ring_events e
        WHERE e.run_id = _ring_graph_parts.run AND e.ring_id = _ring_graph_parts.ring
        GROUP BY e.fixmedins_code),
    node AS (
        SELECT 0 AS ord, 'p:' || mem.psn_no AS id,
               pg_catalog.jsonb_build_object(
                   'id', 'p:' || mem.psn_no, 'label', mem.psn_no, 'kind', 'member', 'role', mem.role,
                   'recruiter_like', mem.recruiter_like, 'joined_by', mem.joined_by,
                   'score', pg_catalog.round(mem.member_score::numeric, 2), 'degree', mem.degree,
                   'trips', mem.trips, 'visits', mem.visits, 'medfee', mem.medfee, 'hifp', mem.hifp) AS data
        FROM mem
        UNION ALL
        SELECT 1, 'h:' || prov.fixmedins_code,
               pg_catalog.jsonb_build_object(
                   'id', 'h:' || prov.fixmedins_code, 'label', prov.fixmedins_code, 'kind', 'provider',
                   'name', _ring_graph_parts.names ->> prov.fixmedins_code,
                   'trips', prov.trips, 'medfee', prov.medfee, 'hifp', prov.hifp,
                   'first_day', prov.first_day, 'last_day', prov.last_day)
        FROM prov),
    edge AS (
        SELECT 0 AS ord, 'p:' || g.src AS source, 'p:' || g.dst AS target,
               pg_catalog.jsonb_build_object('kind', 'covisit', 'weight', pg_catalog.round(g.weight::numeric, 4),
                                             'covisits', g.covisits, 'days', g.days) AS data
        FROM medfraud.covisit_graph g
        WHERE g.run_id = _ring_graph_parts.run
          AND g.src IN (SELECT mem.psn_no FROM mem) AND g.dst IN (SELECT mem.psn_no FROM mem)
        UNION ALL
        SELECT 1, 'p:' || trip.psn_no, 'h:' || trip.fixmedins_code,
               pg_catalog.jsonb_build_object('kind', 'claimed', 'trips', pg_catalog.count(*),
                                             'medfee', pg_catalog.sum(trip.medfee))
        FROM trip GROUP BY trip.psn_no, trip.fixmedins_code)
    SELECT (SELECT coalesce(pg_catalog.jsonb_agg(node.data ORDER BY node.ord, node.id), '[]') FROM node),
           (SELECT coalesce(pg_catalog.jsonb_agg(
                       edge.data || pg_catalog.jsonb_build_object('id', 'e' || edge.rn, 'source', edge.source, 'target', edge.target)
                       ORDER BY edge.rn), '[]')
            FROM (SELECT edge.*, pg_catalog.row_number() OVER (ORDER BY edge.ord, edge.source, edge.target) AS rn FROM edge) edge);
END;
COMMENT ON FUNCTION medfraud._ring_graph_parts(bigint, integer, jsonb) IS 'Nodes and edges of one ring of one run as jsonb arrays (internal to ring_graph).';

CREATE FUNCTION medfraud.ring_graph(ring_id bigint, run_id bigint DEFAULT NULL, format text DEFAULT 'dot',
                                    providers regclass DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    fmt   text := lower(btrim(format));
    run   bigint := ring_graph.run_id;
    ring  integer;
    r     record;
    names jsonb := '{}';
    nodes jsonb;
    edges jsonb;
    title text;
BEGIN
    IF ring_graph.ring_id IS NULL THEN
        RAISE EXCEPTION 'ring_id must not be NULL' USING ERRCODE = '22004',
            HINT = 'Pass a ring number: SELECT ring_id, score FROM medfraud.latest_rings ORDER BY ring_id.';
    END IF;
    IF fmt IS NULL OR fmt NOT IN ('dot', 'graphml', 'json') THEN
        RAISE EXCEPTION 'unknown graph format %', coalesce(quote_literal(format), 'NULL') USING ERRCODE = '22023',
            HINT = 'format is one of dot (Graphviz), graphml (Gephi, Cytoscape desktop), json (Cytoscape.js).';
    END IF;
    IF run IS NULL THEN
        SELECT l.run_id INTO run FROM medfraud.latest_run l;
        IF run IS NULL THEN
            RAISE EXCEPTION 'no finished detect_rings run to draw a ring from' USING ERRCODE = '55000',
                HINT = 'Run medfraud.detect_rings first, or pass run_id.';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM medfraud.runs x WHERE x.run_id = run AND x.status = 'done') THEN
        RAISE EXCEPTION 'run % does not exist or did not finish', run USING ERRCODE = '22023',
            HINT = 'SELECT run_id, status FROM medfraud.runs ORDER BY run_id DESC shows the runs.';
    END IF;
    SELECT g.* INTO r FROM medfraud.rings g
    WHERE g.run_id = run AND g.ring_id = ring_graph.ring_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % has no ring %', run, ring_graph.ring_id USING ERRCODE = '22023',
            HINT = format('SELECT ring_id, score FROM medfraud.rings WHERE run_id = %s ORDER BY ring_id lists them.', run);
    END IF;
    ring := r.ring_id;

    -- provider names, read with the caller's privileges (NHSA fixmedins_b
    -- has fixmedins_code and fixmedins_name)
    IF providers IS NOT NULL THEN
        BEGIN
            EXECUTE format('SELECT coalesce(jsonb_object_agg(k, v), ''{}'') FROM (SELECT DISTINCT ON (p.fixmedins_code::text) '
                           'p.fixmedins_code::text AS k, p.fixmedins_name::text AS v FROM %s p '
                           'WHERE p.fixmedins_code::text = ANY ($1) ORDER BY p.fixmedins_code::text) q', providers)
                INTO names USING r.providers;
        EXCEPTION WHEN undefined_column THEN
            RAISE EXCEPTION 'provider table % needs columns fixmedins_code and fixmedins_name', providers
                USING ERRCODE = '42703', HINT = 'Pass the NHSA provider table (fixmedins_b) or a view renaming its columns.';
        END;
    END IF;

    SELECT p.nodes, p.edges INTO nodes, edges FROM medfraud._ring_graph_parts(run, ring, names) p;
    title := format('medfraud run %s, ring %s: score %s, %s members, %s joint trips at %s provider(s)',
                    run, ring, round(r.score::numeric, 1), r.size, r.joint_trips, cardinality(r.providers));

    IF fmt = 'json' THEN
        -- Cytoscape.js: cy.add(doc.elements) or cytoscape({elements: doc.elements});
        -- classes carry what a stylesheet keys on
        RETURN jsonb_pretty(jsonb_build_object(
            'format', 'cytoscape.js', 'run_id', run, 'ring_id', ring, 'title', title,
            'score', r.score, 'size', r.size, 'reason', r.reason,
            'elements', jsonb_build_object(
                'nodes', coalesce((SELECT jsonb_agg(jsonb_build_object('data', x, 'classes',
                              concat_ws(' ', x ->> 'kind', x ->> 'role',
                                        CASE WHEN (x ->> 'recruiter_like')::boolean THEN 'recruiter' END)) ORDER BY o)
                              FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(x, o)), '[]'),
                'edges', coalesce((SELECT jsonb_agg(jsonb_build_object('data', x, 'classes', x ->> 'kind') ORDER BY o)
                              FROM jsonb_array_elements(edges) WITH ORDINALITY AS t(x, o)), '[]'))));
    END IF;

    IF fmt = 'graphml' THEN
        -- GraphML's schema types node ids as NMTOKEN (no spaces, no quotes), so
        -- ids are n1, n2, ... in node order and the ring's own id is data "id".
        -- One set-based string_agg per list: appending to an array in a loop
        -- copies it each time (quadratic on a ring of hundreds of members).
        RETURN concat_ws(E'\n',
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
            '    xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
            (SELECT string_agg(format('  <key id="%s_%s" for="%s" attr.name="%s" attr.type="%s"/>',
                                      CASE f WHEN 'node' THEN 'n' ELSE 'e' END, k, f, k, t), E'\n' ORDER BY o)
             FROM (VALUES (1, 'node', 'id', 'string'), (2, 'node', 'label', 'string'), (3, 'node', 'kind', 'string'),
                          (4, 'node', 'name', 'string'), (5, 'node', 'role', 'string'), (6, 'node', 'recruiter_like', 'boolean'),
                          (7, 'node', 'joined_by', 'string'), (8, 'node', 'score', 'double'), (9, 'node', 'degree', 'int'),
                          (10, 'node', 'trips', 'int'), (11, 'node', 'visits', 'int'), (12, 'node', 'medfee', 'double'),
                          (13, 'node', 'hifp', 'double'), (14, 'edge', 'kind', 'string'), (15, 'edge', 'weight', 'double'),
                          (16, 'edge', 'covisits', 'int'), (17, 'edge', 'days', 'int'), (18, 'edge', 'trips', 'int'),
                          (19, 'edge', 'medfee', 'double')) AS keys(o, f, k, t)),
            format('  <graph id="ring_%s_%s" edgedefault="undirected">', run, ring),
            '    <desc>' || medfraud._xml_str(title) || '</desc>',
            (SELECT string_agg(format('    <node id="n%s">%s</node>', o,
                        (SELECT string_agg(format('<data key="n_%s">%s</data>', k, medfraud._xml_str(x ->> k)), '' ORDER BY ko)
                         FROM unnest(ARRAY['id', 'label', 'kind', 'name', 'role', 'recruiter_like', 'joined_by', 'score',
                                           'degree', 'trips', 'visits', 'medfee', 'hifp']) WITH ORDINALITY AS f(k, ko)
                         WHERE x ->> k IS NOT NULL)), E'\n' ORDER BY o)
             FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(x, o)),
            (SELECT string_agg(format('    <edge id="e%s" source="n%s" target="n%s">%s</edge>', eo, s.o, d.o,
                        (SELECT string_agg(format('<data key="e_%s">%s</data>', k, medfraud._xml_str(x ->> k)), '' ORDER BY ko)
                         FROM unnest(ARRAY['kind', 'weight', 'covisits', 'days', 'trips', 'medfee']) WITH ORDINALITY AS f(k, ko)
                         WHERE x ->> k IS NOT NULL)), E'\n' ORDER BY eo)
             FROM jsonb_array_elements(edges) WITH ORDINALITY AS t(x, eo)
             JOIN jsonb_array_elements(nodes) WITH ORDINALITY AS s(n, o) ON s.n ->> 'id' = x ->> 'source'
             JOIN jsonb_array_elements(nodes) WITH ORDINALITY AS d(n, o) ON d.n ->> 'id' = x ->> 'target'),
            '  </graph>',
            '</graphml>') || E'\n';
    END IF;

    -- DOT.  layout=neato: a ring is a dense tangle, not a hierarchy.  The
    -- kind/role/score/covisit_weight attributes are not Graphviz's own (its
    -- "weight" would change the layout); Graphviz keeps and ignores them,
    -- other DOT readers (networkx, Gephi) pick them up.  Labels and tooltips
    -- go through _dot_label (Graphviz decodes HTML entities in them).
    RETURN concat_ws(E'\n',
        'graph ' || medfraud._dot_str('ring_' || run || '_' || ring) || ' {',
        '  graph [layout=neato, overlap=false, splines=false, outputorder=edgesfirst, labelloc=t, fontsize=16,',
        '         fontname="Noto Sans CJK SC,Noto Sans,DejaVu Sans,sans-serif", label=' || medfraud._dot_label(title) || '];',
        '  node [fontname="Noto Sans CJK SC,Noto Sans,DejaVu Sans,sans-serif", fontsize=10, style=filled];',
        '  edge [color="#80808090"];',
        (SELECT string_agg(CASE WHEN n ->> 'kind' = 'provider' THEN
             '  ' || medfraud._dot_str(n ->> 'id') || ' [kind=provider, shape=box, fillcolor="#9ecae1", penwidth=2, label='
             || medfraud._dot_label(concat_ws(E'\n', n ->> 'label', n ->> 'name', (n ->> 'trips') || ' joint trips'))
             || ', tooltip=' || medfraud._dot_label(format('%s %s: %s joint trips, medfee %s, pooled fund %s, %s to %s',
                    n ->> 'label', coalesce(n ->> 'name', ''), n ->> 'trips', n ->> 'medfee', n ->> 'hifp',
                    n ->> 'first_day', n ->> 'last_day'))
             || ', trips=' || (n ->> 'trips') || '];'
           ELSE
             '  ' || medfraud._dot_str(n ->> 'id') || ' [kind=member, role=' || medfraud._dot_str(n ->> 'role')
             || ', score=' || (n ->> 'score') || ', fillcolor="'
             || CASE n ->> 'role' WHEN 'hub' THEN '#ef6548' WHEN 'core' THEN '#fdbb84' ELSE '#fee8c8' END || '"'
             || CASE WHEN (n ->> 'recruiter_like')::boolean
                     THEN ', recruiter_like=true, shape=doubleoctagon, color="#b30000", penwidth=2.5, fontcolor="#67000d"'
                     ELSE ', shape=ellipse' END
             || ', label=' || medfraud._dot_label(concat_ws(E'\n', n ->> 'label',
                    CASE WHEN (n ->> 'recruiter_like')::boolean THEN 'recruiter-like ' || (n ->> 'role') ELSE n ->> 'role' END))
             || ', tooltip=' || medfraud._dot_label(format('%s (%s): score %s, %s joint trips, %s visits, medfee %s, pooled fund %s',
                    n ->> 'label', n ->> 'role', n ->> 'score', n ->> 'trips', n ->> 'visits', n ->> 'medfee', n ->> 'hifp'))
             || '];'
           END, E'\n' ORDER BY o)
         FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(n, o)),
        (SELECT string_agg(CASE WHEN e ->> 'kind' = 'covisit' THEN
             '  ' || medfraud._dot_str(e ->> 'source') || ' -- ' || medfraud._dot_str(e ->> 'target')
             || ' [kind=covisit, covisit_weight=' || (e ->> 'weight') || ', days=' || (e ->> 'days')
             || ', penwidth=' || round(least(4, 0.3 + 0.5 * ln(1 + (e ->> 'days')::numeric))::numeric, 2)
             || ', tooltip=' || medfraud._dot_label(format('co-visits %s on %s days, weight %s', e ->> 'covisits', e ->> 'days', e ->> 'weight'))
             || '];'
           ELSE
             '  ' || medfraud._dot_str(e ->> 'source') || ' -- ' || medfraud._dot_str(e ->> 'target')
             || ' [kind=claimed, style=dashed, color="#3182bd", trips=' || (e ->> 'trips')
             || ', tooltip=' || medfraud._dot_label(format('%s joint trips at this provider', e ->> 'trips')) || '];'
           END, E'\n' ORDER BY o)
         FROM jsonb_array_elements(edges) WITH ORDINALITY AS t(e, o)),
        '}') || E'\n';
END
$fn$;
COMMENT ON FUNCTION medfraud.ring_graph(bigint, bigint, text, regclass) IS
    'One ring of a run (default: the newest finished run) as a graph document: format dot (Graphviz), graphml (Gephi, Cytoscape desktop) or json (Cytoscape.js elements). Members, co-visit edges, the ring''s providers linked to the members who claimed there, recruiter-like members marked; providers names read from an optional NHSA provider table.';
