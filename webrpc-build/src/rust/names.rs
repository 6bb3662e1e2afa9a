//! Rust names for schema names, Rust literals, and doc comments from schema comments.

/// Rust's strict and reserved keywords (2021 edition), which need `r#` as identifiers.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof",
    "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers either.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// An identifier usable in Rust: `r#type` for a keyword; `None` for the few names Rust cannot
/// express at all (`self`, `Self`, `super`, `crate`, `_`).
pub(crate) fn ident(name: &str) -> Option<String> {
    if NOT_RAW.contains(&name) {
        None
    } else if KEYWORDS.contains(&name) {
        Some(format!("r#{name}"))
    } else {
        Some(name.to_owned())
    }
}

/// `snake_case` for a field, argument or method name: `contractMetadataURI` is
/// `contract_metadata_uri`, `baseURIs` is `base_uris` (a plural acronym stays one word),
/// `tokenID` is `token_id`, `HTTPServer` is `http_server`, `chain_id` stays.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let after_next = chars.get(i + 2).copied();
            let prev_lower = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            let prev_upper = prev.is_some_and(|p| p.is_ascii_uppercase());
            // `URIs`: an `s` closing an acronym is its plural, not the start of a word.
            let plural_s = next == Some('s') && !after_next.is_some_and(|a| a.is_ascii_lowercase());
            let starts_word = next.is_some_and(|n| n.is_ascii_lowercase()) && !plural_s;
            if !out.is_empty() && !out.ends_with('_') && (prev_lower || (prev_upper && starts_word))
            {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `UpperCamelCase` for an enum value or a schema name: `NOT_AVAILABLE` is `NotAvailable`,
/// `sequence-metadata` is `SequenceMetadata`, `Dog` stays.
pub(crate) fn upper_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split(['_', '-', '.', ' ']) {
        let mut chars = part.chars();
        let Some(first) = chars.next() else { continue };
        out.push(first.to_ascii_uppercase());
        let rest: String = chars.collect();
        // An all-caps word (`AVAILABLE`) is lowered; a camel one (`petStore`) is kept.
        if rest.chars().any(|c| c.is_ascii_lowercase()) {
            out.push_str(&rest);
        } else {
            out.push_str(&rest.to_ascii_lowercase());
        }
    }
    out
}

/// `SCREAMING_SNAKE_CASE` for a constant: `PetStore` is `PET_STORE`.
pub(crate) fn screaming_snake(name: &str) -> String {
    snake_case(name).to_ascii_uppercase()
}

/// A Rust string literal with the text.
pub(crate) fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Doc-comment lines from schema comment lines: one leading space dropped (`# text` is stored
/// as ` text`), brackets escaped so rustdoc does not take them for links, bare URLs put in
/// `<…>`, and code fences marked `text` so rustdoc does not compile them as doctests.
pub(crate) fn doc_lines(comments: &[String]) -> Vec<String> {
    let mut lines = Vec::with_capacity(comments.len());
    let mut in_fence = false;
    for comment in comments {
        let line = comment.strip_prefix(' ').unwrap_or(comment).trim_end();
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            let indent = &line[..line.len() - line.trim_start().len()];
            if in_fence {
                lines.push(format!("{indent}```"));
            } else if lang.trim().is_empty() {
                lines.push(format!("{indent}```text"));
            } else {
                lines.push(format!("{indent}```{}", lang.trim()));
            }
            in_fence = !in_fence;
        } else if in_fence {
            lines.push(line.to_owned());
        } else {
            lines.push(escape_doc(line));
        }
    }
    if in_fence {
        lines.push("```".to_owned());
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn escape_doc(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 4);
    let mut rest = line;
    while !rest.is_empty() {
        let url_at = ["https://", "http://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        let (text, tail) = match url_at {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        for c in text.chars() {
            match c {
                '[' => out.push_str("\\["),
                ']' => out.push_str("\\]"),
                c => out.push(c),
            }
        }
        if tail.is_empty() {
            break;
        }
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"' || c == '`')
            .unwrap_or(tail.len());
        let mut url = &tail[..end];
        // Sentence punctuation after a URL is not part of it.
        while url.ends_with(['.', ',', ';', ':', ')', '!', '?']) {
            url = &url[..url.len() - 1];
        }
        let already_delimited = out.ends_with('<') || out.ends_with('(');
        if already_delimited {
            out.push_str(url);
        } else {
            out.push('<');
            out.push_str(url);
            out.push('>');
        }
        rest = &tail[url.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keeps_acronyms_whole() {
        for (name, snake) in [
            ("contractMetadataURI", "contract_metadata_uri"),
            ("baseURIs", "base_uris"),
            ("tokenID", "token_id"),
            ("tokenIDs", "token_ids"),
            ("HTTPServer", "http_server"),
            ("chain_id", "chain_id"),
            ("external_link", "external_link"),
            ("projectId", "project_id"),
            ("id", "id"),
            ("GetCollection", "get_collection"),
            ("ListV2Items", "list_v2_items"),
            ("userIDsList", "user_ids_list"),
        ] {
            assert_eq!(snake_case(name), snake, "{name}");
        }
    }

    #[test]
    fn upper_camel_of_enum_values_and_schema_names() {
        for (name, camel) in [
            ("NOT_AVAILABLE", "NotAvailable"),
            ("AVAILABLE", "Available"),
            ("Dog", "Dog"),
            ("sequence-metadata", "SequenceMetadata"),
            ("petStore", "PetStore"),
            ("v2_ITEM", "V2Item"),
        ] {
            assert_eq!(upper_camel(name), camel, "{name}");
        }
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(ident("type").as_deref(), Some("r#type"));
        assert_eq!(ident("name").as_deref(), Some("name"));
        assert_eq!(ident("self"), None);
    }

    #[test]
    fn string_literals_escape_quotes_and_controls() {
        assert_eq!(string_literal(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(string_literal("x\ny\u{1}"), r#""x\ny\u{1}""#);
    }

    #[test]
    fn doc_lines_escape_links_urls_and_fences() {
        let comments: Vec<String> = [
            " See https://example.com/a.json.",
            " a [link] <https://kept.example>",
            " ```",
            " let x = [1];",
            " ```",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            doc_lines(&comments),
            [
                "See <https://example.com/a.json>.",
                "a \\[link\\] <https://kept.example>",
                "```text",
                "let x = [1];",
                "```",
            ]
        );
    }
}
