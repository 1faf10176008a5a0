// Stored questions: list and open a question saved on the service, see its estimate and plot,
// and add the claims typed in the form to it. Uses /v1/questions, /v1/questions/{id}/claims,
// /v1/questions/{id}/estimate, /v1/questions/{id}/plot and /v1/sources, with the API key typed
// in the page (sent as Authorization: Bearer, kept in this tab's sessionStorage only).
//
// The panel switches itself on only when the service's OpenAPI document lists /v1/questions,
// so the page works unchanged against a service without storage.

import { getImage, getJSON, postJSON, Problem } from "./api.js";
import { countOf, parseLevels } from "./format.js";
import { field } from "./form.js";
import { elementsById } from "./page.js";

const KEY_STORE = "triangulate.api-key";
const PAGE = 500;

function claimFromStored(claim) {
  const copy = { storedId: claim.id };
  for (const name of ["source", "kind", "value", "low", "high", "sd", "ci_low", "ci_high",
    "ci_level", "hedge", "origin", "as_of", "horizon", "quote", "url"]) {
    if (claim[name] !== null && claim[name] !== undefined) copy[name] = claim[name];
  }
  return copy;
}

export function initStored({ form, results, show }) {
  const ui = elementsById({
    panel: "stored", keyInput: "api-key", search: "stored-search", status: "stored-status",
    listButton: "stored-list", list: "stored-questions", context: "stored-context",
    addButton: "stored-add",
  });
  let current = null; // the open question
  let storedSources = new Map(); // id → stored source, for the Id field's choices
  const sourceChoices = document.createElement("datalist");
  sourceChoices.id = "stored-sources";
  document.body.append(sourceChoices);

  const key = () => ui.keyInput.value.trim() || undefined;

  function say(message) {
    ui.status.textContent = message;
  }

  /** Mark a row as saved: shown read-only, since stored rows change only through the API
   * (an edit there keeps the row's history). */
  function lock(row, storedId) {
    row.dataset.storedId = storedId;
    row.classList.add("stored");
    for (const control of row.querySelectorAll("input")) control.readOnly = true;
    for (const control of row.querySelectorAll("select, .remove")) control.disabled = true;
  }

  function unlock(row) {
    row.classList.remove("stored");
    delete row.dataset.storedId;
    for (const control of row.querySelectorAll("input")) control.readOnly = false;
    for (const control of row.querySelectorAll("select, .remove")) control.disabled = false;
  }

  function leave() {
    current = null;
    ui.context.hidden = true;
    ui.context.textContent = "";
    ui.addButton.hidden = true;
    for (const row of form.form.querySelectorAll("li[data-stored-id]")) unlock(row);
  }

  function explain(problem) {
    if (problem.status === 401) {
      ui.keyInput.focus();
      return `${problem.detail} Enter an API key above.`;
    }
    return problem.detail || problem.message;
  }

  /** Offer the stored sources as choices for the Id field of any source row. */
  async function loadSources() {
    try {
      const page = await getJSON(`/v1/sources?page_size=${PAGE}`, { key: key() });
      storedSources = new Map(page.items.map((source) => [source.id, source]));
      sourceChoices.replaceChildren(...page.items.map((source) => {
        const option = document.createElement("option");
        option.value = source.id;
        option.label = `${source.name || source.id} (${source.reliability ?? "F"})`;
        return option;
      }));
      for (const input of form.form.querySelectorAll('[data-field="id"]')) {
        input.setAttribute("list", sourceChoices.id);
      }
    } catch {
      // Reading sources may need a key; the choices simply stay empty until one is given.
    }
  }

  // Choosing a stored source's id fills in its name, type and grade.
  form.sourceList.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.dataset.field !== "id") return;
    const source = storedSources.get(input.value.trim());
    const row = input.closest("li");
    if (!source || !row || row.dataset.storedId) return;
    field(row, "name").value = source.name || "";
    field(row, "type").value = source.type;
    const grade = field(row, "reliability");
    if (typeof source.reliability === "number") {
      grade.value = "number";
      field(row, "credibility").value = String(source.reliability);
    } else {
      grade.value = source.reliability || "F";
    }
    grade.dispatchEvent(new Event("change"));
    form.refreshSourceChoices();
  });
  form.sourceList.addEventListener("focusin", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.dataset.field === "id"
      && !ui.panel.hidden) {
      event.target.setAttribute("list", sourceChoices.id);
    }
  });

  async function listQuestions() {
    loadSources();
    say("Loading questions…");
    const query = new URLSearchParams({ page_size: "50" });
    if (ui.search.value.trim()) query.set("q", ui.search.value.trim());
    try {
      const page = await getJSON(`/v1/questions?${query}`, { key: key() });
      ui.list.replaceChildren(...page.items.map((question) => {
        const item = document.createElement("li");
        const title = document.createElement("span");
        title.textContent = `#${question.id} ${question.title}`
          + (question.unit ? ` (${question.unit})` : "") + ` · ${question.status}`;
        const open = document.createElement("button");
        open.type = "button";
        open.textContent = "Open";
        open.setAttribute("aria-label", `Open question ${question.id}: ${question.title}`);
        open.addEventListener("click", () => openQuestion(question.id));
        item.append(title, open);
        return item;
      }));
      say(page.total === 0 ? "No stored questions match." : `${countOf(page.total, "question")}.`);
    } catch (problem) {
      say(`Could not list questions: ${explain(problem)}`);
    }
  }

  async function openQuestion(id) {
    say(`Opening question ${id}…`);
    try {
      const question = await getJSON(`/v1/questions/${id}`, { key: key() });
      const page = await getJSON(`/v1/questions/${id}/claims?page_size=${PAGE}`, { key: key() });
      const sourceIds = [...new Set(page.items.map((claim) => claim.source))];
      const sources = await Promise.all(
        sourceIds.map((sid) => getJSON(`/v1/sources/${encodeURIComponent(sid)}`, { key: key() })),
      );
      form.load({
        question: question.title,
        unit: question.unit,
        scale: question.scale,
        dynamics: question.dynamics,
        levels: parseLevels(form.levels.value),
        sources: sources.map((s) => ({
          id: s.id, name: s.name, type: s.type, reliability: s.reliability, storedId: s.id,
        })),
        claims: page.items.map(claimFromStored),
      });
      current = { id, title: question.title };
      for (const row of form.form.querySelectorAll("li[data-stored-id]")) lock(row, row.dataset.storedId);
      ui.context.textContent = `Stored question #${id}: saved rows are read-only; rows you add can be saved to it.`;
      ui.context.hidden = false;
      ui.addButton.hidden = false;
      say(`Opened question ${id}: ${countOf(page.items.length, "claim")}.`);
      await showEstimate();
    } catch (problem) {
      say(`Could not open question ${id}: ${explain(problem)}`);
    }
  }

  function estimateQuery(format) {
    const query = new URLSearchParams();
    for (const level of parseLevels(form.levels.value) || []) {
      if (typeof level === "number") query.append("levels", String(level));
    }
    query.set("method", form.method.value);
    if (form.moving() && form.at.value) query.set("at", form.at.value);
    if (format) query.set("format", format);
    return query;
  }

  function showEstimate() {
    const id = current.id;
    const plot = (format) => getImage(`/v1/questions/${id}/plot?${estimateQuery(format)}`, format, { key: key() });
    return show(async () => ({
      result: await getJSON(`/v1/questions/${id}/estimate?${estimateQuery()}`, { key: key() }),
      plot,
    }), plot);
  }

  /** Save the form's new sources and claims (rows without data-stored-id) to the question. */
  async function addClaims() {
    if (!current) return;
    if (!key()) {
      say("Adding claims needs an API key: enter it above.");
      ui.keyInput.focus();
      return;
    }
    form.clearErrors();
    const body = form.toRequest();
    const sourceRows = form.sourceRows();
    const claimRows = form.claimRows();
    let saved = 0;
    try {
      for (const [i, row] of sourceRows.entries()) {
        if (row.dataset.storedId) continue;
        const used = claimRows.some((c, j) => !c.dataset.storedId && body.claims[j].source === body.sources[i].id);
        if (!used) continue;
        try {
          await postJSON("/v1/sources", body.sources[i], { key: key() });
        } catch (problem) {
          // A source already stored under this id is fine: claims refer to it by id.
          if (problem.status !== 409) throw Object.assign(problem, { prefix: `sources.${i}` });
        }
        lock(row, body.sources[i].id);
      }
      for (const [j, row] of claimRows.entries()) {
        if (row.dataset.storedId) continue;
        try {
          const claim = await postJSON(`/v1/questions/${current.id}/claims`, body.claims[j], { key: key() });
          lock(row, String(claim.id));
          saved += 1;
        } catch (problem) {
          throw Object.assign(problem, { prefix: `claims.${j}` });
        }
      }
    } catch (problem) {
      if (!(problem instanceof Problem)) throw problem;
      say(`Not saved: ${explain(problem)}`);
      form.showProblem(problem, { prefix: problem.prefix || "" });
      return;
    }
    say(saved ? `Saved ${countOf(saved, "claim")} to question ${current.id}.` : "Nothing new to save.");
    await showEstimate();
  }

  ui.keyInput.value = sessionStorage.getItem(KEY_STORE) || "";
  ui.keyInput.addEventListener("change", () => {
    if (key()) sessionStorage.setItem(KEY_STORE, key());
    else sessionStorage.removeItem(KEY_STORE);
  });
  ui.listButton.addEventListener("click", listQuestions);
  ui.search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      listQuestions();
    }
  });
  ui.addButton.addEventListener("click", addClaims);

  // Switch the panel on only where the service stores questions.
  getJSON("/openapi.json")
    .then((document_) => {
      ui.panel.hidden = !(document_.paths && document_.paths["/v1/questions"]);
    })
    .catch(() => {
      ui.panel.hidden = true;
    });

  return { leave };
}
