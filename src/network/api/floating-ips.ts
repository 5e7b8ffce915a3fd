import type { FastifyInstance } from 'fastify';
import type { NetworkApi } from '../index.ts';

export function floatingIpRoutes(_app: FastifyInstance, _net: NetworkApi): void {}
