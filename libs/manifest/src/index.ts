export { ManifestError } from "./errors.js";
export { parseManifests, decodeManifest, type ManifestObject } from "./decode.js";
export { toManifest, toYaml, type YamlDoc } from "./encode.js";
export { threeWayMerge, LAST_APPLIED_ANNOTATION } from "./merge.js";
