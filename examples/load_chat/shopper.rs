//! An anonymous shopper of the load tool: starts a conversation, may ask for a person, and
//! opens the conversation's event stream.

use serde_json::Value;

/// A conversation as its shopper holds it.
pub struct Shopper {
    pub base: String,
    pub id: String,
    bearer: String,
}

impl Shopper {
    /// Starts an anonymous conversation on `base`.
    pub async fn start(client: &reqwest::Client, base: &str) -> Result<Self, String> {
        let started = client.post(format!("{base}/api/v1/conversations")).send().await.map_err(|e| e.to_string())?;
        let started: Value = refused(started).await?.json().await.map_err(|e| e.to_string())?;
        let (Some(id), Some(bearer)) = (started["conversation_id"].as_str(), started["conversation_token"].as_str())
        else {
            return Err(format!("no conversation id or token in {started}"));
        };
        Ok(Self { base: base.to_string(), id: id.to_string(), bearer: bearer.to_string() })
    }

    /// Asks for a person, as the widget's hand-off button does.
    pub async fn hand_off(&self, client: &reqwest::Client) -> Result<(), String> {
        let url = format!("{}/api/v1/conversations/{}/handoff", self.base, self.id);
        let response = client.post(url).bearer_auth(&self.bearer).send().await.map_err(|e| e.to_string())?;
        refused(response).await.map(drop)
    }

    /// Opens the event stream after event `after`; done once the server has sent its headers.
    pub async fn subscribe(&self, client: &reqwest::Client, after: u64) -> Result<reqwest::Response, String> {
        let response = client
            .get(format!("{}/api/v1/conversations/{}/events", self.base, self.id))
            .bearer_auth(&self.bearer)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .header("last-event-id", after.to_string())
            .send()
            .await
            .map_err(|e| format!("opening a shopper stream: {e}"))?;
        refused(response).await
    }
}

/// The response if it succeeded, else its path, status and body as the reason.
pub async fn refused(response: reqwest::Response) -> Result<reqwest::Response, String> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let path = response.url().path().to_string();
    let body = response.text().await.unwrap_or_default();
    Err(format!("{path}: HTTP {status} {}", body.chars().take(300).collect::<String>()))
}
