import { createServer, type Server, type Socket } from 'node:net';

/**
 * An SMTP server that greets and then never answers again: the client's EHLO (and anything after)
 * is read and left unanswered, so a send hangs until the client's own socket timeout. `commands`
 * is what clients sent, so a test can wait until a send is really stuck mid-dialogue.
 */
export class StallingSmtp {
  commands: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setEncoding('utf8').on('data', (chunk: string) => this.commands.push(...chunk.split('\r\n').filter(Boolean)));
    socket.write('220 stalling.test ESMTP\r\n');
  });

  static async start(): Promise<StallingSmtp> {
    const smtp = new StallingSmtp();
    await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
    return smtp;
  }

  get url(): string {
    const { port } = this.server.address() as { port: number };
    return `smtp://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
