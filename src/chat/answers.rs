//! Answers from the store's public data, which need no verification: the catalogue (stock of a
//! product and its variants, what a product is made of, how it fits, how to care for it) and
//! the store profile (delivery abroad). Where the data has no answer, a person gets the
//! question instead of the shopper getting a guess.

use super::replies;
use super::service::{Bot, ChatError};
use super::turn::{Turn, hand_off};
use crate::domain::catalogue::{self, Found, ProductAsk, ProductGroup};
use crate::domain::conversation::Pending;
use crate::domain::countries;
use crate::domain::intent::Action;
use crate::domain::quick_reply::{QuickReply, QuickReplyValue};
use crate::domain::triage::{HandoffReason, TurnOutcome};
use crate::store::now_ms;

/// A stock or product question: finds the product the message names and answers, asks which
/// one when several match, or says it found none.
pub(super) async fn about_product(
    bot: &Bot,
    turn: &mut Turn,
    intent: &str,
    action: Action,
    text: &str,
    success: TurnOutcome,
) -> Result<TurnOutcome, ChatError> {
    let products = bot.store.catalogue().await?;
    let ask = ProductAsk::read(text);
    match catalogue::find(text, catalogue::group(&products)) {
        Found::One(group) => Ok(answer(bot, turn, intent, action, &group, &ask, success)),
        Found::Several(groups) => {
            let names: Vec<String> = groups.into_iter().map(|g| g.name).collect();
            let mut offers: Vec<QuickReply> =
                names.iter().map(|n| QuickReply::new(n, QuickReplyValue::Product(n.clone()))).collect();
            offers.push(QuickReply::talk_to_person());
            turn.conversation.pending =
                Some(Pending::ProductChoice { intent: intent.to_string(), products: names, ask });
            turn.say_with(replies::which_product(), offers);
            Ok(success)
        }
        Found::Nothing => Ok(not_found(bot, turn, intent, success)),
    }
}

/// No product matched: the intent's own words ask for its name, with a person on offer.
fn not_found(bot: &Bot, turn: &mut Turn, intent: &str, success: TurnOutcome) -> TurnOutcome {
    let ask = bot.template(intent).unwrap_or_else(|| "I couldn't find that product in our shop.".into());
    turn.say_with(ask, vec![QuickReply::talk_to_person()]);
    turn.no_answer = true;
    success
}

/// The shopper chose one of the products offered.
pub(super) async fn chosen_product(
    bot: &Bot,
    turn: &mut Turn,
    intent: &str,
    name: &str,
    ask: &ProductAsk,
    success: TurnOutcome,
) -> Result<TurnOutcome, ChatError> {
    let action = bot.catalog.get(intent).map_or(Action::ProductAvailability, |i| i.action);
    let products = bot.store.catalogue().await?;
    match catalogue::group(&products).into_iter().find(|g| g.name == name) {
        Some(group) => Ok(answer(bot, turn, intent, action, &group, ask, success)),
        None => Ok(not_found(bot, turn, intent, success)),
    }
}

fn answer(
    bot: &Bot,
    turn: &mut Turn,
    intent: &str,
    action: Action,
    group: &ProductGroup,
    ask: &ProductAsk,
    success: TurnOutcome,
) -> TurnOutcome {
    if action == Action::ProductQuestion {
        let detail = ask.aspect.and_then(|a| group.detail(a).map(|d| (a, d)));
        let Some((aspect, detail)) = detail else {
            turn.say(replies::product_detail_missing(group, ask.aspect));
            return no_answer_in_data(bot, turn, intent);
        };
        turn.say(replies::product_detail(group, aspect, detail));
    } else {
        turn.say(replies::stock(group, &ask.wish, now_ms()));
    }
    turn.answered = Some(intent.to_string());
    success
}

/// Delivery abroad: for the country the message names, else the intent's template (the
/// countries, delivery time and duties from the store profile).
pub(super) fn shipping_abroad(
    bot: &Bot,
    turn: &mut Turn,
    intent: &str,
    text: &str,
    success: TurnOutcome,
) -> TurnOutcome {
    match countries::named_in(text) {
        Some(country) if !bot.profile.shipping_countries.is_empty() => {
            turn.say(replies::shipping_to(&bot.profile, country));
            turn.answered = Some(intent.to_string());
            success
        }
        _ => from_template(bot, turn, intent, success),
    }
}

/// A template answer, or a person when it needs a profile field the store left empty.
pub(super) fn from_template(bot: &Bot, turn: &mut Turn, intent: &str, success: TurnOutcome) -> TurnOutcome {
    let template = bot.catalog.get(intent).and_then(|i| i.responses.first());
    match template.map(|t| bot.profile.fill_answer(t)) {
        Some(Ok(text)) => {
            turn.say(text);
            if bot.catalog.get(intent).is_some_and(|i| i.small_talk) {
                turn.small_talk = true;
            } else {
                turn.answered = Some(intent.to_string());
            }
            success
        }
        Some(Err(missing)) => {
            tracing::warn!(intent, field = missing.0, "an answer needs an empty store profile field; handing off");
            turn.say("I don't have a good answer to that here, so I'm passing your question to our team.");
            no_answer_in_data(bot, turn, intent)
        }
        None => {
            turn.say("Happy to help.");
            success
        }
    }
}

fn no_answer_in_data(bot: &Bot, turn: &mut Turn, intent: &str) -> TurnOutcome {
    hand_off(bot, turn, HandoffReason::NoAnswerInData, Some(intent), None);
    TurnOutcome::handed_off(HandoffReason::NoAnswerInData)
}
