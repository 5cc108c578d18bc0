//! The preview page: the email in desktop, phone, dark and inverted frames,
//! its plaintext and headers in tabs, a reader picker, and what `check`
//! finds, reloading itself when a source file is saved.

use maud::{Markup, PreEscaped, html};

use super::view::View;
use crate::http::layout::{self, Head};

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933;background:#e9edf2}
header{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center;padding:12px 20px;background:#1d4f91;color:#fff}
header h1{font-size:18px;margin:0;font-weight:600;overflow-wrap:anywhere}
header form{margin-left:auto;max-width:100%}
header select{font-size:15px;max-width:min(420px,100%)}
#live{font-size:13px;opacity:.85}
main{display:flex;gap:20px;padding:20px;align-items:flex-start}
.content{flex:1;min-width:0}
aside{width:340px;flex-shrink:0;background:#fff;border-radius:8px;padding:16px;font-size:14px;overflow-wrap:anywhere}
aside summary{cursor:pointer}
aside summary h2{display:inline;margin:0}
aside .count{font-size:14px;margin-left:6px}
aside details[open] summary{margin-bottom:8px}
aside h2{font-size:15px;margin:0 0 8px}
aside ul{padding-left:18px;margin:0 0 16px}
.error{color:#b42318}.warning{color:#8a5a00}
.tabs>input{position:absolute;opacity:0}
.tabs>label{display:inline-block;padding:8px 16px;margin-right:4px;background:#d5dde7;border-radius:6px 6px 0 0;cursor:pointer;font-size:15px}
.tabs>input:checked+label{background:#fff;font-weight:600}
.tabs>input:focus-visible+label{outline:2px solid #1d4f91}
.panel{display:none;background:#fff;border-radius:0 8px 8px 8px;padding:16px}
#tab-preview:checked~#panel-preview,#tab-text:checked~#panel-text,#tab-headers:checked~#panel-headers{display:block}
.frames{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start;overflow-x:auto}
figure{margin:0}
figcaption{font-size:13px;color:#52606d;margin-bottom:6px}
iframe{box-sizing:content-box;border:1px solid #c8d1dc;border-radius:6px;background:#fff;display:block;height:900px}
#desktop,#dark,#inverted{width:680px}
#phone{width:375px}
#inverted{filter:invert(1) hue-rotate(180deg)}
pre{white-space:pre-wrap;word-break:break-word;font-size:14px;line-height:1.45;margin:0}
.failed{background:#fff;border-left:6px solid #b42318;border-radius:8px;padding:16px 20px}
.failed h2{margin-top:0;color:#b42318}
table.fields td{padding:2px 8px 2px 0;vertical-align:top}
.fallback{color:#52606d;font-style:italic}
@media (max-width:1149px){
main{flex-direction:column;align-items:stretch;gap:12px;padding:12px}
.content{flex:none}
aside{width:auto;order:-1;padding:12px}
header{padding:10px 12px;gap:8px 16px}
header form{margin-left:0}
.panel{padding:12px 8px}
}
";

/// A window at least this wide has the Problems panel open beside the
/// email (the desktop frame's 680 px, the panel's 340 and the gaps); a
/// narrower one has it folded above. The style sheet's `max-width` is the
/// same width less one pixel.
const WIDE: &str = "(min-width: 1150px)";

/// Reloads on every change the server announces, keeps the chosen tab in
/// the address, sizes each frame to its email, and folds the Problems panel
/// on a narrow window.
const SCRIPT: &str = "
const tab = location.hash.slice(1);
if (tab && document.getElementById('tab-' + tab)) document.getElementById('tab-' + tab).checked = true;
for (const input of document.querySelectorAll('.tabs>input')) {
  input.addEventListener('change', () => history.replaceState(null, '', '#' + input.id.slice(4)));
}
function fit(frame) {
  const doc = frame.contentDocument;
  if (doc && doc.documentElement) frame.style.height = (doc.documentElement.scrollHeight + 20) + 'px';
}
for (const frame of document.querySelectorAll('iframe')) {
  frame.addEventListener('load', () => fit(frame));
  // A frame may have loaded before this script ran.
  if (frame.contentDocument && frame.contentDocument.readyState === 'complete') fit(frame);
}
const live = document.getElementById('live');
const events = new EventSource('/events');
events.onopen = () => { live.textContent = '● live: saving the bulletin, the list or .env reloads this page'; };
events.onerror = () => { live.textContent = '○ reconnecting…'; };
events.onmessage = () => location.reload();
// The Problems panel: open beside the email on a wide window; folded into
// its summary line above the email on a narrow one, until opened (which
// holds across the reloads a save makes).
const problems = document.getElementById('problems-details');
const wide = matchMedia(WIDE);
const unfold = () => { problems.open = wide.matches || sessionStorage.getItem('problems') === 'open'; };
unfold();
wide.addEventListener('change', unfold);
problems.addEventListener('toggle', () => {
  if (!wide.matches) sessionStorage.setItem('problems', problems.open ? 'open' : 'closed');
});
";

pub fn render(view: &View, to: Option<&str>) -> Markup {
    let selected = view.message.as_ref().ok().map(|m| m.email.as_str()).or(to);
    let query = |scheme: Option<&str>| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        if let Some(email) = selected {
            url.append_pair("to", email);
        }
        if let Some(scheme) = scheme {
            url.append_pair("scheme", scheme);
        }
        format!("/email?{}", url.finish())
    };
    let title = format!("Preview: {}", view.title);
    let (errors, warnings) = (view.findings.errors.len(), view.findings.warnings.len());
    let body = html! {
        header {
            h1 { "Preview: " (view.title) }
            span #live { "○ connecting…" }
            form method="get" action="/" {
                label for="to" { "Preview as " }
                select #to name="to" onchange="this.form.submit()" {
                    @if !view.choices.iter().any(|c| Some(c.email.as_str()) == selected) {
                        option value="" selected disabled { "Choose a reader…" }
                    }
                    @for choice in &view.choices {
                        option value=(choice.email) selected[Some(choice.email.as_str()) == selected] { (choice.label) }
                    }
                }
                noscript { button type="submit" { "Show" } }
            }
        }
        main {
            div.content {
                @match &view.message {
                    Err(errors) => {
                        section.failed #failed {
                            h2 { "This bulletin cannot be shown" }
                            ul { @for e in errors { li { (e) } } }
                            p { "Fix it and save: this page reloads by itself." }
                        }
                    }
                    Ok(message) => {
                        div.tabs {
                            input type="radio" name="tab" #tab-preview checked;
                            label for="tab-preview" { "Preview" }
                            input type="radio" name="tab" #tab-text;
                            label for="tab-text" { "Plaintext" }
                            input type="radio" name="tab" #tab-headers;
                            label for="tab-headers" { "Headers" }
                            section.panel #panel-preview {
                                p { strong { "Subject: " } span #subject { (message.subject) } }
                                div.frames {
                                    (frame("desktop", "Desktop", &query(None)))
                                    (frame("phone", "Phone (375px)", &query(None)))
                                    (frame("dark", "Dark mode (prefers-color-scheme: dark)", &query(Some("dark"))))
                                    (frame("inverted", "Forced inversion, as some clients do", &query(None)))
                                }
                            }
                            section.panel #panel-text { pre #text { (message.text) } }
                            section.panel #panel-headers { pre #headers { (message.headers) } }
                        }
                    }
                }
            }
            aside #problems-panel {
                details #problems-details {
                    summary {
                        h2 { "Problems" }
                        (problem_count(errors, warnings))
                    }
                    @if errors == 0 && warnings == 0 {
                        p #no-problems { "None found." }
                    }
                    ul #problems {
                        @for e in &view.findings.errors { li.error { "Error: " (e) } }
                        @for w in &view.findings.warnings { li.warning { "Warning: " (w) } }
                    }
                    p { (view.readers) " reader(s) would receive this bulletin." }
                    @if let Ok(message) = &view.message {
                        @if !message.fields.is_empty() {
                            h2 { "Merge fields for " (message.email) }
                            table.fields {
                                @for field in &message.fields {
                                    tr {
                                        td { code { (field.name) } }
                                        td {
                                            @match &field.value {
                                                Some(value) => (value),
                                                None => span.fallback { "empty: the default shows, or nothing" },
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        script { "const WIDE = '" (WIDE) "';" (PreEscaped(SCRIPT)) }
    };
    layout::page(&Head { title: &title, style: STYLE, noindex: false }, body)
}

/// The counts on the Problems panel's summary line, which is all a narrow
/// window shows of it until opened: "2 errors, 1 warning".
fn problem_count(errors: usize, warnings: usize) -> Markup {
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    html! {
        span.count {
            @if errors == 0 && warnings == 0 {
                "none found"
            } @else {
                span.error { (plural(errors, "error")) } ", " span.warning { (plural(warnings, "warning")) }
            }
        }
    }
}

fn frame(id: &str, caption: &str, src: &str) -> Markup {
    html! {
        figure {
            figcaption { (caption) }
            iframe id=(id) title=(caption) src=(src) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::preview::view::{Choice, Message};

    fn view(message: Result<Message, Vec<String>>) -> View {
        View {
            title: "t".into(),
            choices: vec![Choice { email: "ana@example.org".into(), label: "Ana <ana@example.org>".into() }],
            readers: 1,
            findings: crate::lint::Findings::default(),
            message,
        }
    }

    #[test]
    fn a_reader_not_on_the_list_selects_no_one_in_the_picker() {
        let page = render(
            &view(Err(vec!["nobody@example.org would not receive this bulletin".into()])),
            Some("nobody@example.org"),
        )
        .into_string();
        assert!(page.contains(r#"<option value="" selected disabled>Choose a reader…</option>"#), "{page}");
        assert!(page.contains(r#"<option value="ana@example.org">"#));
        assert!(page.contains("section class=\"failed\" id=\"failed\"") || page.contains(r#"id="failed""#));
    }

    #[test]
    fn errors_show_instead_of_frames() {
        let page =
            render(&view(Err(vec!["content/b.md:3: raw HTML is not allowed".into()])), None).into_string();
        assert!(page.contains("content/b.md:3: raw HTML is not allowed"));
        assert!(!page.contains("<iframe"));
    }
}
