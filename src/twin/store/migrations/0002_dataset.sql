-- Owner review decisions on dataset samples; they survive rebuilds because sample ids are stable
-- (a hash of the conversation and the owner's message ids).
CREATE TABLE dataset_reviews (
    dataset     TEXT NOT NULL,             -- dataset name
    sample_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('drop')),
    reason      TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (dataset, sample_id)
);
