//! Bounded fuzzing of every parser at the edge, in the normal test suite: seeded mutations of
//! the samples in `tests/fuzz_corpus/`, each checked against the promises in
//! `testkit/src/fuzz/properties.rs`.
//! Each target runs `ITERATIONS` inputs or `BUDGET_SECONDS`, whichever ends first;
//! `FUZZ_ITERATIONS`, `FUZZ_SECONDS` and `FUZZ_SEED` change them (a failure prints the seed
//! and the input to replay). The
//! coverage-guided run of the same properties is `fuzz/` (see its README).

use std::path::Path;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::Value;

use mgbridge_testkit::fuzz::mutate::{self, Kind, Mutator};
use mgbridge_testkit::fuzz::properties;

const ITERATIONS: u64 = 20_000;
const BUDGET_SECONDS: u64 = 4;

fn iterations() -> u64 {
    std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ITERATIONS)
}

/// The time each target may take: `FUZZ_SECONDS`, or a few seconds.
fn budget() -> Duration {
    Duration::from_secs(
        std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(BUDGET_SECONDS),
    )
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen())
}

pub fn corpus(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Runs `check` on mutations of the JSON samples in `dir`; says how many inputs ran.
fn fuzz_json(
    dir: &str,
    kinds: &[Kind],
    max_depth: usize,
    known: impl Fn(&[u8]) -> bool,
    check: impl Fn(&[u8]),
) -> u64 {
    let seed = seed();
    let samples: Vec<Value> = corpus(dir)
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).unwrap())
        .collect();
    for (_, raw) in corpus(dir) {
        check(&raw);
    }
    let mut mutator = Mutator::new(seed, kinds);
    mutator.max_depth = max_depth;
    mutator.max_huge = 16 * 1024;
    let started = Instant::now();
    let (mut n, mut skipped) = (0, 0);
    while n < iterations() && started.elapsed() < budget() {
        let sample = samples.choose(&mut mutator.rng).unwrap();
        let (kind, body) = mutator.mutate(sample);
        n += 1;
        if known(&body) {
            skipped += 1;
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&body)));
        if outcome.is_err() {
            panic!(
                "FUZZ_SEED={seed}, input {n} ({kind:?}): {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    eprintln!(
        "{dir}: {n} inputs in {:?}, {skipped} of a known defect skipped (FUZZ_SEED={seed})",
        started.elapsed()
    );
    n
}

/// Runs `check` on character-level mutations of `seeds`.
fn fuzz_text(name: &str, seeds: &[&str], check: impl Fn(&str)) -> u64 {
    const PIECES: &[&str] = &[
        ":",
        "/",
        "//",
        "@",
        "?",
        "#",
        "%",
        "%2e",
        ".",
        "..",
        " ",
        "\t",
        "\n",
        "\u{0}",
        "-",
        "_",
        "*",
        "\\",
        "[",
        "]",
        "[::1]",
        "0",
        "9",
        "a",
        "Z",
        "xn--",
        "ß",
        "ｒｅｔａｉｌ",
        "\u{200b}",
        "\u{202e}",
        "\u{1f600}",
        "127.0.0.1",
        "http://",
        "https://",
        "HTTPS://",
        "ftp://",
        ".retailcrm.ru",
        ".simla.com",
        ":443",
        ":0",
        "user:pw@",
    ];
    let seed = seed();
    let mut rng = Mutator::new(seed, &[Kind::Valid]).rng;
    let started = Instant::now();
    let mut n = 0;
    for s in seeds {
        check(s);
    }
    while n < iterations() && started.elapsed() < budget() {
        let mut text: Vec<char> = seeds.choose(&mut rng).unwrap().chars().collect();
        for _ in 0..rng.gen_range(1..=4) {
            let at = rng.gen_range(0..=text.len());
            match rng.gen_range(0..4) {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 if at < text.len() => {
                    text[at] = char::from_u32(rng.gen_range(0..0x3000)).unwrap_or('x')
                }
                2 => text.truncate(at),
                _ => {
                    let piece = PIECES.choose(&mut rng).unwrap();
                    for (i, c) in piece.chars().enumerate() {
                        text.insert(at + i, c);
                    }
                }
            }
        }
        let text: String = text.into_iter().collect();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&text))).is_err() {
            panic!("FUZZ_SEED={seed}, {name} input {n}: {text:?}");
        }
        n += 1;
    }
    eprintln!(
        "{name}: {n} inputs in {:?} (FUZZ_SEED={seed})",
        started.elapsed()
    );
    n
}

#[test]
fn telegram_updates_accepted_are_read_back_by_the_worker() {
    let n = fuzz_json(
        "telegram",
        mutate::ALL,
        mutate::MAX_DEPTH,
        |_| false,
        properties::telegram_update,
    );
    assert!(n > 100, "only {n} inputs ran");
}

#[test]
fn mg_webhooks_accepted_are_read_back_by_the_worker() {
    let n = fuzz_json(
        "mg",
        mutate::ALL,
        mutate::MAX_DEPTH,
        |_| false,
        properties::mg_webhook,
    );
    assert!(n > 100, "only {n} inputs ran");
}

#[test]
fn crm_urls_that_parse_are_https_origins_on_allowed_hosts() {
    let policies = properties::crm_policies();
    let n = fuzz_text(
        "crm_url",
        &[
            "https://acme.retailcrm.ru",
            "acme.retailcrm.ru/",
            "  HTTPS://ACME.RetailCRM.ru/  ",
            "https://x.simla.com",
            "https://crm.my-company.de",
            "https://acme.retailcrm.ru:443/?a=b#c",
        ],
        |text| properties::crm_url(&policies, text),
    );
    assert!(n > 100, "only {n} inputs ran");
}

#[test]
fn bot_tokens_that_parse_print_redacted() {
    let n = fuzz_text(
        "bot_token",
        &[
            "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "  7012345678901:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\n",
            "1:abcdefghijklmnopqrstuvwxyz0123456789",
        ],
        properties::bot_token,
    );
    assert!(n > 100, "only {n} inputs ran");
}

#[test]
fn client_ids_that_parse_print_shortened() {
    let n = fuzz_text(
        "client_id",
        &["0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
        properties::client_id,
    );
    assert!(n > 100, "only {n} inputs ran");
}

/// The corpus of found defects, one minimal body each, read as regression inputs: each is
/// accepted and read back by the worker.
#[test]
fn known_defects_hold_once_fixed() {
    let mut broken = Vec::new();
    // The MG one (`mg_*`) is about delivery, checked by tests/api/hostile_http.rs.
    for (name, body) in corpus("known_defects") {
        if !name.starts_with("telegram_") {
            continue;
        }
        let holds = std::panic::catch_unwind(|| {
            let update = serde_json::from_slice::<mgbridge::messenger::telegram::Update>(&body);
            assert!(update.is_ok(), "refused: {:?}", update.err());
            properties::telegram_update(&body);
        });
        if holds.is_err() {
            broken.push(name);
        }
    }
    assert!(broken.is_empty(), "still broken: {broken:?}");
}
