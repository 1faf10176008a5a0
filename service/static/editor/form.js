// The case being edited: question, sources and claims, read into a POST /v1/reconcile body and
// written back from one. Every input carries data-path, the API's name for it
// ("claims.2.value"), so a problem document's `errors` land next to the field they are about.
// A question whose figure moves (dynamics cumulative or drifting) shows the fields only it
// uses (marked data-moving): the date to estimate on, and what each claim speaks of.

import {
  describePath,
  formatExact,
  formatLevels,
  parseLevels,
  parseNumber,
  parseProbability,
  slug,
} from "./format.js";
import { elementsById } from "./page.js";

const NUMBER_FIELDS = ["value", "low", "high", "sd", "ci_low", "ci_high"];
const TEXT_FIELDS = ["origin", "as_of", "quote", "url"];
const GRADES = ["A", "B", "C", "D", "E", "F"];
/** Which number fields each kind of claim shows. */
const KIND_FIELDS = {
  point: ["value", "sd", "ci_low", "ci_high", "ci_level"],
  at_least: ["value"],
  at_most: ["value"],
  range: ["low", "high"],
};

let uid = 0;

/** The input of `root` (a row, a draft card, a group) named `name` by its data-field. */
export function field(root, name) {
  return root.querySelector(`[data-field="${name}"]`);
}

/** Give each [data-field] under `root` the id `${stem}-${name}`, and its label[data-for] that id. */
export function labelFields(root, stem) {
  for (const input of root.querySelectorAll("[data-field]")) input.id = `${stem}-${input.dataset.field}`;
  for (const label of root.querySelectorAll("label[data-for]")) label.htmlFor = `${stem}-${label.dataset.for}`;
}

/** Show the number fields of the kind `row`'s claim has chosen, hide the others. */
export function showKind(row) {
  const shown = new Set(KIND_FIELDS[field(row, "kind").value] || []);
  for (const box of row.querySelectorAll("[data-show]")) box.hidden = !shown.has(box.dataset.show);
}

/** Show `text` as the error of `input`: a note after it, which its aria-describedby names
 * beside the input's own hints. Returns the note. */
export function markInvalid(input, text) {
  const note = document.createElement("p");
  note.className = "field-error";
  note.id = `${input.id}-error`;
  note.textContent = text;
  input.after(note);
  input.setAttribute("aria-invalid", "true");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  input.setAttribute("aria-describedby", [...described, note.id].join(" "));
  return note;
}

/** Remove every error markInvalid put under `root`, keeping the fields' own hints. */
export function clearInvalid(root) {
  for (const note of root.querySelectorAll(".field-error")) note.remove();
  for (const input of root.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const ids = (input.getAttribute("aria-describedby") || "")
      .split(" ").filter((id) => id && !id.endsWith("-error"));
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

export class CaseForm {
  constructor(form) {
    this.form = form;
    // The lists and the error summary in the form; the rows' templates elsewhere on the page.
    Object.assign(this, elementsById({
      sourceList: "sources", claimList: "claims", summary: "error-summary",
    }, form), elementsById({ sourceTemplate: "source-row", claimTemplate: "claim-row" }));
    // The question's inputs, this.question … this.at: #q-question … #q-at on the page.
    const inputs = ["question", "unit", "scale", "method", "levels", "dynamics", "at"];
    Object.assign(this, elementsById(
      Object.fromEntries(inputs.map((name) => [name, `q-${name}`])), form));
    this.dynamics.addEventListener("change", () => this.showDynamics());
  }

  /** Whether the question's figure moves (cumulative or drifting). */
  moving() {
    return this.dynamics.value !== "static";
  }

  /** Show the fields a figure that moves uses (the date to estimate on, each claim's
   * horizon) only when it moves; hidden fields are not sent. */
  showDynamics() {
    const moving = this.moving();
    for (const box of this.form.querySelectorAll("[data-moving]")) box.hidden = !moving;
  }

  // --- Rows ---------------------------------------------------------------------------------

  /** Add a source row, filled from a source of the API ({id, name, type, reliability}). */
  addSource(source = {}) {
    const row = this.newRow(this.sourceTemplate, "source");
    field(row, "name").value = source.name || "";
    field(row, "id").value = source.id || "";
    row.dataset.autoId = source.id ? "" : "1";
    field(row, "type").value = source.type || "other";
    const reliability = source.reliability;
    if (typeof reliability === "number") {
      field(row, "reliability").value = "number";
      field(row, "credibility").value = String(reliability);
    } else {
      field(row, "reliability").value = GRADES.includes(reliability) ? reliability : "F";
    }
    if (source.storedId !== undefined) row.dataset.storedId = String(source.storedId);
    field(row, "name").addEventListener("input", () => {
      if (row.dataset.autoId) field(row, "id").value = this.uniqueId(slug(field(row, "name").value), row);
      this.refreshSourceChoices();
    });
    field(row, "id").addEventListener("input", () => {
      row.dataset.autoId = "";
      this.refreshSourceChoices();
    });
    field(row, "reliability").addEventListener("change", () => this.showReliability(row));
    this.sourceList.append(row);
    this.showReliability(row);
    this.renumber();
    return row;
  }

  /** Add a claim row, filled from a claim of the API ({source, kind, value, ...}). */
  addClaim(claim = {}) {
    const row = this.newRow(this.claimTemplate, "claim");
    const sourceRow = this.sourceRows().find((r) => this.sourceId(r) === claim.source);
    row.dataset.sourceUid = sourceRow ? sourceRow.dataset.uid : "";
    field(row, "kind").value = claim.kind || "point";
    field(row, "hedge").value = claim.hedge || "none";
    field(row, "horizon").value = claim.horizon === "total" ? "total" : "level";
    for (const name of NUMBER_FIELDS) field(row, name).value = formatExact(claim[name]);
    for (const name of TEXT_FIELDS) field(row, name).value = claim[name] || "";
    field(row, "ci_level").value = claim.ci_level !== undefined && claim.ci_level !== 0.95
      ? formatLevels([claim.ci_level]) : "";
    if (claim.storedId !== undefined) row.dataset.storedId = String(claim.storedId);
    field(row, "kind").addEventListener("change", () => showKind(row));
    field(row, "source").addEventListener("change", () => {
      row.dataset.sourceUid = field(row, "source").value;
    });
    this.claimList.append(row);
    showKind(row);
    this.showDynamics();
    this.renumber();
    if (["sd", "ci_low", "ci_high", "quote", "url"].some((n) => claim[n])) {
      row.querySelector("details").open = true;
    }
    return row;
  }

  /** A fresh row of `kind` from `template`: ids of its own for every field and label, and its
   * remove button wired. */
  newRow(template, kind) {
    const row = template.content.firstElementChild.cloneNode(true);
    uid += 1;
    row.dataset.uid = `${kind}-${uid}`;
    labelFields(row, row.dataset.uid);
    row.querySelector(".remove").addEventListener("click", () => this.removeRow(row));
    return row;
  }

  removeRow(row) {
    const list = row.parentElement;
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    this.renumber();
    // Keep the keyboard where it was: on the next row's remove button, else the add button.
    (next ? next.querySelector(".remove") : list.parentElement.querySelector("button[id^=add]"))
      ?.focus();
  }

  sourceRows() {
    return [...this.sourceList.children];
  }

  claimRows() {
    return [...this.claimList.children];
  }

  sourceId(row) {
    return field(row, "id").value.trim();
  }

  uniqueId(base, except) {
    const taken = new Set(this.sourceRows().filter((r) => r !== except).map((r) => this.sourceId(r)));
    const stem = base || "source";
    let id = stem;
    for (let n = 2; taken.has(id); n += 1) id = `${stem}-${n}`;
    return id;
  }

  showReliability(row) {
    const number = field(row, "reliability").value === "number";
    row.querySelector('[data-show="credibility"]').hidden = !number;
    this.renumber();
  }

  /** Titles, remove-button names, data-path of every field, the claims' source choices. */
  renumber() {
    const numberRow = (row, i, noun) => {
      row.querySelector(".n").textContent = String(i + 1);
      row.querySelector(".remove").setAttribute("aria-label", `Remove ${noun} ${i + 1}`);
      row.dataset.path = `${noun}s.${i}`;
    };
    this.sourceRows().forEach((row, i) => {
      numberRow(row, i, "source");
      // The grade select and the number box both stand for "reliability"; only the one in use
      // takes the path, so that an error shows beside it.
      const number = field(row, "reliability").value === "number";
      for (const input of row.querySelectorAll("[data-field]")) {
        const name = input.dataset.field;
        let path = `sources.${i}.${name}`;
        if (name === "reliability" && number) path = "";
        if (name === "credibility") path = number ? `sources.${i}.reliability` : "";
        input.dataset.path = path;
      }
    });
    this.claimRows().forEach((row, i) => {
      numberRow(row, i, "claim");
      for (const input of row.querySelectorAll("[data-field]")) {
        input.dataset.path = `claims.${i}.${input.dataset.field}`;
      }
    });
    this.refreshSourceChoices();
  }

  refreshSourceChoices() {
    const sources = this.sourceRows().map((row, i) => {
      const name = field(row, "name").value.trim();
      const id = this.sourceId(row);
      return { uid: row.dataset.uid, text: name || id || `Source ${i + 1}` };
    });
    for (const row of this.claimRows()) {
      const select = field(row, "source");
      let chosen = row.dataset.sourceUid;
      if (!sources.some((s) => s.uid === chosen)) chosen = sources[0]?.uid || "";
      row.dataset.sourceUid = chosen;
      select.replaceChildren(...sources.map((s) => new Option(s.text, s.uid, false, s.uid === chosen)));
      select.value = chosen;
    }
  }

  // --- Whole case ---------------------------------------------------------------------------

  clear() {
    this.sourceList.replaceChildren();
    this.claimList.replaceChildren();
    this.question.value = "";
    this.unit.value = "";
    this.scale.value = "auto";
    this.method.value = "auto";
    this.levels.value = "50%, 90%";
    this.dynamics.value = "static";
    this.at.value = "";
    this.showDynamics();
    this.clearErrors();
  }

  /** Fill the form from a POST /v1/reconcile body. */
  load(body) {
    this.clear();
    this.question.value = body.question || "";
    this.unit.value = body.unit || "";
    this.scale.value = body.scale || "auto";
    this.method.value = body.method || "auto";
    if (body.levels) this.levels.value = formatLevels(body.levels);
    this.dynamics.value = ["cumulative", "drifting"].includes(body.dynamics) ? body.dynamics : "static";
    this.at.value = body.at || "";
    this.showDynamics();
    for (const source of body.sources || []) this.addSource(source);
    for (const claim of body.claims || []) this.addClaim(claim);
  }

  /** The POST /v1/reconcile body the form describes. Unparseable figures are sent as typed. */
  toRequest() {
    const body = { scale: this.scale.value, method: this.method.value };
    const question = this.question.value.trim();
    const unit = this.unit.value.trim();
    if (question) body.question = question;
    if (unit) body.unit = unit;
    const levels = parseLevels(this.levels.value);
    if (levels !== undefined) body.levels = levels;
    // A static question's body stays as it always was: no dynamics, at or horizons.
    if (this.moving()) {
      body.dynamics = this.dynamics.value;
      const at = this.at.value.trim();
      if (at) body.at = at;
    }
    body.sources = this.sourceRows().map((row) => this.readSource(row));
    const ids = new Map(this.sourceRows().map((row) => [row.dataset.uid, this.sourceId(row)]));
    body.claims = this.claimRows().map((row) => this.readClaim(row, ids));
    return body;
  }

  readSource(row) {
    const value = (name) => field(row, name).value.trim();
    const source = { id: value("id"), type: value("type") };
    if (value("name")) source.name = value("name");
    const grade = value("reliability");
    if (grade === "number") {
      const number = parseNumber(value("credibility"));
      if (number !== undefined) source.reliability = number;
    } else {
      source.reliability = grade;
    }
    return source;
  }

  readClaim(row, ids) {
    const shown = (name) => !field(row, name).closest("[hidden]");
    const claim = {
      source: ids.get(row.dataset.sourceUid) ?? "",
      kind: field(row, "kind").value,
      hedge: field(row, "hedge").value,
    };
    for (const name of NUMBER_FIELDS) {
      const number = shown(name) ? parseNumber(field(row, name).value) : undefined;
      if (number !== undefined) claim[name] = number;
    }
    const level = shown("ci_level") ? parseProbability(field(row, "ci_level").value) : undefined;
    if (level !== undefined && (claim.ci_low !== undefined || claim.ci_high !== undefined)) {
      claim.ci_level = level;
    }
    for (const name of TEXT_FIELDS) {
      const text = field(row, name).value.trim();
      if (text) claim[name] = text;
    }
    if (shown("horizon")) claim.horizon = field(row, "horizon").value;
    return claim;
  }

  // --- Problems -----------------------------------------------------------------------------

  clearErrors() {
    clearInvalid(this.form);
    for (const node of this.form.querySelectorAll(".group-error")) node.remove();
    for (const node of this.form.querySelectorAll(".row-error")) {
      node.hidden = true;
      node.textContent = "";
    }
    this.summary.hidden = true;
    this.summary.querySelector("ul").replaceChildren();
  }

  /**
   * Show a problem document: each entry of `errors` beside its field (or its row, or its
   * group), and all of them in the summary at the top, which takes the focus.
   * `prefix` maps paths of a single-claim answer ("value") to a row ("claims.3.value").
   */
  showProblem(problem, { prefix = "" } = {}) {
    this.clearErrors();
    const list = this.summary.querySelector("ul");
    const entries = Object.entries(problem.errors || {});
    if (entries.length === 0) {
      const item = document.createElement("li");
      item.textContent = `${problem.title}: ${problem.detail}`;
      list.append(item);
    }
    for (const [rawPath, messages] of entries) {
      const path = prefix && rawPath !== "_schema" ? `${prefix}.${rawPath}` : rawPath;
      const text = messages.join(" ");
      const target = this.place(path, text);
      const item = document.createElement("li");
      const label = `${describePath(path)}: ${text}`;
      if (target) {
        const link = document.createElement("a");
        link.href = `#${target.id}`;
        link.textContent = label;
        link.addEventListener("click", (event) => {
          event.preventDefault();
          target.focus();
        });
        item.append(link);
      } else {
        item.textContent = label;
      }
      list.append(item);
    }
    this.summary.hidden = false;
    this.summary.focus();
  }

  /** Put `text` next to the field of `path`; returns the element to focus, if any. */
  place(path, text) {
    const field = this.findField(path);
    if (field) {
      const details = field.closest("details");
      if (details) details.open = true;
      markInvalid(field, text);
      return field;
    }
    // A message about a whole row, or about a field the row does not show.
    const rowMatch = path.match(/^(claims|sources)\.(\d+)/);
    if (rowMatch) {
      const row = this.form.querySelector(`li[data-path="${rowMatch[1]}.${rowMatch[2]}"]`);
      if (row) {
        const box = row.querySelector(".row-error");
        const field = path.split(".").slice(2).join(".");
        box.textContent = [box.textContent, field ? `${describePath(field)}: ${text}` : text]
          .filter(Boolean).join(" ");
        box.hidden = false;
        box.id = `${row.dataset.uid}-error`;
        box.tabIndex = -1;
        return box;
      }
    }
    const group = this.form.querySelector(`fieldset[data-path="${path.split(".")[0]}"]`);
    if (group && path.split(".").length === 1) {
      const note = document.createElement("p");
      note.className = "group-error";
      note.id = `${path}-group-error`;
      note.tabIndex = -1;
      note.textContent = text;
      group.querySelector("legend").after(note);
      return note;
    }
    return null;
  }

  findField(path) {
    const exact = this.form.querySelector(`[data-path="${CSS.escape(path)}"]`);
    if (exact && !exact.closest("[hidden]")) return exact;
    // "levels.1" is about one of the levels typed in the single "levels" box.
    const parent = path.replace(/\.\d+$/, "");
    if (parent !== path) {
      const box = this.form.querySelector(`[data-path="${CSS.escape(parent)}"]`);
      if (box && box.tagName !== "FIELDSET" && !box.closest("[hidden]")) return box;
    }
    return null;
  }
}

/** The troop case: NIS (B) 1,500; Zelensky (C) up to 10,000; anonymous (F) about 12,000. */
export const EXAMPLE = {
  question: "North Korean soldiers in Russia",
  unit: "soldiers",
  scale: "log",
  levels: [0.5, 0.9],
  method: "auto",
  sources: [
    { id: "nis", name: "South Korea NIS", type: "intelligence_agency", reliability: "B" },
    { id: "zelensky", name: "Volodymyr Zelensky", type: "head_of_state", reliability: "C" },
    { id: "anon-media", name: "Sources to South Korean media", type: "anonymous", reliability: "F" },
  ],
  claims: [
    { source: "nis", kind: "point", value: 1500 },
    { source: "zelensky", kind: "at_most", value: 10000 },
    { source: "anon-media", kind: "point", value: 12000, hedge: "about" },
  ],
};

/** The troop case with its dates, as a running total: NIS (B) 1,500 in Russia on 18 October
 * 2024; Zelensky (C) up to 10,000 could join (the eventual total, 17 October); anonymous
 * sources: the final figure could be closer to 12,000 (the eventual total, 18 October). */
export const MOVING_EXAMPLE = {
  ...EXAMPLE,
  question: "North Korean soldiers sent to Russia",
  dynamics: "cumulative",
  claims: [
    { source: "nis", kind: "point", value: 1500, as_of: "2024-10-18", horizon: "level" },
    { source: "zelensky", kind: "point", value: 10000, hedge: "could_be", as_of: "2024-10-17", horizon: "total" },
    { source: "anon-media", kind: "point", value: 12000, hedge: "could_be", as_of: "2024-10-18", horizon: "total" },
  ],
};
