// Validates Kubernetes manifests against the schemas of the API versions they name, two ways:
//  1. each object through the JSON-schema validator its model package ships (types, required fields,
//     formats, enums): kubernetes-models for the Kubernetes API, @kubernetes-models/keda for KEDA's CRDs;
//  2. each object as a TypeScript literal of that model's interface, compiled strictly, which also rejects
//     fields the schema does not have (as the API server's strict field validation does; the JSON-schema
//     validators accept unknown fields).
// An object whose apiVersion/kind has no schema here is an error, never a silent pass.
// Usage: node validate.mjs FILE.yaml...   Prints one JSON object: {"documents": [{file, index, apiVersion,
// kind, name, errors: [...]}]}; exits 0 when it could check everything (errors or not), 1 on a usage error.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as keda from "@kubernetes-models/keda/keda.sh/v1alpha1";

const here = dirname(fileURLToPath(import.meta.url));
// apiVersion -> [models, module of the TypeScript interfaces]
const groups = {
  "v1": [core, "kubernetes-models/v1"],
  "apps/v1": [apps, "kubernetes-models/apps/v1"],
  "keda.sh/v1alpha1": [keda, "@kubernetes-models/keda/keda.sh/v1alpha1"],
};

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml...");
  process.exit(1);
}

const documents = [];
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  docs.forEach((d, index) => {
    const errors = d.errors.map((e) => "YAML: " + e.message);
    const object = errors.length ? null : d.toJS();
    if (object === null || object === undefined) {
      if (errors.length) documents.push({ file, index, errors });
      return;
    }
    const entry = { file, index, apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name, errors };
    documents.push(entry);
    const group = groups[object.apiVersion];
    const Model = group && Object.hasOwn(group[0], object.kind) ? group[0][object.kind] : null;
    if (!Model) {
      entry.errors.push(`no schema for ${object.apiVersion} ${object.kind} (known: ${Object.keys(groups).join(", ")})`);
      return;
    }
    entry.object = object;
    entry.module = group[1];
    try {
      new Model(object).validate();
    } catch (e) {
      for (const part of String(e.message).split(/, (?=data)/)) entry.errors.push("schema: " + part);
    }
  });
}

// Strict structural check: every object as a literal of its interface.
const checked = documents.filter((d) => d.object);
if (checked.length) {
  const dir = mkdtempSync(join(here, ".tscheck-"));
  try {
    const lines = [];
    const ranges = [];
    checked.forEach((d, i) => lines.push(`import type { I${d.kind} as T${i} } from "${d.module}/${d.kind}";`));
    checked.forEach((d, i) => {
      const start = lines.length;
      lines.push(`export const o${i}: T${i} = ${JSON.stringify(d.object, null, 2)};`);
      ranges.push([start, lines.join("\n").split("\n").length - 1, d]);
    });
    const source = join(dir, "manifests.ts");
    writeFileSync(source, lines.join("\n") + "\n");
    const program = ts.createProgram([source], {
      strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      typeRoots: [], types: [], baseUrl: here,
    });
    // Unknown fields, all of them (the compiler's own excess-property error names only the first per
    // literal): every property of every object literal must be one of its contextual type's, unless that
    // type is a map (an index signature, as for labels or a ConfigMap's data).
    const checker = program.getTypeChecker();
    const sourceFile = program.getSourceFile(source);
    const known = (type, name) => type.isUnion()
      ? type.types.some((t) => known(t, name))
      : Boolean(checker.getPropertyOfType(type, name) || type.getStringIndexType() || type.flags & ts.TypeFlags.Any);
    const walk = (node, path, entry) => {
      if (ts.isObjectLiteralExpression(node)) {
        const contextual = checker.getContextualType(node);
        const type = contextual ? checker.getNonNullableType(contextual) : null;
        for (const p of node.properties) {
          if (!ts.isPropertyAssignment(p)) continue;
          const name = p.name.text;
          if (type && !known(type, name)) entry.errors.push(`fields: unknown field ${path}.${name}`);
          walk(p.initializer, `${path}.${name}`, entry);
        }
      } else if (ts.isArrayLiteralExpression(node)) {
        node.elements.forEach((e, i) => walk(e, `${path}[${i}]`, entry));
      }
    };
    for (const statement of sourceFile.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const decl of statement.declarationList.declarations) {
        const i = Number(decl.name.text.slice(1));
        walk(decl.initializer, "", checked[i]);
      }
    }
    for (const diag of ts.getPreEmitDiagnostics(program)) {
      const text = ts.flattenDiagnosticMessageText(diag.messageText, " ");
      let target = null;
      let where = "";
      if (diag.file && diag.start !== undefined) {
        const { line } = diag.file.getLineAndCharacterOfPosition(diag.start);
        const range = ranges.find(([a, b]) => line >= a && line <= b);
        target = range ? range[2] : null;
        const lineText = diag.file.text.split("\n")[line].trim();
        where = ` (at ${lineText.length > 80 ? lineText.slice(0, 80) + "..." : lineText})`;
      }
      if (target) target.errors.push("fields: " + text + where);
      else checked.forEach((d) => d.errors.push("typescript: " + text));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const d of documents) {
  delete d.object;
  delete d.module;
}
console.log(JSON.stringify({ documents }));
