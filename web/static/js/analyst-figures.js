// What the analyst's figure pages (scorecard, hot spots, repeats, cohorts, the performance pack) share: showing the
// API's problems, suppressed cells, the RAG tag, direction-of-travel arrows, download links, charts and the hot-spot
// map. Every figure shown is a value of an API answer; nothing here computes a count.
import { markSuppressed, renderTable, small } from "/static/js/hub.js";

/** Shows an API problem (its title/detail) in the page's GOV.UK error summary, `where` naming the section. */
export function showProblem(error, where = "") {
  const summary = document.getElementById("problems");
  const item = document.createElement("li");
  item.textContent = where ? `${where}: ${error.message}` : error.message;
  document.getElementById("problem-list").appendChild(item);
  summary.hidden = false;
  summary.focus?.();
}

/** A count or figure as the table shows it: null (suppressed by disclosure control) says so, never 0 or blank. */
export function orSuppressed(format = (v) => String(v)) {
  return (value) => (value === null || value === undefined ? "suppressed" : format(value));
}

/** An API sentence (a rule's description) without its full stop, to go inside a sentence of the page's. */
export function clause(text) {
  return String(text ?? "").replace(/\.\s*$/, "");
}

/** A comparison period's count (GET /v1/trends): the count, else why there is none (its note, or suppressed). */
export function comparedCount(comparison) {
  return comparison.count === null ? (comparison.note ?? "suppressed") : String(comparison.count);
}

/** A figure to `places` decimal places (the API's exact figure is in the CSV). */
export function fixed(places) {
  return (value) => (value === null || value === undefined ? "" : Number(value).toFixed(places));
}

const RAG_TAG = { green: "govuk-tag--green", amber: "govuk-tag--orange", red: "govuk-tag--red", grey: "govuk-tag--grey" };

/** Turns the text of each `data-key="rag"` cell into a GOV.UK tag of the RAG colour; the word stays as the text. */
function ragTags(table) {
  for (const cell of table.querySelectorAll('td[data-key="rag"]')) {
    const word = cell.textContent;
    if (!word) continue;
    const tag = document.createElement("strong");
    tag.className = `govuk-tag ${RAG_TAG[word] ?? "govuk-tag--grey"}`;
    tag.textContent = word;
    cell.replaceChildren(tag);
  }
}

/** The direction of travel in words, with an arrow for the change in the figure (up, down or level). */
function travel(row) {
  if (!row.direction_of_travel) return "";
  const arrow = row.change > 0 ? "↑" : row.change < 0 ? "↓" : "→";
  return `${row.direction_of_travel} ${arrow}`;
}

/** The scorecard's rows as a table (one row per indicator): actual, target, RAG, direction, provisional. */
export function renderScorecard(container, caption, body) {
  const columns = [
    { key: "title", label: "Indicator" },
    {
      key: "period",
      label: "Period (financial year)",
      format: (_, r) => (r.period_start ? `${r.period_start} to ${r.period_end} (${r.financial_year})` : ""),
    },
    { key: "actual", label: "Actual", numeric: true, format: (v, r) => (r.status === "ok" ? fixed(1)(v) : "not available") },
    { key: "count", label: "Count", numeric: true },
    { key: "target", label: "Target", numeric: true, format: fixed(1) },
    { key: "rag", label: "RAG" },
    { key: "direction_of_travel", label: "Direction of travel", format: (_, r) => travel(r) },
    { key: "previous", label: "Previous 12 months", numeric: true, format: fixed(1) },
    { key: "change_pct", label: "Change (%)", numeric: true, format: fixed(1) },
    { key: "provisional", label: "Provisional", format: (v) => (v === null || v === undefined ? "" : v ? "Yes" : "No") },
    { key: "reason", label: "Not available because", format: (v, r) => (r.status === "ok" ? "" : v) },
  ];
  const table = renderTable(container, caption, columns, body.rows);
  ragTags(small(table));
  return table;
}

/** A link that downloads `href` (a CSV or GeoJSON answer of the API), saying `label`. */
export function downloadLink(href, label) {
  const link = document.createElement("a");
  link.className = "govuk-link";
  link.href = href;
  link.textContent = label;
  link.setAttribute("download", "");
  return link;
}

/** Replaces `container`'s content with download links ({href, label}) and shows it. */
export function showDownloads(container, links) {
  container.replaceChildren();
  links.forEach(({ href, label }, i) => {
    if (i) container.append(" ");
    container.append(downloadLink(href, label));
  });
  container.hidden = false;
}

/**
 * Puts an Observable Plot chart (made by `make(Plot)`) of `rows` in `container` as a decorative figure beside its
 * table; with no row to draw (every figure suppressed), only a line saying so.
 */
export function chart(container, caption, rows, make) {
  if (!rows.length) {
    const none = document.createElement("p");
    none.className = "govuk-body-s";
    none.textContent = "No chart: no figure to draw (each is suppressed or missing; the table says which).";
    container.replaceChildren(none);
    return none;
  }
  const figure = document.createElement("figure");
  if (window.Plot) {
    const plot = make(window.Plot);
    plot.setAttribute("aria-hidden", "true");
    figure.append(plot);
  }
  const cap = document.createElement("figcaption");
  cap.className = "govuk-body-s";
  cap.textContent = caption;
  figure.append(cap);
  container.replaceChildren(figure);
  return figure;
}

/** Hot spot classes (ArcGIS Gi_Bin) and their fills, hottest first; the legend names each in words. */
export const GI_BINS = [
  [3, "Hot spot, 99% confidence", "#b21f1f"],
  [2, "Hot spot, 95% confidence", "#e0604a"],
  [1, "Hot spot, 90% confidence", "#f4a582"],
  [0, "Not significant", "#f3f2f1"],
  [-1, "Cold spot, 90% confidence", "#92c5de"],
  [-2, "Cold spot, 95% confidence", "#4393c3"],
  [-3, "Cold spot, 99% confidence", "#2166ac"],
];

/** The hot spots' table: each area's released count (suppressed shown as such), Gi* z-score, p-values and class. */
export function renderHotspotTable(container, caption, body) {
  const rows = body.features.map((f) => f.properties);
  const columns = [
    { key: "name", label: "Area" },
    { key: "code", label: "Code" },
    { key: "count", label: "Count", numeric: true, format: orSuppressed() },
    { key: "gi_count", label: "Count used by Gi*", numeric: true },
    { key: "z_score", label: "z-score", numeric: true, format: fixed(2) },
    { key: "p_value", label: "p-value", numeric: true, format: fixed(3) },
    { key: "p_sim", label: "Permutation p-value", numeric: true, format: fixed(3) },
    { key: "classification", label: "Class" },
  ];
  return small(markSuppressed(renderTable(container, caption, columns, rows)));
}

/** The hot spots on a Leaflet map in `element` (the legend in `legend`); no basemap unless the page names one. */
export function hotspotMap(element, legend, body) {
  legend.replaceChildren();
  for (const [, label, fill] of GI_BINS) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.style.cssText = `display: inline-block; width: 1.2em; height: 1em; border: 1px solid #0b0c0c; vertical-align: middle; background: ${fill}`;
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, ` ${label}`);
    legend.append(item);
  }
  if (!window.L || !body.features.length) return null;
  element.hidden = false;
  // Decorative beside its table (aria-hidden): nothing in it may take the keyboard's focus, so no zoom or
  // attribution links and no keyboard handler (the footer carries the data's attribution).
  const map = window.L.map(element, { zoomControl: false, attributionControl: false, keyboard: false, scrollWheelZoom: false });
  const basemap = element.dataset.basemap;
  if (basemap) window.L.tileLayer(basemap, { maxZoom: 18 }).addTo(map);
  const fills = Object.fromEntries(GI_BINS.map(([bin, , fill]) => [bin, fill]));
  const layer = window.L.geoJSON(body, {
    style: (f) => ({ color: "#0b0c0c", weight: 1, fillOpacity: 0.8, fillColor: fills[f.properties.gi_bin] ?? "#f3f2f1" }),
  }).addTo(map);
  map.fitBounds(layer.getBounds());
  return map;
}
