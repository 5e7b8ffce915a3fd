import { HttpError } from './errors.ts';
import type { Session } from './session.ts';

/** A stack as Heat's API shows it (the fields nubo prints). */
export interface Stack {
  id: string;
  stack_name: string;
  description: string;
  creation_time: string | null;
  updated_time: string | null;
  stack_status: string;
  stack_status_reason: string;
  parameters?: Record<string, string>;
  outputs?: { output_key: string; output_value: unknown; description: string }[];
}

export interface StackEvent {
  id: string;
  event_time: string;
  resource_name: string;
  resource_status: string;
  resource_status_reason: string;
}

/** Heat's API v1, at the catalog's orchestration endpoint; a stack is named by name or id. */
export class OrchestrationClient {
  constructor(private readonly session: Session) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.session.request<T>(method, `${this.session.endpoint('orchestration')}${path}`, { body });
  }

  stacks = async () => (await this.call<{ stacks: Stack[] }>('GET', '/stacks')).stacks;
  /** The stack by name or id, found in the project's list (no redirect to follow), then shown in full. */
  stack = async (ref: string) => {
    const found = (await this.stacks()).find((s) => s.id === ref || s.stack_name === ref);
    if (!found)
      throw new HttpError(`The Stack (${ref}) could not be found.`, 404, 'GET', `${this.session.endpoint('orchestration')}/stacks/${encodeURIComponent(ref)}`);
    return (await this.call<{ stack: Stack }>('GET', `/stacks/${encodeURIComponent(found.stack_name)}/${found.id}`)).stack;
  };
  createStack = async (body: Record<string, unknown>) => (await this.call<{ stack: { id: string } }>('POST', '/stacks', body)).stack;
  deleteStack = (ref: string) => this.call<void>('DELETE', `/stacks/${encodeURIComponent(ref)}`);
  events = async (ref: string, marker?: string) =>
    (await this.call<{ events: StackEvent[] }>('GET', `/stacks/${encodeURIComponent(ref)}/events?sort_dir=asc${marker ? `&marker=${marker}` : ''}`)).events;
}
