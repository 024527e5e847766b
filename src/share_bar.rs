//! The share bar under a lab's transport: the run as a link (copied, and shown in a field
//! so it works without clipboard permission), as a QR code big enough for a projector, saved
//! to the browser's saved runs, or exported (the diagram as SVG or PNG, the run as JSON,
//! the client history as the checker's JSON).
//!
//! A link is the page's own address with `run=<code>` ([`RunLink::encode`]): opening it
//! ([`open_link`]) rebuilds exactly that run — the engine is deterministic, so the same
//! scenario and interventions give the identical trace — and puts the learner at the same
//! step and zoom. A damaged or foreign code is reported in words ([`link_problem`]) and the
//! page shows its own run instead.

use crate::history_panel::RunHistory;
use crate::lab::Lab;
use crate::saved;
use distlab_sim::models::txn::ast::IsolationLevel;
use distlab_sim::models::EngineModel;
use distlab_sim::share::{isolation_key, isolation_level, LinkError, RunLink};
use distlab_sim::Engine;
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;
use qrcodegen::{QrCode, QrCodeEcc};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Where a run is shared from: the page its link opens, and how its files are named.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The page's path, e.g. `/lesson/raft` or `/lab/async`.
    pub path: String,
    /// The page's own query before `run=` (e.g. `step=3`), possibly empty.
    pub query: String,
    /// What the run is called by default ("Leader election, step 3").
    pub title: String,
    /// The start of exported files' names (`distlab-leader-election-step3`).
    pub file: String,
    /// The lesson, if the run was made in one.
    pub lesson: Option<String>,
    /// The lesson step, 1-based.
    pub step: Option<usize>,
    /// The lab preset, for a page that is not a lesson (`RunLink::preset`).
    pub preset: Option<String>,
}

impl Place {
    /// A lesson step (`step` 1-based): `/lesson/<id>?step=N`.
    pub fn lesson(id: &str, title: &str, step: usize) -> Place {
        Place {
            path: format!("/lesson/{id}"),
            query: format!("step={step}"),
            title: format!("{title}, step {step}"),
            file: format!("distlab-{id}-step{step}"),
            lesson: Some(id.to_string()),
            step: Some(step),
            preset: None,
        }
    }

    /// Any other page (a free lab, the isolation lab): `path?query`; `slug` is the lab
    /// preset's id.
    pub fn page(path: &str, query: &str, title: &str, slug: &str) -> Place {
        Place {
            path: path.to_string(),
            query: query.to_string(),
            title: title.to_string(),
            file: format!("distlab-{slug}"),
            lesson: None,
            step: None,
            preset: Some(slug.to_string()),
        }
    }

    /// The page's address (path and query) with the run's `code`.
    pub fn href(&self, code: &str) -> String {
        if self.query.is_empty() {
            format!("{}?run={code}", self.path)
        } else {
            format!("{}?{}&run={code}", self.path, self.query)
        }
    }

    /// `link` with this place's lesson and step written into it.
    pub fn stamp(&self, mut link: RunLink) -> RunLink {
        link.lesson = self.lesson.clone();
        link.step = self.step;
        link.preset = self.preset.clone();
        link
    }
}

/// The place of a lesson's current step (follows `?step=`).
pub fn lesson_place(nav: crate::lesson_page::StepNav) -> Signal<Place> {
    Signal::derive(move || {
        let step = nav.step.get().map_or(1, |i| i + 1);
        nav.lesson
            .with_value(|l| Place::lesson(&l.id, &l.title, step))
    })
}

/// The message shown when a link's run cannot be opened: what was wrong, and what the page
/// shows instead (`instead`, e.g. "the step's own run").
pub fn link_problem(e: &LinkError, instead: &str) -> String {
    format!("This link's run could not be opened: {e}. Showing {instead} instead.")
}

/// Loads the run of a link's `code` into `lab` (its scenario, interventions, cursor and
/// zoom). Errors say what is wrong with the code; the lab is then unchanged.
pub fn open_link<M: EngineModel + 'static>(lab: Lab<M>, code: &str) -> Result<(), LinkError> {
    let link = RunLink::decode(code)?;
    let (scenario, interventions) = link.run::<M>()?;
    lab.load(scenario, interventions, None)
        .map_err(LinkError::BadScenario)?;
    lab.jump(link.cursor);
    lab.zoom.set(
        link.zoom
            .filter(|z| z.is_finite())
            .unwrap_or(1.0)
            .clamp(1.0, 16.0),
    );
    Ok(())
}

/// A lab's run as it is now (scenario, interventions, cursor, zoom), for the share bar.
pub fn lab_run<M: EngineModel + 'static>(lab: Lab<M>) -> Callback<(), RunLink> {
    Callback::new(move |()| {
        let mut link = lab.scenario.with_untracked(|s| {
            lab.engine.with_untracked(|e| {
                RunLink::of::<M>(s, e.interventions(), lab.cursor.get_untracked())
            })
        });
        link.zoom = Some(lab.zoom.get_untracked());
        link
    })
}

/// How a model's client history is read from its engine (`distlab_sim::models::history`).
pub type HistoryOf<M> = fn(&Engine<<M as EngineModel>::Node>, Option<usize>) -> RunHistory;

/// A lab's client history up to the cursor as the linearizability checker's JSON (`of`
/// reads it from the engine, as [`crate::history_panel::LiveHistory`] does).
pub fn lab_history<M: EngineModel + 'static>(
    lab: Lab<M>,
    of: HistoryOf<M>,
) -> Callback<(), String> {
    Callback::new(move |()| {
        lab.engine.with_untracked(|e| {
            let (history, _) = of(e, lab.cursor.get_untracked());
            history.to_json()
        })
    })
}

/// An isolation run as a link carries it ([`RunLink::isolation`]): the script and the
/// level, and here also the level shown side by side; the cursor is the number of session
/// lines submitted.
#[derive(Clone, Debug, PartialEq)]
pub struct IsolationRun {
    pub script: String,
    pub level: IsolationLevel,
    /// The level shown side by side, if any.
    pub compare: Option<IsolationLevel>,
}

impl IsolationRun {
    /// This run with `line` session lines submitted (`None`: all of them), as a link.
    pub fn link(&self, line: Option<usize>) -> RunLink {
        let mut link =
            RunLink::isolation(&self.script, isolation_key(self.level), line.unwrap_or(0));
        link.cursor = line;
        if let (Some(c), Some(scenario)) = (self.compare, link.scenario.as_object_mut()) {
            scenario.insert("compare".into(), isolation_key(c).into());
        }
        link
    }

    /// The isolation run of a link and its line (`None`: all lines). Errors: another
    /// model, or a scenario that is not a script and a known level.
    pub fn of_link(link: &RunLink) -> Result<(IsolationRun, Option<usize>), LinkError> {
        let (script, key, _) = link.isolation_parts()?;
        let level = isolation_level(&key)
            .ok_or_else(|| LinkError::BadScenario(format!("unknown isolation level \"{key}\"")))?;
        let compare = link
            .scenario
            .get("compare")
            .and_then(|c| c.as_str())
            .and_then(isolation_level);
        Ok((
            IsolationRun {
                script,
                level,
                compare,
            },
            link.cursor,
        ))
    }
}

/// A QR code of `text` as an SVG path: `(size, d)` where `size` includes a quiet zone of 4
/// modules on each side and `d` draws every dark module as a unit square. Medium error
/// correction when it fits, low otherwise.
pub fn qr_path(text: &str) -> Result<(i32, String), String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium)
        .or_else(|_| QrCode::encode_text(text, QrCodeEcc::Low))
        .map_err(|_| {
            format!(
                "This run's link is too long for a QR code ({} characters). Copy the link instead.",
                text.len()
            )
        })?;
    let n = qr.size();
    let mut d = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                d.push_str(&format!("M{},{}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    Ok((n + 8, d))
}

/// The page's origin (`http://host:port`), for full links.
fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn js_text(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Offers `blob` as a download named `name` (an object URL and a temporary `<a download>`).
pub fn download_blob(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(js_text)?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(js_text)?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    a.set_href(&url);
    a.set_download(name);
    let _ = a.set_attribute("hidden", "");
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
    }
    a.click();
    a.remove();
    // Revoked later: revoking at once can cancel the download in some browsers.
    gloo_timers::callback::Timeout::new(30_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// A blob of `text` with the media type `mime`.
fn text_blob(text: &str, mime: &str) -> Result<web_sys::Blob, String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(js_text)
}

/// Offers `text` as a download named `name`.
pub fn download_text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    download_blob(name, &text_blob(text, mime)?)
}

/// CSS properties copied onto each exported element so the SVG looks the same without the
/// page's stylesheet.
const STYLE_PROPS: [&str; 16] = [
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "paint-order",
    "text-anchor",
    "dominant-baseline",
];

/// The first non-transparent background colour at or above `el` (white if none).
fn background_of(win: &web_sys::Window, el: &web_sys::Element) -> String {
    let mut cur = Some(el.clone());
    while let Some(e) = cur {
        if let Ok(Some(cs)) = win.get_computed_style(&e) {
            let bg = cs
                .get_property_value("background-color")
                .unwrap_or_default();
            if !bg.is_empty() && bg != "transparent" && bg != "rgba(0, 0, 0, 0)" {
                return bg;
            }
        }
        cur = e.parent_element();
    }
    "#ffffff".into()
}

/// The space-time diagram `svg` as a standalone SVG document: what is visible now (later
/// steps are left out), each element's computed style inlined, the node names (drawn in
/// HTML beside the plot on the page) added on the left, on the page's background.
/// Returns the text and its size in px.
pub fn standalone_svg(svg: &web_sys::Element, title: &str) -> Result<(String, f64, f64), String> {
    const NS: &str = "http://www.w3.org/2000/svg";
    let win = web_sys::window().ok_or("no window")?;
    let doc = win.document().ok_or("no document")?;
    let clone: web_sys::Element = svg
        .clone_node_with_deep(true)
        .map_err(js_text)?
        .dyn_into()
        .map_err(|_| "the diagram is not an element".to_string())?;
    let originals = svg.query_selector_all("*").map_err(js_text)?;
    let copies = clone.query_selector_all("*").map_err(js_text)?;
    let mut hidden = Vec::new();
    for i in 0..originals.length().min(copies.length()) {
        let (Some(o), Some(c)) = (originals.item(i), copies.item(i)) else {
            continue;
        };
        let (Ok(o), Ok(c)) = (
            o.dyn_into::<web_sys::Element>(),
            c.dyn_into::<web_sys::Element>(),
        ) else {
            continue;
        };
        let Ok(Some(cs)) = win.get_computed_style(&o) else {
            continue;
        };
        let get = |p: &str| cs.get_property_value(p).unwrap_or_default();
        if get("display") == "none" || get("visibility") == "hidden" {
            hidden.push(c);
            continue;
        }
        let style: String = STYLE_PROPS
            .iter()
            .map(|p| (p, get(p)))
            .filter(|(_, v)| !v.is_empty())
            .map(|(p, v)| format!("{p}:{v};"))
            .collect();
        let _ = c.set_attribute("style", &style);
        let _ = c.remove_attribute("tabindex");
    }
    for c in hidden {
        c.remove();
    }
    let num = |name: &str| {
        svg.get_attribute(name)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (w, h) = (num("width"), num("height"));
    // Node names: the row headers beside the plot, one per lifeline.
    let names: Vec<(String, String, bool)> = svg
        .closest(".spacetime")
        .ok()
        .flatten()
        .and_then(|st| st.query_selector_all(".row-head .node-name").ok())
        .map(|list| {
            (0..list.length())
                .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
                .map(|e| {
                    let cs = win.get_computed_style(&e).ok().flatten();
                    let get = |p: &str| cs.as_ref().and_then(|cs| cs.get_property_value(p).ok());
                    (
                        e.text_content().unwrap_or_default(),
                        get("color").unwrap_or_else(|| "#1b1f24".into()),
                        // A crashed node's name is struck through on the page.
                        get("text-decoration-line").is_some_and(|d| d.contains("line-through")),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = clone.query_selector_all("line.lifeline").map_err(js_text)?;
    let head = names
        .iter()
        .map(|(n, ..)| n.chars().count())
        .max()
        .map_or(0.0, |c| (c as f64 * 8.5 + 20.0).max(60.0));
    let out = doc.create_element_ns(Some(NS), "svg").map_err(js_text)?;
    let total_w = (head + w).ceil();
    let total_h = h.ceil();
    for (k, v) in [
        ("width", total_w.to_string()),
        ("height", total_h.to_string()),
        ("viewBox", format!("0 0 {total_w} {total_h}")),
        ("font-family", "system-ui, sans-serif".to_string()),
    ] {
        let _ = out.set_attribute(k, &v);
    }
    let add =
        |parent: &web_sys::Element, tag: &str, attrs: &[(&str, String)], text: Option<&str>| {
            if let Ok(e) = doc.create_element_ns(Some(NS), tag) {
                for (k, v) in attrs {
                    let _ = e.set_attribute(k, v);
                }
                if let Some(t) = text {
                    e.set_text_content(Some(t));
                }
                let _ = parent.append_child(&e);
            }
        };
    add(&out, "title", &[], Some(title));
    add(
        &out,
        "rect",
        &[
            ("width", total_w.to_string()),
            ("height", total_h.to_string()),
            ("fill", background_of(&win, svg)),
        ],
        None,
    );
    for (i, (name, colour, struck)) in names.iter().enumerate() {
        let y = rows
            .item(i as u32)
            .and_then(|l| l.dyn_into::<web_sys::Element>().ok())
            .and_then(|l| l.get_attribute("y1"))
            .and_then(|v| v.parse::<f64>().ok());
        if let Some(y) = y {
            add(
                &out,
                "text",
                &[
                    ("x", "8".into()),
                    ("y", format!("{:.1}", y + 4.5)),
                    ("font-size", "13".into()),
                    ("font-weight", "600".into()),
                    ("fill", colour.clone()),
                    (
                        "text-decoration",
                        if *struck { "line-through" } else { "none" }.into(),
                    ),
                    ("class", "node-name".into()),
                ],
                Some(name),
            );
        }
    }
    let _ = clone.set_attribute("x", &head.to_string());
    let _ = clone.set_attribute("y", "0");
    let _ = clone.remove_attribute("style");
    let _ = out.append_child(&clone);
    let text = web_sys::XmlSerializer::new()
        .map_err(js_text)?
        .serialize_to_string(&out)
        .map_err(js_text)?;
    Ok((
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{text}\n"),
        total_w,
        total_h,
    ))
}

/// Draws an SVG document into a canvas at twice its size (less if that would exceed the
/// canvas limits) and offers it as a PNG download; `done` gets an error message, if any.
fn download_png(
    svg: String,
    w: f64,
    h: f64,
    name: String,
    done: impl Fn(Option<String>) + 'static,
) {
    let fail = |e: String| Some(format!("The PNG could not be made: {e}"));
    let blob = match text_blob(&svg, "image/svg+xml;charset=utf-8") {
        Ok(b) => b,
        Err(e) => return done(fail(e)),
    };
    let url = match web_sys::Url::create_object_url_with_blob(&blob) {
        Ok(u) => u,
        Err(e) => return done(fail(js_text(e))),
    };
    let img = match web_sys::HtmlImageElement::new() {
        Ok(i) => i,
        Err(e) => return done(fail(js_text(e))),
    };
    let done = std::rc::Rc::new(done);
    let (img2, url2, done2) = (img.clone(), url.clone(), done.clone());
    let onload = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url2);
        let draw = || -> Result<web_sys::HtmlCanvasElement, String> {
            let doc = web_sys::window()
                .and_then(|w| w.document())
                .ok_or("no document")?;
            let scale = 2f64.min(16_000.0 / w.max(1.0)).min(16_000.0 / h.max(1.0));
            let canvas: web_sys::HtmlCanvasElement = doc
                .create_element("canvas")
                .map_err(js_text)?
                .dyn_into()
                .map_err(|_| "no canvas".to_string())?;
            canvas.set_width((w * scale).ceil().max(1.0) as u32);
            canvas.set_height((h * scale).ceil().max(1.0) as u32);
            let ctx: web_sys::CanvasRenderingContext2d = canvas
                .get_context("2d")
                .map_err(js_text)?
                .ok_or("no 2D context")?
                .dyn_into()
                .map_err(|_| "no 2D context".to_string())?;
            ctx.scale(scale, scale).map_err(js_text)?;
            ctx.draw_image_with_html_image_element(&img2, 0.0, 0.0)
                .map_err(js_text)?;
            Ok(canvas)
        };
        match draw() {
            Ok(canvas) => {
                let done3 = done2.clone();
                let on_blob =
                    Closure::once_into_js(move |b: JsValue| match b.dyn_ref::<web_sys::Blob>() {
                        Some(b) => done3(download_blob(&name, b).err().and_then(fail)),
                        None => done3(fail("the browser made no image".into())),
                    });
                if let Err(e) = canvas.to_blob(on_blob.unchecked_ref()) {
                    done2(fail(js_text(e)));
                }
            }
            Err(e) => done2(fail(e)),
        }
    });
    let url3 = url.clone();
    let onerror = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url3);
        done(fail("the browser could not draw the SVG".into()));
    });
    img.set_onload(Some(onload.unchecked_ref()));
    img.set_onerror(Some(onerror.unchecked_ref()));
    img.set_src(&url);
}

/// Writes `text` to the clipboard; `status` says whether it worked.
fn copy_text(text: String, status: RwSignal<Option<String>>) {
    let Some(nav) = web_sys::window().map(|w| w.navigator()) else {
        return;
    };
    let clipboard = js_sys::Reflect::get(&nav, &JsValue::from_str("clipboard"))
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null());
    let Some(clipboard) = clipboard else {
        status.set(Some(
            "This browser does not let the page copy: select the link below and copy it.".into(),
        ));
        return;
    };
    let promise = clipboard
        .unchecked_into::<web_sys::Clipboard>()
        .write_text(&text);
    leptos::task::spawn_local(async move {
        let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        status.set(Some(if copied {
            "Link copied".into()
        } else {
            "The browser did not allow copying: select the link below and copy it.".into()
        }));
    });
}

/// The share bar: Copy link, QR code, Save run, the saved runs, and Export (the diagram as
/// SVG or PNG, the run as JSON, the client history as JSON).
#[component]
pub fn ShareBar(
    /// The run as it is now (asked when a button is pressed).
    run: Callback<(), RunLink>,
    /// The page the link opens.
    #[prop(into)]
    place: Signal<Place>,
    /// The client history as the checker's JSON, for models with clients.
    #[prop(optional)]
    history: Option<Callback<(), String>>,
    /// Whether the page has a space-time diagram to export.
    #[prop(default = true)]
    diagram: bool,
) -> impl IntoView {
    let root = NodeRef::<html::Div>::new();
    let qr_button = NodeRef::<html::Button>::new();
    let close_button = NodeRef::<html::Button>::new();
    let link = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let qr = RwSignal::new(None::<Result<(i32, String), String>>);
    let export_open = RwSignal::new(false);
    // The run now, with its lesson and step, and its full link.
    let current = move || {
        let p = place.get_untracked();
        let l = p.stamp(run.run(()));
        let url = format!("{}{}", origin(), p.href(&l.encode()));
        (p, l, url)
    };
    let copy = move |_| {
        let (_, _, url) = current();
        link.set(Some(url.clone()));
        status.set(Some("Copying…".into()));
        copy_text(url, status);
    };
    let close_qr = move || {
        qr.set(None);
        if let Some(b) = qr_button.get_untracked() {
            let _ = b.focus();
        }
    };
    let toggle_qr = move |_| {
        if qr.with_untracked(Option::is_some) {
            close_qr();
        } else {
            let (_, _, url) = current();
            qr.set(Some(qr_path(&url)));
            link.set(Some(url));
            request_animation_frame(move || {
                if let Some(b) = close_button.get_untracked() {
                    let _ = b.focus();
                }
            });
        }
    };
    let handle = window_event_listener(leptos::ev::keydown, move |e: web_sys::KeyboardEvent| {
        if e.key() == "Escape" {
            if qr.with_untracked(Option::is_some) {
                close_qr();
            }
            export_open.set(false);
        }
    });
    on_cleanup(move || handle.remove());
    let save = move |_| {
        let (p, l, _) = current();
        let code = l.encode();
        let entry = saved::SavedRun::new(
            &l,
            p.href(&code),
            format!("{}, {}", p.title, saved::local_date()),
            saved::new_id(),
            saved::now_iso(),
        );
        status.set(Some(match saved::add(entry) {
            Ok((name, None)) => format!("Saved as “{name}”."),
            Ok((name, Some(problem))) => format!("Saved as “{name}”. {problem}"),
            Err(e) => format!("Not saved: {e}"),
        }));
    };
    let report = move |r: Result<(), String>, what: &str| {
        export_open.set(false);
        status.set(Some(match r {
            Ok(()) => format!("{what} downloaded."),
            Err(e) => format!("{what} could not be downloaded: {e}"),
        }));
    };
    let diagram_svg = move || -> Result<(String, f64, f64, Place), String> {
        let (p, _, _) = current();
        let svg = root
            .get_untracked()
            .and_then(|r| r.closest(".lab").ok().flatten())
            .and_then(|lab| lab.query_selector("svg.diagram").ok().flatten())
            .ok_or("there is no diagram on this page")?;
        let (text, w, h) = standalone_svg(&svg, &format!("Distlab: {}", p.title))?;
        Ok((text, w, h, p))
    };
    let export_svg = move |_| {
        let r = diagram_svg().and_then(|(text, _, _, p)| {
            download_text(&format!("{}.svg", p.file), "image/svg+xml", &text)
        });
        report(r, "The diagram (SVG)");
    };
    let export_png = move |_| match diagram_svg() {
        Ok((text, w, h, p)) => {
            export_open.set(false);
            status.set(Some("Drawing the PNG…".into()));
            download_png(text, w, h, format!("{}.png", p.file), move |e| {
                status.set(Some(
                    e.unwrap_or_else(|| "The diagram (PNG) downloaded.".into()),
                ))
            });
        }
        Err(e) => report(Err(e), "The diagram (PNG)"),
    };
    let export_run = move |_| {
        let (p, l, _) = current();
        let r = download_text(
            &format!("{}.run.json", p.file),
            "application/json",
            &l.to_json(),
        );
        report(r, "The run (JSON)");
    };
    let export_history = move |_| {
        if let Some(h) = history {
            let p = place.get_untracked();
            let r = download_text(
                &format!("{}.history.json", p.file),
                "application/json",
                &h.run(()),
            );
            report(r, "The client history (JSON)");
        }
    };
    let qr_view = move || {
        qr.get().map(|q| {
            let body = match q {
                Ok((n, d)) => view! {
                    <svg class="qr" role="img" aria-label="QR code of the link to this run"
                        viewBox=format!("0 0 {n} {n}") shape-rendering="crispEdges">
                        <rect width=n height=n fill="#ffffff" />
                        <path d=d fill="#000000" />
                    </svg>
                }
                .into_any(),
                Err(e) => view! { <p role="alert">{e}</p> }.into_any(),
            };
            view! {
                <div class="qr-overlay" on:click=move |ev| {
                    // A click on the backdrop (not the box) closes it.
                    if ev.target() == ev.current_target() {
                        close_qr();
                    }
                }>
                    <div class="qr-box" role="dialog" aria-modal="true" aria-label="QR code of this run's link">
                        {body}
                        <p class="qr-caption">"Scan to open this run at this step. The same link is in the field under the share bar."</p>
                        <button node_ref=close_button on:click=move |_| close_qr()>"Close"</button>
                    </div>
                </div>
            }
        })
    };
    view! {
        <div class="share-bar" node_ref=root>
            <div class="share-row" role="toolbar" aria-label="Share this run">
                <button on:click=copy title="Copy a link that opens exactly this run at this step">"Copy link"</button>
                <button node_ref=qr_button aria-expanded=move || qr.with(Option::is_some).to_string() on:click=toggle_qr title="Show the link as a QR code">"QR code"</button>
                <button on:click=save title="Keep this run in this browser's saved runs">"Save run"</button>
                <A href="/saved" attr:class="saved-link">"Saved runs"</A>
                <div class="export-group" role="group" aria-label="Export">
                    <button class="export-toggle" aria-expanded=move || export_open.get().to_string() on:click=move |_| export_open.update(|o| *o = !*o)>"Export"<span aria-hidden="true">" ▾"</span></button>
                    <div class="export-menu" class:hidden=move || !export_open.get()>
                        {diagram.then(|| view! {
                            <button on:click=export_svg>"Diagram as SVG"</button>
                            <button on:click=export_png>"Diagram as PNG"</button>
                        })}
                        <button on:click=export_run>"Run as JSON"</button>
                        {history.is_some().then(|| view! { <button on:click=export_history>"Client history as JSON"</button> })}
                    </div>
                </div>
                <span class="share-status" role="status" aria-live="polite">{move || status.get()}</span>
            </div>
            {move || link.get().map(|l| view! {
                <input class="share-link" type="text" readonly aria-label="Link to this run" prop:value=l
                    on:focus=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        input.select();
                    } />
            })}
            {qr_view}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_keep_the_page_query_and_add_the_code() {
        let p = Place::lesson("leader-election", "Leader election", 3);
        assert_eq!(p.href("1.abc"), "/lesson/leader-election?step=3&run=1.abc");
        assert_eq!(p.file, "distlab-leader-election-step3");
        assert_eq!(p.title, "Leader election, step 3");
        let lab = Place::page("/lab/async", "", "Lab: async", "async");
        assert_eq!(lab.href("1.x"), "/lab/async?run=1.x");
        let stamped = p.stamp(
            IsolationRun {
                script: String::new(),
                level: IsolationLevel::ReadCommitted,
                compare: None,
            }
            .link(Some(0)),
        );
        assert_eq!(stamped.lesson.as_deref(), Some("leader-election"));
        assert_eq!(stamped.step, Some(3));
        assert_eq!(stamped.preset, None);
        let in_lab = lab.stamp(stamped);
        assert_eq!(
            (in_lab.lesson, in_lab.step, in_lab.preset.as_deref()),
            (None, None, Some("async"))
        );
    }

    #[test]
    fn isolation_runs_round_trip_through_a_code() {
        let run = IsolationRun {
            script: "T1: BEGIN;\nT1: SELECT 1;".into(),
            level: IsolationLevel::RepeatableRead,
            compare: Some(IsolationLevel::Serializable),
        };
        let code = run.link(Some(2)).encode();
        let back = RunLink::decode(&code).unwrap();
        assert_eq!(IsolationRun::of_link(&back).unwrap(), (run, Some(2)));
        let mut other = back.clone();
        other.model = "raft".into();
        assert!(matches!(
            IsolationRun::of_link(&other),
            Err(LinkError::WrongModel { .. })
        ));
        other.model = "isolation".into();
        other.scenario = serde_json::json!({"script": 3});
        assert!(matches!(
            IsolationRun::of_link(&other),
            Err(LinkError::BadScenario(_))
        ));
    }

    #[test]
    fn qr_codes_draw_every_dark_module_inside_a_quiet_zone() {
        let url = format!(
            "http://127.0.0.1:8080/lesson/raft?step=3&run=1.{}",
            "A".repeat(900)
        );
        let (size, d) = qr_path(&url).unwrap();
        let qr = QrCode::encode_text(&url, QrCodeEcc::Medium).unwrap();
        assert_eq!(size, qr.size() + 8);
        let dark = (0..qr.size())
            .flat_map(|y| (0..qr.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| qr.get_module(x, y))
            .count();
        assert_eq!(d.matches('M').count(), dark);
        // The quiet zone: nothing drawn in the outer four modules.
        assert!(!d.contains("M0,") && !d.contains("M3,"));
        let err = qr_path(&"x".repeat(5000)).unwrap_err();
        assert!(
            err.contains("too long for a QR code (5000 characters)"),
            "{err}"
        );
    }

    #[test]
    fn link_problems_name_what_was_wrong() {
        let e = RunLink::decode("garbage").unwrap_err();
        let m = link_problem(&e, "the step's own run");
        assert!(m.contains("does not start with a version number"), "{m}");
        assert!(m.ends_with("Showing the step's own run instead."), "{m}");
    }
}
