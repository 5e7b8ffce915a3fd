// The JSON schemas of metadata definitions, as /v2/schemas/metadefs/* publishes them. Clients
// (python-glanceclient) validate requests and answers against them, so every field a view
// writes is declared here.

const PROPERTY_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', null];
const stringList = { type: 'array', items: { type: 'string' }, uniqueItems: true };
const time = (what: string) => ({ type: 'string', format: 'date-time', readOnly: true, description: `When the ${what}.` });
const link = { type: 'string', readOnly: true };

/** One property definition: a small JSON schema of its own, with a title for people. */
const propertyDefinition = {
  type: 'object',
  required: ['title', 'type'],
  properties: {
    name: { type: 'string', maxLength: 255 },
    title: { type: 'string', description: 'A name for people.' },
    description: { type: 'string' },
    operators: stringList,
    type: { type: 'string', enum: PROPERTY_TYPES },
    required: stringList,
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    minLength: { type: 'integer', minimum: 0 },
    maxLength: { type: 'integer', minimum: 0 },
    pattern: { type: 'string', format: 'regex' },
    enum: { type: 'array' },
    readonly: { type: 'boolean', description: 'Shown to users, never set by them.' },
    default: {},
    items: {
      type: 'object',
      properties: { type: { type: 'string', enum: PROPERTY_TYPES }, enum: { type: 'array' } },
    },
    minItems: { type: 'integer', minimum: 0 },
    maxItems: { type: 'integer', minimum: 0 },
    uniqueItems: { type: 'boolean' },
    additionalItems: { type: 'boolean' },
  },
  additionalProperties: false,
};

const association = {
  name: 'resource_type_association',
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 80, description: 'The resource type, such as OS::Glance::Image.' },
    prefix: { type: 'string', maxLength: 80, description: "Put before the namespace's property names on this resource type (hw: on flavors, say)." },
    properties_target: { type: 'string', maxLength: 80, description: 'Where the properties go on resource types that have several kinds of metadata.' },
    created_at: time('association was made'),
    updated_at: time('association last changed'),
  },
  additionalProperties: false,
};

const object = {
  name: 'object',
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 80 },
    description: { type: 'string' },
    required: stringList,
    properties: { type: 'object', additionalProperties: propertyDefinition },
    schema: link,
    self: link,
    created_at: time('object was defined'),
    updated_at: time('object last changed'),
  },
  additionalProperties: false,
};

const tag = {
  name: 'tag',
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 255 }, created_at: time('tag was defined'), updated_at: time('tag last changed') },
  additionalProperties: false,
};

const namespace = {
  name: 'namespace',
  type: 'object',
  required: ['namespace'],
  properties: {
    namespace: { type: 'string', maxLength: 80, description: 'The unique name of the namespace.' },
    display_name: { type: 'string', maxLength: 80, description: 'A name for people.' },
    description: { type: 'string', maxLength: 500 },
    visibility: { type: 'string', enum: ['public', 'private'], description: 'Public namespaces are seen by every project.' },
    protected: { type: 'boolean', description: 'A protected namespace cannot be deleted.' },
    owner: { type: 'string', maxLength: 255, description: 'The project that owns the namespace.' },
    resource_type_associations: { type: 'array', items: association },
    properties: { type: 'object', additionalProperties: propertyDefinition },
    objects: { type: 'array', items: { ...object, name: undefined } },
    tags: { type: 'array', items: tag },
    schema: link,
    self: link,
    created_at: time('namespace was made'),
    updated_at: time('namespace last changed'),
  },
  additionalProperties: false,
};

const resourceType = {
  name: 'resource_type',
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 80 }, created_at: time('resource type was known'), updated_at: time('resource type last changed') },
  additionalProperties: false,
};

const property = { ...propertyDefinition, name: 'property', required: ['name', 'title', 'type'] };

const collection = (name: string, key: string, item: object, paged: boolean) => ({
  name,
  properties: {
    [key]: { type: 'array', items: item },
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

export const METADEF_SCHEMAS: Record<string, object> = {
  namespace,
  namespaces: collection('namespaces', 'namespaces', namespace, true),
  resource_type: association,
  resource_types: collection('resource_type_associations', 'resource_type_associations', association, false),
  property,
  properties: {
    name: 'properties',
    properties: { properties: { type: 'object', additionalProperties: propertyDefinition }, schema: { type: 'string' } },
  },
  object,
  objects: collection('objects', 'objects', object, true),
  tag,
  tags: collection('tags', 'tags', tag, false),
};

/** Resource types as GET /v2/metadefs/resource_types lists them. */
export const RESOURCE_TYPE_SCHEMA = resourceType;
