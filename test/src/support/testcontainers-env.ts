// Side-effect module: import it before "testcontainers" (containers.ts does) so these
// defaults are in place however testcontainers reads its environment.
//
// - No reaper: the Ryuk image cannot be pulled here (no registry), so containers are removed
//   by stop(); leftovers from a crashed run carry the label corral.test=true:
//     docker rm -f $(docker ps -aq --filter label=corral.test=true)
// - The machine has /.dockerenv, which makes testcontainers guess it runs inside a container
//   and look for the gateway address; the daemon's published ports are on localhost.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";

export {};
