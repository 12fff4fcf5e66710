//! `switchboard agent add | disable | enable | unlock | reset-password | list`: agent accounts
//! (there is no self sign-up).

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};

use crate::agents::accounts::AccountChange;
use crate::agents::{NewAgent, accounts};
use crate::domain::audit::Actor;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db", global = true)]
    pub database: String,
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Add an agent. Prompts for a password (empty: generate one, printed once).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the agent an admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of prompting (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an agent (by email or id): its sessions end and its streams close at once.
    Disable { agent: String },
    /// Enable a disabled agent again (by email or id).
    Enable { agent: String },
    /// Unlock an agent locked after a flood of failed sign-ins (by email or id).
    Unlock { agent: String },
    /// Give an agent a new generated password, printed once; its sessions end.
    ResetPassword { agent: String },
    /// List agents.
    List,
}

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::connect(&args.database).await?;
        match args.command {
            AgentCommand::Add { email, name, admin, password_stdin } => {
                let password = read_password(password_stdin)?;
                let new = NewAgent { email, name, password, admin };
                let (agent, generated) = new.create(&store, &Actor::Cli).await?;
                println!("added {} {} <{}>{}", agent.id, agent.name, agent.email, if admin { " (admin)" } else { "" });
                if let Some(password) = generated {
                    println!("password (shown once): {password}");
                }
            }
            AgentCommand::Disable { agent } => {
                let disabled = accounts::change(&store, &Actor::Cli, &agent, AccountChange::Disable).await?;
                println!("disabled {} <{}>; its sessions are ended", disabled.id, disabled.email);
            }
            AgentCommand::Enable { agent } => {
                let enabled = accounts::change(&store, &Actor::Cli, &agent, AccountChange::Enable).await?;
                println!("enabled {} <{}>", enabled.id, enabled.email);
            }
            AgentCommand::Unlock { agent } => {
                let unlocked = accounts::change(&store, &Actor::Cli, &agent, AccountChange::Unlock).await?;
                println!("unlocked {} <{}>", unlocked.id, unlocked.email);
            }
            AgentCommand::ResetPassword { agent } => {
                let (agent, password) = accounts::reset_password(&store, &Actor::Cli, &agent).await?;
                println!(
                    "new password for {} <{}> (shown once; its sessions are ended): {password}",
                    agent.id, agent.email
                );
            }
            AgentCommand::List => {
                for a in store.agents().await? {
                    let role = if a.is_admin { "admin" } else { "agent" };
                    let status = if a.disabled { "disabled" } else { "active" };
                    println!("{}  {:<32} {:<24} {role:<5} {status}", a.id, a.email, a.name);
                }
            }
        }
        Ok(())
    })
}

/// A typed password (prompted twice on a terminal), or `None` to generate one.
fn read_password(from_stdin: bool) -> anyhow::Result<Option<String>> {
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        return Ok((!p.is_empty()).then_some(p));
    }
    eprint!("password (empty: generate one): ");
    std::io::stderr().flush()?;
    let mut first = String::new();
    stdin.lock().read_line(&mut first)?;
    let first = first.trim_end_matches(['\r', '\n']).to_string();
    if first.is_empty() {
        return Ok(None);
    }
    eprint!("again: ");
    std::io::stderr().flush()?;
    let mut second = String::new();
    stdin.lock().read_line(&mut second)?;
    anyhow::ensure!(first == second.trim_end_matches(['\r', '\n']), "the passwords differ");
    Ok(Some(first))
}
