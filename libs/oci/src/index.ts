export { buildLayer, layerEntries, layerTar, sha256Digest, type Layer, type LayerEntry } from "./layer.js";
export {
  buildImage,
  DEFAULT_PATH,
  hostPlatform,
  imageConfig,
  imageManifest,
  MEDIA_TYPES,
  type Blob,
  type Image,
  type ImageRunConfig,
  type Platform,
} from "./image.js";
export { parseReference, RegistryClient, RegistryError, type Reference, type RegistryOptions } from "./registry.js";
export {
  BUSYBOX_PATH,
  BUSYBOX_REPOSITORY,
  BUSYBOX_TAGS,
  busyboxEntries,
  corralImages,
  PAUSE_REPOSITORY,
  PAUSE_SCRIPT,
  PAUSE_TAG,
  readBusybox,
  type BusyboxSource,
  type NamedImage,
} from "./busybox.js";
export { publishCorralImages, publishImages, type PublishResult } from "./publish.js";
