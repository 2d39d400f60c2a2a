-- A ward's own escalation delays (an isolation ward may page the charge nurse sooner than a
-- general one). One row per ward that has its own; wards without one use the installation's
-- defaults. `policy` is the JSON of docde_domain's EscalationPolicy (seconds after the alarm
-- was raised at which each level is due, per priority), checked before it is written.
CREATE TABLE ward_escalation_policies (
    ward_id     TEXT PRIMARY KEY REFERENCES wards (id),
    policy      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users (id)
);
