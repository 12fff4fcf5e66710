// A searchable list of intents (a combobox over a listbox), shared by the dialogs that ask for
// one: labelling a message, resolving with "the bot could have answered this", changing the
// intent of training examples. Up/Down move, Enter picks the highlighted intent, Enter on the
// picked one submits; a click picks, a double click picks and submits.

import { clear, h } from "../shared/dom.js";
import { percent } from "./format.js";
import { intentLabel, state } from "./state.js";

/**
 * `search`: the <input role="combobox">, `list`: the <ul role="listbox">.
 * `onChange(name)` runs when an intent is picked, `onSubmit()` when Enter (or a double click)
 * confirms it. Returns {reset(choice), choice, render()}.
 */
export function intentPicker(search, list, { onChange = () => {}, onSubmit = () => {} } = {}) {
  let active = 0; // index of the highlighted intent in the filtered list
  let choice = null; // the picked intent's name

  const filtered = () => {
    const q = search.value.trim().toLowerCase();
    const all = [...state.intents].map(([name, label]) => ({ name, label }));
    if (!q) return all;
    return all.filter((i) => i.label.toLowerCase().includes(q) || i.name.toLowerCase().includes(q) || i.name.replace(/_/g, " ").includes(q));
  };

  const optionId = (name) => `${list.id}-${name}`;

  function render() {
    clear(list);
    const items = filtered();
    active = Math.max(0, Math.min(active, items.length - 1));
    items.forEach((intent, index) => {
      const chosen = choice === intent.name;
      list.append(
        h(
          "li",
          {
            role: "option",
            id: optionId(intent.name),
            class: "label-opt" + (index === active ? " is-active" : "") + (chosen ? " is-chosen" : ""),
            "aria-selected": String(chosen),
            "data-intent": intent.name,
            onclick: () => choose(intent.name),
            ondblclick: () => {
              choose(intent.name);
              onSubmit();
            },
          },
          h("span", { class: "opt-label", text: intent.label }),
          h("span", { class: "opt-name", text: intent.name }),
        ),
      );
    });
    if (!items.length) list.append(h("li", { class: "label-none", text: "No intent matches." }));
    const highlighted = items[active];
    if (highlighted) search.setAttribute("aria-activedescendant", optionId(highlighted.name));
    else search.removeAttribute("aria-activedescendant");
    list.querySelector(".is-active")?.scrollIntoView({ block: "nearest" });
  }

  function choose(name) {
    choice = name;
    active = Math.max(0, filtered().findIndex((i) => i.name === name));
    render();
    onChange(name);
  }

  search.addEventListener("input", () => {
    active = 0;
    render();
  });
  search.addEventListener("keydown", (e) => {
    const items = filtered();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = Math.max(0, Math.min(items.length - 1, active + (e.key === "ArrowDown" ? 1 : -1)));
      render();
    } else if (e.key === "Enter") {
      e.preventDefault();
      const intent = items[active];
      if (!intent) return;
      if (choice === intent.name) onSubmit();
      else choose(intent.name);
    }
  });

  return {
    /** Empties the search and picks `initial` (null: nothing). */
    reset(initial = null) {
      search.value = "";
      choice = initial;
      active = 0;
      render();
      if (initial) active = Math.max(0, filtered().findIndex((i) => i.name === initial));
      render();
    },
    get choice() {
      return choice;
    },
    render,
  };
}

/** "The model guessed “Order status” (82%)." for a shopper message's triage, or "". */
export function guessSentence(message) {
  const top = message && message.triage && message.triage.intents && message.triage.intents[0];
  return top ? `The model guessed “${intentLabel(top.intent)}” (${percent(top.confidence)}).` : "";
}
