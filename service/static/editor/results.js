// Showing a POST /v1/reconcile answer: the summary first, then the computed estimate and its
// ranges, the explanation and the findings it is made of, warnings, each claim's share,
// sensitivity and verdict, the sources' credibility, and the plot. A figure that moves (the
// answer has `time`) adds its level on the date of the estimate, its eventual total and a table
// of its course.

import { countOf, formatChance, formatExact, formatFigure, formatShare } from "./format.js";
import { elementsById } from "./page.js";

const HEDGE_WORDS = { about: "about ", could_be: "possibly ", rumour: "reportedly ", exact: "exactly " };

function describeClaim(claim) {
  if (claim.kind === "range") return `between ${formatExact(claim.low)} and ${formatExact(claim.high)}`;
  const prefix = { at_least: "at least ", at_most: "up to " }[claim.kind] || "";
  return `${prefix}${HEDGE_WORDS[claim.hedge] || ""}${formatExact(claim.value)}`;
}

/**
 * An interval in words. An open (null) end is one the evidence sets no limit on; an end listed
 * in `beyond_claims` lies so far beyond every figure the claims state that no claim sets it: its
 * number is not printed, and the words say so, as the answer's summary does ("from 0.92 up; no
 * claim sets its upper end").
 */
export function rangeText(interval) {
  const beyond = new Set(interval.beyond_claims || []);
  const open = (end) => end === null || end === undefined;
  const shown = (end) => !open(interval[end]) && !beyond.has(end);
  const low = formatFigure(interval.low);
  const high = formatFigure(interval.high);
  if (shown("low") && shown("high")) return `${low} to ${high}`;
  if (shown("low")) return open(interval.high) ? `at least ${low}` : `from ${low} up; no claim sets its upper end`;
  if (shown("high")) return open(interval.low) ? `up to ${high}` : `up to ${high}; no claim sets its lower end`;
  return beyond.size ? "no claim sets either end" : "no limit either way";
}

const DATES = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
});

/** A date of the API ("2024-10-18") as a reader writes it ("18 Oct 2024"). */
function dateText(iso) {
  const day = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(day.getTime()) ? String(iso) : DATES.format(day);
}

/** A claim's moment in words: " · 18 Oct 2024", " in total · 17 Oct 2024", " · no date". */
function momentText(claim) {
  const when = claim.as_of ? dateText(claim.as_of) : "no date";
  return claim.horizon === "total" ? ` in total · ${when}` : ` · ${when}`;
}

function widestOf(intervals) {
  return [...(intervals || [])].sort((a, b) => b.level - a.level)[0];
}

/** "about 1,540 soldiers (90% range 1,050 to 2,490)" */
function figureWithRange(moment, unit) {
  const widest = widestOf(moment.intervals);
  const range = widest ? ` (${Math.round(widest.level * 100)}% range ${rangeText(widest)})` : "";
  return `about ${formatFigure(moment.value)}${unit}${range}`;
}

const SUMMARY_KINDS = {
  figure: "One figure",
  course: "A figure that moves",
  range: "A range set by the claims' bounds",
  bound: "Only a bound",
  split: "The evidence splits",
};

const FINDING_LABELS = {
  central_figure: "Estimate", one_sided_bound: "Bound", bounds_only: "Bounds", split: "Split",
  rests_on: "Rests on", discounted: "Discounted", echo_group: "Echoes", conflict: "Conflict",
  agreement: "Agreement", heterogeneity: "Heterogeneity test", binding_bound: "Binding bound",
  violated_bound: "Violated bound", slack_bounds: "Slack bounds", time_course: "Over time",
};

function findingItem(finding) {
  const item = document.createElement("li");
  item.dataset.kind = finding.kind;
  const label = document.createElement("strong");
  label.textContent = FINDING_LABELS[finding.kind] || finding.kind;
  const text = document.createElement("span");
  text.textContent = ` ${finding.text}`;
  item.append(label, text);
  const cited = finding.claims.map((i) => `#${i + 1}`).join(", ");
  const numbers = finding.figures
    .filter((figure) => !figure.quoted)
    .map((figure) => `${figure.text}${figure.path ? ` (${figure.path})` : ""}`);
  if (cited || numbers.length) {
    const detail = document.createElement("small");
    detail.className = "finding-detail";
    detail.textContent = [cited && `claims ${cited}`, numbers.length && `numbers ${numbers.join("; ")}`]
      .filter(Boolean).join(" · ");
    item.append(document.createElement("br"), detail);
  }
  return item;
}

function cell(text, label, className) {
  const td = document.createElement("td");
  td.textContent = text;
  td.dataset.label = label;
  if (className) td.className = className;
  return td;
}

export class Results {
  constructor(root) {
    this.root = root;
    Object.assign(this, elementsById({
      status: "status", body: "result-body", plot: "plot", plotStatus: "plot-status",
      plotLink: "plot-svg", pngButton: "plot-png",
    }, root));
    this.plotUrl = null;
  }

  busy(message) {
    this.root.setAttribute("aria-busy", "true");
    this.status.classList.remove("sr-only");
    this.status.textContent = message;
  }

  failed(message) {
    this.root.setAttribute("aria-busy", "false");
    this.status.classList.remove("sr-only");
    this.status.textContent = message;
  }

  /** Show a reconcile answer. */
  show(result) {
    const unit = result.unit ? ` ${result.unit}` : "";
    const value = result.estimate.value;
    const widest = [...result.estimate.intervals].sort((a, b) => b.level - a.level)[0];
    const range = widest ? ` (${Math.round(widest.level * 100)}% range ${rangeText(widest)})` : "";
    // The live region gets one sentence; the details are there to read at leisure.
    const summary = result.summary;
    const computed = value === null || value === undefined
      ? (widest ? `No central figure; ${Math.round(widest.level * 100)}% range ${rangeText(widest)}.` : "No central figure.")
      : `Estimate: about ${formatFigure(value)}${unit}${range}.`;
    this.status.textContent = (summary ? `${summary.text}. ` : "") + computed
      + (result.warnings.length ? ` ${countOf(result.warnings.length, "warning")}.` : "");
    this.root.querySelector("#summary").textContent = summary ? summary.text : "";
    this.root.querySelector("#summary-kind").textContent = summary ? SUMMARY_KINDS[summary.kind] || "" : "";
    this.root.querySelector("#summary").dataset.kind = summary ? summary.kind : "";
    // The computed median is a trough between camps (split) or set by the model's prior (bounds
    // only): it is shown as a detail, never as the headline.
    this.root.querySelector("#headline").classList.toggle("secondary", !!summary);
    this.root.querySelector("#findings").replaceChildren(...(result.findings || []).map(findingItem));
    // Bounds on one side only give no central figure (the value is null), and an open end of a
    // range is null: the evidence sets no limit that way.
    const on = result.time && result.time.at ? ` on ${dateText(result.time.at)}` : "";
    this.root.querySelector("#estimate").textContent = value === null || value === undefined
      ? "No central figure"
      : `About ${formatFigure(value)}${unit}${on}`;
    this.showTime(result, unit);
    this.root.querySelector("#ranges").replaceChildren(...result.estimate.intervals.map((interval) => {
      const item = document.createElement("li");
      item.textContent = `${Math.round(interval.level * 100)}% range: ${rangeText(interval)}`;
      return item;
    }));
    const method = result.method.replace("_", " ");
    this.root.querySelector("#meta").textContent = `${method} method, ${result.scale} scale`
      + (result.disagreement.detected ? " · the sources disagree" : "");
    this.root.querySelector("#explanation").textContent = result.explanation;

    const warnings = this.root.querySelector("#warnings");
    warnings.replaceChildren(...result.warnings.map((warning) => {
      const item = document.createElement("li");
      item.textContent = warning.message;
      item.dataset.code = warning.code;
      return item;
    }));
    this.root.querySelector("#warnings-box").hidden = result.warnings.length === 0;

    const names = new Map(result.sources.map((s) => [s.id, s.name || s.id]));
    const claimRows = result.claims.map((claim) => {
      const tr = document.createElement("tr");
      if (claim.outlier) tr.className = "outlier";
      tr.append(cell(String(claim.index + 1), "#"), cell(names.get(claim.source) || claim.source, "Source"),
        cell(describeClaim(claim) + (result.time ? momentText(claim) : ""), "Claim"));
      const shareCell = cell("", "Share", "share");
      const shareBar = document.createElement("span");
      shareBar.className = "bar";
      shareBar.style.setProperty("--share", String(Math.max(0, Math.min(1, claim.share ?? 0))));
      shareBar.setAttribute("aria-hidden", "true");
      const shareText = document.createElement("span");
      shareText.textContent = formatShare(claim.share ?? 0);
      shareCell.append(shareBar, shareText);
      tr.append(shareCell);
      const weight = cell("", "Sensitivity", "weight");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.setProperty("--share", String(Math.max(0, Math.min(1, claim.weight))));
      bar.setAttribute("aria-hidden", "true");
      const share = document.createElement("span");
      share.textContent = formatShare(claim.weight);
      weight.append(bar, share);
      tr.append(weight, cell(claim.estimate_without === null ? "–" : formatFigure(claim.estimate_without), "Without it"));
      let verdict = "consistent";
      if (claim.outlier) {
        verdict = claim.p_wrong !== null ? `outlier (${formatChance(claim.p_wrong)} likely wrong)` : "outlier";
      } else if (claim.p_wrong !== null && claim.p_wrong >= 0.5) {
        verdict = `doubtful (${formatChance(claim.p_wrong)} likely wrong)`;
      }
      tr.append(cell(verdict, "Verdict", claim.outlier ? "verdict flag" : "verdict"));
      return tr;
    });
    this.root.querySelector("#claims-table tbody").replaceChildren(...claimRows);

    const sourceRows = result.sources.map((source) => {
      const tr = document.createElement("tr");
      tr.append(cell(source.name || source.id, "Source"), cell(source.grade || "–", "Grade"),
        cell(formatShare(source.credibility), "Credibility"), cell(source.credibility_from, "From"));
      return tr;
    });
    this.root.querySelector("#sources-table tbody").replaceChildren(...sourceRows);
    this.body.hidden = false;
    this.root.setAttribute("aria-busy", "false");
    // The headline says it for sighted readers; the live sentence stays for screen readers.
    this.status.classList.add("sr-only");
    this.plotLoading();
    this.plot.alt = result.time
      ? `The claims at their dates, the estimate's course and its eventual total, and a forest plot of the claims. ${result.explanation}`
      : `Forest plot of the claims and the estimate. ${result.explanation}`;
  }

  /** The level on the estimate's date, the eventual total and the course, when it moves. */
  showTime(result, unit) {
    const time = result.time;
    const box = this.root.querySelector("#time-box");
    box.hidden = !time;
    if (!time) return;
    const level = result.estimate.value === null || result.estimate.value === undefined
      ? "No central figure"
      : figureWithRange(result.estimate, unit);
    this.root.querySelector("#time-level").textContent = time.at
      ? `On ${dateText(time.at)}: ${level}`
      : `No claim is dated: ${level}`;
    this.root.querySelector("#time-total").textContent = time.total
      ? `Eventual total: ${figureWithRange(time.total, unit)}`
      : "No claim speaks of the eventual total.";
    const widest = widestOf(time.trajectory[0]?.intervals);
    const heading = this.root.querySelector("#time-range-heading");
    heading.textContent = widest ? `${Math.round(widest.level * 100)}% range` : "Range";
    const row = (moment, label, className) => {
      const tr = document.createElement("tr");
      if (className) tr.className = className;
      const range = (moment.intervals || []).find((i) => widest && i.level === widest.level);
      const claims = moment.claims.map((i) => `#${i + 1}`).join(", ");
      tr.append(cell(label, "Date"), cell(formatFigure(moment.value), "Figure"),
        cell(range ? rangeText(range) : "–", heading.textContent), cell(claims || "–", "Claims"));
      return tr;
    };
    const rows = time.trajectory.map((moment) => row(
      moment,
      moment.date ? dateText(moment.date) : "no date given",
      moment.date && moment.date === time.at ? "at" : "",
    ));
    if (time.total) rows.push(row(time.total, "Eventual total", "total"));
    this.root.querySelector("#time-table tbody").replaceChildren(...rows);
  }

  plotLoading() {
    this.plot.hidden = true;
    this.plotLink.hidden = true;
    this.pngButton.hidden = true;
    this.plotStatus.textContent = "Drawing the plot…";
  }

  /** Show the plot from an SVG Blob. */
  showPlot(blob) {
    if (this.plotUrl) URL.revokeObjectURL(this.plotUrl);
    this.plotUrl = URL.createObjectURL(blob);
    this.plot.src = this.plotUrl;
    this.plot.hidden = false;
    this.plotLink.href = this.plotUrl;
    this.plotLink.hidden = false;
    this.pngButton.hidden = false;
    this.plotStatus.textContent = "";
  }

  plotFailed(problem) {
    this.plot.hidden = true;
    this.plotStatus.textContent = `The plot could not be drawn: ${problem.detail || problem.message}`;
  }
}

/** Offer a Blob as a download. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
