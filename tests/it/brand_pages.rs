//! The pages of `bulletin serve` a reader sees, in the organisation's
//! look: the sign-up form, the confirm page (from the link in a real
//! confirmation email), the goodbye page after unsubscribing and the page
//! after saving preferences, opened in headless Chromium (chromedriver) at
//! 375px and 1280px, light and dark (`prefers-color-scheme`, emulated
//! through Chromium's DevTools protocol); and the confirmation email itself
//! as a mail program shows it. Screenshots go to the test's own temporary
//! folder, never the repository.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use serde_json::{Value as Json, json};

use crate::brand::{BRAND, confirmation_for};
use crate::browser_util::{WAIT, eventually, png_size, with_browser};
use crate::send_util::{Faults, PyServer};
use crate::signup::{confirm_link, preference_links, serve, signup_test};

/// `BRAND_COLOR` of [`BRAND`], as a browser computes it.
const BRAND_RGB: &str = "rgb(138, 21, 56)";

/// Chromium's own command to show pages as in a light or dark system
/// setting (`Emulation.setEmulatedMedia`), through chromedriver.
#[derive(Debug)]
struct ColorScheme(&'static str);

impl WebDriverCompatibleCommand for ColorScheme {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": { "features": [{ "name": "prefers-color-scheme", "value": self.0 }] },
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// What a page looks like, measured in the browser.
const MEASURE: &str = "
    const style = e => getComputedStyle(e);
    const visible = e => e.getBoundingClientRect().height > 0 && style(e).visibility !== 'hidden'
        && e.getBoundingClientRect().left >= 0;
    const controls = [...document.querySelectorAll('input[type=text], input[type=email], select, button')]
        .filter(visible)
        .map(e => ({ what: e.outerHTML.slice(0, 60), height: e.getBoundingClientRect().height,
                     font: parseFloat(style(e).fontSize) }));
    const choices = [...document.querySelectorAll('.choice label')]
        .map(e => ({ what: e.textContent, height: e.getBoundingClientRect().height }));
    const logo = document.querySelector('header img');
    return {
        scroll: document.documentElement.scrollWidth, width: window.innerWidth,
        dark: matchMedia('(prefers-color-scheme: dark)').matches,
        h1: style(document.querySelector('h1')).color,
        band: style(document.querySelector('main')).borderTopColor,
        button: document.querySelector('button') ? style(document.querySelector('button')).backgroundColor : null,
        background: style(document.body).backgroundColor,
        body_font: parseFloat(style(document.body).fontSize),
        logo: logo ? { loaded: logo.complete && logo.naturalWidth > 0, width: logo.getBoundingClientRect().width } : null,
        footer: document.querySelector('footer').innerText,
        controls, choices,
    };";

/// Checks the page open in `client` (`name`, at `width`px in `scheme`)
/// and saves its screenshot in `folder`.
async fn check_page(client: &Client, name: &str, width: u32, scheme: &str, folder: &std::path::Path) {
    let at = format!("{name} at {width}px, {scheme}");
    let seen = client.execute(MEASURE, vec![]).await.unwrap_or_else(|e| panic!("{at}: {e}"));
    assert_eq!(seen["dark"], json!(scheme == "dark"), "{at}: the colour scheme is emulated");
    assert!(seen["scroll"].as_f64() <= seen["width"].as_f64(), "{at}: the page scrolls sideways: {seen:#}");
    assert!(seen["body_font"].as_f64().unwrap() >= 16.0, "{at}: {seen:#}");
    for control in seen["controls"].as_array().unwrap() {
        assert!(control["height"].as_f64().unwrap() >= 44.0, "{at}: too small to tap: {control}");
        assert!(control["font"].as_f64().unwrap() >= 16.0, "{at}: too small to read: {control}");
    }
    for choice in seen["choices"].as_array().unwrap() {
        assert!(choice["height"].as_f64().unwrap() >= 44.0, "{at}: too small to tap: {choice}");
    }
    // The brand colour: the band over the column, and a button's fill,
    // in both schemes; headings in it in light, lightened in dark.
    assert_eq!(seen["band"], json!(BRAND_RGB), "{at}: {seen:#}");
    if !seen["button"].is_null() {
        assert_eq!(seen["button"], json!(BRAND_RGB), "{at}: {seen:#}");
    }
    if scheme == "light" {
        assert_eq!(seen["h1"], json!(BRAND_RGB), "{at}: {seen:#}");
        assert_eq!(seen["background"], json!("rgb(242, 244, 247)"), "{at}");
    } else {
        assert_ne!(seen["h1"], json!(BRAND_RGB), "{at}: the dark heading is lightened to read");
        assert_eq!(seen["background"], json!("rgb(17, 20, 24)"), "{at}");
    }
    let logo = &seen["logo"];
    assert_eq!(logo["loaded"], json!(true), "{at}: the logo shows: {seen:#}");
    assert_eq!(logo["width"], json!(96), "{at}: the logo at LOGO_WIDTH: {seen:#}");
    let footer = seen["footer"].as_str().unwrap();
    assert!(
        footer.contains("Hope Trust") && footer.contains("2 High Street, Hopeton, HO1 2PE"),
        "{at}: {footer}"
    );
    assert!(!footer.contains("example.org"), "{at}: no reader's address in the footer: {footer}");
    let png = client.screenshot().await.unwrap_or_else(|e| panic!("{at}: no screenshot: {e}"));
    let (w, _) = png_size(&png);
    assert!(w >= width.min(375), "{at}: the screenshot is {w}px wide");
    std::fs::write(folder.join(format!("{name}-{width}-{scheme}.png")), png).unwrap();
}

/// Opens `url` and waits for its `h1` to say `heading`.
async fn open(client: &Client, url: &str, heading: &str) {
    client.goto(url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    wait_for_heading(client, heading).await;
}

async fn wait_for_heading(client: &Client, heading: &str) {
    eventually(&format!("the heading {heading:?}"), WAIT, async || {
        let h1 = client.execute("return document.querySelector('h1')?.textContent ?? ''", vec![]).await;
        match h1 {
            Ok(Json::String(text)) if text.contains(heading) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

async fn press(client: &Client, css: &str, heading: &str) {
    let button = client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
    button.click().await.unwrap_or_else(|e| panic!("cannot press {css}: {e}"));
    wait_for_heading(client, heading).await;
}

#[test]
fn the_sign_up_confirm_goodbye_and_saved_pages_fit_a_phone_and_a_desktop_in_light_and_dark_in_the_brand() {
    let smtp = PyServer::start(&Faults::new());
    let mut test = signup_test(&smtp, 2);
    for (key, value) in BRAND {
        test.set_env(key, value);
    }
    let unsubscribe = crate::unsubscribe::links(&test);
    let preferences = preference_links(&test);
    let server = serve(&test);
    let message = confirmation_for(&server, &smtp, &["prayer", "news"]);
    let confirm = server.local(&confirm_link(&message));
    let goodbye = server.local(&unsubscribe["reader02@example.org"]);
    let saved = server.local(&preferences["reader01@example.org"]);
    let form = format!("{}/subscribe", server.origin);
    let folder = test.join("screenshots");
    std::fs::create_dir_all(&folder).unwrap();

    with_browser(async |client: &Client| {
        for width in [375, 1280] {
            client.set_window_size(width, 900).await.expect("the window can be resized");
            for scheme in ["light", "dark"] {
                client.issue_cmd(ColorScheme(scheme)).await.expect("Chromium emulates the colour scheme");
                open(client, &form, "Sign up for").await;
                check_page(client, "sign-up", width, scheme, &folder).await;
                open(client, &confirm, "Confirm your sign-up").await;
                let shown = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
                assert!(shown.contains("Weekly prayer requests, News and stories"), "{shown}");
                check_page(client, "confirm", width, scheme, &folder).await;
                open(client, &saved, "preferences").await;
                for tag in ["prayer", "news"] {
                    let choice = client.find(Locator::Css(&format!("input[value={tag}]"))).await.unwrap();
                    if !choice.is_selected().await.unwrap() {
                        choice.click().await.unwrap();
                    }
                }
                press(client, "form input[value=save] ~ button", "Your choices are saved").await;
                let said = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
                assert!(
                    said.contains("Weekly prayer requests, News and stories"),
                    "the saved page names the labels: {said}"
                );
                check_page(client, "preferences-saved", width, scheme, &folder).await;
                open(client, &goodbye, "Unsubscribe from").await;
                press(client, "button", "You are unsubscribed").await;
                check_page(client, "goodbye", width, scheme, &folder).await;
            }
        }
    });
    let shots = std::fs::read_dir(&folder).unwrap().count();
    assert_eq!(shots, 16, "four pages, two widths, two schemes");
    eprintln!("screenshots in {}", folder.display());
}

/// The confirmation email's HTML as a mail program shows it: the logo part
/// put where its `cid:` address points, opened from disk.
#[test]
fn the_confirmation_email_fits_a_phone_and_a_desktop_in_light_and_dark_with_its_logo_and_button() {
    use base64::Engine as _;
    use mail_parser::MimeHeaders as _;

    let smtp = PyServer::start(&Faults::new());
    let mut test = signup_test(&smtp, 1);
    for (key, value) in BRAND {
        test.set_env(key, value);
    }
    let server = serve(&test);
    let eml = confirmation_for(&server, &smtp, &["prayer"]).eml();
    let message = eml.parse();
    let logo = message
        .parts
        .iter()
        .find(|p| p.content_type().is_some_and(|ct| ct.ctype() == "image"))
        .expect("the logo is carried inline");
    let data = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(logo.contents())
    );
    let html = eml.html().replace("cid:logo.png@bulletin", &data);
    let path = test.join("confirmation.html");
    std::fs::write(&path, html).unwrap();
    let url = format!("file://{}", path.display());
    let folder = test.join("screenshots");
    std::fs::create_dir_all(&folder).unwrap();

    with_browser(async |client: &Client| {
        for width in [375, 1280] {
            client.set_window_size(width, 900).await.expect("the window can be resized");
            for scheme in ["light", "dark"] {
                let at = format!("the email at {width}px, {scheme}");
                client.issue_cmd(ColorScheme(scheme)).await.expect("Chromium emulates the colour scheme");
                client.goto(&url).await.unwrap_or_else(|e| panic!("{at}: {e}"));
                let seen = eventually(&format!("{at}: the logo to load"), WAIT, async || {
                    let seen = client
                        .execute(
                            "const img = document.querySelector('img');
                             const button = document.querySelector('.button a');
                             return { loaded: img.complete && img.naturalWidth > 0,
                                      scroll: document.documentElement.scrollWidth, width: window.innerWidth,
                                      button: button.getBoundingClientRect().height,
                                      fill: getComputedStyle(button.parentElement).backgroundColor,
                                      h1: getComputedStyle(document.querySelector('h1')).color,
                                      page: getComputedStyle(document.body).backgroundColor,
                                      text: document.body.innerText };",
                            vec![],
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    if seen["loaded"] == json!(true) { Ok(seen) } else { Err(seen.to_string()) }
                })
                .await;
                assert!(
                    seen["scroll"].as_f64() <= seen["width"].as_f64(),
                    "{at}: scrolls sideways: {seen:#}"
                );
                assert!(seen["button"].as_f64().unwrap() >= 44.0, "{at}: {seen:#}");
                assert_eq!(seen["fill"], json!(BRAND_RGB), "{at}: the button keeps the brand colour");
                let page = if scheme == "light" { "rgb(242, 244, 247)" } else { "rgb(17, 20, 24)" };
                assert_eq!(seen["page"], json!(page), "{at}: {seen:#}");
                if scheme == "light" {
                    assert_eq!(seen["h1"], json!(BRAND_RGB), "{at}: {seen:#}");
                } else {
                    assert_ne!(seen["h1"], json!(BRAND_RGB), "{at}: lightened to read on dark: {seen:#}");
                }
                let text = seen["text"].as_str().unwrap();
                assert!(text.contains("2 High Street, Hopeton, HO1 2PE"), "{at}: {text}");
                assert!(text.contains(crate::brand::DO_NOTHING), "{at}: {text}");
                let png = client.screenshot().await.unwrap_or_else(|e| panic!("{at}: no screenshot: {e}"));
                std::fs::write(folder.join(format!("email-{width}-{scheme}.png")), png).unwrap();
            }
        }
    });
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 4);
}
