// Reading and following CRI log files in a temporary directory, as containerd writes them.
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { listLogFiles, streamLogFile, type StreamLogOptions } from "./logs.js";

const ts = (i: number) => `2024-01-01T00:00:${String(i % 60).padStart(2, "0")}.000000000Z`;
const line = (i: number, text: string, tag = "F", stream = "stdout") => `${ts(i)} ${stream} ${tag} ${text}\n`;

describe("container log files", () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "corral-logs-"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function containerDir(files: Record<string, string>): Promise<string> {
    const dir = join(root, `c${n++}`);
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return dir;
  }

  function collect(o: Partial<StreamLogOptions> & Pick<StreamLogOptions, "file" | "dir">) {
    const chunks: string[] = [];
    const ac = new AbortController();
    const done = streamLogFile({
      follow: false,
      timestamps: false,
      signal: ac.signal,
      send: async (b) => void chunks.push(b.toString()),
      isRunning: async () => true,
      quietMs: 50,
      ...o,
    });
    return { text: () => chunks.join(""), ac, done };
  }

  it("lists a container's files by restart count, numerically", async () => {
    const dir = await containerDir({ "0.log": "", "10.log": "", "2.log": "", "junk.txt": "" });
    assert.deepEqual((await listLogFiles(dir)).map((f) => f.restartCount), [0, 2, 10]);
    assert.deepEqual(await listLogFiles(join(root, "missing")), []);
  });

  it("reads a whole file, with or without timestamps, and the last N lines", async () => {
    const dir = await containerDir({ "0.log": line(1, "a") + line(2, "b", "P") + line(3, "c") + line(4, "d") });
    const file = { restartCount: 0, path: join(dir, "0.log") };
    const all = collect({ file, dir });
    await all.done;
    assert.equal(all.text(), "a\nbc\nd\n");
    const stamped = collect({ file, dir, timestamps: true, tailLines: 2 });
    await stamped.done;
    assert.equal(stamped.text(), `${ts(2)} bc\n${ts(4)} d\n`);
    const none = collect({ file, dir, tailLines: 0 });
    await none.done;
    assert.equal(none.text(), "");
  });

  it("answers with the file as it was when asked: lines written while it is read are not added to a tail", async () => {
    const dir = await containerDir({ "0.log": line(1, "a") + line(2, "b") + line(3, "c") });
    const path = join(dir, "0.log");
    const chunks: string[] = [];
    await streamLogFile({
      file: { restartCount: 0, path },
      dir,
      follow: false,
      timestamps: false,
      tailLines: 2,
      signal: new AbortController().signal,
      // The container goes on writing while the first lines are sent.
      send: async (b) => {
        if (chunks.push(b.toString()) === 1) await appendFile(path, line(4, "d"));
      },
      isRunning: async () => true,
    });
    assert.equal(chunks.join(""), "b\nc\n");
  });

  it("tails a file larger than one read block", async () => {
    const many = Array.from({ length: 5000 }, (_, i) => line(i, `line ${i} ${"x".repeat(40)}`)).join("");
    const dir = await containerDir({ "0.log": many });
    const r = collect({ file: { restartCount: 0, path: join(dir, "0.log") }, dir, tailLines: 3000 });
    await r.done;
    const got = r.text().split("\n").filter(Boolean);
    assert.equal(got.length, 3000);
    assert.match(got[0]!, /^line 2000 /);
    assert.match(got.at(-1)!, /^line 4999 /);
  });

  it("follows new lines until the client cancels", async () => {
    const dir = await containerDir({ "0.log": line(1, "first") });
    const file = { restartCount: 0, path: join(dir, "0.log") };
    const r = collect({ file, dir, follow: true, quietMs: 5000 });
    await sleep(50);
    assert.equal(r.text(), "first\n");
    await appendFile(file.path, line(2, "sec"));
    await appendFile(file.path, line(2, "ond-part", "P"));
    await sleep(100);
    assert.equal(r.text(), "first\nsec\n", "the partial line waits for its end");
    await appendFile(file.path, line(3, "-end"));
    const t0 = Date.now();
    while (!r.text().endsWith("ond-part-end\n") && Date.now() - t0 < 2000) await sleep(10);
    assert.ok(Date.now() - t0 < 1000, `a write reaches the follower at once, not on the quiet timer (${Date.now() - t0} ms)`);
    r.ac.abort();
    await r.done;
    assert.equal(r.text(), "first\nsec\nond-part-end\n");
  });

  it("ends a follow when the container restarts (a newer log file appears)", async () => {
    const dir = await containerDir({ "0.log": line(1, "old") });
    const r = collect({ file: { restartCount: 0, path: join(dir, "0.log") }, dir, follow: true, quietMs: 5000 });
    await sleep(50);
    await appendFile(join(dir, "0.log"), line(2, "last words"));
    await writeFile(join(dir, "1.log"), line(3, "new"));
    await r.done;
    assert.equal(r.text(), "old\nlast words\n");
  });

  it("ends a follow when the container is no longer running", async () => {
    const dir = await containerDir({ "0.log": line(1, "bye") });
    let running = true;
    const r = collect({ file: { restartCount: 0, path: join(dir, "0.log") }, dir, follow: true, isRunning: async () => running });
    await sleep(120);
    running = false;
    const t0 = Date.now();
    await r.done;
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(r.text(), "bye\n");
  });
});
