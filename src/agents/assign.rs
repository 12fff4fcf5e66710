//! Optional auto-assignment (off by default): queued conversations go to online agents in
//! turn, highest priority and longest waiting first, never more than `cap` assigned
//! conversations per agent. Every instance may run it: each assignment is the same atomic
//! claim an agent makes, so a conversation is never given to two agents.

use std::time::Duration;

use tokio::sync::watch;

use super::{AgentError, AgentService};
use crate::domain::agent::Agent;

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
    /// The next agent in id order after the last one served that `has_room`.
    pub fn next<'a>(&mut self, agents: &'a [Agent], has_room: impl Fn(&Agent) -> bool) -> Option<&'a Agent> {
        let start = self.last.as_ref().map_or(0, |last| agents.iter().take_while(|a| &a.id <= last).count());
        let pick = (0..agents.len()).map(|i| &agents[(start + i) % agents.len()]).find(|a| has_room(a))?;
        self.last = Some(pick.id.clone());
        Some(pick)
    }
}

impl AgentService {
    /// One round of auto-assignment; returns how many conversations were assigned.
    pub async fn auto_assign(&self, cap: usize, turn: &mut RoundRobin) -> Result<usize, AgentError> {
        let online = self.events.online_agent_ids();
        if online.is_empty() {
            return Ok(0);
        }
        let queued = self.store.queue("queued", ROUND_SIZE).await?;
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
            let Some(agent) = turn.next(&agents, |a| load.get(&a.id).copied().unwrap_or(0) < cap) else {
                break;
            };
            match self.take(agent, &entry.conversation_id, "system:auto_assign", "auto_assign").await {
                Ok(()) => {
                    *load.entry(agent.id.clone()).or_default() += 1;
                    assigned += 1;
                }
                // Claimed by an agent (or another instance) in the meantime.
                Err(AgentError::Conflict(_) | AgentError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(assigned)
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
        }
    }

    #[test]
    fn turns_go_round_and_skip_full_agents() {
        let agents = [agent("a"), agent("b"), agent("c")];
        let mut turn = RoundRobin::default();
        let picks: Vec<&str> = (0..4).map(|_| turn.next(&agents, |_| true).unwrap().id.as_str()).collect();
        assert_eq!(picks, ["a", "b", "c", "a"]);
        // b is full: after a comes c.
        assert_eq!(turn.next(&agents, |a| a.id != "b").unwrap().id, "c");
        assert!(turn.next(&agents, |_| false).is_none());
        // The last agent served went offline: the turn continues after where it would be.
        let fewer = [agent("a"), agent("c")];
        let mut turn = RoundRobin { last: Some("b".into()) };
        assert_eq!(turn.next(&fewer, |_| true).unwrap().id, "c");
    }
}
