import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PodSchema, type Pod } from "@corral/api";
import { NodePaths } from "../paths.js";
import { MountError, setUpVolumes, volumeHostPaths } from "./volumes.js";

const NO_SOURCES = { configMap: () => undefined, secret: () => undefined };

const pod = (uid: string, claim: string): Pod =>
  create(PodSchema, {
    metadata: { name: "db-0", namespace: "team", uid },
    spec: {
      volumes: [
        { name: "data", persistentVolumeClaim: { claimName: claim } },
        { name: "scratch", emptyDir: {} },
        { name: "host", hostPath: { path: "/srv/x" } },
      ],
    },
  });

test("a persistentVolumeClaim volume is the claim's directory on the node, the same for every pod that uses it", async () => {
  const root = await mkdtemp(join(tmpdir(), "corral-volumes-"));
  try {
    const paths = new NodePaths(root);
    const first = volumeHostPaths(pod("u1", "data-db-0"), paths);
    assert.equal(first.get("data"), join(root, "claims", "team", "data-db-0"));
    assert.equal(first.get("scratch"), join(root, "pods", "u1", "volumes", "scratch"));
    assert.equal(first.get("host"), "/srv/x");
    await setUpVolumes(pod("u1", "data-db-0"), paths, NO_SOURCES);
    await writeFile(join(first.get("data")!, "kept"), "yes");
    // A replacement pod (another uid) gets the same directory, with what the first one wrote.
    const second = volumeHostPaths(pod("u2", "data-db-0"), paths);
    await setUpVolumes(pod("u2", "data-db-0"), paths, NO_SOURCES);
    assert.equal(second.get("data"), first.get("data"));
    assert.equal((await stat(join(second.get("data")!, "kept"))).size, 3);
    assert.equal((await stat(second.get("data")!)).mode & 0o777, 0o777, "writable by any user in the container");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("a claim name that is not a DNS subdomain is refused, so it cannot leave the claims directory", async () => {
  const root = await mkdtemp(join(tmpdir(), "corral-volumes-"));
  try {
    for (const bad of ["../../etc", "Data", "a/b", ""]) {
      await assert.rejects(setUpVolumes(pod("u3", bad), new NodePaths(root), NO_SOURCES), MountError, bad);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
