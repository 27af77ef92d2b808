//! A process killed at any instant leaves a store the next command opens.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn scratch(label: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("peter-crash-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn peter(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_peter"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("PETER_DATABASE_URL")
        .env_remove("PETER_ADMIN_TOKEN");
    c
}

fn run(data: &Path, args: &[&str]) -> Output {
    peter(data).args(args).output().expect("run peter")
}

/// `peter init` killed (SIGKILL) at 20 instants spread over the first five
/// sixths of a run:
/// every store is completed by the next `init` and then answers commands.
/// (Before migrations ran in one transaction, about half of these stores
/// refused every later command: "table acme_server already exists".)
#[test]
fn init_killed_at_any_instant_leaves_a_store_the_next_command_opens() {
    let root = scratch("init");
    // How long a whole init takes here (the fastest of three: the machine
    // may be busy with other tests), to spread the kills over it.
    let mut whole = std::time::Duration::MAX;
    for t in 0..3 {
        let started = Instant::now();
        let full = run(&root.join(format!("timing-{t}")), &["init"]);
        assert!(
            full.status.success(),
            "{}",
            String::from_utf8_lossy(&full.stderr)
        );
        whole = whole.min(started.elapsed());
    }
    let mut killed_midway = 0;
    for i in 0..20u32 {
        let data = root.join(format!("kill-{i}"));
        let mut child = peter(&data)
            .arg("init")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn peter init");
        std::thread::sleep(whole * i / 24);
        let finished = child.try_wait().expect("try_wait").is_some();
        child.kill().ok();
        child.wait().expect("reap");
        if !finished {
            killed_midway += 1;
        }
        let again = run(&data, &["init"]);
        assert!(
            again.status.success(),
            "init after a kill at {:?} (of {whole:?}): {}",
            whole * i / 24,
            String::from_utf8_lossy(&again.stderr)
        );
        let list = run(&data, &["--json", "cert", "list"]);
        assert!(
            list.status.success(),
            "a command after a kill at {:?}: {}",
            whole * i / 24,
            String::from_utf8_lossy(&list.stderr)
        );
        let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(listed["pagination"]["total_items"], 0);
    }
    assert!(
        killed_midway >= 8,
        "most kills must land inside the run: {killed_midway} of 20 (a whole init took {whole:?})"
    );
    let _ = std::fs::remove_dir_all(&root);
}
