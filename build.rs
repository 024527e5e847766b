//! Resolves the built-in lessons at build time: parse and validate every `lessons/*.toml`
//! (a broken lesson fails the build with its file and line), resolve each step's run and
//! render its narration to safe HTML, and write them as JSON for the app to include.

use distlab_sim::lesson::{Lesson, BUILT_IN};
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=lessons");
    let mut resolved = Vec::new();
    for (file, text) in BUILT_IN {
        let lesson = Lesson::parse(text)
            .unwrap_or_else(|e| panic!("lessons/{file}:{}: {}", e.line, e.message));
        resolved.push(
            lesson
                .resolve()
                .unwrap_or_else(|e| panic!("lessons/{file}: {e}")),
        );
    }
    // The Raft presets, as a lesson of their own (the "Raft lab").
    println!("cargo:rerun-if-changed=crates/sim/src/models/raft/presets.rs");
    resolved.push(distlab_sim::models::raft::presets::lab_lesson());
    resolved.sort_by_key(|l| l.order);
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lessons.json");
    std::fs::write(
        &out,
        serde_json::to_string(&resolved).expect("resolved lessons serialize"),
    )
    .expect("write lessons.json");
}
