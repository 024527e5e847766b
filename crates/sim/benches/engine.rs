//! Engine benchmark: `cargo bench -p distlab-sim [-- EVENTS]`.
//!
//! Prints one `name value` line per metric (see `distlab_sim::bench`): events per second
//! of a run from scratch, and the median and max wall-clock milliseconds of stepping back
//! to a random step and of adding an intervention at a random time. No assertions on time.

fn main() {
    // `cargo bench` passes `--bench`; an optional number sets the workload's event count.
    let events = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(distlab_sim::bench::Config::default().events);
    let config = distlab_sim::bench::Config {
        events,
        ..Default::default()
    };
    println!("{}", distlab_sim::bench::run(&config));
}
