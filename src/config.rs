//! Settings shared by the commands: where the model and the intents live.

use std::path::PathBuf;

use clap::Args;

/// Paths to the model and the intents.
#[derive(Debug, Clone, Args)]
pub struct ModelPaths {
    /// Folder with encoder.onnx, tokenizer.json, head.onnx and head.json.
    #[arg(long, env = "SWITCHBOARD_MODELS", default_value = "models", global = true)]
    pub models: PathBuf,
    /// Folder with one YAML file per intent and the sensitive-phrase rules.
    #[arg(long = "intents-dir", env = "SWITCHBOARD_INTENTS", default_value = "intents", global = true)]
    pub intents: PathBuf,
}
