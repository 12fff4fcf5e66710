//! `switchboard token --customer ID`: a signed customer token, for testing.

use clap::Args;

use crate::chat::{CustomerClaims, IdentityKeys};
use crate::config::{DEMO_IDENTITY_KEYS, secret_from_env};

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The customer's id in the store's data.
    #[arg(long)]
    pub customer: String,
    /// The customer's email (informational; the id is what counts).
    #[arg(long, default_value = "")]
    pub email: String,
    /// Hours until the token expires.
    #[arg(long, default_value_t = 24)]
    pub hours: i64,
    /// Sign with the demo key instead of SWITCHBOARD_IDENTITY_KEYS.
    #[arg(long)]
    pub demo: bool,
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.customer.trim().is_empty(), "--customer must not be empty");
    anyhow::ensure!((1..=24 * 365).contains(&args.hours), "--hours must be between 1 and 8760");
    let spec = if args.demo {
        DEMO_IDENTITY_KEYS.to_string()
    } else {
        secret_from_env("SWITCHBOARD_IDENTITY_KEYS")?
            .map(|s| s.expose().to_string())
            .ok_or_else(|| anyhow::anyhow!("SWITCHBOARD_IDENTITY_KEYS is not set (or pass --demo for the demo key)"))?
    };
    let keys = IdentityKeys::parse(&spec).map_err(anyhow::Error::msg)?;
    let claims = CustomerClaims {
        customer_id: args.customer,
        email: args.email,
        exp: chrono::Utc::now().timestamp() + args.hours * 3600,
        kid: keys.current_kid().unwrap_or_default().to_string(),
    };
    println!("{}", keys.sign(&claims).map_err(|e| anyhow::anyhow!("{e}"))?);
    Ok(())
}
