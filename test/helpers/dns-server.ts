import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;

/**
 * A real DNS server on a UDP port of 127.0.0.1, for the webhook client's resolver: it answers
 * A queries for the names it was given (AAAA and unknown names: no records), or, `silent`, never
 * answers at all. `queries` lists every name asked, with its type.
 */
export class DnsServer {
  readonly queries: { name: string; type: number }[] = [];
  private readonly socket: Socket = createSocket('udp4');

  private constructor(
    private readonly records: Record<string, string[]>,
    private readonly silent: boolean,
  ) {
    this.socket.on('message', (message, peer) => {
      const question = parseQuestion(message);
      if (!question) return;
      this.queries.push({ name: question.name, type: question.type });
      if (this.silent) return;
      const addresses = question.type === TYPE_A ? (this.records[question.name] ?? []).filter((address) => isIPv4(address)) : [];
      this.socket.send(answer(message, question.end, addresses), peer.port, peer.address);
    });
  }

  static async start(options: { records?: Record<string, string[]>; silent?: boolean } = {}): Promise<DnsServer> {
    const server = new DnsServer(options.records ?? {}, options.silent ?? false);
    await new Promise<void>((resolve) => server.socket.bind(0, '127.0.0.1', resolve));
    return server;
  }

  /** `127.0.0.1:<port>`, as the resolver's server list takes it. */
  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** The one question of a query: its name, type, and where the question section ends. */
function parseQuestion(message: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length && message[offset] !== 0) {
    const length = message[offset]!;
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += length + 1;
  }
  if (offset + 5 > message.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset + 1), end: offset + 5 };
}

/** The query turned into a response with `addresses` as A records (a name pointer to the question). */
function answer(query: Buffer, questionEnd: number, addresses: string[]): Buffer {
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2); // response, recursion desired and available, NOERROR
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  header.writeUInt32BE(0, 8);
  const records = addresses.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0);
    record.writeUInt16BE(TYPE_A, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(60, 6);
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
    return record;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

export const DNS_TYPES = { A: TYPE_A, AAAA: TYPE_AAAA } as const;
