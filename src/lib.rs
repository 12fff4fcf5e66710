//! Switchboard: a self-hosted customer-service triage chatbot for online stores.

pub mod agents;
pub mod chat;
pub mod classifier;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod insights;
pub mod integration;
pub mod intents;
pub mod learning;
pub mod outbox;
pub mod platforms;
pub mod privacy;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod training;
pub mod util;
