//! Versioned, embedded schema migrations, applied in order inside one transaction each.
//!
//! `PRAGMA user_version` records how many have run. Append new migrations; never edit
//! one that has shipped.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: tracking.
    r#"
    CREATE TABLE experiments (
        experiment_id     INTEGER PRIMARY KEY,
        name              TEXT NOT NULL UNIQUE,
        artifact_location TEXT NOT NULL,
        lifecycle_stage   TEXT NOT NULL DEFAULT 'active',
        creation_time     INTEGER NOT NULL,
        last_update_time  INTEGER NOT NULL
    );
    CREATE TABLE experiment_tags (
        experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key)
    ) WITHOUT ROWID;

    CREATE TABLE runs (
        id              INTEGER PRIMARY KEY,
        run_uuid        TEXT NOT NULL UNIQUE,
        experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
        name            TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        status          TEXT NOT NULL,
        start_time      INTEGER NOT NULL,
        end_time        INTEGER,
        lifecycle_stage TEXT NOT NULL DEFAULT 'active',
        artifact_uri    TEXT NOT NULL,
        deleted_time    INTEGER
    );
    CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid);

    CREATE TABLE params (
        run   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run, key)
    ) WITHOUT ROWID;
    CREATE INDEX params_by_key ON params (key, value);

    CREATE TABLE tags (
        run   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run, key)
    ) WITHOUT ROWID;
    CREATE INDEX tags_by_key ON tags (key, value);

    -- Every distinct point; NaN is stored as value 0 with is_nan = 1 (SQLite has no NaN).
    CREATE TABLE metrics (
        run       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        step      INTEGER NOT NULL,
        value     REAL NOT NULL,
        is_nan    INTEGER NOT NULL,
        PRIMARY KEY (run, key, timestamp, step, value, is_nan)
    ) WITHOUT ROWID;

    -- The latest point per (run, key): the greatest (step, timestamp, value).
    CREATE TABLE latest_metrics (
        run       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     REAL NOT NULL,
        is_nan    INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        step      INTEGER NOT NULL,
        PRIMARY KEY (run, key)
    ) WITHOUT ROWID;
    CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);

    CREATE TABLE datasets (
        id            INTEGER PRIMARY KEY,
        experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
        name          TEXT NOT NULL,
        digest        TEXT NOT NULL,
        source_type   TEXT NOT NULL,
        source        TEXT NOT NULL,
        schema        TEXT,
        profile       TEXT,
        UNIQUE (experiment_id, name, digest)
    );
    CREATE TABLE inputs (
        id      INTEGER PRIMARY KEY,
        run     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        dataset INTEGER NOT NULL REFERENCES datasets(id),
        UNIQUE (run, dataset)
    );
    CREATE TABLE input_tags (
        input INTEGER NOT NULL REFERENCES inputs(id) ON DELETE CASCADE,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (input, key)
    ) WITHOUT ROWID;
    CREATE TABLE model_inputs (
        run      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        PRIMARY KEY (run, model_id)
    ) WITHOUT ROWID;
    CREATE TABLE model_outputs (
        run      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        step     INTEGER NOT NULL,
        PRIMARY KEY (run, model_id)
    ) WITHOUT ROWID;

    CREATE TABLE logged_models (
        model_id                  TEXT PRIMARY KEY,
        experiment_id             INTEGER NOT NULL REFERENCES experiments(experiment_id),
        name                      TEXT NOT NULL,
        model_type                TEXT NOT NULL DEFAULT '',
        source_run_id             TEXT NOT NULL DEFAULT '',
        status                    TEXT NOT NULL,
        artifact_uri              TEXT NOT NULL,
        lifecycle_stage           TEXT NOT NULL DEFAULT 'active',
        creation_timestamp_ms     INTEGER NOT NULL,
        last_updated_timestamp_ms INTEGER NOT NULL
    );
    CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms DESC);
    CREATE TABLE logged_model_tags (
        model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
        key      TEXT NOT NULL,
        value    TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    ) WITHOUT ROWID;
    "#,
    // 2: artifacts, content-addressed.
    r#"
    CREATE TABLE blobs (
        digest    TEXT PRIMARY KEY,
        size      INTEGER NOT NULL,
        created   INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- path -> content, every version kept; exactly one current row per live path.
    CREATE TABLE artifacts (
        path    TEXT NOT NULL,
        version INTEGER NOT NULL,
        digest  TEXT NOT NULL REFERENCES blobs(digest),
        size    INTEGER NOT NULL,
        created INTEGER NOT NULL,
        current INTEGER NOT NULL,
        PRIMARY KEY (path, version)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX artifacts_current ON artifacts (path) WHERE current = 1;
    CREATE INDEX artifacts_by_digest ON artifacts (digest);
    CREATE TABLE multipart_uploads (
        upload_id TEXT PRIMARY KEY,
        path      TEXT NOT NULL,
        created   INTEGER NOT NULL
    );
    "#,
    // 3: model registry.
    r#"
    CREATE TABLE registered_models (
        name                   TEXT PRIMARY KEY,
        creation_timestamp     INTEGER NOT NULL,
        last_updated_timestamp INTEGER NOT NULL,
        description            TEXT
    );
    CREATE TABLE registered_model_tags (
        name  TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, key)
    ) WITHOUT ROWID;
    -- Deleted versions keep their row (deleted = 1) so that numbers are never reused.
    CREATE TABLE model_versions (
        name                   TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
        version                INTEGER NOT NULL,
        creation_timestamp     INTEGER NOT NULL,
        last_updated_timestamp INTEGER NOT NULL,
        description            TEXT NOT NULL DEFAULT '',
        source                 TEXT NOT NULL,
        run_id                 TEXT NOT NULL DEFAULT '',
        run_link               TEXT NOT NULL DEFAULT '',
        current_stage          TEXT NOT NULL DEFAULT 'None',
        deleted                INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, version)
    ) WITHOUT ROWID;
    CREATE INDEX model_versions_by_run ON model_versions (run_id);
    CREATE TABLE model_version_tags (
        name    TEXT NOT NULL,
        version INTEGER NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (name, version, key),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE registered_model_aliases (
        name    TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
        alias   TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (name, alias)
    ) WITHOUT ROWID;
    "#,
    // 4: Cairn's promotion gates and promotion history.
    r#"
    -- A gate guards a target: 'stage:<Stage>' or 'alias:<alias>'; its filter is in the run grammar.
    CREATE TABLE promotion_gates (
        name    TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
        target  TEXT NOT NULL,
        filter  TEXT NOT NULL,
        created INTEGER NOT NULL,
        PRIMARY KEY (name, target)
    ) WITHOUT ROWID;
    CREATE TABLE promotion_history (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
        kind       TEXT NOT NULL,
        alias      TEXT,
        version    INTEGER,
        from_value TEXT,
        to_value   TEXT,
        at         INTEGER NOT NULL,
        actor      TEXT NOT NULL,
        run_id     TEXT NOT NULL DEFAULT '',
        metrics    TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX promotion_history_by_model ON promotion_history (name, id);
    "#,
    // 5: logged-model params and metrics.
    r#"
    CREATE TABLE logged_model_params (
        model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
        key      TEXT NOT NULL,
        value    TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    ) WITHOUT ROWID;
    -- Every distinct point logged with a model_id; '' stands for no run / no dataset.
    -- NaN is stored as value 0 with is_nan = 1, as in `metrics`.
    CREATE TABLE logged_model_metrics (
        model_id       TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
        key            TEXT NOT NULL,
        dataset_name   TEXT NOT NULL,
        dataset_digest TEXT NOT NULL,
        run_id         TEXT NOT NULL,
        timestamp      INTEGER NOT NULL,
        step           INTEGER NOT NULL,
        value          REAL NOT NULL,
        is_nan         INTEGER NOT NULL,
        PRIMARY KEY (model_id, key, dataset_name, dataset_digest, run_id, timestamp, step, value, is_nan)
    ) WITHOUT ROWID;
    CREATE INDEX logged_model_metrics_by_key ON logged_model_metrics (key, model_id);
    "#,
    // 6: answers to requests that carried an Idempotency-Key, kept for a day.
    r#"
    CREATE TABLE idempotency (
        key         TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        status      INTEGER NOT NULL,
        body        BLOB NOT NULL,
        created     INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_by_age ON idempotency (created);
    "#,
    // 7: each run's latest metrics know its experiment, so a search of one experiment
    // ordered by a metric it filters on walks this index in order and stops at the
    // page's end. A run that moves takes its latest metrics along.
    r#"
    ALTER TABLE latest_metrics ADD COLUMN experiment_id INTEGER NOT NULL DEFAULT 0;
    UPDATE latest_metrics
       SET experiment_id = (SELECT r.experiment_id FROM runs r WHERE r.id = latest_metrics.run);
    CREATE INDEX latest_metrics_by_experiment ON latest_metrics (experiment_id, key, is_nan, value);
    CREATE TRIGGER runs_move_latest_metrics AFTER UPDATE OF experiment_id ON runs
    BEGIN
        UPDATE latest_metrics SET experiment_id = NEW.experiment_id WHERE run = NEW.id;
    END;
    "#,
];

/// Brings the database up to the newest schema and seeds the `Default` experiment.
pub fn migrate(conn: &mut Connection, now_ms: i64) -> rusqlite::Result<()> {
    let applied: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
         VALUES (0, 'Default', 'mlflow-artifacts:/0', ?1, ?1)",
        [now_ms],
    )?;
    Ok(())
}

/// How many migrations this build knows.
#[cfg(test)]
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_harmless_and_seeds_default_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 1).unwrap();
        migrate(&mut conn, 2).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM experiments", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, latest_version());
    }
}
