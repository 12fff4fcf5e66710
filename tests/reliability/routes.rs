//! Every route of `src/http/*.rs` with who may call it, read from the handlers. Path
//! placeholders (`{conv}`, `{msg}`, ...) are filled from a check's fixtures.

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, metrics, demo identity, static pages; `/classify` in demo mode).
    Public,
    /// Anyone starts a conversation; a customer token makes it verified only when valid.
    Start,
    /// The conversation's own token (shopper A on A's conversation).
    OwnConversation,
    /// Anyone may try; only an active agent's right password gets a session.
    Login,
    /// Any signed-in, active agent or admin; a read, so no CSRF token needed.
    AgentRead,
    /// A read of a conversation assigned to the agent: that agent or an admin.
    AssignedRead,
    /// A state change by any signed-in agent or admin, with the CSRF token and own Origin.
    AgentAct,
    /// A change to a conversation assigned to the agent: that agent or an admin, with CSRF.
    AssignedAct,
    /// Admins only, a read.
    AdminRead,
    /// Admins only, a state change with CSRF.
    AdminAct,
    /// The store platform: a valid signature over timestamp, delivery id and body.
    Store,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

impl Route {
    /// The path with its placeholders filled by `fill`.
    pub fn path_with(&self, fill: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            out.push_str(&rest[..open]);
            out.push_str(&fill(&rest[open + 1..close]));
            rest = &rest[(close + 1).min(rest.len())..];
        }
        out.push_str(rest);
        out
    }

    /// The static-file routes, whose error pages are the file server's, not the API's.
    pub fn is_static(&self) -> bool {
        !self.path.starts_with("/api/") && !matches!(self.path, "/healthz" | "/readyz" | "/metrics")
    }

    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn route(method: &'static str, path: &'static str, access: Access) -> Route {
    Route { method, path, access }
}

use Access::*;

pub const ROUTES: &[Route] = &[
    // shopper.rs, stream.rs
    route("POST", "/api/v1/conversations", Start),
    route("POST", "/api/v1/conversations/{conv}/messages", OwnConversation),
    route("GET", "/api/v1/conversations/{conv}/messages", OwnConversation),
    route("GET", "/api/v1/conversations/{conv}/events", OwnConversation),
    route("POST", "/api/v1/conversations/{conv}/verify", OwnConversation),
    route("POST", "/api/v1/conversations/{conv}/handoff", OwnConversation),
    route("POST", "/api/v1/conversations/{conv}/rating", OwnConversation),
    // agent.rs, agent_stream.rs
    route("POST", "/api/v1/agent/login", Login),
    route("POST", "/api/v1/agent/logout", AgentAct),
    route("GET", "/api/v1/agent/me", AgentRead),
    route("GET", "/api/v1/agent/intents", AgentRead),
    route("GET", "/api/v1/agent/conversations", AgentRead),
    route("GET", "/api/v1/agent/conversations/{assigned}", AssignedRead),
    route("POST", "/api/v1/agent/conversations/{queued}/claim", AgentAct),
    route("POST", "/api/v1/agent/conversations/{assigned}/messages", AssignedAct),
    route("POST", "/api/v1/agent/conversations/{assigned}/notes", AssignedAct),
    route("POST", "/api/v1/agent/conversations/{assigned}/resolve", AssignedAct),
    route("POST", "/api/v1/agent/conversations/{assigned}/release", AssignedAct),
    route("POST", "/api/v1/agent/conversations/{assigned}/return-to-bot", AssignedAct),
    route("POST", "/api/v1/agent/conversations/{assigned}/reassign", AdminAct),
    route("POST", "/api/v1/agent/messages/{msg}/label", AssignedAct),
    route("GET", "/api/v1/agent/events", AgentRead),
    // admin.rs
    route("GET", "/api/v1/admin/agents", AdminRead),
    route("POST", "/api/v1/admin/agents", AdminAct),
    route("POST", "/api/v1/admin/agents/{spare_agent}/disable", AdminAct),
    route("POST", "/api/v1/admin/agents/{spare_agent}/enable", AdminAct),
    route("POST", "/api/v1/admin/agents/{spare_agent}/unlock", AdminAct),
    route("POST", "/api/v1/admin/agents/{spare_agent}/reset-password", AdminAct),
    route("GET", "/api/v1/admin/training-examples", AdminRead),
    route("POST", "/api/v1/admin/training-examples/{example}/approve", AdminAct),
    route("POST", "/api/v1/admin/training-examples/{example}/reject", AdminAct),
    route("POST", "/api/v1/admin/training-examples/review", AdminAct),
    route("POST", "/api/v1/classify", Public),
    // models.rs
    route("GET", "/api/v1/admin/models", AdminRead),
    route("POST", "/api/v1/admin/models/retrain", AdminAct),
    route("POST", "/api/v1/admin/models/rollback", AdminAct),
    route("POST", "/api/v1/admin/models/{version}/promote", AdminAct),
    route("GET", "/api/v1/admin/models/{version}/report", AdminRead),
    route("GET", "/api/v1/admin/models/{version}/shadow", AdminRead),
    route("POST", "/api/v1/admin/models/{version}/shadow", AdminAct),
    route("DELETE", "/api/v1/admin/models/{version}/shadow", AdminAct),
    route("GET", "/api/v1/admin/jobs", AdminRead),
    route("GET", "/api/v1/admin/jobs/{job}", AdminRead),
    // insights.rs
    route("GET", "/api/v1/admin/metrics", AdminRead),
    // store_api.rs
    route("POST", "/api/v1/store/customers", Store),
    route("POST", "/api/v1/store/products", Store),
    route("POST", "/api/v1/store/orders", Store),
    route("POST", "/api/v1/store/customers/{customer}/forget", Store),
    // ops.rs
    route("GET", "/healthz", Public),
    route("GET", "/readyz", Public),
    route("GET", "/metrics", Public),
    route("GET", "/api/v1/demo/identity", Public),
    // web.rs
    route("GET", "/", Public),
    route("GET", "/demo/index.html", Public),
    route("GET", "/console", Public),
    route("GET", "/console/index.html", Public),
    route("GET", "/widget/widget.js", Public),
];

/// Routes an admin is not sent to as an allowed caller, and why: calling them runs a
/// training job (minutes of CPU), or needs what only one makes.
pub fn not_called_as_admin(route: &Route) -> Option<&'static str> {
    match route.path {
        "/api/v1/admin/models/retrain" => Some("starts a training job"),
        "/api/v1/admin/jobs/{job}" => Some("needs a training job to exist"),
        "/api/v1/admin/models/{version}/report" => Some("needs a gated model (the shipped one never was)"),
        _ => None,
    }
}
