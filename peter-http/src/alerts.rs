//! Alert targets: a webhook that receives each alert as a signed JSON POST,
//! and a command that receives it on standard input. The facade decides
//! what to send, retries and records; these make one try each.

use std::time::Duration;

use async_trait::async_trait;
use peter_core::ports::AlertTarget;

/// Posts alerts as JSON to a URL, signed with HMAC-SHA256 of the body in
/// `X-Peter-Signature: sha256=<hex>` so the receiver can check who sent it.
pub struct WebhookAlerts {
    url: String,
    key: aws_lc_rs::hmac::Key,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookAlerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookAlerts")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookAlerts {
    /// A webhook at `url` (http or https), signing with `secret`, giving up
    /// on a try after `timeout`.
    pub fn new(url: &str, secret: &str, timeout: Duration) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("alerts.webhook_url `{url}` is not an http(s) URL"));
        }
        if secret.len() < 16 {
            return Err("alerts.webhook_secret: give at least 16 characters".into());
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Self {
            url: url.to_string(),
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes()),
            client,
        })
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &aws_lc_rs::hmac::Key, body: &[u8]) -> String {
    let tag = aws_lc_rs::hmac::sign(key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[async_trait]
impl AlertTarget for WebhookAlerts {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn deliver(&self, body: &str) -> Result<(), String> {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("peter/", env!("CARGO_PKG_VERSION")))
            .header("x-peter-signature", signature(&self.key, body.as_bytes()))
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.url))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{} answered HTTP {}", self.url, status.as_u16()))
        }
    }
}

/// Runs a command per alert: the JSON document on standard input, its
/// condition in `PETER_ALERT_CONDITION`; exit status 0 means delivered.
#[derive(Debug)]
pub struct ExecAlerts {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl ExecAlerts {
    /// `command[0]` run with the rest as arguments (no shell), killed after `timeout`.
    pub fn new(command: &[String], timeout: Duration) -> Result<Self, String> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| "alerts.exec: give the command to run".to_string())?;
        Ok(Self {
            program: program.clone(),
            args: args.to_vec(),
            timeout,
        })
    }
}

#[async_trait]
impl AlertTarget for ExecAlerts {
    fn name(&self) -> &str {
        "exec"
    }

    async fn deliver(&self, body: &str) -> Result<(), String> {
        use tokio::io::AsyncWriteExt;
        let condition = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("condition")?.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .env("PETER_ALERT_CONDITION", condition)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.program))?;
        let run = async {
            if let Some(mut stdin) = child.stdin.take() {
                // A hook that does not read its input still gets to run.
                let _ = stdin.write_all(body.as_bytes()).await;
            }
            child.wait_with_output().await
        };
        match tokio::time::timeout(self.timeout, run).await {
            Err(_) => Err(format!(
                "{} did not finish within {:?} (killed)",
                self.program, self.timeout
            )),
            Ok(Err(e)) => Err(format!("{}: {e}", self.program)),
            Ok(Ok(out)) if out.status.success() => Ok(()),
            Ok(Ok(out)) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                Err(format!(
                    "{} exited with {}: {}",
                    self.program,
                    out.status,
                    stderr.trim().chars().take(300).collect::<String>()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        // RFC 4231 test case 2.
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"Jefe");
        assert_eq!(
            signature(&key, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
