// Turns a decoded DNS query into a response for the cluster's names (pure); names outside the
// cluster's zones are marked for forwarding.
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from "dns-packet";
import type { ClusterRecords } from "./records.js";

/** Seconds clients may cache an answer (CoreDNS' kubernetes plugin uses 5 too). */
export const TTL = 5;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

function soa(records: ClusterRecords): Answer {
  const d = records.domain;
  return {
    name: d,
    type: "SOA",
    ttl: TTL,
    class: "IN",
    data: { mname: `ns.dns.${d}`, rname: `hostmaster.${d}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL },
  };
}

function reply(query: DecodedPacket, rcode: number, answers: Answer[] = [], authorities: Answer[] = []): Packet {
  const rd = query.flags ? query.flags & dnsPacket.RECURSION_DESIRED : 0;
  return {
    type: "response",
    id: query.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | rd | rcode,
    questions: query.questions,
    answers,
    authorities,
  };
}

/** A response for a query about the cluster's names, or "forward" for anything else. */
export function respond(query: DecodedPacket, records: ClusterRecords): Packet | "forward" {
  const q = query.questions?.[0];
  if ((query as { opcode?: string }).opcode !== undefined && (query as { opcode?: string }).opcode !== "QUERY") return reply(query, RCODE.NOTIMP);
  if (!q || (query.questions?.length ?? 0) !== 1) return reply(query, RCODE.FORMERR);
  const found = records.lookup(q.name, q.type);
  switch (found.kind) {
    case "forward":
      return "forward";
    case "nxdomain":
      return reply(query, RCODE.NXDOMAIN, [], [soa(records)]);
    case "nodata":
      return reply(query, RCODE.NOERROR, [], [soa(records)]);
    case "answer": {
      const answers: Answer[] = [
        ...found.a.map((ip): Answer => ({ name: q.name, type: "A", class: "IN", ttl: TTL, data: ip })),
        ...found.srv.map((s): Answer => ({ name: q.name, type: "SRV", class: "IN", ttl: TTL, data: { priority: 0, weight: 100, port: s.port, target: s.target } })),
        ...found.ptr.map((p): Answer => ({ name: q.name, type: "PTR", class: "IN", ttl: TTL, data: p })),
      ];
      return reply(query, RCODE.NOERROR, answers);
    }
  }
}

/** A SERVFAIL for a query whose upstream did not answer. */
export function serverFailure(query: DecodedPacket): Packet {
  return reply(query, RCODE.SERVFAIL);
}

/** Encodes for UDP: past 512 bytes (clients without EDNS) the answer is dropped and TC set, so the client asks over TCP. */
export function encodeUdp(p: Packet, limit = 512): Buffer {
  const buf = dnsPacket.encode(p);
  if (buf.length <= limit) return buf;
  return dnsPacket.encode({ ...p, flags: (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] });
}
