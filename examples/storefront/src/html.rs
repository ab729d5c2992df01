//! HTML by hand: one escape function every value from the API or the shopper goes through, and
//! the page frame.

use std::fmt::Write as _;

/// Escapes text for an HTML element body or a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the page frame shows in its navigation bar.
#[derive(Debug, Default)]
pub(crate) struct Nav {
    /// Logged-in member's display name.
    pub member: Option<String>,
    /// Units in the cart.
    pub cart_units: u32,
}

/// A whole page: the navigation bar, an optional message box and `body` (already HTML).
pub(crate) fn page(title: &str, nav: &Nav, body: &str) -> String {
    let mut links = String::from(r#"<a href="/">Shop</a> "#);
    let _ = write!(links, r#"<a href="/cart" id="nav-cart">Cart ({})</a> "#, nav.cart_units);
    match &nav.member {
        Some(name) => {
            let _ = write!(
                links,
                r#"<a href="/me" id="nav-me">My page ({})</a> <form method="post" action="/logout" class="inline"><button id="logout">Log out</button></form>"#,
                escape(name)
            );
        }
        None => links.push_str(r#"<a href="/login" id="nav-login">Log in</a> <a href="/register" id="nav-register">Become a member</a>"#),
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · Demo Kaffebar</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 1rem auto; padding: 0 1rem; color: #222; }}
nav {{ display: flex; gap: 1rem; align-items: center; border-bottom: 1px solid #ccc; padding-bottom: .5rem; }}
nav a {{ text-decoration: none; }} form.inline {{ display: inline; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; }}
th, td {{ text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }}
td.num, th.num {{ text-align: right; }} .discount {{ color: #0a6b2a; }}
.error {{ color: #b00020; }} .message {{ background: #fff4d6; padding: .5rem 1rem; border-radius: 4px; }}
.ok {{ background: #e3f5e8; padding: .5rem 1rem; border-radius: 4px; }}
.field {{ margin: .6rem 0; }} .field label.main {{ display: block; font-weight: 600; }}
.consents {{ border-top: 1px solid #ccc; margin-top: 1rem; padding-top: .5rem; }}
.demo {{ font-size: .9rem; color: #555; }}
</style></head>
<body><nav><strong>Demo Kaffebar</strong> {links}</nav>
<main><h1>{title}</h1>
{body}
</main></body></html>"#,
        title = escape(title)
    )
}

/// A message box (text escaped here).
pub(crate) fn message(class: &str, id: &str, text: &str) -> String {
    format!(r#"<p class="{class}" id="{id}">{}</p>"#, escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_both_quotes() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn page_escapes_the_member_name() {
        let nav = Nav { member: Some("<script>".into()), cart_units: 2 };
        let html = page("Shop", &nav, "");
        assert!(html.contains("My page (&lt;script&gt;)") && !html.contains("<script>"));
    }
}
