//! Where a search keeps its state: a `Storage` is a flat map from relative paths
//! (`oracle.json`, `trial_03/trial.json`, ...) to bytes. `DirStorage` keeps KerasTuner's
//! on-disk layout under `directory/project_name` and writes atomically (write a temporary file,
//! then rename), so a kill at any moment leaves a loadable project. `MemoryStorage` serves
//! tests; the browser will plug IndexedDB in behind the same trait.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A study in a SQL database that several workers share (`TunerConfig::storage`; needs the
/// `sql` feature, native only): `url` is `sqlite:///PATH` or `postgresql://USER@HOST/DB`.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyStorage {
    pub url: String,
    pub study_name: String,
    /// Seconds between a running trial's heartbeats.
    pub heartbeat_interval: f64,
    /// Seconds without a heartbeat after which another worker takes a running trial over.
    pub grace_period: f64,
}

impl StudyStorage {
    /// `study_name` at `url`, with heartbeats every 10 s and a 60 s grace period.
    pub fn new(url: impl Into<String>, study_name: impl Into<String>) -> Self {
        StudyStorage {
            url: url.into(),
            study_name: study_name.into(),
            heartbeat_interval: 10.0,
            grace_period: 60.0,
        }
    }

    /// Opens the study (creating the database's tables and the study when needed) for a
    /// search of `objective` (its direction and name are the study's).
    pub fn open(
        &self,
        objective: &crate::tuner::objective::ObjectiveSpec,
    ) -> Result<Box<dyn Storage>> {
        #[cfg(all(feature = "sql", not(target_arch = "wasm32")))]
        {
            let options = crate::tuner::sql::SqlOptions {
                heartbeat_interval: self.heartbeat_interval,
                grace_period: self.grace_period,
            };
            Ok(Box::new(crate::tuner::sql::SqlStorage::open(
                &self.url,
                &self.study_name,
                objective,
                options,
            )?))
        }
        #[cfg(not(all(feature = "sql", not(target_arch = "wasm32"))))]
        {
            let _ = objective;
            Err(Error::invalid(
                "storage",
                &self.url,
                "a directory: this build has no SQL storage (it needs the `sql` feature, native only)",
            ))
        }
    }
}

/// A place to keep a search's documents.
pub trait Storage {
    /// The bytes at `path`, or `None` when there is nothing there.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Replaces `path` with `data`, all or nothing.
    fn write(&mut self, path: &str, data: &[u8]) -> Result<()>;
    /// Paths directly or indirectly under `prefix` ("" for all).
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Removes everything.
    fn clear(&mut self) -> Result<()>;
    /// Where the documents live, for messages ("my_dir/helloworld").
    fn location(&self) -> String;

    /// Whether other processes write to this storage too (a study in a SQL database shared by
    /// several workers). The tuner then makes each decision (a new trial, a trial's end)
    /// between [`Storage::lock`] and [`Storage::unlock`], on the search as re-read there.
    fn shared(&self) -> bool {
        false
    }
    /// Starts a section no other worker enters until [`Storage::unlock`].
    fn lock(&mut self) -> Result<()> {
        Ok(())
    }
    /// Ends the section, keeping its writes (`commit`) or dropping them.
    fn unlock(&mut self, _commit: bool) -> Result<()> {
        Ok(())
    }
    /// Numbers of the running trials whose worker stopped giving signs of life (its heartbeats
    /// are older than the grace period): another worker takes them over.
    fn abandoned(&mut self) -> Result<Vec<usize>> {
        Ok(Vec::new())
    }
    /// The numbers of the trials this process is running now (their heartbeats go on while
    /// they run).
    fn set_running(&mut self, _numbers: &[usize]) -> Result<()> {
        Ok(())
    }
}

/// The simulated disk faults of [`DirStorage`] for a storage that writes elsewhere (a
/// database): the N-th write stops the process, or writes fail once the byte budget is spent.
#[cfg(all(feature = "sql", not(target_arch = "wasm32")))]
pub(crate) fn fault_before_write(data: &[u8]) -> Result<()> {
    faults::count_write(data).map_err(|e| Error::Io(format!("cannot write: {e}")))
}

/// Documents in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    files: BTreeMap<String, Vec<u8>>,
    /// Fails every write after this many (simulates a full disk in tests).
    pub fail_after_writes: Option<usize>,
    writes: usize,
}

impl MemoryStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemoryStorage {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.files.get(path).cloned())
    }
    fn write(&mut self, path: &str, data: &[u8]) -> Result<()> {
        if let Some(limit) = self.fail_after_writes {
            if self.writes >= limit {
                return Err(Error::Io(format!(
                    "cannot write {path}: storage is full (no space left)"
                )));
            }
        }
        self.writes += 1;
        self.files.insert(path.to_string(), data.to_vec());
        Ok(())
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .files
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
    fn clear(&mut self) -> Result<()> {
        self.files.clear();
        Ok(())
    }
    fn location(&self) -> String {
        "(memory)".to_string()
    }
}

/// Documents in `directory/project_name` on disk.
#[derive(Debug, Clone)]
pub struct DirStorage {
    root: PathBuf,
    shown: String,
}

impl DirStorage {
    /// Storage rooted at `directory/project_name` (created on first write).
    pub fn new(directory: impl AsRef<Path>, project_name: &str) -> Result<Self> {
        if project_name.is_empty()
            || project_name.contains(['/', '\\'])
            || project_name == ".."
            || project_name == "."
        {
            return Err(Error::invalid(
                "project_name",
                project_name,
                "a plain, non-empty folder name",
            ));
        }
        let root = directory.as_ref().join(project_name);
        Ok(DirStorage {
            shown: format!("{}/{}", directory.as_ref().display(), project_name),
            root,
        })
    }

    fn path(&self, rel: &str) -> Result<PathBuf> {
        if rel.is_empty()
            || rel.starts_with('/')
            || rel.split('/').any(|c| c == ".." || c.is_empty())
        {
            return Err(Error::invalid(
                "storage path",
                rel,
                "a relative path inside the project",
            ));
        }
        Ok(self.root.join(rel))
    }
}

/// Simulated failures of the disk, for the reliability tests of the command line (they need a
/// real process to kill). Off unless an environment variable asks for one:
/// - `TUNELAB_FAULT_CRASH_AT_WRITE=N`: the N-th write (1-based) stops the process half-way
///   through writing its temporary file, as a kill -9 or a power cut would;
/// - `TUNELAB_FAULT_DISK_FULL_AFTER=BYTES`: writes fail with "no space left on device" (ENOSPC)
///   once this many bytes have been written, half-way through the write that crosses it.
mod faults {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    struct Plan {
        crash_at_write: Option<u64>,
        disk_full_after: Option<u64>,
    }

    fn plan() -> &'static Plan {
        static PLAN: OnceLock<Plan> = OnceLock::new();
        PLAN.get_or_init(|| {
            let num = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse().ok());
            Plan {
                crash_at_write: num("TUNELAB_FAULT_CRASH_AT_WRITE"),
                disk_full_after: num("TUNELAB_FAULT_DISK_FULL_AFTER"),
            }
        })
    }

    static WRITES: AtomicU64 = AtomicU64::new(0);
    static BYTES: AtomicU64 = AtomicU64::new(0);

    /// Counts a write that has no file of its own (a database's): stops the process at the
    /// planned write, fails once the byte budget is spent.
    #[cfg(all(feature = "sql", not(target_arch = "wasm32")))]
    pub(super) fn count_write(data: &[u8]) -> std::io::Result<()> {
        let p = plan();
        if p.crash_at_write.is_none() && p.disk_full_after.is_none() {
            return Ok(());
        }
        let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
        if p.crash_at_write == Some(n) {
            std::process::abort();
        }
        if let Some(limit) = p.disk_full_after {
            let before = BYTES.fetch_add(data.len() as u64, Ordering::SeqCst);
            if before + data.len() as u64 > limit {
                return Err(std::io::Error::from_raw_os_error(28));
            }
        }
        Ok(())
    }

    /// Called with the temporary file open and nothing written yet.
    pub(super) fn before_write(f: &mut std::fs::File, data: &[u8]) -> std::io::Result<()> {
        let p = plan();
        if p.crash_at_write.is_none() && p.disk_full_after.is_none() {
            return Ok(());
        }
        let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
        let half = &data[..data.len() / 2];
        if p.crash_at_write == Some(n) {
            f.write_all(half)?;
            f.sync_all()?;
            std::process::abort();
        }
        if let Some(limit) = p.disk_full_after {
            let before = BYTES.fetch_add(data.len() as u64, Ordering::SeqCst);
            if before + data.len() as u64 > limit {
                f.write_all(half)?;
                return Err(std::io::Error::from_raw_os_error(28));
            }
        }
        Ok(())
    }
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("cannot {what} {}: {e}", p.display()))
}

impl Storage for DirStorage {
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let p = self.path(rel)?;
        match std::fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &p, e)),
        }
    }
    fn write(&mut self, rel: &str, data: &[u8]) -> Result<()> {
        let p = self.path(rel)?;
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        // Write beside the target and rename over it: readers see the old or the new
        // document, never half of one.
        let tmp = p.with_extension(format!(
            "{}.tmp",
            p.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        let result = (|| -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            faults::before_write(&mut f, data)?;
            f.write_all(data)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &p)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(io("write", &p, e));
        }
        Ok(())
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let r = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                if entry.file_type()?.is_dir() {
                    walk(&entry.path(), &r, out)?;
                } else if !name.ends_with(".tmp") {
                    out.push(r);
                }
            }
            Ok(())
        }
        walk(&self.root, "", &mut out).map_err(|e| io("list", &self.root, e))?;
        out.retain(|p| p.starts_with(prefix));
        out.sort();
        Ok(out)
    }
    fn clear(&mut self) -> Result<()> {
        match std::fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &self.root, e)),
        }
    }
    fn location(&self) -> String {
        self.shown.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(s: &mut dyn Storage) {
        s.write("oracle.json", b"{}").unwrap();
        s.write("trial_00/trial.json", b"a").unwrap();
        s.write("trial_00/trial.json", b"b").unwrap();
        assert_eq!(s.read("trial_00/trial.json").unwrap().unwrap(), b"b");
        assert_eq!(s.read("missing.json").unwrap(), None);
        assert_eq!(s.list("trial_").unwrap(), vec!["trial_00/trial.json"]);
        s.clear().unwrap();
        assert!(s.list("").unwrap().is_empty());
    }

    #[test]
    fn memory_and_directory_behave_the_same() {
        exercise(&mut MemoryStorage::new());
        let dir = std::env::temp_dir().join(format!("tunelab-storage-{}", std::process::id()));
        let mut d = DirStorage::new(&dir, "proj").unwrap();
        exercise(&mut d);
        assert!(d.write("../escape.json", b"x").is_err());
        assert!(DirStorage::new(&dir, "a/b").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn full_storage_is_an_error_and_keeps_what_was_written() {
        let mut m = MemoryStorage::new();
        m.fail_after_writes = Some(1);
        m.write("a", b"1").unwrap();
        let e = m.write("b", b"2").unwrap_err().to_string();
        assert!(e.contains("storage is full"), "{e}");
        assert_eq!(m.read("a").unwrap().unwrap(), b"1");
    }
}
