import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { buildImage, type Image } from "./image.js";
import { buildLayer, type LayerEntry } from "./layer.js";
import { BUSYBOX_REPOSITORY, BUSYBOX_TAGS, PAUSE_REPOSITORY, PAUSE_TAG } from "./names.js";

/** A static busybox binary and the applets it provides, as `busybox --list-full` prints them (bin/sh, usr/sbin/httpd, ...). */
export interface BusyboxSource {
  binary: Uint8Array;
  applets: string[];
  /** e.g. "1.35.0", from the binary's banner. */
  version?: string;
}

/** Debian's busybox-static puts its binary here. */
export const BUSYBOX_PATH = "/bin/busybox";

/** Reads the host's static busybox and asks it for its applet list and version. */
export async function readBusybox(path = BUSYBOX_PATH): Promise<BusyboxSource> {
  const run = promisify(execFile);
  const [binary, list, banner] = await Promise.all([
    readFile(path),
    run(path, ["--list-full"]),
    run(path, ["--help"]).then(
      (r) => r.stdout + r.stderr,
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ""}${err.stderr ?? ""}`,
    ),
  ]);
  const applets = list.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  return { binary, applets, version: /BusyBox v(\d+(?:\.\d+)*)/.exec(banner)?.[1] };
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";

/**
 * A minimal root filesystem: /bin/busybox, a symlink to it for every applet (sh, httpd, sleep,
 * wget, nc, ...) where busybox would install it, and the directories and /etc files programs expect.
 */
export function busyboxEntries(src: BusyboxSource): LayerEntry[] {
  const entries: LayerEntry[] = [
    { type: "file", path: "bin/busybox", content: src.binary, mode: 0o755 },
    { type: "file", path: "etc/passwd", content: PASSWD },
    { type: "file", path: "etc/group", content: GROUP },
    { type: "directory", path: "tmp", mode: 0o1777 },
    { type: "directory", path: "root", mode: 0o700 },
    ...["dev", "proc", "sys", "run", "home", "var/www", "usr/bin", "usr/sbin", "sbin"].map((path): LayerEntry => ({ type: "directory", path })),
  ];
  const seen = new Set(["bin/busybox"]);
  for (const applet of src.applets) {
    const path = applet.replace(/^\/+/, "");
    // `linuxrc` (an init for initrds) is the one applet at the top level; an image has no use for it.
    if (!path.includes("/") || seen.has(path)) continue;
    seen.add(path);
    entries.push({ type: "symlink", path, target: "/bin/busybox" });
  }
  return entries;
}

/**
 * The pause process: PID 1 of the sandbox, so the kernel delivers it no signal it has no handler
 * for. The trap makes SIGTERM and SIGINT end it at once; `wait` is interruptible where a plain
 * `sleep` in the foreground would not be.
 */
export const PAUSE_SCRIPT = `trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done`;

/** One image to publish: a repository, its tags, and the built image. */
export interface NamedImage {
  repository: string;
  tags: string[];
  image: Image;
}

export { BUSYBOX_REPOSITORY, BUSYBOX_TAGS, PAUSE_REPOSITORY, PAUSE_TAG };

/**
 * Corral's images, both on one busybox layer: corral/pause:3.9 (the sandbox image: sleeps until
 * told to stop) and corral/busybox:1.35 and :latest (a shell by default).
 */
export async function corralImages(src?: BusyboxSource): Promise<NamedImage[]> {
  const layer = await buildLayer(busyboxEntries(src ?? (await readBusybox())));
  return [
    {
      repository: PAUSE_REPOSITORY,
      tags: [PAUSE_TAG],
      image: buildImage([layer], { entrypoint: ["/bin/sh", "-c", PAUSE_SCRIPT], stopSignal: "SIGTERM" }),
    },
    { repository: BUSYBOX_REPOSITORY, tags: BUSYBOX_TAGS, image: buildImage([layer], { cmd: ["sh"] }) },
  ];
}
