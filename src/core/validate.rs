//! Field rules for task input. Each failure names the lowerCamelCase field at fault.

use super::error::{Error, Result};

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const REQUEST_ID_MAX_CHARS: usize = 200;

/// A title is trimmed, then must hold 1 to 200 characters.
pub fn title(raw: &str) -> Result<String> {
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
    Ok(t.to_owned())
}

pub fn description(raw: &str) -> Result<String> {
    let n = raw.chars().count();
    if n > DESCRIPTION_MAX_CHARS {
        return Err(Error::invalid(
            "description",
            format!("description must be at most {DESCRIPTION_MAX_CHARS} characters (got {n})"),
        ));
    }
    Ok(raw.to_owned())
}

pub fn position(p: Option<i32>) -> Result<Option<i32>> {
    match p {
        Some(p) if p < 0 => Err(Error::invalid(
            "position",
            format!("position must be 0 or more (got {p})"),
        )),
        p => Ok(p),
    }
}

/// An id the client must name (`taskId`, `listId`, `boardId`).
pub fn required(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, format!("{field} is required")));
    }
    Ok(())
}

pub fn request_id(id: &str) -> Result<()> {
    let n = id.chars().count();
    if n > REQUEST_ID_MAX_CHARS || id.chars().any(char::is_control) {
        return Err(Error::invalid(
            "requestId",
            format!("requestId must be at most {REQUEST_ID_MAX_CHARS} printable characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(title("  hi  ").unwrap(), "hi");
        assert_eq!(title(" \t ").unwrap_err().field(), Some("title"));
        assert!(title(&"é".repeat(200)).is_ok());
        let err = title(&"x".repeat(201)).unwrap_err();
        assert!(err.to_string().contains("at most 200"), "{err}");
    }

    #[test]
    fn description_counts_characters_not_bytes() {
        assert!(description(&"é".repeat(10_000)).is_ok());
        assert_eq!(
            description(&"x".repeat(10_001)).unwrap_err().field(),
            Some("description")
        );
    }

    #[test]
    fn negative_position_names_the_field() {
        assert_eq!(position(Some(-1)).unwrap_err().field(), Some("position"));
        assert_eq!(position(Some(0)).unwrap(), Some(0));
        assert_eq!(position(None).unwrap(), None);
    }

    #[test]
    fn request_id_rejects_control_characters_and_length() {
        assert!(request_id("abc-123").is_ok());
        assert!(request_id("a\nb").is_err());
        assert!(request_id(&"k".repeat(201)).is_err());
    }
}
