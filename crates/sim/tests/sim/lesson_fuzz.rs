//! Lesson files from anywhere (a teacher's file opened in the page, a broken edit): the
//! whole path build.rs and the page's lesson opener take — `Lesson::parse` (syntax and
//! validation, which runs every step) then `resolve` — returns a lesson or an error on any
//! text, never panics; an error's line exists in the text; and text written in lessons
//! cannot inject markup or script into the page.

use crate::common::cases;
use distlab_sim::lesson::{markdown_to_safe_html, Lesson, LessonError, BUILT_IN};
use proptest::prelude::*;

/// The path a lesson file takes: parse (with validation), then resolve.
fn open(text: &str) -> Result<(), LessonError> {
    let l = Lesson::parse(text)?;
    l.resolve()
        .map_err(|message| LessonError { line: 0, message })?;
    Ok(())
}

/// An error's line, when it has one (0 = none), is a line of `text`.
fn line_exists(text: &str, e: &LessonError) {
    let lines = text.lines().count().max(1);
    assert!(
        e.line <= lines,
        "error on line {} of a {lines}-line text: {}",
        e.line,
        e.message
    );
    assert!(!e.message.is_empty());
}

/// One way to damage a lesson file.
#[derive(Clone, Debug)]
enum Mutation {
    /// Delete line `at` (modulo the number of lines).
    DeleteLine(usize),
    /// Duplicate line `at`.
    DuplicateLine(usize),
    /// Replace the character at `at` (modulo the number of characters) by `c`.
    Replace(usize, char),
    /// Insert `c` before the character at `at`.
    Insert(usize, char),
    /// Cut the text after `at` characters.
    Truncate(usize),
}

/// Characters that matter to TOML and to lessons, and a few others.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            '"', '\'', '=', '[', ']', '{', '}', ',', '.', '#', '\n', ' ', '0', '1', '9', '-',
            '\\', 'a', 'z', 'é', '\u{0}', '<', '>',
        ]),
        1 => any::<char>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        3 => (any::<usize>(), interesting_char()).prop_map(|(a, c)| Mutation::Replace(a, c)),
        2 => (any::<usize>(), interesting_char()).prop_map(|(a, c)| Mutation::Insert(a, c)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::DeleteLine(at) | Mutation::DuplicateLine(at) => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let i = at % lines.len();
            if matches!(m, Mutation::DeleteLine(_)) {
                lines.remove(i);
            } else {
                lines.insert(i, lines[i]);
            }
            lines.join("\n")
        }
        Mutation::Replace(at, c) | Mutation::Insert(at, c) => {
            let mut chars: Vec<char> = text.chars().collect();
            if chars.is_empty() {
                return c.to_string();
            }
            let i = at % chars.len();
            if matches!(m, Mutation::Replace(..)) {
                chars[i] = *c;
            } else {
                chars.insert(i, *c);
            }
            chars.into_iter().collect()
        }
        Mutation::Truncate(at) => {
            let n = text.chars().count();
            text.chars().take(at % (n + 1)).collect()
        }
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn any_text_gives_a_lesson_or_an_error(text in ".*") {
        if let Err(e) = open(&text) {
            line_exists(&text, &e);
        }
    }

    /// A lesson's head followed by random TOML-ish text.
    #[test]
    fn lesson_like_text_gives_a_lesson_or_an_error(
        tail in prop::collection::vec(
            prop_oneof![
                Just("[scenario]".to_string()),
                Just("[[step]]".to_string()),
                Just("title = \"t\"".to_string()),
                Just("text = \"x\"".to_string()),
                Just("until = { returned = \"r\" }".to_string()),
                Just("question = { ask = \"?\", predict = \"r\" }".to_string()),
                Just("nodes = [{ name = \"A\" }, { name = \"B\" }]".to_string()),
                "[a-z_]{1,8} = [0-9]{1,4}",
                "[a-z_]{1,8} = \"[a-z ]{0,8}\"",
                ".{0,20}",
            ],
            0..14,
        ),
        model in prop::sample::select(vec!["replication", "clocks", "raft", "paxos", "quorum", "leaderless", "isolation", "x"]),
    ) {
        let text = format!(
            "id = \"f\"\ntitle = \"F\"\nsummary = \"S\"\nmodel = \"{model}\"\n{}\n",
            tail.join("\n")
        );
        if let Err(e) = open(&text) {
            line_exists(&text, &e);
        }
    }
}

proptest! {
    #![proptest_config(cases(48))]

    /// Every built-in lesson with one to three random damages.
    #[test]
    fn damaged_built_in_lessons_give_a_lesson_or_an_error(
        file in 0..BUILT_IN.len(),
        ms in prop::collection::vec(mutation(), 1..=3),
    ) {
        let mut text = BUILT_IN[file].1.to_string();
        for m in &ms {
            text = apply(&text, m);
        }
        if let Err(e) = open(&text) {
            line_exists(&text, &e);
        }
    }
}

/// Errors point at the line they concern, also at the very end of a file.
#[test]
fn a_syntax_error_at_the_end_is_on_the_last_line() {
    for text in [
        "id = \"a\"\ntitle = \"\n",
        "id = \"a\"\n[[step]\n",
        "id = \"a\"\nx = ",
    ] {
        let e = Lesson::parse(text).unwrap_err();
        line_exists(text, &e);
        assert!(e.line >= 1, "{e}");
    }
}

const HOSTILE: &str = "<script>alert(1)</script> and <img src=x onerror=alert(1)>";

/// A replication lesson whose every text carries markup and script.
fn hostile_lesson() -> String {
    format!(
        r#"id = "hostile"
title = "{h}"
summary = "{h}"
model = "replication"

[scenario]
leader = {{ name = "leader" }}
followers = [{{ name = "f" }}]
clients = [{{ name = "c" }}]
actions = [{{ at = 10, action = "write", client = "c", key = "k", value = "{h}", label = "w" }}]

[[step]]
title = "{h}"
text = """
{h}

<div onclick="alert(1)">raw block</div>

[click](javascript:alert(1)) [again](JavaScript:alert(2)) [tab](java&#9;script:alert(3))
[data](data:text/html,<script>alert(4)</script>) <javascript:alert(5)> [vb](vbscript:x)
![img](javascript:alert(6)) [fine](https://example.org) [local](/lesson/x?step=2) [frag](#top)
"""
question = {{ ask = "{h} [x](javascript:alert(7))", options = ["{h}", "b"], answer = "b", explain = "{h}" }}
"#,
        h = HOSTILE.replace('"', "\\\"")
    )
}

/// No tag of `html` is markup that a lesson wrote, and no link or image source can run
/// script (text that merely mentions `javascript:` is fine).
fn no_markup(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "<img src=x",
        "<img src=\"x",
        "<div",
        "href=\"javascript",
        "src=\"javascript",
        "href=\"vbscript",
        "href=\"data:",
        "src=\"data:",
    ] {
        assert!(!lower.contains(bad), "{bad} in {html}");
    }
}

#[test]
fn markup_and_script_in_lessons_come_out_as_text() {
    let l = Lesson::parse(&hostile_lesson()).unwrap_or_else(|e| panic!("{e}"));
    let r = l.resolve().unwrap();
    let step = &r.steps[0];
    no_markup(&step.html);
    assert!(
        step.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        step.html
    );
    assert!(
        step.html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        step.html
    );
    // Safe links stay links.
    assert!(
        step.html.contains("href=\"https://example.org\""),
        "{}",
        step.html
    );
    assert!(
        step.html.contains("href=\"/lesson/x?step=2\""),
        "{}",
        step.html
    );
    assert!(step.html.contains("href=\"#top\""), "{}", step.html);
    // Dangerous ones are not clickable: they point nowhere.
    assert_eq!(
        step.html.matches("=\"#blocked\"").count(),
        7,
        "{}",
        step.html
    );
    let q = step.question.as_ref().unwrap();
    no_markup(&q.html);
    no_markup(q.explain.as_deref().unwrap());
    // Titles, summaries and options are plain text (the page writes them as text nodes):
    // kept exactly as written, never turned into HTML.
    assert_eq!(r.title, HOSTILE);
    assert_eq!(step.title, HOSTILE);
    assert_eq!(q.pose(None).unwrap().options[0], HOSTILE);
}

#[test]
fn dangerous_link_schemes_are_blocked_in_any_spelling() {
    for md in [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](<java\tscript:alert(1)>)",
        "[x](&#x6A;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![x](javascript:alert(1))",
    ] {
        let h = markdown_to_safe_html(md);
        no_markup(&h);
        assert!(h.contains("\"#blocked\""), "{md} → {h}");
    }
    for (md, href) in [
        ("[x](http://a.b/c)", "http://a.b/c"),
        ("[x](mailto:t@a.b)", "mailto:t@a.b"),
        ("[x](lesson/y)", "lesson/y"),
        ("[x](?step=3)", "?step=3"),
    ] {
        assert!(
            markdown_to_safe_html(md).contains(&format!("href=\"{href}\"")),
            "{md}"
        );
    }
}
