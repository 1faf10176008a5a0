// Reading what editors type, and writing numbers the way an article would.

const SUFFIX_EXPONENT = { k: 3, m: 6, b: 9, bn: 9 };
const NUMBER = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:e([+-]?\d+))?(k|m|bn|b)?$/i;

/**
 * A figure as typed ("12,000", "12k", "1.2m", "-3.5") as a number. Empty text gives undefined;
 * text that is not a figure is returned unchanged, so the service names the field and says what
 * is wrong with it.
 */
export function parseNumber(text) {
  const raw = String(text ?? "").trim();
  if (raw === "") return undefined;
  const match = raw.replace(/[\s,_\u00a0\u202f']/g, "").match(NUMBER);
  if (!match) return raw;
  // Through the exponent, so that "1.1k" is exactly 1100 rather than 1100.0000000000002.
  const exponent = Number(match[2] || 0) + (SUFFIX_EXPONENT[(match[3] || "").toLowerCase()] || 0);
  const value = Number(`${match[1]}e${exponent}`);
  return Number.isFinite(value) ? value : raw;
}

/** A probability as typed: "90%", "90" or "0.9" all give 0.9. */
export function parseProbability(text) {
  const raw = String(text ?? "").trim();
  if (raw === "") return undefined;
  const percent = raw.endsWith("%");
  const value = parseNumber(percent ? raw.slice(0, -1) : raw);
  if (typeof value !== "number") return raw;
  return percent || value > 1 ? Number(`${value}e-2`) : value;
}

/** Interval levels as typed ("50%, 90%") as a list, or undefined for the service's default. */
export function parseLevels(text) {
  const parts = String(text ?? "").split(/[,;\s]+/).filter((part) => part !== "");
  if (parts.length === 0) return undefined;
  return parts.map(parseProbability);
}

/** Levels back to text: [0.5, 0.9] gives "50%, 90%". */
export function formatLevels(levels) {
  return (levels || []).map((level) => `${Number((level * 100).toPrecision(6))}%`).join(", ");
}

const SIGNIFICANT = new Intl.NumberFormat("en", { maximumSignificantDigits: 3 });
const PLAIN = new Intl.NumberFormat("en", { maximumFractionDigits: 6 });

/** An estimate for reading: three significant digits with separators ("1,630"). */
export function formatFigure(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  for (const [size, word] of [[1e12, "trillion"], [1e9, "billion"], [1e6, "million"]]) {
    if (magnitude >= size) return `${SIGNIFICANT.format(value / size)} ${word}`;
  }
  return SIGNIFICANT.format(value);
}

/** A figure as the editor entered it, with separators ("12,000"). */
export function formatExact(value) {
  return value === null || value === undefined ? "" : PLAIN.format(value);
}

/** A share as a percentage ("96%", "<1%"). */
export function formatShare(share) {
  if (!(share > 0)) return "0%";
  if (share < 0.005) return "<1%";
  return `${Math.round(share * 100)}%`;
}

/**
 * The model's probability that a claim is wrong ("62%", ">99%", "<1%"): never "100%" or "0%",
 * since the posterior is never exactly certain; as the answer's words print it
 * (models.wording.chance).
 */
export function formatChance(p) {
  if (p >= 0.995) return ">99%";
  if (!(p >= 0.005)) return "<1%";
  return `${Math.round(p * 100)}%`;
}

const FIELD_NAMES = {
  value: "value", low: "from", high: "to", sd: "standard deviation", ci_low: "interval from",
  ci_high: "interval to", ci_level: "interval level", source: "source", kind: "kind",
  hedge: "hedge", origin: "origin", as_of: "date", quote: "quote", url: "link", id: "id",
  name: "name", type: "type", reliability: "grade", question: "question", unit: "unit",
  scale: "scale", method: "method", levels: "ranges", tau2_method: "τ² method",
  ci_method: "interval method", dynamics: "over time", at: "estimate on", horizon: "speaks of",
  drift: "drift",
};

/** A field path of the API ("claims.2.value") in words ("Claim 3, value"). */
export function describePath(path) {
  if (path === "_schema") return "The request";
  const parts = path.split(".");
  const words = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i];
    const next = parts[i + 1];
    if ((part === "claims" || part === "sources") && next !== undefined && /^\d+$/.test(next)) {
      words.push(`${part === "claims" ? "Claim" : "Source"} ${Number(next) + 1}`);
      i += 1;
    } else if (/^\d+$/.test(part)) {
      words.push(`item ${Number(part) + 1}`);
    } else {
      words.push(FIELD_NAMES[part] || part.replaceAll("_", " "));
    }
  }
  const text = words.join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `n` and its noun, plural unless `n` is 1: countOf(3, "claim") is "3 claims". */
export function countOf(n, noun, plural = `${noun}s`) {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A short, unique-looking id from a name ("South Korea NIS" gives "south-korea-nis"). */
export function slug(name) {
  return String(name || "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}
