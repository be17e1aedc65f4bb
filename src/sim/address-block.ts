import net from 'node:net';

/**
 * Each running embedded cluster owns one second octet B of 127.0.0.0/8: its pods live at
 * 127.B.<node>.<n> and its Services at 127.B.<100+k>.<n>. Two clusters on one machine (two
 * users, or test files running side by side) would otherwise hand out the same pod address,
 * and a probe sent to one cluster's pod would be answered by the other's.
 *
 * The claim is a listening socket at 127.B.255.1:CLAIM_PORT, an address no pod or Service of
 * the block uses, held for the cluster's life. The kernel makes it exclusive machine-wide and
 * frees it when the process ends, however it ends: no shared folder another user could fill
 * with claims, and no stale claim to take over.
 */

export const FIRST_BLOCK = 16;
export const LAST_BLOCK = 250;
/** The octet used when no block was claimed (a runtime inside a test, say). */
export const DEFAULT_ADDRESS_OCTET = 10;
/** Third octets below this are nodes' pod ranges; from it on, Service addresses. */
export const SERVICE_THIRD_OCTET = 100;
/** The port of each block's claim (unprivileged, so any user's cluster can claim). */
export const CLAIM_PORT = 47_474;

export interface AddressBlock {
  readonly octet: number;
  release(): void;
}

export function claimAddress(octet: number): string {
  return `127.${octet}.255.1`;
}

/** A listening socket on host:port, or undefined when someone already listens there. */
function listenOn(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    // Anyone who connects learns only that the block is taken.
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

export async function claimAddressBlock(
  options: { start?: number; port?: number } = {},
): Promise<AddressBlock> {
  const port = options.port ?? CLAIM_PORT;
  const span = LAST_BLOCK - FIRST_BLOCK + 1;
  const start = options.start ?? Math.floor(Math.random() * span);
  for (let i = 0; i < span; i += 1) {
    const octet = FIRST_BLOCK + ((start + i) % span);
    const server = await listenOn(claimAddress(octet), port);
    if (server !== undefined) {
      // The claim must not keep a process alive that has nothing else to do.
      server.unref();
      return { octet, release: () => server.close() };
    }
  }
  throw new Error(
    `every 127.x address block is taken (something listens on 127.B.255.1:${port} for each B from ${FIRST_BLOCK} to ${LAST_BLOCK}); stop another embedded cluster with \`replica-demo sim stop\`, or see who holds them with \`ss -ltnp\``,
  );
}
