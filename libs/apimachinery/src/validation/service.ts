// ServiceSpec validation, after ValidateService in k8s.io/kubernetes/pkg/apis/core/validation.
import type { ServiceSpec } from "@corral/api";
import { PROTOCOLS, inRange, oneOf, portNumber } from "./common.js";
import { type FieldError, childPath, duplicate, forbidden, indexPath, invalid, invalidEach, required } from "./errors.js";
import { isDNS1123Label, isIANASvcName, isValidIP, isValidPortNum } from "./names.js";
import { validateLabels } from "./selectors.js";

export const SERVICE_TYPES = ["ClusterIP", "NodePort"] as const;
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** A headless service ("clusterIP: None") may have no ports. */
function isHeadless(spec: ServiceSpec): boolean {
  return spec.clusterIp === "None";
}

export function validateServiceSpec(spec: ServiceSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  const errs: FieldError[] = [];
  const type = spec.type === "" ? "ClusterIP" : spec.type;
  errs.push(...oneOf(childPath(path, "type"), spec.type, SERVICE_TYPES));

  const portsPath = childPath(path, "ports");
  if (spec.ports.length === 0 && !isHeadless(spec)) errs.push(required(portsPath));
  const names = new Set<string>();
  const portProtocols = new Set<string>();
  spec.ports.forEach((port, i) => {
    const p = indexPath(portsPath, i);
    const np = childPath(p, "name");
    if (port.name === "") {
      if (spec.ports.length > 1) errs.push(required(np));
    } else {
      errs.push(...invalidEach(np, port.name, isDNS1123Label(port.name)));
      if (names.has(port.name)) errs.push(duplicate(np, port.name));
      names.add(port.name);
    }
    errs.push(...portNumber(childPath(p, "port"), port.port));
    errs.push(...oneOf(childPath(p, "protocol"), port.protocol, PROTOCOLS));
    const pp = `${port.port}/${port.protocol || "TCP"}`;
    if (portProtocols.has(pp)) errs.push(duplicate(p, pp));
    portProtocols.add(pp);

    const tp = childPath(p, "targetPort");
    const target = port.targetPort?.value;
    if (target?.case === "intVal" && target.value !== 0) {
      errs.push(...invalidEach(tp, target.value, isValidPortNum(target.value)));
    } else if (target?.case === "strVal") {
      errs.push(...invalidEach(tp, target.value, isIANASvcName(target.value)));
    }

    const nodePortPath = childPath(p, "nodePort");
    if (port.nodePort !== 0) {
      if (type !== "NodePort") {
        errs.push(forbidden(nodePortPath, `may not be used when \`type\` is '${type}'`));
      } else if (port.nodePort < NODE_PORT_RANGE.min || port.nodePort > NODE_PORT_RANGE.max) {
        errs.push(
          invalid(
            nodePortPath,
            port.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
          ),
        );
      }
    }
  });

  const ipPath = childPath(path, "clusterIP");
  if (spec.clusterIp !== "" && spec.clusterIp !== "None") {
    errs.push(...invalidEach(ipPath, spec.clusterIp, isValidIP(spec.clusterIp)));
  }
  if (spec.clusterIp === "None" && type === "NodePort") {
    errs.push(invalid(childPath(path, "type"), type, "may not be used when `clusterIP` is 'None'"));
  }
  spec.clusterIps.forEach((ip, i) => {
    if (ip !== "None") errs.push(...invalidEach(indexPath(childPath(path, "clusterIPs"), i), ip, isValidIP(ip)));
  });
  spec.externalIps.forEach((ip, i) => errs.push(...invalidEach(indexPath(childPath(path, "externalIPs"), i), ip, isValidIP(ip))));

  errs.push(...validateLabels(spec.selector, childPath(path, "selector")));

  errs.push(...oneOf(childPath(path, "sessionAffinity"), spec.sessionAffinity, ["ClientIP", "None"]));
  if (spec.sessionAffinityConfig) {
    const cp = childPath(path, "sessionAffinityConfig");
    if (spec.sessionAffinity !== "ClientIP") {
      errs.push(forbidden(cp, "must not be set when `sessionAffinity` is not 'ClientIP'"));
    }
    const timeout = spec.sessionAffinityConfig.clientIp?.timeoutSeconds;
    errs.push(...inRange(childPath(childPath(cp, "clientIP"), "timeoutSeconds"), timeout, 1, 86400));
  }

  errs.push(...oneOf(childPath(path, "externalTrafficPolicy"), spec.externalTrafficPolicy, ["Cluster", "Local"]));
  if (spec.externalTrafficPolicy !== "" && type !== "NodePort") {
    const detail = "may only be set for externally-accessible services";
    errs.push(invalid(childPath(path, "externalTrafficPolicy"), spec.externalTrafficPolicy, detail));
  }
  errs.push(...oneOf(childPath(path, "internalTrafficPolicy"), spec.internalTrafficPolicy, ["Cluster", "Local"]));
  return errs;
}
