// What every page's script shares: reading the API (as the signed-in person, by their session cookie), the CSRF
// token for requests that change state, the page's parameters in its URL (permalinks), and accessible tables.

/** The API's JSON answer for `path` (with its query); throws an Error carrying the problem's title and detail. */
export async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not a problem document */ }
    const error = new Error(problem.detail || problem.title || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

/** The session's CSRF token, for a state-changing request's `X-CSRF-Token` header. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** The page's parameters (its URL's query), as an object of strings. */
export function pageParams() {
  return Object.fromEntries(new URLSearchParams(window.location.search));
}

/** `path` with `params` (empty values left out) as its query. */
export function withQuery(path, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Replaces `container`'s content with a table: `columns` is a list of {key, label, numeric?, format?}; each row
 * an object. Cells are text (never HTML), so nothing an answer holds is interpreted as markup.
 */
export function renderTable(container, caption, columns, rows) {
  const table = document.createElement("table");
  table.className = "govuk-table";
  const cap = table.createCaption();
  cap.className = "govuk-table__caption govuk-table__caption--s";
  cap.textContent = caption;
  const head = table.createTHead().insertRow();
  head.className = "govuk-table__row";
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.className = "govuk-table__header" + (column.numeric ? " govuk-table__header--numeric" : "");
    th.textContent = column.label;
    head.appendChild(th);
  }
  const body = table.createTBody();
  body.className = "govuk-table__body";
  for (const row of rows) {
    const tr = body.insertRow();
    tr.className = "govuk-table__row";
    for (const column of columns) {
      const td = tr.insertCell();
      td.className = "govuk-table__cell" + (column.numeric ? " govuk-table__cell--numeric" : "");
      const value = column.format ? column.format(row[column.key], row) : row[column.key];
      td.textContent = value === null || value === undefined ? "" : String(value);
      td.dataset.key = column.key;
    }
  }
  container.replaceChildren(table);
  return table;
}

/** The performance mark a page sets once its main figure (the map's layer, the pack's table) is drawn. */
export const DRAWN_MARK = "hub:drawn";

/**
 * Tells the browser the page's figure is drawn: `performance.mark("hub:drawn")` (the paint benchmark,
 * benchmarks/web_paint.py, times it) and `data-hub-drawn` on the root element (browser tests wait for it).
 * A page script calls it after rendering, each time it renders; the first mark is the page's first drawing.
 */
export function drawn() {
  performance.mark(DRAWN_MARK);
  document.documentElement.dataset.hubDrawn = String(performance.getEntriesByName(DRAWN_MARK, "mark").length);
}
