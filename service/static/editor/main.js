// Wiring of the editors' page: the form, the reconcile call, the results and the plot.
// The stored-questions panel lives in stored.js and switches itself on only when the service
// offers /v1/questions; the "From an article" panel (drafts from POST /v1/extract) lives in
// article.js and fills the form.

import { postJSON, postPlot } from "./api.js";
import { initArticle } from "./article.js";
import { CaseForm, EXAMPLE, MOVING_EXAMPLE } from "./form.js";
import { download, Results } from "./results.js";
import { initStored } from "./stored.js";

const form = new CaseForm(document.getElementById("case"));
const results = new Results(document.getElementById("results"));
const submit = document.getElementById("submit");

/** The body last reconciled, for the PNG download. */
let lastBody = null;

/**
 * Reconcile what the form says (or `run` it another way, for a stored question) and show it.
 * `run()` returns {result, plot: () => Promise<Blob>}.
 */
async function reconcileAndShow(run) {
  form.clearErrors();
  submit.disabled = true;
  results.busy("Reconciling…");
  let answer;
  try {
    answer = await run();
  } catch (problem) {
    const count = Object.keys(problem.errors || {}).length;
    results.failed(count
      ? `Not reconciled: ${count === 1 ? "one problem needs" : `${count} problems need`} fixing in the form above.`
      : `Not reconciled: ${problem.detail || problem.message}`);
    form.showProblem(problem);
    return;
  } finally {
    submit.disabled = false;
  }
  results.show(answer.result);
  // Bring the answer into view without taking the focus from where the editor is.
  document.getElementById("results-h").scrollIntoView({ block: "start" });
  try {
    results.showPlot(await answer.plot("svg"));
  } catch (problem) {
    results.plotFailed(problem);
  }
}

function reconcileForm() {
  const body = form.toRequest();
  lastBody = { kind: "body", body };
  return reconcileAndShow(async () => ({
    result: await postJSON("/v1/reconcile", body),
    plot: (format) => postPlot(body, format),
  }));
}

document.getElementById("case").addEventListener("submit", (event) => {
  event.preventDefault();
  reconcileForm();
});

document.getElementById("load-example").addEventListener("click", () => {
  stored.leave();
  form.load(EXAMPLE);
  form.question.focus();
});

document.getElementById("load-moving-example").addEventListener("click", () => {
  stored.leave();
  form.load(MOVING_EXAMPLE);
  form.question.focus();
});

document.getElementById("clear").addEventListener("click", () => {
  stored.leave();
  form.clear();
  form.addSource();
  form.addClaim();
  form.question.focus();
});

document.getElementById("add-source").addEventListener("click", () => {
  form.addSource().querySelector("input").focus();
});

document.getElementById("add-claim").addEventListener("click", () => {
  form.addClaim().querySelector("select, input").focus();
});

document.getElementById("plot-png").addEventListener("click", async () => {
  if (!lastBody) return;
  try {
    const blob = lastBody.kind === "body"
      ? await postPlot(lastBody.body, "png")
      : await lastBody.plot("png");
    download(blob, "triangulate-plot.png");
  } catch (problem) {
    results.plotFailed(problem);
  }
});

const stored = initStored({
  form,
  results,
  show: (run, plot) => {
    lastBody = { kind: "stored", plot };
    return reconcileAndShow(run);
  },
});

initArticle({
  form,
  reconcile: () => {
    stored.leave();
    return reconcileForm();
  },
});

form.addSource();
form.addClaim();
