import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP server where an SMTP server should be, that fails the way real ones do: `silent` accepts
 * and never says a word (nor reads); `stall` sends its 220 greeting, then never answers EHLO. It
 * counts the connections made, and destroys them all on close, freeing its port for another
 * server (the one that comes back).
 */
export class FaultySmtp {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(mode: 'silent' | 'stall') {
    this.server = createServer((socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
      if (mode === 'stall') socket.write('220 stalling.test ESMTP ready\r\n');
    });
  }

  static async start(mode: 'silent' | 'stall', port = 0): Promise<FaultySmtp> {
    const smtp = new FaultySmtp(mode);
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.server.listen(port, '127.0.0.1', resolve);
    });
    return smtp;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
