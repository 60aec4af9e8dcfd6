//! `--config FILE`: the detector's options in a YAML file, for services.
//!
//! ```yaml
//! # /etc/kql-detector/detector.yaml
//! listen: 0.0.0.0:8443
//! tls-cert: /etc/kql-detector/tls.crt
//! tls-key: /etc/kql-detector/tls.key
//! token-file: /etc/kql-detector/token
//! output: alerts
//! output-file: /var/log/kql-detector/alerts.jsonl
//! threads: 2
//! metrics: 127.0.0.1:9090
//! ```
//!
//! The file is one mapping. Its keys are the long option names without
//! `--`; `inputs:` holds the input files (a name or a list of names, read
//! with the file's `input-format`). A switch takes `true` or `false`, an
//! option with a value takes a string or a number, written as on the
//! command line (`max-memory: 2G`, `checkpoint-interval: 5s`); an option
//! that may be repeated takes a list. Paths are read as on the command
//! line, from the working directory.
//!
//! Each value is checked by the same parser as the command line's, so its
//! message is the same; an unknown key, a value of the wrong type or a bad
//! value stops the detector with one line naming the file, the line and
//! the key (`--config FILE:LINE: threads: needs at least 1 thread`).
//! `--config`, `--help`, `--version`, `--json` and `--rules` are actions of
//! the command line and are refused as keys.
//!
//! The file becomes arguments (`threads: 2` is `--threads=2`); the
//! detector puts those of options the command line does not give before
//! the command line's own ([`super::parse_args`]).

use clap::{Arg, ArgAction, Command};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::fmt;

/// A config file, as arguments.
#[derive(Debug, Default, PartialEq)]
pub struct Config {
    /// The options set, in the file's order.
    pub settings: Vec<Setting>,
    /// `inputs:`, the input files.
    pub inputs: Vec<String>,
}

/// One option of a config file.
#[derive(Debug, PartialEq)]
pub struct Setting {
    /// The option's clap id.
    pub id: String,
    /// Its command-line arguments (`--threads=2`; none for `follow: false`).
    pub args: Vec<String>,
}

/// Options that are actions of the command line, not settings: the
/// message refusing each as a key.
const NOT_SETTINGS: &[(&str, &str)] = &[
    ("config", "a config file cannot name another one"),
    ("help", "an action of the command line, not a setting"),
    ("version", "an action of the command line, not a setting"),
    (
        "json",
        "an action of the command line (with --version), not a setting",
    ),
    ("rules", "an action of the command line, not a setting"),
];

/// Reads the config file at `path` for the options of `command`. `Err` is
/// the one-line message (`--config FILE:LINE: key: cause`).
pub fn read(path: &str, command: &Command) -> Result<Config, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--config {path}: cannot read: {e}"))?;
    parse(&text, command).map_err(|e| match e.line {
        Some(line) => format!("--config {path}:{line}: {}", e.message),
        None => format!("--config {path}: {}", e.message),
    })
}

/// Why a config file was refused.
#[derive(Debug, PartialEq)]
pub struct ConfigError {
    /// The line (from 1), when known.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub message: String,
}

/// Parses a config file's text for the options of `command`.
pub fn parse(text: &str, command: &Command) -> Result<Config, ConfigError> {
    let failure = RefCell::new(None);
    let seed = FileSeed {
        command,
        failure: &failure,
    };
    seed.deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|error| match failure.take() {
            // Ours: the message without serde_norway's decoration, and
            // the line it located.
            Some(message) => ConfigError {
                line: error.location().map(|l| l.line()),
                message,
            },
            // The YAML's own (syntax): its message says where.
            None => ConfigError {
                line: None,
                message: error.to_string(),
            },
        })
}

/// Keeps `message` for [`parse`] and returns the error that carries the
/// position out of the deserializer.
fn fail<E: de::Error>(failure: &RefCell<Option<String>>, message: String) -> E {
    let error = E::custom(&message);
    *failure.borrow_mut() = Some(message);
    error
}

/// The whole file: a mapping, or nothing.
struct FileSeed<'a> {
    command: &'a Command,
    failure: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = Config;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Config, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = Config;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of option names to values")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Config, E> {
        Ok(Config::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Config, E> {
        Ok(Config::default())
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Config, M::Error> {
        let mut config = Config::default();
        let seen = RefCell::new(Vec::new());
        let key_seed = || KeySeed {
            command: self.command,
            seen: &seen,
            failure: self.failure,
        };
        while let Some(key) = map.next_key_seed(key_seed())? {
            match key {
                Key::Inputs => {
                    config.inputs = map.next_value_seed(InputsSeed {
                        failure: self.failure,
                    })?;
                }
                Key::Option { key, arg } => {
                    let args = map.next_value_seed(ValueSeed {
                        key: &key,
                        arg,
                        command: self.command,
                        failure: self.failure,
                    })?;
                    config.settings.push(Setting {
                        id: arg.get_id().to_string(),
                        args,
                    });
                }
            }
        }
        Ok(config)
    }
}

/// A key of the file.
enum Key<'a> {
    /// `inputs`.
    Inputs,
    /// An option, by one of its long names.
    Option { key: String, arg: &'a Arg },
}

struct KeySeed<'a> {
    command: &'a Command,
    /// The ids set so far.
    seen: &'a RefCell<Vec<String>>,
    failure: &'a RefCell<Option<String>>,
}

impl<'de, 'a> DeserializeSeed<'de> for KeySeed<'a> {
    type Value = Key<'a>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'a>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'a> Visitor<'de> for KeySeed<'a> {
    type Value = Key<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an option name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'a>, E> {
        let named = |arg: &&Arg| {
            arg.get_long() == Some(key)
                || arg
                    .get_all_aliases()
                    .is_some_and(|aliases| aliases.contains(&key))
        };
        let id = if key == super::INPUTS_KEY {
            super::INPUTS_KEY.to_string()
        } else {
            match self.command.get_arguments().find(named) {
                Some(arg) => arg.get_id().to_string(),
                None => return Err(fail(self.failure, unknown_key(key, self.command))),
            }
        };
        if let Some((_, why)) = NOT_SETTINGS.iter().find(|(name, _)| *name == id) {
            return Err(fail(self.failure, format!("{key}: {why}")));
        }
        if self.seen.borrow().contains(&id) {
            return Err(fail(
                self.failure,
                format!("{key}: given twice (a key is set once)"),
            ));
        }
        self.seen.borrow_mut().push(id);
        Ok(match self.command.get_arguments().find(named) {
            Some(arg) => Key::Option {
                key: key.to_string(),
                arg,
            },
            None => Key::Inputs,
        })
    }
}

/// The message for a key that names no option, with the nearest one.
fn unknown_key(key: &str, command: &Command) -> String {
    let nearest = command
        .get_arguments()
        .filter(|arg| !NOT_SETTINGS.iter().any(|(id, _)| arg.get_id() == *id))
        .filter_map(Arg::get_long)
        .chain([super::INPUTS_KEY])
        .map(|name| (strsim::jaro_winkler(key, name), name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, name)) => format!("unknown key '{key}' (did you mean '{name}'?)"),
        None => format!("unknown key '{key}' (keys are the long options without '--', and inputs)"),
    }
}

/// What an option's value must be, for messages.
fn wanted(arg: &Arg) -> String {
    if !arg.get_action().takes_values() {
        return "true or false".to_string();
    }
    let names: Vec<&str> = arg
        .get_value_names()
        .unwrap_or_default()
        .iter()
        .map(|name| name.as_str())
        .collect();
    match names.as_slice() {
        [] => "a value".to_string(),
        names => format!("a value ({})", names.join(" ")),
    }
}

/// True when the option may be given several times: its list is a YAML
/// list. (`--input-format` repeats on the command line to apply to the
/// files after it; the file's `inputs:` all take one.)
fn repeats(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append) && arg.get_id() != "input_format"
}

/// An option's value, as its arguments, checked by the command's parser.
struct ValueSeed<'a> {
    key: &'a str,
    arg: &'a Arg,
    command: &'a Command,
    failure: &'a RefCell<Option<String>>,
}

impl ValueSeed<'_> {
    fn fail<E: de::Error>(&self, message: String) -> E {
        fail(self.failure, format!("{}: {message}", self.key))
    }

    fn wrong_type<E: de::Error>(&self, given: &str) -> E {
        self.fail(format!("expected {}, not {given}", wanted(self.arg)))
    }

    /// The arguments for `values` (scalars written as on the command
    /// line), checked by parsing them as a command line.
    fn arguments<E: de::Error>(&self, values: Vec<String>) -> Result<Vec<String>, E> {
        let long = self.arg.get_long().unwrap_or_default();
        let args: Vec<String> = values
            .iter()
            .map(|value| format!("--{long}={value}"))
            .collect();
        let line = std::iter::once("DETECTOR".to_string()).chain(args.iter().cloned());
        match self.command.clone().try_get_matches_from(line) {
            Ok(_) => Ok(args),
            Err(error) => {
                // `--threads: needs at least 1 thread` → `needs at least 1 thread`.
                let message = super::describe(&error);
                let flag = format!("--{long}");
                let cause = message.strip_prefix(&flag).unwrap_or(&message);
                let cause = cause.strip_prefix(": ").unwrap_or(cause.trim_start());
                Err(self.fail(cause.to_string()))
            }
        }
    }

    fn scalar<E: de::Error>(self, text: String) -> Result<Vec<String>, E> {
        if !self.arg.get_action().takes_values() {
            return Err(self.wrong_type(&format!("'{text}'")));
        }
        self.arguments(vec![text])
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", wanted(self.arg))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Vec<String>, E> {
        if self.arg.get_action().takes_values() {
            return Err(self.wrong_type(&value.to_string()));
        }
        let long = self.arg.get_long().unwrap_or_default();
        Ok(if value {
            vec![format!("--{long}")]
        } else {
            Vec::new()
        })
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Vec<String>, E> {
        self.scalar(value.to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Vec<String>, E> {
        self.scalar(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Vec<String>, E> {
        self.scalar(value.to_string())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Vec<String>, E> {
        self.scalar(value.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
        if self.arg.get_action().takes_values() {
            Err(self.fail(format!("needs {}", wanted(self.arg))))
        } else {
            Err(self.wrong_type("an empty value"))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<String>, E> {
        self.visit_unit()
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<String>, S::Error> {
        if !repeats(self.arg) {
            return Err(if self.arg.get_action().takes_values() {
                self.fail("takes one value, not a list".to_string())
            } else {
                self.wrong_type("a list")
            });
        }
        let mut values = Vec::new();
        while let Some(value) = seq.next_element::<serde_norway::Value>()? {
            match scalar_text(&value) {
                Some(text) => values.push(text),
                None => return Err(self.fail("a list of values, one per item".to_string())),
            }
        }
        self.arguments(values)
    }

    fn visit_map<M: MapAccess<'de>>(self, _map: M) -> Result<Vec<String>, M::Error> {
        Err(self.wrong_type("a mapping"))
    }
}

/// A string or a number, as written on a command line.
fn scalar_text(value: &serde_norway::Value) -> Option<String> {
    match value {
        serde_norway::Value::String(text) => Some(text.clone()),
        serde_norway::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `inputs:`: a file name or a list of them.
struct InputsSeed<'a> {
    failure: &'a RefCell<Option<String>>,
}

impl InputsSeed<'_> {
    fn wrong<E: de::Error>(&self) -> E {
        fail(
            self.failure,
            format!(
                "{}: expected a file name or a list of them",
                super::INPUTS_KEY
            ),
        )
    }
}

impl<'de> DeserializeSeed<'de> for InputsSeed<'_> {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InputsSeed<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a file name or a list of them")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Vec<String>, E> {
        Ok(vec![value.to_string()])
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Vec<String>, E> {
        Ok(vec![value.to_string()])
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Vec<String>, E> {
        Ok(vec![value.to_string()])
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<String>, E> {
        Err(self.wrong())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<String>, E> {
        Err(self.wrong())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
        Err(self.wrong())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<String>, S::Error> {
        let mut files = Vec::new();
        while let Some(value) = seq.next_element::<serde_norway::Value>()? {
            match scalar_text(&value) {
                Some(path) => files.push(path),
                None => return Err(self.wrong()),
            }
        }
        Ok(files)
    }

    fn visit_map<M: MapAccess<'de>>(self, _map: M) -> Result<Vec<String>, M::Error> {
        Err(self.wrong())
    }
}
