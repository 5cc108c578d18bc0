//! Lints: what works but hurts delivery or the reader, found in the
//! bulletin, in the settings, or in the message one reader gets.
//!
//! Each finding is one line that names the bulletin file and line (or the
//! setting), says why it matters and how to fix it. `bulletin check` lists
//! them as warnings; none of them stops a run.

mod content;
pub mod dns;
mod findings;
mod image_ratio;
mod parts;
mod settings;

pub use content::{SLOT, bulletin, slots};
pub use findings::{Findings, findings, findings_with_journal};
pub use image_ratio::{ImageRatio, image_ratio};
pub use parts::{PartsDifference, difference};
pub use settings::{examples, settings};

use crate::content::Bulletin;
use crate::message::GMAIL_CLIP_BYTES;
use crate::render::Personalised;

/// Subjects longer than this many characters are cut off in most inboxes:
/// phones show roughly the first 35 to 50, Gmail on a computer about 70.
/// Common guidance (Mailchimp, Litmus, Campaign Monitor) is 60 at most.
pub const SUBJECT_MAX_CHARS: usize = 60;

/// A message whose parts differ by more than this share of words (in either
/// direction, see [`difference`]) is reported.
pub const PARTS_MAX_DIFFERENCE: f64 = 0.10;

/// Lints of one reader's message: its size, its subject as that reader
/// sees it, and whether its plaintext says what its HTML says.
pub fn message(bulletin: &Bulletin, content: &Personalised) -> Vec<String> {
    let path = bulletin.path.display();
    let mut warnings = Vec::new();
    if content.html.len() > GMAIL_CLIP_BYTES {
        warnings.push(format!(
            "{path}: the HTML part is {} KB; Gmail clips messages over {} KB and hides the rest, with the \
             footer's unsubscribe link and postal address, behind \"View entire message\"; shorten the \
             bulletin, or put the full text on your website and link to it",
            content.html.len() / 1024,
            GMAIL_CLIP_BYTES / 1024
        ));
    }
    let length = content.subject.chars().count();
    if length > SUBJECT_MAX_CHARS {
        warnings.push(format!(
            "{path}:{}: the subject is {length} characters long; phones show only about the first 40 and \
             Gmail on a computer about 70, so its end is cut off; keep it to {SUBJECT_MAX_CHARS} characters \
             or fewer, with the words that matter first",
            bulletin.subject_line
        ));
    }
    let difference = difference(&content.html, &content.text);
    if difference.exceeds(PARTS_MAX_DIFFERENCE) {
        warnings.push(format!(
            "{path}: the plaintext and HTML parts say different things ({difference}); spam filters compare \
             the two (SpamAssassin's MPART_ALT_DIFF) and distrust messages whose parts disagree; both are \
             written from the same bulletin, so this is a bug in bulletin: please report it with the bulletin"
        ));
    }
    warnings
}

#[cfg(test)]
mod tests;
