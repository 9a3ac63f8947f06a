/**
 * The NATS layout of watch events (documented in docs/nats.md):
 *   stream   CORRAL_EVENTS, subjects corral.v1.>
 *   subject  corral.v1.<resource>.<namespace>.<name>   ("_" as namespace for cluster-scoped kinds)
 *   marker   corral.v1._marker
 *   headers  Corral-Revision (etcd revision), Corral-Kind, Corral-Event-Type; Nats-Msg-Id for de-duplication
 *   payload  corral.v1.StoredEvent (protobuf binary)
 * A name may hold dots (DNS-1123 subdomain); NATS uses dots as token separators, so they are
 * written as "%2E" in the subject.
 */
export const STREAM = "CORRAL_EVENTS";
export const SUBJECT_ROOT = "corral.v1";
export const MARKER_SUBJECT = `${SUBJECT_ROOT}._marker`;
export const CLUSTER_SCOPE_TOKEN = "_";

export const HDR_REVISION = "Corral-Revision";
export const HDR_KIND = "Corral-Kind";
export const HDR_TYPE = "Corral-Event-Type";

/** A namespace or name as one subject token: ".", "*", ">" and "%" percent-encoded. */
export function subjectToken(s: string): string {
  return token(s);
}

function token(s: string): string {
  return s.replace(/%/g, "%25").replace(/\./g, "%2E").replace(/\*/g, "%2A").replace(/>/g, "%3E");
}

export function eventSubject(resource: string, namespace: string, name: string): string {
  return `${SUBJECT_ROOT}.${resource}.${namespace ? token(namespace) : CLUSTER_SCOPE_TOKEN}.${token(name)}`;
}

/** The subject filter for one kind, or one kind in one namespace. */
export function kindFilter(resource: string, namespace?: string): string {
  return namespace ? `${SUBJECT_ROOT}.${resource}.${token(namespace)}.>` : `${SUBJECT_ROOT}.${resource}.>`;
}
