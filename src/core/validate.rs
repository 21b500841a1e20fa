//! Field rules for task input, as types: a [`Title`], [`Description`], [`Position`]
//! or [`RequestId`] exists only once its raw value passed the rule, so the operations
//! that build or change a task cannot be handed unchecked input. Each failure names
//! the lowerCamelCase field at fault.

use super::error::{Error, Result};

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const REQUEST_ID_MAX_CHARS: usize = 200;

/// A task title: trimmed, 1 to 200 characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(Error::invalid("title", "title must not be empty"));
        }
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

/// A board or list name: trimmed, 1 to 100 characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(Error::invalid("name", "name must not be empty"));
        }
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

/// A task description: up to 10,000 characters, kept as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self> {
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

/// A display name (of a user, `name`, or of a personal token, `name`): trimmed, 1 to
/// `max` characters.
pub fn name(raw: &str, max: usize) -> Result<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > max || t.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("name must be 1 to {max} printable characters (got {n})"),
        ));
    }
    Ok(t.to_owned())
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
    fn request_id_rejects_control_characters_and_length() {
        assert_eq!(RequestId::parse("abc-123").unwrap().unwrap().as_str(), "abc-123");
        assert_eq!(RequestId::parse("").unwrap(), None);
        assert!(RequestId::parse("a\nb").is_err());
        assert!(RequestId::parse(&"k".repeat(201)).is_err());
    }
}
