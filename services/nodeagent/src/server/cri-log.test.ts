import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CriLogDecoder, parseCriLine, tailOffset } from "./cri-log.js";

const T1 = "2024-01-01T00:00:00.000000001Z";
const T2 = "2024-01-01T00:00:01.000000002Z";
const T3 = "2024-01-01T00:00:02.000000003Z";
const enc = (s: string) => new TextEncoder().encode(s);

describe("parseCriLine", () => {
  it("reads timestamp, stream, tag and content (spaces kept)", () => {
    assert.deepEqual(parseCriLine(`${T1} stdout F hello  world `), { timestamp: T1, stream: "stdout", complete: true, content: "hello  world " });
    assert.deepEqual(parseCriLine(`${T1} stderr P part`), { timestamp: T1, stream: "stderr", complete: false, content: "part" });
    assert.deepEqual(parseCriLine(`${T1} stdout F `), { timestamp: T1, stream: "stdout", complete: true, content: "" });
    assert.deepEqual(parseCriLine(`${T1} stdout F`), { timestamp: T1, stream: "stdout", complete: true, content: "" });
    assert.equal(parseCriLine(`${T1} stdout F:x y`)?.content, "y", "extra tags after ':'");
  });
  it("refuses what is not CRI format", () => {
    assert.equal(parseCriLine("hello"), undefined);
    assert.equal(parseCriLine(`${T1} stdout X y`), undefined);
  });
});

describe("CriLogDecoder", () => {
  it("joins partial lines per stream and prints timestamps of their first piece", () => {
    const d = new CriLogDecoder(true);
    const out = d.push(enc(`${T1} stdout P abc\n${T2} stderr F err\n${T3} stdout F def\n`));
    assert.deepEqual(out, [`${T2} err\n`, `${T1} abcdef\n`]);
  });

  it("waits for the rest of a raw line cut anywhere, even inside a UTF-8 character", () => {
    const d = new CriLogDecoder(false);
    const bytes = enc(`${T1} stdout F héllo\n${T2} stdout F x\n`);
    const cut = bytes.indexOf(0xc3) + 1;
    assert.deepEqual(d.push(bytes.subarray(0, cut)), []);
    const nl = bytes.indexOf(0x0a) + 1;
    assert.deepEqual(d.push(bytes.subarray(cut, nl + 5)), ["héllo\n"]);
    assert.deepEqual(d.push(bytes.subarray(nl + 5)), ["x\n"]);
  });

  it("flush gives what is left of an unfinished line", () => {
    const d = new CriLogDecoder(false);
    assert.deepEqual(d.push(enc(`${T1} stdout P tail`)), []);
    assert.deepEqual(d.flush(), ["tail\n"]);
    assert.deepEqual(d.flush(), []);
  });

  it("passes through lines that are not CRI format", () => {
    assert.deepEqual(new CriLogDecoder(false).push(enc("plain\n")), ["plain\n"]);
  });
});

describe("tailOffset", () => {
  const file = enc(`${T1} stdout F one\n${T1} stdout P tw\n${T1} stdout F o\n${T2} stdout F three\n`);
  const lines = (from: number) => new CriLogDecoder(false).push(file.subarray(from));

  it("finds where the last n logical lines start, partial pieces included", () => {
    assert.deepEqual(lines(tailOffset(file, 1, true)!), ["three\n"]);
    assert.deepEqual(lines(tailOffset(file, 2, true)!), ["two\n", "three\n"]);
    assert.deepEqual(lines(tailOffset(file, 3, true)!), ["one\n", "two\n", "three\n"]);
    assert.deepEqual(lines(tailOffset(file, 10, true)!), ["one\n", "two\n", "three\n"]);
    assert.equal(tailOffset(file, 0, true), file.length);
    assert.equal(tailOffset(file, -1, true), 0);
  });

  it("asks for more of the file when the buffer is not enough", () => {
    const cut = file.subarray(10);
    assert.equal(tailOffset(cut, 3, false), undefined);
    assert.equal(tailOffset(cut, 1, false), cut.length - `${T2} stdout F three\n`.length);
  });

  it("ignores a last raw line still being written", () => {
    const growing = enc(`${T1} stdout F one\n${T2} stdout F tw`);
    assert.deepEqual(new CriLogDecoder(false).push(growing.subarray(tailOffset(growing, 1, true)!)), ["one\n"]);
    assert.equal(tailOffset(enc("\n"), 0, true), 1);
  });
});
