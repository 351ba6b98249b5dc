//! Mutations of real request bodies, seeded so a failure can be replayed: byte flips,
//! truncation, deep nesting, huge strings, wrong types, odd unicode, duplicate keys, lone
//! surrogate escapes. Shared by the property tests (`tests/fuzz`) and the HTTP-level test
//! (`tests/api/hostile_http.rs`).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The body untouched, or with one id changed: the control group.
    Valid,
    ByteFlip,
    Truncate,
    /// A value replaced by arrays/objects nested `depth` deep.
    DeepNest,
    HugeString,
    WrongType,
    OddUnicode,
    /// A key repeated in the same object (as text: serde_json's `Value` cannot hold one).
    DuplicateKey,
    /// A `\ud800` escape with no low half, inside a string.
    LoneSurrogate,
    /// Random bytes, or random JSON-ish tokens.
    Garbage,
}

pub const ALL: &[Kind] = &[
    Kind::Valid,
    Kind::ByteFlip,
    Kind::Truncate,
    Kind::DeepNest,
    Kind::HugeString,
    Kind::WrongType,
    Kind::OddUnicode,
    Kind::DuplicateKey,
    Kind::LoneSurrogate,
    Kind::Garbage,
];

/// Strings a sender may really put in a text: controls, bidi overrides, zero-width and
/// combining marks, non-characters, astral emoji, a NUL.
const ODD: &[&str] = &[
    "\u{0}",
    "\u{202e}evil\u{202c}",
    "\u{200b}\u{200d}\u{feff}",
    "e\u{301}\u{301}\u{301}\u{301}",
    "\u{fffe}\u{ffff}",
    "\u{1f600}\u{1f1f7}\u{1f1fa}",
    "\r\n\t\u{7f}\u{85}\u{2028}\u{2029}",
    "𝕳𝖊𝖑𝖑𝖔",
    "\"}\\",
    "%s%n{{}}<script>",
];

/// Deepest nesting generated. Limits on depth are the parsers' business; this stays well past
/// serde_json's 128 so both sides of it are tried.
pub const MAX_DEPTH: usize = 300;

pub struct Mutator {
    pub rng: StdRng,
    /// Kinds to draw from (a harness leaves out a kind with a known, reported defect).
    pub kinds: Vec<Kind>,
    /// Nesting depth at most this (see `MAX_DEPTH`).
    pub max_depth: usize,
    /// Longest huge string, in bytes.
    pub max_huge: usize,
}

impl Mutator {
    pub fn new(seed: u64, kinds: &[Kind]) -> Self {
        use rand::SeedableRng;
        Self {
            rng: StdRng::seed_from_u64(seed),
            kinds: kinds.to_vec(),
            max_depth: MAX_DEPTH,
            max_huge: 300 * 1024,
        }
    }

    /// One mutated body from `seed`, with the kind used.
    pub fn mutate(&mut self, seed: &Value) -> (Kind, Vec<u8>) {
        let kind = *self.kinds.choose(&mut self.rng).expect("at least one kind");
        (kind, self.apply(kind, seed))
    }

    pub fn apply(&mut self, kind: Kind, seed: &Value) -> Vec<u8> {
        let rng = &mut self.rng;
        match kind {
            Kind::Valid => serde_json::to_vec(seed).unwrap(),
            Kind::ByteFlip => {
                let mut bytes = serde_json::to_vec(seed).unwrap();
                for _ in 0..rng.gen_range(1..=4) {
                    let i = rng.gen_range(0..bytes.len());
                    match rng.gen_range(0..3) {
                        0 => bytes[i] ^= 1 << rng.gen_range(0..8),
                        1 => bytes[i] = *b"{}[]\",:\\0-e.tn".choose(rng).unwrap(),
                        _ => bytes[i] = rng.gen(),
                    }
                }
                bytes
            }
            Kind::Truncate => {
                let bytes = serde_json::to_vec(seed).unwrap();
                let cut = rng.gen_range(0..bytes.len());
                bytes[..cut].to_vec()
            }
            Kind::DeepNest => {
                let depth = rng.gen_range(1..=self.max_depth);
                let open_array = rng.gen_bool(0.5);
                let mut nested = Value::from(1);
                for _ in 0..depth {
                    nested = if open_array {
                        Value::Array(vec![nested])
                    } else {
                        let mut map = Map::new();
                        map.insert("x".into(), nested);
                        Value::Object(map)
                    };
                }
                let mut value = seed.clone();
                replace_somewhere(rng, &mut value, nested);
                // Only serde_json's reading is depth-limited: the text goes out as deep as asked.
                serde_json::to_vec(&value).unwrap()
            }
            Kind::HugeString => {
                let len = rng.gen_range(1024..=self.max_huge);
                let unit = ["x", "я", "\u{1f600}", " ", "\\"].choose(rng).unwrap();
                let text = unit.repeat(len / unit.len());
                let mut value = seed.clone();
                replace_somewhere(rng, &mut value, Value::String(text));
                serde_json::to_vec(&value).unwrap()
            }
            Kind::WrongType => {
                let mut value = seed.clone();
                let wrong = match rng.gen_range(0..8) {
                    0 => Value::Null,
                    1 => Value::Bool(rng.gen()),
                    2 => Value::from(rng.gen::<i64>()),
                    3 => Value::from(rng.gen::<f64>() * 1e300),
                    4 => Value::from(u64::MAX),
                    5 => Value::String("42".into()),
                    6 => Value::Array(vec![Value::Null]),
                    _ => Value::Object(Map::new()),
                };
                replace_somewhere(rng, &mut value, wrong);
                serde_json::to_vec(&value).unwrap()
            }
            Kind::OddUnicode => {
                let mut value = seed.clone();
                let odd: String = (0..rng.gen_range(1..4))
                    .map(|_| *ODD.choose(rng).unwrap())
                    .collect();
                replace_somewhere(rng, &mut value, Value::String(odd));
                serde_json::to_vec(&value).unwrap()
            }
            Kind::DuplicateKey => {
                let text = serde_json::to_string(seed).unwrap();
                // Repeat one `"key":` right after an object's opening brace with another value.
                let keys: Vec<usize> = text.match_indices("{\"").map(|(i, _)| i + 1).collect();
                let Some(&at) = keys.choose(rng) else {
                    return text.into_bytes();
                };
                let end = text[at + 1..].find('"').map(|e| at + 1 + e + 1).unwrap();
                let key = &text[at..end];
                let dup = ["1", "null", "\"dup\"", "{}", "[]", "true"]
                    .choose(rng)
                    .unwrap();
                format!("{}{key}:{dup},{}", &text[..at], &text[at..]).into_bytes()
            }
            Kind::LoneSurrogate => {
                let mut value = seed.clone();
                replace_somewhere(rng, &mut value, Value::String("\u{0}MARK\u{0}".into()));
                let text = serde_json::to_string(&value).unwrap();
                let lone = ["\\ud800", "\\udfff", "\\ud83d x", "\\udc00\\ud800"]
                    .choose(rng)
                    .unwrap();
                text.replacen("\\u0000MARK\\u0000", lone, 1).into_bytes()
            }
            Kind::Garbage => {
                let len = rng.gen_range(0..256);
                if rng.gen_bool(0.5) {
                    (0..len).map(|_| rng.gen()).collect()
                } else {
                    (0..len)
                        .map(|_| *b"{}[]\",:0123456789.eE+-truefalsn \\u".choose(rng).unwrap())
                        .collect()
                }
            }
        }
    }
}

/// Replaces a random node (an object member, an array element, or the whole value) by `new`;
/// sometimes adds it as a new member instead, so unknown fields get it too.
fn replace_somewhere(rng: &mut StdRng, value: &mut Value, new: Value) {
    let stop = rng.gen_bool(0.25);
    let child = match value {
        Value::Object(map) if !map.is_empty() => {
            if rng.gen_bool(0.15) {
                map.insert(format!("unknown_{}", rng.gen::<u16>()), new);
                return;
            }
            let key = map.keys().nth(rng.gen_range(0..map.len())).unwrap().clone();
            map.get_mut(&key).unwrap()
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.gen_range(0..items.len());
            &mut items[i]
        }
        _ => {
            *value = new;
            return;
        }
    };
    if stop || !matches!(child, Value::Object(_) | Value::Array(_)) {
        *child = new;
    } else {
        replace_somewhere(rng, child, new);
    }
}
