//! A run's metrics.csv: a row per logged step and per epoch, appended as the run goes, and
//! cut back to what a checkpoint knows when the run resumes.

use super::error::EngineError;
use crate::engine::run_dir::RunDir;
use std::io::Write;
use std::path::Path;

/// metrics.csv, appended row by row; its length is saved with each checkpoint.
///
/// Only whole rows reach the file: a write that fails part-way (a full disk) is cut back to
/// the last whole row, and the rows that could not be written are held and written with the
/// next row that can be. A checkpoint waits a little for them, and fails (keeping the
/// previous checkpoint) rather than record a length the file doesn't have.
pub(super) struct Csv {
    file: Option<std::fs::File>,
    path: std::path::PathBuf,
    /// Bytes of whole rows on disk.
    pub(super) len: u64,
    /// Rows not yet on disk, oldest first.
    held: String,
    /// The error that is holding them back, once said.
    failing: Option<String>,
}

/// How long a checkpoint waits for held rows to reach a disk that is full: a disk freed by
/// another program within seconds costs nothing; one that stays full fails the checkpoint.
const CHECKPOINT_RETRIES: u32 = 20;
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// The columns (netloom's runs and exported train.py's alike); `precision` (fp32, bf16, fp16)
/// is filled on epoch rows, `threads` (the CPU threads training used; empty on a GPU) on
/// every row: the count can change while a run trains (docs/training.md). A regression's
/// epoch rows fill `val_mae,val_rmse,val_r2` (in the target's units) and leave the accuracy
/// cells empty; a segmentation's fill `val_miou` and `val_iou` (each class's IoU,
/// `;`-separated), `val_acc` being its pixel accuracy; other rows leave them empty.
pub(super) const HEADER: &str = "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s,precision,threads,val_mae,val_rmse,val_r2,val_miou,val_iou";

/// The columns of older run folders: before the regression metrics, before `threads`, and
/// before `precision` too. Such a folder still reads and resumes, its new rows carrying the
/// extra cells.
pub(super) const OLDER_HEADERS: [&str; 3] = [
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s,precision,threads",
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s,precision",
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s",
];

/// The widths, in cells, of every header netloom has written ([`HEADER`] and
/// [`OLDER_HEADERS`]): a row of another width is two rows run together.
const WIDTHS: [usize; 4] = [10, 11, 12, 17];

/// Whether `line` (without its newline) is one of the headers netloom has written.
pub(super) fn is_header(line: &str) -> bool {
    line == HEADER || OLDER_HEADERS.contains(&line)
}

/// The length of the header line (with its newline) that `text` starts with, if it is one of
/// netloom's.
fn header_len(text: &[u8]) -> Option<usize> {
    std::iter::once(&HEADER)
        .chain(OLDER_HEADERS.iter())
        .find(|h| text.starts_with(h.as_bytes()) && text.get(h.len()) == Some(&b'\n'))
        .map(|h| h.len() + 1)
}

impl Csv {
    /// Opens DIR/metrics.csv: a new one with its header, or for a resume the one there cut to
    /// the rows the checkpoint knows. A resumed run's file that is missing, shorter than the
    /// checkpoint expects, or not netloom's is repaired, and the repair is said (the second
    /// value): its complete rows are kept, a foreign file is set aside as metrics.csv.damaged.
    pub(super) fn open(
        dir: Option<&Path>,
        resume_len: Option<u64>,
    ) -> Result<(Csv, Option<String>), EngineError> {
        let Some(dir) = dir else {
            return Ok((
                Csv {
                    file: None,
                    path: Default::default(),
                    len: 0,
                    held: String::new(),
                    failing: None,
                },
                None,
            ));
        };
        let path = RunDir::at(dir).metrics();
        let (keep, notice) = match resume_len {
            None => (None, None),
            Some(len) => Self::usable(&path, len)?,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(keep.is_none())
            .open(&path)
            .map_err(|e| EngineError::io("open metrics.csv", &path, e))?;
        let len = match keep {
            Some(len) => {
                file.set_len(len)
                    .map_err(|e| EngineError::io("trim metrics.csv", &path, e))?;
                len
            }
            None => {
                file.write_all(format!("{HEADER}\n").as_bytes())
                    .map_err(|e| EngineError::io("write metrics.csv", &path, e))?;
                HEADER.len() as u64 + 1
            }
        };
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(len))
            .map_err(|e| EngineError::io("write metrics.csv", &path, e))?;
        Ok((
            Csv {
                file: Some(file),
                path,
                len,
                held: String::new(),
                failing: None,
            },
            notice,
        ))
    }

    /// How much of a resumed run's metrics.csv to keep (None: start it afresh), and what had
    /// to be repaired.
    fn usable(path: &Path, want: u64) -> Result<(Option<u64>, Option<String>), EngineError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((None, Some(
                    "metrics.csv was missing: the curves before this point are lost; it starts again here".to_owned(),
                )));
            }
            Err(e) => return Err(EngineError::io("read metrics.csv", path, e)),
        };
        let Some(header) = header_len(&bytes) else {
            let aside = path.with_extension("csv.damaged");
            std::fs::rename(path, &aside)
                .map_err(|e| EngineError::io("set aside metrics.csv", path, e))?;
            return Ok((
                None,
                Some(format!(
                    "metrics.csv is not netloom's (its header differs): it was set aside as {}, and a new one starts here",
                    aside.display()
                )),
            ));
        };
        let want = usize::try_from(want).unwrap_or(usize::MAX);
        let end = bytes.len().min(want);
        let cells = bytes[..header].iter().filter(|&&b| b == b',').count() + 1;
        // Rows are checked up to any NUL (a crash's hole, handled below with the rest).
        let good = bytes[..end].iter().position(|&b| b == 0).unwrap_or(end);
        let torn = bytes
            .get(header..good)
            .and_then(|rows| first_torn_row(rows, cells))
            .map(|at| header + at);
        let clean = bytes.len() >= want
            && want >= header
            && bytes.get(want - 1) == Some(&b'\n')
            && !bytes[..want].contains(&0)
            && torn.is_none();
        if clean {
            return Ok((Some(want as u64), None));
        }
        if let Some(at) = torn {
            return Ok((
                Some(at as u64),
                Some(format!(
                    "metrics.csv has a damaged row at byte {at} (a write cut short): the rows before it are kept, the ones from it on are lost"
                )),
            ));
        }
        // Keep the complete, NUL-free lines before the damage.
        let cut = bytes[..good]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(header, |i| i + 1)
            .max(header);
        Ok((
            Some(cut as u64),
            Some(format!(
                "metrics.csv holds {} of the {want} bytes the checkpoint expects: its complete rows are kept, the ones after them are lost",
                bytes.len()
            )),
        ))
    }

    /// Appends a row (with the rows held before it). What to tell the user, when writing
    /// starts failing or works again.
    pub(super) fn row(&mut self, row: String) -> Option<String> {
        self.file.as_ref()?;
        self.held.push_str(&row);
        match (self.write_held(), self.failing.is_some()) {
            (Ok(()), false) => None,
            (Ok(()), true) => {
                self.failing = None;
                Some(
                    "metrics.csv is written again: the rows held back are in it, none lost"
                        .to_owned(),
                )
            }
            (Err(_), true) => None,
            (Err(e), false) => {
                self.failing = Some(e.to_string());
                Some(format!(
                    "metrics.csv can't be written ({e}): its rows are held and written when there is room again; a checkpoint waits {} s for that, then the run stops with its last checkpoint kept",
                    (RETRY_PAUSE * CHECKPOINT_RETRIES).as_secs()
                ))
            }
        }
    }

    /// Writes the held rows, or cuts the file back to its last whole row.
    fn write_held(&mut self) -> std::io::Result<()> {
        let Some(f) = &mut self.file else {
            return Ok(());
        };
        if self.held.is_empty() {
            return Ok(());
        }
        let written = match crate::fsio::full_disk_fault() {
            // The fault hook: half the bytes land, then the disk is full.
            true => f
                .write_all(&self.held.as_bytes()[..self.held.len() / 2])
                .and_then(|()| Err(std::io::Error::from(std::io::ErrorKind::StorageFull))),
            false => f.write_all(self.held.as_bytes()),
        };
        match written {
            Ok(()) => {
                self.len += self.held.len() as u64;
                self.held.clear();
                Ok(())
            }
            Err(e) => {
                use std::io::Seek;
                // Part of a row may have landed: the file keeps whole rows only.
                let _ = f.set_len(self.len);
                let _ = f.seek(std::io::SeekFrom::Start(self.len));
                Err(e)
            }
        }
    }

    /// Brings every row to the disk before a checkpoint records their length, waiting a
    /// little for a full disk; the error when the rows still can't be written.
    pub(super) fn sync(&mut self) -> Result<(), EngineError> {
        let mut tries = 0;
        while let Err(e) = self.write_held() {
            tries += 1;
            if tries >= CHECKPOINT_RETRIES {
                return Err(EngineError::io("write metrics.csv", &self.path, e));
            }
            std::thread::sleep(RETRY_PAUSE);
        }
        self.failing = None;
        if let Some(f) = &self.file {
            let _ = f.sync_data();
        }
        Ok(())
    }
}

/// Where the first complete line that is not a whole row starts in `rows` (the bytes after
/// the header): a line of another number of cells, or of an unknown kind, as two rows run
/// together by a write cut short are. A last line without its newline is left to the caller.
fn first_torn_row(rows: &[u8], cells: usize) -> Option<usize> {
    let mut at = 0;
    for line in rows.split_inclusive(|&b| b == b'\n') {
        if line.last() != Some(&b'\n') {
            return None;
        }
        // An older run folder has rows of its header's width and, once resumed, of any width
        // netloom has written since (columns are only ever added at the end).
        let n = line.iter().filter(|&&b| b == b',').count() + 1;
        let whole = (WIDTHS.contains(&n) && n >= cells)
            && (line.starts_with(b"step,") || line.starts_with(b"epoch,"));
        if !whole {
            return Some(at);
        }
        at += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn two_rows_run_together_by_a_short_write_are_found_and_cut_on_resume() {
        assert_eq!(WIDTHS[3], HEADER.split(',').count());
        for (old, width) in OLDER_HEADERS.iter().zip([12, 11, 10]) {
            assert_eq!(old.split(',').count(), width);
        }
        let rows = "step,1,10,0.1,2.3,,,,,,,2,,,,,\nstep,1,20,0.1,2.1,,,,,,,1,,,,,\n";
        assert_eq!(first_torn_row(rows.as_bytes(), 17), None);
        let torn = "step,1,10,0.1,2.3,,,,,,,2,,,,,\nstep,2,1961,0.00step,2,2251,0.1,1.2,,,,,,,2,,,,,\nstep,2,2261,0.1,1.1,,,,,,,2,,,,,\n";
        assert_eq!(first_torn_row(torn.as_bytes(), 17), Some(31));
        // A last line without its newline is the caller's (a file cut short).
        assert_eq!(
            first_torn_row(b"step,1,10,0.1,2.3,,,,,,,2,,,,,\nstep,1,2", 17),
            None
        );
        // An older run resumed now: its header's rows and today's are whole, a torn one isn't.
        let old =
            "step,1,10,0.1,2.3,,,,,,\nstep,1,20,0.1,2.1,,,,,,,2\nstep,1,30,0.1,2.0,,,,,,,2,,,,,\n";
        assert_eq!(first_torn_row(old.as_bytes(), 11), None);
        let old_torn = "step,1,10,0.1,2.3,,,,,,\nstep,1,1step,1,20,0.1,2.1,,,,,,,2\n";
        assert_eq!(first_torn_row(old_torn.as_bytes(), 11), Some(24));

        let dir = std::env::temp_dir().join(format!("netloom-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let text = format!("{HEADER}\n{torn}");
        std::fs::write(&path, &text).unwrap();
        let (keep, notice) = Csv::usable(&path, text.len() as u64).unwrap();
        assert_eq!(keep, Some((HEADER.len() + 1 + 31) as u64));
        assert!(notice.unwrap().contains("damaged row"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
