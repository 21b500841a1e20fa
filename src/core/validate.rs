//! Field rules for task input, as types: a [`Title`], [`Description`], [`Position`]
//! or [`RequestId`] exists only once its raw value passed the rule, so the operations
//! that build or change a task cannot be handed unchecked input. Each failure names
//! the lowerCamelCase field at fault.

use super::error::{Error, Result};

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const REQUEST_ID_MAX_CHARS: usize = 200;

/// A task title: one line of visible text ([`one_line`]), trimmed, 1 to 200 characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self> {
        let t = one_line("title", raw)?;
        let n = t.chars().count();
        if n > TITLE_MAX_CHARS {
            return Err(Error::invalid(
                "title",
                format!("title must be at most {TITLE_MAX_CHARS} characters (got {n})"),
            ));
        }
        Ok(Title(t.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

pub const NAME_MAX_CHARS: usize = 100;

/// A board or list name: one line of visible text ([`one_line`]), trimmed, 1 to 100
/// characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self> {
        let t = one_line("name", raw)?;
        let n = t.chars().count();
        if n > NAME_MAX_CHARS {
            return Err(Error::invalid(
                "name",
                format!("name must be at most {NAME_MAX_CHARS} characters (got {n})"),
            ));
        }
        Ok(Name(t.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

pub const LABEL_NAME_MAX_CHARS: usize = 50;
/// At most this many assignees, or labels, on one task.
pub const MAX_TASK_IDS: usize = 50;

/// A label name: one line of visible text ([`one_line`]), trimmed, 1 to 50 characters.
pub fn label_name(raw: &str) -> Result<String> {
    let t = one_line("name", raw)?;
    let n = t.chars().count();
    if n > LABEL_NAME_MAX_CHARS {
        return Err(Error::invalid(
            "name",
            format!("name must be 1 to {LABEL_NAME_MAX_CHARS} printable characters (got {n})"),
        ));
    }
    Ok(t.to_owned())
}

/// A label color: `#rrggbb` in hex (upper case accepted), kept lowercase.
#[derive(Clone, Debug, PartialEq)]
pub struct Color(String);

impl Color {
    pub fn parse(raw: &str) -> Result<Self> {
        let hex = raw.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "color",
                format!("color must be `#rrggbb` in hex, such as `#1f883d` (got `{raw}`)"),
            ));
        }
        Ok(Color(raw.to_ascii_lowercase()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A set of ids (`assigneeIds`, `labelIds`): none empty, at most [`MAX_TASK_IDS`];
/// sorted, duplicates dropped.
pub fn id_set(field: &str, raw: &[String]) -> Result<Vec<String>> {
    if raw.iter().any(String::is_empty) {
        return Err(Error::invalid(field, format!("{field} must not hold an empty id")));
    }
    let mut ids = raw.to_vec();
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_TASK_IDS {
        return Err(Error::invalid(
            field,
            format!("{field} may hold at most {MAX_TASK_IDS} ids (got {})", ids.len()),
        ));
    }
    Ok(ids)
}

/// A due date: a timestamp within years 1 to 9999 (what RFC 3339 can write).
pub fn due_at(raw: Option<prost_types::Timestamp>) -> Result<Option<prost_types::Timestamp>> {
    const MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    match raw {
        Some(ts) if !(MIN..=MAX).contains(&ts.seconds) || !(0..1_000_000_000).contains(&ts.nanos) => Err(
            Error::invalid("dueAt", "dueAt must be a valid date between the years 1 and 9999"),
        ),
        // Kept to the millisecond, as stored.
        Some(ts) => Ok(Some(super::time::from_millis(super::time::to_millis(&ts)))),
        None => Ok(None),
    }
}

/// A task description: up to 10,000 characters, kept as written; newlines and tabs are
/// allowed, other control characters and bidirectional overrides are not.
#[derive(Clone, Debug, PartialEq)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self> {
        refuse_hidden_characters("description", raw, &['\n', '\r', '\t'])?;
        let n = raw.chars().count();
        if n > DESCRIPTION_MAX_CHARS {
            return Err(Error::invalid(
                "description",
                format!("description must be at most {DESCRIPTION_MAX_CHARS} characters (got {n})"),
            ));
        }
        Ok(Description(raw.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Where a task should go in its list: 0-based; past the end means the end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position(usize);

impl Position {
    /// `None` (no position asked for) stays `None`: the task is appended.
    pub fn parse(raw: Option<i32>) -> Result<Option<Self>> {
        match raw {
            None => Ok(None),
            Some(p) => usize::try_from(p)
                .map(|p| Some(Position(p)))
                .map_err(|_| Error::invalid("position", format!("position must be 0 or more (got {p})"))),
        }
    }

    pub fn index(self) -> usize {
        self.0
    }
}

/// A client's request id (idempotency key): at most 200 printable characters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestId<'a>(&'a str);

impl<'a> RequestId<'a> {
    /// `None` when the request carries no id (an empty string).
    pub fn parse(raw: &'a str) -> Result<Option<Self>> {
        if raw.is_empty() {
            return Ok(None);
        }
        let n = raw.chars().count();
        if n > REQUEST_ID_MAX_CHARS || raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                "requestId",
                format!("requestId must be at most {REQUEST_ID_MAX_CHARS} printable characters"),
            ));
        }
        Ok(Some(RequestId(raw)))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 200;
pub const TOKEN_NAME_MAX_CHARS: usize = 100;

/// A sign-in name: 3 to 32 characters of `a-z`, `0-9`, `_` and `-`, lowercased (so
/// unique regardless of case).
#[derive(Clone, Debug, PartialEq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self> {
        let u = raw.trim().to_lowercase();
        let n = u.chars().count();
        if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&n)
            || !u
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(Error::invalid(
                "username",
                format!(
                    "username must be {USERNAME_MIN_CHARS} to {USERNAME_MAX_CHARS} characters of a-z, 0-9, `_` and `-`"
                ),
            ));
        }
        Ok(Username(u))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 200 characters, kept as typed (never trimmed, never logged).
pub struct Password<'a>(&'a str);

impl<'a> Password<'a> {
    pub fn parse(raw: &'a str) -> Result<Self> {
        let n = raw.chars().count();
        if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
            return Err(Error::invalid(
                "password",
                format!("password must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters (got {n})"),
            ));
        }
        Ok(Password(raw))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl std::fmt::Debug for Password<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A display name (of a user, `name`, or of a personal token, `name`): one line of
/// visible text ([`one_line`]), trimmed, 1 to `max` characters.
pub fn name(raw: &str, max: usize) -> Result<String> {
    let t = one_line("name", raw)?;
    let n = t.chars().count();
    if n > max {
        return Err(Error::invalid(
            "name",
            format!("name must be 1 to {max} printable characters (got {n})"),
        ));
    }
    Ok(t.to_owned())
}

/// Text shown as one line (titles, names): trimmed, and refused when it holds a control
/// character (tab and newline too: every client would render them differently), a
/// bidirectional override or isolate (they make the text read differently from what it
/// holds), or nothing visible once whitespace and zero-width characters are removed.
fn one_line<'a>(field: &str, raw: &'a str) -> Result<&'a str> {
    refuse_hidden_characters(field, raw, &[])?;
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, format!("{field} must not be empty")));
    }
    if t.chars().all(|c| c.is_whitespace() || is_zero_width(c)) {
        return Err(Error::invalid(
            field,
            format!("{field} must hold visible text, not only whitespace and zero-width characters such as U+200B"),
        ));
    }
    Ok(t)
}

fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Refuses C0/C1 control characters (but those in `allowed`) and the bidirectional
/// overrides and isolates U+202A–U+202E, U+2066–U+2069, naming the first one as
/// U+XXXX and its place (1-based, in characters of the text as sent).
fn refuse_hidden_characters(field: &str, raw: &str, allowed: &[char]) -> Result<()> {
    for (i, c) in raw.chars().enumerate() {
        let what = if c.is_control() && !allowed.contains(&c) {
            "the control character"
        } else if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            "the bidirectional override"
        } else {
            continue;
        };
        return Err(Error::invalid(
            field,
            format!(
                "{field} must not contain {what} U+{:04X} (character {} of {field})",
                u32::from(c),
                i + 1
            ),
        ));
    }
    Ok(())
}

/// An id the client must name (`taskId`, `listId`, `boardId`).
pub fn required(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, format!("{field} is required")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(Title::parse("  hi  ").unwrap().into_string(), "hi");
        assert_eq!(Title::parse(" \t ").unwrap_err().field(), Some("title"));
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        let err = Title::parse(&"x".repeat(201)).unwrap_err();
        assert!(err.to_string().contains("at most 200"), "{err}");
    }

    #[test]
    fn description_counts_characters_not_bytes() {
        assert!(Description::parse(&"é".repeat(10_000)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(10_001)).unwrap_err().field(),
            Some("description")
        );
    }

    #[test]
    fn negative_position_names_the_field() {
        assert_eq!(Position::parse(Some(-1)).unwrap_err().field(), Some("position"));
        assert_eq!(Position::parse(Some(0)).unwrap(), Some(Position(0)));
        assert_eq!(Position::parse(None).unwrap(), None);
    }

    #[test]
    fn username_is_lowercased_and_limited_to_its_alphabet() {
        assert_eq!(Username::parse(" Alice_1 ").unwrap().as_str(), "alice_1");
        assert!(Username::parse("a-b").is_ok());
        assert!(Username::parse(&"x".repeat(32)).is_ok());
        for bad in ["ab", "", "a b", "al.ice", "ålice", &"x".repeat(33)] {
            assert_eq!(Username::parse(bad).unwrap_err().field(), Some("username"), "{bad}");
        }
    }

    #[test]
    fn password_is_bounded_and_kept_as_typed() {
        assert_eq!(Password::parse(" 12345678").unwrap().as_str(), " 12345678");
        assert!(Password::parse(&"é".repeat(200)).is_ok());
        assert_eq!(Password::parse("1234567").unwrap_err().field(), Some("password"));
        assert_eq!(Password::parse(&"x".repeat(201)).unwrap_err().field(), Some("password"));
        assert_eq!(format!("{:?}", Password::parse("secret-pw").unwrap()), "Password(..)");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  ci  ", 100).unwrap(), "ci");
        assert_eq!(name("  ", 100).unwrap_err().field(), Some("name"));
        assert!(name(&"x".repeat(101), 100).is_err());
    }

    #[test]
    fn colors_are_six_hex_digits_kept_lowercase() {
        assert_eq!(Color::parse("#1F883d").unwrap().into_string(), "#1f883d");
        for bad in ["", "1f883d", "#1f883", "#1f883dd", "#gggggg", "red", "#fff"] {
            assert_eq!(Color::parse(bad).unwrap_err().field(), Some("color"), "{bad}");
        }
    }

    #[test]
    fn label_names_are_trimmed_and_bounded() {
        assert_eq!(label_name("  Bug ").unwrap(), "Bug");
        assert!(label_name(&"é".repeat(50)).is_ok());
        assert_eq!(label_name(&"x".repeat(51)).unwrap_err().field(), Some("name"));
        assert_eq!(label_name(" ").unwrap_err().field(), Some("name"));
    }

    #[test]
    fn id_sets_are_sorted_deduplicated_and_bounded() {
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(id_set("labelIds", &ids(&["b", "a", "b"])).unwrap(), ids(&["a", "b"]));
        assert_eq!(
            id_set("labelIds", &ids(&["a", ""])).unwrap_err().field(),
            Some("labelIds")
        );
        let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
        assert_eq!(id_set("assigneeIds", &many).unwrap_err().field(), Some("assigneeIds"));
    }

    #[test]
    fn due_dates_are_bounded_and_kept_to_the_millisecond() {
        let ts = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
        assert_eq!(due_at(ts(10, 1_234_567)).unwrap(), ts(10, 1_000_000));
        assert_eq!(due_at(None).unwrap(), None);
        assert_eq!(due_at(ts(i64::MAX, 0)).unwrap_err().field(), Some("dueAt"));
        assert_eq!(due_at(ts(0, -1)).unwrap_err().field(), Some("dueAt"));
    }

    #[test]
    fn request_id_rejects_control_characters_and_length() {
        assert_eq!(RequestId::parse("abc-123").unwrap().unwrap().as_str(), "abc-123");
        assert_eq!(RequestId::parse("").unwrap(), None);
        assert!(RequestId::parse("a\nb").is_err());
        assert!(RequestId::parse(&"k".repeat(201)).is_err());
    }
}
