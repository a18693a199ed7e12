// The access log: who queried what, when, with which protocols, for the page's filters; a page at a time, as CSV.
import { drawn, getJSON, pageParams, renderTable, say, withQuery } from "/static/js/hub.js";
import { csvLink, dense, pager, paging, pick, showError, sortable } from "/static/js/ig-shared.js";

const COLUMNS = [
  { key: "at", label: "When (UTC)", format: (v) => v.replace("T", " ").slice(0, 19) },
  { key: "org", label: "Organisation" },
  { key: "role", label: "Role" },
  { key: "endpoint", label: "Path" },
  { key: "query", label: "Query", format: (v) => new URLSearchParams(v).toString() },
  { key: "protocols", label: "Protocols", format: (v) => v.join(" ") },
  { key: "rows", label: "Rows", numeric: true },
  { key: "status", label: "Status", numeric: true },
];

async function main() {
  const container = document.getElementById("log");
  const params = pageParams();
  const query = { ...pick(params, ["org", "role", "path", "status", "from", "to"]), ...paging(params) };
  try {
    const rows = await getJSON(withQuery("/v1/ig/access-log", query));
    csvLink("csv", "/v1/ig/access-log", query);
    pager("log-pages", params, query, rows.length);
    if (rows.length === 0) {
      say(container, "No queries match these filters.");
    } else {
      sortable(dense(renderTable(container, "API queries, newest first", COLUMNS, rows)));
    }
  } catch (error) {
    say(container, "The access log could not be shown.");
    showError(error);
  }
  drawn();
}

main();
