// The public API, and nothing else: every call is a fetch() to /v1/... on this origin.
// Failures become a Problem carrying the RFC 9457 document the service sent (status, title,
// detail and, for a 422, `errors` mapping field paths such as "claims.2.value" to messages).

export const PROBLEM_TYPE = "application/problem+json";

export class Problem extends Error {
  constructor(document) {
    super(document.detail || document.title || "Request failed");
    this.status = document.status || 0;
    this.title = document.title || "Error";
    this.detail = document.detail || "";
    this.errors = document.errors || {};
    this.type = document.type || "about:blank";
  }
}

function headers(key, extra = {}) {
  const result = { ...extra };
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

async function failure(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return new Problem(await response.json());
    } catch {
      // fall through to the plain description
    }
  }
  return new Problem({
    status: response.status,
    title: response.statusText || "Error",
    detail: `The service answered ${response.status} ${response.statusText}.`,
  });
}

async function send(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Problem({
      status: 0,
      title: "Cannot reach the service",
      detail: `The request to ${path} did not get through (${error.message}).`,
    });
  }
  if (!response.ok) throw await failure(response);
  return response;
}

/** GET a JSON document. */
export async function getJSON(path, { key } = {}) {
  const response = await send(path, { headers: headers(key, { Accept: "application/json" }) });
  return response.json();
}

/** POST a JSON body and read the JSON answer. */
export async function postJSON(path, body, { key } = {}) {
  const response = await send(path, {
    method: "POST",
    headers: headers(key, { "Content-Type": "application/json", Accept: "application/json" }),
    body: JSON.stringify(body),
  });
  return response.json();
}

/** The forest plot of a reconcile request body, as a Blob of the given format. */
export async function postPlot(body, format = "svg") {
  const accept = format === "png" ? "image/png" : "image/svg+xml";
  const response = await send("/v1/reconcile/plot", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: accept },
    body: JSON.stringify(body),
  });
  return response.blob();
}

/** GET an image (a stored question's plot) as a Blob. */
export async function getImage(path, format = "svg", { key } = {}) {
  const accept = format === "png" ? "image/png" : "image/svg+xml";
  const response = await send(path, { headers: headers(key, { Accept: accept }) });
  return response.blob();
}
