//! Business outcomes and drift for a time window, for the console, the API and
//! `switchboard report`: the store's facts through the domain's formulas.

use crate::domain::insights::{GroupBy, LiveReference, Report, Window, report as compute};
use crate::store::{Store, StoreError};

/// The report of `window`, broken down `by` day, intent or model version if asked.
pub async fn report(store: &Store, window: Window, by: Option<GroupBy>) -> Result<Report, StoreError> {
    let (facts, live) = tokio::try_join!(store.insight_facts(window), store.live_reference())?;
    let live = live
        .as_ref()
        .map(|(version, reference)| LiveReference { model_version: version, reference: reference.as_ref() });
    Ok(compute(window, by, &facts, live))
}
