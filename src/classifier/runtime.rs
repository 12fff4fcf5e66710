//! Finding and loading the ONNX Runtime library (from the pinned PyPI wheel, fetched by
//! `make onnxruntime` into `.cache/onnxruntime/`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::ClassifierError;

pub const ORT_LIBRARY_NAME: &str = "libonnxruntime.so.1.31.1";
pub const FETCH_COMMAND: &str = "make onnxruntime";
const CACHE_DIR: &str = ".cache/onnxruntime";

/// Why loading failed, kept so every later call reports the same thing.
#[derive(Debug, Clone)]
enum InitFailure {
    Missing { looked: String },
    Load { path: PathBuf, reason: String },
}

static ENVIRONMENT: OnceLock<Result<ort::environment::Environment, InitFailure>> = OnceLock::new();

/// Loads ONNX Runtime once per process. The library is looked for in `explicit`, then
/// `SWITCHBOARD_ORT_LIBRARY`, `ORT_DYLIB_PATH`, then `.cache/onnxruntime/` in the current
/// folder and above the executable.
pub fn init_runtime(explicit: Option<&Path>) -> Result<&'static ort::environment::Environment, ClassifierError> {
    let result = ENVIRONMENT.get_or_init(|| {
        let path = locate(explicit).map_err(|looked| InitFailure::Missing { looked })?;
        let load = |e: &dyn std::fmt::Display| InitFailure::Load { path: path.clone(), reason: e.to_string() };
        ort::init_from(&path).map_err(|e| load(&e))?.with_name("switchboard").build().map_err(|e| load(&e))
    });
    match result {
        Ok(env) => Ok(env),
        Err(InitFailure::Missing { looked }) => Err(ClassifierError::RuntimeMissing { looked: looked.clone() }),
        Err(InitFailure::Load { path, reason }) => {
            Err(ClassifierError::RuntimeLoad { path: path.clone(), reason: reason.clone() })
        }
    }
}

fn locate(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let named = explicit.map(Path::to_path_buf).or_else(|| {
        ["SWITCHBOARD_ORT_LIBRARY", "ORT_DYLIB_PATH"]
            .into_iter()
            .find_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from))
    });
    // A library named by a setting must be there: no silent fallback to another copy.
    if let Some(path) = named {
        return if path.is_file() { Ok(path) } else { Err(format!("no file at {}", path.display())) };
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join(CACHE_DIR).join(ORT_LIBRARY_NAME));
    }
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).take(5).map(|d| d.join(CACHE_DIR).join(ORT_LIBRARY_NAME)));
    }
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        format!("looked in {}", looked.join(", "))
    })
}
