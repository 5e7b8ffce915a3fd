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
  /** The stack's id for the stack's own events. */
  physical_resource_id: string;
  resource_status: string;
  resource_status_reason: string;
  /** With a nested depth: the stack the event is of. */
  stack_name?: string;
}

export interface StackResource {
  resource_name: string;
  physical_resource_id: string;
  resource_type: string;
  resource_status: string;
  resource_status_reason: string;
  updated_time: string;
  parent_resource?: string;
  links: { href: string; rel: string }[];
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
  /** PUT replaces the template and parameters; PATCH (existing) keeps what the body does not give. */
  updateStack = async (ref: string, body: Record<string, unknown>, existing: boolean) => {
    const s = await this.stack(ref);
    await this.call<void>(existing ? 'PATCH' : 'PUT', `/stacks/${encodeURIComponent(s.stack_name)}/${s.id}`, body);
  };
  /** What an update would do to each resource, by kind of change (added, deleted, replaced, updated, unchanged). */
  previewUpdate = async (ref: string, body: Record<string, unknown>, existing: boolean) => {
    const s = await this.stack(ref);
    const path = `/stacks/${encodeURIComponent(s.stack_name)}/${s.id}/preview`;
    return (await this.call<{ resource_changes: Record<string, StackResource[]> }>(existing ? 'PATCH' : 'PUT', path, body)).resource_changes;
  };
  outputs = async (ref: string) =>
    (await this.call<{ outputs: { output_key: string; description: string }[] }>('GET', `/stacks/${encodeURIComponent(ref)}/outputs`)).outputs;
  output = async (ref: string, key: string) =>
    (
      await this.call<{ output: { output_key: string; output_value: unknown; description: string; output_error?: string } }>(
        'GET',
        `/stacks/${encodeURIComponent(ref)}/outputs/${encodeURIComponent(key)}`,
      )
    ).output;
  resources = async (ref: string, nestedDepth = 0) =>
    (await this.call<{ resources: StackResource[] }>('GET', `/stacks/${encodeURIComponent(ref)}/resources${nestedDepth ? `?nested_depth=${nestedDepth}` : ''}`))
      .resources;
  resource = async (ref: string, name: string) =>
    (
      await this.call<{ resource: StackResource & { attributes: Record<string, unknown> } }>(
        'GET',
        `/stacks/${encodeURIComponent(ref)}/resources/${encodeURIComponent(name)}`,
      )
    ).resource;
  events = async (ref: string, marker?: string, nestedDepth = 0) =>
    (
      await this.call<{ events: StackEvent[] }>(
        'GET',
        `/stacks/${encodeURIComponent(ref)}/events?sort_dir=asc${marker ? `&marker=${marker}` : ''}${nestedDepth ? `&nested_depth=${nestedDepth}` : ''}`,
      )
    ).events;
}
