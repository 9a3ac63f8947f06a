// ObjectMeta validation, after k8s.io/apimachinery/pkg/api/validation/objectmeta.go.
import type { ObjectMeta, OwnerReference } from "@corral/api";
import { type FieldError, childPath, forbidden, indexPath, invalid, invalidEach, required, tooLong } from "./errors.js";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, maskTrailingDash } from "./names.js";
import { validateLabels } from "./selectors.js";

/** Checks an object name; returns reasons as names.ts functions do. */
export type NameValidator = (name: string) => string[];

/** Total bytes of all annotation keys and values allowed on one object: 256 KiB. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** How names of a kind are checked: Namespace a DNS-1123 label, Service a DNS-1035 label, others a DNS-1123 subdomain. */
export function nameValidatorFor(kind: string): NameValidator {
  switch (kind) {
    case "Namespace":
      return isDNS1123Label;
    case "Service":
      return isDNS1035Label;
    default:
      return isDNS1123Subdomain;
  }
}

export interface ObjectMetaOptions {
  /** Whether the kind lives in a namespace (metadata.namespace required) or not (forbidden). */
  readonly namespaced: boolean;
  readonly nameValidator: NameValidator;
}

/** Annotation keys (qualified names, case-insensitive) and the 256 KiB total size. */
export function validateAnnotations(annotations: Readonly<Record<string, string>>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errs.push(...invalidEach(path, k, isQualifiedName(k.toLowerCase())));
    size += Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8");
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** Each reference needs apiVersion, kind, name and uid; at most one may be the controller. */
export function validateOwnerReferences(refs: readonly OwnerReference[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  refs.forEach((r, i) => {
    const p = indexPath(path, i);
    if (r.apiVersion === "") errs.push(required(childPath(p, "apiVersion"), "version must not be empty"));
    if (r.kind === "") errs.push(required(childPath(p, "kind"), "kind must not be empty"));
    if (r.name === "") errs.push(required(childPath(p, "name"), "name must not be empty"));
    if (r.uid === "") errs.push(required(childPath(p, "uid"), "uid must not be empty"));
  });
  const controllers = refs.filter((r) => r.controller === true).map((r) => r.name);
  if (controllers.length > 1) {
    errs.push(invalid(path, controllers, "only one reference can have controller set to true"));
  }
  return errs;
}

/** Labels, annotations, owner references and finalizers: the parts of metadata every object and template shares. */
export function validateMetaContents(meta: ObjectMeta, path: string): FieldError[] {
  return [
    ...validateLabels(meta.labels, childPath(path, "labels")),
    ...validateAnnotations(meta.annotations, childPath(path, "annotations")),
    ...validateOwnerReferences(meta.ownerReferences, childPath(path, "ownerReferences")),
    ...meta.finalizers.flatMap((f, i) => invalidEach(indexPath(childPath(path, "finalizers"), i), f, isQualifiedName(f))),
  ];
}

/**
 * The metadata of a stored object: name or generateName required and valid for the kind,
 * namespace required (and a DNS-1123 label) for namespaced kinds and forbidden otherwise,
 * then labels, annotations, owner references and finalizers.
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  opts: ObjectMetaOptions,
  path = "metadata",
): FieldError[] {
  if (!meta) return [required(path)];
  const errs: FieldError[] = [];
  const namePath = childPath(path, "name");
  if (meta.name === "" && meta.generateName === "") {
    errs.push(required(namePath, "name or generateName is required"));
  }
  if (meta.name !== "") errs.push(...invalidEach(namePath, meta.name, opts.nameValidator(meta.name)));
  if (meta.generateName !== "") {
    const gp = childPath(path, "generateName");
    errs.push(...invalidEach(gp, meta.generateName, opts.nameValidator(maskTrailingDash(meta.generateName))));
  }
  const nsPath = childPath(path, "namespace");
  if (opts.namespaced) {
    if (meta.namespace === "") errs.push(required(nsPath));
    else errs.push(...invalidEach(nsPath, meta.namespace, isDNS1123Label(meta.namespace)));
  } else if (meta.namespace !== "") {
    errs.push(forbidden(nsPath, "not allowed on this type"));
  }
  errs.push(...validateMetaContents(meta, path));
  return errs;
}
