// The repeats page: /v1/repeats (domestic abuse repeat victimisation, or the MARAC repeat rate) as a table, a chart
// and a CSV link.
import { csvURL, drawn, getJSON, markSuppressed, pageParams, renderTable, small, withQuery } from "/static/js/hub.js";
import { clause, chart, fixed, orSuppressed, showDownloads, showProblem } from "/static/js/analyst-figures.js";

const AREA = [
  { key: "area_name", label: "Area", format: (v, r) => v ?? r.area_code ?? "Not located at this level" },
  { key: "area_code", label: "Code" },
];
const COLUMNS = {
  domestic_abuse: [
    ...AREA,
    { key: "month", label: "Month" },
    { key: "incidents", label: "Incidents", numeric: true, format: orSuppressed() },
    { key: "repeat_incidents", label: "Repeat incidents", numeric: true, format: orSuppressed() },
    { key: "repeat_percent", label: "Repeat (%)", numeric: true, format: orSuppressed(fixed(1)) },
    { key: "without_victim_pseudonym", label: "No victim link", numeric: true, format: orSuppressed() },
  ],
  marac: [
    { key: "marac_area", label: "MARAC" },
    ...AREA,
    { key: "period", label: "12 months" },
    { key: "cases", label: "Cases", numeric: true, format: orSuppressed() },
    { key: "repeat_cases", label: "Repeat cases", numeric: true, format: orSuppressed() },
    { key: "repeat_rate", label: "Repeat rate (%)", numeric: true, format: orSuppressed(fixed(1)) },
    { key: "unlinked_cases", label: "Unlinked cases", numeric: true, format: orSuppressed() },
    { key: "information_only", label: "Information only", numeric: true, format: orSuppressed() },
  ],
};

async function main() {
  const { measure, from, to, level, area, area_level } = pageParams();
  if (!measure || !from || !to) return;
  const params = { measure, from, to, level, area, area_level };
  try {
    const body = await getJSON(withQuery("/v1/repeats", params));
    const rows = [...body.rows, ...body.unlocated];
    document.getElementById("results").hidden = false;
    const title = body.measure === "marac" ? "MARAC repeat rate" : "Domestic abuse repeat victimisation";
    small(markSuppressed(renderTable(document.getElementById("table"), `${title}, ${from} to ${to}`, COLUMNS[body.measure], rows)));
    document.getElementById("rule").textContent =
      `${body.definition} Disclosure control: ${clause(body.disclosure.rule)}; suppressed figures are shown as “suppressed”.`;
    const [x, y] = body.measure === "marac" ? ["period", "repeat_rate"] : ["month", "repeat_percent"];
    const shown = body.rows.filter((r) => r[y] !== null);
    chart(document.getElementById("chart"), `${title} (%), by ${x === "period" ? "12 months ending" : "month"} and area; the table has the exact figures`, shown, (Plot) =>
      Plot.plot({
        width: 900,
        height: 320,
        y: { grid: true, label: y === "repeat_rate" ? "Repeat rate (%)" : "Repeat (%)" },
        color: { legend: true },
        marks: [
          Plot.lineY(shown, { x, y, stroke: (r) => r.area_name ?? r.marac_area ?? "all" }),
          Plot.dot(shown, { x, y, fill: (r) => r.area_name ?? r.marac_area ?? "all" }),
        ],
      }),
    );
    showDownloads(document.getElementById("downloads"), [{ href: csvURL("/v1/repeats", params), label: "Download this table (CSV)" }]);
  } catch (error) {
    showProblem(error);
  }
}

main().finally(drawn);
