import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFieldErrors, invalid, required } from "./errors.js";
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isIANASvcName,
  isLabelValue,
  isQualifiedName,
  isValidIP,
  isValidPortNum,
} from "./names.js";

function ok(check: (v: string) => string[], ...values: string[]): void {
  for (const v of values) assert.deepEqual(check(v), [], `${JSON.stringify(v)} should be valid`);
}
function bad(check: (v: string) => string[], ...values: string[]): void {
  for (const v of values) assert.notDeepEqual(check(v), [], `${JSON.stringify(v)} should be invalid`);
}

describe("names", () => {
  it("DNS-1123 labels", () => {
    ok(isDNS1123Label, "a", "my-name", "123-abc", "x".repeat(63));
    bad(isDNS1123Label, "", "My-name", "-a", "a-", "a.b", "a_b", "x".repeat(64));
    assert.deepEqual(isDNS1123Label("Foo_"), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    assert.deepEqual(isDNS1123Label("a".repeat(64)), ["must be no more than 63 characters"]);
  });

  it("DNS-1123 subdomains", () => {
    ok(isDNS1123Subdomain, "example.com", "a", "web-1", "a.b-c.d");
    bad(isDNS1123Subdomain, "", "Example.com", "a..b", ".a", "a.", "a_b", `${"a".repeat(250)}.com`);
    assert.match(isDNS1123Subdomain("Foo_")[0] ?? "", /^a lowercase RFC 1123 subdomain must consist of/);
  });

  it("DNS-1035 labels", () => {
    ok(isDNS1035Label, "my-svc", "a1");
    bad(isDNS1035Label, "1svc", "my_svc", "-a", "");
  });

  it("qualified names (label keys)", () => {
    ok(isQualifiedName, "app", "App.Name_1", "app.kubernetes.io/name", "example.com/MyName", "a");
    bad(isQualifiedName, "", "-app", "app-", "a/b/c", "/name", "Example.com/name", "a b", `p/${"x".repeat(64)}`);
    assert.deepEqual(isQualifiedName("/x"), ["prefix part must be non-empty"]);
    assert.deepEqual(isQualifiedName("x/"), [
      "name part must be non-empty",
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    assert.deepEqual(isQualifiedName(`${"a".repeat(254)}/b`).length, 1);
    assert.match(isQualifiedName("Bad.com/b")[0] ?? "", /^prefix part a lowercase RFC 1123 subdomain/);
  });

  it("label values", () => {
    ok(isLabelValue, "", "MyValue", "my_value", "12345", "a.b-c", "x".repeat(63));
    bad(isLabelValue, "-a", "a-", "a b", "a/b", "x".repeat(64));
  });

  it("IANA service names (named ports)", () => {
    ok(isIANASvcName, "http", "metrics-8080", "a1");
    assert.deepEqual(isIANASvcName("http--x"), ["must not contain consecutive hyphens"]);
    assert.deepEqual(isIANASvcName("8080"), ["must contain at least one letter (a-z)"]);
    assert.deepEqual(isIANASvcName("-http"), ["must not begin or end with a hyphen"]);
    assert.deepEqual(isIANASvcName("a-very-long-port-name"), ["must be no more than 15 characters"]);
    assert.ok(isIANASvcName("HTTP").includes("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"));
  });

  it("environment variable names", () => {
    ok(isEnvVarName, "HOME", "my.env-name", "MY_ENV.NAME", "_x", "-x");
    bad(isEnvVarName, "", "1ABC", "A B", "A=B", ".", "..", "..x");
  });

  it("config keys", () => {
    ok(isConfigMapKey, "key.name", "KEY_NAME", "key-name", ".hidden", "a..b");
    bad(isConfigMapKey, "", "a/b", "a b", ".", "..", "..x", "x".repeat(254));
  });

  it("ports and IPs", () => {
    assert.deepEqual(isValidPortNum(1), []);
    assert.deepEqual(isValidPortNum(65535), []);
    assert.deepEqual(isValidPortNum(0), ["must be between 1 and 65535, inclusive"]);
    assert.notDeepEqual(isValidPortNum(65536), []);
    ok(isValidIP, "10.0.0.1", "::1", "2001:db8::ffff");
    bad(isValidIP, "10.0.0", "10.0.0.256", "example.com", "");
  });
});

describe("formatFieldErrors", () => {
  it("puts the path first, then the reason, Kubernetes style", () => {
    assert.equal(
      formatFieldErrors([invalid("metadata.name", "Foo_", isDNS1123Subdomain("Foo_")[0] ?? "")]),
      `metadata.name: Invalid value: "Foo_": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
  });

  it("brackets several errors and shows numbers bare", () => {
    assert.equal(
      formatFieldErrors([required("spec.containers"), invalid("spec.replicas", -1, "must be greater than or equal to 0")]),
      "[spec.containers: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]",
    );
    assert.equal(formatFieldErrors([]), "");
  });
});
