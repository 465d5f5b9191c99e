// Parse BPMN / DMN files with bpmn-moddle / dmn-moddle (the libraries bpmn.io and Camunda
// Modeler use) and print one JSON line per file: {file, kind, ok, warnings, error, elements}.
//   node scripts/check_moddle.mjs out/flow.bpmn out/rules.dmn
import { readFile } from "node:fs/promises";
import { BpmnModdle } from "bpmn-moddle";
import { DmnModdle } from "dmn-moddle";

let failed = false;
for (const file of process.argv.slice(2)) {
  const xml = await readFile(file, "utf8");
  const kind = file.endsWith(".dmn") ? "dmn" : "bpmn";
  const moddle = kind === "dmn" ? new DmnModdle() : new BpmnModdle();
  try {
    const { rootElement, warnings } = await moddle.fromXML(xml, "bpmn:Definitions".replace("bpmn", kind));
    const count = JSON.stringify(rootElement, (k, v) => (k === "$parent" ? undefined : v)).split('"$type"').length - 1;
    const out = { file, kind, ok: warnings.length === 0, warnings: warnings.map((w) => w.message), elements: count };
    failed ||= !out.ok;
    console.log(JSON.stringify(out));
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ file, kind, ok: false, warnings: [], error: String(err) }));
  }
}
process.exit(failed ? 1 : 0);
