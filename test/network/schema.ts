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
