// Flows: events released per protocol clause, partner, recipient and month, and the events withheld with their
// reasons, for the page's days, partner and recipient; a page at a time, each as CSV too.
import { drawn, figure, getJSON, markSuppressed, pageParams, renderTable, say, withQuery } from "/static/js/hub.js";
import { csvLink, dense, pager, paging, pick, showError, sortable } from "/static/js/ig-shared.js";

const FLOWS = [
  { key: "protocol", label: "Protocol" },
  { key: "clause", label: "Clause" },
  { key: "partner", label: "Partner" },
  { key: "recipient", label: "Recipient" },
  { key: "period", label: "Month" },
  { key: "events", label: "Events released", numeric: true, format: (v) => figure(v) },
];
const WITHHELD = [
  { key: "code", label: "Reason" },
  { key: "dataset", label: "Dataset" },
  { key: "partner", label: "Partner" },
  { key: "period", label: "Month" },
  { key: "events", label: "Events withheld", numeric: true },
];

async function section(id, path, query, pageParamsOf, columns, caption, empty) {
  const container = document.getElementById(id);
  const rows = await getJSON(withQuery(path, query));
  csvLink(`${id}-csv`, path, query);
  pager(`${id}-pages`, pageParamsOf, { limit: query.limit, offset: query.offset }, rows.length, id === "withheld" ? "withheld_" : "");
  if (rows.length === 0) {
    say(container, empty);
    return;
  }
  const table = renderTable(container, caption, columns, rows);
  markSuppressed(table, "events");
  dense(table);
  sortable(table);
}

async function main() {
  const params = pageParams();
  const filters = pick(params, ["from", "to", "partner", "recipient"]);
  try {
    await section(
      "flows",
      "/v1/ig/flows",
      { ...filters, ...paging(params) },
      params,
      FLOWS,
      "Events released, by protocol clause, partner, recipient and month (suppressed: below the clause's disclosure rule for that recipient)",
      "No events were released for these filters.",
    );
    await section(
      "withheld",
      "/v1/ig/withheld",
      { ...pick(params, ["from", "to", "partner"]), ...paging(params, "withheld_") },
      params,
      WITHHELD,
      "Events withheld, by reason, dataset, partner and month",
      "No events were withheld for these filters.",
    );
  } catch (error) {
    showError(error);
    for (const id of ["flows", "withheld"]) {
      const container = document.getElementById(id);
      if (container.querySelector("table") === null) say(container, "These figures could not be shown.");
    }
  }
  drawn();
}

main();
