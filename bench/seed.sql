-- The benchmark's data set, generated inside PostgreSQL in a few multi-row INSERT …
-- SELECT statements (no row goes over the wire). Deterministic: ids are derived from
-- row numbers, every other choice comes from random() after setseed(:seed), and these
-- INSERTs run in one process (PostgreSQL plans no parallel workers for them).
--
-- Expects the 100 organisations to exist already, each with the 2021 plan imported
-- through the API (bench/run does that). The largest, KDPM, gets 20 % of everything;
-- the other 99 share the rest. Sizes come from psql variables:
--   :feedback (1000000), :activities (100000), :evidence_per_activity (3), :seed.

\set ON_ERROR_STOP on
\timing on
SELECT setseed(:seed);

-- The organisations with what rows need to refer to: departments, categories, plan,
-- plan items, assignments; `n` = 0 for KDPM, 1..99 for the others.
CREATE TEMP TABLE bench_org AS
SELECT o.id,
       CASE WHEN o.code = 'KDPM' THEN 0 ELSE row_number() OVER (PARTITION BY o.code = 'KDPM' ORDER BY o.code) END AS n,
       p.id AS plan_id,
       (SELECT array_agg(d.id ORDER BY d.code) FROM departments d WHERE d.organization_id = o.id AND d.deleted_at IS NULL) AS depts,
       (SELECT array_agg(i.id ORDER BY i.position, i.id) FROM plan_items i WHERE i.plan_id = p.id) AS items,
       (SELECT array_agg(a.id ORDER BY a.id) FROM assignments a WHERE a.plan_id = p.id) AS assigns,
       -- Numbers the demo data took already (KDPM's three published records).
       coalesce((SELECT c.last_number FROM feedback_counters c WHERE c.organization_id = o.id AND c.year = 2021), 0)
           AS numbers_taken
FROM organizations o
-- The Board's plan, imported into each: not the demo's province and its two other units.
JOIN plans p ON p.organization_id = o.id AND p.year = 2021 AND p.deleted_at IS NULL AND p.code = 'KH-TTCCHC-2021'
WHERE o.deleted_at IS NULL;
CREATE UNIQUE INDEX ON bench_org (n);

DO $$ BEGIN
    IF (SELECT count(*) FROM bench_org) <> 100 THEN
        RAISE EXCEPTION 'expected 100 organisations with a 2021 plan, found %', (SELECT count(*) FROM bench_org);
    END IF;
END $$;

-- Five feedback categories per organisation.
INSERT INTO feedback_categories (id, organization_id, code, name, default_department_id, deadline_days)
SELECT md5('cat' || o.n || '-' || c.k)::uuid, o.id, c.code, c.name, o.depts[1 + (c.k % array_length(o.depts, 1))], c.days
FROM bench_org o,
     (VALUES (1, 'TTHC', 'Thủ tục hành chính', 10), (2, 'DDGPMB', 'Đền bù, giải phóng mặt bằng', 15),
             (3, 'DTXD', 'Đầu tư xây dựng', 10), (4, 'THCV', 'Thái độ, tác phong công vụ', 5),
             (5, 'KHAC', 'Khác', 10)) AS c (k, code, name, days)
-- The demo data's own categories of KDPM stay.
ON CONFLICT (organization_id, lower(code)) WHERE deleted_at IS NULL DO NOTHING;
CREATE TEMP TABLE bench_cat AS
SELECT o.n, array_agg(c.id ORDER BY c.code) AS cats
FROM bench_org o JOIN feedback_categories c ON c.organization_id = o.id GROUP BY o.n;
CREATE UNIQUE INDEX ON bench_cat (n);

-- Row i → organisation and its own running number: the first 20 % are KDPM's, the rest
-- go round the other 99.
CREATE FUNCTION pg_temp.org_of(i bigint, total bigint) RETURNS int IMMUTABLE LANGUAGE sql AS
$$ SELECT CASE WHEN i <= total / 5 THEN 0 ELSE 1 + ((i - total / 5 - 1) % 99)::int END $$;
CREATE FUNCTION pg_temp.number_of(i bigint, total bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS
$$ SELECT CASE WHEN i <= total / 5 THEN i ELSE 1 + (i - total / 5 - 1) / 99 END $$;
-- Ids like the service's UUIDv7: a time part that grows with the row number (so id
-- order is filing order, as in production), the rest from md5. Kept (not temporary):
-- bench/pgbench/*.sql find the records by row number with it.
CREATE OR REPLACE FUNCTION bench_id(kind text, i bigint) RETURNS uuid IMMUTABLE LANGUAGE sql AS
$$ SELECT (lpad(to_hex(1609459200000 + i * 20), 12, '0') || '7' || substr(md5(kind || i), 1, 3) || '8'
           || substr(md5(kind || i), 4, 15))::uuid $$;

-- The 1-based index of the share that r (in [0, 1)) falls into, given the running totals
-- of the shares (the last, 1, left out): pick('{0.5,0.8}', 0.6) = 2.
CREATE FUNCTION pg_temp.pick(bounds float8[], r float8) RETURNS int IMMUTABLE LANGUAGE sql AS
$$ SELECT width_bucket(r, bounds) + 1 $$;

-- A bulk load: the indexes that back no constraint are dropped for the inserts and built
-- again afterwards from their own definitions (one sort each, instead of a random
-- insertion per row and index: at scale 10 the feedback insert read index pages at
-- ~3 MB of primary key a minute and would have taken hours). The constraints' indexes
-- (primary and unique keys) stay. Memory for the triggers' aggregates and the builds.
SET work_mem = '256MB';
SET maintenance_work_mem = '1GB';
CREATE TEMP TABLE bench_dropped AS
SELECT i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = 'public'
  AND i.tablename IN ('feedback', 'feedback_senders', 'activities', 'activity_items', 'evidence')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('public.%I', i.indexname)::regclass);
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT indexname FROM bench_dropped LOOP EXECUTE format('DROP INDEX public.%I', r.indexname); END LOOP;
END $$;

-- Feedback: received through 2021 in number order; statuses, channels and answers with
-- realistic shares.
CREATE TEMP TABLE bench_fb AS
SELECT i,
       pg_temp.org_of(i, :feedback) AS n,
       pg_temp.number_of(i, :feedback) AS num,
       random() AS r_status, random() AS r_channel, random() AS r_kind, random() AS r_sender,
       random() AS r_cat, random() AS r_dept, random() AS r_days, random() AS r_sat, random() AS r_text, random() AS r_anon
FROM generate_series(1, :feedback) AS i;

INSERT INTO feedback (id, organization_id, code, received_at, channel, kind, sender_type, anonymous, subject,
                      content, category_id, department_id, deadline_on, status, status_reason, forwarded_to,
                      answered_at, closed_at, satisfaction, satisfaction_channel, satisfaction_at,
                      created_at, updated_at)
SELECT id, organization_id, code, received_at, channel, kind, sender_type, anonymous, subject, content,
       category_id, department_id, deadline_on, status,
       CASE WHEN status = 'rejected' THEN 'Không thuộc thẩm quyền, không đủ thông tin' END,
       CASE WHEN status = 'forwarded' THEN 'Sở Xây dựng tỉnh Khánh Hòa' END,
       answered_at, closed_at,
       CASE WHEN status = 'closed' THEN (ARRAY['satisfied', 'neutral', 'dissatisfied'])[pg_temp.pick('{0.72,0.9}', r_sat)] END,
       CASE WHEN status = 'closed' THEN 'hotline' END,
       CASE WHEN status = 'closed' THEN closed_at END,
       received_at, coalesce(closed_at, answered_at, received_at)
FROM (
    SELECT bench_id('fb', f.i) AS id, o.id AS organization_id,
           -- Six digits at least, as the service writes them (lpad alone would cut a
           -- seventh off at scale 10, where KDPM files 2,000,000).
           'PAKN-2021-' || lpad((o.numbers_taken + f.num)::text, greatest(6, length((o.numbers_taken + f.num)::text)), '0') AS code,
           received_at,
           (ARRAY['hotline', 'email', 'website', 'letter', 'in_person', 'portal', 'press', 'other'])
               [pg_temp.pick('{0.35,0.5,0.65,0.73,0.85,0.97,0.99}', f.r_channel)] AS channel,
           (ARRAY['feedback', 'complaint', 'recommendation', 'question'])[pg_temp.pick('{0.4,0.6,0.85}', f.r_kind)] AS kind,
           (ARRAY['citizen', 'organization', 'business', 'investor'])[pg_temp.pick('{0.8,0.88,0.98}', f.r_sender)] AS sender_type,
           f.r_anon > 0.9 AS anonymous,
           (ARRAY['Chậm giải quyết hồ sơ', 'Hỏi về bồi thường, hỗ trợ tái định cư', 'Phản ánh thái độ cán bộ',
                  'Kiến nghị công khai tiến độ dự án', 'Hỏi về thủ tục đấu thầu'])[1 + (f.i % 5)::int]
               || ' #' || f.num AS subject,
           'Nội dung phản ánh, kiến nghị số ' || f.num || ' của người dân gửi Ban về việc thực hiện dự án; '
               || 'đề nghị xem xét, trả lời theo quy định. Mẫu ' || floor(f.r_text * 100000)::int AS content,
           c.cats[1 + floor(f.r_cat * 5)::int] AS category_id,
           o.depts[1 + floor(f.r_dept * array_length(o.depts, 1))::int] AS department_id,
           ((received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 14) AS deadline_on,
           status,
           CASE WHEN status IN ('answered', 'closed') THEN received_at + (1 + f.r_days * 20) * interval '1 day' END AS answered_at,
           CASE WHEN status = 'closed' THEN received_at + (3 + f.r_days * 25) * interval '1 day' END AS closed_at,
           f.r_sat
    FROM bench_fb f
    JOIN bench_org o ON o.n = f.n
    JOIN bench_cat c ON c.n = f.n
    CROSS JOIN LATERAL (SELECT
        timestamptz '2021-01-04 08:00:00+07'
            + ((f.num - 1)::float8 / CASE WHEN f.n = 0 THEN :feedback / 5 ELSE (:feedback * 4 / 5) / 99 + 1 END)
              * interval '360 days' AS received_at,
        (ARRAY['closed', 'answered', 'in_progress', 'received', 'accepted', 'rejected', 'forwarded'])
            [pg_temp.pick('{0.45,0.6,0.85,0.9,0.94,0.97}', f.r_status)] AS status) x
) s;

INSERT INTO feedback_senders (feedback_id, name, phone, email, address)
SELECT bench_id('fb', f.i),
       (ARRAY['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Minh Châu', 'Phạm Quốc Dũng', 'Hoàng Thị Hoa'])[1 + (f.i % 5)::int],
       '09' || lpad((f.i % 100000000)::text, 8, '0'),
       CASE WHEN f.i % 3 = 0 THEN 'nguoidan' || f.i || '@example.vn' END,
       'Phường Lộc Thọ, Nha Trang, Khánh Hòa'
FROM bench_fb f WHERE f.r_anon <= 0.9;

INSERT INTO feedback_counters (organization_id, year, last_number)
SELECT o.id, 2021, o.numbers_taken + max(f.num) FROM bench_fb f JOIN bench_org o ON o.n = f.n GROUP BY o.id, o.numbers_taken
ON CONFLICT (organization_id, year) DO UPDATE SET last_number = excluded.last_number;

-- Activities: held through 2021, most verified, one plan item each.
CREATE TEMP TABLE bench_ac AS
SELECT i, pg_temp.org_of(i, :activities) AS n, pg_temp.number_of(i, :activities) AS num,
       random() AS r_channel, random() AS r_status, random() AS r_dept, random() AS r_item, random() AS r_assign,
       random() AS r_people
FROM generate_series(1, :activities) AS i;

INSERT INTO activities (id, organization_id, plan_id, assignment_id, department_id, title, description, channel,
                        audience, held_from, held_to, place, participant_count, status, submitted_at,
                        verified_at, created_at, updated_at)
SELECT bench_id('ac', a.i), o.id, o.plan_id,
       CASE WHEN a.r_assign < 0.8 THEN o.assigns[1 + floor(a.r_assign / 0.8 * array_length(o.assigns, 1))::int] END,
       o.depts[1 + floor(a.r_dept * array_length(o.depts, 1))::int],
       (ARRAY['Hội nghị quán triệt kế hoạch CCHC', 'Đăng tin CCHC trên trang thông tin điện tử',
              'Tập huấn nghiệp vụ một cửa', 'Lồng ghép CCHC trong sinh hoạt chi bộ', 'Treo băng rôn tuyên truyền'])
           [1 + (a.i % 5)::int] || ' (lần ' || a.num || ')',
       'Tuyên truyền nội dung Kế hoạch cải cách hành chính năm 2021',
       ch.channel, CASE WHEN ch.channel IN ('meeting', 'training', 'party_meeting') THEN 'staff' ELSE 'all' END,
       held, held + interval '2 hours', 'Hội trường Ban', 10 + floor(a.r_people * 90)::int,
       st.status,
       CASE WHEN st.status <> 'draft' THEN held + interval '1 day' END,
       CASE WHEN st.status = 'verified' THEN held + interval '3 days' END,
       held, held + CASE WHEN st.status = 'draft' THEN interval '0' ELSE interval '3 days' END
FROM bench_ac a
JOIN bench_org o ON o.n = a.n
CROSS JOIN LATERAL (SELECT
    timestamptz '2021-01-05 08:00:00+07'
        + ((a.num - 1)::float8 / CASE WHEN a.n = 0 THEN :activities / 5 ELSE (:activities * 4 / 5) / 99 + 1 END)
          * interval '355 days' AS held) h
CROSS JOIN LATERAL (SELECT (ARRAY['meeting', 'conference', 'training', 'internal_network', 'website_post', 'portal_news',
                                  'press_article', 'interview', 'party_meeting', 'oral', 'banner', 'sms_email',
                                  'contest_entry', 'other'])
        [pg_temp.pick('{0.15,0.25,0.35,0.45,0.6,0.7,0.75,0.78,0.86,0.9,0.94,0.97,0.99}', a.r_channel)] AS channel) ch
CROSS JOIN LATERAL (SELECT (ARRAY['verified', 'submitted', 'draft', 'returned'])
        [pg_temp.pick('{0.7,0.85,0.95}', a.r_status)] AS status) st;

INSERT INTO activity_items (activity_id, plan_item_id, position)
SELECT bench_id('ac', a.i), o.items[1 + floor(a.r_item * array_length(o.items, 1))::int], 1
FROM bench_ac a JOIN bench_org o ON o.n = a.n;

INSERT INTO evidence (id, organization_id, activity_id, sha256, size_bytes, content_type, file_name, caption,
                      created_at, updated_at)
SELECT bench_id('ev', a.i * 10 + e.k), o.id, bench_id('ac', a.i),
       md5('sha-a' || a.i || '-' || e.k) || md5('sha-b' || a.i || '-' || e.k),
       20000 + (hashint8(a.i * 10 + e.k) & 1048575),
       CASE e.k WHEN 1 THEN 'application/pdf' ELSE 'image/jpeg' END,
       CASE e.k WHEN 1 THEN 'Biên bản hội nghị ' || a.num || '.pdf' ELSE 'Ảnh ' || a.num || '-' || e.k || '.jpg' END,
       CASE e.k WHEN 1 THEN 'Biên bản' ELSE 'Ảnh hoạt động' END,
       ac.held_from + interval '1 day', ac.held_from + interval '1 day'
FROM bench_ac a
JOIN bench_org o ON o.n = a.n
JOIN activities ac ON ac.id = bench_id('ac', a.i)
CROSS JOIN generate_series(1, :evidence_per_activity) AS e (k);

-- The dropped indexes, as they were.
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT indexdef FROM bench_dropped LOOP EXECUTE r.indexdef; END LOOP;
END $$;

-- Set the visibility map and statistics, as autovacuum would on a live system.
VACUUM ANALYZE;
