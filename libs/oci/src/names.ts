// The names of Corral's images (no dependencies: cheap to import where only the names are needed).
export const PAUSE_REPOSITORY = "corral/pause";
export const PAUSE_TAG = "3.9";
export const BUSYBOX_REPOSITORY = "corral/busybox";
export const BUSYBOX_TAGS = ["1.35", "latest"];
