// The hot spots page: /v1/hotspots (GeoJSON) for the page's parameters, as a map, its legend and the table.
import { csvURL, drawn, getJSON, pageParams, withQuery } from "/static/js/hub.js";
import { clause, hotspotMap, renderHotspotTable, showDownloads, showProblem } from "/static/js/analyst-figures.js";

async function main() {
  const { dataset, from, to, area, area_level, level, category } = pageParams();
  if (!dataset || !from || !to || !area) return;
  const params = { dataset, from, to, area, area_level, level, category };
  const path = withQuery("/v1/hotspots", params);
  try {
    const body = await getJSON(path);
    document.getElementById("results").hidden = false;
    renderHotspotTable(
      document.getElementById("table"),
      `Gi* hot spots of ${body.datasets.join(", ")}, ${body.period}, ${body.level} level`,
      body,
    );
    const rule = document.getElementById("rule");
    rule.textContent = `Counts released under ${clause(body.disclosure.rule)}. Gi* used the ${clause(body.method.counts)}.`;
    hotspotMap(document.getElementById("map"), document.getElementById("legend"), body);
    showDownloads(document.getElementById("downloads"), [
      { href: csvURL("/v1/hotspots", params), label: "Download this table (CSV)" },
      { href: path, label: "Download the map (GeoJSON)" },
    ]);
  } catch (error) {
    showProblem(error);
  }
}

main().finally(drawn);
