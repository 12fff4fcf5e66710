//! Optional auto-assignment (off by default): queued conversations go to online agents in
//! turn, highest priority and longest waiting first, never more than `cap` assigned
//! conversations per agent. Every instance may run it: each assignment is the same atomic
//! claim an agent makes, so a conversation is never given to two agents.

use std::time::Duration;

use tokio::sync::watch;

use super::{AgentError, AgentService};
use crate::domain::agent::Agent;
use crate::domain::conversation::ConversationState;

/// How often queued conversations are offered to online agents.
pub const ROUND_PERIOD: Duration = Duration::from_secs(1);

/// Queued conversations looked at per round.
const ROUND_SIZE: i64 = 100;

/// Whose turn it is: the agent after the one who got the last conversation.
#[derive(Debug, Default)]
pub struct RoundRobin {
    last: Option<String>,
}

impl RoundRobin {
    /// The agents that `has_room`, in turn: starting after the last one served, in id order.
    pub fn order<'a>(&self, agents: &'a [Agent], has_room: impl Fn(&Agent) -> bool) -> Vec<&'a Agent> {
        let start = self.last.as_ref().map_or(0, |last| agents.iter().take_while(|a| &a.id <= last).count());
        (0..agents.len()).map(|i| &agents[(start + i) % agents.len()]).filter(|a| has_room(a)).collect()
    }

    /// `agent` got a conversation: the next turn starts after them.
    pub fn served(&mut self, agent: &Agent) {
        self.last = Some(agent.id.clone());
    }
}

impl AgentService {
    /// One round of auto-assignment; returns how many conversations were assigned.
    pub async fn auto_assign(&self, cap: usize, turn: &mut RoundRobin) -> Result<usize, AgentError> {
        let online = self.events.online_agent_ids();
        if online.is_empty() {
            return Ok(0);
        }
        let queued = self.store.queue(ConversationState::Queued, ROUND_SIZE).await?;
        if queued.is_empty() {
            return Ok(0);
        }
        let mut agents = Vec::new();
        for id in online {
            if let Some(agent) = self.store.agent(&id).await?.filter(|a| !a.disabled) {
                agents.push(agent);
            }
        }
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        let mut load = self.store.assigned_counts().await?;
        let mut assigned = 0;
        for entry in queued {
            let candidates = turn.order(&agents, |a| load.get(&a.id).copied().unwrap_or(0) < cap);
            if candidates.is_empty() {
                break;
            }
            for agent in candidates {
                let id = &entry.conversation_id;
                match self.take(agent, id, Some(cap)).await {
                    Ok(()) => {
                        *load.entry(agent.id.clone()).or_default() += 1;
                        turn.served(agent);
                        assigned += 1;
                        break;
                    }
                    // Claimed by someone else meanwhile: on to the next conversation.
                    Err(AgentError::NotFound(_)) => break,
                    Err(AgentError::Conflict(..)) if self.still_queued(id).await? => {
                        // This agent reached the cap through another instance: try the next one.
                        load.insert(agent.id.clone(), cap);
                    }
                    Err(AgentError::Conflict(..)) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(assigned)
    }

    async fn still_queued(&self, id: &str) -> Result<bool, AgentError> {
        Ok(self.store.conversation(id).await?.is_some_and(|c| c.state == ConversationState::Queued))
    }
}

/// Runs auto-assignment rounds every [`ROUND_PERIOD`] until `shutdown` turns true.
pub async fn run_auto_assign(agents: std::sync::Arc<AgentService>, cap: usize, mut shutdown: watch::Receiver<bool>) {
    let mut turn = RoundRobin::default();
    let mut ticks = tokio::time::interval(ROUND_PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        match agents.auto_assign(cap, &mut turn).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(assigned = n, "auto-assigned queued conversations"),
            Err(e) => tracing::warn!(error = %e, "auto-assignment round failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str) -> Agent {
        Agent {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: id.into(),
            is_admin: false,
            disabled: false,
            sessions_valid_after: 0,
            locked: false,
        }
    }

    #[test]
    fn turns_go_round_and_skip_full_agents() {
        let agents = [agent("a"), agent("b"), agent("c")];
        let ids = |order: Vec<&Agent>| order.into_iter().map(|a| a.id.clone()).collect::<Vec<_>>();
        let mut turn = RoundRobin::default();
        let mut picks = Vec::new();
        for _ in 0..4 {
            let next = turn.order(&agents, |_| true)[0];
            turn.served(next);
            picks.push(next.id.clone());
        }
        assert_eq!(picks, ["a", "b", "c", "a"]);
        // The turn moves only when someone is served.
        assert_eq!(ids(turn.order(&agents, |_| true)), ["b", "c", "a"]);
        // b is full: after a comes c.
        assert_eq!(ids(turn.order(&agents, |a| a.id != "b")), ["c", "a"]);
        assert!(turn.order(&agents, |_| false).is_empty());
        // The last agent served went offline: the turn continues after where they would be.
        let fewer = [agent("a"), agent("c")];
        let turn = RoundRobin { last: Some("b".into()) };
        assert_eq!(ids(turn.order(&fewer, |_| true)), ["c", "a"]);
    }
}
