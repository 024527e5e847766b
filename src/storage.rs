//! The browser's local storage, as typed JSON under versioned keys. Everything the user
//! makes (saved runs, imported lessons, course progress, settings) lives here and survives a
//! reload.
//!
//! Nothing a user made is lost: a value that does not parse (a bad import, a newer or older
//! format) is never overwritten silently — [`load`] returns the error and the raw text is
//! copied to `<key>.unreadable` by [`quarantine`] before anything new is written.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Saved runs: `Vec<crate::saved::SavedRun>`.
pub const SAVED_RUNS: &str = "distlab.saved-runs.v1";
/// Imported lessons: their source text and where they came from.
pub const IMPORTED_LESSONS: &str = "distlab.lessons.v1";
/// Course progress per lesson id.
pub const PROGRESS: &str = "distlab.progress.v1";
/// Display settings (theme, presentation mode).
pub const SETTINGS: &str = "distlab.settings.v1";

fn store() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The raw text under `key` (`None`: absent, or storage unavailable, e.g. disabled).
pub fn raw(key: &str) -> Option<String> {
    store()?.get_item(key).ok()?
}

/// The value under `key`: `Ok(None)` when absent, `Err` (saying what is wrong) when the
/// text is not a `T`.
pub fn load<T: DeserializeOwned>(key: &str) -> Result<Option<T>, String> {
    match raw(key) {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("the stored data under \"{key}\" cannot be read ({e})")),
    }
}

/// The value under `key`, or `T::default()` when it is absent or unreadable (an unreadable
/// value is first kept aside by [`quarantine`], so saving the default cannot lose it).
pub fn load_or_default<T: DeserializeOwned + Default>(key: &str) -> T {
    match load(key) {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => {
            quarantine(key);
            T::default()
        }
    }
}

/// Writes `value` under `key`. Errors when storage is unavailable or full (the message
/// says so, for the page to show).
pub fn save<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), String> {
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    let s = store().ok_or("this browser does not allow local storage here")?;
    s.set_item(key, &text).map_err(|_| {
        "the browser's local storage is full or disabled: nothing was saved".to_string()
    })
}

/// Copies the raw text under `key` to `<key>.unreadable` (once: an earlier copy is kept),
/// so a value this version cannot read is never lost when a new one is written.
pub fn quarantine(key: &str) {
    let aside = format!("{key}.unreadable");
    if let (Some(s), Some(text)) = (store(), raw(key)) {
        if raw(&aside).is_none() {
            let _ = s.set_item(&aside, &text);
        }
    }
}

/// Removes `key`.
pub fn remove(key: &str) {
    if let Some(s) = store() {
        let _ = s.remove_item(key);
    }
}
