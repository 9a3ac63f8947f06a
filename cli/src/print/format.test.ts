import { test } from "node:test";
import assert from "node:assert/strict";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { formatAge, formatTime, humanDuration } from "./format.js";
import { tabwrite } from "./tabwriter.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test("humanDuration matches Kubernetes' duration.HumanDuration", () => {
  const cases: [number, string][] = [
    [-5 * S, "<invalid>"],
    [-1 * S, "0s"],
    [0, "0s"],
    [5 * S, "5s"],
    [119 * S, "119s"],
    [2 * M, "2m"],
    [3 * M + 20 * S, "3m20s"],
    [9 * M + 59 * S, "9m59s"],
    [10 * M + 30 * S, "10m"],
    [179 * M, "179m"],
    [3 * H, "3h"],
    [3 * H + 25 * M, "3h25m"],
    [8 * H + 25 * M, "8h"],
    [47 * H, "47h"],
    [2 * D + 4 * H, "2d4h"],
    [3 * D, "3d"],
    [8 * D + 5 * H, "8d"],
    [400 * D, "400d"],
    [2 * 365 * D + 10 * D, "2y10d"],
    [3 * 365 * D, "3y"],
    [9 * 365 * D + 40 * D, "9y"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test("formatAge takes Timestamps and Dates, <unknown> without one", () => {
  const now = new Date("2024-05-01T12:00:00Z");
  assert.equal(formatAge(timestampFromDate(new Date("2024-05-01T11:59:55Z")), now), "5s");
  assert.equal(formatAge(new Date("2024-04-29T08:00:00Z"), now), "2d4h");
  assert.equal(formatAge(undefined, now), "<unknown>");
  assert.equal(formatAge(timestampFromDate(new Date(0)), now), "<unknown>");
});

test("formatTime is Go's RFC1123Z", () => {
  assert.equal(formatTime(new Date("2024-01-02T03:04:05Z")), "Tue, 02 Jan 2024 03:04:05 +0000");
  assert.equal(formatTime(undefined), "<unset>");
});

test("tabwrite aligns contiguous cells like Go's text/tabwriter", () => {
  const text = "Name:\tweb\nNamespace:\tdefault\nContainers:\n  c:\n    Image:\tnginx\n    Port:\t80/TCP\nEnd:\tx\n";
  assert.equal(
    tabwrite(text),
    [
      "Name:       web",
      "Namespace:  default",
      "Containers:",
      "  c:",
      "    Image:  nginx",
      "    Port:   80/TCP",
      // "End:" is contiguous with the indented lines above, so it shares their column.
      "End:        x",
      "",
    ].join("\n"),
  );
  // A line without cells ends the block; a line with fewer cells ends only the columns it lacks.
  assert.equal(tabwrite("Name:\tweb\nIPs:\n  IP:\t10.0.0.1\nEnd:\tx\n"), "Name:  web\nIPs:\n  IP:  10.0.0.1\nEnd:   x\n");
  assert.equal(tabwrite("a\tbb\tc\nlonger\td\n  x\ty\tz\n"), "a       bb  c\nlonger  d\n  x     y  z\n");
});
