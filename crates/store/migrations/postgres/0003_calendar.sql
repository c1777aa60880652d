-- Listed days of the working-day calendar: 'CN' is the national schedule, otherwise a region's
-- own days, which override the nation's. Unlisted days follow the week.
CREATE TABLE calendar_days (
    region TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (region, day)
);
