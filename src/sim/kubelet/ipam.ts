import net from 'node:net';

/**
 * Pod addresses 127.<block>.<node>.<n>, the block being the cluster's own second octet
 * (address-block.ts): n cycles through 2..254 per node and an address is never
 * handed out again while a pod holds it. Loopback is shared by everything on the machine
 * (another embedded cluster, say), so an address whose ports are taken is skipped, and
 * each cluster starts its cycle at a random point.
 */
export class PodAddresses {
  constructor(private readonly octet: number) {}

  private readonly used = new Map<number, Set<number>>();
  private readonly next = new Map<number, number>();

  async allocate(nodeIndex: number, ports: number[]): Promise<string> {
    let used = this.used.get(nodeIndex);
    if (!used) {
      used = new Set();
      this.used.set(nodeIndex, used);
    }
    let n = this.next.get(nodeIndex) ?? 2 + Math.floor(Math.random() * 253);
    let fallback: number | undefined;
    for (let tries = 0; tries < 253; tries += 1) {
      const candidate = n;
      n = n >= 254 ? 2 : n + 1;
      if (used.has(candidate)) continue;
      // Reserve before the await, so concurrent allocations never pick the same one.
      used.add(candidate);
      const ip = `127.${this.octet}.${nodeIndex}.${candidate}`;
      if (await portsFree(ip, ports)) {
        this.next.set(nodeIndex, n);
        if (fallback !== undefined) used.delete(fallback);
        return ip;
      }
      used.delete(candidate);
      fallback ??= candidate;
    }
    if (fallback !== undefined) {
      used.add(fallback);
      return `127.${this.octet}.${nodeIndex}.${fallback}`;
    }
    throw new Error(`no free pod address left on node ${nodeIndex} (253 pods at most per node)`);
  }

  release(ip: string): void {
    const m = /^127\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
    if (m && Number(m[1]) === this.octet) this.used.get(Number(m[2]))?.delete(Number(m[3]));
  }
}

function portsFree(ip: string, ports: number[]): Promise<boolean> {
  return ports.reduce<Promise<boolean>>(
    (ok, port) => ok.then((yes) => (yes ? portFree(ip, port) : false)),
    Promise.resolve(true),
  );
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
