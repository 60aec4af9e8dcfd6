use super::*;
use std::io::Write as _;

fn args(list: &[&str]) -> Result<Invocation, String> {
    parse_args(list.iter().map(|s| s.to_string()))
}

fn run(list: &[&str]) -> Options {
    match args(list) {
        Ok(Invocation::Run(options)) => options,
        other => panic!("{list:?}: expected options, got {other:?}"),
    }
}

fn files(options: &Options) -> Vec<(&str, InputFormat)> {
    options
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.format))
        .collect()
}

/// A config file with `text`, kept while the test runs.
fn config(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn path(file: &tempfile::NamedTempFile) -> &str {
    file.path().to_str().unwrap()
}

#[test]
fn the_command_is_well_formed() {
    command().debug_assert();
}

#[test]
fn parses_files_now_strict_and_rejects() {
    let options = run(&[
        "a.jsonl",
        "--now",
        "2024-05-28T12:00:00Z",
        "--strict",
        "b.jsonl",
        "--rejects=bad.jsonl",
        "--output-file",
        "rows.jsonl",
    ]);
    assert_eq!(
        files(&options),
        [
            ("a.jsonl", InputFormat::Auto),
            ("b.jsonl", InputFormat::Auto)
        ]
    );
    assert!(options.strict);
    assert_eq!(options.now, text::parse_datetime("2024-05-28T12:00:00Z"));
    assert_eq!(options.rejects.as_deref(), Some("bad.jsonl"));
    assert_eq!(options.output_file.as_deref(), Some("rows.jsonl"));
    assert!(run(&["--now=2024-05-28"]).now.is_some());
}

#[test]
fn defaults_are_those_of_a_plain_run() {
    let options = run(&[]);
    assert_eq!(
        options,
        Options {
            threads: 1,
            max_memory: Some(DEFAULT_MAX_MEMORY),
            ..Options::default()
        }
    );
    assert!(!options.live.is_live());
}

#[test]
fn an_input_format_applies_to_the_files_after_it_and_a_single_one_to_all() {
    let options = run(&["a", "--input-format", "aks", "b", "--input-format=eks", "c"]);
    assert_eq!(
        files(&options),
        [
            ("a", InputFormat::Aks),
            ("b", InputFormat::Aks),
            ("c", InputFormat::Eks)
        ]
    );
    let options = run(&["a", "b", "--input-format", "gke"]);
    assert_eq!(
        files(&options),
        [("a", InputFormat::Gke), ("b", InputFormat::Gke)]
    );
    let options = run(&["--input-format", "k8s"]);
    assert_eq!(files(&options), [("-", InputFormat::K8s)]);
    assert_eq!(
        args(&["--input-format", "yaml"]).unwrap_err(),
        "--input-format: unknown format 'yaml' (expected one of auto, cloudaudit, k8s, aks, eks, gke, arm)"
    );
}

#[test]
fn version_rules_and_output_options() {
    assert_eq!(
        args(&["--version"]),
        Ok(Invocation::Version { json: false })
    );
    assert_eq!(args(&["-V"]), Ok(Invocation::Version { json: false }));
    assert_eq!(
        args(&["--json", "--version"]),
        Ok(Invocation::Version { json: true })
    );
    assert_eq!(
        args(&["--rules", "r1"]),
        Ok(Invocation::Rules(Some("r1".into())))
    );
    assert_eq!(
        args(&["--rules=r1"]),
        Ok(Invocation::Rules(Some("r1".into())))
    );
    assert_eq!(args(&["--rules"]), Ok(Invocation::Rules(None)));
    assert_eq!(args(&["--rules", "--version"]), Ok(Invocation::Rules(None)));
    assert_eq!(args(&["--help"]), Ok(Invocation::Help));
    assert_eq!(args(&["a.jsonl", "-h"]), Ok(Invocation::Help));
    assert_eq!(run(&["--output", "alerts", "f"]).output, OutputKind::Alerts);
    let ocsf = run(&["--output", "ocsf", "f"]);
    assert!(ocsf.alerts() && ocsf.output.ocsf());
    assert!(!run(&["--output=rows"]).alerts());
    assert_eq!(
        args(&["--output", "xml"]).unwrap_err(),
        "--output: 'xml' is not rows, alerts or ocsf"
    );
}

#[test]
fn threads_are_between_one_and_the_cap() {
    assert_eq!(run(&["--threads", "256"]).threads, MAX_THREADS);
    for n in [
        "257",
        "100000",
        "18446744073709551616",
        "99999999999999999999999",
    ] {
        assert_eq!(
            args(&["--threads", n]).unwrap_err(),
            format!("--threads: {n} is more than the limit of 256 threads")
        );
    }
    assert_eq!(
        args(&["--threads=0"]).unwrap_err(),
        "--threads: needs at least 1 thread"
    );
    assert_eq!(
        args(&["--threads", "-1"]).unwrap_err(),
        "--threads: '-1' is not a number of threads (a whole number, at least 1)"
    );
}

#[test]
fn bad_flags_are_one_message_naming_them() {
    assert_eq!(
        args(&["--now", "yesterday"]).unwrap_err(),
        "--now: 'yesterday' is not a datetime (expected ISO 8601, e.g. 2024-05-28T12:00:00Z)"
    );
    assert_eq!(
        args(&["--now"]).unwrap_err(),
        "--now needs a value (--now DATETIME)"
    );
    assert_eq!(args(&["--zzz"]).unwrap_err(), "unknown option '--zzz'");
    assert_eq!(
        args(&["--folow", "a.log"]).unwrap_err(),
        "unknown option '--folow' (did you mean '--follow'?)"
    );
    assert_eq!(
        args(&["--strict=yes"]).unwrap_err(),
        "--strict takes no value (given 'yes')"
    );
    assert_eq!(
        args(&["--queue", "0"]).unwrap_err(),
        "--queue: '0' is not a number of batches (a whole number, at least 1)"
    );
    assert_eq!(
        args(&["--clock", "cpu"]).unwrap_err(),
        "--clock: 'cpu' is not wall or event"
    );
    // Cross-option checks.
    assert_eq!(
        args(&["--token-file", "t"]).unwrap_err(),
        "--token-file needs --listen ADDR"
    );
    assert_eq!(
        args(&["--nats", "nats://127.0.0.1:4222", "--stream", "s"]).unwrap_err(),
        "--nats needs --consumer NAME"
    );
    assert_eq!(
        args(&["--follow"]).unwrap_err(),
        "--follow needs files or globs to follow"
    );
    // A valued option takes the next argument, whatever it looks like.
    assert_eq!(
        run(&["--output-file", "--strict"]).output_file.as_deref(),
        Some("--strict")
    );
}

#[test]
fn flags_keep_their_syntax() {
    let options = run(&["--full-parse", "--no-prefilter"]);
    assert!(options.full_parse && options.no_prefilter);
    assert!(run(&["--validate"]).no_prefilter);
    assert!(run(&["--line-by-line"]).line_by_line);
    // `--` ends the options; `-` alone is stdin.
    assert_eq!(
        files(&run(&["--", "--strict", "-x"])),
        [("--strict", InputFormat::Auto), ("-x", InputFormat::Auto)]
    );
    assert_eq!(files(&run(&["-"])), [("-", InputFormat::Auto)]);
    assert_eq!(args(&["-x"]).unwrap_err(), "unknown option '-x'");
    // The last of a repeated option wins.
    assert_eq!(run(&["--threads", "2", "--threads", "3"]).threads, 3);
    let live = run(&[
        "--follow",
        "a.log",
        "--state",
        "/tmp/s",
        "--checkpoint-interval",
        "250ms",
        "--clock",
        "event",
        "--max-buffered-rows",
        "10",
        "--metrics",
        "127.0.0.1:0",
        "--no-landlock",
    ]);
    assert!(live.live.follow && live.live.no_landlock);
    assert_eq!(
        live.live.checkpoint_interval,
        Some(std::time::Duration::from_millis(250))
    );
    assert_eq!(live.live.clock, crate::schedule::ClockKind::Event);
    assert_eq!(live.live.max_buffered_rows(), 10);
}

#[test]
fn max_memory_takes_sizes_and_none() {
    let max = |a: &[&str]| match args(a) {
        Ok(Invocation::Run(options)) => Ok(options.max_memory),
        Ok(_) => Err("not a run".to_string()),
        Err(e) => Err(e),
    };
    assert_eq!(max(&[]), Ok(Some(DEFAULT_MAX_MEMORY)));
    assert_eq!(max(&["--max-memory", "512M"]), Ok(Some(512 << 20)));
    assert_eq!(max(&["--max-memory", "2GiB"]), Ok(Some(2 << 30)));
    assert_eq!(max(&["--max-memory=1000"]), Ok(Some(1000)));
    assert_eq!(max(&["--max-memory", "none"]), Ok(None));
    assert_eq!(
        max(&["--max-memory", "lots"]).unwrap_err(),
        "--max-memory: 'lots' is not a size (e.g. 512M, 4G, or none)"
    );
}

#[test]
fn help_groups_the_options_by_topic() {
    let help = help_text("det");
    if std::env::var_os("KQLC_PRINT_HELP").is_some() {
        println!("{help}");
    }
    let mut at = 0;
    for heading in [
        heading::INPUT,
        heading::OUTPUT,
        heading::TIME,
        heading::LIMITS,
        heading::LIVE,
        heading::WEBHOOK,
        heading::NATS,
        heading::STATE,
        heading::SANDBOX,
        heading::GENERAL,
    ] {
        let found = help[at..]
            .find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("no heading {heading:?} after byte {at}:\n{help}"));
        at += found + 1;
    }
    assert!(help.contains("Usage: det [OPTIONS] [FILE]..."), "{help}");
    // Each option is under its topic.
    let section = |heading: &str| {
        let start = help.find(&format!("\n{heading}:\n")).unwrap();
        let rest = &help[start + 1..];
        let end = rest[1..].find("\n\n").map_or(rest.len(), |e| e + 1);
        rest[..end].to_string()
    };
    assert!(section(heading::WEBHOOK).contains("--tls-cert <FILE>"));
    assert!(section(heading::NATS).contains("--consumer <NAME>"));
    assert!(section(heading::LIMITS).contains("--threads <N>"));
    assert!(section(heading::GENERAL).contains("--config <FILE>"));
    // Continuation lines stay indented under their option.
    for line in help.lines() {
        assert!(
            line.is_empty()
                || line.starts_with("  ")
                || line.ends_with(':')
                || line.starts_with("Usage:")
                || !line.starts_with(' '),
            "{line:?}"
        );
    }
}

#[test]
fn a_config_file_sets_options_and_inputs() {
    let file = config(
        "# a service\n\
         inputs: [a.log, b.log]\n\
         follow: true\n\
         threads: 2\n\
         now: 2024-05-28T12:00:00Z\n\
         output: alerts\n\
         max-memory: 512M\n\
         checkpoint-interval: 5s\n\
         state: /var/lib/kql\n\
         input-format: k8s\n\
         validate: true\n\
         line-by-line: false\n",
    );
    let options = run(&["--config", path(&file)]);
    assert_eq!(
        files(&options),
        [("a.log", InputFormat::K8s), ("b.log", InputFormat::K8s)]
    );
    assert!(options.live.follow && options.no_prefilter && !options.line_by_line);
    assert_eq!(options.threads, 2);
    assert_eq!(options.now, text::parse_datetime("2024-05-28T12:00:00Z"));
    assert_eq!(options.output, OutputKind::Alerts);
    assert_eq!(options.max_memory, Some(512 << 20));
    assert_eq!(options.live.state.as_deref(), Some("/var/lib/kql"));
    assert_eq!(
        options.live.checkpoint_interval,
        Some(std::time::Duration::from_secs(5))
    );
    // The same as the flags.
    let flags = run(&[
        "a.log",
        "b.log",
        "--follow",
        "--threads",
        "2",
        "--now",
        "2024-05-28T12:00:00Z",
        "--output",
        "alerts",
        "--max-memory",
        "512M",
        "--checkpoint-interval",
        "5s",
        "--state",
        "/var/lib/kql",
        "--input-format",
        "k8s",
        "--validate",
    ]);
    assert_eq!(options, flags);
    // An empty file sets nothing.
    let empty = config("# nothing yet\n");
    assert_eq!(run(&["--config", path(&empty)]), run(&[]));
}

#[test]
fn the_command_line_overrides_the_config_file() {
    let file = config(
        "inputs: from-config.jsonl\n\
         threads: 2\n\
         now: 2024-05-28T12:00:00Z\n\
         input-format: k8s\n\
         strict: true\n",
    );
    let options = run(&["--threads", "3", "--config", path(&file)]);
    assert_eq!(options.threads, 3);
    assert!(options.strict);
    assert_eq!(options.now, text::parse_datetime("2024-05-28T12:00:00Z"));
    assert_eq!(files(&options), [("from-config.jsonl", InputFormat::K8s)]);
    // Files on the command line replace `inputs:`; they take the file's
    // format unless the command line gives one.
    let options = run(&["--config", path(&file), "x.jsonl"]);
    assert_eq!(files(&options), [("x.jsonl", InputFormat::K8s)]);
    let options = run(&["--config", path(&file), "--input-format=eks", "x.jsonl"]);
    assert_eq!(files(&options), [("x.jsonl", InputFormat::Eks)]);
    // A bad value on the command line is still the command line's error.
    assert_eq!(
        args(&["--config", path(&file), "--threads", "0"]).unwrap_err(),
        "--threads: needs at least 1 thread"
    );
    // The config's options are checked with the command line's.
    let follow = config("follow: true\n");
    assert_eq!(
        args(&["--config", path(&follow)]).unwrap_err(),
        "--follow needs files or globs to follow"
    );
    assert!(run(&["--config", path(&follow), "a.log"]).live.follow);
}

#[test]
fn list_values_are_yaml_lists() {
    let one = config("inputs: a.jsonl\n");
    assert_eq!(
        files(&run(&["--config", path(&one)])),
        [("a.jsonl", InputFormat::Auto)]
    );
    let many = config("inputs:\n  - a.jsonl\n  - b.jsonl\n  - 2024\n");
    assert_eq!(
        files(&run(&["--config", path(&many)])),
        [
            ("a.jsonl", InputFormat::Auto),
            ("b.jsonl", InputFormat::Auto),
            ("2024", InputFormat::Auto)
        ]
    );
    let command = command();
    let error = config::parse("threads: [1, 2]\n", &command).unwrap_err();
    assert_eq!(error.message, "threads: takes one value, not a list");
    assert_eq!(error.line, Some(1));
    let error = config::parse("input-format: [k8s, aks]\n", &command).unwrap_err();
    assert_eq!(error.message, "input-format: takes one value, not a list");
    let error = config::parse("inputs: [a, {b: c}]\n", &command).unwrap_err();
    assert_eq!(
        error.message,
        "inputs: expected a file name or a list of them"
    );
}

#[test]
fn a_repeatable_option_takes_a_yaml_list() {
    // No option of the detector repeats yet (`--input-format` is read by
    // position); one that does, such as a `Vec<String>` field, takes a list.
    let command = clap::Command::new("DETECTOR")
        .arg(
            clap::Arg::new("setting")
                .long("setting")
                .action(clap::ArgAction::Append),
        )
        .arg(clap::Arg::new("one").long("one"));
    let config = config::parse("setting: [a=1, 'b=2', 3]\none: x\n", &command).unwrap();
    assert_eq!(
        config.settings,
        [
            config::Setting {
                id: "setting".to_string(),
                args: vec![
                    "--setting=a=1".to_string(),
                    "--setting=b=2".to_string(),
                    "--setting=3".to_string()
                ],
            },
            config::Setting {
                id: "one".to_string(),
                args: vec!["--one=x".to_string()],
            }
        ]
    );
    let single = config::parse("setting: a=1\n", &command).unwrap();
    assert_eq!(single.settings[0].args, ["--setting=a=1"]);
    let error = config::parse("setting: [a, [b]]\n", &command).unwrap_err();
    assert_eq!(error.message, "setting: a list of values, one per item");
}

#[test]
fn config_errors_name_the_file_the_line_and_the_key() {
    let file = config("threads: 2\nfolow: true\n");
    assert_eq!(
        args(&["--config", path(&file)]).unwrap_err(),
        format!(
            "--config {}:2: unknown key 'folow' (did you mean 'follow'?)",
            path(&file)
        )
    );
    let missing = "/nonexistent/detector.yaml";
    let error = args(&["--config", missing]).unwrap_err();
    assert!(
        error.starts_with("--config /nonexistent/detector.yaml: cannot read: "),
        "{error}"
    );
    let command = command();
    let error = |text: &str| config::parse(text, &command).unwrap_err();
    let cases = [
        // Unknown keys.
        (
            "# x\nspeed: fast\n",
            2,
            "unknown key 'speed' (keys are the long options without '--', and inputs)",
        ),
        (
            "input: [a]\n",
            1,
            "unknown key 'input' (did you mean 'inputs'?)",
        ),
        // Wrong types.
        (
            "follow: yes\n",
            1,
            "follow: expected true or false, not 'yes'",
        ),
        ("follow: 1\n", 1, "follow: expected true or false, not '1'"),
        (
            "threads: true\n",
            1,
            "threads: expected a value (N), not true",
        ),
        (
            "listen:\n  port: 8443\n",
            2,
            "listen: expected a value (ADDR), not a mapping",
        ),
        (
            "a: 1\n",
            1,
            "unknown key 'a' (keys are the long options without '--', and inputs)",
        ),
        ("now:\n", 1, "now: needs a value (DATETIME)"),
        (
            "strict: [true]\n",
            1,
            "strict: expected true or false, not a list",
        ),
        // Bad values: the command line's message.
        (
            "threads: 2\nthreads: 3\n",
            2,
            "threads: given twice (a key is set once)",
        ),
        (
            "validate: true\nno-prefilter: true\n",
            2,
            "no-prefilter: given twice (a key is set once)",
        ),
        ("\n\nthreads: 0\n", 3, "threads: needs at least 1 thread"),
        (
            "max-memory: lots\n",
            1,
            "max-memory: 'lots' is not a size (e.g. 512M, 4G, or none)",
        ),
        (
            "output: xml\n",
            1,
            "output: 'xml' is not rows, alerts or ocsf",
        ),
        ("clock: cpu\n", 1, "clock: 'cpu' is not wall or event"),
        (
            "now: yesterday\n",
            1,
            "now: 'yesterday' is not a datetime (expected ISO 8601, e.g. 2024-05-28T12:00:00Z)",
        ),
        // Actions of the command line.
        (
            "config: other.yaml\n",
            1,
            "config: a config file cannot name another one",
        ),
        (
            "version: true\n",
            1,
            "version: an action of the command line, not a setting",
        ),
    ];
    for (text, line, message) in cases {
        let got = error(text);
        assert_eq!(
            (got.line, got.message.as_str()),
            (Some(line), message),
            "{text:?}"
        );
    }
    // Not a mapping, or not YAML: the YAML library's message, which says where.
    let not_a_mapping = error("- threads\n");
    assert!(
        not_a_mapping
            .message
            .contains("expected a mapping of option names to values"),
        "{not_a_mapping:?}"
    );
    let syntax = error("threads: 2\nfollow: 'open\n");
    assert!(syntax.message.contains("line 2"), "{syntax:?}");
}
