/**
 * @module The OpenAPI document of the HTTP API at `/openapi` (a reference page) and `/openapi/json`
 * (docs/design.md#http-api), built by `@elysiajs/openapi` from the routes' TypeBox schemas and
 * details. Use it on the app after the routes it documents; `/ws` is described in docs/protocol.md
 * instead.
 */
import { openapi } from '@elysiajs/openapi';
import { buildInfo } from '../lib/build-info.ts';

/** The OpenAPI plugin: the document lists the API, admin and operations routes. */
export function openapiRoutes(version: string = buildInfo().version) {
  return openapi({
    path: '/openapi',
    specPath: '/openapi/json',
    documentation: {
      info: {
        title: 'lifeline',
        version,
        description:
          'Server-to-server and admin API of lifeline. Every /api/v1 route needs ' +
          '`Authorization: Bearer <auth.api_key>`; errors are `{"error":{"code","message"}}`. ' +
          'The WebSocket protocol at /ws is documented in docs/protocol.md.',
      },
      tags: [
        { name: 'api', description: 'Server-to-server routes' },
        { name: 'admin', description: 'Operator routes' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'auth.api_key' },
        },
      },
    },
    exclude: { paths: ['/ws', '/favicon.ico'] },
  });
}
