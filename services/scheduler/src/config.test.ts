import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildFrameworks, ConfigError, DEFAULT_SCHEDULER_NAME, parseConfig } from "./config.js";
import type { Plugin } from "./framework/types.js";

describe("scheduler configuration", () => {
  it("the default profile has the default plugins and weights", () => {
    const fw = buildFrameworks().get(DEFAULT_SCHEDULER_NAME)!;
    assert.deepEqual(fw.filterPlugins, [
      "NodeUnschedulable",
      "NodeName",
      "NodeReady",
      "TaintToleration",
      "NodeAffinity",
      "NodePorts",
      "NodeResourcesFit",
      "InterPodAffinity",
    ]);
    assert.deepEqual(fw.scorePlugins, [
      { name: "TaintToleration", weight: 3 },
      { name: "NodeAffinity", weight: 2 },
      { name: "NodeResourcesLeastAllocated", weight: 1 },
      { name: "NodeResourcesBalancedAllocation", weight: 1 },
      { name: "SelectorSpread", weight: 2 },
    ]);
  });

  it("enables, disables and reweights plugins per profile", () => {
    const cfg = parseConfig(`
apiVersion: corral.dev/v1
kind: SchedulerConfiguration
percentageOfNodesToScore: 20
profiles:
  - schedulerName: default-scheduler
    plugins:
      score:
        disabled: [{ name: NodeResourcesLeastAllocated }, { name: SelectorSpread }]
        enabled: [{ name: NodeResourcesMostAllocated, weight: 5 }, { name: TaintToleration, weight: 1 }]
  - schedulerName: bin-packer
    plugins:
      filter:
        disabled: [{ name: "*" }]
        enabled: [{ name: NodeResourcesFit }]
      score:
        disabled: [{ name: "*" }]
        enabled: [{ name: NodeResourcesMostAllocated }]
    pluginConfig:
      - name: NodeResourcesMostAllocated
        args: { resources: [{ name: cpu, weight: 2 }, { name: memory, weight: 1 }] }
`);
    const fws = buildFrameworks(cfg);
    assert.deepEqual([...fws.keys()], ["default-scheduler", "bin-packer"]);
    assert.deepEqual(fws.get("default-scheduler")!.scorePlugins, [
      { name: "TaintToleration", weight: 1 },
      { name: "NodeAffinity", weight: 2 },
      { name: "NodeResourcesBalancedAllocation", weight: 1 },
      { name: "NodeResourcesMostAllocated", weight: 5 },
    ]);
    assert.equal(fws.get("default-scheduler")!.options.percentageOfNodesToScore, 20);
    assert.deepEqual(fws.get("bin-packer")!.filterPlugins, ["NodeResourcesFit"]);
    assert.deepEqual(fws.get("bin-packer")!.scorePlugins, [{ name: "NodeResourcesMostAllocated", weight: 1 }]);
  });

  it("accepts out-of-tree plugins by name", () => {
    const custom: Plugin = { name: "OnlyEven", filter: (_s, _p, n) => (Number(n.name.slice(1)) % 2 === 0 ? undefined : "odd node") };
    const cfg = parseConfig(`profiles: [{ plugins: { filter: { enabled: [{ name: OnlyEven }] } } }]`);
    const fw = buildFrameworks(cfg, new Map([["OnlyEven", () => custom]])).get(DEFAULT_SCHEDULER_NAME)!;
    assert.equal(fw.filterPlugins.at(-1), "OnlyEven");
  });

  it("names mistakes", () => {
    const bad = (text: string, msg: RegExp) => assert.throws(() => buildFrameworks(parseConfig(text)), (e: unknown) => e instanceof ConfigError && msg.test(e.message));
    bad(`profiles: [{ plugins: { score: { enabled: [{ name: NoSuchPlugin }] } } }]`, /unknown plugin "NoSuchPlugin"/);
    bad(`profiles: [{ plugins: { score: { enabled: [{ name: NodePorts }] } } }]`, /plugin "NodePorts" has no score/);
    bad(`profiles: [{ plugins: { filter: { enabled: [{ name: SelectorSpread }] } } }]`, /plugin "SelectorSpread" has no filter/);
    bad(`percentageOfNodes: 5`, /percentageOfNodes: unknown field/);
    bad(`percentageOfNodesToScore: 500`, /must be a number from 0 to 100/);
    bad(`profiles: [{ plugins: { score: { enabled: [{ name: NodeAffinity, weight: 0 }] } } }]`, /weight: must be a number from 1 to 100/);
    bad(`profiles: [{ schedulerName: a }, { schedulerName: a }]`, /duplicate "a"/);
    bad(`profiles: [{ pluginConfig: [{ name: NodeResourcesMostAllocated, args: {} }] }]`, /"NodeResourcesMostAllocated" is not enabled/);
    bad(`profiles: [{ pluginConfig: [{ name: NodeResourcesLeastAllocated, args: { resources: [{ name: cpu, weight: 200 }] } }] }]`, /weight/);
    bad(`kind: Pod`, /kind: must be one of/);
    bad(`: : :`, /not valid YAML|mapping/);
  });

  it("an empty file is the default configuration", () => {
    assert.deepEqual(parseConfig(""), {});
  });
});
