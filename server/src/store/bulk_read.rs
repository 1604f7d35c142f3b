//! Report rows read in bulk: a whole survey version's report entries and context, straight
//! into its report columns, for the first report after a start and after a change to rows
//! already read.
//!
//! Through the pool every row is a message from the driver (on SQLite, from the
//! connection's own thread through a channel), decoded into a row of its own: about 4 to
//! 10 µs a row, seconds for a million. Here, on SQLite, a read-only connection of its own on
//! the same file (`rusqlite`, linked to the same SQLite library as sqlx) steps one prepared
//! statement on a thread of its own and copies the rows' values into batches, which the
//! blocking thread that asked appends to the columns meanwhile ([`SqliteRead`]); on
//! PostgreSQL the same statement runs inside `COPY … TO STDOUT (FORMAT binary)` (the server
//! scans while this process appends), and the stream is parsed as it arrives
//! ([`BinaryCopy`]).
//!
//! Both run the statement of every report read ([`report_rows`]) and append rows exactly as
//! the read through the pool does: a row's entry when it decodes, else the entry computed
//! from its answers ([`entry_from_answers`]), so they give the same columns. This module
//! never writes: the SQLite connection is opened read-only.

use std::path::Path;
use std::sync::{Arc, mpsc};

use anyhow::Context as _;
use futures_util::TryStreamExt as _;
use rapport_scoring::EntryContext;
use rapport_scoring::entry::EntryLayout;
use rapport_scoring::report::ReceivedDay;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use sqlx::PgPool;
use sqlx::postgres::PgPoolCopyExt as _;

use super::reports::{
    REPORT_ROW_COLUMNS, ReportColumns, STORED_ANSWERS, entry_from_answers, report_rows,
};
use super::surveys::CompiledSurvey;
use super::{SQLITE_BUSY_TIMEOUT, parse_arrival};

/// How many values a report row has ([`REPORT_ROW_COLUMNS`]).
const FIELDS: usize = REPORT_ROW_COLUMNS.len();
/// Where a report row's one boolean is.
const RETURNING: usize = 5;

/// One report row as read, borrowed from wherever the reader holds it.
#[derive(Debug, Clone, Copy)]
struct ReportRow<'a> {
    entry: Option<&'a [u8]>,
    response_id: &'a str,
    context: EntryContext<'a>,
}

/// A read of report rows from a SQLite file, to run on a blocking thread
/// ([`SqliteRead::run`]): everything it needs, owned.
#[derive(Debug, Clone)]
pub(super) struct SqliteRead {
    /// The database file, which the pool has created, migrated and put in WAL mode.
    pub(super) file: Arc<Path>,
    /// The survey version's layout, for rows whose entry is read from their answers.
    pub(super) layout: EntryLayout,
    /// The survey.
    pub(super) survey_id: String,
    /// Its version.
    pub(super) version: u32,
    /// Rows with a revision above this one…
    pub(super) after: i64,
    /// …and up to this one are read.
    pub(super) up_to: i64,
}

impl SqliteRead {
    /// How many rows go from the thread that steps the statement to the one that fills the
    /// columns at a time.
    const BATCH: usize = 4096;

    /// Appends the rows to `columns`, blocking the thread until they are read.
    ///
    /// Two threads share the work, one per core: a thread of its own steps the statement
    /// and copies each row's values into a batch (SQLite's share: finding the rows in the
    /// index and decoding its records), while this one fills the columns from the batch
    /// before (the report's share: checking text, interning context, decoding entries).
    pub(super) fn run(&self, columns: &mut ReportColumns) -> anyhow::Result<()> {
        let (full_sender, full) = mpsc::sync_channel::<anyhow::Result<RowBatch>>(2);
        let (empty_sender, empty) = mpsc::sync_channel::<RowBatch>(3);
        for _ in 0..3 {
            empty_sender.send(RowBatch::default())?;
        }
        std::thread::scope(|scope| {
            let stepper = std::thread::Builder::new()
                .name("rapport-report-reader".to_owned())
                .spawn_scoped(scope, move || {
                    if let Err(error) = self.step(&full_sender, &empty) {
                        // The filling side stops at the first error either way.
                        let _ = full_sender.send(Err(error));
                    }
                })
                .context("starting the report reader thread")?;
            let filled = fill(columns, &full, &empty_sender);
            // Unblocks the stepping thread if it waits to hand over a batch.
            drop(full);
            drop(empty_sender);
            stepper
                .join()
                .map_err(|_| anyhow::anyhow!("the report reader thread panicked"))?;
            filled
        })
    }

    /// Steps the statement, handing the rows over in batches; stops early when the filling
    /// side has gone.
    fn step(
        &self,
        full: &mpsc::SyncSender<anyhow::Result<RowBatch>>,
        empty: &mpsc::Receiver<RowBatch>,
    ) -> anyhow::Result<()> {
        let connection = Connection::open_with_flags(
            &self.file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("opening {} to read reports", self.file.display()))?;
        connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
        let mut answers = connection.prepare(STORED_ANSWERS)?;
        let mut statement = connection.prepare(&report_rows("$1", "$2", "$3", "$4"))?;
        let mut rows = statement.query(params![
            self.survey_id,
            i64::from(self.version),
            self.after,
            self.up_to
        ])?;
        let Ok(mut batch) = empty.recv() else {
            return Ok(());
        };
        batch.clear();
        while let Some(row) = rows.next()? {
            let mut fields = [ValueRef::Null; FIELDS];
            for (at, field) in fields.iter_mut().enumerate() {
                *field = row.get_ref(at)?;
            }
            let entry = match fields[0] {
                ValueRef::Null => None,
                ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Some(bytes),
                other => anyhow::bail!("stored report_entry is {:?}", other.data_type()),
            };
            // A row whose entry is missing or does not decode is read from its answers
            // here, where the connection is, so that the other side only appends.
            let computed;
            let entry = match entry {
                Some(entry) if self.layout.decode(entry).is_ok() => entry,
                _ => {
                    let response_id = fields[1].as_str()?;
                    let (stored, confidentiality): (String, String) = answers
                        .query_row([response_id], |stored| Ok((stored.get(0)?, stored.get(1)?)))
                        .optional()?
                        .with_context(|| format!("response {response_id} vanished"))?;
                    computed = entry_from_answers(&self.layout, &stored, &confidentiality)?;
                    &computed[..]
                }
            };
            batch.push(Some(entry));
            for (at, field) in fields.iter().enumerate().skip(1) {
                match *field {
                    ValueRef::Null => batch.push(None),
                    ValueRef::Text(bytes) => batch.push(Some(bytes)),
                    // A boolean as the filling side reads it, and as PostgreSQL sends it.
                    ValueRef::Integer(integer) if at == RETURNING => {
                        batch.push(Some(&[u8::from(integer != 0)]));
                    }
                    other => anyhow::bail!(
                        "stored {} is {:?}",
                        REPORT_ROW_COLUMNS[at],
                        other.data_type()
                    ),
                }
            }
            if batch.rows() == Self::BATCH {
                if full.send(Ok(batch)).is_err() {
                    return Ok(());
                }
                let Ok(next) = empty.recv() else {
                    return Ok(());
                };
                batch = next;
                batch.clear();
            }
        }
        if batch.rows() > 0 {
            let _ = full.send(Ok(batch));
        }
        Ok(())
    }
}

/// Appends to `columns` the rows of the batches arriving on `full` (each row's entry one
/// that decodes), and hands each batch back on `empty` to be filled again.
fn fill(
    columns: &mut ReportColumns,
    full: &mpsc::Receiver<anyhow::Result<RowBatch>>,
    empty: &mpsc::SyncSender<RowBatch>,
) -> anyhow::Result<()> {
    for batch in full {
        let batch = batch?;
        for fields in batch.iter() {
            let row = report_row(&fields)?;
            let entry = row.entry.context("report row without an entry")?;
            columns.push_computed(entry, row.context, row.response_id)?;
        }
        // The stepping side may have finished already.
        let _ = empty.send(batch);
    }
    Ok(())
}

/// Rows' values copied out of SQLite, [`FIELDS`] a row, a boolean as one byte.
#[derive(Debug, Default)]
struct RowBatch {
    bytes: Vec<u8>,
    /// Where each value ends in `bytes`, and whether it is NULL.
    values: Vec<(u32, bool)>,
}

impl RowBatch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.values.clear();
    }

    fn push(&mut self, value: Option<&[u8]>) {
        self.bytes.extend_from_slice(value.unwrap_or_default());
        // A batch holds a few thousand rows of a few hundred bytes.
        self.values.push((self.bytes.len() as u32, value.is_none()));
    }

    fn rows(&self) -> usize {
        self.values.len() / FIELDS
    }

    /// Each row's values, `None` for NULL.
    fn iter(&self) -> impl Iterator<Item = [Option<&[u8]>; FIELDS]> {
        self.values.chunks_exact(FIELDS).scan(0usize, |start, row| {
            let mut fields = [None; FIELDS];
            for (field, (end, null)) in fields.iter_mut().zip(row) {
                let end = *end as usize;
                if !null {
                    *field = Some(&self.bytes[*start..end]);
                }
                *start = end;
            }
            Some(fields)
        })
    }
}

/// Appends to `columns` the rows of one survey version with a revision in `(after, up_to]`,
/// read from PostgreSQL by `COPY` in the binary format and parsed as they arrive.
pub(super) async fn read_postgres(
    pool: &PgPool,
    survey: &CompiledSurvey,
    after: i64,
    up_to: i64,
    columns: &mut ReportColumns,
) -> anyhow::Result<()> {
    let definition = survey.definition();
    // `COPY` takes no parameters, so the values are written into the statement: three
    // numbers, and a survey id, which holds only lowercase letters, digits, `-` and `_`
    // (checked again here, since the statement depends on it).
    let survey_id = definition.id.as_str();
    anyhow::ensure!(
        survey_id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
        "survey id {survey_id:?} cannot be written into a statement"
    );
    let statement = format!(
        "COPY ({}) TO STDOUT (FORMAT binary)",
        report_rows(
            &format!("'{survey_id}'"),
            &definition.version.to_string(),
            &after.to_string(),
            &up_to.to_string(),
        )
    );
    let mut stream = pool.copy_out_raw(&statement).await?;
    let mut copy = BinaryCopy::default();
    while let Some(chunk) = stream.try_next().await? {
        copy.feed(&chunk);
        while let Some(fields) = copy.next_row()? {
            let row = report_row(&fields)?;
            if !columns.push_stored(row.entry, row.context, row.response_id) {
                let (answers, confidentiality): (String, String) = sqlx::query_as(STORED_ANSWERS)
                    .bind(row.response_id)
                    .fetch_one(pool)
                    .await?;
                let entry = entry_from_answers(survey.layout(), &answers, &confidentiality)?;
                columns.push_computed(&entry, row.context, row.response_id)?;
            }
        }
    }
    copy.finish()
}

/// A report row from its values as bytes, as PostgreSQL's binary `COPY` sends them and the
/// SQLite reader hands them over ([`RowBatch`]): text as UTF-8, a boolean as one byte, the
/// entry as it is.
fn report_row<'a>(fields: &[Option<&'a [u8]>; FIELDS]) -> anyhow::Result<ReportRow<'a>> {
    let text = |at: usize| -> anyhow::Result<Option<&'a str>> {
        fields[at]
            .map(|bytes| {
                std::str::from_utf8(bytes)
                    .with_context(|| format!("stored {} is not UTF-8", REPORT_ROW_COLUMNS[at]))
            })
            .transpose()
    };
    let required = |at: usize| -> anyhow::Result<&'a str> {
        text(at)?.with_context(|| format!("stored {} is NULL", REPORT_ROW_COLUMNS[at]))
    };
    let returning = match fields[RETURNING] {
        None => None,
        Some([0]) => Some(false),
        Some([1]) => Some(true),
        Some(other) => anyhow::bail!("stored returning_respondent is {other:?}, not a boolean"),
    };
    Ok(ReportRow {
        entry: fields[0],
        response_id: required(1)?,
        context: EntryContext {
            account: text(2)?,
            matter: text(3)?,
            wave: text(4)?,
            returning,
            respondent_key: text(6)?,
            arrival: parse_arrival(required(7)?)?,
            received_on: ReceivedDay::of_timestamp(required(8)?),
        },
    })
}

/// The output of `COPY … TO STDOUT (FORMAT binary)` of [`FIELDS`] columns, fed in chunks
/// of any size as it arrives ([`BinaryCopy::feed`]) and read a row at a time
/// ([`BinaryCopy::next_row`]): a header, rows (a 16-bit field count, then each field as a
/// 32-bit length, -1 for NULL, and its bytes), and a trailer (a field count of -1). Numbers
/// are big-endian.
#[derive(Debug, Default)]
struct BinaryCopy {
    /// What has arrived and is not yet read, from `at` on.
    buffer: Vec<u8>,
    at: usize,
    header_read: bool,
    ended: bool,
}

impl BinaryCopy {
    /// The header's fixed start: the signature, then 32-bit flags and the length of an
    /// extension area.
    const SIGNATURE: &'static [u8; 11] = b"PGCOPY\n\xff\r\n\0";

    /// Takes the next chunk of the stream.
    fn feed(&mut self, chunk: &[u8]) {
        if self.at == self.buffer.len() {
            self.buffer.clear();
        } else if self.at > 0 {
            self.buffer.drain(..self.at);
        }
        self.at = 0;
        self.buffer.extend_from_slice(chunk);
    }

    /// The next whole row, borrowed from what has arrived; `None` when the rest of it has
    /// not arrived yet (or the stream has ended).
    fn next_row(&mut self) -> anyhow::Result<Option<[Option<&[u8]>; FIELDS]>> {
        if !self.header_read {
            let Some(length) = self.header_length()? else {
                return Ok(None);
            };
            self.at += length;
            self.header_read = true;
        }
        let rest = &self.buffer[self.at..];
        let Some(count) = rest.get(..2) else {
            return Ok(None);
        };
        let count = i16::from_be_bytes([count[0], count[1]]);
        if count == -1 {
            anyhow::ensure!(!self.ended, "COPY sent a second trailer");
            self.ended = true;
            self.at += 2;
            return Ok(None);
        }
        anyhow::ensure!(!self.ended, "COPY sent a row after its trailer");
        anyhow::ensure!(
            usize::try_from(count) == Ok(FIELDS),
            "COPY sent a row of {count} fields, expected {FIELDS}"
        );
        let mut fields = [None; FIELDS];
        let mut offset = 2;
        for field in &mut fields {
            let Some(length) = rest.get(offset..offset + 4) else {
                return Ok(None);
            };
            let length = i32::from_be_bytes([length[0], length[1], length[2], length[3]]);
            offset += 4;
            if length == -1 {
                continue;
            }
            let length = usize::try_from(length)
                .map_err(|_| anyhow::anyhow!("COPY sent a field of length {length}"))?;
            let Some(value) = rest.get(offset..offset + length) else {
                return Ok(None);
            };
            *field = Some(value);
            offset += length;
        }
        self.at += offset;
        Ok(Some(fields))
    }

    /// The length of the header, once all of it has arrived.
    fn header_length(&self) -> anyhow::Result<Option<usize>> {
        let rest = &self.buffer[self.at..];
        let fixed = Self::SIGNATURE.len() + 8;
        if rest.len() < fixed {
            return Ok(None);
        }
        anyhow::ensure!(
            rest.starts_with(Self::SIGNATURE),
            "COPY sent no binary header"
        );
        let extension = &rest[fixed - 4..fixed];
        let extension =
            u32::from_be_bytes([extension[0], extension[1], extension[2], extension[3]]);
        let length = fixed + usize::try_from(extension)?;
        Ok((rest.len() >= length).then_some(length))
    }

    /// Checks that the stream ended where a `COPY` ends: after its trailer, with nothing
    /// left over.
    fn finish(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.ended, "COPY ended before its trailer");
        anyhow::ensure!(
            self.at == self.buffer.len(),
            "COPY sent {} bytes after its trailer",
            self.buffer.len() - self.at
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{BinaryCopy, FIELDS};

    /// A binary `COPY` of `rows`, as PostgreSQL writes it (with an extension area of 3
    /// bytes, which a reader must skip).
    fn encoded(rows: &[[Option<&[u8]>; FIELDS]]) -> Vec<u8> {
        let mut bytes = BinaryCopy::SIGNATURE.to_vec();
        bytes.extend_from_slice(&0u32.to_be_bytes());
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(b"ext");
        for row in rows {
            bytes.extend_from_slice(&(FIELDS as i16).to_be_bytes());
            for field in row {
                match field {
                    None => bytes.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(value) => {
                        bytes.extend_from_slice(&(value.len() as i32).to_be_bytes());
                        bytes.extend_from_slice(value);
                    }
                }
            }
        }
        bytes.extend_from_slice(&(-1i16).to_be_bytes());
        bytes
    }

    /// Every row read back from `bytes` fed in chunks of `size`.
    fn read(bytes: &[u8], size: usize) -> anyhow::Result<Vec<Vec<Option<Vec<u8>>>>> {
        let mut copy = BinaryCopy::default();
        let mut rows = Vec::new();
        for chunk in bytes.chunks(size) {
            copy.feed(chunk);
            while let Some(fields) = copy.next_row()? {
                rows.push(
                    fields
                        .iter()
                        .map(|field| field.map(<[u8]>::to_vec))
                        .collect(),
                );
            }
        }
        copy.finish()?;
        Ok(rows)
    }

    #[test]
    fn binary_copy_gives_back_every_row_however_the_stream_is_cut() {
        let rows: [[Option<&[u8]>; FIELDS]; 3] = [
            [
                Some(b"\x01\x02"),
                Some(b"id-1"),
                Some(b"northwind"),
                None,
                Some(b"2026-h1"),
                Some(b"\x01"),
                Some(b"key"),
                Some(b"invitation"),
                Some(b"2026-03-01T09:30:00.000Z"),
            ],
            [None; FIELDS],
            [
                Some(b""),
                Some(b"id-2"),
                Some("contoso \u{e9}".as_bytes()),
                Some(b"m"),
                None,
                Some(b"\x00"),
                None,
                Some(b"unverified"),
                Some(b"2026-06-30T23:59:59.999Z"),
            ],
        ];
        let bytes = encoded(&rows);
        let expected: Vec<Vec<Option<Vec<u8>>>> = rows
            .iter()
            .map(|row| row.iter().map(|field| field.map(<[u8]>::to_vec)).collect())
            .collect();
        for size in 1..=bytes.len() {
            assert_eq!(read(&bytes, size).unwrap(), expected, "chunks of {size}");
        }
    }

    #[test]
    fn binary_copy_refuses_a_stream_cut_short_or_malformed() {
        let row: [Option<&[u8]>; FIELDS] = [Some(b"entry"); FIELDS];
        let bytes = encoded(&[row]);
        let cut = read(&bytes[..bytes.len() - 1], 7).unwrap_err();
        assert!(cut.to_string().contains("before its trailer"), "{cut}");
        let mut trailing = bytes.clone();
        trailing.push(0);
        let trailing = read(&trailing, 5).unwrap_err();
        assert!(
            trailing.to_string().contains("after its trailer"),
            "{trailing}"
        );
        let mut text = bytes.clone();
        text[0] = b'p';
        let text = read(&text, 64).unwrap_err();
        assert!(text.to_string().contains("no binary header"), "{text}");
        let mut narrow = bytes;
        let count_at = BinaryCopy::SIGNATURE.len() + 8 + 3;
        narrow[count_at + 1] = 7;
        let narrow = read(&narrow, 64).unwrap_err();
        assert!(narrow.to_string().contains("7 fields"), "{narrow}");
    }
}
