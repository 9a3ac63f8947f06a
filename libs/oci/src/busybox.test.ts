import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { busyboxEntries, corralImages, PAUSE_SCRIPT, type BusyboxSource } from "./busybox.js";

const fake: BusyboxSource = {
  binary: Buffer.from("\x7fELF fake busybox"),
  applets: ["bin/sh", "usr/sbin/httpd", "bin/sleep", "linuxrc", "bin/busybox", "usr/bin/wget", "bin/sh"],
  version: "1.35.0",
};

describe("busybox root filesystem", () => {
  it("links every applet where busybox installs it, to /bin/busybox", () => {
    const entries = busyboxEntries(fake);
    const links = entries.filter((e) => e.type === "symlink").map((e) => e.path);
    assert.deepEqual(links, ["bin/sh", "usr/sbin/httpd", "bin/sleep", "usr/bin/wget"]);
    for (const e of entries) if (e.type === "symlink") assert.equal(e.target, "/bin/busybox");
    const bin = entries.find((e) => e.path === "bin/busybox");
    assert.equal(bin?.type, "file");
    assert.equal(bin?.type === "file" && bin.mode, 0o755);
  });

  it("has the directories and /etc files programs expect", () => {
    const paths = new Map(busyboxEntries(fake).map((e) => [e.path, e]));
    for (const p of ["tmp", "root", "proc", "sys", "dev", "etc/passwd", "etc/group", "var/www"]) assert.ok(paths.has(p), p);
    const tmp = paths.get("tmp");
    assert.equal(tmp?.type === "directory" && tmp.mode, 0o1777);
  });
});

describe("Corral's images", () => {
  it("pause and busybox share one layer; pause runs the trap loop, busybox a shell", async () => {
    const [pause, busybox] = await corralImages(fake);
    assert.equal(pause!.repository, "corral/pause");
    assert.deepEqual(pause!.tags, ["3.9"]);
    assert.equal(busybox!.repository, "corral/busybox");
    assert.deepEqual(busybox!.tags, ["1.35", "latest"]);
    assert.equal(pause!.image.layers[0]!.digest, busybox!.image.layers[0]!.digest);
    const pauseCfg = JSON.parse(pause!.image.config.bytes.toString()).config;
    assert.deepEqual(pauseCfg.Entrypoint, ["/bin/sh", "-c", PAUSE_SCRIPT]);
    assert.match(PAUSE_SCRIPT, /trap "exit 0" TERM INT/);
    assert.match(PAUSE_SCRIPT, /wait \$!/);
    const bbCfg = JSON.parse(busybox!.image.config.bytes.toString()).config;
    assert.deepEqual(bbCfg.Cmd, ["sh"]);
    assert.notEqual(pause!.image.manifest.digest, busybox!.image.manifest.digest);
  });
});
