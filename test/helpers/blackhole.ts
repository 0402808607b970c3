import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP server that accepts every connection and never answers (nor reads): a receiver that
 * hangs every webhook attempt until the attempt's own timeout. It counts connections, the most
 * it ever held open at once, and destroys them all on close.
 */
export class Blackhole {
  connections = 0;
  maxOpen = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.connections++;
    this.sockets.add(socket);
    this.maxOpen = Math.max(this.maxOpen, this.sockets.size);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  });

  static async start(): Promise<Blackhole> {
    const blackhole = new Blackhole();
    await new Promise<void>((resolve) => blackhole.server.listen(0, '127.0.0.1', resolve));
    return blackhole;
  }

  get url(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}/hook`;
  }

  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
