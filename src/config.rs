//! Settings: a TOML file plus `SWITCHBOARD_*` environment variables and flags. Secrets come only
//! from the environment (or a file named there) and never show in Debug output.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

use crate::training::gate::GateSettings;

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

/// A secret string: compared and used, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Demo mode's fixed, printed secrets. The server refuses them outside demo mode.
pub const DEMO_IDENTITY_KEYS: &str = "demo:switchboard-demo-identity-secret";
pub const DEMO_STORE_API_SECRET: &str = "switchboard-demo-store-api-secret";

/// How the store presents itself; fills the answer templates of `intents/`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreProfile {
    pub store_name: String,
    /// The storefront's base URL: checkout, invoice and account links start with it.
    pub store_url: String,
    pub support_email: String,
    pub support_phone: String,
    pub support_hours: String,
    pub return_window_days: u32,
    pub free_shipping_threshold: String,
    pub standard_delivery_days: String,
    pub express_delivery_days: String,
    pub returns_url: String,
    pub account_url: String,
    pub password_reset_url: String,
    pub payment_methods: String,
    /// Expected wait shown on hand-off while agents are online.
    pub expected_wait: String,
    /// How discount codes work here and what to check when one is refused (empty: questions
    /// about codes go to a person).
    pub discount_codes: String,
    /// How to swap an item for another size or colour (empty: exchanges go to a person).
    pub exchanges: String,
    /// Countries the store delivers to, the home country first (empty: questions about
    /// delivery abroad go to a person).
    pub shipping_countries: Vec<String>,
    pub international_delivery_days: String,
    /// Who pays import duties and taxes on deliveries abroad.
    pub customs_duties: String,
    /// The currency of the store's prices (a three-letter code): platforms send product prices
    /// without it.
    pub currency: String,
    /// How to write a cart link on a platform other than Shopify and WooCommerce (`[store.cart]`).
    pub cart: crate::domain::cart::CartTemplate,
}

impl Default for StoreProfile {
    fn default() -> Self {
        let url = "https://shop.example.com";
        Self {
            store_name: "Juniper & Co.".into(),
            store_url: url.into(),
            support_email: "help@shop.example.com".into(),
            support_phone: "+44 20 7946 0000".into(),
            support_hours: "Monday to Friday, 9:00 to 18:00".into(),
            return_window_days: 30,
            free_shipping_threshold: "£50".into(),
            standard_delivery_days: "2-4 working days".into(),
            express_delivery_days: "1 working day".into(),
            returns_url: format!("{url}/returns"),
            account_url: format!("{url}/account"),
            password_reset_url: format!("{url}/account/reset-password"),
            payment_methods: "Visa, Mastercard, American Express, PayPal, Apple Pay, Google Pay and Klarna".into(),
            expected_wait: "a few minutes".into(),
            discount_codes: "Enter the code in the \"Discount code\" box at checkout, before you pay. One code works per order; codes can't be combined or used on gift cards. If a code is refused, check its end date and minimum spend in the email it came in.".into(),
            exchanges: format!("You can swap an item for another size or colour within 30 days, for free: start an exchange at {url}/returns and choose \"Exchange\". We send the new one as soon as the original is on its way back to us."),
            shipping_countries: [
                "United Kingdom", "Ireland", "France", "Germany", "Netherlands", "Belgium", "Spain", "Italy", "Denmark",
                "Sweden", "United States", "Canada", "Australia",
            ]
            .map(String::from)
            .to_vec(),
            international_delivery_days: "5-10 working days".into(),
            customs_duties: "Prices for EU countries include import VAT and duties, so there is nothing more to pay on delivery. Elsewhere, the carrier may collect import taxes and duties when it delivers.".into(),
            currency: "GBP".into(),
            cart: Default::default(),
        }
    }
}

impl StoreProfile {
    /// Fills `{placeholder}`s in a template; unknown placeholders are left as they are.
    pub fn fill(&self, template: &str) -> String {
        self.substitute(template).0
    }

    /// Fills a template the bot answers with, or names the first field it uses that this store
    /// left empty: then a person answers instead of a reply with a hole in it.
    pub fn fill_answer(&self, template: &str) -> Result<String, EmptyField> {
        match self.substitute(template) {
            (_, Some(field)) => Err(EmptyField(field)),
            (text, None) => Ok(text),
        }
    }

    fn substitute(&self, template: &str) -> (String, Option<&'static str>) {
        let values: [(&'static str, String); 18] = [
            ("store_name", self.store_name.clone()),
            ("support_email", self.support_email.clone()),
            ("support_phone", self.support_phone.clone()),
            ("support_hours", self.support_hours.clone()),
            ("return_window_days", self.return_window_days.to_string()),
            ("free_shipping_threshold", self.free_shipping_threshold.clone()),
            ("standard_delivery_days", self.standard_delivery_days.clone()),
            ("express_delivery_days", self.express_delivery_days.clone()),
            ("returns_url", self.returns_url.clone()),
            ("account_url", self.account_url.clone()),
            ("password_reset_url", self.password_reset_url.clone()),
            ("payment_methods", self.payment_methods.clone()),
            ("store_url", self.store_url.clone()),
            ("discount_codes", self.discount_codes.clone()),
            ("exchanges", self.exchanges.clone()),
            ("shipping_countries", list_in_words(&self.shipping_countries)),
            ("international_delivery_days", self.international_delivery_days.clone()),
            ("customs_duties", self.customs_duties.clone()),
        ];
        let mut out = template.to_string();
        let mut empty = None;
        for (key, value) in values {
            let placeholder = format!("{{{key}}}");
            if !out.contains(&placeholder) {
                continue;
            }
            if value.trim().is_empty() {
                empty = empty.or(Some(key));
            }
            // "Juniper & Co." at the end of a sentence takes no second full stop.
            if value.ends_with('.') {
                out = out.replace(&format!("{placeholder}."), &value);
            }
            out = out.replace(&placeholder, &value);
        }
        (out, empty)
    }
}

/// A profile field a template needs is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the store profile's `{0}` is empty")]
pub struct EmptyField(pub &'static str);

/// "A, B and C".
pub fn list_in_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The optional settings file (`--config FILE`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSettings {
    pub store: StoreProfile,
    /// Storefront origins allowed to call the shopper API from a browser.
    pub allowed_origins: Vec<String>,
    /// The tolerances of the gate between a retrained candidate and the live model.
    pub gate: GateSettings,
}

impl FileSettings {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let settings: Self = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        settings.gate.check().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        settings.store.cart.check().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        crate::domain::validation::currency(&settings.store.currency)
            .map_err(|e| anyhow::anyhow!("{}: store.{e}", path.display()))?;
        Ok(settings)
    }

    /// The file at `path`, or the defaults when there is none.
    pub fn read_or_default(path: Option<&Path>) -> anyhow::Result<Self> {
        path.map_or_else(|| Ok(Self::default()), Self::read)
    }
}

/// Reads a secret from `NAME`, or from the file named by `NAME_FILE`.
pub fn secret_from_env(name: &str) -> anyhow::Result<Option<Secret>> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(Secret::new(value.trim())).filter(|s| !s.expose().is_empty()));
    }
    if let Ok(path) = std::env::var(format!("{name}_FILE")) {
        let value = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{name}_FILE={path}: {e}"))?;
        return Ok(Some(Secret::new(value.trim())).filter(|s| !s.expose().is_empty()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_and_unknown_placeholders_kept() {
        let p = StoreProfile::default();
        assert_eq!(
            p.fill("Returns within {return_window_days} days at {store_name}. {nope}"),
            "Returns within 30 days at Juniper & Co. {nope}",
            "a name ending in a full stop takes no second one"
        );
    }

    #[test]
    fn an_answer_needing_an_empty_field_is_refused() {
        let p = StoreProfile { exchanges: String::new(), ..StoreProfile::default() };
        assert_eq!(p.fill_answer("{exchanges}"), Err(EmptyField("exchanges")));
        assert!(p.fill_answer("{discount_codes}").is_ok_and(|t| t.contains("checkout")));
        let countries = StoreProfile { shipping_countries: vec!["France".into(), "Spain".into()], ..p };
        assert_eq!(countries.fill("We deliver to {shipping_countries}."), "We deliver to France and Spain.");
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
