/**
 * The replica's place in its own life: serving, draining (readiness fails, every response
 * closes its connection), stopped (work still running is cut short). Shared between the
 * app, which reads it per request, and main.ts, which moves it on signals.
 */
export class Lifecycle {
  #draining = false;
  readonly #stop = new AbortController();

  get draining(): boolean {
    return this.#draining;
  }

  /** Aborted when the drain runs out of time: long requests give up so the process can end. */
  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  drain(): void {
    this.#draining = true;
  }

  stop(): void {
    this.#draining = true;
    this.#stop.abort();
  }
}
