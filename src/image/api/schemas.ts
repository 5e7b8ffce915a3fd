import type { FastifyInstance } from 'fastify';
import { CORE } from '../attributes.ts';
import { MEMBER_STATUSES, TASK_STATUSES } from '../tables.ts';

const image = {
  name: 'image',
  properties: CORE,
  // Every other attribute is a free property, and its value a string.
  additionalProperties: { type: 'string' },
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

const member = {
  name: 'member',
  properties: {
    image_id: { type: 'string', description: 'The shared image.' },
    member_id: { type: 'string', description: 'The project the image is shared with.' },
    status: { type: 'string', description: "The member project's answer.", enum: MEMBER_STATUSES },
    created_at: { type: 'string', description: 'When the image was shared with the project.' },
    updated_at: { type: 'string', description: 'When the membership last changed.' },
    schema: { type: 'string', readOnly: true, description: 'The URL of this schema.' },
  },
};

const task = {
  name: 'task',
  properties: {
    id: { type: 'string', description: 'The task identifier, a UUID.' },
    type: { type: 'string', description: 'What the task does; imports run as api_image_import.', enum: ['import', 'api_image_import', 'location_import'] },
    status: { type: 'string', description: 'Where the task is.', enum: [...TASK_STATUSES] },
    input: { type: 'object', description: 'What the task was asked to do.' },
    result: { type: ['null', 'object'], description: 'What came of it, once it succeeded.' },
    owner: { type: 'string', description: 'The project the task works for.' },
    message: { type: 'string', description: 'Why it failed, for people.' },
    image_id: { type: ['null', 'string'], description: 'The image the task works on.' },
    request_id: { type: ['null', 'string'], description: 'The request that started the task.' },
    user_id: { type: 'string', description: 'The user who started the task.' },
    expires_at: { type: ['null', 'string'], description: 'When the record of a finished task goes.' },
    created_at: { type: 'string', description: 'When the task was created.' },
    updated_at: { type: 'string', description: 'When the task last changed.' },
    self: { type: 'string' },
    schema: { type: 'string' },
  },
  required: ['id', 'type', 'status', 'owner', 'created_at', 'updated_at', 'self', 'schema'],
  additionalProperties: false,
};

const collection = (name: string, item: object, paged: boolean) => ({
  name,
  properties: {
    [name]: { type: 'array', items: item },
    schema: { type: 'string' },
    ...(paged ? { first: { type: 'string' }, next: { type: 'string' } } : {}),
  },
  links: [
    ...(paged
      ? [
          { rel: 'first', href: '{first}' },
          { rel: 'next', href: '{next}' },
        ]
      : []),
    { rel: 'describedby', href: '{schema}' },
  ],
});

const SCHEMAS: Record<string, object> = {
  image,
  images: collection('images', image, true),
  member,
  members: collection('members', member, false),
  task,
  tasks: collection('tasks', task, true),
};

/** The JSON schemas clients read to learn which attributes exist and which they may set. */
export function schemaRoutes(app: FastifyInstance): void {
  for (const [name, doc] of Object.entries(SCHEMAS)) app.get(`/v2/schemas/${name}`, { config: { policy: 'image:get_schemas' } }, async () => doc);
}
