// The cohorts page: /v1/cohorts (reoffending cohorts by CSP, with the offenders not linked to an area) as a table,
// a chart and a CSV link.
import { csvURL, drawn, getJSON, markSuppressed, pageParams, renderTable, small, withQuery } from "/static/js/hub.js";
import { clause, chart, fixed, orSuppressed, showDownloads, showProblem } from "/static/js/analyst-figures.js";

const COLUMNS = [
  { key: "area_name", label: "Area", format: (v, r) => v ?? r.area_code ?? "Not linked to an area" },
  { key: "area_code", label: "Code" },
  { key: "cohort", label: "Cohort" },
  { key: "period", label: "Cohort period" },
  { key: "cohort_size", label: "Cohort size", numeric: true, format: orSuppressed() },
  { key: "reoffenders", label: "Reoffenders", numeric: true, format: orSuppressed() },
  { key: "rate", label: "Rate (%)", numeric: true, format: orSuppressed(fixed(1)) },
  { key: "predicted_rate", label: "Predicted rate (%)", numeric: true, format: orSuppressed(fixed(1)) },
  { key: "difference", label: "Difference (points)", numeric: true, format: orSuppressed(fixed(1)) },
];

async function main() {
  const { from, to, level, area, area_level, cohort } = pageParams();
  if (!from || !to) return;
  const params = { from, to, level, area, area_level, cohort };
  try {
    const body = await getJSON(withQuery("/v1/cohorts", params));
    document.getElementById("results").hidden = false;
    const rows = [...body.rows, ...body.unlinked];
    small(markSuppressed(renderTable(document.getElementById("table"), `Reoffending cohorts, ${from} to ${to}`, COLUMNS, rows)));
    document.getElementById("unlinked").textContent = body.unlinked.length
      ? `${body.unlinked.length} row(s) count offenders not linked to an area (“Not linked to an area” in the table).`
      : "Every offender in these cohorts was linked to an area.";
    document.getElementById("rule").textContent =
      `${body.definition} Disclosure control: ${clause(body.disclosure.rule)}; suppressed figures are shown as “suppressed”.`;
    const shown = body.rows.filter((r) => r.rate !== null);
    chart(document.getElementById("chart"), "Reoffending rate (bars) against the predicted rate (ticks), by area, cohort and period; the table has the exact figures", shown, (Plot) =>
      Plot.plot({
        width: 900,
        height: 320,
        x: { label: null },
        y: { grid: true, label: "Rate (%)" },
        fx: { label: null },
        marks: [
          Plot.barY(shown, { fx: (r) => r.area_name ?? r.area_code, x: (r) => `${r.cohort} ${r.period}`, y: "rate", fill: "cohort" }),
          Plot.tickY(shown.filter((r) => r.predicted_rate !== null), { fx: (r) => r.area_name ?? r.area_code, x: (r) => `${r.cohort} ${r.period}`, y: "predicted_rate", strokeWidth: 3 }),
        ],
      }),
    );
    showDownloads(document.getElementById("downloads"), [{ href: csvURL("/v1/cohorts", params), label: "Download this table (CSV)" }]);
  } catch (error) {
    showProblem(error);
  }
}

main().finally(drawn);
