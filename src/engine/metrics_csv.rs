//! A run's metrics.csv: a row per logged step and per epoch, appended as the run goes, and
//! cut back to what a checkpoint knows when the run resumes.

use super::error::EngineError;
use std::io::Write;
use std::path::Path;

/// metrics.csv, appended row by row; its length is saved with each checkpoint.
pub(super) struct Csv {
    file: Option<std::fs::File>,
    pub(super) len: u64,
}

/// The columns (netloom's runs and exported train.py's alike); `precision` (fp32, bf16, fp16)
/// is filled on epoch rows.
pub(super) const HEADER: &str =
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s,precision";

/// The columns before `precision` was recorded: a run folder from then still reads and
/// resumes, its new rows carrying the extra cell.
pub(super) const OLD_HEADER: &str =
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s";

/// The length of the header line (with its newline) that `text` starts with, if it is one of
/// netloom's.
fn header_len(text: &[u8]) -> Option<usize> {
    [HEADER, OLD_HEADER]
        .iter()
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
            return Ok((Csv { file: None, len: 0 }, None));
        };
        let path = dir.join("metrics.csv");
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
                len,
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
        let clean = bytes.len() >= want
            && want >= header
            && bytes.get(want - 1) == Some(&b'\n')
            && !bytes[..want].contains(&0);
        if clean {
            return Ok((Some(want as u64), None));
        }
        // Keep the complete, NUL-free lines before the damage.
        let end = bytes.len().min(want);
        let good = bytes[..end].iter().position(|&b| b == 0).unwrap_or(end);
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

    pub(super) fn row(&mut self, row: String) {
        if let Some(f) = &mut self.file
            && f.write_all(row.as_bytes()).is_ok()
        {
            self.len += row.len() as u64;
        }
    }

    /// Flushes the rows to the disk before a checkpoint records their length.
    pub(super) fn sync(&self) {
        if let Some(f) = &self.file {
            let _ = f.sync_data();
        }
    }
}
