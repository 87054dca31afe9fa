-- How each organisation counts its reporting periods: `calendar`, or `decree_09` (the
-- cut-off of Decree 09/2019/NĐ-CP art. 12: the 15th of the month before to the 14th).
-- Organisations that exist keep the calendar periods their reports were made with; new
-- ones count as the decree does.
ALTER TABLE organizations ADD COLUMN reporting_periods text NOT NULL DEFAULT 'calendar'
    CHECK (reporting_periods IN ('calendar', 'decree_09'));
ALTER TABLE organizations ALTER COLUMN reporting_periods SET DEFAULT 'decree_09';

-- A snapshot keeps the counting its period was cut by.
ALTER TABLE report_snapshots ADD COLUMN reporting_periods text NOT NULL DEFAULT 'calendar'
    CHECK (reporting_periods IN ('calendar', 'decree_09'));
ALTER TABLE report_snapshots ALTER COLUMN reporting_periods DROP DEFAULT;
