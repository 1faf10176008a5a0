// "From an article": paste text → POST /v1/extract → review the drafts → reconcile one
// quantity. The text is shown with each drafted figure marked; each quantity is a group of
// draft cards the editor can edit, drop (and keep again) or move to another quantity; each
// drafted source gets a grade. "Reconcile this quantity" fills the form with the group's
// question, unit, dynamics, kept drafts and the sources they name, and runs the form's
// reconcile.
// Nothing here talks to the service but POST /v1/extract; the rest is the form's own flow.

import { postJSON } from "./api.js";
import { clearInvalid, field, labelFields, markInvalid, showKind } from "./form.js";
import { countOf, formatExact, parseNumber } from "./format.js";
import { elementsById } from "./page.js";

/** The figures a draft of each kind must have (a draft card has no uncertainty fields). */
const KIND_FIGURES = { point: ["value"], at_least: ["value"], at_most: ["value"], range: ["low", "high"] };
const TYPE_WORDS = (type) => String(type || "other").replaceAll("_", " ");
const NEW_GROUP = "new";

/** The message to show for a refused extract: the sentence about the text when there is one. */
export function extractProblemText(problem) {
  const about = (problem.errors || {}).text;
  if (about && about.length) return about.join(" ");
  if (problem.status === 413) {
    return "The article is too large to send: paste one article at a time (a few hundred kilobytes at most).";
  }
  if (problem.status === 415) return `The service could not take this text: ${problem.detail}`;
  const fields = Object.entries(problem.errors || {});
  if (fields.length) return fields.map(([field, messages]) => `${field}: ${messages.join(" ")}`).join(" ");
  return problem.detail || problem.message || "The article could not be read.";
}

let uid = 0;

export function initArticle({ form, reconcile }) {
  const ui = elementsById({
    panel: "article", textBox: "article-text", published: "article-published",
    readButton: "article-read", status: "article-status", drafts: "article-drafts",
    view: "article-view", sourceList: "article-sources", groupList: "article-groups",
    groupTemplate: "draft-group", cardTemplate: "draft-card",
  });
  // The grades A–F in the words of the form's source rows, F chosen (their "a number…" aside).
  const gradeChoices = [...field(form.sourceTemplate.content, "reliability").options]
    .filter((option) => option.value !== "number");
  // A draft's kind, hedge and horizon: the claim rows' choices, in their words.
  const claimChoices = (name) => [...field(form.claimTemplate.content, name).options];

  /** The extraction being reviewed: its text, its sources by id, its groups and drafts. */
  let state = null;

  function say(message) {
    ui.status.textContent = message;
  }

  function showError(message) {
    markInvalid(ui.textBox, message);
    say(`Not read: ${message}`);
  }

  function clearError() {
    clearInvalid(ui.textBox.parentElement);
  }

  async function read() {
    clearError();
    const text = ui.textBox.value;
    if (!text.trim()) {
      showError("Paste an article first.");
      ui.textBox.focus();
      return;
    }
    const body = { text };
    if (ui.published.value) body.published = ui.published.value;
    ui.readButton.disabled = true;
    ui.panel.setAttribute("aria-busy", "true");
    say("Reading the article…");
    let answer;
    try {
      answer = await postJSON("/v1/extract", body);
    } catch (problem) {
      showError(extractProblemText(problem));
      ui.textBox.focus();
      return;
    } finally {
      ui.readButton.disabled = false;
      ui.panel.removeAttribute("aria-busy");
    }
    show(answer);
  }

  // --- Showing an extraction ----------------------------------------------------------------

  function show(answer) {
    state = { text: answer.text, sources: new Map(), groups: [], drafts: [], next: 1 };
    for (const source of answer.sources) state.sources.set(source.id, { ...source, grade: "F" });
    ui.sourceList.replaceChildren(...answer.sources.map(sourceItem));
    ui.groupList.replaceChildren();
    for (const quantity of answer.quantities) {
      const group = addGroup(quantity.label || quantity.unit, quantity.unit);
      for (const claim of quantity.claims) addDraft(claim, group);
    }
    refreshGroups();
    drawText();
    ui.drafts.hidden = answer.quantities.length === 0;
    const count = state.drafts.length;
    if (count === 0) {
      const warning = (answer.warnings || [])[0];
      say(warning ? warning.message : "No figures were found in the text.");
      return;
    }
    const groups = state.groups.length;
    say(`Drafted ${countOf(count, "claim")} about ${countOf(groups, "quantity", "quantities")} `
      + `from ${countOf(state.sources.size, "source")}. Review them below.`);
  }

  function sourceItem(source) {
    const item = document.createElement("li");
    const id = `article-grade-${++uid}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    const name = document.createElement("span");
    name.className = "source-name";
    name.textContent = source.name;
    const type = document.createElement("span");
    type.className = "source-type";
    type.textContent = ` (${TYPE_WORDS(source.type)})`;
    label.append(name, type);
    const select = document.createElement("select");
    select.id = id;
    select.dataset.source = source.id;
    select.append(...gradeChoices.map((option) => option.cloneNode(true)));
    select.addEventListener("change", () => {
      state.sources.get(source.id).grade = select.value;
    });
    item.append(label, select);
    return item;
  }

  function addGroup(question, unit) {
    const node = ui.groupTemplate.content.firstElementChild.cloneNode(true);
    const group = { id: `g${state.next}`, number: state.next, node };
    state.next += 1;
    node.dataset.group = group.id;
    node.id = `article-${group.id}`;
    labelFields(node, `article-${group.id}`);
    field(node, "question").value = question || "";
    field(node, "unit").value = unit || "";
    field(node, "question").addEventListener("input", refreshGroups);
    node.querySelector(".reconcile-group").addEventListener("click", () => reconcileGroup(group));
    state.groups.push(group);
    ui.groupList.append(node);
    return group;
  }

  function addDraft(claim, group) {
    const node = ui.cardTemplate.content.firstElementChild.cloneNode(true);
    const draft = { id: `d${++uid}`, claim, group, dropped: false, node };
    node.dataset.draft = draft.id;
    node.id = `article-${draft.id}`;
    labelFields(node, `article-${draft.id}`);
    for (const name of ["kind", "hedge", "horizon"]) {
      field(node, name).append(...claimChoices(name).map((option) => option.cloneNode(true)));
    }
    const select = field(node, "source");
    for (const source of state.sources.values()) {
      select.append(new Option(source.name, source.id, false, source.id === claim.source));
    }
    select.value = claim.source;
    field(node, "kind").value = claim.kind;
    field(node, "value").value = formatExact(claim.value);
    field(node, "low").value = formatExact(claim.low);
    field(node, "high").value = formatExact(claim.high);
    field(node, "hedge").value = claim.hedge || "none";
    field(node, "horizon").value = claim.horizon === "total" ? "total" : "level";
    field(node, "as_of").value = claim.as_of || "";
    field(node, "quote").value = claim.quote || "";
    node.querySelector(".draft-quote").replaceChildren(...quoteWithFigure(claim));
    node.querySelector(".draft-meta").textContent = metaText(claim);
    field(node, "kind").addEventListener("change", () => changeKind(draft));
    select.addEventListener("change", () => describeDraft(draft));
    field(node, "group").addEventListener("change", () => move(draft, field(node, "group").value));
    node.querySelector(".drop").addEventListener("click", () => toggleDrop(draft));
    state.drafts.push(draft);
    group.node.querySelector(".drafts").append(node);
    changeKind(draft);
    return draft;
  }

  function metaText(claim) {
    const parts = [`confidence ${claim.confidence.toFixed(2)}`];
    parts.push(claim.cues.length ? `cues: ${claim.cues.map((cue) => `“${cue}”`).join(", ")}` : "no cue words");
    parts.push(claim.attribution ? `said by: “${claim.attribution}”` : "stated by the article itself");
    if (claim.unit) parts.push(`unit: ${claim.unit}`);
    return parts.join(" · ");
  }

  /** The quote with the figure marked, where the figure's span falls inside it. */
  function quoteWithFigure(claim) {
    const quote = claim.quote || "";
    const [start, end] = claim.span;
    const at = state.text.lastIndexOf(quote, start);
    const offset = at >= 0 && at + quote.length >= end ? start - at : quote.indexOf(claim.figure);
    if (offset < 0) return [quote];
    const mark = document.createElement("mark");
    mark.textContent = quote.slice(offset, offset + claim.figure.length);
    return [quote.slice(0, offset), mark, quote.slice(offset + claim.figure.length)];
  }

  /** Show the fields of the draft's kind (and refresh its title). */
  function changeKind(draft) {
    showKind(draft.node);
    describeDraft(draft);
  }

  /** The card's title ("10,000 · Volodymyr Zelensky") and its Drop button's name. */
  function describeDraft(draft) {
    const source = state.sources.get(field(draft.node, "source").value);
    draft.node.querySelector(".draft-figure").textContent = draft.claim.figure;
    draft.node.querySelector(".draft-by").textContent = ` · ${source ? source.name : "no source"}`
      + (draft.dropped ? " · dropped" : "");
    const name = `${draft.claim.figure} (${source ? source.name : "no source"})`;
    const drop = draft.node.querySelector(".drop");
    drop.textContent = draft.dropped ? "Keep" : "Drop";
    drop.setAttribute("aria-label", `${draft.dropped ? "Keep" : "Drop"} draft ${name}`);
    drop.setAttribute("aria-pressed", String(draft.dropped));
  }

  function toggleDrop(draft) {
    draft.dropped = !draft.dropped;
    draft.node.classList.toggle("dropped", draft.dropped);
    for (const control of draft.node.querySelectorAll("input, select")) control.disabled = draft.dropped;
    describeDraft(draft);
    drawText();
    say(draft.dropped
      ? `Dropped ${draft.claim.figure}: it will not be sent.`
      : `Kept ${draft.claim.figure} again.`);
  }

  function groupName(group) {
    const question = field(group.node, "question").value.trim();
    return `Quantity ${group.number}: ${question || "no question yet"}`;
  }

  /** Titles, the move choices of every card, and the "no drafts here" notes. */
  function refreshGroups() {
    for (const group of state.groups) {
      group.node.querySelector(".group-title").textContent = groupName(group);
      const count = state.drafts.filter((d) => d.group === group).length;
      group.node.querySelector(".empty").hidden = count > 0;
      group.node.querySelector(".reconcile-group")
        .setAttribute("aria-label", `Reconcile this quantity: ${groupName(group)}`);
    }
    for (const draft of state.drafts) {
      const select = field(draft.node, "group");
      select.replaceChildren(
        ...state.groups.map((g) => new Option(groupName(g), g.id, false, g === draft.group)),
        new Option("a new quantity", NEW_GROUP),
      );
      select.value = draft.group.id;
    }
  }

  function move(draft, target) {
    const group = target === NEW_GROUP
      ? addGroup(draft.claim.unit, draft.claim.unit)
      : state.groups.find((g) => g.id === target);
    if (!group || group === draft.group) return;
    draft.group = group;
    group.node.querySelector(".drafts").append(draft.node);
    refreshGroups();
    drawText();
    // The keyboard stays on the control just used, now in its new place.
    field(draft.node, "group").focus();
    say(`Moved ${draft.claim.figure} to ${groupName(group)}.`);
  }

  /** The article with each draft's figure as a link to its card, tagged with its group's number. */
  function drawText() {
    const spans = state.drafts
      .map((draft) => ({ draft, start: draft.claim.span[0], end: draft.claim.span[1] }))
      .sort((a, b) => a.start - b.start);
    const parts = [];
    let at = 0;
    for (const { draft, start, end } of spans) {
      if (start < at) continue; // overlapping spans: the first one is marked
      parts.push(state.text.slice(at, start));
      const link = document.createElement("a");
      link.href = `#${draft.node.id}`;
      link.className = `figure-mark group-${(draft.group.number - 1) % 6}`;
      link.classList.toggle("dropped", draft.dropped);
      link.dataset.draft = draft.id;
      const mark = document.createElement("mark");
      mark.textContent = state.text.slice(start, end);
      const tag = document.createElement("sup");
      tag.textContent = String(draft.group.number);
      link.append(mark, tag);
      link.setAttribute("aria-label", `${state.text.slice(start, end)}, quantity ${draft.group.number}`
        + `${draft.dropped ? ", dropped" : ""}: go to its draft`);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        draft.node.scrollIntoView({ block: "center" });
        draft.node.querySelector(".row-title").focus();
      });
      parts.push(link);
      at = end;
    }
    parts.push(state.text.slice(at));
    ui.view.replaceChildren(...parts);
  }

  // --- Reconciling a group ------------------------------------------------------------------

  /** The claim a kept draft stands for, or null after marking what must be fixed. */
  function readDraft(draft) {
    const { node } = draft;
    const kind = field(node, "kind").value;
    const claim = {
      source: field(node, "source").value, kind, hedge: field(node, "hedge").value,
      horizon: field(node, "horizon").value,
    };
    let good = true;
    for (const name of KIND_FIGURES[kind]) {
      const number = parseNumber(field(node, name).value);
      if (typeof number !== "number") {
        markInvalid(field(node, name), "Type a figure, such as 12,000 or 12k.");
        good = false;
      } else {
        claim[name] = number;
      }
    }
    if (field(node, "as_of").value) claim.as_of = field(node, "as_of").value;
    const quote = field(node, "quote").value.trim();
    if (quote) claim.quote = quote;
    return good ? claim : null;
  }

  function reconcileGroup(group) {
    clearInvalid(group.node);
    const note = group.node.querySelector(".group-note");
    const kept = state.drafts.filter((d) => d.group === group && !d.dropped);
    if (kept.length === 0) {
      note.textContent = "Nothing to reconcile: this quantity has no drafts that are kept.";
      return;
    }
    const claims = kept.map(readDraft);
    if (claims.includes(null)) {
      note.textContent = "Fix the marked figures first.";
      group.node.querySelector("[aria-invalid]").focus();
      return;
    }
    const used = [...new Set(claims.map((c) => c.source))];
    const sources = used.map((id) => {
      const source = state.sources.get(id);
      return { id, name: source.name, type: source.type, reliability: source.grade };
    });
    const body = {
      question: field(group.node, "question").value.trim(),
      unit: field(group.node, "unit").value.trim(),
      scale: "auto",
      method: "auto",
      sources,
      claims,
    };
    // A static question sends no horizons (the form hides "Speaks of" and does not send it).
    const dynamics = field(group.node, "dynamics").value;
    if (dynamics !== "static") body.dynamics = dynamics;
    note.textContent = `Sent ${countOf(claims.length, "claim")} to the form below and reconciled.`;
    form.load(body);
    reconcile();
  }

  ui.readButton.addEventListener("click", read);
  // Ctrl+Enter in the text drafts, as the button does.
  ui.textBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      read();
    }
  });
}
