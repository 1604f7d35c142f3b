-- Label rules: the programme admin hides a junk or test value of a context field (a test
-- account, a mistyped wave) from every report, or merges it into another value of the same
-- field. A value has at most one rule. 'merge_into' is NULL for a rule that hides. Reports
-- apply the rules after deciding what a role may see, so a rule never changes a published
-- batch, only which whole batches a figure counts and what its groups are called.
CREATE TABLE label_rules (
    field TEXT NOT NULL CHECK (field IN ('account', 'matter', 'wave')),
    value TEXT NOT NULL,
    merge_into TEXT CHECK (merge_into IS NULL OR merge_into <> value),
    created_at TEXT NOT NULL,
    PRIMARY KEY (field, value)
);
