//! Generated run names in MLflow's `adjective-animal-NNN` style.

use rand::seq::SliceRandom;
use rand::Rng;

const ADJECTIVES: &[&str] = &[
    "able", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager", "fair",
    "gentle", "glad", "grand", "happy", "honest", "jolly", "keen", "kind", "lively", "lucky",
    "merry", "mighty", "nimble", "polite", "proud", "quick", "quiet", "rare", "shy", "silent",
    "smart", "steady", "sunny", "swift", "tidy", "upbeat", "vivid", "warm", "wise", "zesty",
];
const ANIMALS: &[&str] = &[
    "ant", "bat", "bear", "bee", "carp", "cat", "colt", "conch", "crab", "crane", "deer", "doe",
    "dove", "eel", "elk", "finch", "fox", "frog", "gnat", "goat", "hare", "hawk", "hen", "jay",
    "koi", "lark", "lynx", "mole", "moth", "newt", "owl", "ox", "rat", "seal", "shrew", "slug",
    "snail", "stork", "toad", "wolf",
];

/// A fresh `adjective-animal-NNN` name.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{}-{}-{}",
        ADJECTIVES.choose(&mut rng).unwrap_or(&"calm"),
        ANIMALS.choose(&mut rng).unwrap_or(&"owl"),
        rng.gen_range(0..1000)
    )
}
