// Go's text/tabwriter, as kubectl describe uses it (minwidth 0, padding 2, padchar ' ').
// Text is written with "\t" between cells; tab-terminated cells in contiguous lines form a
// column and are padded to the column's widest cell plus padding. The last cell of a line
// is never padded, and a line with fewer cells ends the columns it lacks. Implementing the
// algorithm (rather than padding each block by hand) reproduces kubectl's alignment exactly,
// including how indented sub-blocks break and restart alignment.
import { textWidth } from "./format.js";

export function tabwrite(text: string, padding = 2, minwidth = 0): string {
  const lines = text.split("\n");
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === "";
  if (trailingNewline) lines.pop();
  const cells = lines.map((l) => l.split("\t"));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = cells[i]!;
      let s = "";
      line.forEach((c, j) => {
        s += c;
        if (j < widths.length && j < line.length - 1) s += " ".repeat(Math.max(0, widths[j]! - textWidth(c)));
      });
      out.push(s.trimEnd());
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let th = line0; th < line1; th++) {
      if (column >= cells[th]!.length - 1) continue;
      // A cell exists in this column: print the lines before this block, then the block.
      writeLines(line0, th);
      line0 = th;
      let width = minwidth;
      for (; th < line1; th++) {
        const line = cells[th]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, textWidth(line[column]!) + padding);
      }
      widths.push(width);
      format(line0, th);
      widths.pop();
      line0 = th;
    }
    writeLines(line0, line1);
  };

  format(0, cells.length);
  return out.join("\n") + (trailingNewline ? "\n" : "");
}

/** kubectl's PrefixWriter: each level indents two spaces. Sections can be flushed separately. */
export class DescribeWriter {
  private buf = "";
  private done: string[] = [];

  write(level: number, text: string): void {
    this.buf += "  ".repeat(level) + text;
  }

  /** Ends the current alignment region (tabwriter Flush). */
  flush(): void {
    if (this.buf) this.done.push(tabwrite(this.buf));
    this.buf = "";
  }

  toString(): string {
    this.flush();
    return this.done.join("");
  }
}
