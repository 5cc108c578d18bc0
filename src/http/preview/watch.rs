//! Watching the files a preview is made from, so the page can reload when
//! one is saved.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{broadcast, mpsc};

/// How long to wait for an editor to finish saving before reloading: the
/// changes of one save (truncate, write, rename) become one reload.
const SETTLE: Duration = Duration::from_millis(150);

/// Keeps the watch alive; dropping it stops watching.
pub struct Watch(#[allow(dead_code)] RecommendedWatcher);

/// Sends a new number on `changes` each time one of `files` is written,
/// created, renamed or removed (reading them, as every page load does, is
/// not a change). The folders holding them are watched, so editors that
/// save by writing a new file and renaming it are seen too. Must be called
/// inside the runtime.
pub fn start(files: &[PathBuf], changes: broadcast::Sender<u64>) -> notify::Result<Watch> {
    let files: Vec<PathBuf> = files.iter().map(|f| absolute(f)).collect();
    let (saved, mut settle) = mpsc::unbounded_channel::<()>();
    let watched = files.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if is_change(&event.kind) && event.paths.iter().any(|p| watched.iter().any(|f| same_file(p, f))) {
            let _ = saved.send(());
        }
    })?;
    let mut folders: Vec<PathBuf> = files.iter().filter_map(|f| f.parent().map(Path::to_owned)).collect();
    folders.sort();
    folders.dedup();
    for folder in folders.iter().filter(|f| f.is_dir()) {
        watcher.watch(folder, RecursiveMode::NonRecursive)?;
    }
    tokio::spawn(async move {
        let mut count = 0;
        while settle.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while settle.try_recv().is_ok() {}
            count += 1;
            // Nobody listening is fine: no page is open.
            let _ = changes.send(count);
        }
    });
    Ok(Watch(watcher))
}

/// True for what changes a file's content or existence.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn same_file(event: &Path, file: &Path) -> bool {
    event == file
        || (event.file_name() == file.file_name()
            && event.parent().map(absolute) == file.parent().map(absolute))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, RenameMode};

    #[test]
    fn writes_renames_and_removals_are_changes_but_reads_are_not() {
        assert!(is_change(&EventKind::Modify(ModifyKind::Data(DataChange::Content))));
        assert!(is_change(&EventKind::Modify(ModifyKind::Name(RenameMode::To))));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(!is_change(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(!is_change(&EventKind::Modify(ModifyKind::Metadata(notify::event::MetadataKind::Any))));
    }
}
