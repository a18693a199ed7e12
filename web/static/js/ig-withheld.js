// Withheld events by reason: one table per reason the API gives, a page at a time, as CSV too.
import { drawn, getJSON, pageParams, renderTable, say, withQuery } from "/static/js/hub.js";
import { csvLink, pager, paging, pick, showError } from "/static/js/ig-shared.js";

const COLUMNS = [
  { key: "dataset", label: "Dataset" },
  { key: "partner", label: "Partner" },
  { key: "period", label: "Month" },
  { key: "events", label: "Events withheld", numeric: true },
];

async function main() {
  const container = document.getElementById("withheld");
  const params = pageParams();
  const query = { ...pick(params, ["from", "to", "partner"]), ...paging(params) };
  try {
    const rows = await getJSON(withQuery("/v1/ig/withheld", query));
    csvLink("withheld-csv", "/v1/ig/withheld", query);
    pager("withheld-pages", params, query, rows.length);
    if (rows.length === 0) {
      say(container, "No events were withheld for these filters.");
    } else {
      const reasons = [...new Set(rows.map((r) => r.code))];
      const parts = [];
      for (const reason of reasons) {
        const heading = document.createElement("h2");
        heading.className = "govuk-heading-m";
        heading.textContent = `Reason: ${reason}`;
        const holder = document.createElement("div");
        holder.dataset.reason = reason;
        renderTable(holder, `Events withheld as ${reason}`, COLUMNS, rows.filter((r) => r.code === reason));
        parts.push(heading, holder);
      }
      container.replaceChildren(...parts);
    }
  } catch (error) {
    say(container, "The withheld events could not be shown.");
    showError(error);
  }
  drawn();
}

main();
