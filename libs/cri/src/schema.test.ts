// The CRI contract is only as good as its field numbers: a wrong one is silently dropped by
// containerd at run time. This checks every message, field, enum and method of our runtime.v1
// against the schema embedded in the installed containerd binary.
import { ScalarType, type DescField } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { file_runtime_v1_api } from "./gen/runtime/v1/api_pb.js";

interface SchemaField {
  name: string;
  number: number;
  type: string;
  label: string;
}
interface Schema {
  package: string;
  messages: Record<string, SchemaField[]>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, string[]>;
}

const tool = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "tools", "cri-schema.mjs");
const containerd = process.env.CONTAINERD_BINARY ?? "/usr/bin/containerd";
const schema = JSON.parse(execFileSync(process.execPath, [tool, "--binary", containerd], { encoding: "utf8" })) as Schema;

function scalarName(t: ScalarType): string {
  return ScalarType[t].toLowerCase();
}

function typeOf(f: DescField): string {
  switch (f.fieldKind) {
    case "scalar":
      return scalarName(f.scalar);
    case "enum":
      return localName(f.enum.typeName);
    case "message":
      return localName(f.message.typeName);
    case "list":
      return f.listKind === "scalar" ? scalarName(f.scalar) : localName((f.listKind === "enum" ? f.enum : f.message).typeName);
    case "map": {
      const v = f.mapKind === "scalar" ? scalarName(f.scalar) : localName((f.mapKind === "enum" ? f.enum : f.message).typeName);
      return `map<${scalarName(f.mapKey)},${v}>`;
    }
  }
}

function localName(typeName: string): string {
  return typeName.startsWith("runtime.v1.") ? typeName.slice("runtime.v1.".length) : typeName;
}

function labelOf(f: DescField): string {
  return f.fieldKind === "list" ? "repeated" : f.fieldKind === "map" ? "map" : "optional";
}

test("runtime.v1 matches the CRI schema embedded in the installed containerd", () => {
  assert.equal(schema.package, "runtime.v1");
  const ours = new Map(file_runtime_v1_api.messages.map((m) => [m.name, m]));
  for (const [name, fields] of Object.entries(schema.messages)) {
    const m = ours.get(name);
    assert.ok(m, `message ${name} is missing from proto/runtime/v1/api.proto`);
    const got = m.fields.map((f) => ({ name: f.name, number: f.number, type: typeOf(f), label: labelOf(f) }));
    assert.deepEqual(got, fields, `message ${name} differs from containerd's`);
  }
  assert.deepEqual([...ours.keys()].filter((n) => !(n in schema.messages)), [], "messages containerd does not know");
  for (const [name, values] of Object.entries(schema.enums)) {
    const [outer, inner] = name.includes(".") ? name.split(".") : [undefined, name];
    const e = outer ? ours.get(outer)!.nestedEnums.find((x) => x.name === inner) : file_runtime_v1_api.enums.find((x) => x.name === name);
    assert.ok(e, `enum ${name} is missing`);
    assert.deepEqual(Object.fromEntries(e.values.map((v) => [v.name, v.number])), values, `enum ${name} differs`);
  }
  for (const [svc, methods] of Object.entries(schema.services)) {
    const s = file_runtime_v1_api.services.find((x) => x.name === svc);
    assert.ok(s, `service ${svc} is missing`);
    const got = s.methods.map(
      (m) => `${m.name}(${m.input.name}) returns (${m.methodKind === "server_streaming" ? "stream " : ""}${m.output.name})`,
    );
    assert.deepEqual(got, methods, `service ${svc} differs`);
  }
});
