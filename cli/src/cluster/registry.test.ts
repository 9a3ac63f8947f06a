import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { registryPaths, renderRegistryConfig } from "./registry.js";

describe("registry config", () => {
  it("serves filesystem storage under the state dir on a loopback address, without auth", () => {
    const paths = registryPaths("/root/.corral/cluster");
    assert.equal(paths.storage, "/root/.corral/cluster/registry/storage");
    const c = parse(renderRegistryConfig({ rootDirectory: paths.storage, addr: "127.0.0.1:5000" }));
    assert.equal(c.version, 0.1);
    assert.deepEqual(c.storage.filesystem, { rootdirectory: "/root/.corral/cluster/registry/storage" });
    assert.equal(c.http.addr, "127.0.0.1:5000");
    assert.equal(c.auth, undefined);
    assert.equal(c.http.tls, undefined);
  });
});
