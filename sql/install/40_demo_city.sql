-- The demo city: a deterministic NHSA-format claims generator with planted
-- fraud rings and the hard negatives a naive method falls for (busy
-- hospitals, families, dialysis cohorts).  Ground truth goes to
-- demo_truth_groups / demo_truth_members.  See docs/reference.md#demo-city.

-- A uniform number in [0, 1) from a key and a seed.  Built on the hash
-- functions so that it is the same in every plan, worker and run (random()
-- is neither).  hashint8extended folds a key's two 32-bit halves together
-- with XOR, so keys such as (id << 24) + j would collide across ids; the
-- high half therefore also goes into the seed.  A SQL-standard body is
-- parsed once at creation, so it is immune to the caller's search_path, and
-- it stays inlinable.
CREATE FUNCTION medfraud._demo_u(key pg_catalog.int8, seed pg_catalog.int4)
RETURNS pg_catalog.float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ((pg_catalog.hashint8extended(key, pg_catalog.hashint8extended(key >> 32, seed::pg_catalog.int8)) >> 11)
        & 9007199254740991)::pg_catalog.float8 / 9007199254740992.0::pg_catalog.float8;
COMMENT ON FUNCTION medfraud._demo_u(pg_catalog.int8, pg_catalog.int4) IS
'Deterministic uniform number in [0,1) for the demo-city generator.';

CREATE FUNCTION medfraud.generate_demo_city(
    target_schema pg_catalog.name,
    persons pg_catalog.int4 DEFAULT 100000,
    days pg_catalog.int4 DEFAULT 180,
    rings pg_catalog.int4 DEFAULT 24,
    seed pg_catalog.int4 DEFAULT 1)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t0 timestamptz := clock_timestamp();
    s text := quote_ident(target_schema);
    nprov int;  nbusy int;  nmid int;  nclin int;  nphar int;
    nfam int;   ncoh int;
    perm_a bigint;
    base timestamp := timestamp '2025-01-01';
    ring_sizes int[] := ARRAY[6, 8, 10, 12, 15, 18, 24, 30, 40, 56, 84, 9, 7, 14, 20, 11, 16, 26, 35, 45, 60, 13, 22, 80];
    result jsonb;
    tmp name;
BEGIN
    IF target_schema IS NULL OR persons IS NULL OR days IS NULL OR rings IS NULL OR seed IS NULL THEN
        RAISE EXCEPTION 'generate_demo_city arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF persons < 1000 OR persons > 20000000 THEN
        RAISE EXCEPTION 'persons must be between 1000 and 20000000' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', persons), HINT = 'The default, 100000, gives about a million settlements.';
    END IF;
    IF days < 7 OR days > 3660 THEN
        RAISE EXCEPTION 'days must be between 7 and 3660' USING ERRCODE = '22023', DETAIL = format('Got %s.', days);
    END IF;
    IF rings < 0 OR rings > persons / 200 THEN
        RAISE EXCEPTION 'rings must be between 0 and persons / 200' USING ERRCODE = '22023',
            DETAIL = format('Got %s rings for %s persons.', rings, persons),
            HINT = 'Rings need room among the background population.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = target_schema AND c.relname IN ('setl_d', 'fee_list_d', 'psn_info_b', 'fixmedins_b')) THEN
        RAISE EXCEPTION 'schema % already holds demo-city tables', s USING ERRCODE = '42P07',
            HINT = format('Drop them first (DROP SCHEMA %s CASCADE) or pick another schema.', s);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %s', s);

    -- providers: a few busy hospitals, mid hospitals, clinics, pharmacies
    nprov := greatest(20, persons / 250);
    nbusy := greatest(2, nprov / 100);
    nmid  := greatest(3, nprov / 10);
    nclin := (nprov - nbusy - nmid) * 2 / 5;
    nphar := nprov - nbusy - nmid - nclin;
    -- a permutation of person ids for planted groups: slot -> id
    perm_a := (SELECT a FROM unnest(ARRAY[1000003, 999983, 1000033, 1000037]::bigint[]) a WHERE persons % a <> 0 LIMIT 1);
    nfam := persons * 6 / 1000;
    ncoh := least(6, greatest(1, persons / 20000));

    -- scratch tables live until commit; a second call in one transaction starts clean
    FOR tmp IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema()
               AND c.relname IN ('_dx', '_item', '_p', '_v', '_vn', '_ring', '_rm', '_ring_item', '_coh', '_cm', '_fam', '_fm', '_line')
    LOOP
        EXECUTE format('DROP TABLE pg_temp.%I', tmp);
    END LOOP;

    -- diagnoses: chronic (1-4), acute (5-10), dialysis (11), ring cover stories (12-13)
    CREATE TEMP TABLE _dx(dx int PRIMARY KEY, code text, name text, chronic bool) ON COMMIT DROP;
    INSERT INTO _dx VALUES
      (1, 'I10.x00', '高血压', true), (2, 'E11.900', '2型糖尿病', true), (3, 'J44.900', '慢性阻塞性肺疾病', true),
      (4, 'I25.100', '冠状动脉粥样硬化性心脏病', true), (5, 'J06.900', '急性上呼吸道感染', false),
      (6, 'K29.700', '胃炎', false), (7, 'M54.500', '腰痛', false), (8, 'J20.900', '急性支气管炎', false),
      (9, 'L30.900', '皮炎', false), (10, 'H10.900', '结膜炎', false), (11, 'N18.500', '慢性肾脏病5期', true),
      (12, 'M81.000', '绝经后骨质疏松', true), (13, 'G47.000', '失眠', false);

    -- item catalogue: 20 ordinary items per diagnosis, 40 costly, 3 dialysis
    CREATE TEMP TABLE _item(item int PRIMARY KEY, code text, name text, price numeric(16,6), kind text, dx int, idx int) ON COMMIT DROP;
    INSERT INTO _item
    SELECT d.dx * 100 + i, 'X' || chr(64 + d.dx) || lpad((d.dx * 100 + i)::text, 8, '0') || 'A001',
           d.name || '用药' || i, round((2 + 200 * medfraud._demo_u(d.dx * 100 + i, seed) ^ 2)::numeric, 2), 'ordinary', d.dx, i
    FROM _dx d, generate_series(0, 19) i WHERE d.dx <> 11;
    INSERT INTO _item
    SELECT 5000 + i, 'XL' || lpad((5000 + i)::text, 9, '0') || 'B002', '高值药品' || i,
           round((300 + 2700 * medfraud._demo_u(5000 + i, seed))::numeric, 2), 'costly', NULL, i
    FROM generate_series(0, 39) i;
    INSERT INTO _item VALUES
      (9000, '311000009000000-311000009', '血液透析', 420.00, 'dialysis', 11, 0),
      (9001, 'XB03XAE024B001010100000', '重组人促红素注射液', 156.00, 'dialysis', 11, 1),
      (9002, '250304002000000-250304002', '肾功能检测', 38.00, 'dialysis', 11, 2);
    EXECUTE format('CREATE TABLE %s.demo_items AS SELECT code AS med_list_codg, name AS item_name, price, kind, '
                   '(SELECT code FROM pg_temp._dx d WHERE d.dx = i.dx) AS dise_codg FROM pg_temp._item i ORDER BY item', s);
    -- the catalogue's clinical knowledge, shaped as medfraud.item_indications:
    -- an ordinary item treats its diagnosis' category; the costly items are
    -- specialist drugs, each for one of four chronic conditions; dialysis
    -- is three sessions a week, erythropoietin two injections, a renal test
    -- about monthly, all for chronic kidney disease (N18), indefinitely
    EXECUTE format($q$
        CREATE TABLE %s.demo_item_indications (LIKE medfraud.item_indications);
        INSERT INTO %1$s.demo_item_indications(med_list_codg, dise_codg, per_week, course_days, note)
        SELECT i.code, split_part(d.code, '.', 1),
               CASE i.item WHEN 9000 THEN 3 WHEN 9001 THEN 2 WHEN 9002 THEN 0.25 END, NULL, i.kind
        FROM pg_temp._item i JOIN pg_temp._dx d ON d.dx = i.dx
        UNION ALL
        SELECT i.code, (ARRAY['M81', 'E11', 'I25', 'J44'])[1 + i.idx %% 4], 1, 90, i.kind
        FROM pg_temp._item i WHERE i.kind = 'costly'$q$, s);

    RAISE DEBUG 'demo city: step 0 at %', clock_timestamp() - t0;
    -- persons and their habits
    CREATE TEMP TABLE _p ON COMMIT DROP AS
    SELECT id, u_ch < 0.25 AS chronic,
           1 + floor(medfraud._demo_u(id * 64 + 2, seed) * 4)::int AS cdx,
           nbusy + nmid + 1 + floor(medfraud._demo_u(id * 64 + 3, seed) * nclin)::int AS home_clin,
           nbusy + nmid + nclin + 1 + floor(medfraud._demo_u(id * 64 + 4, seed) * nphar)::int AS home_phar,
           CASE WHEN medfraud._demo_u(id * 64 + 5, seed) < 0.62
                THEN 1 + floor(medfraud._demo_u(id * 64 + 6, seed) * nbusy)::int
                ELSE nbusy + 1 + floor(medfraud._demo_u(id * 64 + 6, seed) * nmid)::int END AS home_hosp,
           floor(-ln(1 - medfraud._demo_u(id * 64 + 7, seed)) * CASE WHEN u_ch < 0.25 THEN 24 ELSE 7 END * days / 180.0)::int AS nvis
    FROM (SELECT id, medfraud._demo_u(id * 64 + 1, seed) AS u_ch FROM generate_series(1, persons) id) q;
    ALTER TABLE _p ADD PRIMARY KEY (id);

    EXECUTE format($q$
      CREATE TABLE %1$s.fixmedins_b AS
      SELECT CASE WHEN i > %2$s + %3$s + %4$s THEN 'P3502' ELSE 'H3502' END || lpad(i::text, 7, '0') AS fixmedins_code,
             CASE WHEN i <= %2$s THEN '厦门市第' || i || '人民医院'
                  WHEN i <= %2$s + %3$s THEN '厦门市' || i || '区中心医院'
                  WHEN i <= %2$s + %3$s + %4$s THEN '社区卫生服务中心' || i
                  ELSE '益康大药房第' || i || '分店' END AS fixmedins_name,
             CASE WHEN i <= %2$s + %3$s THEN 'hospital' WHEN i <= %2$s + %3$s + %4$s THEN 'clinic' ELSE 'pharmacy' END AS fixmedins_type,
             CASE WHEN i <= %2$s THEN '3' WHEN i <= %2$s + %3$s THEN '2' WHEN i <= %2$s + %3$s + %4$s THEN '1' ELSE '9' END::varchar(6) AS hosp_lv,
             '3502' || lpad((1 + i %% 6)::text, 2, '0') AS fix_blng_admdvs
      FROM generate_series(1, %5$s) i$q$, s, nbusy, nmid, nclin, nprov);

    RAISE DEBUG 'demo city: step 1 at %', clock_timestamp() - t0;
    -- visits from every source; (kind, g, k1, k2) is unique
    CREATE TEMP TABLE _v(kind int, g int, k1 int, k2 int, person int, prov int, ts timestamp, dx int, items int) ON COMMIT DROP;
    -- kind 1: background, from each person's habits
    INSERT INTO _v
    SELECT 1, 0, p.id, j, p.id, prov,
           base + (day * 86400 + CASE WHEN prov > nbusy + nmid + nclin
                                      THEN 28800 + floor(46800 * medfraud._demo_u(k + 5, seed))
                                      ELSE 28800 + floor(34200 * medfraud._demo_u(k + 5, seed) ^ 1.7) END) * interval '1 second',
           CASE WHEN p.chronic AND medfraud._demo_u(k + 6, seed) < 0.7 THEN p.cdx
                ELSE 5 + floor(medfraud._demo_u(k + 7, seed) * 6)::int END,
           0
    FROM _p p, generate_series(1, p.nvis) j,
         LATERAL (SELECT (p.id::bigint << 24) + j * 16 AS k) kk,
         LATERAL (SELECT floor(medfraud._demo_u(k + 1, seed) * days)::int AS day,
                         CASE WHEN medfraud._demo_u(k + 2, seed) < 0.35 THEN p.home_clin
                              WHEN medfraud._demo_u(k + 2, seed) < 0.65 THEN p.home_phar
                              WHEN medfraud._demo_u(k + 2, seed) < 0.90 THEN p.home_hosp
                              ELSE 1 + floor(medfraud._demo_u(k + 3, seed) * nprov)::int END AS prov) pv;

    RAISE DEBUG 'demo city: step 2 at %', clock_timestamp() - t0;
    -- rings: members are slots 0.. in the person permutation
    CREATE TEMP TABLE _ring ON COMMIT DROP AS
    SELECT r, size, structure, slot0,
           CASE WHEN structure = 'hidden_in_busy_hospital' THEN 1 + floor(medfraud._demo_u(r * 97 + 1, seed) * nbusy)::int
                WHEN medfraud._demo_u(r * 97 + 2, seed) < 0.7 THEN nbusy + nmid + nclin + 1 + floor(medfraud._demo_u(r * 97 + 3, seed) * nphar)::int
                ELSE nbusy + nmid + 1 + floor(medfraud._demo_u(r * 97 + 3, seed) * nclin)::int END AS prov,
           10 + size / 3 + floor(medfraud._demo_u(r * 97 + 4, seed) * 12)::int AS ntrips,
           CASE WHEN structure = 'cells' THEN 2 + (r / 4) % 2 ELSE 1 END AS ncells,
           CASE WHEN medfraud._demo_u(r * 97 + 5, seed) < 0.5 THEN 12 ELSE 2 END AS dx
    FROM (SELECT r, ring_sizes[1 + (r - 1) % array_length(ring_sizes, 1)] AS size,
                 (ARRAY['clique', 'sparse', 'cells', 'hidden_in_busy_hospital'])[1 + (r - 1) % 4] AS structure,
                 coalesce(sum(ring_sizes[1 + (r - 1) % array_length(ring_sizes, 1)]) OVER (ORDER BY r ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::int AS slot0
          FROM generate_series(1, rings) r) q;
    CREATE TEMP TABLE _rm ON COMMIT DROP AS
    SELECT r.r, j, (((r.slot0 + j)::bigint * perm_a + seed) % persons + 1)::int AS person,
           CASE WHEN j = 0 THEN 'recruiter' WHEN j >= r.size - 1 - r.size / 12 THEN 'loose' ELSE 'member' END AS role,
           CASE WHEN r.ncells > 1 THEN j % r.ncells ELSE 0 END AS cell
    FROM _ring r, generate_series(0, r.size - 1) j;
    -- kind 4: joint trips; each trip belongs to one cell (cells never meet)
    INSERT INTO _v
    SELECT 4, r.r, t, m.j, m.person, r.prov,
           base + (day * 86400 + start + floor(1200 * medfraud._demo_u(kt * 131 + m.j * 7 + 3, seed))) * interval '1 second',
           r.dx, r.r
    FROM _ring r, generate_series(1, r.ntrips) t,
         LATERAL (SELECT (r.r::bigint << 32) + t AS kt) k,
         LATERAL (SELECT floor(medfraud._demo_u(kt * 131 + 1, seed) * days)::int AS day,
                         (CASE WHEN r.prov > nbusy + nmid + nclin THEN 32400 + floor(36000 * medfraud._demo_u(kt * 131 + 2, seed))
                               ELSE 28800 + floor(28800 * medfraud._demo_u(kt * 131 + 2, seed)) END)::int AS start,
                         t % r.ncells AS cell) tr,
         _rm m
    WHERE m.r = r.r AND m.cell = tr.cell
      -- every member takes part at least once (a "member" with no ring claim is not in the data)
      AND (t = m.cell + r.ncells * (1 + m.j % greatest(1, (r.ntrips - m.cell) / r.ncells))
           OR medfraud._demo_u(kt * 131 + m.j * 7 + 4, seed) <
          CASE WHEN m.role = 'recruiter' THEN 0.8
               WHEN m.role = 'loose' THEN 1.6 / r.ntrips
               WHEN r.structure = 'clique' THEN 0.6
               WHEN r.structure = 'cells' THEN 0.7
               WHEN r.structure = 'hidden_in_busy_hospital' THEN 0.5
               ELSE least(1.0, 4.5 / r.size) END);
    -- each ring's consistent costly items: 2 to 4 of the costly catalogue
    CREATE TEMP TABLE _ring_item ON COMMIT DROP AS
    SELECT r.r, n, 5000 + ((r.r * 7 + n * 13 + floor(medfraud._demo_u(r.r * 97 + 6, seed) * 40)::int) % 40) AS item
    FROM _ring r, generate_series(0, 1 + floor(medfraud._demo_u(r.r * 97 + 7, seed) * 3)::int) n;

    RAISE DEBUG 'demo city: step 3 at %', clock_timestamp() - t0;
    -- kind 3: dialysis cohorts, same slot three times a week, every week
    CREATE TEMP TABLE _coh ON COMMIT DROP AS
    SELECT c, 8 + floor(medfraud._demo_u(c * 89 + 1, seed) * 13)::int AS size,
           CASE WHEN c % 2 = 0 THEN 1 + floor(medfraud._demo_u(c * 89 + 2, seed) * nbusy)::int
                ELSE nbusy + 1 + floor(medfraud._demo_u(c * 89 + 2, seed) * nmid)::int END AS prov,
           c % 2 AS pattern,
           (SELECT coalesce(sum(size), 0) FROM _ring)::int + (c - 1) * 20 AS slot0
    FROM generate_series(1, ncoh) c;
    CREATE TEMP TABLE _cm ON COMMIT DROP AS
    SELECT c.c, j, (((c.slot0 + j)::bigint * perm_a + seed) % persons + 1)::int AS person
    FROM _coh c, generate_series(0, c.size - 1) j;
    INSERT INTO _v
    SELECT 3, c.c, d, m.j, m.person, c.prov,
           base + (d * 86400 + 27000 + floor(2700 * medfraud._demo_u((c.c::bigint << 40) + d * 64 + m.j, seed))) * interval '1 second',
           11, -1
    FROM _coh c, generate_series(0, days - 1) d, _cm m
    WHERE m.c = c.c
      AND extract(isodow FROM base + d * interval '1 day')::int = ANY (CASE WHEN c.pattern = 0 THEN ARRAY[1, 3, 5] ELSE ARRAY[2, 4, 6] END)
      AND medfraud._demo_u((c.c::bigint << 40) + d * 64 + m.j + 32, seed) < 0.92;

    -- kind 2: families of 2 to 5 who often go together
    CREATE TEMP TABLE _fam ON COMMIT DROP AS
    SELECT f, 2 + floor(medfraud._demo_u(f * 83 + 1, seed) * 4)::int AS size,
           3 + floor(medfraud._demo_u(f * 83 + 2, seed) * 6)::int AS ntrips,
           (SELECT coalesce(sum(size), 0) FROM _ring)::int + ncoh * 20 + (f - 1) * 5 AS slot0
    FROM generate_series(1, nfam) f;
    CREATE TEMP TABLE _fm ON COMMIT DROP AS
    SELECT f.f, j, (((f.slot0 + j)::bigint * perm_a + seed) % persons + 1)::int AS person
    FROM _fam f, generate_series(0, f.size - 1) j;
    INSERT INTO _v
    SELECT 2, f.f, t, m.j, m.person, tr.prov,
           base + (tr.day * 86400 + tr.start + floor(600 * medfraud._demo_u(kt * 16 + m.j + 8, seed))) * interval '1 second',
           5 + floor(medfraud._demo_u(kt * 16 + 3, seed) * 6)::int, 0
    FROM _fam f, generate_series(1, f.ntrips) t,
         LATERAL (SELECT (f.f::bigint << 32) + t AS kt) k,
         LATERAL (SELECT floor(medfraud._demo_u(kt * 16 + 1, seed) * days)::int AS day,
                         (28800 + floor(30000 * medfraud._demo_u(kt * 16 + 2, seed)))::int AS start,
                         (SELECT CASE WHEN medfraud._demo_u(kt * 16 + 4, seed) < 0.7 THEN p.home_clin ELSE p.home_hosp END
                          FROM _p p WHERE p.id = (((f.slot0)::bigint * perm_a + seed) % persons + 1)) AS prov) tr,
         _fm m
    WHERE m.f = f.f AND medfraud._demo_u(kt * 16 + m.j + 12, seed) < 0.85;

    RAISE DEBUG 'demo city: step 4 at %', clock_timestamp() - t0;
    -- number the visits deterministically
    CREATE TEMP TABLE _vn ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY ts, person, prov, kind, g, k1, k2) AS vid, v.*
    FROM _v v;

    RAISE DEBUG 'demo city: step 5 at %', clock_timestamp() - t0;
    -- fee lines: ring visits claim their ring's costly items in quantity,
    -- dialysis its three items, everyone else 1-3 ordinary items of the diagnosis
    CREATE TEMP TABLE _line ON COMMIT DROP AS
    SELECT q.vid, q.sn, i.item, i.code, i.price, q.cnt
    FROM (SELECT v.vid, ln.n AS sn,
                 CASE WHEN v.items > 0 THEN ri.item
                      WHEN v.items < 0 THEN CASE WHEN ln.n <= 3 THEN 9000 + ln.n - 1 END
                      ELSE v.dx * 100 + floor(20 * medfraud._demo_u(v.vid * 8 + ln.n + 4, seed + 3))::int END AS item,
                 (CASE WHEN v.items > 0 THEN 4 + floor(16 * medfraud._demo_u(v.vid * 8 + ln.n, seed + 1))
                       WHEN v.items < 0 THEN 1
                       ELSE 1 + floor(4 * medfraud._demo_u(v.vid * 8 + ln.n, seed + 1)) END)::numeric(16,4) AS cnt
          FROM _vn v
          CROSS JOIN LATERAL generate_series(1, CASE WHEN v.items <> 0 THEN 4
                                                     ELSE 1 + floor(3 * medfraud._demo_u(v.vid * 8, seed + 2))::int END) ln(n)
          LEFT JOIN _ring_item ri ON ri.r = v.items AND ri.n = ln.n - 1) q
    JOIN _item i ON i.item = q.item;

    EXECUTE format($q$
      CREATE TABLE %1$s.psn_info_b AS
      SELECT '3502' || lpad(id::text, 12, '0') AS psn_no,
             (CASE WHEN medfraud._demo_u(id * 64 + 10, %2$s) < 0.48 THEN '1' ELSE '2' END)::char(1) AS gend,
             (date '1940-01-01' + floor(medfraud._demo_u(id * 64 + 11, %2$s) * 29000)::int) AS brdy,
             (CASE WHEN medfraud._demo_u(id * 64 + 12, %2$s) < 0.45 THEN '310'
                   WHEN medfraud._demo_u(id * 64 + 12, %2$s) < 0.93 THEN '390'
                   WHEN medfraud._demo_u(id * 64 + 12, %2$s) < 0.98 THEN '391' ELSE '340' END)::varchar(6) AS insutype,
             (CASE WHEN medfraud._demo_u(id * 64 + 13, %2$s) < 0.8 THEN '11' ELSE '21' END)::varchar(6) AS psn_type,
             ('3502' || lpad((1 + id %% 6)::text, 2, '0'))::varchar(6) AS insuplc_admdvs
      FROM generate_series(1, %3$s) id$q$, s, seed, persons);

    RAISE DEBUG 'demo city: step 6 at %', clock_timestamp() - t0;
    -- settlements: amounts from the fee lines; refunds, invalid rows, duplicates
    EXECUTE format($q$
      CREATE TABLE %1$s.setl_d AS
      WITH amt AS (SELECT vid, sum(round(cnt * price, 2)) AS fee FROM pg_temp._line GROUP BY vid),
      s AS (
        SELECT v.vid, 'S' || lpad(v.vid::text, 12, '0') AS setl_id, 'M' || lpad(v.vid::text, 12, '0') AS mdtrt_id,
               '3502' || lpad(v.person::text, 12, '0') AS psn_no,
               (CASE WHEN v.prov > %2$s THEN 'P3502' ELSE 'H3502' END || lpad(v.prov::text, 7, '0'))::varchar(30) AS fixmedins_code,
               v.ts AS setl_time,
               (CASE WHEN v.prov > %2$s THEN '41' WHEN v.kind = 3 THEN '14'
                     WHEN v.dx <= 4 AND medfraud._demo_u(v.vid * 8 + 1, %3$s) < 0.5 THEN '14'
                     WHEN medfraud._demo_u(v.vid * 8 + 2, %3$s) < 0.03 THEN '13' ELSE '11' END)::varchar(6) AS med_type,
               p.insutype, d.code AS dise_codg, d.name AS dise_name, a.fee,
               CASE WHEN v.items > 0 THEN 0.92 WHEN p.insutype IN ('310', '340') THEN 0.85 ELSE 0.62 END AS ratio,
               v.items
        FROM pg_temp._vn v JOIN amt a USING (vid) JOIN pg_temp._dx d ON d.dx = v.dx
        JOIN %1$s.psn_info_b p ON p.psn_no = '3502' || lpad(v.person::text, 12, '0')),
      m AS (
        SELECT s.*, round(fee * 0.04, 2) AS fulamt_ownpay_amt, round((fee - round(fee * 0.04, 2)) * 0.05, 2) AS preselfpay_amt
        FROM s),
      f AS (
        SELECT m.*, fee - fulamt_ownpay_amt AS inscp,
               round((fee - fulamt_ownpay_amt - preselfpay_amt) * ratio, 2) AS hifp_pay
        FROM m)
      SELECT setl_id::varchar(30), mdtrt_id::varchar(30), psn_no::varchar(30), fixmedins_code, setl_time,
             setl_time::date AS begndate, setl_time::date AS enddate, med_type, insutype,
             dise_codg::varchar(20), dise_name::varchar(100),
             fee::numeric(16,2) AS medfee_sumamt, fulamt_ownpay_amt::numeric(16,2), 0::numeric(16,2) AS overlmt_selfpay,
             preselfpay_amt::numeric(16,2), inscp::numeric(16,2) AS inscp_scp_amt, hifp_pay::numeric(16,2),
             round(hifp_pay * 1.02, 2)::numeric(16,2) AS fund_pay_sumamt,
             round(greatest(fee - round(hifp_pay * 1.02, 2), 0) * CASE WHEN insutype = '310' THEN 0.3 ELSE 0 END, 2)::numeric(16,2) AS acct_pay,
             (fee - round(hifp_pay * 1.02, 2) - round(greatest(fee - round(hifp_pay * 1.02, 2), 0) * CASE WHEN insutype = '310' THEN 0.3 ELSE 0 END, 2))::numeric(16,2) AS psn_cash_pay,
             '0'::char(1) AS refd_setl_flag,
             (CASE WHEN medfraud._demo_u(vid * 8 + 3, %3$s) < 0.003 THEN '0' ELSE '1' END)::char(1) AS vali_flag
      FROM f$q$, s, nbusy + nmid + nclin, seed);
    RAISE DEBUG 'demo city: step 7 at %', clock_timestamp() - t0;
    -- refunds: a negative row a day or two later; duplicates: the same claim twice
    EXECUTE format($q$
      INSERT INTO %1$s.setl_d
      SELECT 'R' || substr(setl_id, 2), mdtrt_id, psn_no, fixmedins_code,
             setl_time + (1 + floor(2 * medfraud._demo_u(substr(setl_id, 2)::bigint * 8 + 4, %2$s))) * interval '1 day',
             begndate, enddate, med_type, insutype, dise_codg, dise_name,
             -medfee_sumamt, -fulamt_ownpay_amt, -overlmt_selfpay, -preselfpay_amt, -inscp_scp_amt, -hifp_pay,
             -fund_pay_sumamt, -acct_pay, -psn_cash_pay, '1', '1'
      FROM %1$s.setl_d WHERE medfraud._demo_u(substr(setl_id, 2)::bigint * 8 + 5, %2$s) < 0.01$q$, s, seed);
    EXECUTE format($q$
      INSERT INTO %1$s.setl_d
      SELECT 'D' || substr(setl_id, 2), mdtrt_id, psn_no, fixmedins_code, setl_time, begndate, enddate, med_type,
             insutype, dise_codg, dise_name, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt,
             inscp_scp_amt, hifp_pay, fund_pay_sumamt, acct_pay, psn_cash_pay, refd_setl_flag, vali_flag
      FROM %1$s.setl_d WHERE setl_id LIKE 'S%%' AND medfraud._demo_u(substr(setl_id, 2)::bigint * 8 + 6, %2$s) < 0.002$q$, s, seed);

    RAISE DEBUG 'demo city: step 8 at %', clock_timestamp() - t0;
    EXECUTE format($q$
      CREATE TABLE %1$s.fee_list_d AS
      SELECT ('M' || lpad(l.vid::text, 12, '0'))::varchar(30) AS mdtrt_id, l.sn::varchar(30) AS feedetl_sn,
             ('3502' || lpad(v.person::text, 12, '0'))::varchar(30) AS psn_no,
             (CASE WHEN v.prov > %2$s THEN 'P3502' ELSE 'H3502' END || lpad(v.prov::text, 7, '0'))::varchar(30) AS fixmedins_code,
             ('S' || lpad(l.vid::text, 12, '0'))::varchar(30) AS setl_id,
             v.ts AS fee_ocur_time, l.code::varchar(50) AS med_list_codg, ('L' || l.item)::varchar(50) AS medins_list_codg,
             l.cnt, l.price::numeric(16,6) AS pric, round(l.cnt * l.price, 2)::numeric(16,2) AS det_item_fee_sumamt,
             ('D' || lpad((v.prov * 10 + v.vid %% 7)::text, 9, '0'))::varchar(30) AS bilg_dr_codg,
             ('K' || (v.vid %% 9))::varchar(30) AS bilg_dept_codg,
             ('RX' || lpad(l.vid::text, 12, '0'))::varchar(30) AS rxno,
             (CASE WHEN l.price > 300 THEN '3' WHEN l.price > 50 THEN '2' ELSE '1' END)::varchar(3) AS chrgitm_lv,
             (CASE WHEN l.code LIKE 'X%%' THEN '09' ELSE '11' END)::varchar(6) AS med_chrgitm_type
      FROM pg_temp._line l JOIN pg_temp._vn v USING (vid)$q$, s, nbusy + nmid + nclin);

    RAISE DEBUG 'demo city: step 9 at %', clock_timestamp() - t0;
    -- ground truth
    EXECUTE format($q$
      CREATE TABLE %1$s.demo_truth_groups AS
      SELECT r AS group_id, 'ring'::text AS kind, size, structure,
             ARRAY[(CASE WHEN prov > %2$s THEN 'P3502' ELSE 'H3502' END || lpad(prov::text, 7, '0'))] AS providers,
             (SELECT array_agg(i.code ORDER BY ri.n) FROM pg_temp._ring_item ri JOIN pg_temp._item i USING (item) WHERE ri.r = g.r) AS items,
             format('%%s joint trips, %%s cell(s)', ntrips, ncells) AS note
      FROM pg_temp._ring g
      UNION ALL
      SELECT 1000 + c, 'cohort', size, 'dialysis_slot',
             ARRAY['H3502' || lpad(prov::text, 7, '0')], ARRAY(SELECT code FROM pg_temp._item WHERE kind = 'dialysis' ORDER BY item),
             CASE WHEN pattern = 0 THEN 'Mon/Wed/Fri 07:30' ELSE 'Tue/Thu/Sat 07:30' END
      FROM pg_temp._coh
      UNION ALL
      SELECT 100000 + f, 'family', size, 'household', NULL, NULL, format('%%s outings', ntrips)
      FROM pg_temp._fam$q$, s, nbusy + nmid + nclin);
    EXECUTE format($q$
      CREATE TABLE %1$s.demo_truth_members AS
      SELECT r AS group_id, '3502' || lpad(person::text, 12, '0') AS psn_no, role, cell FROM pg_temp._rm
      UNION ALL SELECT 1000 + c, '3502' || lpad(person::text, 12, '0'), 'patient', 0 FROM pg_temp._cm
      UNION ALL SELECT 100000 + f, '3502' || lpad(person::text, 12, '0'), CASE WHEN j = 0 THEN 'head' ELSE 'member' END, 0 FROM pg_temp._fm$q$, s);

    RAISE DEBUG 'demo city: step 10 at %', clock_timestamp() - t0;
    EXECUTE format('ALTER TABLE %1$s.psn_info_b ADD PRIMARY KEY (psn_no)', s);
    EXECUTE format('ALTER TABLE %1$s.fixmedins_b ADD PRIMARY KEY (fixmedins_code)', s);
    EXECUTE format('ALTER TABLE %1$s.setl_d ADD PRIMARY KEY (setl_id)', s);
    EXECUTE format('ALTER TABLE %1$s.fee_list_d ADD PRIMARY KEY (mdtrt_id, feedetl_sn)', s);
    EXECUTE format('ALTER TABLE %1$s.demo_truth_groups ADD PRIMARY KEY (group_id)', s);
    EXECUTE format('ALTER TABLE %1$s.demo_truth_members ADD PRIMARY KEY (group_id, psn_no)', s);
    EXECUTE format('CREATE INDEX ON %1$s.setl_d (psn_no)', s);
    EXECUTE format('CREATE INDEX ON %1$s.fee_list_d (setl_id)', s);
    EXECUTE format('ANALYZE %1$s.setl_d, %1$s.fee_list_d, %1$s.psn_info_b, %1$s.fixmedins_b, %1$s.demo_truth_groups, %1$s.demo_truth_members', s);

    RAISE DEBUG 'demo city: step 11 at %', clock_timestamp() - t0;
    EXECUTE format($q$SELECT jsonb_build_object(
        'schema', %2$L, 'persons', %3$s, 'days', %4$s, 'seed', %5$s,
        'providers', (SELECT count(*) FROM %1$s.fixmedins_b),
        'settlements', (SELECT count(*) FROM %1$s.setl_d),
        'fee_lines', (SELECT count(*) FROM %1$s.fee_list_d),
        'rings', (SELECT count(*) FROM %1$s.demo_truth_groups WHERE kind = 'ring'),
        'ring_members', (SELECT count(*) FROM %1$s.demo_truth_members WHERE group_id < 1000),
        'cohorts', (SELECT count(*) FROM %1$s.demo_truth_groups WHERE kind = 'cohort'),
        'families', (SELECT count(*) FROM %1$s.demo_truth_groups WHERE kind = 'family'))$q$,
        s, target_schema, persons, days, seed) INTO result;
    RETURN result || jsonb_build_object('seconds', round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1));
END
$fn$;

COMMENT ON FUNCTION medfraud.generate_demo_city(pg_catalog.name, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS
'Generate a deterministic NHSA-format demo city in target_schema: psn_info_b, fixmedins_b, setl_d, fee_list_d, demo_items, demo_item_indications (its catalogue''s clinical knowledge, to load into medfraud.item_indications), and the ground truth demo_truth_groups / demo_truth_members (planted rings, families, dialysis cohorts). About 10 settlements per person over the default 180 days.';
