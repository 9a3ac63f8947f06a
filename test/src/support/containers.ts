// Throwaway etcd and NATS servers for integration tests, run as docker containers through
// testcontainers. The images are built locally by scripts/build-images.sh (`make images`);
// nothing is pulled.
import "./testcontainers-env.js"; // must stay first: sets TESTCONTAINERS_* defaults
import { freePorts } from "./ports.js";
import {
  GenericContainer,
  getContainerRuntimeClient,
  getReaper,
  Wait,
  type StartedTestContainer,
} from "testcontainers";

export const ETCD_IMAGE = process.env.CORRAL_ETCD_IMAGE ?? "corral/etcd:3.4";
export const NATS_IMAGE = process.env.CORRAL_NATS_IMAGE ?? "corral/nats:2.9";

/** Label on every container started here, for cleaning up after a crashed run. */
export const TEST_LABEL = "corral.test";

const STARTUP_TIMEOUT_MS = 30_000;
/**
 * The HTTP wait strategy polls at this interval: testcontainers uses its read timeout as the
 * interval, so this is also how long one probe may take.
 */
const POLL_MS = 250;

export interface EtcdHandle {
  /** Client URL, e.g. http://localhost:32768 */
  readonly url: string;
  readonly container: StartedTestContainer;
  stop(): Promise<void>;
}

export interface NatsHandle {
  /** Client URL, e.g. nats://localhost:32769. Stays the same across restart(). */
  readonly url: string;
  /** Monitoring URL (/healthz, /varz, /jsz). Stays the same across restart(). */
  readonly monitorUrl: string;
  readonly container: StartedTestContainer;
  /**
   * Restarts the server process in the same container: the filesystem (JetStream data in /data)
   * is kept. Resolves when the server is healthy again. Clients connected with reconnect
   * enabled reconnect on their own, since the host port stays the same.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * testcontainers sets up its (here disabled) reaper under a file lock the first time a process
 * starts a container; two starts racing for it cost the loser a 0.5-1 s lock retry. Doing it
 * once up front lets parallel starts in one process go straight through.
 */
let runtimeReady: Promise<void> | undefined;
function prepareRuntime(): Promise<void> {
  runtimeReady ??= (async () => {
    await getReaper(await getContainerRuntimeClient());
  })();
  return runtimeReady;
}

/**
 * Starts a single-member etcd 3.4 with its data in the container (/data).
 *
 * Raft timing is shortened (heartbeat 10 ms, election timeout 100 ms): the single member
 * elects itself in ~50 ms instead of ~500-800 ms. A side effect: the minimum lease TTL
 * becomes 1 s (etcd's default is 2 s).
 */
export async function startEtcd(): Promise<EtcdHandle> {
  await prepareRuntime();
  const container = await new GenericContainer(ETCD_IMAGE)
    .withExposedPorts(2379)
    .withEnvironment({ ETCD_HEARTBEAT_INTERVAL: "10", ETCD_ELECTION_TIMEOUT: "100" })
    .withLabels({ [TEST_LABEL]: "true" })
    // A FROM-scratch image has no shell, so the default port wait strategy cannot work.
    // etcd logs this once it has a leader and serves clients (streamed: no polling delay).
    .withWaitStrategy(Wait.forLogMessage(/serving client traffic/))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  const url = `http://${container.getHost()}:${container.getMappedPort(2379)}`;
  return {
    url,
    container,
    stop: async () => {
      await container.stop({ remove: true, removeVolumes: true, timeout: 0 });
    },
  };
}

/**
 * Starts NATS 2.9 with JetStream (store dir /data in the container).
 *
 * The host ports are fixed (picked free at start) rather than left to docker: docker gives a
 * restarted container new random host ports, which would break clients reconnecting to the
 * old URL. `url` is still a getter reading the container's current mapping.
 */
export async function startNats(): Promise<NatsHandle> {
  await prepareRuntime();
  let container: StartedTestContainer | undefined;
  for (let attempt = 1; ; attempt++) {
    const [clientPort, monitorPort] = await freePorts(2);
    try {
      container = await new GenericContainer(NATS_IMAGE)
        .withExposedPorts({ container: 4222, host: clientPort }, { container: 8222, host: monitorPort })
        .withLabels({ [TEST_LABEL]: "true" })
        // HTTP rather than the "Server is ready" log line: after restart() a log wait could match
        // the line the previous run logged.
        .withWaitStrategy(Wait.forHttp("/healthz", 8222).withReadTimeout(POLL_MS))
        .withStartupTimeout(STARTUP_TIMEOUT_MS)
        .start();
      break;
    } catch (err) {
      // Another process may have taken the port between freePorts() and docker binding it.
      if (attempt >= 3 || !/address already in use|port is already allocated/i.test(String(err))) throw err;
    }
  }
  const c = container;
  return {
    get url() {
      return `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
    },
    get monitorUrl() {
      return `http://${c.getHost()}:${c.getMappedPort(8222)}`;
    },
    container: c,
    restart: async () => {
      // SIGTERM first so NATS shuts JetStream down cleanly; SIGKILL only after 5 s.
      await c.restart({ timeout: 5_000 });
    },
    stop: async () => {
      await c.stop({ remove: true, removeVolumes: true, timeout: 0 });
    },
  };
}

