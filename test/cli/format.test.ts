import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorDetail } from '../../src/client/errors.ts';
import { Float, text } from '../../src/cli/output.ts';

test('the message of an error body, whichever service wrote it', () => {
  const cases: [string, string][] = [
    ['{"error":{"code":404,"title":"Not Found","message":"Could not find project: x."}}', 'Could not find project: x.'],
    ['{"NeutronError":{"type":"NetworkNotFound","message":"Network n could not be found.","detail":""}}', 'Network n could not be found.'],
    ['{"itemNotFound":{"code":404,"message":"Flavor f could not\\n be found."}}', 'Flavor f could not be found.'],
    ['{"code":"400 Bad Request","title":"Bad Request","message":"Invalid <disk_format>"}', 'Invalid <disk_format>'],
    ['<html><body><h1>404 Not Found</h1>\nNo image found with ID i<br /></body></html>', '404 Not Found No image found with ID i'],
    ['{"unexpected":true}', '{"unexpected":true}'],
    ['', 'Service Unavailable'],
  ];
  for (const [body, message] of cases) assert.equal(errorDetail(body, 'Service Unavailable'), message, body);
});

test("values print as Python's str() prints them, as openstackclient's tables show them", () => {
  assert.equal(text(null), 'None');
  assert.equal(text(true), 'True');
  assert.equal(text('plain'), 'plain');
  assert.equal(text([]), '[]');
  assert.equal(text(['a', "it's", 'say "hi"']), `['a', "it's", 'say "hi"']`);
  assert.equal(text({ id: 'x', enabled: false, parent: null, n: 3 }), "{'id': 'x', 'enabled': False, 'parent': None, 'n': 3}");
  assert.equal(text([{ k: ['v'] }]), "[{'k': ['v']}]");
});

test('a Python float keeps its decimal point in every format, as openstackclient prints rxtx_factor', () => {
  assert.equal(text(new Float(1)), '1.0');
  assert.equal(text(new Float(1.5)), '1.5');
  assert.equal(text([new Float(2)]), '[2.0]');
});
