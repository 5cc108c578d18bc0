//! The HTML page both servers' pages are built in: language, character
//! set, phone-sized viewport, title and the page's own style sheet inline
//! (nothing fetched from elsewhere but an https `LOGO`). Ends at
//! `<body>`: what goes in it is each page's own; [`column`] is the one the
//! small pages share, in the organisation's [`Look`].

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::config::{ConfigError, Settings};
use crate::content::images::PreparedImage;
use crate::domain::Colour;
use crate::render::{DARK_CARD, on_dark};

/// What goes in a page's `<head>`.
pub struct Head<'a> {
    pub title: &'a str,
    /// The whole style sheet, inline.
    pub style: &'a str,
    /// Asks search engines to keep the page out of their index.
    pub noindex: bool,
}

/// A whole page: `head`, then `body` as the content of `<body>`.
pub fn page(head: &Head, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if head.noindex {
                    meta name="robots" content="noindex, nofollow";
                    meta name="referrer" content="no-referrer";
                }
                title { (head.title) }
                style { (PreEscaped(head.style)) }
            }
            body { (body) }
        }
    }
}

/// The organisation's look on the servers' small pages (unsubscribe,
/// sign-up, preferences), read once from the settings: the brand colour,
/// the logo and the footer with the organisation's name and postal
/// address, as its emails have them.
#[derive(Debug, Clone)]
pub struct Look {
    org_name: String,
    org_address: String,
    org_website: Option<String>,
    color: Colour,
    text_color: Colour,
    logo: Option<PageLogo>,
    /// The `LOGO` file prepared as a bulletin's, for the list's own emails.
    pub prepared_logo: Option<PreparedImage>,
}

/// The logo as a page shows it: a local file inline (`data:`), so the page
/// fetches nothing from elsewhere; an https `LOGO` from its address. Its
/// alt text is empty: the organisation's name stands beside it.
#[derive(Debug, Clone)]
struct PageLogo {
    src: String,
    width: u32,
    height: Option<u32>,
}

impl Look {
    /// The look `settings` give; fails when the `LOGO` file cannot be
    /// read as an image, naming the setting.
    pub fn new(settings: &Settings) -> Result<Self, ConfigError> {
        let prepared_logo = crate::job::prepare_logo(settings)?;
        let logo = crate::job::shown_logo(settings, prepared_logo.as_ref(), |logo| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&logo.picture.bytes);
            format!("data:{};base64,{encoded}", logo.picture.mime)
        })
        .map(|shown| PageLogo { src: shown.url, width: shown.width, height: shown.height });
        Ok(Self {
            org_name: settings.org_name.clone(),
            org_address: settings.org_address.clone(),
            org_website: settings.org_website.as_ref().map(|w| w.as_url().to_string()),
            color: settings.brand.color,
            text_color: settings.brand.text_color,
            logo,
            prepared_logo,
        })
    }

    /// The style sheet: one narrow column, light or dark, in the brand
    /// colour (lightened in dark mode as the emails lighten it, a button
    /// keeping its colours); inputs and buttons at least 48px tall and
    /// text 18px, for a thumb on a phone.
    fn style(&self) -> String {
        let (brand, on_brand, dark_accent) = (self.color, self.text_color, on_dark(self.color));
        format!(
            "\
:root{{color-scheme:light dark;--fg:#1f2933;--bg:#fff;--page:#f2f4f7;--muted:#52606d;--line:#c3cad3;\
--accent:{brand};--brand:{brand};--on-brand:{on_brand}}}\
@media (prefers-color-scheme:dark){{:root{{--fg:#e6e8eb;--bg:{DARK_CARD};--page:#111418;--muted:#a9b1bb;\
--line:#3a4350;--accent:{dark_accent}}}}}\
*{{box-sizing:border-box}}\
body{{margin:0;background:var(--page);color:var(--fg);font:1.125rem/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}}\
.brand{{max-width:36rem;margin:0 auto;padding:1.5rem 1.25rem 0;display:flex;align-items:center;gap:.75rem;\
font-weight:700;color:var(--accent)}}\
.brand img{{display:block;max-width:100%;height:auto}}\
main{{max-width:36rem;margin:1rem auto;padding:2rem 1.25rem;background:var(--bg);border-top:4px solid var(--brand);\
border-radius:.5rem}}\
h1{{font-size:1.6rem;line-height:1.25;margin:0 0 1rem;color:var(--accent)}}\
p{{margin:0 0 1rem}}.muted{{color:var(--muted);font-size:1rem}}\
a{{color:var(--accent)}}\
label{{display:block;font-weight:600}}\
input[type=text],input[type=email],select{{display:block;width:100%;min-height:3rem;margin:.35rem 0 0;\
padding:.6rem .75rem;font:inherit;font-weight:400;color:var(--fg);background:var(--bg);\
border:2px solid var(--line);border-radius:.4rem}}\
input:focus,select:focus{{outline:3px solid var(--accent);outline-offset:1px;border-color:var(--accent)}}\
fieldset{{margin:0 0 1rem;padding:.5rem 1rem;border:2px solid var(--line);border-radius:.4rem}}\
legend{{padding:0 .25rem;font-weight:600}}\
.choice{{margin:0}}\
.choice label{{display:flex;align-items:center;gap:.75rem;min-height:3rem;font-weight:400;cursor:pointer}}\
input[type=checkbox]{{flex:none;width:1.5rem;height:1.5rem;margin:0;accent-color:var(--brand)}}\
button{{font:inherit;font-weight:700;min-height:3rem;color:var(--on-brand);background:var(--brand);border:0;\
border-radius:.4rem;padding:.75rem 1.5rem;margin:.5rem 0 1.5rem;cursor:pointer}}\
button:focus-visible,a:focus-visible{{outline:3px solid var(--fg);outline-offset:3px}}\
footer{{max-width:36rem;margin:0 auto;padding:0 1.25rem 2rem;text-align:center;color:var(--muted);font-size:.95rem}}\
footer p{{margin:0 0 .5rem}}"
        )
    }
}

/// A page in the organisation's look ([`Look`]), kept out of search
/// engines: the logo and the organisation's name above, the content in
/// one narrow column, and the footer with the organisation's name, postal
/// address and website. The pages link no reader's data anywhere: the
/// referrer is never sent.
pub(crate) fn column(look: &Look, title: &str, body: Markup) -> Markup {
    let style = look.style();
    let content = html! {
        header.brand {
            @if let Some(logo) = &look.logo {
                img src=(logo.src) alt="" width=(logo.width) height=[logo.height];
            }
            span { (look.org_name) }
        }
        main { (body) }
        footer {
            p { strong { (look.org_name) } br; (look.org_address) }
            @if let Some(site) = &look.org_website {
                p { a href=(site) { (look.org_name) " website" } }
            }
        }
    };
    page(&Head { title, style: &style, noindex: true }, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_holds_the_title_escaped_and_the_style_as_it_is() {
        let head = Head { title: "A <b> title", style: "p>a{color:red}", noindex: true };
        let html = page(&head, html! { p { "hi" } }).into_string();
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"),
            "{html}"
        );
        assert!(html.contains("<title>A &lt;b&gt; title</title><style>p>a{color:red}</style>"), "{html}");
        assert!(html.contains(r#"<meta name="robots" content="noindex, nofollow">"#), "{html}");
        assert!(html.ends_with("<body><p>hi</p></body></html>"), "{html}");
    }
}
