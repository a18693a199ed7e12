// What changed between two versions of a protocol: each added, removed or changed item, in words.
import { drawn, getJSON, pageParams, renderTable, say, withQuery } from "/static/js/hub.js";
import { showError, sortable } from "/static/js/ig-shared.js";

const KINDS = { added: "Added", removed: "Removed", changed: "Changed" };
const COLUMNS = [
  { key: "kind", label: "Change", format: (v) => KINDS[v] ?? v },
  { key: "within", label: "Part", format: (v) => v ?? "the protocol" },
  { key: "what", label: "What" },
  { key: "before", label: "Before", format: (v) => v ?? "" },
  { key: "after", label: "After", format: (v) => v ?? "" },
  { key: "words", label: "In words" },
];

async function main() {
  const container = document.getElementById("changes");
  const id = document.getElementById("protocol").dataset.protocol;
  const params = pageParams();
  if (!params.from || !params.to) {
    say(container, "Enter the two versions to compare.");
    drawn();
    return;
  }
  try {
    const path = withQuery(`/v1/ig/protocols/${encodeURIComponent(id)}/diff`, { from: params.from, to: params.to });
    const body = await getJSON(path);
    const caption = `Changes to ${body.id} from version ${body.from_version} to version ${body.to_version}`;
    if (body.changes.length === 0) {
      say(container, `Nothing changed from version ${body.from_version} to version ${body.to_version}.`);
    } else {
      sortable(renderTable(container, caption, COLUMNS, body.changes));
    }
  } catch (error) {
    say(container, "The changes could not be shown.");
    showError(error);
  }
  drawn();
}

main();
