/** A place under a ConcurrencyGate: runs one piece of work once a slot is free, then leaves. */
export interface GatePlace {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Leaves without running (an early exit); running leaves by itself. Safe to call twice. */
  release(): void;
}

/**
 * At most `concurrency` pieces of work run at once, and at most `capacity` callers (running or
 * waiting their turn) are admitted: admit() refuses the next at once, so an overload is answered
 * instead of queued without end. Waiters run in arrival order.
 */
export class ConcurrencyGate {
  private admitted = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
  ) {}

  /** A place, or undefined when `capacity` are taken. */
  admit(): GatePlace | undefined {
    if (this.admitted >= this.capacity) return undefined;
    this.admitted++;
    let left = false;
    const release = () => {
      if (left) return;
      left = true;
      this.admitted--;
    };
    return {
      release,
      run: async (work) => {
        await this.slot();
        try {
          return await work();
        } finally {
          this.free();
          release();
        }
      },
    };
  }

  private slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the next waiter, if any. */
  private free(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
