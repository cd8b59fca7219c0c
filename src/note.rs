//! Validated personal notes on invitations: limited in characters
//! (grapheme clusters) and bytes, with no control characters other than
//! line breaks and no bidirectional overrides.
//!
//! A note is optional. It is at most `max_chars` user-perceived characters
//! (extended grapheme clusters, so `👍🏽` or `e` + combining accent count as
//! one) and at most [`MAX_NOTE_BYTES`] UTF-8 bytes. It may not contain
//! control characters other than the line breaks `\n` and `\r` (so `\r\n`
//! is fine), nor bidirectional control characters. A note of only
//! whitespace is no note. Invalid notes are refused with the reason, never
//! silently cut.
//!
//! Refused as control characters: everything [`char::is_control`] reports
//! except `\n` and `\r` — this includes tab (`\t`) and the C1 control NEL
//! (U+0085). The Unicode separators U+2028 and U+2029 are not controls and
//! are allowed.
//!
//! Blankness is decided first, by [`char::is_whitespace`]: a text made only
//! of whitespace — including whitespace controls such as tab, vertical tab,
//! form feed or NEL — is no note (`Ok(None)`), not an error.
//!
//! Refused as bidirectional controls: U+202A–U+202E (embeddings and
//! overrides), U+2066–U+2069 (isolates), U+200E and U+200F (left-to-right and
//! right-to-left marks) and U+061C (Arabic letter mark).
//!
//! Refused as invisible characters, which could hide text or make two notes
//! look alike: the format characters (general category Cf, such as U+00AD,
//! U+200B, U+2060–U+2064, U+FEFF, U+FFF9–U+FFFB and the tag characters
//! U+E0000–U+E007F) and the other default-ignorable code points (the Hangul
//! fillers U+115F, U+1160, U+3164 and U+FFA0, U+034F, U+17B4–U+17B5,
//! U+180B–U+180F, the variation selectors), except where a character
//! belongs to a sequence that displays:
//! - a zero-width joiner (U+200D) or non-joiner (U+200C) that joins: inside
//!   a grapheme cluster (two emoji, `👩‍💻`; an Indic conjunct), or between
//!   two letters (Persian `می‌خواهم`); a dangling one is refused;
//! - one variation selector right after a visible character (`❤️`, or an
//!   ideographic variation); two in a row hide data and are refused;
//! - tag characters only in an emoji flag tag sequence: U+1F3F4, one to six
//!   tag letters or digits, U+E007F (`🏴󠁧󠁢󠁳󠁣󠁴󠁿`).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_segmentation::UnicodeSegmentation;

/// Maximum size of a note, in UTF-8 bytes.
pub const MAX_NOTE_BYTES: usize = 2000;

/// A validated, non-blank personal note.
///
/// The text is kept exactly as written: nothing is trimmed, normalised or
/// cut.
///
/// Serialises as its text. Deserialising validates the byte limit and the
/// character rules, and refuses blank text, but checks the grapheme count
/// only against [`MAX_NOTE_BYTES`] (that is, not at all beyond the byte
/// limit): the per-tier `note_max_chars` limit is a policy of the moment of
/// sending, which the caller re-checks with [`Note::chars`] at send time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Note {
    text: String,
    chars: usize,
}

/// Why a text is not an acceptable note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// More user-perceived characters (grapheme clusters) than allowed.
    #[error("note is too long: {chars} characters, at most {max} are allowed")]
    TooLong {
        /// Number of grapheme clusters in the note.
        chars: usize,
        /// The limit that applied.
        max: usize,
    },
    /// More UTF-8 bytes than [`MAX_NOTE_BYTES`].
    #[error("note is too large: {bytes} bytes, at most {max} are allowed")]
    TooManyBytes {
        /// Size of the note in UTF-8 bytes.
        bytes: usize,
        /// The limit, [`MAX_NOTE_BYTES`].
        max: usize,
    },
    /// A control character other than `\n` or `\r`.
    #[error(
        "note contains a control character (U+{code:04X}) at byte {position}; \
         only line breaks are allowed",
        code = u32::from(*.character)
    )]
    ControlCharacter {
        /// Byte offset of the character in the text (`&text[position..]`
        /// starts with it).
        position: usize,
        /// The refused character.
        character: char,
    },
    /// An invisible or format character outside a sequence that displays
    /// (see the [module documentation](self)), which could hide text.
    #[error(
        "note contains an invisible character (U+{code:04X}) at byte {position}",
        code = u32::from(*.character)
    )]
    InvisibleCharacter {
        /// Byte offset of the character in the text (`&text[position..]`
        /// starts with it).
        position: usize,
        /// The refused character.
        character: char,
    },
    /// A bidirectional control character (override, embedding, isolate or
    /// mark), which can make text display differently from what it says.
    #[error(
        "note contains a bidirectional control character (U+{code:04X}) at byte {position}",
        code = u32::from(*.character)
    )]
    BidiOverride {
        /// Byte offset of the character in the text (`&text[position..]`
        /// starts with it).
        position: usize,
        /// The refused character.
        character: char,
    },
}

impl Note {
    /// Validates a note allowing at most `max_chars` grapheme clusters.
    ///
    /// Returns `Ok(None)` when `text` is empty or only whitespace (a blank
    /// note is no note). Otherwise the text is kept exactly as written,
    /// including any leading or trailing whitespace.
    ///
    /// Checks, in order: blankness (only whitespace gives `Ok(None)`), the
    /// byte limit [`MAX_NOTE_BYTES`], the character rules (the first
    /// offending character is reported, with its byte offset), then the
    /// grapheme limit.
    ///
    /// # Errors
    ///
    /// Returns a [`NoteError`] saying why the note is refused. Never panics.
    ///
    /// # Example
    ///
    /// ```
    /// use pronet::note::{Note, NoteError};
    ///
    /// let note = Note::parse("Hi 👋🏽, let's connect!\r\n", 300)?.expect("not blank");
    /// assert_eq!(note.as_str(), "Hi 👋🏽, let's connect!\r\n");
    /// assert_eq!(note.chars(), 21); // 👋🏽 and \r\n are one character each
    ///
    /// assert_eq!(Note::parse("  \n ", 300)?, None);
    /// assert_eq!(
    ///     Note::parse("abc", 2),
    ///     Err(NoteError::TooLong { chars: 3, max: 2 })
    /// );
    /// assert!(matches!(
    ///     Note::parse("a\tb", 300),
    ///     Err(NoteError::ControlCharacter { position: 1, .. })
    /// ));
    /// # Ok::<(), NoteError>(())
    /// ```
    pub fn parse(text: &str, max_chars: usize) -> Result<Option<Self>, NoteError> {
        if text.chars().all(char::is_whitespace) {
            return Ok(None);
        }
        let bytes = text.len();
        if bytes > MAX_NOTE_BYTES {
            return Err(NoteError::TooManyBytes {
                bytes,
                max: MAX_NOTE_BYTES,
            });
        }
        for (position, character) in text.char_indices() {
            if is_bidi_control(character) {
                return Err(NoteError::BidiOverride {
                    position,
                    character,
                });
            }
            if character.is_control() && character != '\n' && character != '\r' {
                return Err(NoteError::ControlCharacter {
                    position,
                    character,
                });
            }
        }
        if let Some((position, character)) = first_invisible(text) {
            return Err(NoteError::InvisibleCharacter {
                position,
                character,
            });
        }
        let chars = text.graphemes(true).count();
        if chars > max_chars {
            return Err(NoteError::TooLong {
                chars,
                max: max_chars,
            });
        }
        Ok(Some(Self {
            text: text.to_owned(),
            chars,
        }))
    }

    /// The text, exactly as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of user-perceived characters (extended grapheme clusters).
    #[must_use]
    pub fn chars(&self) -> usize {
        self.chars
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for Note {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl Serialize for Note {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Note {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NoteVisitor;

        impl Visitor<'_> for NoteVisitor {
            type Value = Note;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-blank note string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Note, E> {
                match Note::parse(v, MAX_NOTE_BYTES) {
                    Ok(Some(note)) => Ok(note),
                    Ok(None) => Err(E::custom(
                        "a note may not be empty or only whitespace (a blank note is no note)",
                    )),
                    Err(err) => Err(E::custom(err)),
                }
            }
        }

        deserializer.deserialize_str(NoteVisitor)
    }
}

/// Invisible characters: format characters (Cf) and other default-ignorable
/// code points, bidirectional controls excluded (they are reported as such).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2065}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

/// The first invisible character not part of a sequence that displays (see
/// the module documentation), with its byte offset.
fn first_invisible(text: &str) -> Option<(usize, char)> {
    for (start, cluster) in text.grapheme_indices(true) {
        if !cluster.chars().any(is_invisible) {
            continue;
        }
        let chars: Vec<(usize, char)> = cluster.char_indices().collect();
        let flag = is_flag_tag_sequence(cluster);
        for (i, &(offset, c)) in chars.iter().enumerate() {
            let previous = i.checked_sub(1).map(|p| chars[p].1);
            let allowed = match c {
                // A joiner must join something: the next character in its
                // cluster (an emoji sequence, an Indic conjunct) or two
                // letters (Persian, Indic).
                '\u{200C}' | '\u{200D}' => {
                    let next = text[start + offset + c.len_utf8()..].chars().next();
                    i + 1 < chars.len()
                        || previous.is_some_and(char::is_alphabetic)
                            && next.is_some_and(char::is_alphabetic)
                }
                c if is_variation_selector(c) => {
                    previous.is_some_and(|p| !is_invisible(p) && !is_variation_selector(p))
                }
                c if is_tag(c) => flag,
                c => !is_invisible(c),
            };
            if !allowed {
                return Some((start + offset, c));
            }
        }
    }
    None
}

/// An emoji flag tag sequence: U+1F3F4, one to six tag letters or digits,
/// then the cancel tag U+E007F.
fn is_flag_tag_sequence(cluster: &str) -> bool {
    let mut chars = cluster.chars();
    if chars.next() != Some('\u{1F3F4}') {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    let Some((&last, spec)) = rest.split_last() else {
        return false;
    };
    last == '\u{E007F}'
        && (1..=6).contains(&spec.len())
        && spec
            .iter()
            .all(|c| matches!(c, '\u{E0030}'..='\u{E0039}' | '\u{E0061}'..='\u{E007A}'))
}

/// The bidirectional control characters refused in notes.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_name_the_problem() {
        let err = NoteError::ControlCharacter {
            position: 3,
            character: '\t',
        };
        assert_eq!(
            err.to_string(),
            "note contains a control character (U+0009) at byte 3; only line breaks are allowed"
        );
        let err = NoteError::BidiOverride {
            position: 0,
            character: '\u{202E}',
        };
        assert_eq!(
            err.to_string(),
            "note contains a bidirectional control character (U+202E) at byte 0"
        );
    }

    #[test]
    fn bytes_are_checked_before_characters() {
        let text = format!("\t{}", "a".repeat(MAX_NOTE_BYTES));
        assert_eq!(
            Note::parse(&text, MAX_NOTE_BYTES),
            Err(NoteError::TooManyBytes {
                bytes: MAX_NOTE_BYTES + 1,
                max: MAX_NOTE_BYTES
            })
        );
    }
}
