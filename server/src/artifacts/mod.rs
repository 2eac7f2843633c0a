//! Artifacts: validated artifact paths and the object store behind them (the only module that knows object_store).

pub mod path;
