// Retention: the field retention register (on a day), what retention runs removed and the records partners
// withdrew (over the page's days), each from its API endpoint.
import { drawn, getJSON, pageParams, renderTable, say, withQuery } from "/static/js/hub.js";
import { csvLink, dense, pick, showError, sortable } from "/static/js/ig-shared.js";

const REGISTER = [
  { key: "dataset", label: "Dataset" },
  { key: "field", label: "Field" },
  { key: "retention", label: "Kept for" },
  { key: "keep_until", label: "Kept until (loaded that day)" },
  { key: "clauses", label: "Given by", format: (v) => v.join(", ") },
];
const RUNS = [
  { key: "run_at", label: "Run at (UTC)", format: (v) => v.replace("T", " ").slice(0, 19) },
  { key: "today", label: "As of" },
  { key: "dataset", label: "Dataset" },
  { key: "field", label: "What was removed", format: (v) => v ?? "whole events" },
  { key: "deleted", label: "Events", numeric: true },
];
const RETRACTIONS = [
  { key: "day", label: "Day" },
  { key: "dataset", label: "Dataset" },
  { key: "partner", label: "Partner" },
  { key: "retractions", label: "Records withdrawn", numeric: true },
  { key: "removed", label: "Stored events deleted", numeric: true },
];

async function section(id, path, query, columns, caption, empty, csv) {
  const container = document.getElementById(id);
  try {
    const rows = await getJSON(withQuery(path, query));
    if (csv) csvLink(csv, path, query);
    if (rows.length === 0) say(container, empty);
    else sortable(dense(renderTable(container, caption, columns, rows)));
  } catch (error) {
    say(container, `${caption} could not be shown.`);
    showError(error);
  }
}

async function main() {
  const params = pageParams();
  const days = pick(params, ["from", "to"]);
  await section("register", "/v1/ig/retention", pick(params, ["on"]), REGISTER,
    "How long each field of each dataset is kept", "No protocol in force releases any field.");
  await section("runs", "/v1/ig/retention-runs", days, RUNS, "What retention runs removed",
    "No retention run removed anything in these days.", "runs-csv");
  await section("retractions", "/v1/ig/retractions", days, RETRACTIONS, "Records withdrawn by partners",
    "No records were withdrawn in these days.", "retractions-csv");
  drawn();
}

main();
