//! The exec hook: an operator's command given the record to add and to
//! remove, for any DNS provider's API (like certbot's manual hooks or lego's
//! exec provider).

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use peter_core::ports::{DnsChallengeError, DnsChallengeRecord, DnsChallengeSolver};
use tokio::io::AsyncReadExt;

/// How much of a failing hook's stderr an error keeps.
const STDERR_KEPT: usize = 400;

/// Runs `COMMAND... present|cleanup FQDN VALUE`, with the same in
/// `PETER_DNS_ACTION`, `PETER_DNS_FQDN`, `PETER_DNS_VALUE` and the name
/// validated in `PETER_DNS_DOMAIN`. No shell is involved. `present` must
/// return once the record is visible to the CA; exit status 0 is success.
/// A command still running at the timeout is killed.
#[derive(Debug, Clone)]
pub struct ExecDnsHook {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl ExecDnsHook {
    /// The hook `command` (program, then its own arguments), killed after
    /// `timeout`. An empty command is refused.
    pub fn new(command: &[String], timeout: Duration) -> Result<Self, String> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| "the DNS-01 exec hook needs a command".to_string())?;
        if program.trim().is_empty() {
            return Err("the DNS-01 exec hook needs a command".into());
        }
        Ok(Self {
            program: program.clone(),
            args: args.to_vec(),
            timeout,
        })
    }

    async fn run(
        &self,
        action: &'static str,
        verb: &'static str,
        record: &DnsChallengeRecord,
    ) -> Result<(), DnsChallengeError> {
        let failed = |message: String| DnsChallengeError::Failed {
            method: "exec".into(),
            action: verb,
            fqdn: record.fqdn.clone(),
            message,
        };
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .args([action, record.fqdn.as_str(), record.value.as_str()])
            .env("PETER_DNS_ACTION", action)
            .env("PETER_DNS_DOMAIN", &record.domain)
            .env("PETER_DNS_FQDN", &record.fqdn)
            .env("PETER_DNS_VALUE", &record.value)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(format!("cannot start `{}`: {e}", self.program)))?;
        // Stderr is read beside the wait, so that a chatty hook never
        // blocks on a full pipe: the first 16 KiB are kept, the rest drained.
        let stderr = child.stderr.take();
        let reader = tokio::spawn(async move {
            let mut kept = Vec::new();
            if let Some(pipe) = stderr {
                let mut limited = pipe.take(16 * 1024);
                let _ = limited.read_to_end(&mut kept).await;
                let mut rest = limited.into_inner();
                let _ = tokio::io::copy(&mut rest, &mut tokio::io::sink()).await;
            }
            kept
        });
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Err(_) => {
                let _ = child.kill().await;
                reader.abort();
                return Err(DnsChallengeError::TimedOut {
                    method: "exec".into(),
                    action: verb,
                    fqdn: record.fqdn.clone(),
                    seconds: self.timeout.as_secs(),
                });
            }
            Ok(Err(e)) => {
                reader.abort();
                return Err(failed(format!("waiting for the hook: {e}")));
            }
            Ok(Ok(status)) => status,
        };
        if status.success() {
            // A background process it left may hold stderr open: not waited for.
            reader.abort();
            return Ok(());
        }
        let kept = tokio::time::timeout(Duration::from_secs(1), reader)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&kept);
        let text = text.trim();
        let tail: String = text
            .chars()
            .rev()
            .take(STDERR_KEPT)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Err(failed(if tail.is_empty() {
            format!("the hook exited with {status}")
        } else {
            format!("the hook exited with {status}: {tail}")
        }))
    }
}

#[async_trait]
impl DnsChallengeSolver for ExecDnsHook {
    fn method(&self) -> &str {
        "exec"
    }

    async fn present(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError> {
        self.run("present", "add", record).await
    }

    async fn clean_up(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError> {
        self.run("cleanup", "remove", record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DnsChallengeRecord {
        DnsChallengeRecord::new("*.example.com", "token.thumbprint")
    }

    fn hook(script: &str, timeout_ms: u64) -> ExecDnsHook {
        ExecDnsHook::new(
            &["sh".into(), "-c".into(), script.into(), "hook".into()],
            Duration::from_millis(timeout_ms),
        )
        .unwrap()
    }

    #[test]
    fn the_record_is_named_for_the_base_domain_with_a_digest_value() {
        let r = record();
        assert_eq!(r.domain, "example.com");
        assert_eq!(r.fqdn, "_acme-challenge.example.com");
        assert_eq!(r.value.len(), 43);
    }

    #[tokio::test]
    async fn the_hook_gets_the_record_as_arguments_and_environment() {
        let ok = hook(
            r#"[ "$1" = present ] && [ "$2" = "$PETER_DNS_FQDN" ] && [ "$3" = "$PETER_DNS_VALUE" ] && [ "$PETER_DNS_DOMAIN" = example.com ]"#,
            5_000,
        );
        ok.present(&record()).await.unwrap();
        assert!(ok.clean_up(&record()).await.is_err(), "$1 is cleanup");
    }

    #[tokio::test]
    async fn a_chatty_hook_is_not_blocked_and_one_leaving_a_child_is_not_waited_for() {
        let started = std::time::Instant::now();
        // 1 MiB on stderr, then success.
        hook("head -c 1048576 /dev/zero >&2", 5_000)
            .present(&record())
            .await
            .unwrap();
        // Exits at once, leaving a child that holds stderr for 30 s.
        hook("sleep 30 & exit 0", 5_000)
            .present(&record())
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[tokio::test]
    async fn a_failing_hook_says_why_and_a_hanging_one_is_killed() {
        let err = hook("echo 'provider said no' >&2; exit 3", 5_000)
            .present(&record())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("provider said no"), "{text}");
        assert!(text.contains("_acme-challenge.example.com"), "{text}");
        let started = std::time::Instant::now();
        let err = hook("sleep 30", 300).present(&record()).await.unwrap_err();
        assert!(matches!(err, DnsChallengeError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(ExecDnsHook::new(&[], Duration::from_secs(1)).is_err());
    }
}
