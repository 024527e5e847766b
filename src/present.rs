//! Lecture mode: the global display bar (presentation mode, light and dark themes, the
//! keyboard shortcut list), the lecture keys (`p` presentation mode, `f` full screen, `?`
//! the shortcut list, `1`–`9` a scenario's prepared failures) and the settings they are
//! remembered in (`storage::SETTINGS`).
//!
//! Presentation mode and the theme are classes and attributes on the document's root
//! element (`class="presenting"`, `data-theme="dark|light"`); the stylesheet does the rest
//! (style/main.css, section "presentation mode, themes"), so every page follows them
//! without knowing about them. A lab page offers its prepared failures with
//! [`offer_prepared`] and passes key presses to [`prepared_key`].

use crate::lab::Lab;
use crate::lesson_page::{key_target, KeyTarget};
use crate::storage;
use distlab_sim::models::EngineModel;
use leptos::ev;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use wasm_bindgen::JsCast;

/// How long a toast ("2: partition the leader from the majority") stays on screen.
const TOAST_MS: u64 = 3500;

/// A colour theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// The value of the root element's `data-theme` attribute.
    pub fn attr(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// The display settings kept in local storage under [`storage::SETTINGS`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The chosen theme; `None`: follow the system's `prefers-color-scheme`.
    #[serde(default)]
    pub theme: Option<Theme>,
    /// Whether presentation mode is on.
    #[serde(default)]
    pub presenting: bool,
}

impl Settings {
    /// The theme in effect: the chosen one, else the system's (`system_dark`).
    pub fn effective_theme(&self, system_dark: bool) -> Theme {
        self.theme.unwrap_or(if system_dark {
            Theme::Dark
        } else {
            Theme::Light
        })
    }
}

/// The page's prepared failures as the shortcut list shows them: `None` when the page has
/// no scenario (the home page, the isolation lab), else each failure's label (key 1 first).
type PreparedLabels = Callback<(), Option<Vec<String>>>;

/// The display state shared by every page (made once by [`provide_display`]).
#[derive(Clone, Copy)]
pub struct Display {
    /// The stored settings; every change is applied to the document and saved.
    pub settings: RwSignal<Settings>,
    /// Whether the keyboard shortcut list is open.
    pub shortcuts_open: RwSignal<bool>,
    /// The toast on screen, with a serial number so an old timer does not hide a new one.
    toast: RwSignal<Option<(u64, String)>>,
    /// The current page's prepared failures, with the serial number of the page that
    /// offered them (a page leaving removes only its own offer).
    prepared: RwSignal<Option<(u64, PreparedLabels)>>,
    serial: StoredValue<u64>,
}

impl Display {
    fn next_serial(&self) -> u64 {
        self.serial.update_value(|s| *s += 1);
        self.serial.get_value()
    }

    /// Whether the dark theme is in effect.
    pub fn dark(&self) -> bool {
        self.settings
            .with(|s| s.effective_theme(system_prefers_dark()))
            == Theme::Dark
    }

    /// Turns presentation mode on or off.
    pub fn toggle_presenting(&self) {
        self.settings.update(|s| s.presenting = !s.presenting);
    }

    /// Switches between the light and the dark theme (from then on the choice is kept,
    /// whatever the system prefers).
    pub fn toggle_theme(&self) {
        let dark = self.dark();
        self.settings
            .update(|s| s.theme = Some(if dark { Theme::Light } else { Theme::Dark }));
    }

    /// Shows `text` briefly in the toast (a polite live region).
    pub fn toast(&self, text: String) {
        let id = self.next_serial();
        self.toast.set(Some((id, text)));
        let toast = self.toast;
        set_timeout(
            move || {
                if toast.with_untracked(|t| t.as_ref().is_some_and(|(i, _)| *i == id)) {
                    toast.set(None);
                }
            },
            Duration::from_millis(TOAST_MS),
        );
    }
}

thread_local! {
    /// The app's one display state, also reachable from event listeners (which run
    /// without a reactive owner, so without contexts).
    static DISPLAY: std::cell::Cell<Option<Display>> = const { std::cell::Cell::new(None) };
}

/// The display state, once the app shell has made it with [`provide_display`].
pub fn use_display() -> Option<Display> {
    DISPLAY.with(|d| d.get())
}

/// Creates the display state from the stored settings and applies it to the document
/// (from then on, every change). Called once, by the app shell.
pub fn provide_display() -> Display {
    let settings: Settings = storage::load_or_default(storage::SETTINGS);
    let display = Display {
        settings: RwSignal::new(settings),
        shortcuts_open: RwSignal::new(false),
        toast: RwSignal::new(None),
        prepared: RwSignal::new(None),
        serial: StoredValue::new(0),
    };
    let settings = display.settings;
    Effect::new(move |first: Option<()>| {
        let s = settings.get();
        apply_to_document(&s);
        // The first run applies what was loaded; only changes are written back.
        if first.is_some() {
            let _ = storage::save(storage::SETTINGS, &s);
        }
    });
    DISPLAY.with(|d| d.set(Some(display)));
    display
}

/// Sets the root element's `data-theme` and `presenting` class from `s`.
fn apply_to_document(s: &Settings) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = root.set_attribute(
        "data-theme",
        s.effective_theme(system_prefers_dark()).attr(),
    );
    let _ = root
        .class_list()
        .toggle_with_force("presenting", s.presenting);
}

/// Whether the system asks for a dark colour scheme.
fn system_prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Full screen on or off (the whole document, so the global bar and the toast stay).
fn toggle_fullscreen() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.fullscreen_element().is_some() {
        doc.exit_fullscreen();
    } else if let Some(root) = doc.document_element() {
        // Refused (e.g. not allowed in a frame): nothing to do, the page stays as it is.
        let _ = root.request_fullscreen();
    }
}

/// The digit of a number key `1`–`9` (main row or keypad).
pub fn number_key(key: &str) -> Option<usize> {
    match key.as_bytes() {
        [d @ b'1'..=b'9'] => Some((d - b'0') as usize),
        _ => None,
    }
}

/// The toast for number key `k` given the scenario's prepared failures' labels: the
/// failure applied ("2: partition the leader from the majority"), or why nothing happened.
pub fn prepared_toast(k: usize, labels: &[String]) -> String {
    match labels.get(k.wrapping_sub(1)) {
        Some(label) => format!("{k}: {label}"),
        None if labels.is_empty() => format!("{k}: no prepared failures in this scenario"),
        None => format!(
            "{k}: no prepared failure on this key (this scenario has {} — press ? for the list)",
            if labels.len() == 1 {
                "1".to_string()
            } else {
                format!("1–{}", labels.len())
            }
        ),
    }
}

/// Lets the shortcut list show `lab`'s prepared failures (computed at its cursor) while the
/// calling page is mounted.
pub fn offer_prepared<M: EngineModel + 'static>(lab: Lab<M>) {
    let Some(display) = use_display() else {
        return;
    };
    let id = display.next_serial();
    let labels = Callback::new(move |()| {
        let cursor = lab.cursor.get();
        Some(lab.scenario.with(|s| {
            lab.engine.with(|e| {
                M::prepared(s, e, cursor)
                    .into_iter()
                    .map(|p| p.label)
                    .collect()
            })
        }))
    });
    display.prepared.set(Some((id, labels)));
    on_cleanup(move || {
        if display
            .prepared
            .with_untracked(|p| p.as_ref().is_some_and(|(i, _)| *i == id))
        {
            display.prepared.set(None);
        }
    });
}

/// Number keys `1`–`9` apply the scenario's prepared failure with that number at the
/// cursor's time (each action an intervention through [`Lab::intervene`]) and say so in
/// a toast. Not while typing in a field, nor with a modifier. Returns whether the key was
/// used.
pub fn prepared_key<M: EngineModel + 'static>(
    lab: Lab<M>,
    target: KeyTarget,
    e: &web_sys::KeyboardEvent,
) -> bool {
    if matches!(target, KeyTarget::Field | KeyTarget::Other) {
        return false;
    }
    let Some(k) = number_key(&e.key()) else {
        return false;
    };
    let cursor = lab.cursor.get_untracked();
    let mut prepared = lab
        .scenario
        .with_untracked(|s| lab.engine.with_untracked(|eng| M::prepared(s, eng, cursor)));
    let labels: Vec<String> = prepared.iter().map(|p| p.label.clone()).collect();
    if k <= prepared.len() {
        for action in prepared.swap_remove(k - 1).actions {
            lab.intervene(action);
        }
    }
    if let Some(d) = use_display() {
        d.toast(prepared_toast(k, &labels));
    }
    true
}

/// The global keys: `p` presentation mode, `f` full screen, `?` the shortcut list. Not
/// while typing in a field, nor with Ctrl, Alt or Meta.
fn global_key(display: Display, e: &web_sys::KeyboardEvent) -> bool {
    if matches!(key_target(e), KeyTarget::Field | KeyTarget::Other) {
        return false;
    }
    match e.key().as_str() {
        "p" | "P" => display.toggle_presenting(),
        "f" | "F" => toggle_fullscreen(),
        "?" => display.shortcuts_open.update(|o| *o = !*o),
        _ => return false,
    }
    true
}

/// The keys the shortcut list shows (each row's keys, and what they do), besides the
/// number keys.
pub const SHORTCUTS: [(&[&str], &str); 9] = [
    (&["Space"], "play / pause"),
    (&["←", "→"], "step back / forward"),
    (&["Home", "End"], "go to the start / the end"),
    (
        &["Page Up", "Page Down"],
        "previous / next lesson step (presenter remotes send these)",
    ),
    (&["P"], "presentation mode on / off"),
    (&["F"], "full screen on / off"),
    (&["?"], "this list of shortcuts"),
    (
        &["Escape"],
        "close this list; clear a selection on the diagram",
    ),
    (
        &["Enter"],
        "on a diagram's event: select it (Shift+Enter compares)",
    ),
];

/// The bar on every page: "Presentation mode", the theme toggle and "Keyboard shortcuts"
/// (each a toggle button with `aria-pressed`); the shortcut list dialog; the toast. It
/// listens for the global keys.
#[component]
pub fn GlobalBar() -> impl IntoView {
    let Some(display) = use_display() else {
        return ().into_any();
    };
    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        if !e.default_prevented() && global_key(display, &e) {
            e.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
    let settings = display.settings;
    let presenting = move || settings.with(|s| s.presenting);
    let dark = move || display.dark();
    view! {
        // A named region: a landmark, so nothing here is outside one.
        <section class="display-settings" aria-label="Display">
            <div class="global-bar">
                <button class="gb-present" aria-pressed=move || presenting().to_string() aria-keyshortcuts="p"
                    title="Large type for a lecture hall; the narration as a caption (key P)"
                    on:click=move |_| display.toggle_presenting()>
                    "Presentation mode"
                </button>
                <button class="gb-theme" aria-pressed=move || dark().to_string()
                    title="Switch between the light and the dark theme"
                    on:click=move |_| display.toggle_theme()>
                    "Dark theme"
                </button>
                <button class="gb-keys" aria-haspopup="dialog" aria-keyshortcuts="?"
                    title="Keyboard shortcuts (key ?)"
                    on:click=move |_| display.shortcuts_open.set(true)>
                    "Keyboard shortcuts"
                </button>
            </div>
            <ShortcutList display=display />
            <div class="toast-region" role="status" aria-live="polite">
                {move || display.toast.get().map(|(_, text)| view! { <p class="toast">{text}</p> })}
            </div>
        </section>
    }
    .into_any()
}

/// The shortcut list: a modal `<dialog>` (focus moves into it and back to where it was;
/// Escape or "Close" closes it). While it is open, keys stay in it: the lab behind does
/// not move.
#[component]
fn ShortcutList(display: Display) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let open = display.shortcuts_open;
    Effect::new(move |_| {
        let want = open.get();
        let Some(d) = dialog.get() else {
            return;
        };
        if want && !d.open() {
            let active = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|doc| doc.active_element())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            opener.set_value(active);
            // Fails only if the dialog is not in the document: then it simply stays shut.
            if d.show_modal().is_err() {
                open.set(false);
            }
        } else if !want && d.open() {
            d.close();
        }
    });
    let on_close = move |_| {
        if open.get_untracked() {
            open.set(false);
        }
        if let Some(el) = opener.get_value() {
            if el.is_connected() {
                let _ = el.focus();
            }
        }
        opener.set_value(None);
    };
    let on_key = move |e: web_sys::KeyboardEvent| {
        // The page's keys (play, step, failures) wait until the list is closed.
        e.stop_propagation();
        if e.key() == "?" {
            e.prevent_default();
            open.set(false);
        }
    };
    let failures = move || {
        if !open.get() {
            return None;
        }
        let labels = display
            .prepared
            .with(|p| p.as_ref().map(|(_, cb)| *cb))
            .and_then(|cb| cb.run(()));
        Some(match labels {
            None => view! {
                <p class="sc-none">"Number keys 1–9 trigger a scenario's prepared failures on lesson and lab pages; this page has no scenario."</p>
            }
            .into_any(),
            Some(l) if l.is_empty() => view! {
                <p class="sc-none">"1–9: no prepared failures in this scenario."</p>
            }
            .into_any(),
            Some(l) => view! {
                <table class="sc-table sc-failures">
                    <caption>"Prepared failures (applied at the current step)"</caption>
                    <tbody>
                        {l.into_iter().take(9).enumerate().map(|(i, label)| view! {
                            <tr><th scope="row"><kbd>{(i + 1).to_string()}</kbd></th><td>{label}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
        })
    };
    view! {
        <dialog class="shortcuts" node_ref=dialog aria-labelledby="shortcuts-h"
            on:close=on_close on:keydown=on_key>
            <div class="sc-head">
                <h2 id="shortcuts-h">"Keyboard shortcuts"</h2>
                <button class="sc-close" autofocus=true on:click=move |_| open.set(false)>"Close"</button>
            </div>
            <table class="sc-table">
                <tbody>
                    {SHORTCUTS.iter().map(|(keys, what)| view! {
                        <tr>
                            <th scope="row">{keys.iter().map(|k| view! { <kbd>{*k}</kbd>" " }).collect_view()}</th>
                            <td>{*what}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {failures}
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_keys_are_one_to_nine() {
        assert_eq!(number_key("1"), Some(1));
        assert_eq!(number_key("9"), Some(9));
        assert_eq!(number_key("0"), None);
        assert_eq!(number_key("10"), None);
        assert_eq!(number_key("a"), None);
        assert_eq!(number_key(""), None);
    }

    #[test]
    fn toasts_say_what_the_key_did() {
        let labels = vec![
            "crash the leader (n1)".to_string(),
            "partition the leader from the majority".to_string(),
        ];
        assert_eq!(
            prepared_toast(2, &labels),
            "2: partition the leader from the majority"
        );
        assert_eq!(
            prepared_toast(3, &labels),
            "3: no prepared failure on this key (this scenario has 1–2 — press ? for the list)"
        );
        assert_eq!(
            prepared_toast(1, &[]),
            "1: no prepared failures in this scenario"
        );
    }

    #[test]
    fn settings_round_trip_and_default_to_the_system_theme() {
        let s = Settings::default();
        assert_eq!(s.effective_theme(true), Theme::Dark);
        assert_eq!(s.effective_theme(false), Theme::Light);
        let chosen = Settings {
            theme: Some(Theme::Light),
            presenting: true,
        };
        assert_eq!(chosen.effective_theme(true), Theme::Light);
        let text = serde_json::to_string(&chosen).unwrap();
        assert_eq!(text, r#"{"theme":"light","presenting":true}"#);
        assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), chosen);
        // Older or partial settings still load.
        assert_eq!(
            serde_json::from_str::<Settings>("{}").unwrap(),
            Settings::default()
        );
    }
}
