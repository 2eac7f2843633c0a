//! Evaluation metrics for LLM outputs, reproducing the reference Python packages to 1e-9.

pub mod bleu;
pub mod cases;
pub mod chrf;
pub mod compare;
pub mod cost;
pub mod input;
pub mod porter;
pub mod rouge;
pub mod rouge_tokenize;
pub mod table;
pub mod tokenize_13a;
