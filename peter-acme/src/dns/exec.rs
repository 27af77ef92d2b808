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
        let mut stderr = child.stderr.take();
        let outcome = tokio::time::timeout(self.timeout, async {
            // Read a bounded amount of stderr while waiting, so that a
            // chatty hook neither blocks on a full pipe nor fills memory.
            let mut kept = Vec::new();
            if let Some(pipe) = stderr.as_mut() {
                let mut limited = pipe.take(16 * 1024);
                let _ = limited.read_to_end(&mut kept).await;
            }
            let status = child.wait().await;
            (status, kept)
        })
        .await;
        match outcome {
            Err(_) => {
                let _ = child.kill().await;
                Err(DnsChallengeError::TimedOut {
                    method: "exec".into(),
                    action: verb,
                    fqdn: record.fqdn.clone(),
                    seconds: self.timeout.as_secs(),
                })
            }
            Ok((Err(e), _)) => Err(failed(format!("waiting for the hook: {e}"))),
            Ok((Ok(status), _)) if status.success() => Ok(()),
            Ok((Ok(status), kept)) => {
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
