//! What the append-only audit log records: who did what.

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Agent(String),
    Shopper,
    Bot,
    /// The server on its own (verification limits).
    System,
    /// The server giving queued conversations to online agents.
    AutoAssign,
    /// An operator at the command line.
    Cli,
    /// The store's platform, through the signed store API.
    StoreApi,
}

impl Actor {
    /// How the log names the actor: `agent:<id>`, `shopper`, `bot`, `system`,
    /// `system:auto_assign`, `cli` or `store_api`.
    pub fn label(&self) -> String {
        match self {
            Actor::Agent(id) => format!("agent:{id}"),
            Actor::Shopper => "shopper".into(),
            Actor::Bot => "bot".into(),
            Actor::System => "system".into(),
            Actor::AutoAssign => "system:auto_assign".into(),
            Actor::Cli => "cli".into(),
            Actor::StoreApi => "store_api".into(),
        }
    }
}

named_enum! {
    /// What was done.
    pub enum AuditAction {
        Login = "login",
        Claim = "claim",
        AutoAssign = "auto_assign",
        Reassign = "reassign",
        Reply = "reply",
        Note = "note",
        Resolve = "resolve",
        Release = "release",
        ReturnToBot = "return_to_bot",
        Label = "label",
        AgentAdd = "agent_add",
        AgentDisable = "agent_disable",
        AgentEnable = "agent_enable",
        AgentLocked = "agent_locked",
        AgentUnlock = "agent_unlock",
        AgentPasswordReset = "agent_password_reset",
        TrainingExampleApproved = "training_example_approved",
        TrainingExampleRejected = "training_example_rejected",
        TrainingExampleChanged = "training_example_changed",
        ModelRetrain = "model_retrain",
        ModelTrained = "model_trained",
        ModelPromote = "model_promote",
        ModelRollback = "model_rollback",
        ModelShadow = "model_shadow",
        Rate = "rate",
        Reorder = "reorder",
        VerificationLimit = "verification_limit",
        CustomerForgotten = "customer_forgotten",
        RetentionApplied = "retention_applied",
    }
}
