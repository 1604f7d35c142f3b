//! `rapport labels`: display names of accounts and matters from a CSV file, and the list of
//! those stored.
//!
//! A labels file has the header `kind,id,name` and one name a line: `account,northwind,
//! Northwind Traders` or `matter,msa-2026,"Master services agreement, 2026"` (a cell with a
//! comma or a quote is quoted, its quotes doubled). Ids and names follow the rules of every
//! account and matter label ([`rapport_scoring::validate::Label`]). A file is taken whole or
//! not at all: the first bad line refuses it with its number and the reason, and nothing is
//! stored.
//!
//! This module must never change an id: names are stored beside ids, and everything that
//! selects, groups or restricts keeps using the ids.

use std::collections::HashMap;

use rapport_scoring::validate::Label;

use crate::store::{DisplayName, NameKind, Store};

/// Why a labels file was refused: its line (from 1, the header being line 1) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LabelsFileError {
    /// The line of the file, from 1.
    pub line: usize,
    /// What is wrong with it, in plain words.
    pub problem: String,
}

/// The display names of a labels file, checked and NFC-normalised, in file order; or the
/// first line that is wrong.
pub fn parse_labels(text: &str) -> Result<Vec<DisplayName>, LabelsFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(idx, line)| (idx + 1, line))
        .filter(|(_, line)| !line.trim().is_empty());
    let refuse = |line: usize, problem: String| LabelsFileError { line, problem };
    let Some((header_line, header)) = lines.next() else {
        return Err(refuse(
            1,
            "the file is empty; its first line must be kind,id,name".to_owned(),
        ));
    };
    let header = cells(header).map_err(|problem| refuse(header_line, problem))?;
    let header: Vec<String> = header.iter().map(|cell| cell.to_lowercase()).collect();
    if header != ["kind", "id", "name"] {
        return Err(refuse(
            header_line,
            format!(
                "the first line must be kind,id,name, not {}",
                header.join(",")
            ),
        ));
    }
    let mut names = Vec::new();
    let mut first_seen: HashMap<(NameKind, String), usize> = HashMap::new();
    for (line, text) in lines {
        let row = cells(text).map_err(|problem| refuse(line, problem))?;
        let [kind, id, name] = <[String; 3]>::try_from(row).map_err(|row| {
            refuse(
                line,
                format!(
                    "expected 3 cells (kind, id, name), found {}; quote a name that holds a comma",
                    row.len()
                ),
            )
        })?;
        let kind = NameKind::parse(&kind.to_lowercase()).ok_or_else(|| {
            refuse(
                line,
                format!("kind must be account or matter, not {kind:?}"),
            )
        })?;
        let id = Label::new(&id)
            .map_err(|problem| refuse(line, format!("{} id {problem}", kind.as_str())))?;
        let name = Label::new(&name)
            .map_err(|problem| refuse(line, format!("{} name {problem}", kind.as_str())))?;
        let id = String::from(id);
        if let Some(earlier) = first_seen.insert((kind, id.clone()), line) {
            return Err(refuse(
                line,
                format!(
                    "{} {id:?} is already named on line {earlier}; name it once",
                    kind.as_str()
                ),
            ));
        }
        names.push(DisplayName {
            kind,
            id,
            name: String::from(name),
        });
    }
    Ok(names)
}

/// The cells of one CSV line: unquoted cells trimmed, quoted cells as written (their
/// doubled quotes made single).
pub(crate) fn cells(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(quoted) = trimmed.strip_prefix('"') {
            let mut cell = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    None => return Err("a quoted cell is not closed".to_owned()),
                    Some((idx, '"')) => {
                        if quoted[idx + 1..].starts_with('"') {
                            cell.push('"');
                            chars.next();
                        } else {
                            break &quoted[idx + 1..];
                        }
                    }
                    Some((_, ch)) => cell.push(ch),
                }
            };
            cells.push(cell);
            let after = after.trim_start_matches([' ', '\t']);
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(cells),
                None => return Err("text follows a quoted cell before the next comma".to_owned()),
            }
        } else {
            match trimmed.split_once(',') {
                Some((cell, next)) => {
                    cells.push(cell.trim().to_owned());
                    rest = next;
                }
                None => {
                    cells.push(trimmed.trim().to_owned());
                    return Ok(cells);
                }
            }
        }
    }
}

/// `rapport labels import FILE`: stores every name of the file, or none; returns how many
/// accounts and matters were named.
pub async fn import(store: &Store, text: &str) -> anyhow::Result<(usize, usize)> {
    let names = parse_labels(text)?;
    store.set_display_names(&names).await?;
    let accounts = names
        .iter()
        .filter(|name| name.kind == NameKind::Account)
        .count();
    Ok((accounts, names.len() - accounts))
}

/// `rapport labels list`: every stored name as a labels file, so that it can be edited and
/// imported again.
pub fn listing(names: &[DisplayName]) -> String {
    let mut out = String::from("kind,id,name\n");
    for name in names {
        out.push_str(&format!(
            "{},{},{}\n",
            name.kind.as_str(),
            quoted_if_needed(&name.id),
            quoted_if_needed(&name.name)
        ));
    }
    out
}

/// A cell as a labels file writes it: quoted when it holds a comma or a quote, or would
/// otherwise lose spaces.
fn quoted_if_needed(cell: &str) -> String {
    if cell.contains([',', '"']) || cell.trim() != cell {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cells_keep_commas_and_quotes_and_a_listing_reads_back() {
        let names = parse_labels(
            "\u{feff}Kind, ID ,Name\r\naccount, northwind ,Northwind Traders\r\n\r\nmatter,msa-2026,\"Smith, Jones & \"\"Co.\"\"\"\n",
        )
        .unwrap();
        assert_eq!(names[0].id, "northwind");
        assert_eq!(names[1].name, "Smith, Jones & \"Co.\"");
        assert_eq!(parse_labels(&listing(&names)).unwrap(), names);
    }

    #[test]
    fn each_bad_line_is_named_with_its_reason() {
        let refused = |text: &str| parse_labels(text).unwrap_err().to_string();
        assert_eq!(
            refused(""),
            "line 1: the file is empty; its first line must be kind,id,name"
        );
        assert_eq!(
            refused("id,name\n"),
            "line 1: the first line must be kind,id,name, not id,name"
        );
        assert_eq!(
            refused("kind,id,name\naccount,a,A\nclient,b,B\n"),
            "line 3: kind must be account or matter, not \"client\""
        );
        assert_eq!(
            refused("kind,id,name\nmatter,m,Smith, Jones\n"),
            "line 2: expected 3 cells (kind, id, name), found 4; quote a name that holds a comma"
        );
        assert!(refused("kind,id,name\naccount,a,\"A\n").starts_with("line 2: a quoted cell"));
        assert!(refused("kind,id,name\naccount,a,\"\"\n").starts_with("line 2: account name "));
        assert!(
            refused("kind,id,name\naccount,a,\"Bad\u{202e}name\"\n")
                .starts_with("line 2: account name ")
        );
        assert_eq!(
            refused("kind,id,name\naccount,a,A\nmatter,a,M\naccount,a,B\n"),
            "line 4: account \"a\" is already named on line 2; name it once"
        );
    }
}
