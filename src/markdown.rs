//! Lesson narration: markdown rendered to HTML with raw HTML escaped, so a lesson file
//! can never inject markup or script into the page.

use pulldown_cmark::{html, Event, Options, Parser};

/// Renders `md` to safe HTML: raw HTML blocks and inline HTML become escaped text.
pub fn to_safe_html(md: &str) -> String {
    let parser =
        Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|ev| {
            match ev {
                Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
                other => other,
            }
        });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    // Links in lessons may only be http(s) or relative: drop javascript: and data: URLs.
    out.replace("href=\"javascript:", "href=\"#blocked:")
        .replace("href=\"data:", "href=\"#blocked:")
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn escapes_html_and_script() {
        let h =
            to_safe_html("Hi <script>alert(1)</script> **bold**\n\n<img src=x onerror=alert(1)>");
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
    }

    #[test]
    fn blocks_javascript_links() {
        let h = to_safe_html("[x](javascript:alert(1))");
        assert!(!h.contains("javascript:"), "{h}");
    }
}
