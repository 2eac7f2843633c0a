//! What an LLM call cost, from a price table given as JSON text (never fetched).
//!
//! Prices are USD per million tokens. The rules [`PriceTable::cost`] applies:
//!
//! 1. `cached_prompt_tokens` are part of `prompt_tokens`: the uncached prompt tokens
//!    (`prompt_tokens - cached_prompt_tokens`) are billed at `input`, the cached ones at
//!    `cached_input` (at `input` when the model has no `cached_input` price), and
//!    `completion_tokens` at `output`.
//! 2. A tier applies when `prompt_tokens` is strictly greater than its
//!    `above_prompt_tokens`; of those, the tier with the highest threshold wins, and its
//!    prices replace the base prices for the **whole** request (all tokens, not only
//!    those above the threshold). A tier without `cached_input` bills cached tokens at
//!    the tier's `input`.
//! 3. An unknown model, or more cached than prompt tokens, is an error.
//!
//! ```
//! use cairn_client::eval::cost::{PriceTable, Usage};
//!
//! let prices = PriceTable::from_json(r#"{"models": {"gpt-4o": {"input": 2.5, "output": 10.0,
//!     "cached_input": 1.25, "tiers": [{"above_prompt_tokens": 200000, "input": 5.0,
//!     "output": 15.0, "cached_input": 2.5}]}}}"#)?;
//! let usage = Usage { prompt_tokens: 1_000_000, completion_tokens: 0, cached_prompt_tokens: 0 };
//! assert_eq!(prices.cost("gpt-4o", usage)?, 5.0);
//! # Ok::<(), cairn_client::eval::cost::CostError>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a price table could not be read or a cost not computed.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// The price table is not valid JSON of the documented shape.
    #[error("price table: {0}")]
    Json(#[from] serde_json::Error),
    /// A price is negative, NaN or infinite.
    #[error("price table: model {model:?} has an invalid price {price}")]
    InvalidPrice {
        /// The model with the bad price.
        model: String,
        /// The offending value.
        price: f64,
    },
    /// The model is not in the price table.
    #[error("no price for model {0:?}")]
    UnknownModel(String),
    /// `cached_prompt_tokens` exceeds `prompt_tokens`.
    #[error("{cached} cached prompt tokens exceed the {prompt} prompt tokens")]
    CachedExceedsPrompt {
        /// Cached prompt tokens given.
        cached: u64,
        /// Prompt tokens given.
        prompt: u64,
    },
}

/// Token counts of one request, as the provider reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// All prompt tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// The part of `prompt_tokens` served from the provider's prompt cache.
    pub cached_prompt_tokens: u64,
}

/// Prices of one model in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Uncached prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Cached prompt tokens; `input` when absent.
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Long-context tiers, see the module rules.
    #[serde(default)]
    pub tiers: Vec<PriceTier>,
}

/// Prices that replace the base prices when a request's prompt is long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTier {
    /// The tier applies when `prompt_tokens` is strictly greater than this.
    pub above_prompt_tokens: u64,
    /// Uncached prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Cached prompt tokens; this tier's `input` when absent.
    #[serde(default)]
    pub cached_input: Option<f64>,
}

/// Model name to prices, read with [`PriceTable::from_json`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// Prices by model name (exact match).
    pub models: BTreeMap<String, ModelPrice>,
}

fn check(model: &str, price: f64) -> Result<(), CostError> {
    if price.is_finite() && price >= 0.0 {
        Ok(())
    } else {
        Err(CostError::InvalidPrice {
            model: model.to_string(),
            price,
        })
    }
}

impl PriceTable {
    /// Read `{"models": {"<name>": {"input": .., "output": .., "cached_input": ..,
    /// "tiers": [{"above_prompt_tokens": .., "input": .., "output": .., "cached_input": ..}]}}}`.
    /// `cached_input` and `tiers` are optional; unknown keys and negative prices are
    /// rejected.
    pub fn from_json(text: &str) -> Result<PriceTable, CostError> {
        let table: PriceTable = serde_json::from_str(text)?;
        for (model, price) in &table.models {
            let tier_prices = price
                .tiers
                .iter()
                .flat_map(|t| [Some(t.input), Some(t.output), t.cached_input]);
            for p in [Some(price.input), Some(price.output), price.cached_input]
                .into_iter()
                .chain(tier_prices)
                .flatten()
            {
                check(model, p)?;
            }
        }
        Ok(table)
    }

    /// Cost in USD of one request to `model`, by the rules in the module docs.
    pub fn cost(&self, model: &str, usage: Usage) -> Result<f64, CostError> {
        let price = self
            .models
            .get(model)
            .ok_or_else(|| CostError::UnknownModel(model.to_string()))?;
        if usage.cached_prompt_tokens > usage.prompt_tokens {
            return Err(CostError::CachedExceedsPrompt {
                cached: usage.cached_prompt_tokens,
                prompt: usage.prompt_tokens,
            });
        }
        let tier = price
            .tiers
            .iter()
            .filter(|t| usage.prompt_tokens > t.above_prompt_tokens)
            .max_by_key(|t| t.above_prompt_tokens);
        let (input, output, cached_input) = match tier {
            Some(t) => (t.input, t.output, t.cached_input.unwrap_or(t.input)),
            None => (
                price.input,
                price.output,
                price.cached_input.unwrap_or(price.input),
            ),
        };
        let uncached = (usage.prompt_tokens - usage.cached_prompt_tokens) as f64;
        let cached = usage.cached_prompt_tokens as f64;
        let completion = usage.completion_tokens as f64;
        Ok((uncached * input + cached * cached_input + completion * output) / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICES: &str = r#"{"models": {
        "gpt-4o": {"input": 2.5, "output": 10.0, "cached_input": 1.25,
                   "tiers": [{"above_prompt_tokens": 500000, "input": 8.0, "output": 20.0},
                             {"above_prompt_tokens": 200000, "input": 5.0, "output": 15.0,
                              "cached_input": 2.5}]},
        "plain": {"input": 1.0, "output": 2.0}}}"#;

    fn usage(prompt: u64, completion: u64, cached: u64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            cached_prompt_tokens: cached,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn prompt_and_completion_tokens_are_billed_per_million() {
        let prices = PriceTable::from_json(PRICES).unwrap();
        let cost = prices.cost("gpt-4o", usage(1000, 500, 0)).unwrap();
        assert!(close(cost, (1000.0 * 2.5 + 500.0 * 10.0) / 1e6));
    }

    #[test]
    fn cached_tokens_are_part_of_the_prompt_and_billed_at_the_cached_price() {
        let prices = PriceTable::from_json(PRICES).unwrap();
        let cost = prices.cost("gpt-4o", usage(1000, 0, 400)).unwrap();
        assert!(close(cost, (600.0 * 2.5 + 400.0 * 1.25) / 1e6));
        // Without a cached price, cached tokens cost as much as the others.
        let cost = prices.cost("plain", usage(1000, 0, 400)).unwrap();
        assert!(close(cost, 1000.0 / 1e6));
    }

    #[test]
    fn a_tier_applies_to_the_whole_request_only_above_its_threshold() {
        let prices = PriceTable::from_json(PRICES).unwrap();
        let at = prices.cost("gpt-4o", usage(200_000, 0, 0)).unwrap();
        assert!(close(at, 200_000.0 * 2.5 / 1e6));
        let above = prices.cost("gpt-4o", usage(200_001, 1000, 1)).unwrap();
        assert!(close(above, (200_000.0 * 5.0 + 2.5 + 1000.0 * 15.0) / 1e6));
    }

    #[test]
    fn the_highest_exceeded_tier_wins_whatever_the_listing_order() {
        let prices = PriceTable::from_json(PRICES).unwrap();
        let cost = prices.cost("gpt-4o", usage(600_000, 0, 100_000)).unwrap();
        // That tier has no cached price, so cached tokens use its input price.
        assert!(close(cost, 600_000.0 * 8.0 / 1e6));
    }

    #[test]
    fn unknown_models_and_impossible_usage_are_errors() {
        let prices = PriceTable::from_json(PRICES).unwrap();
        assert!(matches!(
            prices.cost("gpt-5", usage(1, 1, 0)),
            Err(CostError::UnknownModel(m)) if m == "gpt-5"
        ));
        assert!(matches!(
            prices.cost("plain", usage(1, 1, 2)),
            Err(CostError::CachedExceedsPrompt { .. })
        ));
    }

    #[test]
    fn malformed_price_tables_are_rejected() {
        for text in [
            "{}",
            r#"{"models": {"m": {"input": 1.0}}}"#,
            r#"{"models": {"m": {"input": -1.0, "output": 1.0}}}"#,
            r#"{"models": {"m": {"input": 1.0, "output": 1.0, "typo": 1}}}"#,
            r#"{"models": {"m": {"input": 1.0, "output": 1.0,
                "tiers": [{"above_prompt_tokens": 5, "input": 1.0, "output": -2.0}]}}}"#,
        ] {
            assert!(PriceTable::from_json(text).is_err(), "{text}");
        }
    }
}
