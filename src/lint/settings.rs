//! Lints of the settings: what the law and the big mailbox providers expect
//! every bulk message to carry.

use super::Findings;
use crate::config::Settings;
use crate::domain::Colour;

/// Words that mark an address as a stand-in rather than a real one.
const PLACEHOLDER_WORDS: [&str; 9] =
    ["example", "todo", "tbd", "tba", "xxx", "lorem", "your address", "changeme", "change me"];

/// What in `settings` hurts delivery, one line each, naming the setting.
pub fn settings(settings: &Settings) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(problem) = org_address(settings) {
        warnings.push(format!(
            "setting ORG_ADDRESS {problem}; the footer must show your organisation's postal address: US \
             (CAN-SPAM) and Canadian (CASL) law require a valid one in bulk email, and mail without one \
             looks anonymous to readers and spam filters; set ORG_ADDRESS in .env to the full address \
             (street, town, postal code, country)"
        ));
    }
    if settings.unsubscribe_url.is_none() {
        warnings.push(
            "setting UNSUBSCRIBE_URL is not set, so messages offer no one-click unsubscribe \
             (List-Unsubscribe-Post, RFC 8058), only an email to UNSUBSCRIBE_MAILTO; Gmail and Yahoo \
             require one-click unsubscribe of anyone sending them 5,000 or more messages a day, and \
             readers who cannot leave easily report spam instead; set UNSUBSCRIBE_URL and \
             UNSUBSCRIBE_SECRET and run `bulletin serve` (see the user \
             guide, Deliverability, \"One-click unsubscribe\")"
                .to_owned(),
        );
    }
    if let Some(dkim) = &settings.dkim {
        warnings.extend(dkim.warnings());
        // A placeholder sender has its own warning; no need to say it does not align.
        if !settings.placeholders.contains(&"FROM_EMAIL") {
            warnings.extend(dkim.alignment_warning(settings.from_email.as_lettre().domain()));
        }
    }
    warnings.extend(bounce_alignment(settings));
    warnings.extend(contrast(settings));
    warnings
}

/// The settings a real send refuses, one finding each: required ones left
/// empty (errors when a settings file is in use, `has_file`; without one
/// the placeholder warning says it, so the repository's sample checks as
/// before), and the example's values (errors when the list reaches anyone,
/// `reaches_anyone`; warnings for a list only of example addresses, which
/// a send accepts).
pub fn examples(found: &mut Findings, settings: &Settings, has_file: bool, reaches_anyone: bool) {
    if has_file {
        found.errors.extend(settings.placeholders.iter().map(|key| {
            format!(
                "setting {key} is empty; a real send refuses to go without it (the footer and the From \
                 address would show an example.org placeholder); set it in .env"
            )
        }));
    } else {
        found.warnings.extend(settings.placeholder_warning());
    }
    let examples = settings.examples.iter().map(|example| {
        format!(
            "setting {example} is the worked example's, not your organisation's; a real send refuses it so \
             that nothing of the example reaches a supporter; set your own in .env, or empty it"
        )
    });
    if reaches_anyone {
        found.errors.extend(examples);
    } else {
        let only = "; for now every recipient is on an example domain, which reaches no one";
        found.warnings.extend(examples.map(|line| line + only));
    }
}

/// WCAG AA's least contrast for body-size text.
pub const MIN_CONTRAST: f64 = 4.5;

/// Brand colours that readers with weak sight (or on a phone in the sun)
/// cannot read: the brand colour as heading and link text on the white card,
/// the brand colour as dark mode shows it (lightened, see `render::on_dark`)
/// on each dark surface it stands on, and the button's label on the brand
/// colour, which a button keeps in light and dark mode alike.
fn contrast(settings: &Settings) -> Vec<String> {
    let brand = &settings.brand;
    let mut warnings = Vec::new();
    let on_white = brand.color.contrast(Colour::WHITE);
    if on_white < MIN_CONTRAST {
        warnings.push(format!(
            "setting BRAND_COLOR = {} has a contrast ratio of {on_white:.2}:1 with the white card that headings \
             and links stand on (light mode); WCAG AA asks for at least {MIN_CONTRAST}:1, so readers with weak \
             sight, or on a phone in the sun, struggle to read them; choose a darker BRAND_COLOR",
            brand.color
        ));
    }
    // Dark mode shows the brand colour lightened until it reads on the
    // card; it can still be faint on the other dark surfaces it stands on.
    let dark = crate::render::on_dark(brand.color);
    let faintest = crate::render::DARK_SURFACES
        .iter()
        .map(|(surface, what)| (dark.contrast(*surface), *surface, *what))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((ratio, surface, what)) = faintest.filter(|(ratio, ..)| *ratio < MIN_CONTRAST) {
        warnings.push(format!(
            "setting BRAND_COLOR = {} shows in dark mode as {dark} (lightened to read on the dark card), which \
             has a contrast ratio of {ratio:.2}:1 with {surface}, {what}; WCAG AA asks for at least \
             {MIN_CONTRAST}:1, so readers using dark mode struggle to read it there; choose a BRAND_COLOR \
             a little lighter (that still reads on white)",
            brand.color
        ));
    }
    let button = brand.text_color.contrast(brand.color);
    if button < MIN_CONTRAST {
        warnings.push(format!(
            "setting BRAND_TEXT_COLOR = {} has a contrast ratio of {button:.2}:1 with BRAND_COLOR = {} behind a \
             button's label (light and dark mode); WCAG AA asks for at least {MIN_CONTRAST}:1; set \
             BRAND_TEXT_COLOR to {} (or leave it unset to have it chosen), or choose another BRAND_COLOR",
            brand.text_color,
            brand.color,
            crate::config::text_on(brand.color)
        ));
    }
    warnings
}

/// SPF vouches for the envelope sender's domain; DMARC counts it only when
/// that domain aligns with `From`'s. Without an aligned DKIM signature
/// (bulletin's, or one the relay adds), a bounce address elsewhere leaves
/// DMARC nothing to pass on.
fn bounce_alignment(settings: &Settings) -> Option<String> {
    let bounce = settings.bounce_address.as_ref()?;
    let from = settings.from_email.as_lettre().domain();
    if crate::dkim::alignment(bounce.as_lettre().domain(), from) != crate::dkim::Alignment::None {
        return None;
    }
    Some(format!(
        "setting BOUNCE_ADDRESS ({bounce}) is not on FROM_EMAIL's domain ({from}) or its organisational \
         domain, so the SPF check receivers make on it cannot align with the From address: DMARC then \
         passes only on a DKIM signature by {from} (set up DKIM, or use a bounce address under {from})"
    ))
}

/// Why the postal address is not usable, if it is not.
fn org_address(settings: &Settings) -> Option<String> {
    let address = settings.org_address.as_str();
    if settings.placeholders.contains(&"ORG_ADDRESS") {
        return Some(format!("is not set, so the footer shows the placeholder \"{address}\""));
    }
    let lower = address.to_lowercase();
    if let Some(word) = PLACEHOLDER_WORDS.iter().find(|w| lower.contains(*w)) {
        return Some(format!("= \"{address}\" looks like a placeholder (\"{word}\")"));
    }
    if !address.chars().any(|c| c.is_ascii_digit()) {
        return Some(format!(
            "= \"{address}\" does not look like a full postal address (no house number, PO box or postal code)"
        ));
    }
    None
}
