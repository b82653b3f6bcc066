import net from 'node:net';
import { PortInUseError } from '../errors.js';

/** Fails with PortInUseError if something already listens on host:port. */
export async function assertPortFree(host: string, port: number, where: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!free) throw new PortInUseError(host, port, where);
}
