//! Benchmark: corpus BLEU (and chrF) over 10,000 generated segments, timed end to end.
//!
//! `cargo bench -p cairn-client --bench corpus_bleu`. With `CAIRN_BENCH_DUMP=DIR` the
//! segments are also written to DIR/hyps.txt and DIR/refs.txt, so that sacrebleu can be
//! timed on the same input (`sacrebleu DIR/refs.txt -i DIR/hyps.txt -m bleu`).

use cairn_client::eval::bleu::{corpus_bleu, BleuOptions};
use cairn_client::eval::chrf::{corpus_chrf, ChrfOptions};
use std::time::Instant;

const SEGMENTS: usize = 10_000;
const WORDS: &[&str] = &[
    "the",
    "model",
    "answer",
    "is",
    "a",
    "cat",
    "sat",
    "on",
    "mat",
    "quickly",
    "translation",
    "of",
    "text",
    "prompt",
    "returns",
    "42",
    "Paris",
    "capital",
    "France",
    "meeting",
    "Friday",
    "3",
    "p.m.",
    ",",
    ".",
    "!",
    "don't",
    "U.S.",
    "e-mail",
    "résumé",
    "naïve",
    "Straße",
];

/// A small deterministic generator, so every run (and sacrebleu) sees the same text.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn sentence(rng: &mut Lcg) -> String {
    let len = 8 + rng.next(24);
    (0..len)
        .map(|_| WORDS[rng.next(WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let mut rng = Lcg(7);
    let refs: Vec<String> = (0..SEGMENTS).map(|_| sentence(&mut rng)).collect();
    // Hypotheses: the reference with a few words changed, so n-grams partly match.
    let hyps: Vec<String> = refs
        .iter()
        .map(|r| {
            r.split(' ')
                .map(|w| {
                    if rng.next(5) == 0 {
                        WORDS[rng.next(WORDS.len())]
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    if let Some(dir) = std::env::var_os("CAIRN_BENCH_DUMP") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("hyps.txt"), hyps.join("\n") + "\n").expect("writing hyps");
        std::fs::write(dir.join("refs.txt"), refs.join("\n") + "\n").expect("writing refs");
    }
    let hyp_refs: Vec<&str> = hyps.iter().map(String::as_str).collect();
    let streams = vec![refs.iter().map(String::as_str).collect::<Vec<_>>()];
    for (name, run) in [
        (
            "corpus BLEU",
            Box::new(|| {
                corpus_bleu(&hyp_refs, &streams, &BleuOptions::default())
                    .unwrap()
                    .score
            }) as Box<dyn Fn() -> f64>,
        ),
        (
            "corpus chrF",
            Box::new(|| {
                corpus_chrf(&hyp_refs, &streams, &ChrfOptions::default())
                    .unwrap()
                    .score
            }),
        ),
    ] {
        let mut times = Vec::new();
        let mut score = 0.0;
        for _ in 0..7 {
            let start = Instant::now();
            score = run();
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name} over {SEGMENTS} segments: median {:.1} ms (min {:.1} ms), score {score:.4}",
            times[3] * 1e3,
            times[0] * 1e3
        );
    }
}
