//! The agent API: log-in with a rotated session, the queue, conversation actions. Every state change needs the session's CSRF token in `X-CSRF-Token` and an allowed
//! `Origin`.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::limits::ClientAddress;
use super::{ApiError, ApiJson, AppState};
use crate::agents::ConversationView;
use crate::domain::agent::{Agent, QueueEntry};
use crate::domain::conversation::{ConversationState, Message};

const AGENT_ID: &str = "agent_id";
const CSRF: &str = "csrf";
const LOGIN_AT: &str = "login_at";
/// Sessions end this long after log-in, however active.
pub const ABSOLUTE_EXPIRY_MS: i64 = 12 * 60 * 60 * 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agent/login", post(login))
        .route("/api/v1/agent/logout", post(logout))
        .route("/api/v1/agent/me", get(me))
        .route("/api/v1/agent/intents", get(intents))
        .route("/api/v1/agent/conversations", get(list))
        .route("/api/v1/agent/conversations/{id}", get(view))
        .route("/api/v1/agent/conversations/{id}/claim", post(claim))
        .route("/api/v1/agent/conversations/{id}/messages", post(reply))
        .route("/api/v1/agent/conversations/{id}/notes", post(note))
        .route("/api/v1/agent/conversations/{id}/resolve", post(resolve))
        .route("/api/v1/agent/conversations/{id}/release", post(release))
        .route("/api/v1/agent/conversations/{id}/return-to-bot", post(return_to_bot))
        .route("/api/v1/agent/conversations/{id}/reassign", post(reassign))
        .route("/api/v1/agent/messages/{id}/label", post(label))
        .route("/api/v1/agent/events", get(super::agent_stream::agent_events))
}

/// A session that could not be read or written: its storage is the database, so a failure
/// there is the database being unavailable.
fn session_error(e: tower_sessions::session::Error) -> ApiError {
    match e {
        tower_sessions::session::Error::Store(e) => {
            tracing::warn!(error = %e, "session store unavailable; answering 503");
            ApiError::unavailable()
        }
        other => ApiError::Internal(format!("session: {other}")),
    }
}

/// The signed-in agent, checked against the database on every request: a disabled agent or
/// a voided session is refused at once.
pub async fn current_agent(state: &AppState, session: &Session) -> Result<(Agent, String), ApiError> {
    let refused = || ApiError::unauthorized("log in first");
    let agent_id: String = session.get(AGENT_ID).await.map_err(session_error)?.ok_or_else(refused)?;
    let login_at: i64 = session.get(LOGIN_AT).await.map_err(session_error)?.ok_or_else(refused)?;
    let csrf: String = session.get(CSRF).await.map_err(session_error)?.ok_or_else(refused)?;
    let agent = state.agents.agent(&agent_id).await?.ok_or_else(refused)?;
    let now = crate::store::now_ms();
    if agent.disabled || login_at < agent.sessions_valid_after || now - login_at > ABSOLUTE_EXPIRY_MS {
        let _ = session.flush().await;
        return Err(refused());
    }
    Ok((agent, csrf))
}

/// A state change: the CSRF header must match the session's token and the Origin be allowed.
async fn acting_agent(state: &AppState, session: &Session, headers: &HeaderMap) -> Result<Agent, ApiError> {
    let (agent, csrf) = current_agent(state, session).await?;
    check_origin(state, headers)?;
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !crate::util::constant_time_eq(given.as_bytes(), csrf.as_bytes()) {
        return Err(ApiError::forbidden_with("csrf", "missing or wrong X-CSRF-Token header"));
    }
    Ok(agent)
}

/// The signed-in agent of a read-only request (see [`current_agent`]).
pub struct SignedIn(pub Agent);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = session_of(parts, state).await?;
        Ok(Self(current_agent(state, &session).await?.0))
    }
}

/// The agent making a state change without a body (see [`acting_agent`]).
pub struct Acting(pub Agent);

impl FromRequestParts<AppState> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = session_of(parts, state).await?;
        Ok(Self(acting_agent(state, &session, &parts.headers).await?))
    }
}

/// The agent making a state change, and the request's JSON body. The body is read first, so a
/// bad body is refused as such whoever sends it.
pub struct ActingWith<T>(pub Agent, pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ActingWith<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let session = session_of(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let ApiJson(value) = ApiJson::<T>::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self(acting_agent(state, &session, &headers).await?, value))
    }
}

async fn session_of(parts: &mut Parts, state: &AppState) -> Result<Session, ApiError> {
    Session::from_request_parts(parts, state).await.map_err(|(_, message)| ApiError::Internal(message.to_string()))
}

/// The request's Origin must be this server's own (or the configured public URL's).
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let allowed = origin.is_some_and(|o| {
        o == format!("http://{host}") || o == format!("https://{host}") || state.public_origin.as_deref() == Some(o)
    });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden_with("origin", "this request must come from the console's own origin"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
}

/// The signed-in agent, with the token state changes must carry in `X-CSRF-Token`.
#[derive(Serialize)]
struct SignedInAgent {
    agent: Agent,
    csrf_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    online_agents: Option<usize>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    client: ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<SignedInAgent>, ApiError> {
    check_origin(&state, &headers)?;
    if request.email.len() > 254 || request.password.len() > 1024 {
        return Err(ApiError::unauthorized("wrong email or password"));
    }
    let agent = state.agents.login(&request.email, &request.password, client.0).await?;
    // A fresh id on log-in: a session id known before log-in is worthless after it.
    session.cycle_id().await.map_err(session_error)?;
    let csrf = crate::util::random_hex(32);
    session.insert(AGENT_ID, &agent.id).await.map_err(session_error)?;
    session.insert(CSRF, &csrf).await.map_err(session_error)?;
    session.insert(LOGIN_AT, crate::store::now_ms()).await.map_err(session_error)?;
    tracing::info!(agent = %agent.id, "agent logged in");
    Ok(Json(SignedInAgent { agent, csrf_token: csrf, online_agents: None }))
}

async fn logout(Acting(agent): Acting, session: Session) -> Result<StatusCode, ApiError> {
    session.flush().await.map_err(session_error)?;
    tracing::info!(agent = %agent.id, "agent logged out");
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, session: Session) -> Result<Json<SignedInAgent>, ApiError> {
    let (agent, csrf) = current_agent(&state, &session).await?;
    let online = state.agents.events().online_agents();
    Ok(Json(SignedInAgent { agent, csrf_token: csrf, online_agents: Some(online) }))
}

#[derive(Serialize)]
struct IntentChoice {
    name: String,
    label: String,
}

#[derive(Serialize)]
struct IntentChoices {
    intents: Vec<IntentChoice>,
}

async fn intents(State(state): State<AppState>, _: SignedIn) -> Json<IntentChoices> {
    let catalog = state.chat.catalog().all();
    let intents = catalog.iter().map(|i| IntentChoice { name: i.name.clone(), label: i.label.clone() }).collect();
    Json(IntentChoices { intents })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
}

#[derive(Serialize)]
struct Queue {
    conversations: Vec<QueueEntry>,
}

async fn list(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Queue>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let wanted = match q.state.as_deref() {
        None => ConversationState::Queued,
        Some(name) => ConversationState::parse(name)
            .ok_or_else(|| ApiError::bad_request("invalid_state", "state must be queued, assigned, resolved or bot"))?,
    };
    Ok(Json(Queue { conversations: state.agents.queue(&agent, wanted).await? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AfterQuery {
    #[serde(default)]
    after: i64,
}

async fn view(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(id): Path<String>,
    query: Result<Query<AfterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ConversationView>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(state.agents.view(&agent, &id, q.after).await?))
}

/// A conversation's state after an agent action.
#[derive(Serialize)]
struct StateNow {
    state: ConversationState,
    #[serde(skip_serializing_if = "Option::is_none")]
    assigned_agent: Option<String>,
}

impl StateNow {
    fn of(state: ConversationState) -> Json<Self> {
        Json(Self { state, assigned_agent: None })
    }

    fn assigned_to(agent_id: String) -> Json<Self> {
        Json(Self { state: ConversationState::Assigned, assigned_agent: Some(agent_id) })
    }
}

async fn claim(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(id): Path<String>,
) -> Result<Json<StateNow>, ApiError> {
    state.agents.claim(&agent, &id).await?;
    Ok(StateNow::assigned_to(agent.id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextRequest {
    text: String,
}

#[derive(Serialize)]
struct Written {
    message: Message,
}

async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ActingWith(agent, request): ActingWith<TextRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(Written { message: state.agents.write(&agent, &id, &request.text, false).await? }))
}

async fn note(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ActingWith(agent, request): ActingWith<TextRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(Written { message: state.agents.write(&agent, &id, &request.text, true).await? }))
}

/// Optionally: "the bot could have answered this" with that intent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    bot_could_have_answered: Option<String>,
}

async fn resolve(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<StateNow>, ApiError> {
    let request: Option<ResolveRequest> = super::error::optional_json(body)?;
    let could_have_answered = request.and_then(|r| r.bot_could_have_answered);
    state.agents.resolve(&agent, &id, could_have_answered.as_deref()).await?;
    Ok(StateNow::of(ConversationState::Resolved))
}

async fn release(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(id): Path<String>,
) -> Result<Json<StateNow>, ApiError> {
    state.agents.release(&agent, &id).await?;
    Ok(StateNow::of(ConversationState::Queued))
}

async fn return_to_bot(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(id): Path<String>,
) -> Result<Json<StateNow>, ApiError> {
    state.agents.return_to_bot(&agent, &id).await?;
    Ok(StateNow::of(ConversationState::Bot))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReassignRequest {
    agent_id: String,
}

async fn reassign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ActingWith(agent, request): ActingWith<ReassignRequest>,
) -> Result<Json<StateNow>, ApiError> {
    state.agents.reassign(&agent, &id, &request.agent_id).await?;
    Ok(StateNow::assigned_to(request.agent_id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelRequest {
    intent: String,
}

#[derive(Serialize)]
struct Labelled {
    training_example: String,
    status: crate::domain::agent::ExampleStatus,
}

async fn label(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ActingWith(agent, request): ActingWith<LabelRequest>,
) -> Result<(StatusCode, Json<Labelled>), ApiError> {
    let example = state.agents.label(&agent, &id, &request.intent).await?;
    Ok((
        StatusCode::CREATED,
        Json(Labelled { training_example: example, status: crate::domain::agent::ExampleStatus::Pending }),
    ))
}
