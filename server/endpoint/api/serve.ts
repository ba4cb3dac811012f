/**
 * Runs the token endpoint alone (for a container deployment or a manual
 * check): `SEALDROP_API_PORT=17100 tsx server/endpoint/api/serve.ts`. Binds to
 * 127.0.0.1 unless SEALDROP_API_HOST says otherwise. The local stack launcher
 * mounts the same handler itself instead.
 */
import { createServer } from 'node:http';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config.ts';
import { createApiFromConfig } from './from-config.ts';
import { toNodeHandler } from './node-adapter.ts';

const listenSchema = z.object({
  SEALDROP_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SEALDROP_API_HOST: z.string().min(1).default('127.0.0.1'),
});

try {
  const config = loadConfig(process.env);
  const listen = listenSchema.parse({
    SEALDROP_API_PORT: process.env.SEALDROP_API_PORT || undefined,
    SEALDROP_API_HOST: process.env.SEALDROP_API_HOST || undefined,
  });
  const api = createApiFromConfig(config);
  const server = createServer(toNodeHandler(api, { maxBodyBytes: config.maxBodyBytes, trustProxy: config.trustProxy }));
  server.listen(listen.SEALDROP_API_PORT, listen.SEALDROP_API_HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listen.SEALDROP_API_PORT;
    process.stderr.write(`Sealdrop token endpoint listening on http://${listen.SEALDROP_API_HOST}:${port}/api/v1\n`);
  });
  const shutdown = (): void => {
    server.close();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : 'The token endpoint could not start.'}\n`);
  process.exitCode = 1;
}
