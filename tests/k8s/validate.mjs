// Validate Kubernetes objects against the schemas bundled in the npm package
// kubernetes-models (offline: no cluster, no download at run time).
//   node validate.mjs OBJECTS.json    (a JSON array of objects, each with "file")
// Prints one line per object; exits 1 if any is invalid or of an unknown kind.
import { readFileSync } from "node:fs";

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let bad = 0;
for (const { file, object } of objects) {
  const where = `${file}: ${object.kind} ${object.metadata?.name}`;
  const group = object.apiVersion?.includes("/") ? object.apiVersion : `v1`;
  let Model;
  try {
    Model = (await import(`kubernetes-models/${group}/${object.kind}`))[object.kind];
  } catch {
    console.log(`INVALID ${where}: unknown apiVersion/kind ${object.apiVersion} ${object.kind}`);
    bad++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`valid ${where} (${object.apiVersion} schema)`);
  } catch (e) {
    console.log(`INVALID ${where}: ${e.message}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
