// The scheduler's configuration: kube-scheduler's KubeSchedulerConfiguration, reduced to what
// Corral's scheduler has. Profiles (one per schedulerName) enable and disable plugins at the
// filter and score extension points and weight the scores; pluginConfig passes arguments.
//
//   apiVersion: corral.dev/v1
//   kind: SchedulerConfiguration
//   percentageOfNodesToScore: 0          # 0: adaptive, as kube-scheduler
//   podInitialBackoffSeconds: 1
//   podMaxBackoffSeconds: 10
//   profiles:
//     - schedulerName: default-scheduler
//       plugins:
//         score:
//           disabled: [{ name: NodeResourcesLeastAllocated }]
//           enabled: [{ name: NodeResourcesMostAllocated, weight: 5 }]
//       pluginConfig:
//         - name: NodeResourcesMostAllocated
//           args: { resources: [{ name: cpu, weight: 1 }, { name: memory, weight: 1 }] }
import { parse } from "yaml";
import { Framework, type WeightedPlugin } from "./framework/framework.js";
import type { Plugin, PluginArgs, PluginFactory } from "./framework/types.js";
import { DEFAULT_FILTERS, DEFAULT_SCORES, IN_TREE_PLUGINS } from "./plugins/index.js";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

export interface ProfileConfig {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: { filter?: PluginSet; score?: PluginSet };
  pluginConfig?: { name: string; args?: PluginArgs }[];
}

export interface SchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  /** Seconds a pod stays unschedulable before it is retried even without a cluster change. */
  podMaxInUnschedulablePodsSeconds?: number;
  profiles?: ProfileConfig[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const API_VERSIONS = ["corral.dev/v1", "kubescheduler.config.k8s.io/v1"];
const KINDS = ["SchedulerConfiguration", "KubeSchedulerConfiguration"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`${path}${path ? "." : ""}${k}: unknown field (known: ${allowed.join(", ")})`);
  }
}

function number(v: unknown, path: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw new ConfigError(`${path}: must be a number from ${min} to ${max}`);
  }
  return v;
}

function pluginRefs(v: unknown, path: string): PluginRef[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(`${path}: must be a list of {name, weight}`);
  return v.map((x, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(x)) throw new ConfigError(`${p}: must be {name, weight}`);
    onlyKeys(x, ["name", "weight"], p);
    if (typeof x.name !== "string" || x.name === "") throw new ConfigError(`${p}.name: required`);
    const weight = number(x.weight, `${p}.weight`, 1, 100);
    if (weight !== undefined && !Number.isInteger(weight)) throw new ConfigError(`${p}.weight: must be an integer`);
    return weight === undefined ? { name: x.name } : { name: x.name, weight };
  });
}

function pluginSet(v: unknown, path: string): PluginSet | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new ConfigError(`${path}: must be {enabled, disabled}`);
  onlyKeys(v, ["enabled", "disabled"], path);
  return { enabled: pluginRefs(v.enabled, `${path}.enabled`), disabled: pluginRefs(v.disabled, `${path}.disabled`) };
}

/** Checks the shape of a parsed configuration (unknown fields are errors, as a typo should be). */
export function validateConfig(raw: unknown): SchedulerConfiguration {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw new ConfigError("the configuration must be a mapping");
  onlyKeys(
    raw,
    ["apiVersion", "kind", "percentageOfNodesToScore", "podInitialBackoffSeconds", "podMaxBackoffSeconds", "podMaxInUnschedulablePodsSeconds", "profiles"],
    "",
  );
  if (raw.apiVersion !== undefined && !API_VERSIONS.includes(String(raw.apiVersion))) {
    throw new ConfigError(`apiVersion: must be one of ${API_VERSIONS.join(", ")}`);
  }
  if (raw.kind !== undefined && !KINDS.includes(String(raw.kind))) throw new ConfigError(`kind: must be one of ${KINDS.join(", ")}`);
  const cfg: SchedulerConfiguration = {
    percentageOfNodesToScore: number(raw.percentageOfNodesToScore, "percentageOfNodesToScore", 0, 100),
    podInitialBackoffSeconds: number(raw.podInitialBackoffSeconds, "podInitialBackoffSeconds", 0.001, 3600),
    podMaxBackoffSeconds: number(raw.podMaxBackoffSeconds, "podMaxBackoffSeconds", 0.001, 3600),
    podMaxInUnschedulablePodsSeconds: number(raw.podMaxInUnschedulablePodsSeconds, "podMaxInUnschedulablePodsSeconds", 1, 86400),
  };
  if (raw.profiles !== undefined) {
    if (!Array.isArray(raw.profiles) || raw.profiles.length === 0) throw new ConfigError("profiles: must be a non-empty list");
    const names = new Set<string>();
    cfg.profiles = raw.profiles.map((p, i) => {
      const path = `profiles[${i}]`;
      if (!isObject(p)) throw new ConfigError(`${path}: must be a mapping`);
      onlyKeys(p, ["schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"], path);
      const schedulerName = p.schedulerName === undefined ? DEFAULT_SCHEDULER_NAME : String(p.schedulerName);
      if (names.has(schedulerName)) throw new ConfigError(`${path}.schedulerName: duplicate "${schedulerName}"`);
      names.add(schedulerName);
      const profile: ProfileConfig = {
        schedulerName,
        percentageOfNodesToScore: number(p.percentageOfNodesToScore, `${path}.percentageOfNodesToScore`, 0, 100),
      };
      if (p.plugins !== undefined) {
        if (!isObject(p.plugins)) throw new ConfigError(`${path}.plugins: must be {filter, score}`);
        onlyKeys(p.plugins, ["filter", "score"], `${path}.plugins`);
        profile.plugins = {
          filter: pluginSet(p.plugins.filter, `${path}.plugins.filter`),
          score: pluginSet(p.plugins.score, `${path}.plugins.score`),
        };
      }
      if (p.pluginConfig !== undefined) {
        if (!Array.isArray(p.pluginConfig)) throw new ConfigError(`${path}.pluginConfig: must be a list of {name, args}`);
        profile.pluginConfig = p.pluginConfig.map((c, j) => {
          const cp = `${path}.pluginConfig[${j}]`;
          if (!isObject(c)) throw new ConfigError(`${cp}: must be {name, args}`);
          onlyKeys(c, ["name", "args"], cp);
          if (typeof c.name !== "string" || c.name === "") throw new ConfigError(`${cp}.name: required`);
          if (c.args !== undefined && !isObject(c.args)) throw new ConfigError(`${cp}.args: must be a mapping`);
          return { name: c.name, args: (c.args ?? {}) as PluginArgs };
        });
      }
      return profile;
    });
  }
  return cfg;
}

/** Parses a YAML (or JSON) configuration file's text. */
export function parseConfig(text: string): SchedulerConfiguration {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError(`not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(raw);
}

/** Defaults, minus what is disabled ("*" disables every default), plus what is enabled (a weight given again overrides). */
function resolve(
  defaults: readonly { name: string; weight: number }[],
  set: PluginSet | undefined,
): { name: string; weight: number }[] {
  const disabled = new Set((set?.disabled ?? []).map((p) => p.name));
  const out = disabled.has("*") ? [] : defaults.filter((d) => !disabled.has(d.name)).map((d) => ({ ...d }));
  for (const e of set?.enabled ?? []) {
    const existing = out.find((o) => o.name === e.name);
    if (existing) existing.weight = e.weight ?? existing.weight;
    else out.push({ name: e.name, weight: e.weight ?? 1 });
  }
  return out;
}

/**
 * Builds one Framework per profile. `registry` is the in-tree plugins plus any given: a plugin
 * is found by name, so out-of-tree plugins are registered here and enabled by configuration.
 */
export function buildFrameworks(
  config: SchedulerConfiguration = {},
  extraPlugins: ReadonlyMap<string, PluginFactory> = new Map(),
  options: { random?: () => number } = {},
): Map<string, Framework> {
  const registry = new Map([...IN_TREE_PLUGINS, ...extraPlugins]);
  const profiles = config.profiles ?? [{ schedulerName: DEFAULT_SCHEDULER_NAME }];
  const out = new Map<string, Framework>();
  for (const [i, profile] of profiles.entries()) {
    const path = `profiles[${i}]`;
    const args = new Map((profile.pluginConfig ?? []).map((c) => [c.name, c.args ?? {}]));
    const instances = new Map<string, Plugin>();
    const instance = (name: string, point: string): Plugin => {
      let p = instances.get(name);
      if (!p) {
        const factory = registry.get(name);
        if (!factory) {
          throw new ConfigError(`${path}.plugins.${point}: unknown plugin "${name}" (known: ${[...registry.keys()].join(", ")})`);
        }
        try {
          p = factory(args.get(name) ?? {});
        } catch (err) {
          throw new ConfigError(`${path}.pluginConfig ${name}: ${(err as Error).message}`);
        }
        instances.set(name, p);
      }
      return p;
    };
    const filters = resolve(
      DEFAULT_FILTERS.map((name) => ({ name, weight: 0 })),
      profile.plugins?.filter,
    ).map(({ name }) => {
      const p = instance(name, "filter");
      if (!p.filter) throw new ConfigError(`${path}.plugins.filter: plugin "${name}" has no filter`);
      return p;
    });
    const scores: WeightedPlugin[] = resolve(DEFAULT_SCORES, profile.plugins?.score).map(({ name, weight }) => {
      const p = instance(name, "score");
      if (!p.score) throw new ConfigError(`${path}.plugins.score: plugin "${name}" has no score`);
      return { plugin: p, weight };
    });
    for (const name of args.keys()) {
      if (!instances.has(name)) throw new ConfigError(`${path}.pluginConfig: plugin "${name}" is not enabled`);
    }
    const schedulerName = profile.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    out.set(
      schedulerName,
      new Framework(schedulerName, filters, scores, {
        percentageOfNodesToScore: profile.percentageOfNodesToScore ?? config.percentageOfNodesToScore ?? 0,
        random: options.random,
      }),
    );
  }
  return out;
}
