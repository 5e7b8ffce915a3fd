import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);

/** Fails unless the value is what the schema (a route's documented response) says. */
export function assertSchema(schema: object, value: unknown, what = 'response'): void {
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${what} does not match its schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}

// The words the api-refs' shapes are written in, as JSON schema.
export const str = { type: 'string' };
export const uri = { type: 'string', format: 'uri' };
export const bool = { type: 'boolean' };
export const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
/** An object with exactly these properties (unless `extra`), all required unless told. */
export const obj = (properties: Record<string, unknown>, required = Object.keys(properties), extra = false) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: extra,
});
