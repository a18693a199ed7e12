// What the IG console's page scripts share: the error summary, linked cells, sortable tables, CSV links and
// paging. Every figure comes from the API; nothing here counts.
import { csvURL, errorSummary, small, withQuery } from "/static/js/hub.js";

/** Rows per page the IG pages ask the API for, unless the page's URL says `limit`. */
export const PAGE_SIZE = 100;

/** Shows a problem the API answered (its title or detail) in a GOV.UK error summary at the top of the page. */
export function showError(error) {
  const summary = errorSummary([error.message]);
  document.getElementById("errors").appendChild(summary);
  summary.focus();
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
  small(table);
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
  if (link) link.href = csvURL(path, params);
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
