-- Display names: what people call an account or a matter ("Northwind Traders" for the
-- account id `northwind`). Set when an invitation names them, or by `rapport labels
-- import`; the latest wins. Ids stay ids everywhere else: a name is only ever shown beside
-- an id that is already visible, never used to select or group anything.
CREATE TABLE display_names (
    kind TEXT NOT NULL CHECK (kind IN ('account', 'matter')),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
