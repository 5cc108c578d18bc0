//! The HTML part, built with Maud in the shape email clients cope with:
//! presentation tables, a 600px column that goes full width on phones,
//! inline styles, and a `<style>` block only for media queries (phones, dark
//! mode).

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Slot, Slots};
use crate::config::{Brand, Settings};
use crate::content::{Block, Bulletin, Inline};
use crate::domain::Colour;

pub(super) const FONT: &str =
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";
const PAGE_BG: &str = "#f2f4f7";
const CARD_BG: &str = "#ffffff";
const INK: &str = "#1f2933";
const MUTED: &str = "#52606d";

/// The dark-mode card, which headings and links must read on.
pub const DARK_CARD: Colour = Colour::rgb(0x1b, 0x1f, 0x24);
/// The dark-mode page around the card, which the footer's links stand on.
pub const DARK_PAGE: Colour = Colour::rgb(0x11, 0x14, 0x18);
/// The dark-mode box of a quote, which links in it stand on.
pub const DARK_QUOTE: Colour = Colour::rgb(0x23, 0x2a, 0x33);

/// Where text in the brand colour stands in dark mode (as [`on_dark`]
/// shows it), with what stands there, for `bulletin check`.
pub const DARK_SURFACES: [(Colour, &str); 3] = [
    (DARK_CARD, "the card that headings and links stand on"),
    (DARK_QUOTE, "the box of a quote (its links)"),
    (DARK_PAGE, "the page behind the footer's links"),
];

/// The brand colour for text in dark mode: as it is if it reads on
/// [`DARK_CARD`] (WCAG AA, 4.5:1), else lightened until it does.
pub fn on_dark(color: Colour) -> Colour {
    (0..=10)
        .map(|step| color.mix(Colour::WHITE, f64::from(step) / 10.0))
        .find(|c| c.contrast(DARK_CARD) >= 4.5)
        .unwrap_or(Colour::WHITE)
}

/// A light tint of the brand colour, for rules and the line under a section heading.
fn tint(color: Colour) -> Colour {
    color.mix(Colour::WHITE, 0.7)
}

/// Media queries: the only CSS that cannot be inline. Clients that drop it
/// still get the light, fluid layout. Dark mode shows the brand colour
/// lightened as [`on_dark`] says; a button keeps its colours.
fn media_queries(brand: &Brand) -> String {
    let accent = on_dark(brand.color);
    let label = brand.text_color;
    format!(
        "\
@media screen and (max-width:620px){{\
.container{{width:100%!important}}\
.pad{{padding:24px 18px!important}}\
.h1{{font-size:24px!important}}}}\
@media (prefers-color-scheme:dark){{\
.bg{{background-color:{DARK_PAGE}!important}}\
.card{{background-color:{DARK_CARD}!important}}\
.ink,.ink p,.ink li,.ink h1,.ink h2,.ink h3{{color:#e6e8eb!important}}\
.muted{{color:#a9b1bb!important}}\
.ink .accent,.accent{{color:{accent}!important}}\
.section{{border-color:#3a4350!important}}\
.quote{{background-color:{DARK_QUOTE}!important;border-color:{accent}!important}}\
a{{color:{accent}!important}}\
.button a{{color:{label}!important}}}}\
[data-ogsc] .ink,[data-ogsc] .ink p,[data-ogsc] .ink li{{color:#e6e8eb!important}}\
[data-ogsc] a{{color:{accent}!important}}\
[data-ogsc] .button a{{color:{label}!important}}"
    )
}

/// Fills the preview line after the preheader so clients do not pull body
/// text into it.
const PREHEADER_FILLER: &str = "&#847;&zwnj;&nbsp;&#8199;&#65279;";

/// Outlook for Windows ignores `max-width`; a fixed-width table only it sees
/// keeps the column at 600px there.
const MSO_OPEN: &str = "<!--[if mso]><table role=\"presentation\" align=\"center\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td><![endif]-->";
const MSO_CLOSE: &str = "<!--[if mso]></td></tr></table><![endif]-->";

/// The whole HTML document, with slot markers where reader values go.
pub(super) fn render(bulletin: &Bulletin, settings: &Settings, slots: &mut Slots) -> String {
    let subject = slots.template(&bulletin.subject);
    let preheader = slots.template(&bulletin.preheader);
    let title = bulletin.title.as_ref().map(|t| slots.template(t));
    let brand = &settings.brand;
    let body = blocks(&bulletin.blocks, slots, brand);
    let email = slots.marker(Slot::Email);
    let unsubscribe = slots.marker(Slot::UnsubscribeUrl);
    let preferences = settings.preferences_url.as_ref().map(|_| slots.marker(Slot::PreferencesUrl));
    // A web page has no reader; an email links its page when there is an archive.
    let web = slots.web.clone();
    let archive = if web.is_none() { super::ArchiveLinks::of(settings, bulletin) } else { None };
    let heading = title.clone().or_else(|| web.as_ref().map(|_| subject.clone()));
    let above = archive.as_ref().map(|archive| {
        html! {
            p class="muted" style={ "margin:0 0 16px;" (FONT) "font-size:14px;line-height:1.5;color:" (MUTED) ";text-align:center;" } {
                a href=(archive.issue) style={ "color:" (brand.color) ";text-decoration:underline;" } { "View this email in your browser" }
            }
        }
    });
    let footer = match &web {
        Some(web) => web_footer(web, settings),
        None => {
            let links = html! {
                a href=(unsubscribe) style={ "color:" (brand.color) ";text-decoration:underline;" } { "Unsubscribe" }
                @if let Some(archive) = &archive {
                    " · "
                    a href=(archive.index) style={ "color:" (brand.color) ";text-decoration:underline;" } { "Past issues" }
                }
                @if let Some(preferences) = &preferences {
                    " · "
                    a href=(preferences) style={ "color:" (brand.color) ";text-decoration:underline;" } { "Preferences" }
                }
            };
            email_footer(settings, &settings.subscription_reason, &email, links)
        }
    };
    shell(
        &Shell {
            lang: bulletin.lang.as_str(),
            subject: &subject,
            preheader: web.is_none().then_some(preheader.as_str()),
            above,
            logo: slots.logo.as_ref(),
            heading: heading.as_deref(),
            body,
            footer,
        },
        brand,
    )
}

/// What the document around a message's card holds: the bulletin's and
/// the list's own emails ([`super::notice`]) share it.
pub(super) struct Shell<'a> {
    pub lang: &'a str,
    /// The document's title and the article's label.
    pub subject: &'a str,
    /// The hidden line inbox lists show; `None` for a web page.
    pub preheader: Option<&'a str>,
    /// A line above the card (the archive's "View this email in your browser").
    pub above: Option<Markup>,
    pub logo: Option<&'a super::ShownLogo>,
    /// The heading at the top of the card.
    pub heading: Option<&'a str>,
    pub body: Markup,
    /// What goes under the card.
    pub footer: Markup,
}

/// The whole HTML document: the page, the card with the logo, heading and
/// body, and the footer under it.
pub(super) fn shell(shell: &Shell, brand: &Brand) -> String {
    let Shell { lang, subject, preheader, above, logo, heading, body, footer } = shell;
    let document = html! {
        (DOCTYPE)
        html lang=(lang) xmlns="http://www.w3.org/1999/xhtml" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="X-UA-Compatible" content="IE=edge";
                meta name="x-apple-disable-message-reformatting";
                meta name="format-detection" content="telephone=no, date=no, address=no, email=no, url=no";
                meta name="color-scheme" content="light dark";
                meta name="supported-color-schemes" content="light dark";
                title { (subject) }
                style { (PreEscaped(media_queries(brand))) }
            }
            body class="bg" style={ "margin:0;padding:0;width:100%;background-color:" (PAGE_BG) ";" } {
                @if let Some(preheader) = preheader {
                div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;" {
                    (preheader)
                    (PreEscaped(PREHEADER_FILLER.repeat(30)))
                }
                }
                div role="article" aria-roledescription="email" aria-label=(subject) lang=(lang) {
                    table role="presentation" class="bg" width="100%" cellpadding="0" cellspacing="0" border="0"
                        style={ "width:100%;background-color:" (PAGE_BG) ";" } {
                        tr { td align="center" style="padding:24px 12px;" {
                            @if let Some(above) = above { (above) }
                            (PreEscaped(MSO_OPEN))
                            table role="presentation" class="container card" width="600" cellpadding="0" cellspacing="0" border="0"
                                style={ "width:100%;max-width:600px;background-color:" (CARD_BG) ";border-radius:8px;" } {
                                tr { td class="pad ink" style={ "padding:32px 40px;" (FONT) "font-size:16px;line-height:1.5;color:" (INK) ";text-align:left;" } {
                                    @if let Some(logo) = logo {
                                        img src=(logo.url) alt=(logo.alt) width=(logo.width) height=[logo.height]
                                            style={ "display:block;width:" (logo.width) "px;max-width:100%;height:auto;border:0;margin:0 0 24px;" };
                                    }
                                    @if let Some(title) = heading {
                                        h1 class="h1 accent" style={ "margin:0 0 24px;" (FONT) "font-size:28px;line-height:1.25;font-weight:700;color:" (brand.color) ";" } { (title) }
                                    }
                                    (body)
                                } }
                            }
                            table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;" {
                                tr { td class="muted" style={ "padding:24px 40px;" (FONT) "font-size:14px;line-height:1.5;color:" (MUTED) ";text-align:center;" } {
                                    (footer)
                                } }
                            }
                            (PreEscaped(MSO_CLOSE))
                        } }
                    }
                }
            }
        }
    };
    document.into_string()
}

/// An email's footer: the organisation and its postal address, why the
/// reader gets it and at which address (`email`, a slot marker or the
/// address itself), then `links` (an email's own first), the website, the
/// donate link and the social links.
pub(super) fn email_footer(settings: &Settings, reason: &str, email: &str, links: Markup) -> Markup {
    let brand = &settings.brand;
    html! {
        p style="margin:0 0 8px;" {
            strong { (settings.org_name) }
            br;
            (settings.org_address)
        }
        p style="margin:0 0 8px;" {
            (reason) " "
            "This email was sent to " (email) "."
        }
        p style="margin:0;" {
            (links)
            @if let Some(site) = &settings.org_website {
                @if !links.0.is_empty() { " · " }
                a href=(site.as_url().as_str()) style={ "color:" (brand.color) ";text-decoration:underline;" } { (settings.org_name) " website" }
            }
            @if let Some(donate) = &brand.donate_url {
                @if !links.0.is_empty() || settings.org_website.is_some() { " · " }
                a href=(donate.as_url().as_str()) style={ "color:" (brand.color) ";text-decoration:underline;" } { "Donate" }
            }
        }
        @if !brand.social.is_empty() {
            p style="margin:8px 0 0;" {
                @for (i, (words, url)) in brand.social.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href=(url.as_url().as_str()) style={ "color:" (brand.color) ";text-decoration:underline;" } { (words) }
                }
            }
        }
    }
}

/// A notice of the list's own ([`super::notice`]): its blocks
/// in the bulletin's card, its footer without an unsubscribe link (the
/// reader is on no list yet).
pub(super) fn notice(said: &super::Said, settings: &Settings, slots: &mut Slots) -> String {
    let brand = &settings.brand;
    let body = blocks(said.blocks, slots, brand);
    let footer = email_footer(settings, said.reason, said.email, html! {});
    shell(
        &Shell {
            lang: "en",
            subject: said.heading,
            preheader: Some(said.preheader),
            above: None,
            logo: slots.logo.as_ref(),
            heading: Some(said.heading),
            body,
            footer,
        },
        brand,
    )
}

/// A web page's footer: the organisation, a subscribe link instead of an
/// unsubscribe one, the archive and its feed; no address of anyone's.
fn web_footer(web: &super::WebPage, settings: &Settings) -> Markup {
    let brand = &settings.brand;
    let link = |href: &str, words: &str| {
        html! { a href=(href) style={ "color:" (brand.color) ";text-decoration:underline;" } { (words) } }
    };
    let mut links = Vec::new();
    if let Some(subscribe) = &settings.subscribe_url {
        links.push(link(subscribe.as_url().as_str(), "Subscribe"));
    }
    links.push(link(&web.index, "All issues"));
    links.push(link(&web.feed, "Feed"));
    if let Some(site) = &settings.org_website {
        links.push(link(site.as_url().as_str(), &format!("{} website", settings.org_name)));
    }
    if let Some(donate) = &brand.donate_url {
        links.push(link(donate.as_url().as_str(), "Donate"));
    }
    links.extend(brand.social.iter().map(|(words, url)| link(url.as_url().as_str(), words)));
    html! {
        p style="margin:0 0 8px;" { strong { (settings.org_name) } }
        p style="margin:0;" {
            @for (i, link) in links.iter().enumerate() {
                @if i > 0 { " · " }
                (link)
            }
        }
    }
}

fn blocks(blocks: &[Block], slots: &mut Slots, brand: &Brand) -> Markup {
    html! {
        @for block in blocks { (self::block(block, slots, brand)) }
    }
}

fn block(block: &Block, slots: &mut Slots, brand: &Brand) -> Markup {
    match block {
        Block::Heading { level, content } => {
            let content = inlines(content, slots, brand);
            match level {
                1 => {
                    html! { h1 class="h1 accent" style={ "margin:32px 0 16px;" (FONT) "font-size:26px;line-height:1.25;font-weight:700;color:" (brand.color) ";" } { (content) } }
                }
                2 => {
                    html! { h2 class="accent section" style={ "margin:32px 0 12px;padding:0 0 6px;border-bottom:2px solid " (tint(brand.color)) ";" (FONT) "font-size:21px;line-height:1.3;font-weight:700;color:" (brand.color) ";" } { (content) } }
                }
                _ => {
                    html! { h3 style={ "margin:24px 0 8px;" (FONT) "font-size:18px;line-height:1.35;font-weight:700;color:" (INK) ";" } { (content) } }
                }
            }
        }
        Block::Paragraph { content, .. } => {
            html! { p style="margin:0 0 16px;" { (inlines(content, slots, brand)) } }
        }
        Block::List { start, items } => {
            let items: Vec<Markup> = items.iter().map(|item| list_item(item, slots, brand)).collect();
            let style = "margin:0 0 16px;padding:0 0 0 26px;";
            match start {
                None => html! { ul style=(style) { @for item in &items { (item) } } },
                Some(1) => html! { ol style=(style) { @for item in &items { (item) } } },
                Some(n) => html! { ol start=(n) style=(style) { @for item in &items { (item) } } },
            }
        }
        Block::Quote { body, attribution } => {
            let body = blocks(body, slots, brand);
            let attribution = attribution.as_ref().map(|a| inlines(a, slots, brand));
            html! {
                blockquote class="quote" style={ "margin:0 0 24px;padding:16px 20px;background-color:#f3f6fa;border-left:4px solid " (brand.color) ";font-size:17px;line-height:1.55;font-style:italic;" } {
                    (body)
                    @if let Some(attribution) = attribution {
                        p class="muted" style={ "margin:0;font-style:normal;font-size:15px;text-align:right;color:" (MUTED) ";" } { "— " (attribution) }
                    }
                }
            }
        }
        Block::Code(code) => html! {
            pre style="margin:0 0 16px;padding:12px;background-color:#f3f6fa;font-family:Menlo,Consolas,monospace;font-size:14px;line-height:1.45;white-space:pre-wrap;word-wrap:break-word;" { (code) }
        },
        Block::Button { label, url, .. } => {
            let width = button_width(&crate::content::markdown::plain_text(label));
            button(&inlines(label, slots, brand), url, width, brand)
        }
        Block::Rule => html! {
            hr style={ "margin:24px 0;border:0;border-top:1px solid " (tint(brand.color)) ";height:0;" };
        },
    }
}

/// The button's height in Outlook for Windows' VML: the others' 14px of
/// padding above and below a 20px line.
const BUTTON_HEIGHT: u32 = 48;

/// How wide Outlook for Windows draws a button labelled `label` (VML
/// shapes do not grow to their text): about 10px a character of 17px bold
/// type, with the others' 28px padding each side, within the column.
pub(super) fn button_width(label: &str) -> u32 {
    let chars = u32::try_from(label.chars().count()).unwrap_or(u32::MAX);
    chars.saturating_mul(10).saturating_add(56).clamp(120, 520)
}

/// A bulletproof button: a table cell filled with the brand colour (as
/// `bgcolor` too), its link padded to 48px high; Outlook for Windows, which
/// ignores padding on links and rounded corners, gets a VML rounded
/// rectangle of its own instead (the table is hidden from it).
pub(super) fn button(label: &Markup, url: &str, width: u32, brand: &Brand) -> Markup {
    let href = html! { (url) }.into_string();
    let vml = format!(
        "<!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" \
         xmlns:w=\"urn:schemas-microsoft-com:office:word\" href=\"{href}\" \
         style=\"height:{BUTTON_HEIGHT}px;v-text-anchor:middle;width:{width}px;\" arcsize=\"13%\" stroke=\"f\" \
         fillcolor=\"{color}\"><w:anchorlock/><center style=\"color:{text};{FONT}font-size:17px;font-weight:bold;\">\
         {label}</center></v:roundrect><![endif]-->",
        color = brand.color,
        text = brand.text_color,
        label = label.0,
    );
    html! {
        (PreEscaped(vml))
        (PreEscaped("<!--[if !mso]><!-->"))
        table role="presentation" class="button" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 24px;border-collapse:separate;" {
            tr { td align="center" bgcolor=(brand.color) style={ "border-radius:6px;background-color:" (brand.color) ";mso-padding-alt:14px 28px;" } {
                a href=(url) style={ "display:inline-block;padding:14px 28px;mso-padding-alt:0;" (FONT) "font-size:17px;line-height:20px;font-weight:700;color:" (brand.text_color) ";text-decoration:none;border-radius:6px;" } { (label) }
            } }
        }
        (PreEscaped("<!--<![endif]-->"))
    }
}

/// A list item: a first paragraph sits in the `<li>` itself, so bullets line
/// up with the text in every client.
fn list_item(item: &[Block], slots: &mut Slots, brand: &Brand) -> Markup {
    let (first, rest) = match item.split_first() {
        Some((Block::Paragraph { content, .. }, rest)) => (Some(inlines(content, slots, brand)), rest),
        _ => (None, item),
    };
    let rest = blocks(rest, slots, brand);
    html! {
        li style="margin:0 0 10px;" {
            @if let Some(first) = first { (first) }
            (rest)
        }
    }
}

fn inlines(content: &[Inline], slots: &mut Slots, brand: &Brand) -> Markup {
    html! {
        @for inline in content {
            @match inline {
                Inline::Text(text) => (text),
                Inline::Field(field) => (slots.field(field)),
                Inline::Strong(inner) => strong { (inlines(inner, slots, brand)) },
                Inline::Emphasis(inner) => em { (inlines(inner, slots, brand)) },
                Inline::Strikethrough(inner) => s { (inlines(inner, slots, brand)) },
                Inline::Code(code) => code style="font-family:Menlo,Consolas,monospace;font-size:15px;" { (code) },
                Inline::Link { url, content, .. } => a href=(url) style={ "color:" (brand.color) ";text-decoration:underline;" } { (inlines(content, slots, brand)) },
                Inline::Image { url, alt, .. } if slots.images.contains_key(url) => {
                    @let shown = &slots.images[url];
                    img src=(shown.url) alt=(alt) width=(shown.width) height=(shown.height) style="display:block;max-width:100%;height:auto;border:0;margin:0 auto;";
                }
                Inline::Image { url, alt, .. } => img src=(url) alt=(alt) style="display:block;max-width:100%;height:auto;border:0;margin:0 auto;";
                Inline::LineBreak => br;
            }
        }
    }
}
