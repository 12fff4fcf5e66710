//! Training and evaluation: embedding examples, fitting the head, calibrating thresholds,
//! measuring, and writing the head as ONNX and the evaluation report.

pub mod calibrate;
pub mod dataset;
pub mod embed;
pub mod evaluate;
pub mod gate;
pub mod metrics;
pub mod onnx_export;
pub mod progress;
pub mod report;
pub mod softmax;
pub mod train;
