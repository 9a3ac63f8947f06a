export { Clientset } from "./clientset.js";
export { resourceClient, type ResourceClient } from "./resource.js";
export { readConfig, writeConfig, defaultConfigPath, type ClientConfig } from "./config.js";
