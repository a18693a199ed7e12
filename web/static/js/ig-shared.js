// What the IG console's page scripts share: the error summary, suppressed cells, sortable tables, CSV links and
// paging. Every figure comes from the API; nothing here counts.
import { withQuery } from "/static/js/hub.js";

/** Rows per page the IG pages ask the API for, unless the page's URL says `limit`. */
export const PAGE_SIZE = 100;

/** Shows a problem the API answered (its title or detail) in a GOV.UK error summary at the top of the page. */
export function showError(error) {
  const box = document.getElementById("errors");
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
  const item = document.createElement("li");
  item.textContent = error.message;
  list.appendChild(item);
  body.appendChild(list);
  alert.append(title, body);
  summary.appendChild(alert);
  box.appendChild(summary);
  summary.focus();
}

/** Replaces a results container's content with a paragraph (e.g. "No events in these months."). */
export function say(container, text) {
  const p = document.createElement("p");
  p.className = "govuk-body";
  p.textContent = text;
  container.replaceChildren(p);
}

/** A count's text: the number, or "suppressed" when the API suppressed it (never 0 or blank). */
export function count(value) {
  return value === null || value === undefined ? "suppressed" : String(value);
}

/** Marks the cells of column `key` that say "suppressed" with the hatched style (their text stays). */
export function markSuppressed(table, key) {
  for (const cell of table.querySelectorAll(`td[data-key="${key}"]`)) {
    if (cell.textContent === "suppressed") cell.classList.add("hub-suppressed");
  }
}

/** Turns the text of column `key`'s cells into links to `href(text)`. */
export function linkCells(table, key, href) {
  for (const cell of table.querySelectorAll(`td[data-key="${key}"]`)) {
    const text = cell.textContent;
    if (!text) continue;
    const link = document.createElement("a");
    link.className = "govuk-link";
    link.href = href(text);
    link.textContent = text;
    cell.replaceChildren(link);
  }
}

/** A dense table: smaller text, and the cells of columns `lines` keep their line breaks (one item a line). */
export function dense(table, lines = []) {
  table.classList.add("govuk-!-font-size-16");
  for (const key of lines) {
    for (const cell of table.querySelectorAll(`td[data-key="${key}"]`)) cell.style.whiteSpace = "pre-line";
  }
  return table;
}

/** Makes a table sortable by its columns (the MOJ Pattern Library's sortable table), where that script loads. */
export function sortable(table) {
  table.dataset.module = "moj-sortable-table";
  for (const th of table.querySelectorAll("thead th")) th.setAttribute("aria-sort", "none");
  import("/assets/moj/moj-frontend.min.js")
    .then((moj) => new moj.SortableTable(table))
    .catch(() => { /* the table stays as it is, unsorted but complete */ });
}

/** Points the link `id` at the API call `path` with `params` as CSV: exactly the rows the page shows. */
export function csvLink(id, path, params) {
  const link = document.getElementById(id);
  if (link) link.href = withQuery(path, { ...params, format: "csv" });
}

/** The parameters of `params` named in `keys` (the API call's part of the page's URL). */
export function pick(params, keys) {
  return Object.fromEntries(keys.filter((k) => params[k]).map((k) => [k, params[k]]));
}

/** `params` with the page's `limit` (default PAGE_SIZE) and `offset` (default 0), prefixed `prefix` in the URL. */
export function paging(params, prefix = "") {
  return { limit: params[`${prefix}limit`] || String(PAGE_SIZE), offset: params[`${prefix}offset`] || "0" };
}

/**
 * Fills the pagination `nav` with Previous / Next links: the page's URL with another offset. Next is offered
 * when the API gave a full page (`rows` equal to the limit).
 */
export function pager(navId, pageParams, page, rows, prefix = "") {
  const nav = document.getElementById(navId);
  if (!nav) return;
  const limit = Number(page.limit);
  const offset = Number(page.offset);
  const links = [];
  const link = (label, to, rel) => {
    const div = document.createElement("div");
    div.className = `govuk-pagination__${rel}`;
    const a = document.createElement("a");
    a.className = "govuk-link govuk-pagination__link";
    a.rel = rel;
    a.href = withQuery(window.location.pathname, { ...pageParams, [`${prefix}offset`]: String(to) });
    const span = document.createElement("span");
    span.className = "govuk-pagination__link-title";
    span.textContent = label;
    a.appendChild(span);
    div.appendChild(a);
    links.push(div);
  };
  if (offset > 0) link("Previous page", Math.max(0, offset - limit), "prev");
  if (rows >= limit) link("Next page", offset + limit, "next");
  nav.replaceChildren(...links);
  nav.hidden = links.length === 0;
}
