/**
 * Pod addresses 127.10.<node>.<n>: n cycles through 2..254 per node and an address is never
 * handed out again while a pod holds it (the cycling delays reuse, as real IPAM tends to).
 */
export class PodAddresses {
  private readonly used = new Map<number, Set<number>>();
  private readonly next = new Map<number, number>();

  allocate(nodeIndex: number): string {
    let used = this.used.get(nodeIndex);
    if (!used) {
      used = new Set();
      this.used.set(nodeIndex, used);
    }
    let n = this.next.get(nodeIndex) ?? 2;
    for (let tries = 0; tries < 253; tries += 1) {
      if (!used.has(n)) {
        used.add(n);
        this.next.set(nodeIndex, n >= 254 ? 2 : n + 1);
        return `127.10.${nodeIndex}.${n}`;
      }
      n = n >= 254 ? 2 : n + 1;
    }
    throw new Error(`no free pod address left on node ${nodeIndex} (253 pods at most per node)`);
  }

  release(ip: string): void {
    const m = /^127\.10\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.used.get(Number(m[1]))?.delete(Number(m[2]));
  }
}
