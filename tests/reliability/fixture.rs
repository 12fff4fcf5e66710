//! The world the authorization matrix and the bad-input check run against: two shoppers'
//! conversations, the demo agent and admin, a second agent, a disabled agent's old session,
//! a logged-out session, a queued and an assigned conversation, a pending training example,
//! a spare agent account and the live model's version. Fresh targets for allowed calls that
//! change state are made on demand, so every case starts from the same state.

use serde_json::{Value, json};
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD, DEMO_CUSTOMER_ID};

use super::actors::{Conv, Session, add_agent, customer_token, login, send_message, start_conversation};

pub const OTHER_AGENT_EMAIL: &str = "other.agent@example.com";
pub const DISABLED_AGENT_EMAIL: &str = "disabled.agent@example.com";
pub const PASSWORD: &str = "plum tractor vinegar 42";

pub struct Fixture {
    pub base: String,
    pub client: reqwest::Client,
    /// Shopper A, signed in as the demo customer.
    pub conv_a: Conv,
    pub conv_b: Conv,
    pub agent: Session,
    pub admin: Session,
    pub other_agent: Session,
    pub disabled_agent: Session,
    pub logged_out: Session,
    pub queued: Conv,
    /// Assigned to `agent`, with one shopper message (`assigned_message`).
    pub assigned: Conv,
    pub assigned_message: String,
    pub example: String,
    pub spare_agent: String,
    pub live_version: String,
}

impl Fixture {
    pub async fn build(base: &str) -> Self {
        let client = super::http::client();
        let conv_a = start_conversation(&client, base, Some(&customer_token(DEMO_CUSTOMER_ID))).await;
        let conv_b = start_conversation(&client, base, None).await;
        let agent = must_login(&client, base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
        let admin = must_login(&client, base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
        add_agent(&client, base, &admin, OTHER_AGENT_EMAIL, PASSWORD).await;
        let other_agent = must_login(&client, base, OTHER_AGENT_EMAIL, PASSWORD).await;
        let disabled_id = add_agent(&client, base, &admin, DISABLED_AGENT_EMAIL, PASSWORD).await;
        let disabled_agent = must_login(&client, base, DISABLED_AGENT_EMAIL, PASSWORD).await;
        let r = admin.post(&client, base, &format!("/api/v1/admin/agents/{disabled_id}/disable"), &json!({})).await;
        assert_eq!(r.status, 200, "disabling an agent: {}", r.body_text());
        let logged_out = must_login(&client, base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
        let r = logged_out.post(&client, base, "/api/v1/agent/logout", &json!({})).await;
        assert_eq!(r.status, 204, "logging out: {}", r.body_text());
        let mut fixture = Self {
            base: base.to_string(),
            client,
            conv_a,
            conv_b,
            agent,
            admin,
            other_agent,
            disabled_agent,
            logged_out,
            queued: Conv { id: String::new(), token: String::new() },
            assigned: Conv { id: String::new(), token: String::new() },
            assigned_message: String::new(),
            example: String::new(),
            spare_agent: String::new(),
            live_version: String::new(),
        };
        fixture.queued = fixture.queued_conversation().await.0;
        (fixture.assigned, fixture.assigned_message) = fixture.assigned_conversation().await;
        fixture.example = fixture.pending_example().await;
        fixture.spare_agent = fixture.spare_agent().await;
        fixture.live_version = fixture.live_version().await;
        fixture
    }

    /// A new conversation with one shopper message, handed off: (conversation, message id).
    pub async fn queued_conversation(&self) -> (Conv, String) {
        let conv = start_conversation(&self.client, &self.base, None).await;
        let cmid = format!("fixture-{}", switchboard::util::random_hex(8));
        let r = send_message(&self.client, &self.base, &conv, "my parcel never came", &cmid).await.expect("send");
        assert_eq!(r.status, 200, "a shopper message: {}", r.body_text());
        let message = r.json["message"]["id"].as_str().expect("message id").to_string();
        let path = format!("/api/v1/conversations/{}/handoff", conv.id);
        let r = super::http::send(
            self.client.post(format!("{}{path}", self.base)).bearer_auth(&conv.token).json(&json!({})),
        )
        .await
        .expect("handoff");
        assert_eq!(r.status, 200, "hand-off: {}", r.body_text());
        (conv, message)
    }

    /// A new conversation assigned to the demo agent: (conversation, shopper message id).
    pub async fn assigned_conversation(&self) -> (Conv, String) {
        let (conv, message) = self.queued_conversation().await;
        let path = format!("/api/v1/agent/conversations/{}/claim", conv.id);
        let r = self.agent.post(&self.client, &self.base, &path, &json!({})).await;
        assert_eq!(r.status, 200, "claim: {}", r.body_text());
        (conv, message)
    }

    /// A new pending training example (a labelled shopper message).
    pub async fn pending_example(&self) -> String {
        let (_, message) = self.assigned_conversation().await;
        let path = format!("/api/v1/agent/messages/{message}/label");
        let r = self.agent.post(&self.client, &self.base, &path, &json!({"intent": "order_status"})).await;
        assert_eq!(r.status, 201, "label: {}", r.body_text());
        r.json["training_example"].as_str().expect("example id").to_string()
    }

    /// A new agent account nobody uses.
    pub async fn spare_agent(&self) -> String {
        let email = format!("spare-{}@example.com", switchboard::util::random_hex(6));
        add_agent(&self.client, &self.base, &self.admin, &email, PASSWORD).await
    }

    async fn live_version(&self) -> String {
        let r = self.admin.get(&self.client, &self.base, "/api/v1/admin/models").await;
        let models = r.json["models"].as_array().cloned().unwrap_or_default();
        let live = models.iter().find(|m| m["status"] == "live").or(models.first());
        live.and_then(|m| m["version"].as_str()).expect("a live model").to_string()
    }

    /// A fresh value for a path placeholder, for an allowed call that changes state.
    pub async fn fresh(&self, placeholder: &str) -> String {
        match placeholder {
            "queued" => self.queued_conversation().await.0.id,
            "assigned" => self.assigned_conversation().await.0.id,
            "msg" => self.assigned_conversation().await.1,
            "example" => self.pending_example().await,
            "spare_agent" => self.spare_agent().await,
            other => self.shared(other),
        }
    }

    /// The shared value of a path placeholder.
    pub fn shared(&self, placeholder: &str) -> String {
        match placeholder {
            "conv" => self.conv_a.id.clone(),
            "queued" => self.queued.id.clone(),
            "assigned" => self.assigned.id.clone(),
            "msg" => self.assigned_message.clone(),
            "example" => self.example.clone(),
            "spare_agent" => self.spare_agent.clone(),
            "version" => self.live_version.clone(),
            "job" => "0000000000000000".to_string(),
            // A demo customer no other check uses: forgetting it changes nothing they look at.
            "customer" => "cust_0042".to_string(),
            other => panic!("unknown placeholder {{{other}}}"),
        }
    }

    /// A valid body for a route (what a legitimate caller would send).
    pub fn body_for(&self, path: &str) -> Value {
        let unique = switchboard::util::random_hex(6);
        match path {
            p if p.ends_with("/conversations/{conv}/messages") => {
                json!({"text": "hello, is anyone there?", "client_message_id": format!("authz-{unique}")})
            }
            p if p.ends_with("/verify") => json!({"order_number": "10004", "email": "sam.guest@example.com"}),
            p if p.ends_with("/rating") => json!({"score": 5}),
            p if p.ends_with("{assigned}/messages") || p.ends_with("/notes") => json!({"text": "reliability reply"}),
            p if p.ends_with("/reassign") => json!({"agent_id": self.other_agent.agent_id}),
            p if p.ends_with("/label") => json!({"intent": "order_status"}),
            "/api/v1/admin/agents" => {
                json!({"email": format!("new-{unique}@example.com"), "name": "New agent", "password": PASSWORD})
            }
            "/api/v1/admin/training-examples/review" => json!({"ids": [self.example], "status": "approved"}),
            "/api/v1/classify" => json!({"text": "where is my order"}),
            "/api/v1/store/customers" => {
                json!([{"id": format!("rel-{unique}"), "email": format!("rel-{unique}@example.com"), "name": "Rel", "updated_at": updated_now()}])
            }
            "/api/v1/store/products" => json!({
                "sku": format!("REL-{unique}"), "name": "Reliability mug", "price_cents": 900,
                "currency": "GBP", "availability": "in_stock", "updated_at": updated_now()
            }),
            "/api/v1/store/orders" => order(&format!("R{unique}")),
            _ => json!({}),
        }
    }
}

async fn must_login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> Session {
    login(client, base, email, password)
        .await
        .unwrap_or_else(|r| panic!("logging in as {email}: {} {}", r.status, r.body_text()))
}

/// Store API items carry the time the store last changed them.
fn updated_now() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn order(number: &str) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({
        "number": number, "customer_id": DEMO_CUSTOMER_ID, "email": "alex.morgan@example.com",
        "status": "paid", "placed_at": now - 86_400_000, "total_cents": 900, "currency": "GBP",
        "estimated_delivery": null, "delivered_at": null, "updated_at": updated_now(),
        "items": [{"sku": "SKU-TOWEL", "name": "Linen Towel Set", "quantity": 1, "unit_price_cents": 900}]
    })
}
