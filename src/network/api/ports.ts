import type { FastifyInstance } from 'fastify';
import type { NetworkApi } from '../index.ts';

export function portRoutes(_app: FastifyInstance, _net: NetworkApi): void {}
