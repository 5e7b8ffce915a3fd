import type { FastifyInstance } from 'fastify';
import type { NetworkApi } from '../index.ts';

export function routerRoutes(_app: FastifyInstance, _net: NetworkApi): void {}
