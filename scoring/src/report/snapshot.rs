//! A [`ReportInput`] as bytes, and back: what a server stores so that the first report after
//! a start reads one value instead of every response.
//!
//! The columns are written as they are held: observations (only the ratings the version
//! has), topic bits, each interned column's dictionary and its codes, new-or-returning and
//! arrival. Reading them back copies arrays and rebuilds the dictionaries' lookups; nothing
//! is decoded row by row the way entries are. A snapshot is read only by the survey version
//! it was written for, and every byte is checked: a snapshot of another version, of another
//! format or cut short is refused, never read as something else.
//!
//! Layout (little-endian): the magic `RPRC`, the format, the rated-item count, the topic
//! bytes and the choice-column count (`u16` each), the row count (`u64`); then per row the
//! 0–10 answer, the ratings and the confidentiality; the topic bits; new-or-returning (0
//! unknown, 1 new, 2 returning); arrival; the day each response was received (`i32` days
//! since 1970-01-01, `i32::MIN` when unknown; format 2); then each interned column (account, matter, wave,
//! respondent, then the choice columns): its dictionary (a `u32` count, then per entry a tag
//! and the bytes it names), the width of its codes (1, 2 or 4 bytes, the fewest that number
//! the dictionary) and a code per row.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Interned, ReportInput};
use crate::definition::{MAX_RATED_ITEMS, SurveyDefinition};
use crate::score::{NO_NPS, NO_RATING, Observation};
use crate::visibility::Arrival;
use crate::wire::ConfidentialityChoice;

/// The first bytes of every snapshot.
const MAGIC: &[u8; 4] = b"RPRC";
/// The snapshot format this build writes and reads; any change to the layout above bumps it.
const FORMAT: u8 = 2;

/// A dictionary entry's tag: whether it holds a value, and how its lookup key is written.
const HAS_VALUE: u8 = 1;
/// The entry's key is its value's bytes (text columns).
const KEY_IS_VALUE: u8 = 2;
/// The entry's key is written after it (choice columns key by the encoded choice).
const KEY_WRITTEN: u8 = 4;

/// Why a snapshot was not read: it belongs to another version or format, or it is damaged.
/// The caller reads the responses instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a report snapshot of this survey version: {0}")]
pub struct SnapshotError(&'static str);

impl ReportInput {
    /// The columns as bytes, for [`ReportInput::from_snapshot`]. What a release added (each
    /// row's published batch) is not kept: a release is decided from the columns again.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let rows = self.len();
        let rated = self.layout.rated_len();
        let mut out = Vec::with_capacity(32 + rows * (rated + 24));
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        for count in [rated, self.layout.topic_bytes(), self.choices.len()] {
            out.extend_from_slice(&(count as u16).to_le_bytes());
        }
        out.extend_from_slice(&(rows as u64).to_le_bytes());
        for observation in &self.observations {
            out.push(observation.nps);
            out.extend_from_slice(&observation.ratings[..rated]);
            out.push(match observation.confidentiality {
                ConfidentialityChoice::Anonymous => 0,
                ConfidentialityChoice::Confidential => 1,
                ConfidentialityChoice::Identified => 2,
            });
        }
        out.extend_from_slice(&self.topics);
        out.extend(self.returning.iter().map(|returning| match returning {
            None => 0u8,
            Some(false) => 1,
            Some(true) => 2,
        }));
        out.extend(self.arrivals.iter().map(|arrival| match arrival {
            Arrival::Invitation => 0u8,
            Arrival::SignedContext => 1,
            Arrival::Unverified => 2,
        }));
        for days in &self.received {
            out.extend_from_slice(&days.to_le_bytes());
        }
        for column in self.interned_columns() {
            column.write(&mut out);
        }
        out
    }

    /// The columns a snapshot of this survey version holds. Refused, with nothing read, when
    /// the snapshot is of another version's layout, of another format, or damaged.
    pub fn from_snapshot(
        definition: &SurveyDefinition,
        snapshot: &[u8],
    ) -> Result<Self, SnapshotError> {
        let mut input = ReportInput::new(definition);
        let mut bytes = Reader(snapshot);
        if bytes.take(MAGIC.len())? != MAGIC || bytes.byte()? != FORMAT {
            return Err(SnapshotError("unknown format"));
        }
        let rated = input.layout.rated_len();
        let topic_bytes = input.layout.topic_bytes();
        for expected in [rated, topic_bytes, input.choices.len()] {
            if usize::from(bytes.u16()?) != expected {
                return Err(SnapshotError("another layout"));
            }
        }
        let rows = usize::try_from(bytes.u64()?).map_err(|_| SnapshotError("too many rows"))?;
        let observations = bytes.take(rows.checked_mul(rated + 2).ok_or(TOO_SHORT)?)?;
        input.observations = Vec::with_capacity(rows);
        for row in observations.chunks_exact(rated + 2) {
            input.observations.push(observation(row, rated)?);
        }
        input.topics = bytes
            .take(rows.checked_mul(2 * topic_bytes).ok_or(TOO_SHORT)?)?
            .to_vec();
        input.returning = bytes
            .take(rows)?
            .iter()
            .map(|byte| match byte {
                0 => Ok(None),
                1 => Ok(Some(false)),
                2 => Ok(Some(true)),
                _ => Err(SnapshotError("unknown new-or-returning")),
            })
            .collect::<Result<_, _>>()?;
        input.arrivals = bytes
            .take(rows)?
            .iter()
            .map(|byte| match byte {
                0 => Ok(Arrival::Invitation),
                1 => Ok(Arrival::SignedContext),
                2 => Ok(Arrival::Unverified),
                _ => Err(SnapshotError("unknown arrival")),
            })
            .collect::<Result<_, _>>()?;
        input.received = bytes
            .take(rows.checked_mul(4).ok_or(TOO_SHORT)?)?
            .chunks_exact(4)
            .map(|day| i32::from_le_bytes([day[0], day[1], day[2], day[3]]))
            .collect();
        for column in input.interned_columns_mut() {
            *column = Interned::read(&mut bytes, rows)?;
        }
        if !bytes.0.is_empty() {
            return Err(SnapshotError("bytes after the last column"));
        }
        Ok(input)
    }

    fn interned_columns(&self) -> impl Iterator<Item = &Interned> {
        [
            &self.accounts,
            &self.matters,
            &self.waves,
            &self.respondents,
        ]
        .into_iter()
        .chain(&self.choices)
    }

    fn interned_columns_mut(&mut self) -> impl Iterator<Item = &mut Interned> {
        [
            &mut self.accounts,
            &mut self.matters,
            &mut self.waves,
            &mut self.respondents,
        ]
        .into_iter()
        .chain(&mut self.choices)
    }
}

const TOO_SHORT: SnapshotError = SnapshotError("cut short");

/// One row's observation: the 0–10 answer, `rated` ratings, the confidentiality.
fn observation(row: &[u8], rated: usize) -> Result<Observation, SnapshotError> {
    let nps = row[0];
    if nps > 10 && nps != NO_NPS {
        return Err(SnapshotError("0–10 answer out of range"));
    }
    let mut ratings = [NO_RATING; MAX_RATED_ITEMS];
    ratings[..rated].copy_from_slice(&row[1..=rated]);
    if ratings.iter().any(|rating| *rating > 7) {
        return Err(SnapshotError("rating out of range"));
    }
    let confidentiality = match row[rated + 1] {
        0 => ConfidentialityChoice::Anonymous,
        1 => ConfidentialityChoice::Confidential,
        2 => ConfidentialityChoice::Identified,
        _ => return Err(SnapshotError("unknown confidentiality")),
    };
    Ok(Observation {
        nps,
        ratings,
        confidentiality,
    })
}

impl Interned {
    fn write(&self, out: &mut Vec<u8>) {
        let mut keys: Vec<Option<&[u8]>> = vec![None; self.values.len()];
        for (key, code) in self.by_key.iter() {
            keys[*code as usize] = Some(key);
        }
        out.extend_from_slice(&(self.values.len() as u32).to_le_bytes());
        for (value, key) in self.values.iter().zip(keys) {
            let value = value.as_deref().map(str::as_bytes);
            let key_is_value = key.is_some() && key == value;
            let tag = if value.is_some() { HAS_VALUE } else { 0 }
                | match key {
                    None => 0,
                    Some(_) if key_is_value => KEY_IS_VALUE,
                    Some(_) => KEY_WRITTEN,
                };
            out.push(tag);
            if let Some(value) = value {
                write_bytes(out, value);
            }
            if let Some(key) = key.filter(|_| !key_is_value) {
                write_bytes(out, key);
            }
        }
        // Each code in as few bytes as the dictionary needs: most columns hold a few
        // hundred values or fewer.
        let width = code_width(self.values.len());
        out.push(width as u8);
        for code in &self.codes {
            out.extend_from_slice(&code.to_le_bytes()[..width]);
        }
    }

    fn read(bytes: &mut Reader<'_>, rows: usize) -> Result<Self, SnapshotError> {
        let count = bytes.u32()?;
        let mut values = Vec::with_capacity((count as usize).min(bytes.0.len()));
        let mut by_key = HashMap::with_capacity_and_hasher(
            (count as usize).min(bytes.0.len()),
            foldhash::fast::RandomState::default(),
        );
        let mut none = None;
        for code in 0..count {
            let tag = bytes.byte()?;
            if tag & !(HAS_VALUE | KEY_IS_VALUE | KEY_WRITTEN) != 0 {
                return Err(SnapshotError("unknown dictionary entry"));
            }
            let value = if tag & HAS_VALUE != 0 {
                let text = std::str::from_utf8(bytes.sized()?)
                    .map_err(|_| SnapshotError("a value is not UTF-8"))?;
                Some(text.to_owned())
            } else {
                None
            };
            let key: Option<Box<[u8]>> = match (tag & KEY_IS_VALUE != 0, tag & KEY_WRITTEN != 0) {
                (false, false) if value.is_none() && none.is_none() => {
                    none = Some(code);
                    None
                }
                (true, false) => Some(
                    value
                        .as_deref()
                        .ok_or(SnapshotError("a key names a missing value"))?
                        .as_bytes()
                        .into(),
                ),
                (false, true) => Some(bytes.sized()?.into()),
                _ => return Err(SnapshotError("a dictionary entry without a key")),
            };
            if let Some(key) = key
                && by_key.insert(key, code).is_some()
            {
                return Err(SnapshotError("a key twice in a dictionary"));
            }
            values.push(value);
        }
        let width = usize::from(bytes.byte()?);
        if width != code_width(values.len()) {
            return Err(SnapshotError("codes of the wrong width"));
        }
        let packed = bytes.take(rows.checked_mul(width).ok_or(TOO_SHORT)?)?;
        let codes: Vec<u32> = match width {
            1 => packed.iter().map(|code| u32::from(*code)).collect(),
            2 => packed
                .chunks_exact(2)
                .map(|code| u32::from(u16::from_le_bytes([code[0], code[1]])))
                .collect(),
            _ => packed
                .chunks_exact(4)
                .map(|code| u32::from_le_bytes([code[0], code[1], code[2], code[3]]))
                .collect(),
        };
        if codes.iter().any(|code| *code >= count) {
            return Err(SnapshotError("a code outside its dictionary"));
        }
        Ok(Interned {
            codes,
            values: Arc::new(values),
            by_key: Arc::new(by_key),
            none,
        })
    }
}

/// How many bytes each code of a dictionary of `values` entries takes: 1, 2 or 4.
fn code_width(values: usize) -> usize {
    match values {
        0..=0x100 => 1,
        0x101..=0x1_0000 => 2,
        _ => 4,
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The unread rest of a snapshot.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], SnapshotError> {
        if self.0.len() < len {
            return Err(TOO_SHORT);
        }
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, SnapshotError> {
        let bytes = self.take(2)?;
        Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let bytes = self.take(8)?;
        Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| TOO_SHORT)?))
    }

    /// Bytes written with their length before them.
    fn sized(&mut self) -> Result<&'a [u8], SnapshotError> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}
