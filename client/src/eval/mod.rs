//! Evaluation metrics for LLM outputs, reproducing the reference Python packages to 1e-9.

pub mod porter;
pub mod rouge;
pub mod rouge_tokenize;
