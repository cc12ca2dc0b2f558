-- Exact outputs of the co-visit graph on small hand-built claims.
SET TimeZone = 'Asia/Shanghai';
CREATE TABLE setl_d(setl_id text, psn_no text, fixmedins_code text, setl_time timestamp, refd_setl_flag char(1));
INSERT INTO setl_d VALUES
 -- A and B at pharmacy P1 on two days, 10 and 20 minutes apart: weight 1 each day
 ('s1', 'A', 'P1', '2025-01-06 09:00', '0'), ('s2', 'B', 'P1', '2025-01-06 09:10', '0'),
 ('s3', 'A', 'P1', '2025-01-07 10:00', '0'), ('s4', 'B', 'P1', '2025-01-07 10:20', '0'),
 -- C joins them at H1 on a third day: a crowd of 3 gives each pair 1/2
 ('s5', 'A', 'H1', '2025-01-08 08:00', '0'), ('s6', 'B', 'H1', '2025-01-08 08:05', '0'),
 ('s7', 'C', 'H1', '2025-01-08 08:25', '0'),
 -- an exact duplicate settlement and a refund row: the duplicate counts once
 ('s8', 'C', 'H1', '2025-01-08 08:25', '0'), ('s9', 'C', 'H1', '2025-01-08 08:25', '1'),
 -- D is 31 minutes after C: outside the window
 ('s10', 'D', 'H1', '2025-01-08 08:56', '0'),
 -- C and D late at night across midnight: the event is dated on the earlier visit
 ('s11', 'C', 'H2', '2025-01-09 23:50', '0'), ('s12', 'D', 'H2', '2025-01-10 00:10', '0');

SELECT * FROM medfraud.covisit_edges('setl_d', min_days => 1) ORDER BY src, dst;
SELECT * FROM medfraud.covisit_edges('setl_d') ORDER BY src, dst;
SELECT src, dst, covisits FROM medfraud.covisit_edges('setl_d', time_window => '1 hour', min_days => 1) ORDER BY src, dst;

-- the crowd cap skips the H1 window of 3 visits, with a NOTICE
SELECT * FROM medfraud.covisit_edges('setl_d', min_days => 1, max_crowd => 2) ORDER BY src, dst;

-- the aggregate, per provider, and its unpackers
SELECT fixmedins_code, p.*
FROM (SELECT fixmedins_code, medfraud.covisit_agg(psn_no, setl_time, '30 minutes') AS cv
      FROM setl_d WHERE refd_setl_flag = '0' GROUP BY fixmedins_code) g,
     medfraud.covisit_pairs(g.cv) p
ORDER BY 1, 2, 3;
SELECT d.src, d.dst, d.day, d.covisits
FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') AS cv FROM setl_d GROUP BY fixmedins_code) g,
     medfraud.covisit_days(g.cv) d
ORDER BY 1, 2, 3;

-- errors
SELECT * FROM medfraud.covisit_edges('setl_d', time_window => '0 seconds');
SELECT * FROM medfraud.covisit_edges('setl_d', at => 'setl_id');
SELECT * FROM medfraud.covisit_edges('setl_d', person => 'psn');
