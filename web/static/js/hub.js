// What every page's script shares: reading the API (as the signed-in person, by their session cookie), the CSRF
// token for requests that change state, the page's parameters in its URL (permalinks), accessible tables (their
// suppressed cells), summary lists, the error summary and the figure's text. Nothing here computes a count.

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

/** `path` with `params` as its query: arrays repeat their name (area=a&area=b); empty values are left out. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== "") query.append(name, String(one));
    }
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** `path`'s CSV form: the same API call with format=csv (exactly the rows the page shows). */
export function csvURL(path, params) {
  return withQuery(path, { ...params, format: "csv" });
}

/** The month `count` months after (or before, when negative) a YYYY-MM month. */
export function addMonths(month, count) {
  const [year, number] = month.split("-").map(Number);
  const index = year * 12 + (number - 1) + count;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** The text a figure is shown as: "suppressed" for a figure the API suppressed (null), never 0 or blank. */
export function figure(value, digits) {
  if (value === null || value === undefined) return "suppressed";
  return typeof value === "number" && digits !== undefined ? value.toFixed(digits) : String(value);
}

/**
 * Marks the cells showing "suppressed" (hatched by the style sheet; the word stays as the text): every cell, or
 * only column `key`'s.
 */
export function markSuppressed(table, key) {
  for (const cell of table.querySelectorAll(key ? `td[data-key="${key}"]` : "td")) {
    if (cell.textContent === "suppressed") cell.classList.add("hub-suppressed");
  }
  return table;
}

/** A dense table in GOV.UK's 16px type, so that its many columns fit the page's width. */
export function small(table) {
  table.classList.add("govuk-!-font-size-16");
  return table;
}

/** Replaces a container's content with a paragraph (e.g. "No events in these months."). */
export function say(container, text) {
  const p = document.createElement("p");
  p.className = "govuk-body";
  p.textContent = text;
  container.replaceChildren(p);
}

/**
 * A GOV.UK error summary ("There is a problem") listing `items` (text), focusable as GOV.UK's is, so that the page
 * can focus it and screen readers announce it first.
 */
export function errorSummary(items) {
  const summary = document.createElement("div");
  summary.className = "govuk-error-summary";
  summary.dataset.module = "govuk-error-summary";
  summary.tabIndex = -1;
  const alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  const title = document.createElement("h2");
  title.className = "govuk-error-summary__title";
  title.textContent = "There is a problem";
  const body = document.createElement("div");
  body.className = "govuk-error-summary__body";
  const list = document.createElement("ul");
  list.className = "govuk-list govuk-error-summary__list";
  for (const text of items) {
    const item = document.createElement("li");
    item.textContent = text;
    list.appendChild(item);
  }
  body.appendChild(list);
  alert.append(title, body);
  summary.appendChild(alert);
  return summary;
}

/**
 * The rows of a GOV.UK summary list, one per [label, value]: a value that is a list of more than one shows as a
 * list, an empty list as "None".
 */
export function summaryRows(rows) {
  return rows.map(([label, value]) => {
    const row = document.createElement("div");
    row.className = "govuk-summary-list__row";
    const dt = document.createElement("dt");
    dt.className = "govuk-summary-list__key";
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.className = "govuk-summary-list__value";
    const lines = Array.isArray(value) ? value : [value];
    if (lines.length > 1) {
      const list = document.createElement("ul");
      list.className = "govuk-list";
      for (const line of lines) {
        const li = document.createElement("li");
        li.textContent = line;
        list.appendChild(li);
      }
      dd.appendChild(list);
    } else {
      dd.textContent = lines.length ? String(lines[0]) : "None";
    }
    row.append(dt, dd);
    return row;
  });
}

/** A GOV.UK summary list (`dl`, its id `id` if given) of `rows` ([label, value]; see summaryRows). */
export function summaryList(rows, id) {
  const dl = document.createElement("dl");
  dl.className = "govuk-summary-list";
  if (id) dl.id = id;
  dl.append(...summaryRows(rows));
  return dl;
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
