// What the analyst's map and trends pages share: the choices the API offers the caller (GET /v1/datasets), the
// areas they serve (GET /v1/areas), the form filled from the page's URL (its permalink), comparisons in words,
// and problems shown in the GOV.UK error summary.
import { addMonths, withQuery } from "/static/js/hub.js";

/** Shows an API problem (or any error) in the page's error summary, and says so in the status line. */
export function showProblem(error) {
  const summary = document.getElementById("problem");
  document.getElementById("problem-detail").textContent = error.message || String(error);
  summary.hidden = false;
  summary.focus?.();
  setStatus("");
}

/** The page's status line (loading, or what is shown). */
export function setStatus(text) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.hidden = !text;
}

function option(select, value, label, selected) {
  const found = document.createElement("option");
  found.value = value;
  found.textContent = label;
  found.selected = selected;
  select.appendChild(found);
}

/**
 * Fills the dataset and category choices from `datasets` (GET /v1/datasets) and returns the query the page shows:
 * the URL's parameters, or where absent the first dataset with events, its last 12 months, `defaults` for the rest.
 */
export function fillForm(params, datasets, defaults) {
  const withEvents = datasets.filter((d) => d.last_month);
  const chosen =
    datasets.find((d) => d.dataset === params.dataset) || withEvents.find((d) => d.kind === "event") || withEvents[0] || datasets[0];
  const datasetSelect = document.getElementById("dataset");
  datasetSelect.replaceChildren();
  for (const entry of datasets) option(datasetSelect, entry.dataset, entry.title, entry === chosen);
  const state = { ...defaults };
  for (const name of Object.keys(defaults)) if (params[name]) state[name] = params[name];
  if (!chosen) return state;
  state.dataset = chosen.dataset;
  const categorySelect = document.getElementById("category");
  categorySelect.replaceChildren();
  option(categorySelect, "", "All categories", !params.category);
  for (const category of chosen.categories) option(categorySelect, category, category, category === params.category);
  categorySelect.disabled = !chosen.by_category;
  state.category = chosen.by_category && chosen.categories.includes(params.category) ? params.category : "";
  const levelSelect = document.getElementById("level");
  for (const entry of levelSelect.options) entry.disabled = !chosen.levels.includes(entry.value);
  if (!params.level && !chosen.levels.includes(state.level)) {
    state.level = [...levelSelect.options].map((o) => o.value).find((v) => chosen.levels.includes(v)) || state.level;
  }
  levelSelect.value = state.level;
  state.to = params.to || chosen.last_month || "";
  state.from = params.from || (chosen.first_month && state.to ? maxMonth(chosen.first_month, addMonths(state.to, -11)) : "");
  document.getElementById("from").value = state.from;
  document.getElementById("to").value = state.to;
  return state;
}

function maxMonth(a, b) {
  return a > b ? a : b;
}

/** The caller's own areas as the query bounds them: the declared codes at their level (none: not bounded). */
export function boundingAreas(areas) {
  const [first] = areas.declared || [];
  if (!first) return {};
  const codes = [...new Set(areas.declared.filter((d) => d.level === first.level).flatMap((d) => d.codes))].sort();
  return { area: codes, area_level: first.level };
}

/** Keeps the query shown in the URL (so the address is the permalink) and points the permalink link at it. */
export function keepPermalink(state) {
  const url = withQuery(window.location.pathname, state);
  window.history.replaceState(null, "", url);
  const link = document.getElementById("permalink");
  link.href = url;
}

/** A comparison as text: the change, % change, significance and "indicative", or why there is none. */
export function change(c) {
  if (!c || c.absolute_change === null) return c?.note || (c?.count === null ? "suppressed" : "no change");
  const sign = c.absolute_change > 0 ? "+" : "";
  const percent = c.percent_change === null ? "" : ` (${sign}${c.percent_change.toFixed(1)}%)`;
  const flags = [c.significant ? "significant" : "not significant", c.indicative ? "indicative" : ""].filter(Boolean);
  return `${sign}${c.absolute_change}${percent}, ${flags.join(", ")}`;
}

/** A comparison period's count as text: the count, "no data" before the first month with data, else "suppressed". */
export function comparedCount(c) {
  if (c.count !== null) return String(c.count);
  return c.note?.startsWith("before the first month") ? "no data" : "suppressed";
}

/** `text` as a sentence: ending in one full stop. */
export function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
